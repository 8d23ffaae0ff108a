// What the benches share: the overview query they measure, the containers they make, the
// engine writes and clean-up that make and remove them, how they read latencies, and the
// built server they launch and watch (its address, CPU time and memory from /proc).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { DockerClient } from '../src/docker/client.ts';
import { hashToken } from '../src/security/principal.ts';
import { waitFor } from '../test/helpers/wait-for.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The README's overview query, under the operation name `name`. */
export function overviewQuery(name: string): string {
  return `query ${name}($labels: [String!]!) {
  containers(filter: { labels: $labels }) {
    totalCount
    edges { node {
      name state status
      image { tags }
      ports { privatePort publicPort protocol }
      networks { networkName ipAddress network { name } }
      mounts { destination volume { name } }
    } }
  }
}`;
}

/** The `POST /containers/create` body of a bench container: the shape both benches list. */
export function benchContainerBody(run: string, set: string) {
  return {
    Image: 'dockergraph/busybox:latest',
    Cmd: ['sleep', '3600'],
    Labels: { 'dockergraph.bench': run, 'dockergraph.bench.set': set },
    ExposedPorts: { '80/tcp': {} },
    HostConfig: { Binds: [`${run}-${set}:/data`] },
  };
}

/** Sends one write to the engine (a JSON `body`, a `query`); the answer's text. */
export type EngineWrite = (
  method: 'POST' | 'DELETE',
  path: string,
  body?: object,
  query?: Record<string, string | boolean>,
) => Promise<string>;

/** Writes to the engine `docker` talks to. */
export function writerOf(docker: DockerClient): EngineWrite {
  return async (method, path, body, query) => {
    const response = await docker.request(
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
  };
}

/** Removes what run `run` made on an engine: its containers, then their volumes. */
export async function removeBenchObjects(docker: DockerClient, run: string): Promise<void> {
  const filters = JSON.stringify({ label: [`dockergraph.bench=${run}`] });
  const containers = await docker.json<{ Id: string }[]>(
    { path: '/containers/json', query: { all: true, filters } },
    'list bench containers',
  );
  const engineWrite = writerOf(docker);
  for (const container of containers) {
    await engineWrite('DELETE', `/containers/${container.Id}`, undefined, {
      force: true,
      v: true,
    });
  }
  const volumes = await docker.json<{ Volumes: { Name: string }[] | null }>(
    { path: '/volumes', query: { filters } },
    'list bench volumes',
  );
  for (const volume of volumes.Volumes ?? []) {
    await engineWrite('DELETE', `/volumes/${volume.Name}`);
  }
}

/** The `p`th percentile of latencies sorted from lowest. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/**
 * The settings of a server measured as deployed: production mode, one viewer token,
 * no audit log and no rate limit (the bench is the only client), the engine at `dockerHost`.
 */
export function productionViewerEnv(dockerHost: string, token: string): Record<string, string> {
  return {
    DOCKER_HOST: dockerHost,
    HOME: '/nonexistent',
    PORT: '0',
    DOCKERGRAPH_EMBEDDED_ENGINE: 'false',
    DOCKERGRAPH_AUDIT: 'off',
    DOCKERGRAPH_RATE_LIMIT: '0',
    DOCKERGRAPH_PRODUCTION: 'true',
    DOCKERGRAPH_TOKENS: JSON.stringify({
      tokens: [{ id: 'bench', role: 'viewer', sha256: hashToken(token) }],
    }),
  };
}

/** The median of `values` (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** Resident memory of a process in MiB, from /proc. */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kib / 1024;
}

/** Clock ticks per second of /proc/<pid>/stat's CPU times (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU time (user and system) a process has used so far, in ms, from /proc (10 ms steps). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
  return ((Number(fields[11]) + Number(fields[12])) * 1_000) / TICKS_PER_SECOND;
}

/** Waits until the built artifact in `directory` (dist/<target>/) has written its code cache. */
export async function waitForCodeCache(directory: string): Promise<void> {
  await waitFor(() => readdirSync(directory).some((file) => file.endsWith('.cache')), {
    timeoutMs: 30_000,
    intervalMs: 20,
    what: `the code cache in ${directory}`,
  });
}

/** The built full server (dist/server/index.mjs) running in a process of its own. */
export interface BuiltServer {
  readonly pid: number;
  /** Its GraphQL endpoint's origin, e.g. http://127.0.0.1:41234. */
  readonly url: string;
  /** The `/metrics` URL of its metrics listener, when DOCKERGRAPH_METRICS_LISTEN is set. */
  readonly metricsUrl: string | null;
  stop(): Promise<void>;
}

/**
 * Launches the built full server as deployed (`npm run start:built`: plain node, production
 * mode, its code cache) with `env` as its whole environment, and resolves once it listens.
 * Its log lines are read and dropped, as a log collector would take them.
 */
export async function launchBuiltServer(env: Record<string, string>): Promise<BuiltServer> {
  const child = spawn(process.execPath, ['dist/server/index.mjs'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const listening = await new Promise<{ url: string; metrics?: string }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the built server exited with ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.includes('dockergraph listening')) return;
      resolve(JSON.parse(line) as { url: string; metrics?: string });
    });
  });
  return {
    pid: child.pid ?? 0,
    url: listening.url.replace(/\/graphql$/, ''),
    metricsUrl: listening.metrics ?? null,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
