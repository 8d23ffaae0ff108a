/**
 * Cloudflare Workers (workerd) entry (dist/workers/worker.mjs), with the
 * `nodejs_compat` flag. Workers have no unix sockets and no raw sockets for undici:
 * the engine is reached through the fetch transport (src/docker/fetch-transport.ts),
 * at DOCKER_HOST over TCP. A client certificate for mutual TLS cannot be given to
 * `fetch`: bind an mTLS certificate as `DOCKER_ENGINE` (wrangler: `mtls_certificates`),
 * and its `fetch` carries it. Configuration comes from the Worker's text bindings
 * (vars and secrets), named as the environment variables elsewhere.
 */
import { loadConfig } from '../config.ts';
import { createFetchHandler, type FetchHandler } from '../handler.ts';

/** The Worker's bindings: text settings, and the optional engine fetcher. */
type WorkerEnvironment = Record<string, unknown> & {
  readonly DOCKER_ENGINE?: { fetch(request: Request): Promise<Response> };
};

let handler: FetchHandler | undefined;

function settingsOf(env: WorkerEnvironment): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (typeof value === 'string') settings[name] = value;
  }
  return settings;
}

export default {
  fetch(request: Request, env: WorkerEnvironment): Promise<Response> {
    if (handler === undefined) {
      const engine = env.DOCKER_ENGINE;
      // There is no home folder for Docker contexts in a Worker.
      const settings = { HOME: '/', ...settingsOf(env) };
      handler = createFetchHandler(() => loadConfig(settings), {
        engineFetch: engine === undefined ? undefined : (input) => engine.fetch(input),
      });
    }
    return handler.fetch(request);
  },
};
