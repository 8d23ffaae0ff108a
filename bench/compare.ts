/**
 * dockergraph beside the engine it fronts: the same question asked directly of
 * the engine (undici on the engine's own socket) and through dockergraph over
 * HTTP, interleaved from this one process, at 10, 50, 200 and 1,000 containers.
 * dockergraph runs as deployed: the built full server (`npm run start:built`,
 * plain node, production mode, its code cache) in a process of its own, with a
 * bearer token, every plugin and limit, metrics on, and request log lines at info.
 *
 * Questions:
 * - flat: the containers of a set (by label), fields of the list only;
 * - nested: the same with image, networks and mounts with their volume
 *   (directly: the four lists, read in parallel and joined);
 * - first 50: the newest 50 of the set (directly: `limit=50`).
 *
 * Beside both, the floor (`bench/facade-floor.ts`): the least a facade in a Node process of its
 * own does for the same questions (read the request, ask the engine, parse, keep the fields,
 * answer JSON), built and run with plain node as the server is. dockergraph's p50 over the
 * floor's is what GraphQL and dockergraph's own layers cost; the floor's over the direct call
 * is what any process between the client and the engine costs.
 *
 * Prints p50/p99 (ms), requests per second (sequential: one at a time), CPU time
 * per question (directly: this process's; through dockergraph: this process's and
 * the server's, from /proc), engine calls per GraphQL query (the server's
 * `dockergraph_operation_engine_calls` metric) and the ratio dockergraph / direct;
 * with BENCH_CONCURRENCY=n (default 0: off) also the same under n concurrent
 * clients (autocannon, interleaved by rounds), with dockergraph's requests per second
 * over the direct call's and its engine calls per query under that load. Run with
 * `npm run bench:compare` (it builds the server first).
 *
 * It starts its own private engine (DOCKERGRAPH_ENGINE_DIR, default
 * /tmp/dockergraph-bench-e; DOCKERGRAPH_ENGINE_NETNS, default dgbench), creates
 * the containers (created, not started), and removes them and the engine it
 * started when done. BENCH_SIZES=10,50 and BENCH_RUNS=n change what it runs;
 * DOCKERGRAPH_COMPILED_EXECUTION=off measures graphql-js's interpreter instead of graphql-jit;
 * DOCKERGRAPH_SHARED_READS=off, every request sending its own engine reads. CPU_PROF=dir
 * writes the server's CPU profile there (`node --cpu-prof`) when it stops; SERVER_DIR=dir runs
 * the build in dir (a copy of dist/server/ made before a change) instead of building this
 * checkout's; SERVER_ENV='{"NAME":"value"}'
 * sets variables of the server's environment over `npm run start:built`'s ('{"GLIBC_TUNABLES":""}':
 * glibc's allocator as it comes; '{"DOCKERGRAPH_READ_MODEL":"off"}': every list read from the
 * engine, without the read model the server keeps by default).
 */
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { Pool } from 'undici';
import { buildTargets, TARGETS } from '../scripts/build.ts';
import { runEngineScript } from '../src/docker/embedded-engine.ts';
import { freePort } from '../test/helpers/free-port.ts';
import { launchBuiltServer } from '../test/helpers/server-process.ts';
import {
  cpuTimes,
  createBenchSet,
  FLAT_QUESTION as FLAT,
  launchFloor,
  metricSum,
  NESTED_QUESTION as NESTED,
  percentile,
  productionViewerEnv,
  serverEnvOverrides,
} from './helpers.ts';

const engineOptions = {
  dir: process.env.DOCKERGRAPH_ENGINE_DIR ?? '/tmp/dockergraph-bench-e',
  netns: process.env.DOCKERGRAPH_ENGINE_NETNS ?? 'dgbench',
};
const SIZES = (process.env.BENCH_SIZES ?? '10,50,200,1000').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const WARMUP = 30;
/**
 * Questions asked of the fresh server before the first row: a long-running server has had
 * its code optimised by V8, which takes some thousand requests (BENCH_SERVER_WARMUP).
 */
const SERVER_WARMUP = Number(process.env.BENCH_SERVER_WARMUP ?? 1_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 0);
const CREATE_PARALLEL = 6;

