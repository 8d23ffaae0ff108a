// Containers, live: listed once, then kept fresh by containerUpdated (re-listed on RESYNC
// and when the engine comes back), with CPU and memory from containerStats.
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { runMutation, runQuery } from './api.ts';
import { enginesInScope, type ViewProps } from './app.tsx';
import { formatAge, formatBytes, formatPercent } from './format.ts';
import type {
  DashboardContainerDetailsQuery,
  DashboardContainerFragment,
  DashboardStatsSubscription,
} from './generated/graphql.ts';
import { useNow, useSubscription } from './live.ts';
import {
  ContainerDetailsQuery,
  ContainersQuery,
  ContainerUpdates,
  LogsSubscription,
  PauseContainer,
  RemoveContainer,
  RestartContainer,
  StartContainer,
  StatsSubscription,
  StopContainer,
  UnpauseContainer,
} from './operations.ts';
import { ContainerTerminal } from './terminal.tsx';

type Container = DashboardContainerFragment;
type Stats = DashboardStatsSubscription['containerStats']['stats'];

const ACTIONS = {
  start: StartContainer,
  stop: StopContainer,
  restart: RestartContainer,
  pause: PauseContainer,
  unpause: UnpauseContainer,
  remove: RemoveContainer,
} as const;
type Action = keyof typeof ACTIONS;

/** The actions that make sense in a state; shown only where viewerCan allows them too. */
function actionsFor(container: Container): Action[] {
  const byState: Record<string, Action[]> = {
    RUNNING: ['stop', 'restart', 'pause'],
    PAUSED: ['unpause', 'stop'],
    RESTARTING: ['stop'],
  };
  const actions = byState[container.state] ?? ['start'];
  return [...actions, 'remove' as const].filter((action) => container.viewerCan[action]);
}

/** The key of a container's stats: its engine and engine id (a stats message names no engine). */
function statsKey(engine: string, dockerId: string): string {
  return `${engine}/${dockerId}`;
}

/**
 * The live feeds of one engine: containerUpdated and containerStats name one engine each, so
 * the view holds one pair per engine it shows.
 */
function EngineFeeds({
  api,
  report,
  resync,
  engine,
  running,
  onUpdate,
  onRemove,
  onResync,
  onStats,
}: Pick<ViewProps, 'api' | 'report' | 'resync'> & {
  engine: string;
  running: readonly string[];
  onUpdate: (container: Container) => void;
  onRemove: (engine: string, dockerId: string) => void;
  onResync: () => void;
  onStats: (key: string, stats: Stats) => void;
}) {
  useSubscription(
    api,
    ContainerUpdates,
    { engine },
    `${engine}:${resync}`,
    ({ containerUpdated: update }) => {
      if (update.kind === 'RESYNC') onResync();
      else if (update.kind === 'REMOVED' && update.containerId)
        onRemove(engine, update.containerId);
      else if (update.container) onUpdate(update.container);
    },
    report,
    true,
    // Changes made while the connection was down were never sent: list again.
    { onRestart: onResync },
  );
  useSubscription(
    api,
    StatsSubscription,
    { engine, ids: [...running] },
    `${engine}:${resync}:${running.join(',')}`,
    ({ containerStats }) =>
      onStats(statsKey(engine, containerStats.containerId), containerStats.stats),
    report,
    running.length > 0,
  );
  return null;
}

