import { describe, expect, it } from 'vitest';
import { type ContainerSpec, toContainerCreateBody } from '../../src/docker/container-spec.ts';
import {
  dangerousContainerCreateInputs,
  dangerousContainerUpdateInputs,
  dangerousVolumeCreateInputs,
  isInsideBindAllowList,
} from '../../src/security/dangerous-inputs.ts';

const policy = { bindAllowList: ['/srv/data', '/var/lib/app/'] };

/** The findings for a container spec, through the body `createContainer` sends. */
function findingsOf(spec: Omit<ContainerSpec, 'image'>): string[] {
  const body = toContainerCreateBody('input', { image: 'busybox', ...spec });
  return dangerousContainerCreateInputs('input', body, policy);
}

describe('dangerous inputs of a container create', () => {
  it('finds nothing in an ordinary container', () => {
    expect(
      findingsOf({
        cmd: ['httpd', '-f'],
        env: [{ name: 'A', value: '1' }],
        portBindings: [{ containerPort: 80, hostPort: 8080 }],
        mounts: [
          { type: 'volume', source: 'web-data', target: '/data' },
          { type: 'tmpfs', target: '/tmp' },
          { type: 'bind', source: '/srv/data/web', target: '/web' },
        ],
        networkMode: 'bridge',
        capDrop: ['ALL'],
        privileged: false,
      }),
    ).toEqual([]);
  });

  it('names privileged, added capabilities and host namespaces by their input paths', () => {
    expect(findingsOf({ privileged: true, capAdd: ['NET_ADMIN'], networkMode: 'host' })).toEqual([
      'input.privileged',
      'input.networkMode "host"',
      'input.capAdd ["NET_ADMIN"]',
    ]);
  });

  it('names the host network given as `network` by that input', () => {
    expect(findingsOf({ network: { name: 'host' } })).toEqual(['input.network.name "host"']);
  });

  it('refuses bind mounts outside the allow-list, resolving ".."', () => {
    expect(
      findingsOf({
        mounts: [
          { type: 'bind', source: '/etc', target: '/a' },
          { type: 'bind', source: '/srv/data/../../etc', target: '/b' },
          { type: 'bind', source: '/srv/database', target: '/c' },
          { type: 'bind', source: '/var/lib/app', target: '/d' },
          { type: 'bind', source: '/srv/data/./x/../y', target: '/e' },
        ],
      }),
    ).toEqual([
      'input.mounts[0].source "/etc" is outside the bind allow-list',
      'input.mounts[1].source "/srv/data/../../etc" is outside the bind allow-list',
      'input.mounts[2].source "/srv/database" is outside the bind allow-list',
    ]);
  });

  it('refuses every bind mount when the allow-list is empty', () => {
    const body = toContainerCreateBody('input', {
      image: 'busybox',
      mounts: [{ type: 'bind', source: '/srv/data', target: '/data' }],
    });
    expect(dangerousContainerCreateInputs('input', body, { bindAllowList: [] })).toEqual([
      'input.mounts[0].source "/srv/data" is outside the bind allow-list',
    ]);
  });

  it('reads the engine fields no input sets yet: binds, namespaces, devices, security options', () => {
    const body = {
      Image: 'busybox',
      HostConfig: {
        Binds: ['/:/host:ro', 'named-volume:/data', '/srv/data/x:/x'],
        PidMode: 'host',
        IpcMode: 'host',
        UTSMode: 'host',
        UsernsMode: 'host',
        CgroupnsMode: 'host',
        Devices: [{ PathOnHost: '/dev/sda', PathInContainer: '/dev/sda' }],
        DeviceRequests: [{ Count: -1, Capabilities: [['gpu']] }],
        DeviceCgroupRules: ['c 1:3 mr'],
        SecurityOpt: ['no-new-privileges', 'seccomp=unconfined', 'apparmor=unconfined'],
        MaskedPaths: [],
        Mounts: [
          {
            Type: 'volume',
            Target: '/v',
            VolumeOptions: {
              DriverConfig: { Name: 'local', Options: { type: 'none', o: 'bind', device: '/' } },
            },
          },
        ],
      },
    };
    expect(dangerousContainerCreateInputs('input', body, policy)).toEqual([
      'input.binds[0] binds host path "/", outside the bind allow-list',
      'input.mounts[0].volumeOptions.driverConfig mount host path "/", outside the bind allow-list',
      'input.pidMode "host"',
      'input.ipcMode "host"',
      'input.utsMode "host"',
      'input.usernsMode "host"',
      'input.cgroupnsMode "host"',
      'input.devices (host devices)',
      'input.deviceRequests (host devices)',
      'input.deviceCgroupRules (host devices)',
      'input.securityOpt ["seccomp=unconfined","apparmor=unconfined"]',
      'input.maskedPaths (unmasks /proc)',
    ]);
  });

  it('takes only no-new-privileges as a harmless security option', () => {
    const body = { HostConfig: { SecurityOpt: ['no-new-privileges:true'] } };
    expect(dangerousContainerCreateInputs('input', body, policy)).toEqual([]);
  });

  it('takes shared namespaces of other containers as harmless', () => {
    const body = { HostConfig: { NetworkMode: 'container:web', PidMode: 'container:web' } };
    expect(dangerousContainerCreateInputs('input', body, policy)).toEqual([]);
  });
});

