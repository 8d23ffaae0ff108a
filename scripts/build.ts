/**
 * `npm run build`: one deployable artifact per target under dist/ (esbuild, ESM,
 * minified, with source maps), and their sizes. `--only name,…` builds some targets.
 */

import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build, type Plugin } from 'esbuild';

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
  /**
   * Built as a CommonJS bundle (`bundle.cjs`) beside `outfile`, which is then the loader
   * that runs it through V8's code cache (src/targets/code-cache-loader.ts).
   */
  readonly codeCache?: boolean;
}

/**
 * GraphiQL's page inlines 9 MB of assets: the built artifacts serve a short page in its
 * place (`npm start`, the full server, keeps GraphiQL).
 */
const WITHOUT_GRAPHIQL = {
  '@graphql-yoga/render-graphiql': './src/targets/graphiql-unavailable.ts',
} as const;

/** graphql-jit's optional serializer, never turned on (see the stand-in's comment). */
const WITHOUT_JSON_SCHEMA_SERIALIZER = {
  'fast-json-stringify': './src/targets/fast-json-stringify-unavailable.ts',
} as const;

/**
 * The full server's GraphiQL: its module is left out of the bundle and built into
 * `graphiql.cjs` beside it, which the server requires on the first GraphiQL page asked
 * for (src/app.ts): its 9 MB are never read at start.
 */
const graphiqlBesideBundle: Plugin = {
  name: 'graphiql-beside-bundle',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^@graphql-yoga\/render-graphiql$/ }, () => ({
      path: 'graphiql',
      namespace: 'graphiql-beside-bundle',
    }));
    // A `require` of a computed path: esbuild leaves it to run time, when the first page is
    // asked for (`__dirname` is the bundle's folder). A dynamic `import()` would not do: the
    // bundle runs in a vm.Script, which has no loader for it.
    pluginBuild.onLoad({ filter: /.*/, namespace: 'graphiql-beside-bundle' }, () => ({
      contents: "module.exports = require(require('node:path').join(__dirname, 'graphiql.cjs'));",
      loader: 'js',
    }));
  },
};

/**
 * src/graphql-mode.ts loads graphql-js from node_modules in production mode for `npm start`;
 * a bundle has graphql-js inside, in production mode by `define`, so the module is empty there.
 */
const withoutGraphqlMode: Plugin = {
  name: 'without-graphql-mode',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /\/graphql-mode\.ts$/ }, () => ({
      path: 'graphql-mode',
      namespace: 'empty',
    }));
    pluginBuild.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: '' }));
  },
};

/**
 * `undici` is its connection pool alone in the Node builds (src/targets/undici-pool.ts): its
 * index loads fetch, WebSocket, cache and mock code the engine client never uses. A plugin,
 * not an alias: an alias would also remap the pool module's own `undici/lib/…` path.
 */
const undiciPoolOnly: Plugin = {
  name: 'undici-pool-only',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^undici$/ }, () => ({
      path: join(root, 'src/targets/undici-pool.ts'),
    }));
  },
};

/**
 * graphql-js as ES modules in the Node artifacts. esbuild takes a package's `main` first on
 * Node, and graphql-js's is CommonJS: each use of one of its functions then went through two
 * getters (esbuild's interop namespace, then graphql-js's own re-exports), 5% of the full
 * server's CPU time under load. As modules its functions are bound directly. graphql-jit
 * imports some of its files by their `.js` path, which would bring the CommonJS copy back
 * beside the other (two graphql-js, whose types are not instances of each other's).
 */
const graphqlAsModules: Plugin = {
  name: 'graphql-as-modules',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^graphql(\/|$)/ }, async ({ path, kind, resolveDir }) => {
      // A module's own path (also what the candidates below are resolved as): as it is.
      if (path.endsWith('.mjs')) return undefined;
      const candidates =
        path === 'graphql'
          ? ['graphql/index.mjs']
          : path.endsWith('.js')
            ? [path.replace(/\.js$/, '.mjs')]
            : [`${path}.mjs`, `${path}/index.mjs`];
      for (const candidate of candidates) {
        const found = await pluginBuild.resolve(candidate, { kind, resolveDir });
        if (found.errors.length === 0) return found;
      }
      return undefined;
    });
    // Whatever way a CommonJS file of graphql-js would still come in, the build fails.
    pluginBuild.onLoad({ filter: /[\\/]node_modules[\\/]graphql[\\/].*\.js$/ }, ({ path }) => ({
      errors: [
        {
          text: `${path}: a CommonJS file of graphql-js would be bundled beside its ES modules (two graphql-js); resolve its import to the .mjs file in graphqlAsModules`,
        },
      ],
    }));
  },
};

