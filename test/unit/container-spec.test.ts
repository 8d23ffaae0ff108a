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

  it('maps the other docker-run options onto the create body', () => {
    const body = toContainerCreateBody('input', {
      image: 'busybox',
      networks: [
        { name: 'front', aliases: ['web'], ipv4Address: '10.0.0.5' },
        { name: 'back', ipv6Address: 'fd00::5' },
      ],
      volumesFrom: [{ container: 'data', readOnly: true }, { container: 'logs' }],
      devices: [{ pathOnHost: '/dev/fuse' }],
      deviceCgroupRules: ['c 10:229 rwm', 'b *:* m'],
      ulimits: [{ name: 'nofile', soft: 1024, hard: -1 }],
      logConfig: { driver: 'local', options: [{ name: 'max-size', value: '10m' }] },
      securityOptions: ['apparmor=docker-default', 'seccomp={"defaultAction":"SCMP_ACT_ERRNO"}'],
      noNewPrivileges: true,
      shmSizeBytes: 128 * 1024 * 1024,
      sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }],
      dnsSearch: ['example.com', '.'],
      dnsOptions: ['ndots:2', 'edns0'],
    });
    expect(body.NetworkingConfig).toEqual({
      EndpointsConfig: {
        front: { Aliases: ['web'], IPAMConfig: { IPv4Address: '10.0.0.5' } },
        back: { IPAMConfig: { IPv6Address: 'fd00::5' } },
      },
    });
    expect(body.HostConfig).toEqual({
      NetworkMode: 'front',
      VolumesFrom: ['data:ro', 'logs'],
      Devices: [
        { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' },
      ],
      DeviceCgroupRules: ['c 10:229 rwm', 'b *:* m'],
      Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: -1 }],
      LogConfig: { Type: 'local', Config: { 'max-size': '10m' } },
      SecurityOpt: [
        'no-new-privileges',
        'apparmor=docker-default',
        'seccomp={"defaultAction":"SCMP_ACT_ERRNO"}',
      ],
      ShmSize: 128 * 1024 * 1024,
      Sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0' },
      DnsSearch: ['example.com', '.'],
      DnsOptions: ['ndots:2', 'edns0'],
    });
  });

  it.each([
    [
      'networks: both network and networks',
      { network: { name: 'a' }, networks: [{ name: 'b' }] },
      'input.networks',
    ],
    ['networks: none', { networks: [] }, 'input.networks'],
    ['networks: twice', { networks: [{ name: 'a' }, { name: 'a' }] }, 'input.networks[1].name'],
    ['networks: empty name', { networks: [{ name: ' ' }] }, 'input.networks[0].name'],
    [
      'networks: host with others',
      { networks: [{ name: 'a' }, { name: 'host' }] },
      'input.networks[1].name',
    ],
    [
      'networks: networkMode differs',
      { networkMode: 'b', networks: [{ name: 'a' }] },
      'input.networks[0].name',
    ],
    [
      'networks: IPv4',
      { networks: [{ name: 'a', ipv4Address: 'fd00::1' }] },
      'input.networks[0].ipv4Address',
    ],
    [
      'networks: IPv6',
      { networks: [{ name: 'a' }, { name: 'b', ipv6Address: '10.0.0.1' }] },
      'input.networks[1].ipv6Address',
    ],
    [
      'networks: empty alias',
      { networks: [{ name: 'a', aliases: [''] }] },
      'input.networks[0].aliases[0]',
    ],
    ['network: IPv6', { network: { name: 'a', ipv6Address: 'x' } }, 'input.network.ipv6Address'],
    ['volumesFrom: empty', { volumesFrom: [{ container: '' }] }, 'input.volumesFrom[0].container'],
    [
      'volumesFrom: with a mode',
      { volumesFrom: [{ container: 'a:ro' }] },
      'input.volumesFrom[0].container',
    ],
    [
      'devices: relative host path',
      { devices: [{ pathOnHost: 'dev/fuse' }] },
      'input.devices[0].pathOnHost',
    ],
    [
      'devices: relative container path',
      { devices: [{ pathOnHost: '/dev/fuse', pathInContainer: 'fuse' }] },
      'input.devices[0].pathInContainer',
    ],
    [
      'devices: permissions',
      { devices: [{ pathOnHost: '/dev/fuse', cgroupPermissions: 'rwx' }] },
      'input.devices[0].cgroupPermissions',
    ],
    [
      'devices: repeated permissions',
      { devices: [{ pathOnHost: '/dev/fuse', cgroupPermissions: 'rr' }] },
      'input.devices[0].cgroupPermissions',
    ],
    [
      'deviceCgroupRules',
      { deviceCgroupRules: ['c 1:3 rwm', 'x 1:3 r'] },
      'input.deviceCgroupRules[1]',
    ],
    ['deviceCgroupRules: access', { deviceCgroupRules: ['c 1:3'] }, 'input.deviceCgroupRules[0]'],
    ['ulimits: name', { ulimits: [{ name: 'files', soft: 1, hard: 1 }] }, 'input.ulimits[0].name'],
    [
      'ulimits: twice',
      {
        ulimits: [
          { name: 'nproc', soft: 1, hard: 1 },
          { name: 'nproc', soft: 2, hard: 2 },
        ],
      },
      'input.ulimits[1].name',
    ],
    [
      'ulimits: soft above hard',
      { ulimits: [{ name: 'nofile', soft: 10, hard: 5 }] },
      'input.ulimits[0].soft',
    ],
    [
      'ulimits: unlimited soft, limited hard',
      { ulimits: [{ name: 'nofile', soft: -1, hard: 5 }] },
      'input.ulimits[0].soft',
    ],
    [
      'ulimits: negative',
      { ulimits: [{ name: 'nofile', soft: 1, hard: -2 }] },
      'input.ulimits[0].hard',
    ],
    ['logConfig: driver', { logConfig: { driver: 'json file' } }, 'input.logConfig.driver'],
    [
      'logConfig: options twice',
      {
        logConfig: {
          driver: 'local',
          options: [
            { name: 'a', value: '1' },
            { name: 'a', value: '2' },
          ],
        },
      },
      'input.logConfig.options[1].name',
    ],
    ['securityOptions: unknown', { securityOptions: ['privileged'] }, 'input.securityOptions[0]'],
    [
      'securityOptions: seccomp file',
      { securityOptions: ['seccomp=/etc/profile.json'] },
      'input.securityOptions[0]',
    ],
    [
      'securityOptions: seccomp list',
      { securityOptions: ['seccomp=[]'] },
      'input.securityOptions[0]',
    ],
    ['securityOptions: label', { securityOptions: ['label=enable'] }, 'input.securityOptions[0]'],
    ['securityOptions: apparmor', { securityOptions: ['apparmor='] }, 'input.securityOptions[0]'],
    [
      'securityOptions: systempaths',
      { securityOptions: ['systempaths=confined'] },
      'input.securityOptions[0]',
    ],
    [
      'securityOptions: no-new-privileges value',
      { securityOptions: ['no-new-privileges=yes'] },
      'input.securityOptions[0]',
    ],
    [
      'securityOptions: with noNewPrivileges',
      { noNewPrivileges: false, securityOptions: ['no-new-privileges'] },
      'input.securityOptions[0]',
    ],
    ['shmSizeBytes: zero', { shmSizeBytes: 0 }, 'input.shmSizeBytes'],
    ['shmSizeBytes: fraction', { shmSizeBytes: 1.5 }, 'input.shmSizeBytes'],
    ['sysctls: name', { sysctls: [{ name: 'kernel', value: '1' }] }, 'input.sysctls[0].name'],
    [
      'sysctls: value',
      { sysctls: [{ name: 'net.ipv4.ip_forward', value: ' ' }] },
      'input.sysctls[0].value',
    ],
    [
      'sysctls: twice',
      {
        sysctls: [
          { name: 'kernel.sem', value: '1' },
          { name: 'kernel.sem', value: '2' },
        ],
      },
      'input.sysctls[1].name',
    ],
    ['dnsSearch', { dnsSearch: ['ok.example', 'not a domain'] }, 'input.dnsSearch[1]'],
    ['dnsSearch: leading dash', { dnsSearch: ['-x.example'] }, 'input.dnsSearch[0]'],
    ['dnsOptions', { dnsOptions: ['ndots 2'] }, 'input.dnsOptions[0]'],
  ] as const)('refuses %s naming the field', (_what, input, field) => {
    expect(fieldOf(() => toContainerCreateBody('input', { image: 'x', ...input }))).toBe(field);
  });
});
