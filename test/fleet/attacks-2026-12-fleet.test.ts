// Attacks on "a token limited to some engines neither sees nor touches the others" (December
// 2026 review), as a hostile client would try them, over three real engines: global IDs of
// another engine's objects (as given, re-encoded, forged), `engine:` and `engines:` naming
// another engine, subscriptions over WebSocket and SSE, the terminal WebSocket, downloads,
// cursors, readiness, a label limit with an engine limit, and engines that leave a token's
// view while it holds a live stream on them (the engines file reloaded).
import { createClient as createSseClient } from 'graphql-sse';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config.ts';
import type { DockerClient } from '../../src/docker/client.ts';
import { EngineRegistry } from '../../src/docker/engine-registry.ts';
import { createLogger } from '../../src/logger.ts';
import { type RunningServer, startServer } from '../../src/server.ts';
import { randomToken, tokensEnv } from '../helpers/access.ts';
import { collectSubscription } from '../helpers/collect-subscription.ts';
import {
  FLEET_BASE_IMAGE,
  FLEET_ENGINE_NAMES,
  fleetEngineClient,
  fleetTestRun,
  runDockerCli,
} from '../helpers/fleet.ts';
import { encodeGlobalId } from '../helpers/global-ids.ts';
import { clientWithToken } from '../helpers/graphql-ws.ts';
import { renamed } from '../helpers/renamed.ts';
import { waitFor } from '../helpers/wait-for.ts';

const testRun = fleetTestRun('attacks');
const { run, label: LABEL } = testRun;
const TEAM = { team: `blue-${run}` };
const tokens = {
  root: randomToken(),
  onlyA: randomToken(),
  ab: randomToken(),
  team: randomToken(),
};
const env = tokensEnv([
  { id: 'root', role: 'admin', token: tokens.root },
  { id: 'only-a', role: 'admin', token: tokens.onlyA, engines: ['fleet-a'] },
  // Two engines, one of them by its label: the binding of several engines, not the single one.
  { id: 'a-and-staging', role: 'admin', token: tokens.ab, engines: ['fleet-a', 'env=staging'] },
  { id: 'team', role: 'admin', token: tokens.team, labels: TEAM, engines: ['fleet-a', 'fleet-b'] },
]);
/** fleet-b is the staging engine; a reload below makes it production. */
const LABELS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'fleet-a': { env: 'prod' },
  'fleet-b': { env: 'staging' },
  'fleet-c': { env: 'prod' },
};

interface Answer<T> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

/** A server over the three fleet engines, with the registry to change as a reload would. */
interface Fleet {
  readonly server: RunningServer;
  readonly registry: EngineRegistry;
  readonly clients: DockerClient[];
}

async function startFleet(): Promise<Fleet> {
  const clients: DockerClient[] = [];
  const registry = new EngineRegistry(
    FLEET_ENGINE_NAMES.map((name) => {
      const client = fleetEngineClient(name);
      clients.push(client);
      return { name, labels: LABELS[name] ?? {}, client };
    }),
    () => {},
  );
  const config = loadConfig({
    HOME: '/nonexistent',
    HOST: '127.0.0.1',
    PORT: '0',
    DOCKERGRAPH_AUDIT: 'off',
    DOCKERGRAPH_RATE_LIMIT: '0',
    ...env,
  });
  const server = await startServer(config, registry, createLogger('silent'));
  return { server, registry, clients };
}

let fleet: Fleet;

