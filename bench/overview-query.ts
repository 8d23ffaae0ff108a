/**
 * How long the README's overview query takes and how many engine calls it
 * costs, for 1, 10 and 50 containers on the private engine. Run with
 * `npm run bench` (starts the private engine if needed; removes what it made).
 */
import { randomBytes } from 'node:crypto';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { runEngineScript } from '../src/docker/embedded-engine.ts';
import { createLogger } from '../src/logger.ts';
import { hashToken } from '../src/security/principal.ts';
import {
  benchEngineClient,
  createBenchSet,
  overviewQuery,
  percentile,
  removeBenchObjects,
  writerOf,
} from './helpers.ts';

const QUERY = overviewQuery('BenchOverview');

const RUNS = 100;
const { dockerHost, started: engineStarted } = await runEngineScript('start');

const run = `bench-${process.pid}`;
// Measured as deployed: bearer tokens, a viewer and a viewer limited to the bench's label.
const tokens = {
  viewer: randomBytes(32).toString('base64url'),
  limited: randomBytes(32).toString('base64url'),
};
const config = loadConfig({
  DOCKER_HOST: dockerHost,
  HOME: '/nonexistent',
  LOG_LEVEL: 'silent',
  DOCKERGRAPH_AUDIT: 'off',
  DOCKERGRAPH_RATE_LIMIT: '0',
  DOCKERGRAPH_TOKENS: JSON.stringify({
    tokens: [
      { id: 'viewer', role: 'viewer', sha256: hashToken(tokens.viewer) },
      {
        id: 'limited',
        role: 'viewer',
        sha256: hashToken(tokens.limited),
        labels: { 'dockergraph.bench': run },
      },
    ],
  }),
});
const docker = benchEngineClient(config.docker);
const app = createApp(config, { docker, logger: createLogger('silent') });

const engine = writerOf(docker);

async function createContainers(count: number, set: string) {
  for (const id of await createBenchSet(engine, run, set, count)) {
    await engine('POST', `/containers/${id}/start`);
  }
}

async function measure(set: string, token: string) {
  const body = JSON.stringify({
    query: QUERY,
    variables: { labels: [`dockergraph.bench.set=${set}`] },
  });
  const times: number[] = [];
  let calls = 0;
  let counted = 0;
  const stopCounting = docker.observe(() => {
    counted += 1;
  });
  for (let index = 0; index < RUNS; index++) {
    const before = counted;
    const start = performance.now();
    const response = await app.fetch('http://bench/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body,
    });
    const result = (await response.json()) as { errors?: unknown };
    times.push(performance.now() - start);
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    calls = counted - before;
  }
  stopCounting();
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99), calls };
}

try {
  console.log(`| containers | token | engine calls per query | p50 (ms) | p99 (ms) |`);
  console.log(`| --- | --- | --- | --- | --- |`);
  for (const count of [1, 10, 50]) {
    const set = `n${count}`;
    await createContainers(count, set);
    for (const [kind, token] of Object.entries(tokens)) {
      const { p50, p99, calls } = await measure(set, token);
      console.log(`| ${count} | ${kind} | ${calls} | ${p50.toFixed(1)} | ${p99.toFixed(1)} |`);
    }
  }
} finally {
  await removeBenchObjects(docker, run);
  await docker.close();
  // An engine this bench started is stopped, as the other benches do; one found running stays.
  if (engineStarted) await runEngineScript('stop');
}
