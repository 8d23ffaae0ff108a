/**
 * Two builds of the server side by side, for a change whose effect is smaller than the noise
 * between two runs of `bench:compare` (on a shared 2-core machine the same build's CPU per
 * query moves by 15% from run to run). Both built servers run at once against one private
 * engine, each in a process of its own as deployed (`npm run start:built`'s settings, a viewer
 * token, the read model on); the same question is asked of them in alternating blocks, so that
 * both see the same machine, and each block's server CPU time per question (user + system,
 * /proc/<pid>/stat) and wall p50 are kept. Prints per question the medians of the blocks and
 * the ratio B / A, with the ratio's range over the pairs of blocks, and each server's resident
 * memory (VmRSS) after the question's blocks.
 *
 * `A_DIR=/tmp/before B_DIR=dist/server npx tsx bench/builds.ts` (folders holding a copy of
 * dist/server/ each; B_DIR defaults to a fresh build of this checkout). A_ENV and B_ENV give
 * each server variables of its own as JSON ('{"DOCKERGRAPH_COMPILED_EXECUTION":"on"}');
 * with one folder for both, the bench compares two settings. BENCH_SIZE (default 50)
 * containers; BENCH_BLOCKS (default 12) blocks of BENCH_RUNS (default 150) questions each per
 * server; BENCH_CONCURRENCY (default 1) questions in flight at once; BENCH_QUESTIONS=nested
 * asks only some of the questions; CPU_PROF=dir writes server B's CPU profile there when it
 * stops (`node --cpu-prof`; source maps are beside the bundle).
 */
import { randomBytes } from 'node:crypto';
import { Pool } from 'undici';
import { buildTargets, TARGETS } from '../scripts/build.ts';
import { loadConfig } from '../src/config.ts';
import { runEngineScript } from '../src/docker/embedded-engine.ts';
import { launchBuiltServer } from '../test/helpers/server-process.ts';
import {
  benchEngineClient,
  cpuTimes,
  createBenchSet,
  FLAT_QUESTION,
  median,
  NESTED_QUESTION,
  percentile,
  productionViewerEnv,
  removeBenchObjects,
  statusMiB,
  writerOf,
} from './helpers.ts';

const SIZE = Number(process.env.BENCH_SIZE ?? 50);
const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 12);
const RUNS = Number(process.env.BENCH_RUNS ?? 150);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 1);
const WARMUP = 1_000;
const aDirectory = process.env.A_DIR;
if (!aDirectory) throw new Error('A_DIR must name a folder holding a build of the server');
const bDirectory = process.env.B_DIR;
const profileDir = process.env.CPU_PROF;
const askedQuestions = process.env.BENCH_QUESTIONS?.split(',');
const envOf = (name: string): Record<string, string> => {
  const text = process.env[name];
  return text ? (JSON.parse(text) as Record<string, string>) : {};
};

const QUESTIONS = { flat: FLAT_QUESTION, nested: NESTED_QUESTION } as const;

const engineOptions = {
  dir: process.env.DOCKERGRAPH_ENGINE_DIR ?? '/tmp/dockergraph-bench-e',
  netns: process.env.DOCKERGRAPH_ENGINE_NETNS ?? 'dgbench',
};
const engine = await runEngineScript('start', engineOptions);
if (!bDirectory) await buildTargets(TARGETS.filter((target) => target.name === 'server'));
const run = `builds-${process.pid}`;
const label = `dockergraph.bench.set=${run}`;
const token = randomBytes(32).toString('base64url');
const docker = benchEngineClient(loadConfig({ DOCKER_HOST: engine.dockerHost }).docker);
const write = writerOf(docker);

interface Side {
  readonly name: 'A' | 'B';
  readonly pool: Pool;
  readonly pid: number;
  readonly stop: () => Promise<void>;
}

