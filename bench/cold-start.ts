/**
 * Cold start: from process launch to the first answer of `{ engine { ping { apiVersion } } }`,
 * for the Node bundle (node:http; and as it was built before its code cache, for a
 * before/after), Deno, Bun and the Lambda adapter under lambda-local, side
 * by side with a minimal yoga "hello" bundle (the floor) launched the same way, in rounds that
 * interleave the targets; medians of RUNS rounds (default 9). Then where the Node bundle's time
 * goes: importing the bundle, and the first request (schema build, app, engine ping) against a
 * warm one. `npm run bench:cold-start` (starts the private engine if needed).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildTargets } from '../scripts/build.ts';
import { hashToken } from '../src/security/principal.ts';
import { runtimeBinary } from '../test/helpers/runtimes.ts';
import { median, NODE_BUNDLE_OPTIONS, waitForCodeCache } from './helpers.ts';

const RUNS = Number(process.env.RUNS ?? 9);
const root = fileURLToPath(new URL('..', import.meta.url));
const started = execFileSync('bash', ['scripts/engine.sh', 'start'], { encoding: 'utf8' });
const dockerHost = /DOCKER_HOST=(\S+)/.exec(started)?.[1];
if (!dockerHost) throw new Error(`scripts/engine.sh start printed no DOCKER_HOST: ${started}`);

await buildTargets();
const bundleOptions = NODE_BUNDLE_OPTIONS;
await build({
  ...bundleOptions,
  entryPoints: ['bench/hello-yoga.ts'],
  outfile: 'dist/bench/hello.mjs',
});
// The Node bundle as it was built before the code cache and undici's pool alone (one ESM
// file, the whole of undici), for a before/after within one run.
await build({
  ...bundleOptions,
  entryPoints: ['src/targets/node-http.ts'],
  outfile: 'dist/bench/node-esm.mjs',
  define: { 'process.env.NODE_ENV': '"production"' },
  alias: {
    '@graphql-yoga/render-graphiql': './src/targets/graphiql-unavailable.ts',
    'fast-json-stringify': './src/targets/fast-json-stringify-unavailable.ts',
  },
});
// The emulator bundled too, so that no TypeScript loader sits in the Lambda's launch.
await build({
  ...bundleOptions,
  entryPoints: ['test/helpers/lambda-url-emulator.ts'],
  outfile: 'dist/bench/lambda-url-emulator.mjs',
  packages: 'external',
});

const token = randomBytes(32).toString('base64url');
const env = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? '/root',
  DOCKER_HOST: dockerHost,
  DOCKERGRAPH_TOKENS: JSON.stringify({
    tokens: [{ id: 'bench', role: 'viewer', sha256: hashToken(token) }],
  }),
  DOCKERGRAPH_AUDIT: 'off',
  LOG_LEVEL: 'warn',
  HOST: '127.0.0.1',
  PORT: '0',
  DENO_DIR: '/tmp/dockergraph-deno',
  DENO_NO_UPDATE_CHECK: '1',
};
const PING = '{ engine { ping { apiVersion } } }';

interface Target {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly query: string;
}

const dist = (path: string) => `${root}dist/${path}`;
const targets: readonly Target[] = [
  {
    name: 'yoga hello (floor)',
    command: process.execPath,
    args: [dist('bench/hello.mjs')],
    query: '{ hello }',
  },
  { name: 'Node bundle', command: process.execPath, args: [dist('node/server.mjs')], query: PING },
  {
    name: 'Node bundle, ESM, no code cache (before)',
    command: process.execPath,
    args: [dist('bench/node-esm.mjs')],
    query: PING,
  },
  {
    name: 'Deno',
    command: runtimeBinary('deno'),
    args: [
      'run',
      '--allow-net',
      '--allow-env',
      '--allow-read',
      // Connecting to a unix socket needs write permission in Deno.
      '--allow-write',
      '--allow-sys',
      '--unstable-no-legacy-abort',
      dist('deno/main.mjs'),
    ],
    query: PING,
  },
  { name: 'Bun', command: runtimeBinary('bun'), args: [dist('bun/main.mjs')], query: PING },
  {
    name: 'Lambda (lambda-local)',
    command: process.execPath,
    args: [dist('bench/lambda-url-emulator.mjs'), 'handler'],
    query: PING,
  },
];

/**
 * Launches `target`, asks its first question, and returns the milliseconds to the answer;
 * with `untilCached`, stops it only once the Node bundle's code cache is on disk.
 */
