// A started server over the private test engine and a graphql-ws client of it: how the
// subscription tests meet the app, as a dashboard would.
import { type Client, createClient } from 'graphql-ws';
import { inject } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config.ts';
import type { DockerClient } from '../../src/docker/client.ts';
import { createDockerClient } from '../../src/docker/create-docker-client.ts';
import { createLogger } from '../../src/logger.ts';
import { type RunningServer, startServer } from '../../src/server.ts';
import type { EngineCallRecorder } from './app.ts';
import { webSocketUrl } from './graphql-ws.ts';

export interface LiveServer extends EngineCallRecorder {
  readonly server: RunningServer;
  /** The server's engine client: `observe` it to see the engine calls the server makes. */
  readonly docker: DockerClient;
  /** A graphql-ws client of the server that does not retry. */
  readonly client: Client;
  /** Disposes the client, then stops the server. */
  close(): Promise<void>;
}

/** How a live server is configured and how its client presents itself. */
export interface LiveServerOptions {
  /** Environment overrides for the server's configuration (tokens, read-only...). */
  readonly env?: Record<string, string | undefined>;
  /** Sent as `{"authorization": "Bearer <token>"}` in the client's connection_init payload. */
  readonly token?: string;
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
    ...options.env,
  });
  const docker = createDockerClient(config);
  const server = await startServer(config, docker, createLogger('silent'));
  const client = createClient({
    url: webSocketUrl(server.url),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    ...(options.token ? { connectionParams: { authorization: `Bearer ${options.token}` } } : {}),
  });
  return {
    server,
    docker,
    client,
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
      await client.dispose();
      await server.stop(0);
    },
  };
}