const FIRST = `query First($labels: [String!]!) {
  containers(filter: { labels: $labels }, first: 50) {
    edges { node { id name state status created } }
  }
}`;

const engine = await runEngineScript('start', engineOptions);
const socketPath = engine.dockerHost.replace(/^unix:\/\//, '');
const run = `cmp-${process.pid}`;
const token = randomBytes(32).toString('base64url');
// SERVER_DIR=folder runs a build kept elsewhere (a copy of dist/server/ before a change).
const serverDirectory = process.env.SERVER_DIR;
if (!serverDirectory) await buildTargets(TARGETS.filter((target) => target.name === 'server'));
const metricsPort = await freePort();
// CPU_PROF=dir runs the server with `node --cpu-prof` (source maps are beside the bundle).
const profileDir = process.env.CPU_PROF;
const {
  child: server,
  url: serverUrl,
  pid: serverPid,
} = await launchBuiltServer(
  {
    ...productionViewerEnv(engine.dockerHost, token),
    // DOCKERGRAPH_COMPILED_EXECUTION=off runs the same bench with graphql-js's interpreter.
    DOCKERGRAPH_COMPILED_EXECUTION: process.env.DOCKERGRAPH_COMPILED_EXECUTION ?? 'on',
    // DOCKERGRAPH_SHARED_READS=off measures every request sending its own engine reads.
    DOCKERGRAPH_SHARED_READS: process.env.DOCKERGRAPH_SHARED_READS ?? 'on',
    // Request lines are written as deployed (LOG_LEVEL=info), to a pipe this process drains.
    LOG_LEVEL: 'info',
    // Metrics on their own listener: the engine calls per query are read from them.
    DOCKERGRAPH_METRICS_LISTEN: `127.0.0.1:${metricsPort}`,
    ...serverEnvOverrides(),
  },
  {
    ...(profileDir ? { nodeOptions: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}),
    ...(serverDirectory ? { directory: serverDirectory } : {}),
  },
);
/** The server's CPU time so far, user and system, in ms. */
const serverCpuMs = () => {
  const { user, system } = cpuTimes(serverPid);
  return user + system;
};
const direct = new Pool('http://localhost', { socketPath, connections: 16 });
const graph = new Pool(serverUrl, { connections: 16 });
const authorization = `Bearer ${token}`;
const apiVersion = await (async () => {
  const { body } = await direct.request({ method: 'GET', path: '/version' });
  return ((await body.json()) as { ApiVersion: string }).ApiVersion;
})();

// The floor, bundled and run with plain node in production mode as the server is.
const facadeFloor = await launchFloor('facade-floor', [socketPath, apiVersion]);
const floor = new Pool(facadeFloor.url, { connections: 16 });
const floorPid = facadeFloor.pid;

/** The server's engine calls and queries so far for operation `name` (its metrics). */
async function engineCallsOf(name: string): Promise<{ calls: number; queries: number }> {
  const labels = `type="query",name="${name}"`;
  const [calls, queries] = await Promise.all([
    metricSum(metricsPort, 'dockergraph_operation_engine_calls_sum', labels),
    metricSum(metricsPort, 'dockergraph_operation_engine_calls_count', labels),
  ]);
  return { calls, queries };
}

async function engineJson<T>(path: string, query: Record<string, string> = {}): Promise<T> {
  const search = new URLSearchParams(query).toString();
  const { statusCode, body } = await direct.request({
    method: 'GET',
    path: `/v${apiVersion}${path}${search ? `?${search}` : ''}`,
  });
  if (statusCode !== 200) throw new Error(`${path}: ${statusCode} ${await body.text()}`);
  return (await body.json()) as T;
}

async function engineWrite(method: 'POST' | 'DELETE', path: string, body?: object, query = {}) {
  const search = new URLSearchParams(query).toString();
  const answer = await direct.request({
    method,
    path: `/v${apiVersion}${path}${search ? `?${search}` : ''}`,
    ...(body
      ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
      : {}),
  });
  const text = await answer.body.text();
  if (answer.statusCode >= 300) throw new Error(`${method} ${path}: ${answer.statusCode} ${text}`);
  return text;
}

interface Named {
  Id: string;
  Name?: string;
}

/** The direct answers: what a client of the engine itself would do for each question. */
const directAnswers = {
  flat: (labelFilter: string) =>
    engineJson<unknown[]>('/containers/json', { all: '1', filters: labelFilter }),
  nested: async (labelFilter: string) => {
    const [containers, images, networks, volumes] = await Promise.all([
      engineJson<
        {
          ImageID: string;
          NetworkSettings: { Networks: Record<string, { NetworkID: string }> };
          Mounts: { Name?: string }[];
        }[]
      >('/containers/json', { all: '1', filters: labelFilter }),
      engineJson<Named[]>('/images/json'),
      engineJson<Named[]>('/networks'),
      engineJson<{ Volumes: { Name: string }[] | null }>('/volumes'),
    ]);
    const imageById = new Map(images.map((image) => [image.Id, image]));
    const networkById = new Map(networks.map((network) => [network.Id, network]));
    const volumeByName = new Map((volumes.Volumes ?? []).map((volume) => [volume.Name, volume]));
    return containers.map((container) => ({
      container,
      image: imageById.get(container.ImageID),
      networks: Object.values(container.NetworkSettings.Networks).map((network) =>
        networkById.get(network.NetworkID),
      ),
      volumes: container.Mounts.map((mount) => volumeByName.get(mount.Name ?? '')),
    }));
  },
  first: (labelFilter: string) =>
    engineJson<unknown[]>('/containers/json', { all: '1', limit: '50', filters: labelFilter }),
};

async function askFloor(body: string): Promise<void> {
  const { statusCode, body: answer } = await floor.request({ method: 'POST', path: '/', body });
  const text = await answer.text();
  if (statusCode !== 200) throw new Error(`the floor answered ${statusCode}: ${text}`);
  JSON.parse(text);
}

async function askGraph(body: string): Promise<void> {
  const { statusCode, body: answer } = await graph.request({
    method: 'POST',
    path: '/graphql',
    headers: { 'content-type': 'application/json', authorization },
    body,
  });
  const result = (await answer.json()) as { errors?: unknown };
  if (statusCode !== 200 || result.errors) {
    throw new Error(`dockergraph answered ${statusCode}: ${JSON.stringify(result.errors)}`);
  }
}

function summary(times: number[]) {
  const sorted = [...times].sort((a, b) => a - b);
  const mean = times.reduce((total, time) => total + time, 0) / times.length;
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), perSecond: 1_000 / mean };
}