async function coldStart(
  target: Target,
  untilCached = false,
): Promise<{ listening: number; answered: number }> {
  const start = performance.now();
  const child: ChildProcess = spawn(target.command, target.args, {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.once('exit', (code) =>
        reject(new Error(`${target.name} exited with ${code}: ${output}`)),
      );
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const match = /listening on (http:\/\/\S+)/.exec(output);
        if (match?.[1]) resolve(match[1]);
      });
    });
    const listening = performance.now() - start;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: target.query }),
    });
    const body = await response.text();
    const answered = performance.now() - start;
    if (response.status !== 200 || body.includes('"errors"')) {
      throw new Error(`${target.name} answered ${response.status}: ${body}`);
    }
    if (untilCached) await waitForCodeCache(dist('node'));
    return { listening, answered };
  } finally {
    child.kill('SIGKILL');
  }
}

const samples = new Map(
  targets.map((target) => [target.name, [] as { listening: number; answered: number }[]]),
);
// Warms the page cache and writes the Node bundle's code cache, as a first start does (once it
// has answered); not counted.
for (const target of targets) await coldStart(target, target.name === 'Node bundle');
for (let round = 0; round < RUNS; round++) {
  for (const target of targets) samples.get(target.name)?.push(await coldStart(target));
}

// Where the Node bundle's time goes, measured inside one process per run.
const inside = `
const t0 = performance.now();
const { handler } = await import(${JSON.stringify(dist('lambda/index.mjs'))});
const t1 = performance.now();
const event = (id) => ({ version: '2.0', routeKey: '$default', rawPath: '/graphql', rawQueryString: '',
  headers: { host: 'bench', 'content-type': 'application/json', authorization: 'Bearer ${token}' },
  requestContext: { domainName: 'bench', http: { method: 'POST', path: '/graphql' }, requestId: id },
  body: JSON.stringify({ query: ${JSON.stringify(PING)} }), isBase64Encoded: false });
const first = await handler(event('1'));
const t2 = performance.now();
await handler(event('2'));
const t3 = performance.now();
if (first.statusCode !== 200) throw new Error(first.body);
console.log(JSON.stringify({ imported: t1 - t0, firstRequest: t2 - t1, warmRequest: t3 - t2 }));
process.exit(0);`;
const phases: { imported: number; firstRequest: number; warmRequest: number }[] = [];
for (let round = 0; round < RUNS; round++) {
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', inside], {
    env,
    encoding: 'utf8',
  });
  phases.push(JSON.parse(output.trim().split('\n').at(-1) ?? '{}'));
}

const floor = median((samples.get(targets[0]?.name ?? '') ?? []).map((sample) => sample.answered));
process.stdout.write(
  `cold start, median of ${RUNS} interleaved runs (ms; launch to first answer)\n`,
);
process.stdout.write('| target | listening | first answer | vs floor |\n|---|---:|---:|---:|\n');
for (const target of targets) {
  const list = samples.get(target.name) ?? [];
  const answered = median(list.map((sample) => sample.answered));
  process.stdout.write(
    `| ${target.name} | ${median(list.map((sample) => sample.listening)).toFixed(0)} | ${answered.toFixed(0)} | ${(answered / floor).toFixed(2)}x |\n`,
  );
}
process.stdout.write(
  `\ninside one Node process (Lambda bundle, median ms): import ${median(phases.map((p) => p.imported)).toFixed(0)}, first request (schema build, app, engine ping) ${median(phases.map((p) => p.firstRequest)).toFixed(0)}, a warm request ${median(phases.map((p) => p.warmRequest)).toFixed(0)}\n`,
);
