/**
 * Event delivery with many subscribers: 1,000 graphql-ws clients subscribe to
 * the `events` of labelled containers; the bench creates, starts, stops and
 * removes containers and measures, for every delivered event, the time from the
 * engine's timestamp to its arrival at each client (p50/p99), and the server's
 * memory with the subscribers connected. Run with `npm run bench:events`
 * (starts the private engine if needed; removes what it made).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { loadConfig } from '../src/config.ts';
import { DockerClient } from '../src/docker/client.ts';
import { resolveDockerEndpoint } from '../src/docker/docker-host.ts';
import { runEngineScript } from '../src/docker/embedded-engine.ts';
import { createLogger } from '../src/logger.ts';
import { startServer } from '../src/server.ts';
import { percentile, writerOf } from './helpers.ts';

const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 1000);
const CONTAINERS = 10;
const run = `bench-events-${process.pid}`;

const { dockerHost } = await runEngineScript('start');

const config = loadConfig({
  DOCKER_HOST: dockerHost,
  HOME: '/nonexistent',
  LOG_LEVEL: 'silent',
  HOST: '127.0.0.1',
  PORT: '0',
  // A thousand subscriptions at once would go over the default rate limit of the no-token bucket.
  DOCKERGRAPH_RATE_LIMIT: '0',
});
const docker = DockerClient.create(resolveDockerEndpoint(config.docker), {
  connectTimeoutMs: 5_000,
  requestTimeoutMs: 60_000,
});
const engine = DockerClient.create(resolveDockerEndpoint(config.docker), {
  connectTimeoutMs: 5_000,
  requestTimeoutMs: 60_000,
});
const server = await startServer(config, docker, createLogger('silent'));

const label = `dockergraph.bench=${run}`;
const memoryBefore = process.memoryUsage();
// The clients run in a process of their own: what this process holds is the server's.
const clients = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    'bench/event-clients.ts',
    `${server.url.replace(/^http/, 'ws')}/graphql`,
    String(SUBSCRIBERS),
    label,
    String(CONTAINERS * 4),
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const lines = createInterface({ input: clients.stdout });
const output = lines[Symbol.asyncIterator]();
await output.next();
// Subscriptions are live once the hub counts them all (a bench may poll; tests may not).
while (server.events.subscriberCount < SUBSCRIBERS) {
  await new Promise((resolve) => setTimeout(resolve, 50));
}
const memoryWith = process.memoryUsage();

const call = writerOf(engine);

const startedAt = performance.now();
for (let index = 0; index < CONTAINERS; index++) {
  const { Id } = JSON.parse(
    await call('POST', '/containers/create', {
      Image: 'dockergraph/busybox:latest',
      Cmd: ['sleep', '3600'],
      Labels: { 'dockergraph.bench': run },
    }),
  ) as { Id: string };
  await call('POST', `/containers/${Id}/start`);
  await call('POST', `/containers/${Id}/stop`, undefined, { t: '0' });
  await call('DELETE', `/containers/${Id}`, undefined, { force: true });
}
const result = await output.next();
const elapsedMs = performance.now() - startedAt;
const { latenciesMs } = JSON.parse(String(result.value)) as { latenciesMs: number[] };
const delivered = latenciesMs.length;
const expected = SUBSCRIBERS * CONTAINERS * 4;
latenciesMs.sort((a, b) => a - b);
const at = (p: number) => percentile(latenciesMs, p);
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
console.log(
  `| subscribers | events delivered | upstream /events connections | p50 (ms) | p99 (ms) | heap used with subscribers (MiB) | RSS (MiB) |`,
);
console.log(`| --- | --- | --- | --- | --- | --- | --- |`);
console.log(
  `| ${SUBSCRIBERS} | ${delivered} of ${expected} in ${(elapsedMs / 1000).toFixed(1)} s | ${server.events.upstreamConnections} | ${at(50)} | ${at(99)} | ${mib(memoryWith.heapUsed - memoryBefore.heapUsed)} more (${mib(memoryWith.heapUsed)}) | ${mib(memoryWith.rss)} |`,
);

await server.stop(1_000);
await engine.close();
