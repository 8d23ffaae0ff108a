// Several engines in one graph: three private engines behind one server. Lists merge across
// them with a constant number of engine calls per engine, global IDs find objects on each,
// one event stream sees all three, an engine that goes down leaves a partial answer naming it,
// and a token limited to engines cannot see or touch the others.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { EngineRegistry } from '../../src/docker/engine-registry.ts';
import { createLogger } from '../../src/logger.ts';
import { type RunningServer, startServer } from '../../src/server.ts';
import { randomToken, tokensEnv } from '../helpers/access.ts';
import { collectSubscription } from '../helpers/collect-subscription.ts';
import { dockerSocketPath } from '../helpers/engine.ts';
import { createEngineClient } from '../helpers/engine-client.ts';
import { startFaultProxy } from '../helpers/fault-proxy.ts';
import {
  FLEET_BASE_IMAGE,
  FLEET_ENGINE_NAMES,
  fleetEngine,
  fleetEngineClient,
  fleetTestRun,
  runDockerCli,
  startFleetServer,
  whileFleetEngineDown,
} from '../helpers/fleet.ts';
import { clientWithToken } from '../helpers/graphql-ws.ts';
import { waitFor } from '../helpers/wait-for.ts';

const testRun = fleetTestRun('engines');
const { run, label: LABEL } = testRun;
const adminToken = randomToken();
const limitedToken = randomToken();
const stagingToken = randomToken();
const env = tokensEnv([
  { id: 'root', role: 'admin', token: adminToken },
  { id: 'only-a', role: 'admin', token: limitedToken, engines: ['fleet-a'] },
  { id: 'staging', role: 'viewer', token: stagingToken, engines: ['env=staging'] },
]);
/** Engine labels: a and b are production, c is staging. */
const ENGINE_LABELS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'fleet-a': { env: 'prod' },
  'fleet-b': { env: 'prod' },
  'fleet-c': { env: 'staging' },
};

let server: RunningServer;
/** Engine calls the server made, per engine, as "METHOD /path". */
const calls = new Map<string, string[]>();

interface Answer<T> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

async function query<T>(
  document: string,
  variables: Record<string, unknown> = {},
  token = adminToken,
): Promise<Answer<T>> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: document, variables }),
  });
  return (await response.json()) as Answer<T>;
}

/** Engine calls per engine made while `run` ran. */
async function callsDuring<T>(work: () => Promise<T>): Promise<Record<string, string[]>> {
  for (const list of calls.values()) list.length = 0;
  await work();
  return Object.fromEntries([...calls].map(([name, list]) => [name, [...list]]));
}

interface ContainerNode {
  id: string;
  dockerId: string;
  name: string;
  engine: { name: string };
}

const LIST = `query List($labels: [String!]!, $engines: [String!]) {
  containers(filter: { labels: $labels }, engines: $engines) {
    totalCount
    edges { cursor node { id dockerId name engine { name } image { id } } }
  }
}`;

interface ListData {
  containers: { totalCount: number; edges: { cursor: string; node: ContainerNode }[] };
}

beforeAll(async () => {
  server = await startFleetServer(env, ENGINE_LABELS, (name, client) => {
    const seen: string[] = [];
    calls.set(name, seen);
    client.observe((call) =>
      seen.push(
        `${call.method} ${call.path}${call.query ? `?${decodeURIComponent(call.query)}` : ''}`,
      ),
    );
  });
  // One container on each engine to start with; more are added by the tests.
  await Promise.all(
    FLEET_ENGINE_NAMES.map((engine) => testRun.runIdleContainer(engine, `${run}-${engine}-1`)),
  );
});

afterAll(async () => {
  await server?.stop();
  await Promise.all(
    FLEET_ENGINE_NAMES.map((engine) =>
      runDockerCli(engine, ['ps', '-aq', '--filter', `label=${LABEL}`]).then(({ stdout }) => {
        const ids = stdout.split('\n').filter(Boolean);
        return ids.length > 0 ? runDockerCli(engine, ['rm', '-f', ...ids]) : undefined;
      }),
    ),
  );
});