const rows: string[] = [];
const floorRows: string[] = [];
const loadRows: string[] = [];
/** The floor's CPU time so far, user and system, in ms. */
const floorCpuMs = () => {
  const { user, system } = cpuTimes(floorPid);
  return user + system;
};

async function compare(
  count: number,
  kind: keyof typeof directAnswers,
  query: string,
  set: string,
): Promise<void> {
  const labelFilter = JSON.stringify({ label: [`dockergraph.bench.set=${set}`] });
  const body = JSON.stringify({ query, variables: { labels: [`dockergraph.bench.set=${set}`] } });
  const floorBody = JSON.stringify({ question: kind, label: `dockergraph.bench.set=${set}` });
  const ask = directAnswers[kind];
  for (let index = 0; index < WARMUP; index++) {
    await ask(labelFilter);
    await askFloor(floorBody);
    await askGraph(body);
  }
  const directTimes: number[] = [];
  const floorTimes: number[] = [];
  const graphTimes: number[] = [];
  // CPU time per question: this process's (the client) on both sides, and the server's while
  // the rows run (only this bench asks it anything). Less noisy than wall time on a busy
  // machine, where waiting for a core counts as time.
  let directCpu = 0;
  let floorClientCpu = 0;
  let graphClientCpu = 0;
  const timeDirect = async () => {
    const cpu = process.cpuUsage();
    const start = performance.now();
    await ask(labelFilter);
    directTimes.push(performance.now() - start);
    const used = process.cpuUsage(cpu);
    directCpu += (used.user + used.system) / 1_000;
  };
  const timeFloor = async () => {
    const cpu = process.cpuUsage();
    const start = performance.now();
    await askFloor(floorBody);
    floorTimes.push(performance.now() - start);
    const used = process.cpuUsage(cpu);
    floorClientCpu += (used.user + used.system) / 1_000;
  };
  const timeGraph = async () => {
    const cpu = process.cpuUsage();
    const start = performance.now();
    await askGraph(body);
    graphTimes.push(performance.now() - start);
    const used = process.cpuUsage(cpu);
    graphClientCpu += (used.user + used.system) / 1_000;
  };
  const operation = /^query (\w+)/.exec(query)?.[1] ?? '';
  const engineBefore = await engineCallsOf(operation);
  const serverCpuBefore = serverCpuMs();
  const floorCpuBefore = floorCpuMs();
  const sides = [timeDirect, timeFloor, timeGraph];
  for (let index = 0; index < RUNS; index++) {
    // Interleaved, each first in turn: drift and noise fall on all three alike.
    for (let side = 0; side < sides.length; side++) {
      await sides[(index + side) % sides.length]?.();
    }
  }
  const serverCpu = serverCpuMs() - serverCpuBefore;
  const floorCpu = floorCpuMs() - floorCpuBefore;
  const engineAfter = await engineCallsOf(operation);
  const calls =
    (engineAfter.calls - engineBefore.calls) / (engineAfter.queries - engineBefore.queries);
  const d = summary(directTimes);
  const f = summary(floorTimes);
  const g = summary(graphTimes);
  rows.push(
    `| ${count} | ${kind} | ${d.p50.toFixed(2)} | ${g.p50.toFixed(2)} | ${(g.p50 / d.p50).toFixed(2)} | ${(g.p50 - d.p50).toFixed(2)} | ${d.p99.toFixed(2)} | ${g.p99.toFixed(2)} | ${d.perSecond.toFixed(0)} | ${g.perSecond.toFixed(0)} | ${(directCpu / RUNS).toFixed(2)} | ${(graphClientCpu / RUNS).toFixed(2)} + ${(serverCpu / RUNS).toFixed(2)} | ${Number(calls.toFixed(2))} |`,
  );
  floorRows.push(
    `| ${count} | ${kind} | ${d.p50.toFixed(2)} | ${f.p50.toFixed(2)} | ${g.p50.toFixed(2)} | ${(f.p50 / d.p50).toFixed(2)} | ${(g.p50 / f.p50).toFixed(2)} | ${(f.p50 - d.p50).toFixed(2)} | ${(g.p50 - f.p50).toFixed(2)} | ${(floorClientCpu / RUNS).toFixed(2)} + ${(floorCpu / RUNS).toFixed(2)} |`,
  );
  if (CONCURRENCY > 0) await compareUnderLoad(count, kind, labelFilter, body, operation);
}

