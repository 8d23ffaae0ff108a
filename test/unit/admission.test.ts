// The admission policy on engine bodies as dockergraph sends them: each level refuses what its
// table says, names the engine field, and looks up what it cannot see in the body.
import { describe, expect, it } from 'vitest';
import {
  type AdmissionLookups,
  allowListEntryOf,
  type ContainerCreateShape,
  reviewContainerCreate,
  reviewContainerUpdate,
  reviewExecCreate,
  reviewNetworkCreate,
  reviewVolumeCreate,
  routeRuleOf,
} from '../../src/security/admission.ts';

const settings = {
  bindAllowList: [
    { path: '/srv/data', writable: false },
    { path: '/srv/scratch', writable: true },
  ],
  volumeDrivers: ['rexray'],
};

/** Engine answers as the lookups would give them, keyed by name. */
function lookups(
  volumes: Record<string, { driver: string; options: Record<string, string> }> = {},
  containers: Record<string, ContainerCreateShape> = {},
  imageUsers: Record<string, string> = {},
): AdmissionLookups {
  return {
    volume: async (name) => volumes[name] ?? null,
    container: async (name) => containers[name] ?? null,
    imageUser: async (reference) => imageUsers[reference] ?? null,
  };
}

const messages = (findings: readonly { message: string }[]) => findings.map((f) => f.message);