describe('several engines in one graph', () => {
  it('lists every engine, with its labels, reachability and version', async () => {
    const answer = await query<{
      engines: {
        name: string;
        reachable: boolean;
        lastError: string | null;
        labels: { name: string; value: string }[];
        version: { apiVersion: string };
      }[];
    }>(`{ engines { name reachable lastError labels { name value } version { apiVersion } } }`);
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.engines.map((engine) => engine.name)).toEqual([...FLEET_ENGINE_NAMES]);
    for (const engine of answer.data?.engines ?? []) {
      expect(engine.reachable).toBe(true);
      expect(engine.lastError).toBeNull();
      expect(engine.labels).toEqual([
        { name: 'env', value: ENGINE_LABELS[engine.name]?.env ?? '' },
      ]);
    }
  });

  it('merges the lists of all engines, newest first, with a constant number of engine calls per engine', async () => {
    let one: Answer<ListData> = {};
    const fewer = await callsDuring(async () => {
      one = await query<ListData>(LIST, { labels: [LABEL] });
    });
    expect(one.errors).toBeUndefined();
    expect(one.data?.containers.totalCount).toBe(3);
    expect(new Set(one.data?.containers.edges.map((edge) => edge.node.engine.name))).toEqual(
      new Set(FLEET_ENGINE_NAMES),
    );
    // Two more containers on each engine: the same calls per engine.
    for (const index of [2, 3]) {
      await Promise.all(
        FLEET_ENGINE_NAMES.map((engine) =>
          testRun.runIdleContainer(engine, `${run}-${engine}-${index}`),
        ),
      );
    }
    let nine: Answer<ListData> = {};
    const more = await callsDuring(async () => {
      nine = await query<ListData>(LIST, { labels: [LABEL] });
    });
    expect(nine.errors).toBeUndefined();
    const edges = nine.data?.containers.edges ?? [];
    expect(edges).toHaveLength(9);
    expect(nine.data?.containers.totalCount).toBe(9);
    for (const name of FLEET_ENGINE_NAMES) {
      expect(edges.filter((edge) => edge.node.engine.name === name)).toHaveLength(3);
      expect(more[name]?.length).toBe(fewer[name]?.length);
      expect(more[name]?.length).toBeGreaterThan(0);
    }
    // The cursors span engines: paging by two walks the same nine, in the same order, each
    // page with one list call per engine (the cursor's engine with `limit` and `before`, the
    // others read whole).
    const walked: string[] = [];
    let after: string | null = null;
    for (;;) {
      let page: Answer<{
        containers: {
          edges: { cursor: string; node: { id: string } }[];
          pageInfo: { hasNextPage: boolean; endCursor: string | null };
        };
      }> = {};
      const pageCalls = await callsDuring(async () => {
        page = await query(
          `query Page($labels: [String!]!, $after: String) {
            containers(filter: { labels: $labels }, first: 2, after: $after) {
              edges { cursor node { id } } pageInfo { hasNextPage endCursor }
            }
          }`,
          { labels: [LABEL], after },
        );
      });
      expect(page.errors).toBeUndefined();
      const listCalls = FLEET_ENGINE_NAMES.map((name) => {
        expect(pageCalls[name]?.map((call) => call.split('?')[0])).toEqual([
          'GET /containers/json',
        ]);
        return pageCalls[name]?.[0] ?? '';
      });
      // From the start every engine is asked for its newest 3; after a cursor, its own engine
      // for the 3 after it.
      expect(listCalls.filter((call) => call.includes('limit=3'))).toHaveLength(
        after === null ? 3 : 1,
      );
      expect(listCalls.filter((call) => call.includes('"before"'))).toHaveLength(
        after === null ? 0 : 1,
      );
      walked.push(...(page.data?.containers.edges.map((edge) => edge.node.id) ?? []));
      if (!page.data?.containers.pageInfo.hasNextPage) break;
      after = page.data.containers.pageInfo.endCursor;
    }
    expect(walked).toEqual(edges.map((edge) => edge.node.id));
  });

  it('selects engines by name and by label selector', async () => {
    const byName = await query<ListData>(LIST, { labels: [LABEL], engines: ['fleet-b'] });
    expect(new Set(byName.data?.containers.edges.map((edge) => edge.node.engine.name))).toEqual(
      new Set(['fleet-b']),
    );
    const byLabel = await query<ListData>(LIST, { labels: [LABEL], engines: ['env=prod'] });
    expect(new Set(byLabel.data?.containers.edges.map((edge) => edge.node.engine.name))).toEqual(
      new Set(['fleet-a', 'fleet-b']),
    );
    const unknown = await query<ListData>(LIST, { labels: [LABEL], engines: ['fleet-z'] });
    expect(unknown.errors?.[0]?.message).toContain('no engine named "fleet-z"');
    expect(unknown.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
  });

  it('finds and acts on objects of each engine by global ID, and by engine and name', async () => {
    const listed = await query<ListData>(LIST, { labels: [LABEL] });
    const nodes = listed.data?.containers.edges.map((edge) => edge.node) ?? [];
    for (const name of FLEET_ENGINE_NAMES) {
      const target = nodes.find((node) => node.engine.name === name);
      if (!target) throw new Error(`no container of ${name} listed`);
      const found = await query<{ node: { dockerId: string; engine: { name: string } } | null }>(
        'query Find($id: ID!) { node(id: $id) { ... on Container { dockerId engine { name } } } }',
        { id: target.id },
      );
      expect(found.data?.node).toEqual({ dockerId: target.dockerId, engine: { name } });
      const stopped = await query<{ stopContainer: { __typename: string } }>(
        `mutation Stop($id: String!) { stopContainer(id: $id, timeoutSeconds: 0) { __typename } }`,
        { id: target.id },
      );
      expect(stopped.data?.stopContainer.__typename).toBe('ContainerPayload');
      const { stdout } = await runDockerCli(name, [
        'inspect',
        '--format',
        '{{.State.Running}}',
        target.dockerId,
      ]);
      expect(stdout.trim()).toBe('false');
      const byName = await query<{ container: { dockerId: string } | null }>(
        `query One($engine: String, $name: String!) { container(engine: $engine, idOrName: $name) { dockerId } }`,
        { engine: name, name: target.name },
      );
      expect(byName.data?.container?.dockerId).toBe(target.dockerId);
    }
    // Without an engine, a name is ambiguous across engines: the error says what to add.
    const ambiguous = await query<{ container: unknown }>(
      `query One($name: String!) { container(idOrName: $name) { dockerId } }`,
      { name: nodes[0]?.name ?? '' },
    );
    expect(ambiguous.errors?.[0]?.message).toContain('3 engines are served');
    // A global ID of one engine with another engine named is refused before any call.
    const [first] = nodes;
    const mismatch = await query<{ stopContainer: unknown }>(
      `mutation Stop($id: String!) { stopContainer(id: $id, engine: "fleet-c") { __typename } }`,
      { id: first?.engine.name === 'fleet-c' ? (nodes[1]?.id ?? '') : (first?.id ?? '') },
    );
    expect(mismatch.errors?.[0]?.message).toMatch(
      /^engine: names engine "fleet-c" while a global ID/,
    );
  });

  it('streams the events of all three engines in one subscription, each tagged with its engine', async () => {
    const client = clientWithToken(server.url, adminToken);
    const label = `dockergraph.fleet-events=${run}`;
    const events = collectSubscription<
      'events',
      { kind: string; engine: { name: string }; event: { action: string } | null }
    >(
      'events',
      client.iterate({
        // From a second ago: each engine's events are replayed from then on, so none is lost
        // while the engines' upstreams open.
        query: `subscription Events($labels: [String!], $since: DateTime) {
          events(filter: { types: [CONTAINER], actions: ["create"], labels: $labels }, since: $since) {
            kind engine { name } event { action }
          }
        }`,
        variables: { labels: [label], since: new Date(Date.now() - 1_000).toISOString() },
      }),
    );
    try {
      await Promise.all(
        FLEET_ENGINE_NAMES.map((engine) =>
          runDockerCli(engine, ['create', '--label', label, '--label', LABEL, FLEET_BASE_IMAGE]),
        ),
      );
      const seen = await events.until(
        (messages) => {
          const engines = new Set(messages.map((message) => message.engine.name));
          return engines.size === 3 ? engines : undefined;
        },
        60_000,
        'a create event from each engine',
      );
      expect(seen).toEqual(new Set(FLEET_ENGINE_NAMES));
    } finally {
      await events.stop();
      await client.dispose();
    }
  });

  it('keeps containers of every engine fresh in one containerUpdated subscription', async () => {
    const client = clientWithToken(server.url, adminToken);
    const label = `dockergraph.fleet-updates=${run}`;
    const updates = collectSubscription<
      'containerUpdated',
      { kind: string; engine: { name: string }; container: { state: string } | null }
    >(
      'containerUpdated',
      client.iterate({
        query: `subscription Updates($labels: [String!]) {
          containerUpdated(filter: { labels: $labels }) { kind engine { name } container { state } }
        }`,
        variables: { labels: [label] },
      }),
    );
    try {
      // Created until each engine's update is seen: the upstreams open as the subscription starts.
      const seen = await waitFor(
        async () => {
          await Promise.all(
            FLEET_ENGINE_NAMES.map((engine) =>
              runDockerCli(engine, [
                'create',
                '--label',
                label,
                '--label',
                LABEL,
                FLEET_BASE_IMAGE,
              ]),
            ),
          );
          const engines = new Set(
            updates.messages
              .filter((message) => message.kind === 'UPDATED')
              .map((message) => message.engine.name),
          );
          return engines.size === 3 ? engines : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 1_000, what: 'an update from each engine' },
      );
      expect(seen).toEqual(new Set(FLEET_ENGINE_NAMES));
    } finally {
      await updates.stop();
      await client.dispose();
    }
  });

  it('answers the other engines and an error naming the engine that is down, then recovers', async () => {
    await whileFleetEngineDown('fleet-c', async () => {
      const partial = await query<ListData>(LIST, { labels: [LABEL] });
      const engines = new Set(partial.data?.containers.edges.map((edge) => edge.node.engine.name));
      expect(engines).toEqual(new Set(['fleet-a', 'fleet-b']));
      expect(partial.errors).toHaveLength(1);
      expect(partial.errors?.[0]?.path).toEqual(['containers']);
      expect(partial.errors?.[0]?.extensions).toMatchObject({
        code: 'ENGINE_UNAVAILABLE',
        engine: 'fleet-c',
      });
      expect(partial.errors?.[0]?.message).toContain('engine "fleet-c"');
      const ready = await fetch(`${server.url}/readyz`, {
        headers: { authorization: `Bearer ${adminToken}` },
      });
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({
        ready: true,
        engines: [
          { name: 'fleet-a', reachable: true },
          { name: 'fleet-b', reachable: true },
          { name: 'fleet-c', reachable: false },
        ],
      });
      const health = await query<{ engine: { reachable: boolean; lastError: string | null } }>(
        `{ engine(name: "fleet-c") { reachable lastError } }`,
      );
      expect(health.data?.engine.reachable).toBe(false);
      expect(health.data?.engine.lastError).toEqual(expect.any(String));
    });
    const whole = await query<ListData>(LIST, { labels: [LABEL] });
    expect(whole.errors).toBeUndefined();
    expect(new Set(whole.data?.containers.edges.map((edge) => edge.node.engine.name))).toEqual(
      new Set(FLEET_ENGINE_NAMES),
    );
  });

  it("bounds the wait for a slow engine by that engine's own timeout: the others answer", async () => {
    // fleet-b behind a proxy that holds its answers, served as "slow" with a short timeout.
    const proxy = await startFaultProxy(dockerSocketPath(fleetEngine('fleet-b').dockerHost));
    const fast = fleetEngineClient('fleet-a');
    const slow = createEngineClient(proxy.dockerHost, { requestTimeoutMs: 1_000 });
    const config = loadConfig({
      HOME: '/nonexistent',
      HOST: '127.0.0.1',
      PORT: '0',
      DOCKERGRAPH_AUDIT: 'off',
    });
    const second = await startServer(
      config,
      new EngineRegistry(
        [
          { name: 'fleet-a', labels: {}, client: fast },
          { name: 'slow', labels: {}, client: slow },
        ],
        () => {},
      ),
      createLogger('silent'),
    );
    const ask = async () => {
      const response = await fetch(`${second.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: LIST, variables: { labels: [LABEL] } }),
      });
      return (await response.json()) as Answer<ListData>;
    };
    try {
      const both = await ask();
      expect(both.errors).toBeUndefined();
      expect(new Set(both.data?.containers.edges.map((edge) => edge.node.engine.name))).toEqual(
        new Set(['fleet-a', 'slow']),
      );
      proxy.setMode({ kind: 'delay', ms: 10_000 });
      const partial = await ask();
      expect(new Set(partial.data?.containers.edges.map((edge) => edge.node.engine.name))).toEqual(
        new Set(['fleet-a']),
      );
      expect(partial.errors).toHaveLength(1);
      expect(partial.errors?.[0]?.path).toEqual(['containers']);
      expect(partial.errors?.[0]?.extensions).toMatchObject({
        code: 'ENGINE_TIMEOUT',
        engine: 'slow',
      });
    } finally {
      proxy.setMode({ kind: 'pass' });
      await second.stop();
      await proxy.close();
    }
  });

  it('keeps a token limited to one engine from seeing or touching the others', async () => {
    const listed = await query<ListData>(LIST, { labels: [LABEL] });
    const other = listed.data?.containers.edges.find((edge) => edge.node.engine.name === 'fleet-b');
    if (!other) throw new Error('no container of fleet-b listed');

    const engines = await query<{ engines: { name: string }[] }>(
      '{ engines { name } }',
      {},
      limitedToken,
    );
    expect(engines.data?.engines).toEqual([{ name: 'fleet-a' }]);
    const own = await query<ListData>(LIST, { labels: [LABEL] }, limitedToken);
    expect(new Set(own.data?.containers.edges.map((edge) => edge.node.engine.name))).toEqual(
      new Set(['fleet-a']),
    );
    // The other engine answers as one that does not exist, by every road.
    const named = await query<ListData>(
      LIST,
      { labels: [LABEL], engines: ['fleet-b'] },
      limitedToken,
    );
    const missing = await query<ListData>(
      LIST,
      { labels: [LABEL], engines: ['fleet-z'] },
      limitedToken,
    );
    expect(named.errors?.[0]?.message).toBe(
      missing.errors?.[0]?.message.replace('fleet-z', 'fleet-b'),
    );
    const byId = await query<{ node: unknown }>(
      'query Find($id: ID!) { node(id: $id) { id } }',
      { id: other.node.id },
      limitedToken,
    );
    expect(byId.errors).toBeUndefined();
    expect(byId.data?.node).toBeNull();
    const engine = await query<{ engine: unknown }>(
      '{ engine(name: "fleet-b") { name } }',
      {},
      limitedToken,
    );
    expect(engine.errors?.[0]?.message).toBe('no engine named "fleet-b"');
    // A global ID of the hidden engine answers as one of an engine that does not exist.
    const stopByIdOf = (id: string) =>
      query<{ stopContainer: { __typename: string } }>(
        'mutation Stop($id: String!) { stopContainer(id: $id) { __typename ... on InvalidInputError { message } } }',
        { id },
        limitedToken,
      );
    const forged = Buffer.from(`Container:fleet-z:${other.node.dockerId}`).toString('base64url');
    const [hiddenById, missingById] = await Promise.all([
      stopByIdOf(other.node.id),
      stopByIdOf(forged),
    ]);
    expect(hiddenById).toEqual(
      JSON.parse(JSON.stringify(missingById).replaceAll(forged, other.node.id)),
    );
    expect(JSON.stringify(hiddenById)).not.toContain('fleet-b');
    // Naming the hidden engine answers as naming one that does not exist.
    const stopOn = (engine: string) =>
      query<{ stopContainer: { __typename: string } }>(
        `mutation Stop($name: String!, $engine: String) { stopContainer(id: $name, engine: $engine) { __typename } }`,
        { name: other.node.name, engine },
        limitedToken,
      );
    const [hiddenEngine, missingEngine] = await Promise.all([stopOn('fleet-b'), stopOn('fleet-z')]);
    expect(hiddenEngine.errors?.[0]?.message).toBe('no engine named "fleet-b"');
    expect(missingEngine.errors?.[0]?.message).toBe('no engine named "fleet-z"');
    const download = await fetch(
      `${server.url}/files/fleet-b/containers/${other.node.dockerId}/archive?path=/etc/hostname`,
      { headers: { authorization: `Bearer ${limitedToken}` } },
    );
    expect(download.status).toBe(404);
    const { stdout } = await runDockerCli('fleet-b', [
      'inspect',
      '--format',
      '{{.Name}}',
      other.node.dockerId,
    ]);
    expect(stdout.trim()).toBe(`/${other.node.name}`);

    // A label selector of engines: the staging token sees fleet-c only.
    const staging = await query<{ engines: { name: string }[] }>(
      '{ engines { name } }',
      {},
      stagingToken,
    );
    expect(staging.data?.engines).toEqual([{ name: 'fleet-c' }]);
  });
});
