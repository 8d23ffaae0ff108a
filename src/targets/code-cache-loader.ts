/**
 * Starts a CommonJS bundle built beside this file (scripts/build.ts, `codeCache` targets)
 * through V8's code cache: compiling the 1.9 MB bundle, and the functions its start runs
 * (the schema build), is a third of a cold start; with the cache V8 deserializes the code
 * instead. Node 20 has no `module.enableCompileCache`, and an ES module cannot be given
 * cached data, so the bundle is CommonJS run by `vm.Script`, as Node runs any CommonJS
 * file (the same wrapper and `require`).
 *
 * The first start writes the cache once it has answered its first GraphQL request, so that
 * it holds the functions V8 compiled lazily on the way (the schema build, yoga's pipeline,
 * validation, execution, the engine client's first request), which a cache written right
 * after the bundle ran lacks: the first answer of a start then needs no compiling either.
 * A start that is stopped before its first answer writes none, and the next start tries
 * again. The file is named by the bundle's content hash: V8 checks only the length of the
 * source against a cache, so a cache is never read for another build. A folder that
 * cannot be written (a read-only image) only means no cache.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

/** Set by scripts/build.ts: the bundle's file name and its content hash. */
declare const __DG_BUNDLE__: string;
declare const __DG_BUNDLE_HASH__: string;

const directory = dirname(fileURLToPath(import.meta.url));
const bundle = join(directory, __DG_BUNDLE__);
const cacheFile = join(directory, `${__DG_BUNDLE__}.${__DG_BUNDLE_HASH__}.cache`);

let cachedData: Buffer | undefined;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  // No cache yet: this start writes it.
}
// Node's own CommonJS wrapper, so that the bundle sees what a required file sees.
const script = new Script(
  `(function (exports, require, module, __filename, __dirname) {${readFileSync(bundle, 'utf8')}\n})`,
  { filename: bundle, ...(cachedData ? { cachedData } : {}) },
);
const run = script.runInThisContext() as (
  exports: object,
  require: NodeJS.Require,
  module: { exports: object },
  filename: string,
  dirname: string,
) => void;
const cacheUnusable = cachedData === undefined || script.cachedDataRejected === true;
// V8 has copied what it took from the cache: the 1.7 MB buffer need not live as long as the server.
cachedData = undefined;
const module = { exports: {} };
run(module.exports, createRequire(bundle), module, bundle, directory);

function writeCache(): void {
  try {
    // Written aside, then renamed: a start beside this one never reads half a cache.
    const partial = `${cacheFile}.${process.pid}`;
    writeFileSync(partial, script.createCachedData());
    renameSync(partial, cacheFile);
  } catch {
    // A read-only folder: every start compiles.
  }
}

/** node:http publishes every finished response on this channel (Node 18.7 and later). */
const RESPONSE_FINISHED = 'http.server.response.finish';

/** Writes the cache after the first GraphQL answer (not GraphiQL's page, a probe or a file). */
function writeCacheAfterFirstAnswer(message: unknown): void {
  const { request } = message as { request: IncomingMessage };
  const graphql = request.url === '/graphql' || request.url?.startsWith('/graphql?') === true;
  if (!graphql || request.headers.accept?.includes('text/html') === true) return;
  unsubscribe(RESPONSE_FINISHED, writeCacheAfterFirstAnswer);
  // After the answer has gone: the client does not wait for the cache.
  setImmediate(writeCache);
}

if (cacheUnusable) subscribe(RESPONSE_FINISHED, writeCacheAfterFirstAnswer);