describe('container create', () => {
  it('lets privileged do anything', async () => {
    const body = { Image: 'x', HostConfig: { Privileged: true, NetworkMode: 'host' } };
    expect(await reviewContainerCreate(body, 'privileged', settings, lookups())).toEqual([]);
  });

  it('refuses privilege, host namespaces, devices, capabilities and relaxed options at baseline', async () => {
    const body = {
      Image: 'x',
      HostConfig: {
        Privileged: true,
        PidMode: 'host',
        CapAdd: ['CHOWN', 'SYS_ADMIN'],
        Devices: [{ PathOnHost: '/dev/sda' }],
        SecurityOpt: ['seccomp=unconfined', 'no-new-privileges'],
        MaskedPaths: [],
        Sysctls: { 'kernel.shm_rmid_forced': '1', 'kernel.core_pattern': '|/x' },
        CgroupParent: '/',
      },
    };
    expect(messages(await reviewContainerCreate(body, 'baseline', settings, lookups()))).toEqual([
      'HostConfig.Privileged',
      'HostConfig.PidMode "host"',
      'HostConfig.CapAdd ["SYS_ADMIN"] adds capabilities',
      'HostConfig.Devices hands host devices to the container',
      'HostConfig.SecurityOpt ["seccomp=unconfined"] relaxes confinement',
      'HostConfig.MaskedPaths unmasks /proc',
      'HostConfig.Sysctls ["kernel.core_pattern"] are not in the safe set',
      'HostConfig.CgroupParent places the container in another cgroup',
    ]);
  });

  it('refuses fields it does not recognise', async () => {
    const body = { Image: 'x', Shell: ['sh'], HostConfig: { Runtime: 'runsc', Foo: 1 } };
    expect(messages(await reviewContainerCreate(body, 'baseline', settings, lookups()))).toEqual([
      'Shell is not recognised by the admission policy',
      'HostConfig.Foo is not recognised by the admission policy',
      'HostConfig.Runtime "runsc" is not the default runtime',
    ]);
  });

  it('holds binds to the allow-list, read-only unless the entry is writable, in normal form', async () => {
    const body = {
      Image: 'x',
      HostConfig: {
        Mounts: [
          { Type: 'bind', Source: '/srv/data/app', Target: '/a', ReadOnly: true },
          { Type: 'bind', Source: '/srv/data/app', Target: '/b' },
          { Type: 'bind', Source: '/srv/scratch', Target: '/c' },
          { Type: 'bind', Source: '/srv/data/../../etc', Target: '/d', ReadOnly: true },
          { Type: 'bind', Source: '/etc', Target: '/e', ReadOnly: true },
        ],
        Binds: ['/srv/data:/f:ro', '/srv/data:/g'],
      },
    };
    expect(messages(await reviewContainerCreate(body, 'baseline', settings, lookups()))).toEqual([
      'HostConfig.Binds[1] host path "/srv/data" is allow-listed read-only: mount it read-only',
      'HostConfig.Mounts[1] host path "/srv/data/app" is allow-listed read-only: mount it read-only',
      'HostConfig.Mounts[3] host path "/srv/data/../../etc" is not absolute and normalised',
      'HostConfig.Mounts[4] host path "/etc" is outside the bind allow-list',
    ]);
  });

  it('looks up named volumes: a volume an admin bound to / is refused by name', async () => {
    const volumes = {
      root: { driver: 'local', options: { type: 'none', o: 'bind', device: '/' } },
      plain: { driver: 'local', options: {} },
    };
    const body = {
      Image: 'x',
      HostConfig: {
        Mounts: [
          { Type: 'volume', Source: 'root', Target: '/r' },
          { Type: 'volume', Source: 'plain', Target: '/p' },
          { Type: 'volume', Source: 'new-one', Target: '/n' },
        ],
        Binds: ['root:/again'],
      },
    };
    expect(
      messages(await reviewContainerCreate(body, 'baseline', settings, lookups(volumes))),
    ).toEqual([
      'HostConfig.Binds[0] (volume "root") device host path "/" is outside the bind allow-list',
      'HostConfig.Mounts[0] (volume "root") device host path "/" is outside the bind allow-list',
    ]);
  });

  it('refuses joining the namespaces of a container it would refuse, follows chains, and missing ones', async () => {
    const containers = {
      hostnet: { HostConfig: { NetworkMode: 'host' } },
      plain: { HostConfig: { NetworkMode: 'bridge' } },
      chained: { HostConfig: { NetworkMode: 'container:hostnet' } },
      rooted: { HostConfig: { Mounts: [{ Type: 'bind', Source: '/', ReadOnly: false }] } },
    };
    const review = (HostConfig: object) =>
      reviewContainerCreate(
        { Image: 'x', HostConfig },
        'baseline',
        settings,
        lookups({}, containers),
      );
    expect(messages(await review({ NetworkMode: 'container:plain' }))).toEqual([]);
    expect(messages(await review({ NetworkMode: 'container:hostnet' }))).toEqual([
      'HostConfig.NetworkMode "container:hostnet" takes from container "hostnet", which this level would refuse (HostConfig.NetworkMode "host")',
    ]);
    expect(messages(await review({ PidMode: 'container:chained' }))[0]).toContain(
      'takes from container "chained"',
    );
    expect(messages(await review({ VolumesFrom: ['rooted:ro'] }))[0]).toContain(
      'HostConfig.VolumesFrom[0] takes from container "rooted"',
    );
    expect(messages(await review({ IpcMode: 'container:gone' }))).toEqual([
      'HostConfig.IpcMode "container:gone": no such container "gone"',
    ]);
  });

  it('asks a non-root user, dropped capabilities and no-new-privileges at restricted', async () => {
    const base = { Image: 'app', HostConfig: {} };
    expect(
      messages(
        await reviewContainerCreate(base, 'restricted', settings, lookups({}, {}, { app: '' })),
      ),
    ).toEqual([
      'HostConfig.CapDrop must hold "ALL"',
      'HostConfig.SecurityOpt must hold "no-new-privileges"',
      'runs as root: image "app" sets no non-root user; give "user"',
    ]);
    const good = {
      Image: 'app',
      HostConfig: {
        CapDrop: ['ALL'],
        CapAdd: ['NET_BIND_SERVICE'],
        SecurityOpt: ['no-new-privileges:true'],
      },
    };
    expect(
      await reviewContainerCreate(
        good,
        'restricted',
        settings,
        lookups({}, {}, { app: '1000:1000' }),
      ),
    ).toEqual([]);
    expect(
      messages(
        await reviewContainerCreate({ ...good, User: '0:0' }, 'restricted', settings, lookups()),
      ),
    ).toEqual(['User "0:0" is root']);
    const bound = {
      ...good,
      User: 'app',
      HostConfig: { ...good.HostConfig, Binds: ['/srv/data:/d:ro'] },
    };
    expect(messages(await reviewContainerCreate(bound, 'restricted', settings, lookups()))).toEqual(
      ['HostConfig.Binds[0] mounts host path "/srv/data"'],
    );
  });

  it('refuses log drivers that send logs elsewhere', async () => {
    const body = { Image: 'x', HostConfig: { LogConfig: { Type: 'syslog', Config: {} } } };
    expect(messages(await reviewContainerCreate(body, 'baseline', settings, lookups()))).toEqual([
      'HostConfig.LogConfig.Type "syslog" sends logs off the engine',
    ]);
  });
});

