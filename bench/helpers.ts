// What the benches share: the overview query they measure, the containers they make, the
// engine writes and clean-up that make and remove them, how they read latencies, and the
// CPU time and memory of the processes they watch (from /proc).
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { REQUIRE_BANNER } from '../scripts/build.ts';
import type { DockerSettings } from '../src/config.ts';
import { DockerClient } from '../src/docker/client.ts';
import { resolveDockerEndpoint } from '../src/docker/docker-host.ts';
import { hashToken } from '../src/security/principal.ts';
import { waitFor } from '../test/helpers/wait-for.ts';

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

/** bench:compare's and bench:builds' flat question: a labelled set's containers, fields of the list only. */
export const FLAT_QUESTION = `query Flat($labels: [String!]!) {
  containers(filter: { labels: $labels }) {
    edges { node { id name state status created labels { name value } } }
  }
}`;

/** The nested question: the same with image, networks and mounts with their volume. */
export const NESTED_QUESTION = `query Nested($labels: [String!]!) {
  containers(filter: { labels: $labels }) {
    edges { node {
      id name state status
      image { id tags }
      networks { networkName ipAddress network { name } }
      mounts { destination volume { name } }
    } }
  }
}`;

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

/** A client of the engine the benches make their objects on and read directly. */
export function benchEngineClient(settings: DockerSettings): DockerClient {
  return DockerClient.create(resolveDockerEndpoint(settings), {
    connectTimeoutMs: 5_000,
    requestTimeoutMs: 60_000,
  });
}

/**
 * Creates the set `set` of run `run`: the labelled volume its containers mount (so that
 * {@link removeBenchObjects} removes it too), then `count` containers, created and not
 * started, `parallel` creates at a time. Answers their ids.
 */
export async function createBenchSet(
  write: EngineWrite,
  run: string,
  set: string,
  count: number,
  parallel = 1,
): Promise<string[]> {
  await write('POST', '/volumes/create', {
    Name: `${run}-${set}`,
    Labels: { 'dockergraph.bench': run },
  });
  const ids: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const created = await write('POST', '/containers/create', benchContainerBody(run, set), {
        name: `${run}-${set}-${index}`,
      });
      ids.push((JSON.parse(created) as { Id: string }).Id);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return ids;
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
 * The variables SERVER_ENV='{"NAME":"value"}' gives the measured server, over those of
 * `npm run start:built` ('{"GLIBC_TUNABLES":""}': glibc's allocator as it comes); none without it.
 */
export function serverEnvOverrides(): Record<string, string> {
  const text = process.env.SERVER_ENV;
  return text ? (JSON.parse(text) as Record<string, string>) : {};
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

/** A memory field of a process's /proc/<pid>/status (VmRSS: resident now; VmHWM: its peak), in MiB. */
export function statusMiB(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match?.[1]) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

/** Clock ticks per second of /proc/<pid>/stat's CPU times (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

/**
 * CPU time a process has used so far, user and system (kernel: mostly its socket writes), in
 * ms, from /proc/<pid>/stat (10 ms steps): steadier than latencies on a shared machine.
 */
export function cpuTimes(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
  const ms = (ticks: string | undefined) => (Number(ticks) * 1_000) / TICKS_PER_SECOND;
  return { user: ms(fields[11]), system: ms(fields[12]) };
}

/**
 * The sum of the samples of metric `name` whose labels include `labels` (e.g.
 * `transport="websocket"`), read from the server's metrics listener on `port`.
 */
export async function metricSum(port: number, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(labels)) sum += Number(line.split(' ').pop());
  }
  return sum;
}

/** Waits until the built artifact in `directory` (dist/<target>/) has written its code cache. */
export async function waitForCodeCache(directory: string): Promise<void> {
  await waitFor(() => readdirSync(directory).some((file) => file.endsWith('.cache')), {
    timeoutMs: 30_000,
    intervalMs: 20,
    what: `the code cache in ${directory}`,
  });
}

/**
 * esbuild options for a bench's own program run with plain node, bundled as the Node targets
 * are (one minified ESM file with a `require` banner), from the project's root.
 */
export const NODE_BUNDLE_OPTIONS = {
  absWorkingDir: fileURLToPath(new URL('..', import.meta.url)),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  logLevel: 'warning',
  banner: { js: REQUIRE_BANNER },
} as const;

/** A floor a bench runs beside dockergraph: its process, and its stdout's lines after the first. */
export interface Floor {
  readonly process: ChildProcessByStdio<Writable, Readable, null>;
  readonly pid: number;
  /** Its URL, from the first line it prints (`{"url":"…"}`) once listening. */
  readonly url: string;
  readonly lines: AsyncIterator<string>;
}

/**
 * Bundles the bench program `bench/<name>.ts` (a floor: the same work without dockergraph) and
 * runs it with plain node in production mode, as the server is run, with `env` besides;
 * answers once it printed where it listens. Closing its stdin stops it.
 */
export async function launchFloor(
  name: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<Floor> {
  const file = fileURLToPath(new URL(`../dist/bench/${name}.mjs`, import.meta.url));
  await build({ ...NODE_BUNDLE_OPTIONS, entryPoints: [`bench/${name}.ts`], outfile: file });
  const child = spawn(process.execPath, [file, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production', ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done === true || child.pid === undefined) throw new Error(`${name} did not start`);
  const { url } = JSON.parse(String(first.value)) as { url: string };
  return { process: child, pid: child.pid, url, lines };
}
