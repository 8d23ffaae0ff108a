/**
 * Event delivery with many subscribers, measured on the server as it is deployed: the
 * built full server (`npm run build`'s dist/server/index.mjs under plain node, production
 * mode as the build defines it, launched by test/helpers/server-process.ts as the tests
 * launch it) in a process of its own, with a viewer token, no audit log, no rate limit and
 * LOG_LEVEL=info. 1,000 graphql-ws clients (bench/event-clients.ts, another process)
 * subscribe to the `events` of labelled containers; this process only orchestrates and
 * makes the events: each round creates, starts, stops and removes 10 containers (40
 * events per client) and measures, for every delivered event, the time from the engine's
 * timestamp to its arrival at each client (p50/p99), the server's CPU time during the
 * round (user + system, /proc/<pid>/stat: steadier than latencies on a shared machine),
 * the clients' CPU time (they share the machine's two cores with the server and the engine),
 * and its resident memory (VmRSS of /proc/<pid>/status) with the subscribers connected,
 * after the round's delivery; the server's peak (VmHWM) at the end.
 * Side by side, this process reads the engine's own `GET /events` (one direct reader, the
 * same filter): the time from each event's timestamp to its arrival there is the engine's
 * share of the delay, which no server in front of it can remove.
 * One warm-up round, then ROUNDS (default 3) rounds: each is printed, and their medians.
 *
 * `npm run bench:events` (starts the private engine if needed, builds the server; removes
 * the containers it made). SUBSCRIBERS=n and ROUNDS=n change the counts; BENCH_CLIENT=graphql-ws
 * times each event in graphql-ws's own client instead of at its socket (see event-clients.ts); CPU_PROF=dir runs
 * the server with `node --cpu-prof --cpu-prof-dir=dir` (source maps are beside the bundle);
 * SERVER_DIR=dir runs the build in dir (a copy of dist/server/ made before a change) instead
 * of building this checkout's; SERVER_NODE_OPTIONS="--flag …" gives node flags to the server;
 * SERVER_ENV='{"NAME":"value"}' sets variables of its environment (over `npm run start:built`'s:
 * '{"GLIBC_TUNABLES":""}' runs it with glibc's allocator as it comes).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { buildTargets, TARGETS } from '../scripts/build.ts';
import { loadConfig } from '../src/config.ts';
import { runEngineScript } from '../src/docker/embedded-engine.ts';
import { streamEvents } from '../src/docker/events.ts';
import { freePort } from '../test/helpers/free-port.ts';
import { launchBuiltServer } from '../test/helpers/server-process.ts';
import {
  benchEngineClient,
  cpuTimes,
  median,
  metricSum,
  percentile,
  productionViewerEnv,
  removeBenchObjects,
  serverEnvOverrides,
  statusMiB,
  writerOf,
} from './helpers.ts';

const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 1000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
/** How the clients read (bench/event-clients.ts): `raw` (default) or `graphql-ws`. */
const CLIENT = process.env.BENCH_CLIENT ?? 'raw';
const CONTAINERS = 10;
const EVENTS_PER_CLIENT = CONTAINERS * 4;
const run = `bench-events-${process.pid}`;
const label = `dockergraph.bench=${run}`;
const token = randomBytes(32).toString('base64url');

// SERVER_DIR=folder runs a build kept elsewhere (a copy of dist/server/ before a change).
const serverDirectory = process.env.SERVER_DIR;
const { dockerHost, started: engineStarted } = await runEngineScript('start');
if (!serverDirectory) await buildTargets(TARGETS.filter((target) => target.name === 'server'));
const metricsPort = await freePort();
const profileDir = process.env.CPU_PROF;
const serverEnv = {
  ...productionViewerEnv(dockerHost, token),
  LOG_LEVEL: 'info',
  // The subscriber and upstream counts, read from a listener of its own (no token needed).
  DOCKERGRAPH_METRICS_LISTEN: `127.0.0.1:${metricsPort}`,
  ...serverEnvOverrides(),
};
const {
  child: server,
  url,
  pid: serverPid,
} = await launchBuiltServer(serverEnv, {
  nodeOptions: [
    ...(process.env.SERVER_NODE_OPTIONS ?? '').split(' ').filter((option) => option !== ''),
    ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
  ],
  ...(serverDirectory ? { directory: serverDirectory } : {}),
});
const engine = benchEngineClient(loadConfig(serverEnv).docker);
const call = writerOf(engine);

