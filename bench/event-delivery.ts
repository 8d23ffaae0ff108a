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
 * And beside dockergraph, the floor (`bench/event-floor.ts`): a plain Node fan-out of the
 * engine's events to as many WebSocket subscribers, without GraphQL, bundled and run as the server
 * is, with its own 1,000 clients (another process of event-clients.ts) on a label of its own.
 * Rounds alternate between the two (which goes first alternates too), so that both see the
 * same machine; the clients of the side not in its round stay connected and idle.
 * One warm-up round of each, then ROUNDS (default 3) rounds of each: each is printed, and
 * their medians, and the ratios of dockergraph's medians to the floor's.
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
  launchFloor,
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

/** One sample of the server's metrics (the sum over its labels when several match). */
const metric = (name: string, labels: string) => metricSum(metricsPort, name, labels);

/** A server under test and its subscribers: dockergraph or the floor. */
interface Side {
  readonly name: string;
  /** The label its clients subscribe to, which its rounds' containers carry. */
  readonly label: string;
  readonly serverPid: number;
  readonly clients: ReturnType<typeof spawn>;
  readonly clientsPid: number;
  /** The clients' lines: "ready", then one per round. */
  readonly output: AsyncIterator<string>;
}

/**
 * Starts a process of SUBSCRIBERS clients of the server `name` (at `wsUrl`, process
 * `serverPid`) on `sideLabel`; answers once they are asked for.
 */
async function startSide(
  name: string,
  serverPid: number,
  wsUrl: string,
  sideLabel: string,
): Promise<Side> {
  const clients = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'bench/event-clients.ts',
      wsUrl,
      String(SUBSCRIBERS),
      sideLabel,
      String(EVENTS_PER_CLIENT),
      token,
      CLIENT,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const output = createInterface({ input: clients.stdout })[Symbol.asyncIterator]();
  await output.next();
  if (clients.pid === undefined) throw new Error(`the ${name} clients process did not start`);
  return { name, label: sideLabel, serverPid, clients, clientsPid: clients.pid, output };
}