export function ContainersView({ api, report, resync, engines, scope }: ViewProps) {
  // By global ID: engine ids are unique per engine only.
  const [containers, setContainers] = useState<ReadonlyMap<string, Container>>(new Map());
  const [loaded, setLoaded] = useState(false);
  const [stats, setStats] = useState<ReadonlyMap<string, Stats>>(new Map());
  const [listing, setListing] = useState(0);
  const [selected, setSelected] = useState<string | null>(null);
  const [filters, setFilters] = useState({ state: '', name: '', label: '', project: '' });
  const [grouped, setGrouped] = useState(true);
  const now = useNow();

  useEffect(() => {
    let current = true;
    // With one engine down the answer holds the others' containers and an error naming it.
    void runQuery(api, ContainersQuery, { engines: scope ? [...scope] : null }).then(
      ({ data, problems }) => {
        if (!current) return;
        for (const problem of problems) report(problem);
        if (data) {
          setContainers(new Map(data.containers.edges.map(({ node }) => [node.id, node])));
          setLoaded(true);
        }
      },
    );
    return () => {
      current = false;
    };
  }, [api, report, listing, resync, scope]);

  const inScope = enginesInScope({ engines, scope });
  const onUpdate = useCallback(
    (container: Container) =>
      setContainers((current) => new Map(current).set(container.id, container)),
    [],
  );
  const onRemove = useCallback(
    (engine: string, dockerId: string) =>
      setContainers(
        (current) =>
          new Map(
            [...current].filter(
              ([, container]) =>
                !(container.engine.name === engine && container.dockerId === dockerId),
            ),
          ),
      ),
    [],
  );
  const onResync = useCallback(() => setListing((value) => value + 1), []);
  const onStats = useCallback(
    (key: string, sample: Stats) => setStats((current) => new Map(current).set(key, sample)),
    [],
  );
  const runningOn = (engine: string) =>
    [...containers.values()]
      .filter((container) => container.engine.name === engine && container.state === 'RUNNING')
      .map((container) => container.dockerId)
      .sort();

  const act = useCallback(
    async (container: Container, action: Action) => {
      if (action === 'remove' && !confirm(`Remove ${container.name}?`)) return;
      // The global ID carries the container's engine.
      const { data, problem } = await runMutation(api, ACTIONS[action], { id: container.id });
      if (problem) report(problem);
      const result = data ? Object.values(data)[0] : undefined;
      if (result && 'message' in result && typeof result.message === 'string') {
        report({
          code: 'ACTION_FAILED',
          message: `${action} ${container.name}: ${result.message}`,
        });
      }
    },
    [api, report],
  );

  const projects = useMemo(
    () =>
      [...new Set([...containers.values()].map((container) => container.compose?.project ?? ''))]
        .filter(Boolean)
        .sort(),
    [containers],
  );
  const shown = [...containers.values()]
    .filter((container) => {
      if (scope && !scope.includes(container.engine.name)) return false;
      if (filters.state && container.state !== filters.state) return false;
      if (filters.name && !container.name.toLowerCase().includes(filters.name.toLowerCase()))
        return false;
      if (filters.project && container.compose?.project !== filters.project) return false;
      if (filters.label) {
        const [key, value] = filters.label.split('=');
        return container.labels.some(
          (label) => label.name === key && (value === undefined || label.value === value),
        );
      }
      return true;
    })
    .sort((a, b) => a.name.localeCompare(b.name) || a.engine.name.localeCompare(b.engine.name));
  const groups = new Map<string, Container[]>();
  for (const container of shown) {
    const key = grouped ? (container.compose?.project ?? '') : '';
    groups.set(key, [...(groups.get(key) ?? []), container]);
  }
  // Projects in name order, then the containers of no project under a header of their own:
  // without it they read as members of the project printed above them.
  const sections = [...groups.entries()].sort(([a], [b]) =>
    a === '' || b === '' ? Number(a === '') - Number(b === '') : a.localeCompare(b),
  );
  const headed = grouped && sections.some(([project]) => project !== '');
  const set = (key: keyof typeof filters) => (event: Event) =>
    setFilters({ ...filters, [key]: (event.currentTarget as HTMLInputElement).value });

  return (
    <section>
      {inScope.map((engine) => (
        <EngineFeeds
          key={engine}
          api={api}
          report={report}
          resync={resync}
          engine={engine}
          running={runningOn(engine)}
          onUpdate={onUpdate}
          onRemove={onRemove}
          onResync={onResync}
          onStats={onStats}
        />
      ))}
      <div class="toolbar">
        <select aria-label="State" value={filters.state} onChange={set('state')}>
          <option value="">all states</option>
          {['RUNNING', 'PAUSED', 'RESTARTING', 'EXITED', 'CREATED', 'DEAD'].map((state) => (
            <option key={state} value={state}>
              {state.toLowerCase()}
            </option>
          ))}
        </select>
        <input aria-label="Name" placeholder="name" value={filters.name} onInput={set('name')} />
        <input
          aria-label="Label"
          placeholder="label or label=value"
          value={filters.label}
          onInput={set('label')}
        />
        <select aria-label="Compose project" value={filters.project} onChange={set('project')}>
          <option value="">all projects</option>
          {projects.map((project) => (
            <option key={project} value={project}>
              {project}
            </option>
          ))}
        </select>
        <label class="check">
          <input
            type="checkbox"
            checked={grouped}
            onChange={(event) => setGrouped(event.currentTarget.checked)}
          />
          group by project
        </label>
      </div>
      {loaded && shown.length === 0 && <p class="empty">No containers.</p>}
      <table class="list containers">
        <thead>
          <tr>
            <th>Name</th>
            <th>Engine</th>
            <th>State</th>
            <th>Image</th>
            <th class="wide">Ports</th>
            <th>Uptime</th>
            <th>CPU</th>
            <th>Memory</th>
            <th>Actions</th>
          </tr>
        </thead>
        {sections.map(([project, members]) => (
          <tbody key={project}>
            {headed && (
              <tr class="group">
                <th colSpan={9}>{project ? `compose project ${project}` : 'no compose project'}</th>
              </tr>
            )}
            {members.map((container) => {
              const sample = stats.get(statsKey(container.engine.name, container.dockerId));
              return (
                <tr
                  key={container.id}
                  data-container={container.name}
                  data-engine={container.engine.name}
                >
                  <td data-label="Name">
                    <button type="button" class="link" onClick={() => setSelected(container.id)}>
                      {container.name}
                    </button>
                  </td>
                  <td data-label="Engine">{container.engine.name}</td>
                  <td data-label="State">
                    <span class={`state state-${container.state}`} data-testid="state">
                      {container.state.toLowerCase()}
                    </span>
                    {container.health && container.health.status !== 'NONE' && (
                      <span class={`health health-${container.health.status}`}>
                        {container.health.status.toLowerCase()}
                      </span>
                    )}
                  </td>
                  <td data-label="Image">{container.imageReference}</td>
                  <td data-label="Ports" class="wide">
                    {[
                      ...new Set(
                        container.ports.map((port) =>
                          port.publicPort
                            ? `${port.publicPort}→${port.privatePort}/${port.protocol.toLowerCase()}`
                            : `${port.privatePort}/${port.protocol.toLowerCase()}`,
                        ),
                      ),
                    ].join(', ')}
                  </td>
                  <td data-label="Uptime">
                    {container.state === 'RUNNING' ? formatAge(container.startedAt, now) : '–'}
                  </td>
                  <td data-label="CPU">
                    {container.state === 'RUNNING' ? formatPercent(sample?.cpuPercent) : '–'}
                  </td>
                  <td data-label="Memory">
                    {container.state === 'RUNNING' && sample
                      ? `${formatBytes(sample.memoryUsageBytes)} (${formatPercent(sample.memoryPercent)})`
                      : '–'}
                  </td>
                  <td data-label="Actions" class="actions">
                    {actionsFor(container).map((action) => (
                      <button
                        key={action}
                        type="button"
                        class={`action action-${action}`}
                        onClick={() => void act(container, action)}
                      >
                        {action}
                      </button>
                    ))}
                  </td>
                </tr>
              );
            })}
          </tbody>
        ))}
      </table>
      {selected && (
        <ContainerDetails
          key={selected}
          id={selected}
          api={api}
          report={report}
          container={containers.get(selected)}
          onClose={() => setSelected(null)}
        />
      )}
    </section>
  );
}

