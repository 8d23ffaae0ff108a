// A started server over the private test engine and a graphql-ws client of it: how the
// subscription tests meet the app, as a dashboard would.
import { type Client, createClient } from 'graphql-ws';
import { inject } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config.ts';
import { DockerClient } from '../../src/docker/client.ts';
import { resolveDockerEndpoint } from '../../src/docker/docker-host.ts';
import { createLogger } from '../../src/logger.ts';
import { type RunningServer, startServer } from '../../src/server.ts';

export interface LiveServer {
  readonly server: RunningServer;
  /** A graphql-ws client of the server that does not retry. */
  readonly client: Client;
  /** Disposes the client, then stops the server. */
  close(): Promise<void>;
}

/** Starts a server on a free port over `dockerHost` (the test engine by default). */
export async function startLiveServer(dockerHost = inject('dockerHost')): Promise<LiveServer> {
  const config = loadConfig({
    HOME: '/nonexistent',
    DOCKER_HOST: dockerHost,
    HOST: '127.0.0.1',
    PORT: '0',
  });
  const docker = DockerClient.create(resolveDockerEndpoint(config.docker), {
    connectTimeoutMs: config.engineConnectTimeoutMs,
    requestTimeoutMs: config.engineRequestTimeoutMs,
  });
  const server = await startServer(config, docker, createLogger('silent'));
  const client = createClient({
    url: `${server.url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
  });
  return {
    server,
    client,
    async close() {
      await client.dispose();
      await server.stop(0);
    },
  };
}