/** A memory field of the server's /proc/<pid>/status in MiB. */
const statusOfServerMiB = (field: 'VmRSS' | 'VmHWM') => statusMiB(serverPid, field);

/** The server's CPU time so far in seconds, user and system. */
function cpuSeconds(): { user: number; system: number } {
  const { user, system } = cpuTimes(serverPid);
  return { user: user / 1_000, system: system / 1_000 };
}

/** One sample of the server's metrics (the sum over its labels when several match). */
const metric = (name: string, labels: string) => metricSum(metricsPort, name, labels);

const clients = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    'bench/event-clients.ts',
    `${url.replace(/^http/, 'ws')}/graphql`,
    String(SUBSCRIBERS),
    label,
    String(EVENTS_PER_CLIENT),
    token,
    CLIENT,
  ],
  { stdio: ['pipe', 'pipe', 'inherit'] },
);
const output = createInterface({ input: clients.stdout })[Symbol.asyncIterator]();
await output.next();
if (clients.pid === undefined) throw new Error('the clients process did not start');
const clientsPid: number = clients.pid;

/** Milliseconds from each event's timestamp to its arrival at a direct reader of the engine. */
let directLatenciesMs: number[] = [];
const direct = new AbortController();
let directConnected = false;
const directReading = (async () => {
  for await (const event of streamEvents(engine, {
    filters: {
      label: [label],
      type: ['container'],
      event: ['create', 'start', 'die', 'destroy'],
    },
    signal: direct.signal,
    onConnected: () => {
      directConnected = true;
    },
  })) {
    directLatenciesMs.push(Date.now() - Number(BigInt(event.timeNano) / 1_000_000n));
  }
})().catch((error: unknown) => {
  if (!direct.signal.aborted) throw error;
});
// Subscriptions are live once the server counts them all (a bench may poll; tests may not).
while ((await metric('dockergraph_subscriptions_open', 'transport="websocket"')) < SUBSCRIBERS) {
  await new Promise((resolve) => setTimeout(resolve, 50));
}

interface Round {
  readonly seconds: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly rssMiB: number;
  /** The engine's own stream to a direct reader: p50 and max of its 40 events. */
  readonly directP50: number;
  readonly directMax: number;
  /** The clients' CPU time during the round (user + system), in seconds. */
  readonly clientSeconds: number;
  /** The server's CPU time during the round (user, system), in seconds. */
  readonly userSeconds: number;
  readonly systemSeconds: number;
}

