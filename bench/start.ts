/**
 * Start and memory of the full server (src/server.ts): from launch to the first answer of
 * `{ engine { ping { apiVersion } } }` (engine version negotiation included), and its
 * resident memory after that answer and after IDLE_SECONDS idle (default 30), for the
 * built server under plain node (`npm run start:built`) beside `npm start`'s tsx
 * (`node --import tsx src/server.ts`: the process tsx's CLI would start). Medians of RUNS
 * interleaved rounds (default 7); the idle memory is read once per way. The built server
 * is launched once first, which writes its code cache, as any first start does.
 * `npm run bench:start` (starts the private engine if needed, builds the server).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { buildTargets, TARGETS } from '../scripts/build.ts';
import { startBuiltEnv } from '../test/helpers/server-process.ts';
import { median, statusMiB, waitForCodeCache } from './helpers.ts';

const RUNS = Number(process.env.RUNS ?? 7);
const IDLE_SECONDS = Number(process.env.IDLE_SECONDS ?? 30);
const root = fileURLToPath(new URL('..', import.meta.url));
const started = execFileSync('bash', ['scripts/engine.sh', 'start'], { encoding: 'utf8' });
const dockerHost = /DOCKER_HOST=(\S+)/.exec(started)?.[1];
if (!dockerHost) throw new Error(`scripts/engine.sh start printed no DOCKER_HOST: ${started}`);
await buildTargets(TARGETS.filter((target) => target.name === 'server'));

const env = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? '/root',
  DOCKER_HOST: dockerHost,
  DOCKERGRAPH_AUDIT: 'off',
  LOG_LEVEL: 'info',
  HOST: '127.0.0.1',
  PORT: '0',
};

interface Way {
  readonly name: string;
  readonly args: readonly string[];
  /** Where the way writes its code cache (after its first GraphQL answer). */
  readonly codeCache?: string;
  /** Variables its npm script sets before node. */
  readonly env?: Record<string, string>;
}

const ways: readonly Way[] = [
  { name: 'npm start (tsx)', args: ['--import', 'tsx', 'src/server.ts'] },
  {
    name: 'built (npm run start:built)',
    args: ['dist/server/index.mjs'],
    codeCache: `${root}dist/server`,
    env: startBuiltEnv(),
  },
];

interface Sample {
  readonly answered: number;
  readonly rss: number;
  readonly idleRss?: number;
}

/**
 * Launches `way`, asks its first question; with `idleSeconds`, reads its memory after that too;
 * with `untilCached`, stops it only once its code cache is written.
 */
async function launch(way: Way, idleSeconds = 0, untilCached = false): Promise<Sample> {
  const start = performance.now();
  const child: ChildProcess = spawn(process.execPath, way.args, {
    cwd: root,
    env: { ...env, ...way.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`${way.name} exited with ${code}: ${output}`)));
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const match = /"url":"(http:\/\/[^"]+)"/.exec(output);
        if (match?.[1]) resolve(match[1]);
      });
    });
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ engine { ping { apiVersion } } }' }),
    });
    const body = await response.text();
    const answered = performance.now() - start;
    if (response.status !== 200 || body.includes('"errors"')) {
      throw new Error(`${way.name} answered ${response.status}: ${body}`);
    }
    if (untilCached && way.codeCache) await waitForCodeCache(way.codeCache);
    const pid = child.pid ?? 0;
    const rss = statusMiB(pid);
    if (idleSeconds === 0) return { answered, rss };
    await sleep(idleSeconds * 1000);
    return { answered, rss, idleRss: statusMiB(pid) };
  } finally {
    child.kill('SIGKILL');
  }
}

// Writes the code cache (after the first answer) and warms the page cache; not counted.
for (const way of ways) await launch(way, 0, true);
const samples = new Map(ways.map((way) => [way.name, [] as Sample[]]));
for (let round = 0; round < RUNS; round++) {
  for (const way of ways) samples.get(way.name)?.push(await launch(way));
}
const idle = new Map<string, Sample>();
for (const way of ways) idle.set(way.name, await launch(way, IDLE_SECONDS));

process.stdout.write(
  `full server start, median of ${RUNS} interleaved runs; memory after ${IDLE_SECONDS} s idle from one more run\n`,
);
process.stdout.write(
  '| way | first answer (ms) | RSS after it (MiB) | RSS idle (MiB) |\n|---|---:|---:|---:|\n',
);
for (const way of ways) {
  const list = samples.get(way.name) ?? [];
  process.stdout.write(
    `| ${way.name} | ${median(list.map((sample) => sample.answered)).toFixed(0)} | ${median(list.map((sample) => sample.rss)).toFixed(0)} | ${(idle.get(way.name)?.idleRss ?? Number.NaN).toFixed(0)} |\n`,
  );
}
