// Images, volumes and networks: sizes, what uses them, remove and prune where allowed.
import type { AnyVariables, DocumentInput } from '@urql/core';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { type Api, type Problem, runMutation, runQuery } from './api.ts';
import { enginesInScope, type ViewProps } from './app.tsx';
import { formatBytes } from './format.ts';
import {
  ImagesQuery,
  NetworksQuery,
  PruneImages,
  PruneNetworks,
  PruneVolumes,
  RemoveImage,
  RemoveNetwork,
  RemoveVolume,
  VolumesQuery,
} from './operations.ts';

/**
 * Lists with `document` on the engines in `scope` (all when null), again on `reload()` and on
 * engine recovery. An engine that does not answer is reported; the others' objects are shown.
 */
function useList<Data>(
  api: Api,
  document: DocumentInput<Data, { engines?: string[] | null }>,
  { report, resync, scope }: Pick<ViewProps, 'report' | 'resync' | 'scope'>,
): [Data | undefined, () => void] {
  const [data, setData] = useState<Data | undefined>(undefined);
  const [round, setRound] = useState(0);
  useEffect(() => {
    void runQuery(api, document, { engines: scope ? [...scope] : null }).then((result) => {
      for (const problem of result.problems) report(problem);
      if (result.data) setData(result.data);
    });
  }, [api, document, report, round, resync, scope]);
  return [data, useCallback(() => setRound((value) => value + 1), [])];
}

/** Runs a change, reports its failure (a problem or a typed error), then reloads. */
async function change<Data, Variables extends AnyVariables>(
  api: Api,
  document: DocumentInput<Data, Variables>,
  variables: Variables,
  report: (problem: Problem) => void,
  reload: () => void,
): Promise<void> {
  const { data, problem } = await runMutation(api, document, variables);
  if (problem) report(problem);
  const result = data ? Object.values(data as Record<string, unknown>)[0] : undefined;
  if (result && typeof result === 'object' && 'message' in result) {
    report({ code: 'ACTION_FAILED', message: String(result.message) });
  }
  reload();
}

/** Prunes on each engine in scope: a prune acts on one engine. */
function pruneEach<Data>(
  props: ViewProps,
  document: DocumentInput<Data, { engine: string }>,
  reload: () => void,
): void {
  for (const engine of enginesInScope(props)) {
    void change(props.api, document, { engine }, props.report, reload);
  }
}

function Prune({ allowed, onPrune }: { allowed: boolean; onPrune: () => void }) {
  if (!allowed) return null;
  return (
    <button type="button" class="action action-prune" onClick={onPrune}>
      prune unused
    </button>
  );
}

export function ImagesView(props: ViewProps) {
  const { api, viewer, report } = props;
  const [data, reload] = useList(api, ImagesQuery, props);
  return (
    <section>
      <div class="toolbar">
        <h2>Images</h2>
        <Prune allowed={viewer.pruneImages} onPrune={() => pruneEach(props, PruneImages, reload)} />
      </div>
      <table class="list">
        <thead>
          <tr>
            <th>Tags</th>
            <th>Engine</th>
            <th>ID</th>
            <th>Size</th>
            <th>Used by</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {data?.images.edges.map(({ node }) => (
            <tr key={node.id} data-engine={node.engine.name}>
              <td data-label="Tags">{node.tags.join(', ') || '<none>'}</td>
              <td data-label="Engine">{node.engine.name}</td>
              <td data-label="ID">{node.shortId}</td>
              <td data-label="Size">{formatBytes(node.sizeBytes)}</td>
              <td data-label="Used by">{node.containers.map((c) => c.name).join(', ') || '–'}</td>
              <td data-label="Actions" class="actions">
                {node.viewerCan.remove && (
                  <button
                    type="button"
                    class="action action-remove"
                    onClick={() =>
                      confirm(`Remove image ${node.tags[0] ?? node.shortId}?`) &&
                      void change(api, RemoveImage, { reference: node.id }, report, reload)
                    }
                  >
                    remove
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function VolumesView(props: ViewProps) {
  const { api, viewer, report } = props;
  const [data, reload] = useList(api, VolumesQuery, props);
  return (
    <section>
      <div class="toolbar">
        <h2>Volumes</h2>
        <Prune
          allowed={viewer.pruneVolumes}
          onPrune={() => pruneEach(props, PruneVolumes, reload)}
        />
      </div>
      <table class="list">
        <thead>
          <tr>
            <th>Name</th>
            <th>Engine</th>
            <th>Driver</th>
            <th>Size</th>
            <th>Used by</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {data?.volumes.edges.map(({ node }) => (
            <tr key={node.id} data-engine={node.engine.name}>
              <td data-label="Name">{node.name}</td>
              <td data-label="Engine">{node.engine.name}</td>
              <td data-label="Driver">{node.driver}</td>
              <td data-label="Size">{formatBytes(node.usage?.sizeBytes)}</td>
              <td data-label="Used by">{node.containers.map((c) => c.name).join(', ') || '–'}</td>
              <td data-label="Actions" class="actions">
                {node.viewerCan.remove && (
                  <button
                    type="button"
                    class="action action-remove"
                    onClick={() =>
                      confirm(`Remove volume ${node.name}?`) &&
                      void change(api, RemoveVolume, { name: node.id }, report, reload)
                    }
                  >
                    remove
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function NetworksView(props: ViewProps) {
  const { api, viewer, report } = props;
  const [data, reload] = useList(api, NetworksQuery, props);
  const builtIn = new Set(['bridge', 'host', 'none']);
  return (
    <section>
      <div class="toolbar">
        <h2>Networks</h2>
        <Prune
          allowed={viewer.pruneNetworks}
          onPrune={() => pruneEach(props, PruneNetworks, reload)}
        />
      </div>
      <table class="list">
        <thead>
          <tr>
            <th>Name</th>
            <th>Engine</th>
            <th>Driver</th>
            <th>Scope</th>
            <th>Containers</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {data?.networks.edges.map(({ node }) => (
            <tr key={node.id} data-engine={node.engine.name}>
              <td data-label="Name">
                {node.name}
                {node.internal ? ' (internal)' : ''}
              </td>
              <td data-label="Engine">{node.engine.name}</td>
              <td data-label="Driver">{node.driver}</td>
              <td data-label="Scope">{node.scope}</td>
              <td data-label="Containers">
                {node.containers.map((endpoint) => endpoint.container.name).join(', ') || '–'}
              </td>
              <td data-label="Actions" class="actions">
                {node.viewerCan.remove && !builtIn.has(node.name) && (
                  <button
                    type="button"
                    class="action action-remove"
                    onClick={() =>
                      confirm(`Remove network ${node.name}?`) &&
                      void change(api, RemoveNetwork, { id: node.id }, report, reload)
                    }
                  >
                    remove
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
