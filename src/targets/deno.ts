/**
 * The fetch handler on `Deno.serve` (dist/deno/main.mjs):
 * `deno run --allow-net --allow-env --allow-read --allow-sys --unstable-no-legacy-abort main.mjs`
 * (the last flag: request.signal aborts only when a client goes away, not after each response,
 * and Deno 2.9 prints no notice about it). undici and unix sockets work in Deno through its
 * Node compatibility, so the engine is reached as in Node.
 */
import { loadConfig } from '../config.ts';
import { createFetchHandler } from '../handler.ts';

/** The part of Deno's global this target uses (the bundle is built without Deno's types). */
interface DenoServe {
  serve(
    options: {
      hostname: string;
      port: number;
      onListen(address: { hostname: string; port: number }): void;
    },
    handler: (request: Request) => Promise<Response>,
  ): unknown;
}

const deno = (globalThis as unknown as { Deno?: DenoServe }).Deno;
if (deno === undefined) throw new Error('dist/deno/main.mjs runs in Deno (deno run main.mjs)');
const config = loadConfig();
const handler = createFetchHandler(() => config);
deno.serve(
  {
    hostname: config.host,
    port: config.port,
    onListen({ hostname, port }) {
      const host = hostname.includes(':') ? `[${hostname}]` : hostname;
      console.log(`dockergraph listening on http://${host}:${port}/graphql`);
    },
  },
  (request) => handler.fetch(request),
);
