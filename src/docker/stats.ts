import type { DockerClient } from './client.ts';
import { encodePathSegment } from './filters.ts';

/** One sample of `GET /containers/{id}/stats` (cgroup v1 and v2 engines). */
export interface EngineStats {
  read: string;
  preread?: string;
  pids_stats?: { current?: number; limit?: number };
  cpu_stats?: EngineCpuStats;
  precpu_stats?: EngineCpuStats;
  memory_stats?: {
    usage?: number;
    limit?: number;
    max_usage?: number;
    stats?: Record<string, number>;
  };
  blkio_stats?: { io_service_bytes_recursive?: { op: string; value: number }[] | null };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
}

interface EngineCpuStats {
  cpu_usage?: { total_usage?: number; percpu_usage?: number[] | null };
  system_cpu_usage?: number;
  online_cpus?: number;
}

/** The figures `docker stats` shows, computed from one engine sample. */
export interface ContainerStatsFigures {
  /** When the engine took the sample (RFC 3339). */
  readonly read: string;
  readonly cpuPercent: number;
  readonly onlineCpus: number;
  /** Memory in use less the page cache, in bytes. */
  readonly memoryUsage: number;
  readonly memoryLimit: number;
  readonly memoryPercent: number;
  readonly networkRxBytes: number;
  readonly networkTxBytes: number;
  readonly blockReadBytes: number;
  readonly blockWriteBytes: number;
  readonly pids: number;
}

/**
 * CPU % as the docker CLI computes it: the container's share of the host's
 * CPU time between the previous and this sample, times the online CPUs.
 */
function computeCpuPercent(stats: EngineStats, onlineCpus: number): number {
  const cpuDelta =
    (stats.cpu_stats?.cpu_usage?.total_usage ?? 0) -
    (stats.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const systemDelta =
    (stats.cpu_stats?.system_cpu_usage ?? 0) - (stats.precpu_stats?.system_cpu_usage ?? 0);
  if (systemDelta <= 0 || cpuDelta <= 0) return 0;
  return (cpuDelta / systemDelta) * onlineCpus * 100;
}

/**
 * Memory use without the page cache, as the docker CLI computes it: cgroup v1
 * engines report `total_inactive_file`, cgroup v2 engines `inactive_file`.
 */
function computeMemoryUsage(memory: EngineStats['memory_stats']): number {
  const usage = memory?.usage ?? 0;
  const inactive = memory?.stats?.total_inactive_file ?? memory?.stats?.inactive_file;
  return inactive !== undefined && inactive < usage ? usage - inactive : usage;
}

/** Turns one engine sample into the figures `docker stats` shows. */
export function computeStatsFigures(stats: EngineStats): ContainerStatsFigures {
  const onlineCpus =
    stats.cpu_stats?.online_cpus || stats.cpu_stats?.cpu_usage?.percpu_usage?.length || 0;
  const memoryUsage = computeMemoryUsage(stats.memory_stats);
  const memoryLimit = stats.memory_stats?.limit ?? 0;
  let blockReadBytes = 0;
  let blockWriteBytes = 0;
  for (const entry of stats.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = entry.op.charAt(0).toLowerCase();
    if (op === 'r') blockReadBytes += entry.value;
    else if (op === 'w') blockWriteBytes += entry.value;
  }
  let networkRxBytes = 0;
  let networkTxBytes = 0;
  for (const network of Object.values(stats.networks ?? {})) {
    networkRxBytes += network.rx_bytes;
    networkTxBytes += network.tx_bytes;
  }
  return {
    read: stats.read,
    cpuPercent: computeCpuPercent(stats, onlineCpus),
    onlineCpus,
    memoryUsage,
    memoryLimit,
    memoryPercent: memoryLimit > 0 ? (memoryUsage / memoryLimit) * 100 : 0,
    networkRxBytes,
    networkTxBytes,
    blockReadBytes,
    blockWriteBytes,
    pids: stats.pids_stats?.current ?? 0,
  };
}

/**
 * `GET /containers/{id}/stats?stream=false`: one sample. The engine waits for a
 * second reading so that `precpu_stats` is filled and CPU % can be computed.
 */
export function readContainerStats(client: DockerClient, id: string): Promise<EngineStats> {
  return client.json<EngineStats>(
    {
      path: `/containers/${encodePathSegment(id)}/stats`,
      query: { stream: false },
      timeoutMs: 30_000,
    },
    `read stats of container "${id}"`,
  );
}
