// The Deno artifact (dist/deno/main.mjs) on Deno.serve, in Deno (npm package "deno").
import { fileURLToPath } from 'node:url';
import { runtimeBinary } from '../helpers/runtimes.ts';
import { describeTarget, spawnTarget } from '../helpers/serverless-target.ts';

const bundle = fileURLToPath(new URL('../../dist/deno/main.mjs', import.meta.url));

describeTarget(
  'Deno (Deno.serve)',
  (env) =>
    spawnTarget(
      runtimeBinary('deno'),
      [
        'run',
        '--allow-net',
        '--allow-env',
        '--allow-read',
        '--allow-sys',
        // Deno 2.9 aborts request.signal after every response unless told not to, and says so
        // at start; the handler needs it to abort only when a client goes away.
        '--unstable-no-legacy-abort',
        bundle,
      ],
      // Deno keeps its cache below DENO_DIR; the bundle needs no download.
      { ...env, DENO_DIR: '/tmp/dockergraph-deno', DENO_NO_UPDATE_CHECK: '1' },
    ),
  { supported: true },
);