describe('volume create', () => {
  const review = (Driver: string, DriverOpts: Record<string, string>) =>
    messages(reviewVolumeCreate({ Driver, DriverOpts }, 'baseline', settings));

  it('allows plain local volumes, tmpfs, listed drivers and binds of writable allow-listed folders', () => {
    expect(review('local', {})).toEqual([]);
    expect(review('local', { type: 'tmpfs', device: 'tmpfs', o: 'size=64m,uid=1000' })).toEqual([]);
    expect(review('rexray', { size: '10' })).toEqual([]);
    expect(review('local', { type: 'none', o: 'bind', device: '/srv/scratch/x' })).toEqual([]);
  });

  it('refuses overlays, devices, relative devices and unlisted drivers', () => {
    expect(
      review('local', { type: 'overlay', device: 'overlay', o: 'ro,lowerdir=/etc:/root' })[0],
    ).toContain('local volume of type "overlay"');
    expect(review('local', { type: 'ext4', device: '../../../dev/vda' })[0]).toContain(
      'local volume of type "ext4"',
    );
    expect(review('local', { type: 'none', o: 'bind', device: '../../etc' })).toEqual([
      'DriverOpts device host path "../../etc" is not absolute and normalised',
    ]);
    expect(review('local', { type: 'none', o: 'bind', device: '/srv/data' })).toEqual([
      'DriverOpts device host path "/srv/data" is allow-listed read-only: mount it read-only',
    ]);
    expect(
      review('local', { type: 'tmpfs', device: 'tmpfs', o: 'size=1m,exec,suid' })[0],
    ).toContain('tmpfs volume takes only');
    expect(review('sshfs', {})).toEqual([
      'DriverOpts volume driver "sshfs" is not in DOCKERGRAPH_VOLUME_DRIVERS',
    ]);
  });
});

describe('other writes', () => {
  it('refuses networks on host interfaces or existing bridges', () => {
    expect(messages(reviewNetworkCreate({ Name: 'n', Driver: 'bridge' }, 'baseline'))).toEqual([]);
    expect(
      messages(
        reviewNetworkCreate(
          { Name: 'n', Driver: 'macvlan', Options: { parent: 'eth0' } },
          'baseline',
        ),
      ),
    ).toEqual([
      'Driver "macvlan" is not bridge or overlay',
      'Options ["parent"] are not recognised',
    ]);
    expect(
      messages(
        reviewNetworkCreate(
          { Name: 'n', Options: { 'com.docker.network.bridge.name': 'docker0' } },
          'baseline',
        ),
      ),
    ).toEqual(['Options ["com.docker.network.bridge.name"] are not recognised']);
  });

  it('refuses devices on update and privileged execs', () => {
    expect(messages(reviewContainerUpdate({ Memory: 1e8, Devices: [{}] }, 'baseline'))).toEqual([
      'Devices hands host devices to the container',
    ]);
    expect(messages(reviewExecCreate({ Cmd: ['sh'], Privileged: true }, 'baseline'))).toEqual([
      'Privileged',
    ]);
  });

  it('knows every route, and imports only as privileged-only', () => {
    const none = new URLSearchParams();
    expect(routeRuleOf('POST', '/containers/abc/start', none)?.review).toBe('none');
    expect(routeRuleOf('POST', '/build', none)?.review).toBe('privileged-only');
    expect(routeRuleOf('POST', '/images/create', new URLSearchParams('fromImage=x'))?.review).toBe(
      'none',
    );
    expect(routeRuleOf('POST', '/images/create', new URLSearchParams('fromSrc=-'))?.review).toBe(
      'privileged-only',
    );
    expect(routeRuleOf('POST', '/plugins/pull', none)).toBeUndefined();
  });

  it('matches allow-list entries by path segments', () => {
    expect(allowListEntryOf('/srv/database', settings.bindAllowList)).toBeUndefined();
    expect(allowListEntryOf('/srv/data/x', settings.bindAllowList)?.path).toBe('/srv/data');
    expect(allowListEntryOf('/srv/data/', settings.bindAllowList)).toBeUndefined();
  });
});
