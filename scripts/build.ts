/**
 * `npm run build`: one deployable artifact per target under dist/ (esbuild, ESM,
 * minified, with source maps), and their sizes. `--only name,…` builds some targets.
 */

import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * esbuild turns `require()` calls in CommonJS dependencies into a shim that throws in
 * an ESM bundle (`Dynamic require of "node:buffer" is not supported`); a real
 * `require` made by `createRequire` serves them.
 */
export const REQUIRE_BANNER =
  "import { createRequire as __dgCreateRequire } from 'node:module'; const require = __dgCreateRequire(import.meta.url);";

/**
 * workerd loads ES modules only, so there is no `require` to borrow: the node: modules
 * CommonJS dependencies require (busboy's events, stream and util) are imported
 * statically and handed out by name. A dependency that requires another one fails at
 * start with a message naming it.
 */
const WORKER_REQUIRED_MODULES = ['node:events', 'node:stream', 'node:util'] as const;

export const WORKERS_REQUIRE_BANNER = [
  ...WORKER_REQUIRED_MODULES.map((name, index) => `import __dgModule${index} from '${name}';`),
  `const __dgModules = { ${WORKER_REQUIRED_MODULES.map((name, index) => `'${name}': __dgModule${index}`).join(', ')} };`,
  'const require = (name) => { const found = __dgModules[name]; if (found === undefined) throw new Error(`the workers build provides no require("${name}"): add it to WORKER_REQUIRED_MODULES in scripts/build.ts`); return found; };',
].join(' ');

export interface Target {
  readonly name: string;
  readonly entry: string;
  readonly outfile: string;
  readonly options: BuildOptions;
}

/**
 * GraphiQL's page inlines 9 MB of assets: the built artifacts serve a short page in its
 * place (`npm start`, the full server, keeps GraphiQL).
 */
const WITHOUT_GRAPHIQL = {
  '@graphql-yoga/render-graphiql': './src/targets/graphiql-unavailable.ts',
} as const;

/** The Node-runtime artifacts: the container image's server, Lambda, Deno and Bun. */
const nodeArtifact: BuildOptions = {
  platform: 'node',
  target: 'node20',
  banner: { js: REQUIRE_BANNER },
  alias: WITHOUT_GRAPHIQL,
};

export const TARGETS: readonly Target[] = [
  {
    name: 'node',
    entry: 'src/targets/node-http.ts',
    outfile: 'dist/node/server.mjs',
    options: nodeArtifact,
  },
  {
    name: 'lambda',
    entry: 'src/targets/lambda.ts',
    outfile: 'dist/lambda/index.mjs',
    options: nodeArtifact,
  },
  {
    name: 'deno',
    entry: 'src/targets/deno.ts',
    outfile: 'dist/deno/main.mjs',
    options: nodeArtifact,
  },
  { name: 'bun', entry: 'src/targets/bun.ts', outfile: 'dist/bun/main.mjs', options: nodeArtifact },
  {
    name: 'workers',
    entry: 'src/targets/workers.ts',
    outfile: 'dist/workers/worker.mjs',
    options: {
      // workerd with `nodejs_compat` provides the node: modules; dependencies take their
      // worker builds (WHATWG globals instead of Node's http).
      platform: 'neutral',
      target: 'es2022',
      conditions: ['workerd', 'worker', 'browser', 'import', 'module'],
      mainFields: ['browser', 'module', 'main'],
      external: ['node:*'],
      banner: { js: WORKERS_REQUIRE_BANNER },
      // Workers have no sockets for undici's pool: the fetch transport is used there, and
      // undici's module, still imported by the engine client, is never reached.
      // Nor TCP for Redis: DOCKERGRAPH_REDIS_URL is refused there with a message.
      alias: {
        ...WITHOUT_GRAPHIQL,
        undici: './src/targets/undici-unavailable.ts',
        ioredis: './src/targets/ioredis-unavailable.ts',
      },
    },
  },
];

/** Builds `targets` and returns each artifact's size. */
export async function buildTargets(targets: readonly Target[] = TARGETS) {
  const sizes: { name: string; file: string; bytes: number; gzipBytes: number }[] = [];
  for (const target of targets) {
    await build({
      absWorkingDir: root,
      entryPoints: [target.entry],
      outfile: target.outfile,
      bundle: true,
      format: 'esm',
      minify: true,
      sourcemap: true,
      legalComments: 'linked',
      logLevel: 'warning',
      // graphql-js without its development checks (an `instanceof` realm check on every
      // schema type test): it reads `process.env.NODE_ENV` once, as it loads.
      define: { 'process.env.NODE_ENV': '"production"' },
      ...target.options,
    });
    const bytes = readFileSync(join(root, target.outfile));
    sizes.push({
      name: target.name,
      file: relative(root, join(root, target.outfile)),
      bytes: bytes.length,
      gzipBytes: gzipSync(bytes).length,
    });
  }
  return sizes;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const onlyIndex = process.argv.indexOf('--only');
  const only = onlyIndex === -1 ? null : (process.argv[onlyIndex + 1] ?? '').split(',');
  const chosen = only === null ? TARGETS : TARGETS.filter((target) => only.includes(target.name));
  const sizes = await buildTargets(chosen);
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
  for (const { name, file, bytes, gzipBytes } of sizes) {
    process.stdout.write(
      `${name.padEnd(8)} ${file.padEnd(26)} ${kib(bytes).padStart(9)}  (gzip ${kib(gzipBytes)})\n`,
    );
  }
}
