import { ContainerStatsRef } from './refs.ts';

ContainerStatsRef.implement({
  description: 'Resource use of a running container, computed as `docker stats` does.',
  fields: (t) => ({
    read: t.field({
      type: 'DateTime',
      description: 'When the engine took the sample.',
      resolve: (s) => new Date(s.read),
    }),
    cpuPercent: t.exposeFloat('cpuPercent', { description: 'CPU use; 100 per fully used CPU.' }),
    onlineCpus: t.exposeInt('onlineCpus', { description: 'CPUs available to it.' }),
    memoryUsageBytes: t.field({
      type: 'SafeInt',
      description: 'Memory in use, page cache excluded.',
      resolve: (s) => s.memoryUsage,
    }),
    memoryLimitBytes: t.field({
      type: 'SafeInt',
      description: 'Memory it may use (the host memory when unlimited).',
      resolve: (s) => s.memoryLimit,
    }),
    memoryPercent: t.exposeFloat('memoryPercent', {
      description: 'Memory in use as a share of the limit.',
    }),
    networkRxBytes: t.field({
      type: 'SafeInt',
      description: 'Bytes received on all its networks.',
      resolve: (s) => s.networkRxBytes,
    }),
    networkTxBytes: t.field({
      type: 'SafeInt',
      description: 'Bytes sent on all its networks.',
      resolve: (s) => s.networkTxBytes,
    }),
    blockReadBytes: t.field({
      type: 'SafeInt',
      description: 'Bytes read from block devices.',
      resolve: (s) => s.blockReadBytes,
    }),
    blockWriteBytes: t.field({
      type: 'SafeInt',
      description: 'Bytes written to block devices.',
      resolve: (s) => s.blockWriteBytes,
    }),
    pids: t.exposeInt('pids', { description: 'Processes and threads running.' }),
  }),
});