/**
 * A CommonJS bundle has no `import.meta`: its URL is the bundle file's. The bundle sits two
 * folders below the project (dist/<target>/), as the modules that resolve files of the
 * project from their own URL (scripts/engine.sh, web/dist/) sit below it (src/<layer>/).
 */
const commonJsArtifact: BuildOptions = {
  format: 'cjs',
  define: {
    'process.env.NODE_ENV': '"production"',
    'import.meta.url': '__dgImportMetaUrl',
  },
  banner: { js: "var __dgImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
};

/** The Node-runtime artifacts: the container image's server, Lambda, Deno and Bun. */
const nodeArtifact: BuildOptions = {
  platform: 'node',
  target: 'node20',
  banner: { js: REQUIRE_BANNER },
  alias: { ...WITHOUT_GRAPHIQL, ...WITHOUT_JSON_SCHEMA_SERIALIZER },
  plugins: [undiciPoolOnly, graphqlAsModules],
};

export const TARGETS: readonly Target[] = [
  {
    name: 'server',
    entry: 'src/targets/node-server.ts',
    outfile: 'dist/server/index.mjs',
    options: {
      platform: 'node',
      target: 'node20',
      ...commonJsArtifact,
      alias: WITHOUT_JSON_SCHEMA_SERIALIZER,
      plugins: [graphiqlBesideBundle, withoutGraphqlMode, undiciPoolOnly, graphqlAsModules],
    },
    codeCache: true,
  },
  {
    name: 'node',
    entry: 'src/targets/node-http.ts',
    outfile: 'dist/node/server.mjs',
    options: { ...nodeArtifact, ...commonJsArtifact },
    codeCache: true,
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
        // Workers refuse code generation: operations are interpreted there (src/app.ts).
        'graphql-jit': './src/targets/graphql-jit-unavailable.ts',
        undici: './src/targets/undici-unavailable.ts',
        ioredis: './src/targets/ioredis-unavailable.ts',
      },
    },
  },
];

const sharedOptions = {
  absWorkingDir: root,
  bundle: true,
  format: 'esm',
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'warning',
  // graphql-js without its development checks (an `instanceof` realm check on every
  // schema type test): it reads `process.env.NODE_ENV` once, as it loads.
  define: { 'process.env.NODE_ENV': '"production"' },
} as const satisfies BuildOptions;

/**
 * A `codeCache` target: the CommonJS bundle, then the loader at `outfile` that names it and
 * its content hash (a cache is read for that build only), and GraphiQL's module for the
 * full server, in a folder emptied first (caches of earlier builds go with it).
 */
async function buildWithCodeCache(target: Target): Promise<void> {
  const directory = dirname(join(root, target.outfile));
  rmSync(directory, { recursive: true, force: true });
  await build({
    ...sharedOptions,
    entryPoints: [target.entry],
    outfile: join(directory, 'bundle.cjs'),
    ...target.options,
  });
  const hash = createHash('sha256')
    .update(readFileSync(join(directory, 'bundle.cjs')))
    .digest('hex')
    .slice(0, 16);
  await build({
    ...sharedOptions,
    entryPoints: ['src/targets/code-cache-loader.ts'],
    outfile: target.outfile,
    platform: 'node',
    target: 'node20',
    sourcemap: false,
    define: { __DG_BUNDLE__: '"bundle.cjs"', __DG_BUNDLE_HASH__: JSON.stringify(hash) },
  });
  if (target.options.plugins?.includes(graphiqlBesideBundle)) {
    await build({
      ...sharedOptions,
      entryPoints: ['@graphql-yoga/render-graphiql'],
      outfile: join(directory, 'graphiql.cjs'),
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      sourcemap: false,
    });
  }
}

/** Builds `targets` and returns each artifact's size (with a code cache: the bundle's). */
export async function buildTargets(targets: readonly Target[] = TARGETS) {
  const sizes: { name: string; file: string; bytes: number; gzipBytes: number }[] = [];
  for (const target of targets) {
    if (target.codeCache) {
      await buildWithCodeCache(target);
    } else {
      await build({
        ...sharedOptions,
        entryPoints: [target.entry],
        outfile: target.outfile,
        ...target.options,
      });
    }
    const measured = target.codeCache
      ? join(dirname(target.outfile), 'bundle.cjs')
      : target.outfile;
    const bytes = readFileSync(join(root, measured));
    sizes.push({
      name: target.name,
      file: relative(root, join(root, measured)),
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
