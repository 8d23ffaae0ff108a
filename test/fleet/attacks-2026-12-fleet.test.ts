// Attacks on "a token limited to some engines neither sees nor touches the others" (December
// 2026 review), as a hostile client would try them, over three real engines: global IDs of
// another engine's objects (as given, re-encoded, forged), `engine:` and `engines:` naming
// another engine, subscriptions over WebSocket and SSE, the terminal WebSocket, downloads,
// cursors, readiness, a label limit with an engine limit, and engines that leave a token's
// view while it holds a live stream on them (the engines file reloaded).
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
import { clientWithToken } from '../helpers/graphql-ws.ts';
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

function globalId(type: string, engine: string, id: string): string {
  return Buffer.from(`${type}:${engine}:${id}`, 'utf8').toString('base64url');
}

beforeAll(async () => {
  await Promise.all(
    FLEET_ENGINE_NAMES.map(async (engine) => {
      const name = `${run}-${engine}-idle`;
      const dockerId = await testRun.runIdleContainer(engine, name);
      ids[engine] = { dockerId, id: globalId('Container', engine, dockerId), name };
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

describe('an engine that leaves a token’s view while it holds a live stream on it', () => {
  it('ends a containerLogs subscription of a token that loses the engine on a reload', async () => {
    const own = await startFleet();
    const chatty = await runChatty('fleet-b', `${run}-logs-relabel`);
    const client = clientWithToken(own.server.url, tokens.ab);
    const logs = collectSubscription<'containerLogs', { line: { message: string } }>(
      'containerLogs',
      client.iterate({
        query:
          'subscription Logs($id: String!) { containerLogs(id: $id, engine: "fleet-b", tail: 0) { line { message } } }',
        variables: { id: chatty },
      }),
    );
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

  it('ends it when the engine is removed, and the removal (a reload) does not wait for it', async () => {
    const own = await startFleet();
    const chatty = await runChatty('fleet-b', `${run}-logs-removed`);
    const client = clientWithToken(own.server.url, tokens.ab);
    const logs = collectSubscription<'containerLogs', { line: { message: string } }>(
      'containerLogs',
      client.iterate({
        query:
          'subscription Logs($id: String!) { containerLogs(id: $id, engine: "fleet-b", tail: 0) { line { message } } }',
        variables: { id: chatty },
      }),
    );
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
