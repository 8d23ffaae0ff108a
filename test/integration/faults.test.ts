// What clients see when the engine is slow, refuses connections or drops them, through a
// fault-injecting TCP proxy in front of the private engine (also the plain-TCP transport path).
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { print } from 'graphql';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createDockerClient } from '../../src/docker/create-docker-client.ts';
import { readEngineInfo } from '../../src/docker/system.ts';
import { type RunningServer, startServer } from '../../src/server.ts';
import { graphql } from '../generated/gql.ts';
import { createTestApp, type GraphQLResponse, type TestApp } from '../helpers/app.ts';
import { dockerSocketPath } from '../helpers/engine.ts';
import { createEngineClient } from '../helpers/engine-client.ts';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.ts';
import { captureLog } from '../helpers/log-capture.ts';

const VersionQuery = graphql(`
  query FaultEngineVersion {
    engine { version { version apiVersion } }
  }
`);

const LabelledCountQuery = graphql(`
  query FaultLabelledCount($labels: [String!]!) {
    containers(filter: { labels: $labels }) { totalCount }
  }
`);

/** How long the impatient app waits for the engine's answer headers. */
const REQUEST_TIMEOUT_MS = 1_000;

describe('engine faults', () => {
  let proxy: FaultProxy;
  /** Over the proxy, with short timeouts. */
  let impatient: TestApp;
  /** Over the proxy, with the default 30 s timeout: only a client abort ends its calls early. */
  let patient: TestApp;
  let server: RunningServer | undefined;

  /** Everything that would tell a client where the engine is. */
  function addressParts(): string[] {
    return [
      '127.0.0.1',
      String(proxy.port),
      'tcp://',
      'unix:',
      dockerSocketPath(inject('dockerHost')),
      'docker.sock',
    ];
  }

  function expectNoAddress(message: string) {
    for (const part of addressParts()) expect(message).not.toContain(part);
  }

  beforeAll(async () => {
    proxy = await startFaultProxy();
    impatient = createTestApp({
      DOCKER_HOST: proxy.dockerHost,
      DOCKERGRAPH_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      DOCKERGRAPH_CONNECT_TIMEOUT_MS: '1000',
    });
    patient = createTestApp({ DOCKER_HOST: proxy.dockerHost });
  });

  afterEach(() => {
    proxy.setMode({ kind: 'pass' });
  });

  afterAll(async () => {
    await server?.stop(0);
    await impatient?.close();
    await patient?.close();
    await proxy?.close();
  });

  it('reaches the engine over plain TCP through the proxy', async () => {
    const before = proxy.connectionsOpened;
    const calls = await impatient.callsDuring(async () => {
      const { engine } = await impatient.query(VersionQuery);
      expect(engine.version.apiVersion).toBe('1.41');
    });
    expect(calls).toEqual(['HEAD /_ping', 'GET /version']);
    expect(proxy.connectionsOpened).toBeGreaterThan(before);
    const onTheWire = proxy.connections.flatMap((c) => c.requests);
    expect(onTheWire).toContain('GET /v1.41/version');
    // Negotiation needs only the ping's headers: HEAD, without the body GET would send.
    expect(onTheWire).toContain('HEAD /_ping');
    expect(onTheWire).not.toContain('GET /_ping');
  });

  it('answers ENGINE_TIMEOUT, without the address, when the engine is slower than the timeout', async () => {
    await impatient.query(VersionQuery);
    proxy.setMode({ kind: 'delay', ms: REQUEST_TIMEOUT_MS * 4 });
    const started = performance.now();
    // Set when the proxy's slow answer comes due: the timeout must answer before it.
    let slowAnswerDue = false;
    const due = setTimeout(() => {
      slowAnswerDue = true;
    }, REQUEST_TIMEOUT_MS * 4);
    const result = await impatient.execute(VersionQuery);
    clearTimeout(due);
    const elapsed = performance.now() - started;
    expect(result.data).toBeNull();
    expect(result.errors).toHaveLength(1);
    const [error] = result.errors ?? [];
    expect(error?.extensions?.code).toBe('ENGINE_TIMEOUT');
    expect(error?.message).toMatch(/did not answer in time/);
    expectNoAddress(error?.message ?? '');
    // It gave up at the timeout, not when the slow answer finally came.
    expect(elapsed).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    expect(slowAnswerDue).toBe(false);
  });

  it('answers ENGINE_UNAVAILABLE when connections are refused, stays healthy but not ready, and recovers', async () => {
    await impatient.query(VersionQuery);
    proxy.setMode({ kind: 'refuse' });
    proxy.cutAll();
    const before = proxy.connectionsOpened;

    // A query sent in the instant of the cut may still pick a pooled connection the app has not
    // yet seen closed; that fails the same way. Go on until one needed a new (refused) connection.
    for (let attempt = 1; proxy.connectionsOpened === before; attempt++) {
      expect(attempt).toBeLessThanOrEqual(5);
      const result = await impatient.execute(VersionQuery);
      expect(result.data).toBeNull();
      const [error] = result.errors ?? [];
      expect(error?.extensions?.code).toBe('ENGINE_UNAVAILABLE');
      expectNoAddress(error?.message ?? '');
    }
    // Once refused, every further query tries a new connection and is refused as well.
    const opened = proxy.connectionsOpened;
    const result = await impatient.execute(VersionQuery);
    expect(result.errors?.[0]?.extensions?.code).toBe('ENGINE_UNAVAILABLE');
    expect(result.errors?.[0]?.message).toMatch(/the Docker engine is unavailable$/);
    expect(proxy.connectionsOpened).toBeGreaterThan(opened);

    const health = await impatient.app.fetch('http://dockergraph.test/healthz');
    expect(health.status).toBe(200);
    const ready = await impatient.app.fetch('http://dockergraph.test/readyz');
    expect(ready.status).toBe(503);
    expectNoAddress(await ready.text());

    proxy.setMode({ kind: 'pass' });
    const { engine } = await impatient.query(VersionQuery);
    expect(engine.version.apiVersion).toBe('1.41');
    const readyAgain = await impatient.app.fetch('http://dockergraph.test/readyz');
    expect(readyAgain.status).toBe(200);
  });

  it('sends a read once more when the engine dropped the pooled connection it went out on', async () => {
    await impatient.query(VersionQuery);
    const before = proxy.connectionsOpened;
    // The engine closes idle keep-alive connections (or restarts): the pool still holds them.
    proxy.cutAll();
    const data = await impatient.query(VersionQuery);
    expect(data.engine.version.apiVersion).toBe('1.41');
    expect(proxy.connectionsOpened).toBeGreaterThan(before);
  });

  it('answers ENGINE_UNAVAILABLE when the engine drops a read twice in a row, then recovers', async () => {
    await impatient.query(VersionQuery);
    const token = randomUUID();
    proxy.setMode({ kind: 'delay', ms: REQUEST_TIMEOUT_MS * 4 });
    const pending = impatient.execute(LabelledCountQuery, { labels: [`dockergraph.cut=${token}`] });
    const first = await proxy.waitForRequest(new RegExp(token));
    const seen = proxy.requestsSeen;
    proxy.cutAll();
    // The client sends the read once more, on a new connection; that one is cut too.
    const retry = await proxy.waitForRequest(new RegExp(token), { since: seen });
    expect(retry.id).not.toBe(first.id);
    proxy.cutAll();
    const result = await pending;
    const [error] = result.errors ?? [];
    expect(error?.extensions?.code).toBe('ENGINE_UNAVAILABLE');
    expectNoAddress(error?.message ?? '');

    proxy.setMode({ kind: 'pass' });
    const data = await impatient.query(LabelledCountQuery, {
      labels: [`dockergraph.cut=${token}`],
    });
    expect(data.containers.totalCount).toBe(0);
  });

  it('cancels the engine call when the client aborts its request (fetch AbortController)', async () => {
    await patient.query(VersionQuery);
    const token = randomUUID();
    proxy.setMode({ kind: 'delay', ms: 10_000 });
    const controller = new AbortController();
    const pending = Promise.resolve(
      patient.app.fetch('http://dockergraph.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: print(LabelledCountQuery),
          variables: { labels: [`dockergraph.abort=${token}`] },
        }),
        signal: controller.signal,
      }),
    ).then(
      () => 'answered',
      () => 'rejected',
    );
    const connection = await proxy.waitForRequest(new RegExp(token));
    expect(connection.closed).toBeNull();
    controller.abort();
    // Well before the delayed answer (10 s) or the request timeout (30 s).
    await proxy.waitForClose(connection, 3_000);
    expect(connection.closed).toEqual({ byClient: true, awaitingAnswer: true });
    await pending;
  });

  it('cancels the engine call when an HTTP client disconnects from a running server', async () => {
    const config = loadConfig({
      HOME: '/nonexistent',
      DOCKERGRAPH_AUDIT: 'off',
      DOCKER_HOST: proxy.dockerHost,
      PORT: '0',
      LOG_LEVEL: 'silent',
    });
    const docker = createDockerClient(config);
    const log = captureLog('info');
    server = await startServer(config, docker, log.logger);
    const url = `${server.url}/graphql`;
    const post = (labels: string[]) => {
      const request = httpRequest(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
      });
      request.end(JSON.stringify({ query: print(LabelledCountQuery), variables: { labels } }));
      return request;
    };

    // Warm up: negotiate the version so that the next call is the list itself.
    const warm = post(['dockergraph.warm=1']);
    const answer = await new Promise<GraphQLResponse<unknown>>((resolve, reject) => {
      warm.on('response', (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => {
          body += chunk.toString('utf8');
        });
        response.on('end', () => resolve(JSON.parse(body) as GraphQLResponse<unknown>));
      });
      warm.on('error', reject);
    });
    expect(answer.errors).toBeUndefined();

    const token = randomUUID();
    proxy.setMode({ kind: 'delay', ms: 10_000 });
    const request = post([`dockergraph.disconnect=${token}`]);
    request.on('error', () => {});
    const connection = await proxy.waitForRequest(new RegExp(token));
    const logged = log.entries.length;
    request.destroy();
    await proxy.waitForClose(connection, 3_000);
    expect(connection.closed).toEqual({ byClient: true, awaitingAnswer: true });
    // The server finishes the request and logs it; a client going away is no server error.
    await log.waitFor((entry) => entry.msg === 'request', 5_000, logged);
    expect(log.entries.filter((entry) => entry.level === 'error')).toEqual([]);
  });
});

describe('API version negotiation', () => {
  it('is not failed for every caller by the first caller leaving while it runs', async () => {
    // A fresh client negotiates once, for all its callers: the request that happened to
    // ask first must not cancel it with its own abort, or every request waiting on the
    // negotiation (other clients', the event hub's) failed with that abort.
    const client = createEngineClient(inject('dockerHost'));
    const first = new AbortController();
    const leaving = readEngineInfo(client.withSignal(first.signal));
    const staying = readEngineInfo(client.withSignal(new AbortController().signal));
    first.abort();
    await expect(leaving).rejects.toThrow(/abort/i);
    expect((await staying).ID).toMatch(/\S/);
  });
});
