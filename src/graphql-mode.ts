import { createRequire } from 'node:module';

/**
 * Loads graphql-js in its production mode before anything else imports it.
 * graphql-js decides once, when its `instanceOf` helper loads, whether to run
 * development checks (a realm check on every `instanceof` of a schema type,
 * a few percent of each request) by reading `NODE_ENV`; the server leaves
 * `NODE_ENV` unset as a rule. Imported first by `src/server.ts`; the built
 * artifacts get the same from `scripts/build.ts` (`define`). A `NODE_ENV` set
 * to anything else (`development`, `test`) is respected, and `NODE_ENV`
 * itself is left as it was: configuration (`DOCKERGRAPH_PRODUCTION`) never
 * sees this.
 */
const given = process.env.NODE_ENV;
if (given === undefined || given === 'production') {
  process.env.NODE_ENV = 'production';
  try {
    // Synchronously, so that it is loaded before any module imported after this one runs.
    createRequire(import.meta.url)('graphql');
  } finally {
    if (given === undefined) delete process.env.NODE_ENV;
  }
}
