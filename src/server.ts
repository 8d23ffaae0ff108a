import { existsSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { createApp } from './app.ts';
import { type Config, loadConfig } from './config.ts';
import { DockerClient } from './docker/client.ts';
import {
  describeEndpoint,
  type ResolvedEndpoint,
  resolveDockerEndpoint,
} from './docker/docker-host.ts';
import { type EmbeddedEngine, startEmbeddedEngine } from './docker/embedded-engine.ts';
import { createLogger, type Logger } from './logger.ts';

/** A running dockergraph server. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:4000`. */
  readonly url: string;
  readonly server: Server;
  /** Stops accepting requests, lets running ones finish (up to `graceMs`), closes the engine pool. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts the HTTP server for one engine client. */
export async function startServer(
  config: Config,
  docker: DockerClient,
  logger: Logger,
): Promise<RunningServer> {
  const app = createApp(config, { docker, logger });
  // Once stopping, answers close their connection instead of keeping it alive: stop() then
  // ends as soon as the requests under way are answered, not when clients drop idle sockets.
  let stopping = false;
  const answering = new Set<ServerResponse>();
  const server = createServer((request, response) => {
    if (stopping) response.setHeader('connection', 'close');
    answering.add(response);
    response.once('close', () => answering.delete(response));
    void app(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    server,
    async stop(graceMs = 10_000) {
      stopping = true;
      for (const response of answering) {
        if (!response.headersSent) response.setHeader('connection', 'close');
      }
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
      await docker.close();
    },
  };
}

/**
 * Finds the engine as the docker CLI would (DOCKER_HOST, contexts, the default
 * socket); with none there, starts the project's private engine.
 */
async function connectEngine(
  config: Config,
  logger: Logger,
): Promise<{ endpoint: ResolvedEndpoint; embedded: EmbeddedEngine | null }> {
  const endpoint = resolveDockerEndpoint(config.docker);
  const nothingConfigured =
    endpoint.source === 'default' && endpoint.kind === 'unix' && !existsSync(endpoint.socketPath);
  if (!nothingConfigured || !config.embeddedEngine) return { endpoint, embedded: null };
  logger.info(
    'no Docker engine configured or found: starting the private engine (scripts/engine.sh)',
    {
      socket: endpoint.kind === 'unix' ? endpoint.socketPath : undefined,
    },
  );
  const embedded = await startEmbeddedEngine();
  const privateEndpoint = resolveDockerEndpoint({
    ...config.docker,
    dockerHost: embedded.dockerHost,
  });
  logger.info(embedded.startedHere ? 'private engine started' : 'private engine already running', {
    dockerHost: embedded.dockerHost,
  });
  return { endpoint: privateEndpoint, embedded };
}

/** `npm start`: reads the configuration, serves until SIGTERM or SIGINT. */
export async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const { endpoint, embedded } = await connectEngine(config, logger);
  const docker = DockerClient.create(endpoint, {
    connectTimeoutMs: config.engineConnectTimeoutMs,
    requestTimeoutMs: config.engineRequestTimeoutMs,
  });
  const running = await startServer(config, docker, logger);
  logger.info('dockergraph listening', {
    url: `${running.url}/graphql`,
    // The private engine's endpoint is resolved as a DOCKER_HOST, but no DOCKER_HOST was set.
    engine: embedded
      ? `${embedded.dockerHost} (private engine, scripts/engine.sh)`
      : describeEndpoint(endpoint),
  });
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    await running.stop();
    if (embedded?.startedHere) await embedded.stop();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `dockergraph: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  });
}
