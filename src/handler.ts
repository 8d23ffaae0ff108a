import { type App, createApp } from './app.ts';
import { type Config, loadConfig } from './config.ts';
import { createDockerClient } from './docker/create-docker-client.ts';
import type { EngineEndpoint } from './docker/docker-host.ts';
import { createFetchTransport, type EngineFetch } from './docker/fetch-transport.ts';
import type { Transport, TransportOptions } from './docker/transport.ts';
import { errorResponse } from './error-response.ts';
import { createLogger } from './logger.ts';

/** Why the handler answers nothing without tokens: it cannot know who reaches it. */
const NO_TOKENS_MESSAGE =
  'dockergraph refuses to serve without authentication: a fetch handler is reachable by whoever can reach its runtime, and would give them control of Docker. Configure tokens (DOCKERGRAPH_TOKENS_FILE or DOCKERGRAPH_TOKENS; "npm run token" makes one)';

/** A WHATWG fetch handler: `export default { fetch }`. */
export interface FetchHandler {
  fetch(request: Request): Promise<Response>;
}

/** What the runtime hosting the handler provides beyond the configuration. */
export interface HandlerRuntime {
  /**
   * The `fetch` to reach the engine with under the fetch transport: a Workers mTLS
   * certificate binding's, which presents the client certificate.
   */
  readonly engineFetch?: EngineFetch | undefined;
  /** Where log lines go: stdout at once unless told (a long-running server writes per turn). */
  readonly writeLogLine?: ((line: string) => void) | undefined;
}

/** True on Cloudflare Workers (workerd), which has neither sockets for undici nor unix sockets. */
function isWorkers(): boolean {
  return globalThis.navigator?.userAgent === 'Cloudflare-Workers';
}

/** The fetch transport when configured or detected; undefined leaves undici's pool. */
function chooseTransport(
  config: Config,
  endpoint: EngineEndpoint,
  options: TransportOptions,
  runtime: HandlerRuntime,
): Transport | undefined {
  const kind = config.engineTransport;
  const useFetch =
    kind === 'fetch' || (kind === 'auto' && (runtime.engineFetch !== undefined || isWorkers()));
  return useFetch ? createFetchTransport(endpoint, options, runtime.engineFetch) : undefined;
}

/**
 * Makes a fetch handler for serverless and edge runtimes that speak the WHATWG
 * `Request`/`Response` API (Node adapters, Deno, Bun, Workers, Lambda through
 * src/targets/lambda.ts). The app is built on the
 * first request, so that a cold start costs nothing until one comes. It needs
 * tokens: without them every request is answered 503, saying so.
 */
export function createFetchHandler(
  readConfig: () => Config = loadConfig,
  runtime: HandlerRuntime = {},
): FetchHandler {
  let app: App | 'unsafe' | undefined;
  const getApp = (): App | 'unsafe' => {
    if (app) return app;
    const config = readConfig();
    const logger = createLogger(config.logLevel, runtime.writeLogLine);
    if (config.security.tokens.length === 0) {
      logger.error(NO_TOKENS_MESSAGE);
      app = 'unsafe';
      return app;
    }
    // Workers end a request's subrequests when its client goes away: a read shared with other
    // requests would fail for them too, so each request reads alone there.
    const docker = createDockerClient(
      { ...config, sharedReads: config.sharedReads && !isWorkers() },
      (endpoint, options) => chooseTransport(config, endpoint, options, runtime),
    );
    app = createApp(config, { docker, logger });
    return app;
  };
  return {
    fetch(request) {
      const current = getApp();
      if (current !== 'unsafe') return Promise.resolve(current.fetch(request));
      return Promise.resolve(
        errorResponse(503, 'AUTHENTICATION_NOT_CONFIGURED', NO_TOKENS_MESSAGE),
      );
    },
  };
}

const handler = createFetchHandler();

/** The handler over the configuration of `process.env`. */
export const fetch = (request: Request): Promise<Response> => handler.fetch(request);

export default handler;