async function launch(name: 'A' | 'B', directory: string | undefined): Promise<Side> {
  const { child, url, pid } = await launchBuiltServer(
    {
      ...productionViewerEnv(engine.dockerHost, token),
      LOG_LEVEL: 'info',
      ...envOf(`${name}_ENV`),
    },
    {
      ...(directory ? { directory } : {}),
      ...(name === 'B' && profileDir
        ? { nodeOptions: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] }
        : {}),
    },
  );
  return {
    name,
    pool: new Pool(url, { connections: Math.max(CONCURRENCY, 1) }),
    pid,
    stop: async () => {
      child.process.kill('SIGTERM');
      await child.waitForExit(30_000);
    },
  };
}

async function ask(side: Side, body: string): Promise<number> {
  const start = performance.now();
  const { statusCode, body: answer } = await side.pool.request({
    method: 'POST',
    path: '/graphql',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body,
  });
  const result = (await answer.json()) as { errors?: unknown };
  if (statusCode !== 200 || result.errors) {
    throw new Error(`server ${side.name} answered ${statusCode}: ${JSON.stringify(result.errors)}`);
  }
  return performance.now() - start;
}

/** One block: RUNS questions, CONCURRENCY at a time; the server's CPU ms per question and the wall p50. */
async function block(side: Side, body: string): Promise<{ cpuMs: number; p50: number }> {
  const before = cpuTimes(side.pid);
  const times: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < RUNS) {
      next += 1;
      times.push(await ask(side, body));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const after = cpuTimes(side.pid);
  times.sort((x, y) => x - y);
  return {
    cpuMs: (after.user + after.system - before.user - before.system) / RUNS,
    p50: percentile(times, 50),
  };
}

const sides: Side[] = [];
try {
  await createBenchSet(write, run, run, SIZE);
  sides.push(await launch('A', aDirectory), await launch('B', bDirectory));
  const [a, b] = sides as [Side, Side];
  process.stdout.write(
    `${SIZE} containers, ${BLOCKS} blocks of ${RUNS} questions per server and question, ${CONCURRENCY} in flight; A: ${aDirectory} ${process.env.A_ENV ?? ''}; B: ${bDirectory ?? 'this checkout'} ${process.env.B_ENV ?? ''}\n\n`,
  );
  process.stdout.write(
    '| question | A CPU per question (ms) | B CPU per question (ms) | B / A CPU | B / A per pair (min to max) | A p50 (ms) | B p50 (ms) | A / B RSS after (MiB) |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n',
  );
  for (const [question, query] of Object.entries(QUESTIONS)) {
    if (askedQuestions && !askedQuestions.includes(question)) continue;
    const body = JSON.stringify({ query, variables: { labels: [label] } });
    for (const side of sides) for (let index = 0; index < WARMUP; index++) await ask(side, body);
    const results = {
      A: [] as { cpuMs: number; p50: number }[],
      B: [] as { cpuMs: number; p50: number }[],
    };
    for (let index = 0; index < BLOCKS; index++) {
      // Alternate which goes first, so that neither always follows the other's garbage.
      const order = index % 2 === 0 ? [a, b] : [b, a];
      for (const side of order) results[side.name].push(await block(side, body));
    }
    const pairRatios = results.B.map(
      (each, index) => each.cpuMs / (results.A[index]?.cpuMs ?? Number.NaN),
    );
    const cpuA = median(results.A.map((each) => each.cpuMs));
    const cpuB = median(results.B.map((each) => each.cpuMs));
    process.stdout.write(
      `| ${question} | ${cpuA.toFixed(2)} | ${cpuB.toFixed(2)} | ${(cpuB / cpuA).toFixed(3)} | ${Math.min(...pairRatios).toFixed(2)} to ${Math.max(...pairRatios).toFixed(2)} | ${median(results.A.map((each) => each.p50)).toFixed(2)} | ${median(results.B.map((each) => each.p50)).toFixed(2)} | ${statusMiB(a.pid).toFixed(0)} / ${statusMiB(b.pid).toFixed(0)} |\n`,
    );
  }
} finally {
  for (const side of sides) {
    await side.pool.close();
    await side.stop();
  }
  await removeBenchObjects(docker, run);
  await docker.close();
  if (engine.started) await runEngineScript('stop', engineOptions);
}
