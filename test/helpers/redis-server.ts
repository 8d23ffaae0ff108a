// A real redis-server (Debian's) on a free loopback port, with no persistence: the store
// replicas share for rate limits and registered operations.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.ts';
import { waitFor } from './wait-for.ts';

export interface RedisServer {
  readonly url: string;
  /** A client of it, for what a test sets up or reads behind dockergraph's back. */
  readonly client: Redis;
  /** Stops the server (the same port stays reserved for `start`). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  /** Stops it and removes its folder. */
  close(): Promise<void>;
}

export async function startRedisServer(): Promise<RedisServer> {
  const folder = mkdtempSync(join(tmpdir(), 'dg-redis-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  // The client reconnects by itself while the server is stopped on purpose.
  client.on('error', () => {});

  async function start(): Promise<void> {
    const started = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        folder,
      ],
      { stdio: 'ignore' },
    );
    child = started;
    const probe = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => {});
    try {
      await waitFor(
        async () => {
          if (started.exitCode !== null)
            throw new Error(`redis-server exited with ${started.exitCode}`);
          try {
            if (probe.status !== 'ready') await probe.connect();
            return (await probe.ping()) === 'PONG';
          } catch {
            probe.disconnect();
            return false;
          }
        },
        { timeoutMs: 20_000, what: `redis-server on port ${port}` },
      );
    } finally {
      probe.disconnect();
    }
  }

  async function stop(): Promise<void> {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGTERM');
    await exited;
  }

  await start();
  await client.connect();
  return {
    url,
    client,
    stop,
    start,
    async close() {
      client.disconnect();
      await stop();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