type Details = Extract<
  NonNullable<DashboardContainerDetailsQuery['node']>,
  { __typename: 'Container' }
>;

function ContainerDetails({
  id,
  api,
  report,
  container,
  onClose,
}: Pick<ViewProps, 'api' | 'report'> & {
  id: string;
  container: Container | undefined;
  onClose: () => void;
}) {
  const [details, setDetails] = useState<Details | null>(null);
  // Read again when the container changes (state, name...).
  const version = container ? `${container.state}:${container.name}:${container.status}` : '';
  useEffect(() => {
    // `id` is the global ID: it finds the container on its own engine.
    void runQuery(api, ContainerDetailsQuery, { id }).then(({ data, problems }) => {
      for (const problem of problems) report(problem);
      if (data?.node?.__typename === 'Container') setDetails(data.node);
    });
  }, [api, id, report, version]);
  return (
    <aside class="details" aria-label="Container details">
      <header>
        <h2>{details?.name ?? container?.name ?? id.slice(0, 12)}</h2>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </header>
      {details && (
        <dl>
          <dt>ID</dt>
          <dd>{details.shortId}</dd>
          <dt>Engine</dt>
          <dd>{details.engine.name}</dd>
          <dt>Status</dt>
          <dd>{details.status}</dd>
          <dt>Image</dt>
          <dd>{details.imageReference}</dd>
          <dt>Command</dt>
          <dd>
            <code>{details.command}</code>
          </dd>
          <dt>Created</dt>
          <dd>{details.created}</dd>
          <dt>Restarts</dt>
          <dd>{details.restartCount}</dd>
          {details.exitCode !== null && details.exitCode !== undefined && (
            <>
              <dt>Exit code</dt>
              <dd>{details.exitCode}</dd>
            </>
          )}
          <dt>Restart policy</dt>
          <dd>{details.hostConfig?.restartPolicy.name.toLowerCase()}</dd>
          <dt>Networks</dt>
          <dd>
            {details.networks
              .map((network) => `${network.networkName} ${network.ipAddress ?? ''}`)
              .join(', ') || '–'}
          </dd>
          <dt>Mounts</dt>
          <dd>
            {details.mounts
              .map((mount) => `${mount.volume?.name ?? mount.source ?? ''} → ${mount.destination}`)
              .join(', ') || '–'}
          </dd>
          <dt>Labels</dt>
          <dd>{details.labels.map((label) => `${label.name}=${label.value}`).join(', ') || '–'}</dd>
          <dt>Environment</dt>
          <dd>
            {details.config?.env
              .map(
                (variable) =>
                  `${variable.name}=${variable.redacted ? '•••' : (variable.value ?? '')}`,
              )
              .join(' ') || '–'}
          </dd>
        </dl>
      )}
      {container?.viewerCan.logs && (
        <Logs api={api} engine={container.engine.name} id={container.dockerId} report={report} />
      )}
      {container?.viewerCan.exec && container.state === 'RUNNING' && (
        <ContainerTerminal
          api={api}
          engine={container.engine.name}
          id={container.dockerId}
          report={report}
        />
      )}
    </aside>
  );
}

