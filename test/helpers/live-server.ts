// A started server over the private test engine and a graphql-ws client of it: how the
// subscription tests meet the app, as a dashboard would.
import { createClient as createSseClient, type Client as SseClient } from 'graphql-sse';
import { type Client, createClient } from 'graphql-ws';
import { afterAll, beforeAll, inject } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config.ts';
import type { DockerClient } from '../../src/docker/client.ts';
import { createDockerClient } from '../../src/docker/create-docker-client.ts';
import { createLogger, type Logger } from '../../src/logger.ts';
import { type RunningServer, startServer } from '../../src/server.ts';
import type { EngineCallRecorder } from './app.ts';
import { clientWithToken, webSocketUrl } from './graphql-ws.ts';

/** How a subscriber reaches the server. */
export type Transport = 'websocket' | 'sse';

/** A GraphQL request as both graphql-ws and graphql-sse send it. */
export interface SubscriptionRequest {
  readonly query: string;
  readonly variables?: Record<string, unknown>;
  readonly operationName?: string;
}

export interface LiveServer extends EngineCallRecorder {
  readonly server: RunningServer;
  /** The server's engine client: `observe` it to see the engine calls the server makes. */
  readonly docker: DockerClient;
  /** A graphql-ws client of the server that does not retry. */
  readonly client: Client;
  /**
   * The results of `request` sent with `token` over a new client of `transport` (no retries),
   * which `close` disposes.
   */
  iterateWithToken<T>(
    transport: Transport,
    token: string,
    request: SubscriptionRequest,
  ): AsyncIterableIterator<{ data?: T | null | undefined; errors?: unknown }>;
  /** Disposes the clients, then stops the server. */
  close(): Promise<void>;
}

/** How a live server is configured and how its client presents itself. */
export interface LiveServerOptions {
  /** Environment overrides for the server's configuration (tokens, read-only...). */
  readonly env?: Record<string, string | undefined>;
  /** Sent as `{"authorization": "Bearer <token>"}` in the client's connection_init payload. */
  readonly token?: string;
  /** Where the server logs (silent unless given). */
  readonly logger?: Logger;
}

/** Starts a server on a free port over `dockerHost` (the test engine by default). */
export async function startLiveServer(
  dockerHost = inject('dockerHost'),
  options: LiveServerOptions = {},
): Promise<LiveServer> {
  const config = loadConfig({
    HOME: '/nonexistent',
    DOCKER_HOST: dockerHost,
    HOST: '127.0.0.1',
    PORT: '0',
    DOCKERGRAPH_AUDIT: 'off',
    // The server's default read model makes engine calls of its own and holds the event
    // upstream open: tests of the pipeline and of the hub count both. Tests of the model,
    // and the browser's, turn it on.
    DOCKERGRAPH_READ_MODEL: 'off',
    ...options.env,
  });
  const docker = createDockerClient(config);
  const server = await startServer(config, docker, options.logger ?? createLogger('silent'));
  const client = createClient({
    url: webSocketUrl(server.url),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    ...(options.token ? { connectionParams: { authorization: `Bearer ${options.token}` } } : {}),
  });
  const tokenClients: (Client | SseClient)[] = [];
  return {
    server,
    docker,
    client,
    iterateWithToken<T>(transport: Transport, token: string, request: SubscriptionRequest) {
      if (transport === 'websocket') {
        const tokenClient = clientWithToken(server.url, token);
        tokenClients.push(tokenClient);
        return tokenClient.iterate<T>(request);
      }
      const tokenClient = createSseClient({
        url: `${server.url}/graphql`,
        retryAttempts: 0,
        headers: { authorization: `Bearer ${token}` },
      });
      tokenClients.push(tokenClient);
      return tokenClient.iterate<T>(request);
    },
    async callsDuring(run) {
      const calls: string[] = [];
      const stop = docker.observe((call) => calls.push(`${call.method} ${call.path}`));
      try {
        await run();
      } finally {
        stop();
      }
      return calls;
    },
    async close() {
      for (const tokenClient of tokenClients) await tokenClient.dispose();
      await client.dispose();
      await server.stop(0);
    },
  };
}

/**
 * Starts a live server over the test engine before the enclosing suite's tests and closes it
 * after them, then runs `release` (the suite's fixtures) even when the close failed. Returns
 * the server, which the tests read once it has started.
 */
export function useLiveServer(
  options: LiveServerOptions = {},
  release: () => Promise<void> = async () => undefined,
): () => LiveServer {
  let live: LiveServer | undefined;
  beforeAll(async () => {
    live = await startLiveServer(undefined, options);
  });
  afterAll(async () => {
    try {
      await live?.close();
    } finally {
      await release();
    }
  });
  return () => {
    if (!live) throw new Error('the live server has not started');
    return live;
  };
}