/** Requests per second and latency under CONCURRENCY clients, in alternating rounds. */
async function compareUnderLoad(
  count: number,
  kind: keyof typeof directAnswers,
  labelFilter: string,
  body: string,
  operation: string,
) {
  const directPath = (() => {
    const query: Record<string, string> = { all: '1', filters: labelFilter };
    if (kind === 'first') query.limit = '50';
    return `/v${apiVersion}/containers/json?${new URLSearchParams(query).toString()}`;
  })();
  const rounds = { direct: [] as autocannon.Result[], graph: [] as autocannon.Result[] };
  const engineBefore = await engineCallsOf(operation);
  for (let round = 0; round < 3; round++) {
    rounds.direct.push(
      await autocannon({
        url: 'http://localhost',
        socketPath,
        connections: CONCURRENCY,
        duration: 3,
        requests: [{ method: 'GET', path: directPath }],
      }),
    );
    rounds.graph.push(
      await autocannon({
        url: `${serverUrl}/graphql`,
        connections: CONCURRENCY,
        duration: 3,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body,
      }),
    );
  }
  const engineAfter = await engineCallsOf(operation);
  // Below 1 when requests arriving together shared their engine reads (shared-reads.ts).
  const calls =
    (engineAfter.calls - engineBefore.calls) / (engineAfter.queries - engineBefore.queries);
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[1] ?? Number.NaN;
  const of = (results: autocannon.Result[]) => ({
    perSecond: median(results.map((result) => result.requests.average)),
    p50: median(results.map((result) => result.latency.p50)),
    p99: median(results.map((result) => result.latency.p99)),
    errors: results.reduce((total, result) => total + result.errors + result.non2xx, 0),
  });
  const d = of(rounds.direct);
  const g = of(rounds.graph);
  loadRows.push(
    `| ${count} | ${kind}${kind === 'nested' ? ' (direct: list only)' : ''} | ${CONCURRENCY} | ${d.perSecond.toFixed(0)} | ${g.perSecond.toFixed(0)} | ${(g.perSecond / d.perSecond).toFixed(2)} | ${d.p50} / ${d.p99} | ${g.p50} / ${g.p99} | ${Number(calls.toFixed(2))} | ${d.errors + g.errors} |`,
  );
}

