/**
 * Several engines in one graph beside one engine holding as many containers:
 * the overview query (containers with image, ports, networks and mounts with
 * their volume, as `npm run bench`) over a fleet of 3 engines with N containers
 * each, and over 1 engine with 3N containers, in one process, interleaved.
 *
 * Prints per setup and size: engine calls per query in total and per engine
 * (counted with `client.observe`), p50/p99 (ms) over BENCH_RUNS sequential
 * queries after a warm-up, and the ratio fleet / single. It checks that the
 * calls per engine do not grow with the containers (the same at every size) and
 * exits non-zero when they do.
 *
 * Each setup is served by a real server (`startServer`: bearer token, every
 * plugin and limit, request lines formatted but not printed, audit off) over
 * HTTP. The bench starts its own 4 private engines (three for the fleet, one
 * for the single engine; folders /tmp/<prefix>-{a,b,c,s}-e, network namespaces
 * <prefix>-{a,b,c,s}, prefix BENCH_FLEET_PREFIX, default dgfleet), creates the
 * containers (created, not started), and removes what it made and stops the
 * engines it started at the end, also on failure or SIGINT/SIGTERM.
 * BENCH_SIZES=10,50 (containers per fleet engine) and BENCH_RUNS=200 change
 * what it runs. Run with `npm run bench:fleet`.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { Pool } from 'undici';
import { loadConfig } from '../src/config.ts';
import { DockerClient } from '../src/docker/client.ts';
import { resolveDockerEndpoint } from '../src/docker/docker-host.ts';
import { runEngineScript } from '../src/docker/embedded-engine.ts';
import { EngineRegistry } from '../src/docker/engine-registry.ts';
import { createLogger } from '../src/logger.ts';
import { type RunningServer, startServer } from '../src/server.ts';
import {
  createBenchSet,
  overviewQuery,
  percentile,
  productionViewerEnv,
  removeBenchObjects,
  writerOf,
} from './helpers.ts';

const PREFIX = process.env.BENCH_FLEET_PREFIX ?? 'dgfleet';
const SIZES = (process.env.BENCH_SIZES ?? '10,50').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const WARMUP = 30;
const CREATE_PARALLEL = 6;
const FLEET_SIZE = 3;

const QUERY = overviewQuery('FleetOverview');

interface BenchEngine {
  readonly name: string;
  readonly dir: string;
  readonly netns: string;
  /** Set once the engine answers; null while starting or when it could not start. */
  client: DockerClient | null;
  /** This bench started it (so it stops it). */
  startedHere: boolean;
  /** A started server's registry holds the client (and closes it when the server stops). */
  served: boolean;
  calls: number;
}

function benchEngine(name: string, suffix: string): BenchEngine {
  return {
    name,
    dir: `/tmp/${PREFIX}-${suffix}-e`,
    netns: `${PREFIX}-${suffix}`,
    client: null,
    startedHere: false,
    served: false,
    calls: 0,
  };
}

const fleetEngines = ['a', 'b', 'c'].map((suffix) => benchEngine(`fleet-${suffix}`, suffix));
const singleEngine = benchEngine('single', 's');
const allEngines = [...fleetEngines, singleEngine];

const run = `fleet-${process.pid}`;
const token = randomBytes(32).toString('base64url');
const servers: RunningServer[] = [];
const pools: Pool[] = [];

function clientOf(engine: BenchEngine): DockerClient {
  if (!engine.client) throw new Error(`engine ${engine.name} is not running`);
  return engine.client;
}

/** Removes what this run made on an engine (containers, then their volumes). */
async function removeMade(engine: BenchEngine): Promise<void> {
  const docker = engine.client;
  if (!docker) return;
  await removeBenchObjects(docker, run);
}

let cleaning: Promise<void> | null = null;

/** Removes what the bench made and stops the engines it started; runs once. */
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    const problems: string[] = [];
    const note = (what: string) => (error: unknown) => {
      problems.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    };
    await Promise.all(pools.map((pool) => pool.close().catch(note('close pool'))));
    // Before the servers stop: stopping a server closes its registry's clients.
    await Promise.all(
      allEngines.map((engine) => removeMade(engine).catch(note(`remove from ${engine.name}`))),
    );
    await Promise.all(servers.map((server) => server.stop(1_000).catch(note('stop server'))));
    await Promise.all(
      allEngines.map(async (engine) => {
        if (!engine.served) await engine.client?.close().catch(note(`close ${engine.name}`));
        if (engine.startedHere) {
          await runEngineScript('stop', { dir: engine.dir, netns: engine.netns }).catch(
            note(`stop ${engine.name}`),
          );
        }
      }),
    );
    if (problems.length > 0) {
      process.stderr.write(`clean-up problems:\n${problems.join('\n')}\n`);
      process.exitCode = 1;
    }
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`${signal}: removing what the bench made, stopping its engines\n`);
    void cleanUp().finally(() => process.exit(130));
  });
}

