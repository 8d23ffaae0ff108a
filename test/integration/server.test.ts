// The HTTP server as its users meet it: startServer (routes, request log, graceful stop), and
// `npm start` run as a child process (startup log, engines it picks, signals, bad settings).
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EXAMPLE_QUERY } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { DockerClient, EngineCallRecord } from '../../src/docker/client.ts';
import { type RunningServer, startServer } from '../../src/server.ts';
import { graphql } from '../generated/gql.ts';
import type { GraphQLResponse } from '../helpers/app.ts';
import { EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { dockerSocketPath, engineDockerHost, engineStatus } from '../helpers/engine.ts';
import { createEngineClient } from '../helpers/engine-client.ts';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.ts';
import { captureLog } from '../helpers/log-capture.ts';
import { startServerProcess, stopServerProcesses } from '../helpers/server-process.ts';
import { waitFor } from '../helpers/wait-for.ts';

const ServerVersionQuery = graphql(`
  query ServerEngineVersion {
    engine { version { version apiVersion } }
  }
`);

const ServerLabelledQuery = graphql(`
  query ServerLabelledContainers($labels: [String!]) {
    containers(filter: { labels: $labels }) { edges { node { name state } } }
  }
`);

const ServerOverviewQuery = graphql(`
  query ServerOverview {
    engine { info { containers { total } } }
    containers(first: 3) { totalCount edges { node { name state } } }
  }
`);

/** Body of a GraphQL POST for `document`, sent the way simple clients do: no operationName. */
function body(document: Parameters<typeof print>[0]): string {
  return JSON.stringify({ query: print(document) });
}

async function postJson<T>(
  url: string,
  payload: string,
): Promise<{ status: number; body: GraphQLResponse<T> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: payload,
  });
  return { status: response.status, body: (await response.json()) as GraphQLResponse<T> };
}

function dockerClient(dockerHost: string): DockerClient {
  return createEngineClient(dockerHost, { connectTimeoutMs: 3_000, requestTimeoutMs: 30_000 });
}

/** The server's settings; its read model off (it makes engine calls of its own) unless `env` says. */
function serverConfig(dockerHost: string, env: Record<string, string> = {}) {
  return loadConfig({
    HOME: '/nonexistent',
    DOCKERGRAPH_AUDIT: 'off',
    DOCKER_HOST: dockerHost,
    HOST: '127.0.0.1',
    PORT: '0',
    DOCKERGRAPH_READ_MODEL: 'off',
    ...env,
  });
}