async function query<T>(
  document: string,
  variables: Record<string, unknown>,
  token: string,
  target: Fleet = fleet,
): Promise<Answer<T>> {
  const response = await fetch(`${target.server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: document, variables }),
  });
  return (await response.json()) as Answer<T>;
}

/** Follows the new lines of container `id` of fleet-b over `client`. */
function followLogsOnFleetB(client: Client, id: string) {
  return collectSubscription<'containerLogs', { line: { message: string } }>(
    'containerLogs',
    client.iterate({
      query:
        'subscription Logs($id: String!) { containerLogs(id: $id, engine: "fleet-b", tail: 0) { line { message } } }',
      variables: { id },
    }),
  );
}

/** Runs a container printing a line every 200 ms on `engine`; answers its full id. */
async function runChatty(engine: string, name: string, labels: Record<string, string> = {}) {
  const { stdout } = await runDockerCli(engine, [
    'run',
    '-d',
    '--name',
    name,
    '--label',
    LABEL,
    ...Object.entries(labels).flatMap(([key, value]) => ['--label', `${key}=${value}`]),
    FLEET_BASE_IMAGE,
    'sh',
    '-c',
    'while true; do echo tick; sleep 0.2; done',
  ]);
  return stdout.trim();
}

/** What every engine holds for the tests: one idle container, and one of the team on a and c. */
const ids: Record<string, { dockerId: string; id: string; name: string }> = {};
/** A container of the team on each engine (the team token is limited to fleet-a and fleet-b). */
const teamIds: Record<string, string> = {};

beforeAll(async () => {
  await Promise.all(
    FLEET_ENGINE_NAMES.map(async (engine) => {
      const name = `${run}-${engine}-idle`;
      const dockerId = await testRun.runIdleContainer(engine, name);
      ids[engine] = { dockerId, id: encodeGlobalId('Container', engine, dockerId), name };
      const { stdout } = await runDockerCli(engine, [
        'run',
        '-d',
        '--name',
        `${run}-${engine}-team`,
        '--label',
        LABEL,
        '--label',
        `team=${TEAM.team}`,
        FLEET_BASE_IMAGE,
        'sleep',
        '600',
      ]);
      teamIds[engine] = stdout.trim();
    }),
  );
  fleet = await startFleet();
});

afterAll(async () => {
  await fleet?.server.stop();
  await Promise.all(
    FLEET_ENGINE_NAMES.map((engine) =>
      runDockerCli(engine, ['ps', '-aq', '--filter', `label=${LABEL}`]).then(({ stdout }) => {
        const found = stdout.split('\n').filter(Boolean);
        return found.length > 0 ? runDockerCli(engine, ['rm', '-f', ...found]) : undefined;
      }),
    ),
  );
});

function idOf(engine: string) {
  const found = ids[engine];
  if (!found) throw new Error(`no container of ${engine}`);
  return found;
}

/**
 * Asks `ask` with a hidden container's global ID (fleet-c), the same bytes padded, and
 * `forged` (the same container on fleet-z, no engine at all), and expects the first two
 * answered as the forged one, its words renamed. Answers the forged one's answer.
 */
async function expectAnsweredAsForged<T>(
  ask: (id: string) => Promise<T>,
  hiddenId: string,
  padded: string,
  forged: string,
): Promise<T> {
  const [byId, byPadded, byForged] = await Promise.all([ask(hiddenId), ask(padded), ask(forged)]);
  const asHidden = (id: string) =>
    renamed(byForged, [
      [forged, id],
      ['fleet-z', 'fleet-c'],
    ]);
  expect(byId).toEqual(asHidden(hiddenId));
  expect(byPadded).toEqual(asHidden(padded));
  return byForged;
}

const STOP = `mutation Stop($id: String!, $engine: String) {
  stopContainer(id: $id, engine: $engine, timeoutSeconds: 0) {
    __typename ... on MutationError { message } ... on InvalidInputError { field }
  }
}`;

/** A terminal route opened with `token`: its first text frame, or how it closed. */
function terminal(
  path: string,
  token: string,
): Promise<{ code: number; reason: string } | 'started'> {
  const socket = new WebSocket(`${fleet.server.url.replace(/^http/, 'ws')}${path}`, [
    'dockergraph.terminal.v1',
    `dockergraph.bearer.${Buffer.from(token).toString('base64url')}`,
  ]);
  return new Promise((resolve) => {
    socket.on('message', (_data, isBinary) => {
      if (!isBinary) {
        resolve('started');
        socket.terminate();
      }
    });
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') }));
  });
}

describe('a token limited to engines, attacked by every road', () => {
  it('answers global IDs of a hidden engine, as given or re-encoded, as IDs of no engine', async () => {
    const hidden = idOf('fleet-c');
    const visible = idOf('fleet-a');
    const forged = encodeGlobalId('Container', 'fleet-z', hidden.dockerId);
    // Standard base64 with padding, and a name in capitals: other spellings of the same bytes.
    const padded = Buffer.from(`Container:fleet-c:${hidden.dockerId}`).toString('base64');
    const capitals = encodeGlobalId('Container', 'FLEET-C', hidden.dockerId);
    const found = await query<{ nodes: ({ id: string } | null)[] }>(
      'query Nodes($ids: [ID!]!) { nodes(ids: $ids) { id } }',
      { ids: [visible.id, hidden.id, padded, capitals, forged] },
      tokens.ab,
    );
    expect(found).toEqual({ data: { nodes: [{ id: visible.id }, null, null, null, null] } });
    for (const token of [tokens.ab, tokens.onlyA]) {
      await expectAnsweredAsForged((id) => query(STOP, { id }, token), hidden.id, padded, forged);
    }
    // The engine's own Docker ID is no name of it.
    const { stdout } = await runDockerCli('fleet-c', ['info', '--format', '{{.ID}}']);
    const byEngineId = await query(STOP, { id: hidden.name, engine: stdout.trim() }, tokens.ab);
    expect(JSON.stringify(byEngineId)).toContain('no engine named');
    expect(
      (
        await runDockerCli('fleet-c', [
          'inspect',
          '--format',
          '{{.State.Running}}',
          hidden.dockerId,
        ])
      ).stdout.trim(),
    ).toBe('true');
  });

  it('answers lookups by global ID of a hidden engine as by an ID of no engine, and binds visible ones', async () => {
    const hidden = idOf('fleet-c');
    const visible = idOf('fleet-b');
    const forged = encodeGlobalId('Container', 'fleet-z', hidden.dockerId);
    const padded = Buffer.from(`Container:fleet-c:${hidden.dockerId}`).toString('base64');
    const LOOKUP = 'query Lookup($id: String!) { container(idOrName: $id) { id name } }';
    for (const token of [tokens.ab, tokens.onlyA]) {
      const byForged = await expectAnsweredAsForged(
        (id) => query(LOOKUP, { id }, token),
        hidden.id,
        padded,
        forged,
      );
      expect(byForged.data).toEqual({ container: null });
      // Several engines: bound to none; one engine: an ID of another one, whichever it names.
      expect(byForged.errors?.map((error) => error.message)).toEqual([
        token === tokens.ab
          ? 'no engine named "fleet-z"'
          : `Invalid argument "idOrName": "${forged}" is the global ID of an object on another engine`,
      ]);
    }
    // A visible engine's container by its global ID alone: the ID binds the lookup to fleet-b.
    expect(await query(LOOKUP, { id: visible.id }, tokens.ab)).toEqual({
      data: { container: { id: visible.id, name: visible.name } },
    });
    // The same ID with `engine:` naming another visible engine is a contradiction, not a lookup there.
    const contradicted = await query<{ container: null }>(
      'query Lookup($id: String!) { container(idOrName: $id, engine: "fleet-a") { id } }',
      { id: visible.id },
      tokens.ab,
    );
    expect(contradicted.errors?.[0]?.message).toBe(
      'engine: names engine "fleet-a" while a global ID argument names an object on engine "fleet-b"',
    );
    // A plain bad name, with two engines and none chosen: the argument is named, not `engine:`.
    const badName = await query(LOOKUP, { id: 'a/b' }, tokens.ab);
    expect(badName.errors?.map((error) => [error.message, error.extensions?.argument])).toEqual([
      ['Invalid argument "idOrName": "a/b" is not a container id or name', 'idOrName'],
    ]);
  });

  it('answers `engine:` and `engines:` naming a hidden engine, by name or label, as naming none', async () => {
    const hidden = idOf('fleet-c');
    const [onC, onZ, onProd, onNothing] = await Promise.all(
      ['fleet-c', 'fleet-z', 'env=prod', 'env=nothing'].map((engine) =>
        query(STOP, { id: hidden.name, engine }, tokens.ab),
      ),
    );
    expect(onC).toEqual(renamed(onZ, [['fleet-z', 'fleet-c']]));
    expect(onProd).toEqual(renamed(onNothing, [['env=nothing', 'env=prod']]));
    const list = (engines: string[]) =>
      query<{
        containers: { totalCount: number; edges: { node: { engine: { name: string } } }[] };
      }>(
        `query L($engines: [String!], $labels: [String!]!) {
          containers(engines: $engines, filter: { labels: $labels }) { totalCount edges { node { engine { name } } } }
        }`,
        { engines, labels: [LABEL] },
        tokens.ab,
      );
    const [prod, nothing, named, missing] = await Promise.all([
      list(['env=prod']),
      list(['env=nothing']),
      list(['fleet-c']),
      list(['fleet-z']),
    ]);
    expect(new Set(prod.data?.containers.edges.map((edge) => edge.node.engine.name))).toEqual(
      new Set(['fleet-a']),
    );
    expect(nothing).toEqual({ data: { containers: { totalCount: 0, edges: [] } } });
    expect(named).toEqual(renamed(missing, [['fleet-z', 'fleet-c']]));
  });

  it('keeps subscriptions over SSE off a hidden engine, as off an engine that does not exist', async () => {
    const sse = createSseClient({
      url: `${fleet.server.url}/graphql`,
      headers: { authorization: `Bearer ${tokens.ab}` },
      retryAttempts: 0,
    });
    const first = async (query: string) => {
      const results = sse.iterate({ query });
      try {
        return await results.next();
      } catch (error) {
        return { error: String(error) };
      } finally {
        await results.return?.();
      }
    };
    try {
      const hidden = idOf('fleet-c');
      for (const [onC, onZ] of [
        [
          `subscription { events(engines: ["fleet-c"]) { kind } }`,
          `subscription { events(engines: ["fleet-z"]) { kind } }`,
        ],
        [
          `subscription { containerLogs(id: "${hidden.dockerId}", engine: "fleet-c") { line { message } } }`,
          `subscription { containerLogs(id: "${hidden.dockerId}", engine: "fleet-z") { line { message } } }`,
        ],
        [
          `subscription { containerStats(ids: ["${hidden.dockerId}"], engine: "fleet-c") { containerId } }`,
          `subscription { containerStats(ids: ["${hidden.dockerId}"], engine: "fleet-z") { containerId } }`,
        ],
      ] as const) {
        const [c, z] = await Promise.all([first(onC), first(onZ)]);
        expect(JSON.stringify(c)).toContain('fleet-c');
        expect(c).toEqual(renamed(z, [['fleet-z', 'fleet-c']]));
      }
    } finally {
      sse.dispose();
    }
  });

  it('refuses terminals and downloads on a hidden engine in the words of a missing one', async () => {
    const hidden = idOf('fleet-c');
    const forged = encodeGlobalId('Container', 'fleet-z', hidden.dockerId);
    const [onC, onZ, idOfC, idOfZ] = await Promise.all([
      terminal(`/terminal/fleet-c/${hidden.dockerId}/exec?cmd=sh`, tokens.ab),
      terminal(`/terminal/fleet-z/${hidden.dockerId}/exec?cmd=sh`, tokens.ab),
      terminal(`/terminal/fleet-a/${hidden.id}/exec?cmd=sh`, tokens.ab),
      terminal(`/terminal/fleet-a/${forged}/exec?cmd=sh`, tokens.ab),
    ]);
    expect(onC).toEqual({ code: 4404, reason: 'no engine named "fleet-c"' });
    expect(onC).toEqual(renamed(onZ, [['fleet-z', 'fleet-c']]));
    expect(idOfC).toEqual(renamed(idOfZ, [[forged, hidden.id]]));
    const download = async (path: string) => {
      const response = await fetch(`${fleet.server.url}${path}`, {
        headers: { authorization: `Bearer ${tokens.ab}` },
      });
      return { status: response.status, body: await response.text() };
    };
    const [exportC, exportZ, saveC, saveZ, byIdC, byIdZ] = await Promise.all([
      download(`/files/fleet-c/containers/${hidden.dockerId}/export`),
      download(`/files/fleet-z/containers/${hidden.dockerId}/export`),
      download(`/files/fleet-c/images/save?reference=${FLEET_BASE_IMAGE}`),
      download(`/files/fleet-z/images/save?reference=${FLEET_BASE_IMAGE}`),
      download(`/files/fleet-a/containers/${hidden.id}/archive?path=/etc`),
      download(`/files/fleet-a/containers/${forged}/archive?path=/etc`),
    ]);
    expect(exportC.status).toBe(404);
    expect(exportC).toEqual(renamed(exportZ, [['fleet-z', 'fleet-c']]));
    expect(saveC).toEqual(renamed(saveZ, [['fleet-z', 'fleet-c']]));
    expect(byIdC).toEqual(renamed(byIdZ, [[forged, hidden.id]]));
  });

  it("pages past another token's cursor on a hidden engine without its containers", async () => {
    const all = await query<{
      containers: { edges: { cursor: string; node: { engine: { name: string } } }[] };
    }>(
      'query L($labels: [String!]!) { containers(filter: { labels: $labels }) { edges { cursor node { engine { name } } } } }',
      { labels: [LABEL] },
      tokens.root,
    );
    const onC =
      all.data?.containers.edges.filter((edge) => edge.node.engine.name === 'fleet-c') ?? [];
    expect(onC.length).toBeGreaterThan(0);
    for (const edge of onC) {
      for (const args of ['first: 50, after: $cursor', 'last: 50, before: $cursor']) {
        const page = await query<{
          containers: { totalCount: number; edges: { node: { engine: { name: string } } }[] };
        }>(
          `query P($labels: [String!]!, $cursor: String) { containers(filter: { labels: $labels }, ${args}) { totalCount edges { node { engine { name } } } } }`,
          { labels: [LABEL], cursor: edge.cursor },
          tokens.ab,
        );
        expect(page.errors).toBeUndefined();
        const engines = new Set(page.data?.containers.edges.map((each) => each.node.engine.name));
        expect(engines.has('fleet-c')).toBe(false);
      }
    }
  });

  it('holds a token limited to labels and engines to both', async () => {
    const teamOnC = teamIds['fleet-c'] ?? '';
    const teamOnA = teamIds['fleet-a'] ?? '';
    const list = await query<{
      containers: { edges: { node: { dockerId: string; engine: { name: string } } }[] };
    }>(
      'query L($labels: [String!]!) { containers(filter: { labels: $labels }) { edges { node { dockerId engine { name } } } } }',
      { labels: [LABEL] },
      tokens.team,
    );
    expect(new Set(list.data?.containers.edges.map((edge) => edge.node.dockerId))).toEqual(
      new Set([teamIds['fleet-a'], teamIds['fleet-b']]),
    );
    const idOnC = encodeGlobalId('Container', 'fleet-c', teamOnC);
    const forged = encodeGlobalId('Container', 'fleet-z', teamOnC);
    const nodes = await query<{ nodes: ({ id: string } | null)[] }>(
      'query N($ids: [ID!]!) { nodes(ids: $ids) { id } }',
      { ids: [encodeGlobalId('Container', 'fleet-a', teamOnA), idOnC, idOf('fleet-a').id] },
      tokens.team,
    );
    expect(nodes.data?.nodes.map((node) => node !== null)).toEqual([true, false, false]);
    const [byC, byZ] = await Promise.all([
      query(STOP, { id: idOnC }, tokens.team),
      query(STOP, { id: forged }, tokens.team),
    ]);
    expect(byC).toEqual(
      renamed(byZ, [
        [forged, idOnC],
        ['fleet-z', 'fleet-c'],
      ]),
    );
    // A container of a visible engine outside the labels reads as missing, by global ID too.
    const outside = await query(STOP, { id: idOf('fleet-a').id }, tokens.team);
    expect(JSON.stringify(outside)).toContain('No such container');
  });

  it('does not name hidden engines in /metrics', async () => {
    // Every engine called and counted, by an unlimited token.
    const all = await query('{ engines { name version { apiVersion } } }', {}, tokens.root);
    expect(all.errors).toBeUndefined();
    const scrape = async (token: string) =>
      (
        await fetch(`${fleet.server.url}/metrics`, {
          headers: { authorization: `Bearer ${token}` },
        })
      ).text();
    expect(await scrape(tokens.root)).toContain('engine="fleet-c"');
    const limited = await scrape(tokens.ab);
    expect(limited).toContain('dockergraph_engine_call_duration_seconds_count{engine="fleet-a"');
    expect(limited).toContain('engine="fleet-b"');
    expect(limited).not.toContain('fleet-c');
  });

  it('does not name hidden engines, nor tell their state, in /readyz', async () => {
    const readiness = async (headers: Record<string, string>) => {
      const response = await fetch(`${fleet.server.url}/readyz`, { headers });
      return { status: response.status, body: (await response.json()) as unknown };
    };
    expect(await readiness({ authorization: `Bearer ${tokens.ab}` })).toEqual({
      status: 200,
      body: {
        ready: true,
        engines: [
          { name: 'fleet-a', reachable: true },
          { name: 'fleet-b', reachable: true },
        ],
      },
    });
    // Without a token (or with a wrong one) the status still answers, naming no engine.
    for (const headers of [{}, { authorization: `Bearer ${randomToken()}` }]) {
      expect(await readiness(headers)).toEqual({ status: 200, body: { ready: true, engines: [] } });
    }
  });
});

describe('an engine that leaves a token’s view while it holds a live stream on it', () => {
  it('ends a containerLogs subscription of a token that loses the engine on a reload', async () => {
    const own = await startFleet();
    const chatty = await runChatty('fleet-b', `${run}-logs-relabel`);
    const client = clientWithToken(own.server.url, tokens.ab);
    const logs = followLogsOnFleetB(client, chatty);
    try {
      await logs.untilCount(1, 30_000);
      // fleet-b becomes a production engine: the staging token no longer sees it.
      const relabelled = fleetEngineClient('fleet-b');
      own.clients.push(relabelled);
      own.registry.add({ name: 'fleet-b', labels: { env: 'prod' }, client: relabelled });
      const engines = await query<{ engines: { name: string }[] }>(
        '{ engines { name } }',
        {},
        tokens.ab,
        own,
      );
      expect(engines.data?.engines).toEqual([{ name: 'fleet-a' }]);
      // The stream ends: fleet-b's lines no longer reach a token that does not see fleet-b.
      await logs.untilEnded(30_000);
      expect(logs.errors).toEqual([]);
    } finally {
      await logs.stop();
      await client.dispose();
      // Stopping the server closes every client its registry holds.
      await own.server.stop();
    }
  });

  it('ends the shared streams of an engine relabelled out of a token’s view (events, stats)', async () => {
    const own = await startFleet();
    const chatty = await runChatty('fleet-b', `${run}-stats-relabel`);
    const client = clientWithToken(own.server.url, tokens.ab);
    const stats = collectSubscription<'containerStats', { containerId: string }>(
      'containerStats',
      client.iterate({
        query: `subscription { containerStats(ids: ["${chatty}"], engine: "fleet-b") { containerId } }`,
      }),
    );
    const events = collectSubscription<
      'events',
      { kind: string; reason: string | null; engine: { name: string } }
    >(
      'events',
      client.iterate({ query: 'subscription { events { kind reason engine { name } } }' }),
    );
    try {
      await stats.untilCount(1, 30_000);
      // The events upstreams of both engines are open once a stats sample came: the
      // subscriptions started together; wait for fleet-b's upstream as reload.test.ts does.
      await waitFor(
        async () =>
          (
            await (
              await fetch(`${own.server.url}/metrics`, {
                headers: { authorization: `Bearer ${tokens.root}` },
              })
            ).text()
          ).includes('dockergraph_upstream_streams_open{engine="fleet-b",kind="events"} 1')
            ? true
            : undefined,
        { timeoutMs: 30_000, what: "fleet-b's event upstream" },
      );
      own.registry.add({
        name: 'fleet-b',
        labels: { env: 'prod' },
        client: fleetEngineClient('fleet-b'),
      });
      await stats.untilEnded(30_000);
      const resync = await events.until(
        (messages) => messages.find((message) => message.kind === 'RESYNC'),
        30_000,
        "fleet-b's RESYNC",
      );
      expect(resync).toEqual({
        kind: 'RESYNC',
        reason: 'engine "fleet-b" was reconfigured',
        engine: { name: 'fleet-b' },
      });
    } finally {
      await stats.stop();
      await events.stop();
      await client.dispose();
      await own.server.stop();
    }
  });

  it('ends it when the engine is removed, and the removal (a reload) does not wait for it', async () => {
    const own = await startFleet();
    const chatty = await runChatty('fleet-b', `${run}-logs-removed`);
    const client = clientWithToken(own.server.url, tokens.ab);
    const logs = followLogsOnFleetB(client, chatty);
    try {
      await logs.untilCount(1, 30_000);
      // The reload awaits the removal before it adds or changes any other engine.
      await own.registry.remove('fleet-b', 'engine "fleet-b" was removed from the configuration');
      await logs.untilEnded(30_000);
      expect(logs.errors).toEqual([]);
    } finally {
      await logs.stop();
      await client.dispose();
      await own.server.stop();
    }
  });

  it('cuts a download held by a slow client when its engine is removed, without the removal waiting', async () => {
    const own = await startFleet();
    const holder = await testRun.runIdleContainer('fleet-b', `${run}-big-file`);
    // More than the sockets between engine, server and client hold: the engine's answer
    // stays unfinished while the client reads nothing.
    await runDockerCli('fleet-b', [
      'exec',
      holder,
      'dd',
      'if=/dev/zero',
      'of=/big',
      'bs=1M',
      'count=64',
    ]);
    const response = await fetch(
      `${own.server.url}/files/fleet-b/containers/${holder}/archive?path=/big`,
      {
        headers: { authorization: `Bearer ${tokens.ab}` },
      },
    );
    expect(response.status).toBe(200);
    const reader = response.body?.getReader();
    if (!reader) throw new Error('no body');
    try {
      expect((await reader.read()).done).toBe(false);
      // The client stops reading, holding the engine's answer unfinished; the engine is
      // removed. The download is cut on the engine's side: the removal, which a reload
      // awaits before it adds or changes any other engine, does not wait for this client.
      await own.registry.remove('fleet-b', 'engine "fleet-b" was removed from the configuration');
      // The client reading on is told the download failed: it neither waits for the rest
      // nor gets a truncated archive ending as if whole.
      const readToEnd = async () => {
        for (;;) if ((await reader.read()).done) return 'whole';
      };
      await expect(readToEnd()).rejects.toThrow();
    } finally {
      await reader.cancel().catch(() => {});
      await own.server.stop();
    }
  });

  it('closes a terminal session of a token that loses the engine on a reload', async () => {
    const own = await startFleet();
    const chatty = await runChatty('fleet-b', `${run}-terminal-relabel`);
    const socket = new WebSocket(
      `${own.server.url.replace(/^http/, 'ws')}/terminal/fleet-b/${chatty}/exec?cmd=sh`,
      [
        'dockergraph.terminal.v1',
        `dockergraph.bearer.${Buffer.from(tokens.ab).toString('base64url')}`,
      ],
    );
    let output = '';
    let started = false;
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) output += data.toString('utf8');
      else started = true;
    });
    const closed = new Promise<{ code: number; reason: string }>((resolve) => {
      socket.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') }));
    });
    try {
      await waitFor(() => (started ? true : undefined), { timeoutMs: 30_000, what: 'the session' });
      socket.send(Buffer.from('echo before-$((40+2))\n'), { binary: true });
      await waitFor(() => (output.includes('before-42') ? true : undefined), {
        timeoutMs: 30_000,
        what: 'the shell to answer',
      });
      const relabelled = fleetEngineClient('fleet-b');
      own.registry.add({ name: 'fleet-b', labels: { env: 'prod' }, client: relabelled });
      // The session ends: the shell on fleet-b no longer takes input from this token.
      let ended: { code: number; reason: string } | undefined;
      void closed.then((value) => {
        ended = value;
      });
      expect(
        await waitFor(() => ended, { timeoutMs: 30_000, what: 'the session to close' }),
      ).toEqual({
        code: 1001,
        reason: 'engine "fleet-b" was reconfigured',
      });
    } finally {
      socket.terminate();
      await own.server.stop();
    }
  });
});