interface Setup {
  readonly label: string;
  readonly engines: readonly BenchEngine[];
  readonly pool: Pool;
  times: number[];
  /** Engine calls of one query, per engine, as seen at every run (a set: should hold one value). */
  callsPerEngine: Map<string, Set<number>>;
}

async function ask(setup: Setup, body: string, expected: number): Promise<void> {
  const { statusCode, body: answer } = await setup.pool.request({
    method: 'POST',
    path: '/graphql',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body,
  });
  const result = (await answer.json()) as {
    errors?: unknown;
    data?: { containers?: { totalCount?: number } };
  };
  if (statusCode !== 200 || result.errors) {
    throw new Error(`${setup.label} answered ${statusCode}: ${JSON.stringify(result.errors)}`);
  }
  const total = result.data?.containers?.totalCount;
  if (total !== expected) {
    throw new Error(`${setup.label} listed ${String(total)} containers, expected ${expected}`);
  }
}

async function timeOnce(setup: Setup, body: string, expected: number): Promise<void> {
  const before = setup.engines.map((engine) => engine.calls);
  const start = performance.now();
  await ask(setup, body, expected);
  setup.times.push(performance.now() - start);
  setup.engines.forEach((engine, index) => {
    const calls = engine.calls - (before[index] ?? 0);
    const seen = setup.callsPerEngine.get(engine.name) ?? new Set<number>();
    seen.add(calls);
    setup.callsPerEngine.set(engine.name, seen);
  });
}

function callsText(setup: Setup): { total: string; perEngine: string } {
  const values = setup.engines.map((engine) => [...(setup.callsPerEngine.get(engine.name) ?? [])]);
  const single = values.every((seen) => seen.length === 1);
  const perEngine = setup.engines
    .map((engine, index) => `${engine.name}: ${(values[index] ?? []).join('/')}`)
    .join(', ');
  const total = single ? String(values.reduce((sum, seen) => sum + (seen[0] ?? 0), 0)) : 'varies';
  return { total, perEngine };
}

