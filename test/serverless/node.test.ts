// The Node bundle (dist/node/server.mjs): the fetch handler in a plain node:http server, as a
// container image runs it, reaching a remote engine over mutual TLS given as PEM text.
import { fileURLToPath } from 'node:url';
import { describeTarget, spawnTarget } from '../helpers/serverless-target.ts';

const bundle = fileURLToPath(new URL('../../dist/node/server.mjs', import.meta.url));

describeTarget(
  'Node bundle in node:http',
  (env) => spawnTarget(process.execPath, ['--enable-source-maps', bundle], env),
  { supported: true },
);
