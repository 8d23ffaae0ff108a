/**
 * The read model (DOCKERGRAPH_READ_MODEL) beside the engine's own list: the
 * dashboard's overview query (containers of a set with image, ports, networks,
 * mounts and their volume) through dockergraph with the model on (exact: one
 * catch-up call per request), eventual (no call) and off, and
 * the engine's `GET /containers/json?all=1` for the same set, interleaved in
 * one process over 200 containers (BENCH_SIZES to change).
 *
 * Prints p50/p99 (ms), engine calls per query (the request's own; the model's
 * background re-reads are counted apart) and the ratio to the engine's list.
 * Run with `npx tsx bench/read-model.ts`; it starts the private engine of
 * DOCKERGRAPH_ENGINE_DIR / DOCKERGRAPH_ENGINE_NETNS when needed and removes
 * what it made.
 */
// First, as src/server.ts does: graphql-js in its production mode, as deployed.
import '../src/graphql-mode.ts';
import { createApp, registryOptionsOf, singleEngineRegistry } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { runEngineScript } from '../src/docker/embedded-engine.ts';
import { createLogger } from '../src/logger.ts';
import {
  benchEngineClient,
  createBenchSet,
  overviewQuery,
  percentile,
  removeBenchObjects,
  writerOf,
} from './helpers.ts';

const QUERY = overviewQuery('BenchOverview');

const SIZES = (process.env.BENCH_SIZES ?? '200').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const engineInstance = await runEngineScript('start');
const run = `bench-rm-${process.pid}`;
const logger = createLogger('silent');

function clientOf(dockerHost: string) {
  const config = loadConfig({ DOCKER_HOST: dockerHost, HOME: '/nonexistent', LOG_LEVEL: 'silent' });
  return benchEngineClient(config.docker);
}

function appOf(readModel: 'on' | 'eventual' | 'off', compiled = true) {
  const config = loadConfig({
    DOCKER_HOST: engineInstance.dockerHost,
    HOME: '/nonexistent',
    LOG_LEVEL: 'silent',
    DOCKERGRAPH_AUDIT: 'off',
    DOCKERGRAPH_RATE_LIMIT: '0',
    DOCKERGRAPH_MAX_COST: '10000000',
    DOCKERGRAPH_READ_MODEL: readModel,
    DOCKERGRAPH_COMPILED_EXECUTION: compiled ? 'on' : 'off',
  });
  const docker = clientOf(engineInstance.dockerHost);
  const engines = singleEngineRegistry(
    config.engineName,
    docker,
    logger,
    registryOptionsOf(config, false),
  );
  const app = createApp(config, { engines, logger });
  let calls = 0;
  docker.observe(() => {
    calls += 1;
  });
  const model = engines.list()[0]?.readModel ?? null;
  return {
    app,
    engines,
    docker,
    model,
    /** Calls made by requests: all calls less the model's own. */
    requestCalls: () => calls - (model?.counters.engineCalls ?? 0),
  };
}

const direct = clientOf(engineInstance.dockerHost);
const on = appOf('on');
const eventual = appOf('eventual');
const off = appOf('off');
// The same model, executed by graphql-js's interpreter: what compiled execution changes.
const interpreted = appOf('on', false);

async function timed(run: () => Promise<unknown>, into: number[]) {
  const start = performance.now();
  await run();
  into.push(performance.now() - start);
}

async function query(app: ReturnType<typeof appOf>, set: string) {
  const response = await app.app.fetch('http://bench/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: QUERY, variables: { labels: [`dockergraph.bench.set=${set}`] } }),
  });
  const result = (await response.json()) as { errors?: unknown };
  if (result.errors) throw new Error(JSON.stringify(result.errors));
}

/** Until `app`'s model has read everything again since the last create's event. */
async function untilWarm(app: ReturnType<typeof appOf>, set: string, size: number) {
  const model = app.model;
  if (!model) throw new Error('the read model is off');
  for (;;) {
    if (model.warm) {
      await query(app, set);
      const answer = await model.containers();
      if (
        answer &&
        answer.filter((c) => c.Labels?.['dockergraph.bench.set'] === set).length === size
      )
        return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

try {
  console.log(
    '| containers | what | engine calls per query | p50 (ms) | p99 (ms) | p50 / engine list p50 |',
  );
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const size of SIZES) {
    const set = `rm${size}`;
    await createBenchSet(writerOf(direct), run, set, size);
    await untilWarm(on, set, size);
    await untilWarm(eventual, set, size);
    await untilWarm(interpreted, set, size);
    const model = on.model;
    if (!model) throw new Error('the read model is off');
    const times = {
      engine: [] as number[],
      on: [] as number[],
      eventual: [] as number[],
      off: [] as number[],
      interpreted: [] as number[],
      lists: [] as number[],
    };
    let onCalls = 0;
    let eventualCalls = 0;
    let offCalls = 0;
    let interpretedCalls = 0;
    const filters = JSON.stringify({ label: [`dockergraph.bench.set=${set}`] });
    for (let index = 0; index < RUNS; index++) {
      await timed(
        () => direct.json({ path: '/containers/json', query: { all: true, filters } }, 'list'),
        times.engine,
      );
      // The model's own share: the four lists it hands a request.
      await timed(
        () => Promise.all([model.containers(), model.images(), model.volumes(), model.networks()]),
        times.lists,
      );
      const onBefore = on.requestCalls();
      await timed(() => query(on, set), times.on);
      onCalls = on.requestCalls() - onBefore;
      const eventualBefore = eventual.requestCalls();
      await timed(() => query(eventual, set), times.eventual);
      eventualCalls = eventual.requestCalls() - eventualBefore;
      const offBefore = off.requestCalls();
      await timed(() => query(off, set), times.off);
      offCalls = off.requestCalls() - offBefore;
      const interpretedBefore = interpreted.requestCalls();
      await timed(() => query(interpreted, set), times.interpreted);
      interpretedCalls = interpreted.requestCalls() - interpretedBefore;
    }
    for (const list of Object.values(times)) list.sort((a, b) => a - b);
    const base = percentile(times.engine, 50);
    const row = (what: string, sorted: number[], calls: number | string) =>
      console.log(
        `| ${size} | ${what} | ${calls} | ${percentile(sorted, 50).toFixed(2)} | ${percentile(sorted, 99).toFixed(2)} | ${(percentile(sorted, 50) / base).toFixed(2)} |`,
      );
    row('engine `GET /containers/json?all=1` (label filter)', times.engine, '1 (itself)');
    row('overview query, read model on, exact (warm; the default)', times.on, onCalls);
    row('overview query, read model on, eventual (warm)', times.eventual, eventualCalls);
    row('overview query, read model off', times.off, offCalls);
    row(
      'overview query, read model on, interpreted (DOCKERGRAPH_COMPILED_EXECUTION=off)',
      times.interpreted,
      interpretedCalls,
    );
    row("the read model's four lists alone (no GraphQL)", times.lists, 0);
  }
} finally {
  on.engines.endLiveStreams('bench done');
  eventual.engines.endLiveStreams('bench done');
  off.engines.endLiveStreams('bench done');
  interpreted.engines.endLiveStreams('bench done');
  await removeBenchObjects(direct, run);
  await Promise.all([
    on.docker.close(),
    eventual.docker.close(),
    off.docker.close(),
    direct.close(),
  ]);
  if (engineInstance.started) await runEngineScript('stop');
}