try {
  const loadBefore = loadavg();
  const begun = performance.now();
  const starts = await Promise.allSettled(
    allEngines.map(async (engine) => {
      const { dockerHost, started } = await runEngineScript('start', {
        dir: engine.dir,
        netns: engine.netns,
      });
      engine.startedHere = started;
      return { engine, dockerHost };
    }),
  );
  const failed = starts.flatMap((result) =>
    result.status === 'rejected' ? [String(result.reason)] : [],
  );
  const hosts = starts.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const firstHost = hosts[0]?.dockerHost ?? '';
  const config = loadConfig(productionViewerEnv(firstHost, token));
  for (const { engine, dockerHost } of hosts) {
    engine.client = DockerClient.create(resolveDockerEndpoint({ ...config.docker, dockerHost }), {
      connectTimeoutMs: 5_000,
      requestTimeoutMs: 120_000,
    });
    engine.client.observe(() => {
      engine.calls += 1;
    });
  }
  if (failed.length > 0) throw new Error(`could not start the engines:\n${failed.join('\n')}`);
  process.stderr.write(
    `4 engines ready in ${Math.round(performance.now() - begun)} ms (${allEngines
      .map((engine) => `${engine.name}${engine.startedHere ? '' : ' reused'}`)
      .join(', ')})\n`,
  );

  const reportError = (what: string, error: unknown, engine: string) => {
    process.stderr.write(`${engine}: ${what}: ${String(error)}\n`);
  };
  // Request lines are formatted as deployed (LOG_LEVEL=info) but not printed.
  const logger = createLogger('info', () => {});
  const serve = async (label: string, engines: BenchEngine[]): Promise<Setup> => {
    const registry = new EngineRegistry(
      engines.map((engine) => ({ name: engine.name, labels: {}, client: clientOf(engine) })),
      reportError,
    );
    const server = await startServer(config, registry, logger);
    servers.push(server);
    for (const engine of engines) engine.served = true;
    const pool = new Pool(server.url, { connections: 4 });
    pools.push(pool);
    return { label, engines, pool, times: [], callsPerEngine: new Map() };
  };
  const fleetServer = await serve('fleet', fleetEngines);
  const singleServer = await serve('single', [singleEngine]);

  const rows: string[] = [];
  const callsBySize = new Map<number, { fleet: Setup; single: Setup }>();
  for (const perEngine of SIZES) {
    const set = `n${perEngine}`;
    const total = perEngine * FLEET_SIZE;
    await Promise.all([
      ...fleetEngines.map((engine) =>
        createBenchSet(writerOf(clientOf(engine)), run, set, perEngine, CREATE_PARALLEL),
      ),
      createBenchSet(writerOf(clientOf(singleEngine)), run, set, total, CREATE_PARALLEL),
    ]);
    const body = JSON.stringify({
      query: QUERY,
      variables: { labels: [`dockergraph.bench=${run}`, `dockergraph.bench.set=${set}`] },
    });
    const fleet: Setup = { ...fleetServer, times: [], callsPerEngine: new Map() };
    const single: Setup = { ...singleServer, times: [], callsPerEngine: new Map() };
    for (let index = 0; index < WARMUP; index++) {
      await ask(fleet, body, total);
      await ask(single, body, total);
    }
    for (let index = 0; index < RUNS; index++) {
      // Interleaved, each first every other time: drift and noise fall on both alike.
      const order = index % 2 === 0 ? [fleet, single] : [single, fleet];
      for (const setup of order) await timeOnce(setup, body, total);
    }
    callsBySize.set(perEngine, { fleet, single });
    const stats = [fleet, single].map((setup) => {
      const sorted = [...setup.times].sort((a, b) => a - b);
      return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
    });
    const [fleetStats, singleStats] = stats;
    if (!fleetStats || !singleStats) throw new Error('no timings');
    for (const [setup, { p50, p99 }] of [
      [fleet, fleetStats],
      [single, singleStats],
    ] as const) {
      const { total: calls, perEngine: perEngineCalls } = callsText(setup);
      const shape =
        setup === fleet ? `3 engines × ${perEngine}` : `1 engine × ${perEngine * FLEET_SIZE}`;
      rows.push(
        `| ${shape} | ${calls} | ${perEngineCalls} | ${p50.toFixed(1)} | ${p99.toFixed(1)} |`,
      );
    }
    rows.push(
      `| ratio fleet / single (${total} containers) | | | ${(fleetStats.p50 / singleStats.p50).toFixed(2)} | ${(fleetStats.p99 / singleStats.p99).toFixed(2)} |`,
    );
  }
  const loadAfter = loadavg();
  console.log(
    `${RUNS} sequential runs per row after ${WARMUP} warm-up, interleaved; load average ${loadBefore
      .map((value) => value.toFixed(1))
      .join(' ')} before, ${loadAfter.map((value) => value.toFixed(1)).join(' ')} after\n`,
  );
  console.log('| setup | engine calls per query | per engine | p50 (ms) | p99 (ms) |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const row of rows) console.log(row);

  // The calls per engine must not grow with the containers: one value per engine, the same
  // at every size.
  const problems: string[] = [];
  for (const engine of allEngines) {
    const seen = new Set<number>();
    for (const [size, setups] of callsBySize) {
      const setup = fleetEngines.includes(engine) ? setups.fleet : setups.single;
      const values = [...(setup.callsPerEngine.get(engine.name) ?? [])];
      if (values.length !== 1) {
        problems.push(`${engine.name} at ${size}: calls varied between runs (${values.join('/')})`);
      }
      for (const value of values) seen.add(value);
    }
    if (seen.size > 1) {
      problems.push(
        `${engine.name}: calls per query differ between sizes (${[...seen].join('/')})`,
      );
    }
  }
  if (problems.length > 0) {
    console.log(`\nFAILED: engine calls per engine are not constant:\n${problems.join('\n')}`);
    process.exitCode = 1;
  } else {
    console.log(
      `\nOK: engine calls per engine are constant (the same at ${SIZES.join(', ')} containers per engine, at every run)`,
    );
  }
} finally {
  await cleanUp();
}