try {
  let made = 0;
  for (const count of SIZES) {
    const set = `n${count}`;
    await createBenchSet(engineWrite, run, set, count, CREATE_PARALLEL);
    made += count;
    if (count === SIZES[0]) {
      const variables = { labels: [`dockergraph.bench.set=${set}`] };
      for (let index = 0; index < SERVER_WARMUP; index++) {
        for (const query of [FLAT, NESTED, FIRST])
          await askGraph(JSON.stringify({ query, variables }));
      }
    }
    process.stderr.write(`created ${count} containers (${made} in all); measuring\n`);
    await compare(count, 'flat', FLAT, set);
    await compare(count, 'nested', NESTED, set);
    if (count >= 50) await compare(count, 'first', FIRST, set);
  }
  console.log(
    `\n${RUNS} sequential runs per row, interleaved; direct = undici on the engine socket, dockergraph = HTTP POST /graphql with a bearer token\n`,
  );
  console.log(
    '| containers | question | direct p50 (ms) | dockergraph p50 (ms) | ratio p50 | overhead p50 (ms) | direct p99 | dockergraph p99 | direct req/s | dockergraph req/s | direct CPU (ms) | dockergraph CPU: client + server (ms) | engine calls per query |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const row of rows) console.log(row);
  console.log(
    '\nThe same runs beside the floor (bench/facade-floor.ts: a Node process that asks the engine, parses, keeps the fields and answers JSON; no GraphQL)\n',
  );
  console.log(
    '| containers | question | direct p50 (ms) | floor p50 (ms) | dockergraph p50 (ms) | floor / direct | dockergraph / floor | floor over direct (ms) | dockergraph over floor (ms) | floor CPU: client + server (ms) |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const row of floorRows) console.log(row);
  if (loadRows.length > 0) {
    console.log(
      `\nUnder load: autocannon, ${CONCURRENCY} connections, 3 rounds of 3 s each, medians\n`,
    );
    console.log(
      '| containers | question | connections | direct req/s | dockergraph req/s | dockergraph / direct req/s | direct p50 / p99 (ms) | dockergraph p50 / p99 (ms) | engine calls per query | errors |',
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const row of loadRows) console.log(row);
  }
} finally {
  const filters = JSON.stringify({ label: [`dockergraph.bench=${run}`] });
  const containers = await engineJson<{ Id: string }[]>('/containers/json', { all: '1', filters });
  let next = 0;
  const remover = async () => {
    while (next < containers.length) {
      const container = containers[next++];
      if (container) {
        await engineWrite('DELETE', `/containers/${container.Id}`, undefined, {
          force: '1',
          v: '1',
        });
      }
    }
  };
  await Promise.all(Array.from({ length: CREATE_PARALLEL }, remover));
  const volumes = await engineJson<{ Volumes: { Name: string }[] | null }>('/volumes', { filters });
  for (const volume of volumes.Volumes ?? [])
    await engineWrite('DELETE', `/volumes/${volume.Name}`);
  server.process.kill('SIGTERM');
  await server.waitForExit(10_000);
  // Closing its stdin stops the floor (and lets this process exit: the pipe is a handle).
  facadeFloor.process.stdin.end();
  await direct.close();
  await graph.close();
  await floor.close();
  if (engine.started) await runEngineScript('stop', engineOptions);
}
