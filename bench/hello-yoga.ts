/**
 * The floor of the cold-start bench: a minimal graphql-yoga "hello" server in node:http,
 * bundled like the Node target. Nothing can start faster with the same server stack.
 */
import { createServer } from 'node:http';
import { createSchema, createYoga } from 'graphql-yoga';

const yoga = createYoga({
  schema: createSchema({
    typeDefs: 'type Query { hello: String }',
    resolvers: { Query: { hello: () => 'world' } },
  }),
  logging: false,
});
const server = createServer(yoga);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`dockergraph listening on http://127.0.0.1:${port}/graphql\n`);
});
