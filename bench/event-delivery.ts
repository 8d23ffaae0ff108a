/**
 * Event delivery with many subscribers: 1,000 graphql-ws clients subscribe to
 * the `events` of labelled containers; the bench creates, starts, stops and
 * removes containers and measures, for every delivered event, the time from the
 * engine's timestamp to its arrival at each client (p50/p99), and the server's
 * memory with the subscribers connected. Run with `npm run bench:events`
 * (starts the private engine if needed; removes what it made).
 */
import { execFileSync } from 'node:child_process';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.ts';
import { DockerClient } from '../src/docker/client.ts';
import { resolveDockerEndpoint } from '../src/docker/docker-host.ts';
import { createLogger } from '../src/logger.ts';
import { startServer } from '../src/server.ts';

const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 1000);
const CONTAINERS = 10;
const run = `bench-events-${process.pid}`;

const started = execFileSync('bash', ['scripts/engine.sh', 'start'], { encoding: 'utf8' });
const dockerHost = /DOCKER_HOST=(\S+)/.exec(started)?.[1];
if (!dockerHost) throw new Error(`scripts/engine.sh start printed no DOCKER_HOST: ${started}`);

const config = loadConfig({
  DOCKER_HOST: dockerHost,
  HOME: '/nonexistent',
  LOG_LEVEL: 'silent',
  HOST: '127.0.0.1',
  PORT: '0',
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

const QUERY = `subscription BenchEvents($labels: [String!]) {
  events(filter: { types: [CONTAINER], actions: ["create", "start", "die", "destroy"], labels: $labels }) {
    kind event { action timeNano }
  }
}`;

const latenciesMs: number[] = [];
let delivered = 0;
const expected = SUBSCRIBERS * CONTAINERS * 4;
let allDelivered: () => void = () => {};
const done = new Promise<void>((resolve) => {
  allDelivered = resolve;
});

const memoryBefore = process.memoryUsage();
const clients: Client[] = [];
for (let index = 0; index < SUBSCRIBERS; index++) {
  const client = createClient({
    url: `${server.url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
  });
  clients.push(client);
  client.subscribe<{
    events: { kind: string; event: { action: string; timeNano: string } | null };
  }>(
    { query: QUERY, variables: { labels: [`dockergraph.bench=${run}`] } },
    {
      next: (message) => {
        const event = message.data?.events.event;
        if (!event) return;
        latenciesMs.push(Date.now() - Number(BigInt(event.timeNano) / 1_000_000n));
        delivered += 1;
        if (delivered === expected) allDelivered();
      },
      error: (error) => console.error('subscription error', error),
      complete: () => {},
    },
  );
}
// Subscriptions are live once the hub counts them all (a bench may poll; tests may not).
while (server.events.subscriberCount < SUBSCRIBERS) {
  await new Promise((resolve) => setTimeout(resolve, 50));
}
const memoryWith = process.memoryUsage();

async function call(
  method: 'POST' | 'DELETE',
  path: string,
  body?: object,
  query?: Record<string, string | boolean>,
) {
  const response = await engine.request(
    {
      method,
      path,
      ...(query ? { query } : {}),
      ...(body
        ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
        : {}),
    },
    `${method} ${path}`,
  );
  return response.body.text();
}

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
const timeout = setTimeout(() => allDelivered(), 60_000);
await done;
clearTimeout(timeout);
const elapsedMs = performance.now() - startedAt;

latenciesMs.sort((a, b) => a - b);
const at = (p: number) =>
  latenciesMs[Math.min(latenciesMs.length - 1, Math.floor((p / 100) * latenciesMs.length))] ??
  Number.NaN;
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
console.log(
  `| subscribers | events delivered | upstream /events connections | p50 (ms) | p99 (ms) | heap used with subscribers (MiB) | RSS (MiB) |`,
);
console.log(`| --- | --- | --- | --- | --- | --- | --- |`);
console.log(
  `| ${SUBSCRIBERS} | ${delivered} of ${expected} in ${(elapsedMs / 1000).toFixed(1)} s | ${server.events.upstreamConnections} | ${at(50)} | ${at(99)} | ${mib(memoryWith.heapUsed - memoryBefore.heapUsed)} more (${mib(memoryWith.heapUsed)}) | ${mib(memoryWith.rss)} |`,
);
console.log('(clients and server share one process: the memory figures include the clients)');

await Promise.all(clients.map((client) => client.dispose()));
await server.stop(1_000);
await engine.close();