describe('startServer', () => {
  const log = captureLog('info');
  const calls: EngineCallRecord[] = [];
  let running: RunningServer | undefined;
  let url = '';

  beforeAll(async () => {
    const docker = dockerClient(inject('dockerHost'));
    docker.observe((call) => calls.push(call));
    running = await startServer(serverConfig(inject('dockerHost')), docker, log.logger);
    url = running.url;
  });

  afterAll(async () => {
    await running?.stop(0);
  });

  it('listens on the port it was given (0: a free one) on the configured host', () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Number(new URL(url).port)).toBeGreaterThan(0);
  });

  it('serves GraphiQL with the example query to a browser', async () => {
    const response = await fetch(`${url}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toContain('<title>dockergraph</title>');
    const operation = /query (\w+) \{/.exec(EXAMPLE_QUERY)?.[1];
    expect(operation).toBe('Overview');
    expect(html).toContain(`query ${operation}`);
    // The whole example, as GraphiQL receives it (a JSON string inside the page).
    expect(html).toContain(JSON.stringify(EXAMPLE_QUERY).slice(1, -1));
  });

  it('answers /healthz and /readyz with 200 while the engine is up', async () => {
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    await health.arrayBuffer();
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    await ready.arrayBuffer();
  });

  it('answers a POSTed query', async () => {
    const answer = await postJson<{ engine: { version: { apiVersion: string } } }>(
      `${url}/graphql`,
      body(ServerVersionQuery),
    );
    expect(answer.status).toBe(200);
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data?.engine.version.apiVersion).toBe('1.41');
  });

  it('refuses a batched (array) request without calling the engine', async () => {
    const before = calls.length;
    const answer = await postJson<unknown>(
      `${url}/graphql`,
      `[${body(ServerVersionQuery)},${body(ServerVersionQuery)}]`,
    );
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(
          /^batched requests \(a list of 2 operations\) are turned off/,
        ),
        extensions: expect.objectContaining({ code: 'BATCH_REFUSED' }),
      }),
    ]);
    expect(calls.length).toBe(before);
  });

  it('answers 404 for an unknown path', async () => {
    const response = await fetch(`${url}/nope`);
    expect(response.status).toBe(404);
    await response.arrayBuffer();
  });

  it('logs one JSON line per request: method, path, status, duration, operation, engine calls', async () => {
    const from = log.entries.length;
    const callsBefore = calls.length;
    const answer = await postJson<unknown>(`${url}/graphql`, body(ServerOverviewQuery));
    expect(answer.body.errors).toBeUndefined();
    const engineCalls = calls.length - callsBefore;
    const health = await fetch(`${url}/healthz`);
    await health.arrayBuffer();
    const missing = await fetch(`${url}/missing`);
    await missing.arrayBuffer();
    const batched = await postJson<unknown>(`${url}/graphql`, `[${body(ServerVersionQuery)}]`);
    expect(batched.status).toBe(400);

    await log.waitFor((entry) => entry.msg === 'request' && entry.status === 400, 5_000, from);
    const lines = log.entries.slice(from);
    expect(lines.every((entry) => entry.msg === 'request' && entry.level === 'info')).toBe(true);
    expect(lines.map(({ method, path, status }) => ({ method, path, status }))).toEqual([
      { method: 'POST', path: '/graphql', status: 200 },
      { method: 'GET', path: '/healthz', status: 200 },
      { method: 'GET', path: '/missing', status: 404 },
      { method: 'POST', path: '/graphql', status: 400 },
    ]);
    for (const entry of lines) {
      expect(entry.durationMs).toEqual(expect.any(Number));
      expect(entry.durationMs as number).toBeGreaterThanOrEqual(0);
      expect(new Date(String(entry.time)).getTime()).not.toBeNaN();
    }
    const [query] = lines;
    expect(query?.operationName).toBe('ServerOverview');
    // Exactly the calls the engine saw for this request (info, the container list).
    expect(engineCalls).toBeGreaterThanOrEqual(2);
    expect(query?.engineCalls).toBe(engineCalls);
    // No operation ran for the others.
    for (const entry of lines.slice(1)) {
      expect(entry.operationName).toBeUndefined();
      expect(entry.engineCalls).toBeUndefined();
    }
  });
});

describe('startServer: the read model, on by default', () => {
  const fixtures = new EngineFixtures();
  let running: RunningServer | undefined;

  afterAll(async () => {
    await running?.stop(0);
    await fixtures.cleanup();
  });

  it('answers lists from the model, and shows a container made beside it in the very next query', async () => {
    const config = loadConfig({
      HOME: '/nonexistent',
      DOCKERGRAPH_AUDIT: 'off',
      DOCKER_HOST: inject('dockerHost'),
      HOST: '127.0.0.1',
      PORT: '0',
    });
    expect(config.readModel).toBeNull();
    running = await startServer(config, dockerClient(inject('dockerHost')), captureLog().logger);
    const model = running.engines.list()[0]?.readModel;
    if (!model) throw new Error('the server started without a read model');
    await waitFor(() => model.warm, { timeoutMs: 60_000, what: 'the read model to be warm' });
    const served = model.counters.served;
    const name = fixtures.name('default-model');
    // Straight to the engine, as the docker CLI would; asked at once, its event may not be in.
    await fixtures.createContainer(name);
    const answer = await postJson<{ containers: { edges: { node: { name: string } }[] } }>(
      `${running.url}/graphql`,
      JSON.stringify({
        query: print(ServerLabelledQuery),
        variables: { labels: [`${TEST_LABEL}=${fixtures.run}`] },
      }),
    );
    expect(answer.body.data?.containers.edges.map((edge) => edge.node.name)).toEqual([name]);
    expect(model.counters.served).toBeGreaterThan(served);
  });
});

describe('startServer stop()', () => {
  let proxy: FaultProxy | undefined;
  let running: RunningServer | undefined;

  afterAll(async () => {
    await running?.stop(0);
    await proxy?.close();
  });

  it('lets an in-flight request finish, then refuses new connections', async () => {
    proxy = await startFaultProxy();
    const log = captureLog('info');
    running = await startServer(
      serverConfig(proxy.dockerHost),
      dockerClient(proxy.dockerHost),
      log.logger,
    );
    const { url } = running;
    const port = Number(new URL(url).port);
    const warm = await postJson<unknown>(`${url}/graphql`, body(ServerVersionQuery));
    expect(warm.body.errors).toBeUndefined();

    const DELAY_MS = 1_000;
    proxy.setMode({ kind: 'delay', ms: DELAY_MS });
    const mark = proxy.requestsSeen;
    const inFlight = postJson<{ engine: { version: { apiVersion: string } } }>(
      `${url}/graphql`,
      body(ServerVersionQuery),
    );
    // The request is in the server, waiting for the (delayed) engine.
    await proxy.waitForRequest(/\/version$/, { since: mark });
    const stopping = performance.now();
    const stop = running.stop(10_000).then(() => performance.now() - stopping);
    running = undefined;

    // No new connection is accepted once stop() was called...
    const socket = connect(port, '127.0.0.1');
    const [error] = (await once(socket, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');

    // ...but the request already in the server gets its whole answer.
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data?.engine.version.apiVersion).toBe('1.41');
    // It waited for that request (held DELAY_MS by the proxy), but not for the 10 s grace
    // period nor for the client to drop its keep-alive connection (4 s for fetch).
    const stopMs = await stop;
    expect(stopMs).toBeGreaterThanOrEqual(DELAY_MS - 100);
    expect(stopMs).toBeLessThan(DELAY_MS + 2_000);
    expect(log.entries.filter((entry) => entry.level === 'error')).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// `npm start`

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The private engine's settings, so the child uses this run's engine instance. */
function engineEnv(): Record<string, string | undefined> {
  return {
    DOCKERGRAPH_ENGINE_DIR: process.env.DOCKERGRAPH_ENGINE_DIR,
    DOCKERGRAPH_ENGINE_NETNS: process.env.DOCKERGRAPH_ENGINE_NETNS,
  };
}

describe('npm start', () => {
  const home = mkdtempSync(join(tmpdir(), 'dg-home-'));

  afterAll(async () => {
    await stopServerProcesses();
    rmSync(home, { recursive: true, force: true });
  });

  it('serves the engine named by DOCKER_HOST and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const child = startServerProcess({
      ...engineEnv(),
      HOME: home,
      DOCKER_HOST: inject('dockerHost'),
      PORT: String(port),
    });
    const listening = await child.waitForLine((l) => l.msg === 'dockergraph listening', 30_000);
    expect(listening.url).toBe(`http://127.0.0.1:${port}/graphql`);
    expect(listening.engine).toBe(`${inject('dockerHost')} from DOCKER_HOST`);

    const answer = await postJson<{ engine: { version: { apiVersion: string } } }>(
      String(listening.url),
      body(ServerVersionQuery),
    );
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data?.engine.version.apiVersion).toBe('1.41');
    await child.waitForLine(
      (l) => l.msg === 'request' && l.operationName === 'ServerEngineVersion',
      5_000,
    );

    child.process.kill('SIGTERM');
    const exit = await child.waitForExit(15_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(child.lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining(['shutting down', 'stopped']),
    );
    expect(child.lines.find((l) => l.msg === 'shutting down')?.signal).toBe('SIGTERM');
    expect(child.lines.at(-1)?.msg).toBe('stopped');
    expect(child.stderr()).toBe('');
  });

  it('with no engine configured or found, uses the private engine', async () => {
    const port = await freePort();
    const child = startServerProcess({ ...engineEnv(), HOME: home, PORT: String(port) });
    const listening = await child.waitForLine((l) => l.msg === 'dockergraph listening', 120_000);
    if (existsSync('/var/run/docker.sock')) {
      // A machine with a default engine uses it, and says so.
      expect(listening.engine).toBe('unix:///var/run/docker.sock from default');
    } else {
      const privateHost = await engineDockerHost();
      expect(child.lines.map((l) => l.msg)).toEqual([
        'no Docker engine configured or found: starting the private engine (scripts/engine.sh)',
        'private engine already running',
        'dockergraph listening',
      ]);
      expect(child.lines[0]?.socket).toBe('/var/run/docker.sock');
      expect(child.lines[1]?.dockerHost).toBe(privateHost);
      expect(listening.engine).toBe(`${privateHost} (private engine, scripts/engine.sh)`);
      expect(dockerSocketPath(privateHost)).toBe(dockerSocketPath(inject('dockerHost')));
    }
    const answer = await postJson<{ engine: { version: { apiVersion: string } } }>(
      String(listening.url),
      body(ServerVersionQuery),
    );
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data?.engine.version.apiVersion).toBe('1.41');

    child.process.kill('SIGTERM');
    expect(await child.waitForExit(15_000)).toEqual({ code: 0, signal: null });
    // It found the engine running, so it leaves it running.
    expect(await engineStatus()).toBe('running');
  });

  it('exits non-zero naming PORT when PORT is not a number', async () => {
    const child = startServerProcess({
      HOME: home,
      DOCKER_HOST: inject('dockerHost'),
      PORT: 'abc',
    });
    const exit = await child.waitForExit(30_000);
    expect(exit.code).not.toBe(0);
    expect(exit.code).toBe(1);
    expect(child.stderr()).toContain('PORT must be an integer from 0 to 65535, got "abc"');
    expect(child.lines.filter((l) => l.msg === 'dockergraph listening')).toEqual([]);
  });
});