interface Line {
  readonly key: number;
  readonly stream: string;
  readonly message: string;
  readonly time: string | null | undefined;
}

const MAX_LINES = 2000;

function Logs({
  api,
  engine,
  id,
  report,
}: Pick<ViewProps, 'api' | 'report'> & { engine: string; id: string }) {
  const [lines, setLines] = useState<readonly Line[]>([]);
  const [follow, setFollow] = useState(true);
  // The server ended the stream: the container stopped (or its engine went away). No more
  // lines come until the panel is opened again.
  const [ended, setEnded] = useState(false);
  const [search, setSearch] = useState('');
  const counter = useRef(0);
  const box = useRef<HTMLPreElement>(null);
  useSubscription(
    api,
    LogsSubscription,
    { engine, id, tail: 200 },
    `${engine}/${id}`,
    ({ containerLogs }) => {
      counter.current += 1;
      const line = { key: counter.current, ...containerLogs.line };
      setLines((current) => [...current.slice(-(MAX_LINES - 1)), line]);
    },
    report,
    true,
    {
      onComplete: () => setEnded(true),
      // The tail comes again from the start.
      onRestart: () => {
        setLines([]);
        setEnded(false);
      },
    },
  );
  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  });
  const shown = search
    ? lines.filter((line) => line.message.toLowerCase().includes(search.toLowerCase()))
    : lines;
  return (
    <div class="logs">
      <div class="toolbar">
        <strong>Logs</strong>
        <input
          aria-label="Search logs"
          placeholder="search"
          value={search}
          onInput={(event) => setSearch(event.currentTarget.value)}
        />
        <label class="check">
          <input
            type="checkbox"
            checked={follow}
            onChange={(event) => setFollow(event.currentTarget.checked)}
          />
          follow
        </label>
        {ended && (
          <span class="ended" data-testid="logs-ended">
            stream ended
          </span>
        )}
      </div>
      <pre ref={box} data-testid="logs">
        {shown.map((line) => (
          <div key={line.key} class={`line ${line.stream.toLowerCase()}`}>
            {line.message}
          </div>
        ))}
      </pre>
    </div>
  );
}