// The floor, with the allocator setting of `npm run start:built` as the server has it.
const floorLabel = `dockergraph.bench.side=${run}-floor`;
const graphLabel = `dockergraph.bench.side=${run}-graph`;
const floor = await launchFloor(
  'event-floor',
  [dockerHost.replace(/^unix:\/\//, ''), floorLabel, String(SUBSCRIBERS)],
  { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=65536' },
);
// Its next line comes once SUBSCRIBERS subscriptions were asked of it.
const floorSubscribed = floor.lines.next();

const sides: readonly Side[] = [
  await startSide('dockergraph', serverPid, `${url.replace(/^http/, 'ws')}/graphql`, graphLabel),
  await startSide('floor', floor.pid, floor.url, floorLabel),
];

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

/** The server's CPU time so far in seconds, user and system. */
function cpuSecondsOf(pid: number): { user: number; system: number } {
  const { user, system } = cpuTimes(pid);
  return { user: user / 1_000, system: system / 1_000 };
}

/** Makes the round's 40 events on `side`'s label and measures their delivery to its clients. */
async function round(side: Side, index: number): Promise<Round> {
  const startedAt = performance.now();
  const cpuBefore = cpuSecondsOf(side.serverPid);
  const clientsBefore = cpuTimes(side.clientsPid);
  const [sideKey, sideValue] = side.label.split('=') as [string, string];
  directLatenciesMs = [];
  for (let container = 0; container < CONTAINERS; container++) {
    const { Id } = JSON.parse(
      await call('POST', '/containers/create', {
        Image: 'dockergraph/busybox:latest',
        Cmd: ['sleep', '3600'],
        Labels: {
          'dockergraph.bench': run,
          'dockergraph.bench.round': String(index),
          [sideKey]: sideValue,
        },
      }),
    ) as { Id: string };
    await call('POST', `/containers/${Id}/start`);
    await call('POST', `/containers/${Id}/stop`, undefined, { t: '0' });
    await call('DELETE', `/containers/${Id}`, undefined, { force: true });
  }
  const line = await side.output.next();
  if (line.done === true)
    throw new Error(`the ${side.name} clients exited before the round was delivered`);
  const seconds = (performance.now() - startedAt) / 1000;
  const cpuAfter = cpuSecondsOf(side.serverPid);
  const clientsAfter = cpuTimes(side.clientsPid);
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
    rssMiB: statusMiB(side.serverPid, 'VmRSS'),
    directP50: percentile(directMs, 50),
    directMax: directMs.at(-1) ?? Number.NaN,
    clientSeconds:
      (clientsAfter.user + clientsAfter.system - clientsBefore.user - clientsBefore.system) / 1000,
    userSeconds: cpuAfter.user - cpuBefore.user,
    systemSeconds: cpuAfter.system - cpuBefore.system,
  };
}

const fixed = (value: number) => value.toFixed(1);

/** Prints `side`'s table: a row per round and their medians. */
function printRounds(side: Side, rounds: readonly Round[]): void {
  process.stdout.write(
    `\n${side.name} (pid ${side.serverPid})\n| round | delivered in (s) | p50 (ms) | p99 (ms) | max (ms) | engine's own stream p50 / max (ms) | server CPU user + system (s) | clients' CPU (s) | server RSS after it (MiB) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n`,
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
  process.stdout.write(`peak RSS (VmHWM): ${fixed(statusMiB(side.serverPid, 'VmHWM'))} MiB\n`);
}

/** Resolves when `child` has exited, at once if it has already. */
function exitOf(child: ReturnType<typeof spawn>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

try {
  // Subscriptions are live once the server counts them all (a bench may poll; tests may not),
  // and once the floor said so.
  while ((await metric('dockergraph_subscriptions_open', 'transport="websocket"')) < SUBSCRIBERS) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if ((await floorSubscribed).done === true)
    throw new Error('the floor exited before its clients subscribed');
  while (!directConnected) await new Promise((resolve) => setTimeout(resolve, 10));
  // Warm-up: each server's JIT, the engine's first containers of the run.
  for (const side of sides) await round(side, 0);
  const rounds = new Map<Side, Round[]>(sides.map((side) => [side, []]));
  for (let index = 1; index <= ROUNDS; index++) {
    // Which side goes first alternates, so that neither has the quieter half of every pair.
    const order = index % 2 === 1 ? sides : sides.toReversed();
    for (const side of order) rounds.get(side)?.push(await round(side, index));
  }
  const upstream = await metric('dockergraph_upstream_connections_total', 'kind="events"');
  process.stdout.write(
    `${SUBSCRIBERS} subscribers per server, ${EVENTS_PER_CLIENT} events each per round (${SUBSCRIBERS * EVENTS_PER_CLIENT} deliveries), dockergraph's upstream /events connections: ${upstream}; clients: ${CLIENT}; node ${process.version}; rounds alternate between the two servers\n`,
  );
  for (const side of sides) printRounds(side, rounds.get(side) ?? []);
  const [graph, floor] = sides.map((side) => rounds.get(side) ?? []) as [Round[], Round[]];
  const ratio = (pick: (each: Round) => number) =>
    (median(graph.map(pick)) / median(floor.map(pick))).toFixed(2);
  process.stdout.write(
    `\ndockergraph / floor, medians: p50 ${ratio((each) => each.p50)}x, p99 ${ratio((each) => each.p99)}x, server CPU ${ratio((each) => each.userSeconds + each.systemSeconds)}x (user ${ratio((each) => each.userSeconds)}x, system ${ratio((each) => each.systemSeconds)}x), RSS after delivery ${ratio((each) => each.rssMiB)}x\n`,
  );
} finally {
  direct.abort();
  await directReading;
  // The clients leave first, so that no server writes to a closed socket; then they stop.
  await Promise.all(
    sides.map((side) => {
      const exited = exitOf(side.clients);
      side.clients.stdin?.end('close\n');
      return exited;
    }),
  );
  const floorExited = exitOf(floor.process);
  floor.process.stdin.end();
  await floorExited;
  server.process.kill('SIGTERM');
  const { code } = await server.waitForExit(30_000);
  if (code !== 0) process.stderr.write(`server exited with ${code}:\n${server.stderr()}\n`);
  await removeBenchObjects(engine, run);
  await engine.close();
  // An engine this bench started is stopped, as the other benches do; one found running stays.
  if (engineStarted) await runEngineScript('stop');
}