async function round(index: number): Promise<Round> {
  const startedAt = performance.now();
  const cpuBefore = cpuSeconds();
  const clientsBefore = cpuTimes(clientsPid);
  directLatenciesMs = [];
  for (let container = 0; container < CONTAINERS; container++) {
    const { Id } = JSON.parse(
      await call('POST', '/containers/create', {
        Image: 'dockergraph/busybox:latest',
        Cmd: ['sleep', '3600'],
        Labels: { 'dockergraph.bench': run, 'dockergraph.bench.round': String(index) },
      }),
    ) as { Id: string };
    await call('POST', `/containers/${Id}/start`);
    await call('POST', `/containers/${Id}/stop`, undefined, { t: '0' });
    await call('DELETE', `/containers/${Id}`, undefined, { force: true });
  }
  const line = await output.next();
  if (line.done === true) throw new Error('the clients exited before the round was delivered');
  const seconds = (performance.now() - startedAt) / 1000;
  const cpuAfter = cpuSeconds();
  const clientsAfter = cpuTimes(clientsPid);
  const { latenciesMs } = JSON.parse(String(line.value)) as { latenciesMs: number[] };
  latenciesMs.sort((a, b) => a - b);
  while (directLatenciesMs.length < EVENTS_PER_CLIENT) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const directMs = directLatenciesMs.toSorted((a, b) => a - b);
  return {
    seconds,
    p50: percentile(latenciesMs, 50),
    p99: percentile(latenciesMs, 99),
    max: latenciesMs.at(-1) ?? Number.NaN,
    rssMiB: statusOfServerMiB('VmRSS'),
    directP50: percentile(directMs, 50),
    directMax: directMs.at(-1) ?? Number.NaN,
    clientSeconds:
      (clientsAfter.user + clientsAfter.system - clientsBefore.user - clientsBefore.system) / 1000,
    userSeconds: cpuAfter.user - cpuBefore.user,
    systemSeconds: cpuAfter.system - cpuBefore.system,
  };
}

try {
  while (!directConnected) await new Promise((resolve) => setTimeout(resolve, 10));
  await round(0); // Warm-up: the server's JIT, the engine's first container of the run.
  const rounds: Round[] = [];
  for (let index = 1; index <= ROUNDS; index++) rounds.push(await round(index));
  const upstream = await metric('dockergraph_upstream_connections_total', 'kind="events"');
  const peak = statusOfServerMiB('VmHWM');
  const fixed = (value: number) => value.toFixed(1);
  process.stdout.write(
    `${SUBSCRIBERS} subscribers, ${EVENTS_PER_CLIENT} events each per round (${SUBSCRIBERS * EVENTS_PER_CLIENT} deliveries), upstream /events connections: ${upstream}; clients: ${CLIENT}; built server (node ${process.version}, pid ${serverPid})\n`,
  );
  process.stdout.write(
    "| round | delivered in (s) | p50 (ms) | p99 (ms) | max (ms) | engine's own stream p50 / max (ms) | server CPU user + system (s) | clients' CPU (s) | server RSS after it (MiB) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
  );
  rounds.forEach((each, index) => {
    process.stdout.write(
      `| ${index + 1} | ${fixed(each.seconds)} | ${each.p50} | ${each.p99} | ${each.max} | ${each.directP50} / ${each.directMax} | ${each.userSeconds.toFixed(2)} + ${each.systemSeconds.toFixed(2)} | ${each.clientSeconds.toFixed(2)} | ${fixed(each.rssMiB)} |\n`,
    );
  });
  const of = (pick: (each: Round) => number) => median(rounds.map(pick));
  process.stdout.write(
    `| median | ${fixed(of((each) => each.seconds))} | ${of((each) => each.p50)} | ${of((each) => each.p99)} | ${of((each) => each.max)} | ${of((each) => each.directP50)} / ${of((each) => each.directMax)} | ${of((each) => each.userSeconds).toFixed(2)} + ${of((each) => each.systemSeconds).toFixed(2)} | ${of((each) => each.clientSeconds).toFixed(2)} | ${fixed(of((each) => each.rssMiB))} |\n`,
  );
  process.stdout.write(`server peak RSS (VmHWM): ${fixed(peak)} MiB\n`);
} finally {
  direct.abort();
  await directReading;
  // The clients leave first, so that the server writes to no closed socket; then it stops.
  const clientsExited = new Promise((resolve) => clients.once('exit', resolve));
  clients.stdin.end('close\n');
  await clientsExited;
  server.process.kill('SIGTERM');
  const { code } = await server.waitForExit(30_000);
  if (code !== 0) process.stderr.write(`server exited with ${code}:\n${server.stderr()}\n`);
  await removeBenchObjects(engine, run);
  await engine.close();
  // An engine this bench started is stopped, as the other benches do; one found running stays.
  if (engineStarted) await runEngineScript('stop');
}
