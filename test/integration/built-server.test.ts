// The built server (`npm run build`, then `npm run start:built`): dist/server/index.mjs run by
// plain `node`, no TypeScript loader, against the private engine: a query over HTTP, a
// mutation and a subscription over graphql-ws, GraphiQL read from its file beside the
// bundle, the dashboard's files, and a second start that reads the code cache the first wrote.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildTargets, TARGETS } from '../../scripts/build.ts';
import { startBuiltServer } from '../helpers/built-server.ts';
import { EngineFixtures } from '../helpers/docker-fixtures.ts';
import { clientWithToken, finalAnswer, firstAnswer } from '../helpers/graphql-ws.ts';
import { descendantsOf, listProcesses } from '../helpers/processes.ts';
import { BUILT_SERVER_DIRECTORY, stopServerProcesses } from '../helpers/server-process.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** Asks the server at `url` the engine's API version over HTTP, without a token. */
function askApiVersion(url: string): Promise<Response> {
  return fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ engine { ping { apiVersion } } }' }),
  });
}

/**
 * The pids of the processes below `ancestor` (npm, then the shell of its script), those
 * running `script` when it is given.
 */
async function processesBelow(ancestor: number, script?: string): Promise<number[]> {
  return descendantsOf(await listProcesses(), ancestor)
    .filter((entry) => script === undefined || entry.argv.includes(script))
    .map((entry) => entry.pid);
}

describe('the built server under plain node', () => {
  const fixtures = new EngineFixtures();
  const home = mkdtempSync(join(tmpdir(), 'dg-built-'));
  let url = '';
  let client: Client;

  beforeAll(async () => {
    await buildTargets(TARGETS.filter((target) => target.name === 'server'));
    ({ url } = await startBuiltServer(home));
    client = clientWithToken(url, 'unused: no tokens are configured');
  });

  afterAll(async () => {
    await client?.dispose();
    await stopServerProcesses();
    await fixtures.cleanup();
  });

  it('answers a query over HTTP with the negotiated engine API version', async () => {
    const response = await askApiVersion(url);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { engine: { ping: { apiVersion: '1.41' } } } });
  });

  it('runs a mutation over WebSocket, and a subscription sees what it did', async () => {
    const name = fixtures.name('built-volume');
    const since = new Date(Date.now() - 1_000).toISOString();
    const created = await finalAnswer(client, {
      query: `mutation Create($input: CreateVolumeInput!) {
        createVolume(input: $input) { __typename ... on VolumePayload { volume { name } } }
      }`,
      variables: {
        input: {
          name,
          labels: Object.entries(fixtures.labels()).map(([name, value]) => ({ name, value })),
        },
      },
    });
    expect(created).toEqual({
      data: { createVolume: { __typename: 'VolumePayload', volume: { name } } },
    });
    // From `since`, the engine's recent events are replayed: the create is in them whatever
    // the order the subscription and the mutation reached the engine.
    const event = await firstAnswer(client, {
      query: `subscription Created($filter: EventFilter, $since: DateTime) {
        events(filter: $filter, since: $since) { event { type action actor { id } } }
      }`,
      variables: { filter: { types: ['VOLUME'], actions: ['create'], volumes: [name] }, since },
    });
    expect(event).toEqual({
      data: { events: { event: { type: 'VOLUME', action: 'create', actor: { id: name } } } },
    });
  });

  it('serves GraphiQL from its file beside the bundle, and the dashboard', async () => {
    const graphiql = await fetch(`${url}/graphql`, { headers: { accept: 'text/html' } });
    expect(graphiql.status).toBe(200);
    const page = await graphiql.text();
    // The real GraphiQL (the short page of the function builds has no example query).
    expect(page).toContain('query Overview');
    expect(page.length).toBeGreaterThan(1_000_000);
    const script = await fetch(`${url}/dashboard/dashboard.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it('wrote its code cache, and a second start reads it and answers', async () => {
    // Written once the first start had answered a GraphQL request (the tests above).
    const caches = await waitFor(
      () => {
        const found = readdirSync(BUILT_SERVER_DIRECTORY).filter((file) => file.endsWith('.cache'));
        return found.length > 0 && found;
      },
      { timeoutMs: 30_000, what: 'the built server to write its code cache' },
    );
    expect(caches).toHaveLength(1);
    const cache = join(BUILT_SERVER_DIRECTORY, caches[0] ?? '');
    const written = statSync(cache).mtimeMs;
    const second = await startBuiltServer(home);
    // A cache V8 refused would have been written again.
    expect(statSync(cache).mtimeMs).toBe(written);
    const response = await askApiVersion(second.url);
    expect(await response.json()).toEqual({ data: { engine: { ping: { apiVersion: '1.41' } } } });
  });

  it('runs under `npm run start:built` with the allocator settings of that script', async () => {
    // glibc's allocator otherwise keeps the 64 KiB read buffers of sockets in its heap, where
    // the holes they leave stay resident: the script sends them to mmap (README, Measured).
    const npm = spawn('npm', ['run', '--silent', 'start:built'], {
      cwd: join(BUILT_SERVER_DIRECTORY, '../..'),
      env: {
        PATH: process.env.PATH,
        HOME: home,
        DOCKER_HOST: inject('dockerHost'),
        HOST: '127.0.0.1',
        PORT: '0',
        DOCKERGRAPH_AUDIT: 'off',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    // Listened for from the start: a server that fails to start ends npm before any wait.
    const exited = new Promise<void>((resolve) => npm.once('exit', () => resolve()));
    // npm does not pass SIGTERM on to its script: the server is stopped by its own pid.
    let server: number | undefined;
    try {
      let output = '';
      npm.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
      });
      const url = await Promise.race([
        waitFor(() => /"url":"(http:[^"]+)\/graphql"/.exec(output)?.[1], {
          // Within the test's 60 s, so that this message is the one reported.
          timeoutMs: 45_000,
          what: 'npm run start:built to listen',
        }),
        exited.then(() => {
          throw new Error(
            `npm run start:built exited (${npm.exitCode ?? npm.signalCode}) before it listened; stdout:\n${output}`,
          );
        }),
      ]);
      const servers = await processesBelow(npm.pid ?? 0, 'dist/server/index.mjs');
      expect(servers).toHaveLength(1);
      server = servers[0];
      const response = await askApiVersion(url);
      expect(await response.json()).toEqual({ data: { engine: { ping: { apiVersion: '1.41' } } } });
      const environment = readFileSync(`/proc/${server}/environ`, 'utf8').split('\0');
      expect(environment).toContain('GLIBC_TUNABLES=glibc.malloc.mmap_threshold=65536');
    } finally {
      // The server alone once found (npm then ends with it); else all npm started, and npm.
      const stop = server === undefined ? await processesBelow(npm.pid ?? 0) : [server];
      for (const pid of stop) {
        try {
          process.kill(pid, server === undefined ? 'SIGKILL' : 'SIGTERM');
        } catch {
          // Gone already.
        }
      }
      if (server === undefined) npm.kill('SIGKILL');
      await exited;
    }
  });
});
