/**
 * Stands in for `@graphql-yoga/render-graphiql` in the function builds (scripts/build.ts
 * aliases it): its page inlines 9 MB of assets, most of a function's size and cold start,
 * for a page functions rarely serve. The Node server build keeps the real GraphiQL.
 */
export function renderGraphiQL(): string {
  return `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><title>dockergraph</title><link rel="icon" href="data:," /></head>
  <body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">
    <h1>dockergraph</h1>
    <p>This build serves GraphQL at <code>/graphql</code> (POST, or server-sent events) without GraphiQL,
    to stay small. Use any GraphQL client, or the Node server (<code>npm start</code>,
    <code>dist/node/server.mjs</code>), which serves GraphiQL.</p>
  </body>
</html>
`;
}
