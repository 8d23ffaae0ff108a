import { describe, expect, it } from 'vitest';
import {
  checkContainerName,
  normalizeSignal,
  toContainerCreateBody,
  toEngineResources,
} from '../../src/docker/container-spec.ts';
import { InvalidInputError } from '../../src/docker/errors.ts';

/** The field an InvalidInputError names, or a failure when `run` does not throw one. */
function fieldOf(run: () => unknown): string | null {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidInputError) return error.field;
    throw error;
  }
  throw new Error('expected an InvalidInputError');
}

describe('container spec', () => {
  it('maps docker-run options onto the create body', () => {
    const body = toContainerCreateBody('input', {
      image: 'busybox',
      env: [{ name: 'A', value: 'b=c' }],
      labels: [{ name: 'team', value: '' }],
      exposedPorts: [{ port: 9000, protocol: 'udp' }],
      portBindings: [
        { containerPort: 80 },
        { containerPort: 80, hostIp: '::1', hostPort: 8080 },
        { containerPort: 53, protocol: 'udp', hostPort: 5353 },
      ],
      mounts: [
        { type: 'volume', target: '/data', volumeLabels: [{ name: 'x', value: 'y' }] },
        { type: 'tmpfs', target: '/tmp', tmpfsSizeBytes: 1024 },
      ],
      network: { name: 'backend', aliases: ['db'], ipv4Address: '10.0.0.5' },
      restartPolicy: { name: 'on-failure', maximumRetryCount: 0 },
      resources: { memoryBytes: 8 * 1024 * 1024, memorySwapBytes: -1, cpus: 1.5 },
      stopSignal: '15',
      healthcheck: { test: ['CMD', 'true'], intervalSeconds: 1.5 },
    });
    expect(body).toEqual({
      Image: 'busybox',
      Env: ['A=b=c'],
      Labels: { team: '' },
      ExposedPorts: { '9000/udp': {}, '80/tcp': {}, '53/udp': {} },
      StopSignal: '15',
      Healthcheck: { Test: ['CMD', 'true'], Interval: 1_500_000_000 },
      HostConfig: {
        Memory: 8 * 1024 * 1024,
        MemorySwap: -1,
        NanoCpus: 1_500_000_000,
        PortBindings: {
          '80/tcp': [
            { HostIp: '', HostPort: '' },
            { HostIp: '::1', HostPort: '8080' },
          ],
          '53/udp': [{ HostIp: '', HostPort: '5353' }],
        },
        Mounts: [
          { Type: 'volume', Target: '/data', VolumeOptions: { Labels: { x: 'y' } } },
          { Type: 'tmpfs', Target: '/tmp', TmpfsOptions: { SizeBytes: 1024 } },
        ],
        NetworkMode: 'backend',
        RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 0 },
      },
      NetworkingConfig: {
        EndpointsConfig: { backend: { Aliases: ['db'], IPAMConfig: { IPv4Address: '10.0.0.5' } } },
      },
    });
  });

  it('asks for no-new-privileges only when noNewPrivileges is set', () => {
    const withIt = toContainerCreateBody('input', { image: 'x', noNewPrivileges: true });
    expect(withIt.HostConfig.SecurityOpt).toEqual(['no-new-privileges']);
    for (const noNewPrivileges of [false, null, undefined]) {
      const body = toContainerCreateBody('input', { image: 'x', noNewPrivileges });
      expect(body.HostConfig).not.toHaveProperty('SecurityOpt');
    }
  });

  it('normalizes signals as the engine reads them', () => {
    expect(normalizeSignal('signal', 'term')).toBe('SIGTERM');
    expect(normalizeSignal('signal', 'SIGRTMIN+3')).toBe('SIGRTMIN+3');
    expect(normalizeSignal('signal', '09')).toBe('9');
    expect(fieldOf(() => normalizeSignal('signal', '65'))).toBe('signal');
    expect(fieldOf(() => normalizeSignal('signal', 'SIGNOPE'))).toBe('signal');
  });

  it('checks container names and drops the leading slash', () => {
    expect(checkContainerName('name', '/web.1_a-b')).toBe('web.1_a-b');
    expect(fieldOf(() => checkContainerName('name', 'a'))).toBe('name');
    expect(fieldOf(() => checkContainerName('name', '-web'))).toBe('name');
  });

  it('lets an update lean on the limits the container has', () => {
    expect(toEngineResources('r', { memorySwapBytes: 64 * 1024 * 1024 }, false)).toEqual({
      MemorySwap: 64 * 1024 * 1024,
    });
    expect(fieldOf(() => toEngineResources('r', { memorySwapBytes: 64 * 1024 * 1024 }, true))).toBe(
      'r.memorySwapBytes',
    );
    expect(fieldOf(() => toEngineResources('r', { pidsLimit: -2 }, false))).toBe('r.pidsLimit');
  });
});