describe('dangerous inputs of a container update', () => {
  it('finds nothing in limits and a restart policy', () => {
    expect(
      dangerousContainerUpdateInputs('input', { Memory: 64 << 20, RestartPolicy: { Name: 'no' } }),
    ).toEqual([]);
  });

  it('names devices under the resources input', () => {
    expect(
      dangerousContainerUpdateInputs('input', { Devices: [{ PathOnHost: '/dev/kmsg' }] }),
    ).toEqual(['input.resources.devices (host devices)']);
  });
});

describe('dangerous inputs of a volume create', () => {
  const volume = (Driver: string | undefined, DriverOpts: Record<string, string>) =>
    dangerousVolumeCreateInputs('input', { Name: 'v', Driver, DriverOpts }, policy);

  it('refuses a local volume that binds a host path outside the allow-list', () => {
    expect(volume(undefined, { type: 'none', o: 'bind', device: '/etc' })).toEqual([
      'input.driverOptions mount host path "/etc", outside the bind allow-list',
    ]);
    expect(volume('local', { o: 'ro,bind', device: '/srv/data/../../root' })).toEqual([
      'input.driverOptions mount host path "/srv/data/../../root", outside the bind allow-list',
    ]);
    expect(volume('local', { type: 'none', device: '/var/lib' })).toHaveLength(1);
  });

  it('refuses a local volume over a host device', () => {
    expect(volume('local', { type: 'ext4', device: '/dev/sdb1' })).toEqual([
      'input.driverOptions mount host path "/dev/sdb1", outside the bind allow-list',
    ]);
  });

  it('accepts allow-listed binds, tmpfs, remote shares and other drivers', () => {
    expect(volume('local', { type: 'none', o: 'bind', device: '/srv/data/app' })).toEqual([]);
    expect(volume('local', { type: 'tmpfs', device: 'tmpfs', o: 'size=64m' })).toEqual([]);
    expect(volume('local', { type: 'nfs', o: 'addr=10.0.0.5', device: ':/export' })).toEqual([]);
    expect(volume('local', { type: 'cifs', device: '//fileserver/share' })).toEqual([]);
    expect(volume('some-plugin', { device: '/etc', o: 'bind' })).toEqual([]);
    expect(volume(undefined, {})).toEqual([]);
  });
});

describe('the bind allow-list', () => {
  it('compares by path segments', () => {
    expect(isInsideBindAllowList('/srv/data', ['/srv/data'])).toBe(true);
    expect(isInsideBindAllowList('/srv/data/a/b', ['/srv/data'])).toBe(true);
    expect(isInsideBindAllowList('/srv/data2', ['/srv/data'])).toBe(false);
    expect(isInsideBindAllowList('/srv', ['/srv/data'])).toBe(false);
    expect(isInsideBindAllowList('/srv/data/../other', ['/srv/data'])).toBe(false);
    expect(isInsideBindAllowList('//srv//data/', ['/srv/data'])).toBe(true);
    expect(isInsideBindAllowList('/anything', ['/'])).toBe(true);
  });
});
