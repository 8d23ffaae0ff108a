/**
 * The full server built (dist/server/index.mjs, `npm run start:built`): src/server.ts with
 * HTTP, SSE, graphql-ws, terminals, downloads, the dashboard and GraphiQL, run by plain
 * `node`, no TypeScript loader. Reads its configuration as `npm start` does.
 */
import { main } from '../server.ts';

main().catch((error: unknown) => {
  process.stderr.write(`dockergraph: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
