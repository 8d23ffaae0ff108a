/**
 * The fetch handler on `Bun.serve` (dist/bun/main.mjs): `bun main.mjs`. undici and unix
 * sockets work in Bun through its Node compatibility, so the engine is reached as in Node.
 */
import { loadConfig } from '../config.ts';
import { createFetchHandler } from '../handler.ts';

/** The part of Bun's global this target uses (the bundle is built without Bun's types). */
interface BunServe {
  serve(options: {
    hostname: string;
    port: number;
    /** Seconds a connection may idle; 0 keeps quiet SSE subscriptions open. */
    idleTimeout: number;
    fetch(request: Request): Promise<Response>;
  }): { hostname: string; port: number };
}

const bun = (globalThis as unknown as { Bun?: BunServe }).Bun;
if (bun === undefined) throw new Error('dist/bun/main.mjs runs in Bun (bun main.mjs)');
const config = loadConfig();
const handler = createFetchHandler(() => config);
const server = bun.serve({
  hostname: config.host,
  port: config.port,
  idleTimeout: 0,
  fetch: (request) => handler.fetch(request),
});
const host = server.hostname.includes(':') ? `[${server.hostname}]` : server.hostname;
console.log(`dockergraph listening on http://${host}:${server.port}/graphql`);
