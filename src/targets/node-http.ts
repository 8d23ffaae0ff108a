/**
 * The fetch handler in a plain `node:http` server, as a container image runs the
 * bundle (dist/node/server.mjs): GraphQL over HTTP and SSE, no WebSocket (src/server.ts
 * is the full server with graphql-ws). Listens on HOST:PORT and prints the address.
 */
import { createServer } from 'node:http';
import { createServerAdapter } from '@whatwg-node/server';
import { loadConfig } from '../config.ts';
import { createFetchHandler } from '../handler.ts';
import { writeStdoutPerTurn } from '../logger.ts';

const config = loadConfig();
const handler = createFetchHandler(() => config, { writeLogLine: writeStdoutPerTurn });
// @whatwg-node/server (graphql-yoga's own adapter) turns node:http requests into WHATWG
// Requests and streams Responses back, ending the Request's signal when the client leaves.
const server = createServer(createServerAdapter((request: Request) => handler.fetch(request)));
server.listen(config.port, config.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  process.stdout.write(`dockergraph listening on http://${host}:${port}/graphql\n`);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
  });
}
