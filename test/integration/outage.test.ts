// "Engine down: queries return the 'engine unavailable' error within the timeout and the server
// keeps serving /healthz; it recovers by itself when the engine comes back." Tested by stopping
// and starting a private engine under a running server: an engine of this file's own, so that
// the engine every other test (or a developer's `npm start`) uses is never stopped.
import { rmSync } from 'node:fs';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createDockerClient } from '../../src/docker/create-docker-client.ts';
import { createLogger } from '../../src/logger.ts';
import { type RunningServer, startServer } from '../../src/server.ts';
import { graphql } from '../generated/gql.ts';
import type { GraphQLResponse } from '../helpers/app.ts';
import {
  dockerSocketPath,
  type EngineInstance,
  engineStatus,
  startEngine,
  stopEngine,
} from '../helpers/engine.ts';

const instance: EngineInstance = { dir: '/tmp/dockergraph-outage', netns: 'dgoutage' };

const OutageQuery = graphql(`
  query OutageOverview {
    engine { version { version apiVersion } }
    containers(first: 1) { totalCount }
  }
`);

const CONNECT_TIMEOUT_MS = 2_000;

describe('engine outage and recovery', () => {
  let server: RunningServer | undefined;
  let url = '';
  let dockerHost = '';

  async function post(): Promise<{ status: number; body: GraphQLResponse<unknown> }> {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: print(OutageQuery) }),
    });
    return { status: response.status, body: (await response.json()) as GraphQLResponse<unknown> };
  }

  async function status(path: string): Promise<number> {
    const response = await fetch(`${url}${path}`);
    await response.arrayBuffer();
    return response.status;
  }

  beforeAll(async () => {
    ({ dockerHost } = await startEngine(instance));
    const config = loadConfig({
      HOME: '/nonexistent',
      DOCKERGRAPH_AUDIT: 'off',
      DOCKER_HOST: dockerHost,
      HOST: '127.0.0.1',
      PORT: '0',
      DOCKERGRAPH_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
    });
    const docker = createDockerClient(config);
    server = await startServer(config, docker, createLogger('silent'));
    url = server.url;
  });

  afterAll(async () => {
    try {
      await server?.stop(0);
    } finally {
      await stopEngine(instance);
      rmSync(instance.dir, { recursive: true, force: true });
    }
  });

  it('answers ENGINE_UNAVAILABLE promptly while the engine is down, stays healthy, and recovers without a restart', async () => {
    const before = await post();
    expect(before.status).toBe(200);
    expect(before.body.errors).toBeUndefined();
    expect(before.body.data).toMatchObject({ engine: { version: { apiVersion: '1.41' } } });

    await stopEngine(instance);
    expect(await engineStatus(instance)).toBe('stopped');

    // The connect timeout (CONNECT_TIMEOUT_MS) bounds the wait; no wall-clock check here.
    const down = await post();
    // A field error under a non-null field: HTTP 200, data null, the engine's error.
    expect(down.status).toBe(200);
    expect(down.body.data).toBeNull();
    expect(down.body.errors?.length).toBeGreaterThan(0);
    for (const error of down.body.errors ?? []) {
      expect(error.extensions?.code).toBe('ENGINE_UNAVAILABLE');
      expect(error.message).toMatch(/the Docker engine is unavailable/);
      expect(error.message).not.toContain(dockerSocketPath(dockerHost));
    }
    expect(await status('/healthz')).toBe(200);
    expect(await status('/readyz')).toBe(503);

    await startEngine(instance);
    // Ready again as soon as the engine answers; bounded, polling the server itself.
    const deadline = performance.now() + 30_000;
    let ready = await status('/readyz');
    while (ready !== 200 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      ready = await status('/readyz');
    }
    expect(ready).toBe(200);

    const after = await post();
    expect(after.status).toBe(200);
    expect(after.body.errors).toBeUndefined();
    expect(after.body.data).toMatchObject({ engine: { version: { apiVersion: '1.41' } } });
  });
});
