import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { computeStatsFigures, type EngineStats } from '../../src/docker/stats.ts';

const captured = JSON.parse(
  readFileSync(new URL('../fixtures/stats.json', import.meta.url), 'utf8'),
) as EngineStats;

describe('computeStatsFigures, as `docker stats` computes them', () => {
  it('turns a captured cgroup v1 sample into CPU %, memory without cache, network and pids', () => {
    const figures = computeStatsFigures(captured);
    // (3012969243 - 2022409618) / (2119790000000 - 2117810000000) * 2 CPUs * 100
    expect(figures.cpuPercent).toBeCloseTo(100.0565, 3);
    expect(figures.onlineCpus).toBe(2);
    // usage 3350528 less total_inactive_file 2048000
    expect(figures.memoryUsage).toBe(1_302_528);
    expect(figures.memoryLimit).toBe(64 * 1024 * 1024);
    expect(figures.memoryPercent).toBeCloseTo((1_302_528 / 67_108_864) * 100, 6);
    expect(figures.networkRxBytes).toBe(1042);
    expect(figures.networkTxBytes).toBe(0);
    expect(figures.blockReadBytes).toBe(0);
    expect(figures.pids).toBe(1);
    expect(figures.read).toBe('2026-11-23T22:08:57.265590172Z');
  });

  it('reads cgroup v2 inactive_file and sums block I/O by operation, whatever its case', () => {
    const figures = computeStatsFigures({
      read: '2024-01-01T00:00:00Z',
      memory_stats: { usage: 10_000, limit: 20_000, stats: { inactive_file: 4_000 } },
      blkio_stats: {
        io_service_bytes_recursive: [
          { op: 'read', value: 100 },
          { op: 'Read', value: 50 },
          { op: 'write', value: 7 },
          { op: 'Total', value: 157 },
        ],
      },
      networks: { eth0: { rx_bytes: 1, tx_bytes: 2 }, eth1: { rx_bytes: 10, tx_bytes: 20 } },
    });
    expect(figures).toMatchObject({
      memoryUsage: 6_000,
      memoryPercent: 30,
      blockReadBytes: 150,
      blockWriteBytes: 7,
      networkRxBytes: 11,
      networkTxBytes: 22,
    });
  });

  it('gives 0 % rather than a division by zero on a first sample without precpu figures', () => {
    const figures = computeStatsFigures({
      read: '2024-01-01T00:00:00Z',
      cpu_stats: { cpu_usage: { total_usage: 5, percpu_usage: [3, 2] }, system_cpu_usage: 100 },
      precpu_stats: {},
      memory_stats: {},
    });
    expect(figures.cpuPercent).toBeCloseTo(10, 6);
    expect(figures.onlineCpus).toBe(2);
    expect(computeStatsFigures({ read: 'x' })).toMatchObject({
      cpuPercent: 0,
      memoryPercent: 0,
      pids: 0,
    });
  });
});
