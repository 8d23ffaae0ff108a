// The Bun artifact (dist/bun/main.mjs) on Bun.serve, in Bun (npm package "bun").
import { fileURLToPath } from 'node:url';
import { runtimeBinary } from '../helpers/runtimes.ts';
import { describeTarget, spawnTarget } from '../helpers/serverless-target.ts';

const bundle = fileURLToPath(new URL('../../dist/bun/main.mjs', import.meta.url));

describeTarget('Bun (Bun.serve)', (env) => spawnTarget(runtimeBinary('bun'), [bundle], env), {
  supported: true,
});
