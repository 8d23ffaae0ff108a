import { type App, createApp } from './app.ts';
import { loadConfig } from './config.ts';
import { DockerClient } from './docker/client.ts';
import { resolveDockerEndpoint } from './docker/docker-host.ts';
import { createLogger } from './logger.ts';

let app: App | undefined;

/** Builds the app on first use, so that a cold start costs nothing until a request comes. */
function getApp(): App {
  if (!app) {
    const config = loadConfig();
    const docker = DockerClient.create(resolveDockerEndpoint(config.docker), {
      connectTimeoutMs: config.engineConnectTimeoutMs,
      requestTimeoutMs: config.engineRequestTimeoutMs,
    });
    app = createApp(config, { docker, logger: createLogger(config.logLevel) });
  }
  return app;
}

/**
 * A fetch handler for serverless and edge runtimes that speak the WHATWG
 * `Request`/`Response` API (Node adapters, Deno, Bun): `export default { fetch }`.
 */
export function fetch(request: Request): Promise<Response> {
  return Promise.resolve(getApp().fetch(request));
}

export default { fetch };
