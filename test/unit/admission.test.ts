// The admission policy on engine bodies as dockergraph sends them: each level refuses what its
// table says, names the engine field, and looks up what it cannot see in the body.
import { describe, expect, it } from 'vitest';
import {
  type AdmissionLookups,
  type AdmissionNetwork,
  admitContainerCreate,
  admitNetworkConnect,
  allowListEntryOf,
  type ContainerCreateShape,
  canonicalRegistry,
  loginRegistryOf,
  reviewContainerCreate,
  reviewContainerUpdate,
  reviewExecCreate,
  reviewNetworkCreate,
  reviewRegistry,
  reviewVolumeCreate,
  routeRuleOf,
} from '../../src/security/admission.ts';
import { type IpPrefix, parseIpPrefix } from '../../src/security/ip-prefix.ts';

function pool(text: string): IpPrefix {
  const parsed = parseIpPrefix(text);
  if (!parsed) throw new Error(`not a prefix: ${text}`);
  return parsed;
}

const settings = {
  bindAllowList: [
    { path: '/srv/data', writable: false },
    { path: '/srv/scratch', writable: true },
  ],
  volumeDrivers: ['rexray'],
  networkPools: [pool('10.200.0.0/16'), pool('fd00:dead::/48')],
  registries: ['docker.io', '127.0.0.1:5000'],
};

/** The full id the fake engine gives the object named `name`. */
const idOf = (name: string) => `${name.padEnd(8, '0')}${'f'.repeat(56)}`;

/** A bridge network of the fake engine. */
function bridge(name: string, extra: Partial<AdmissionNetwork> = {}): AdmissionNetwork {
  return {
    id: idOf(name),
    name,
    driver: 'bridge',
    options: {},
    ipamDriver: 'default',
    ipamOptions: {},
    configFrom: '',
    ...extra,
  };
}

/** Engine answers as the lookups would give them, by name (containers and networks by id too). */
function lookups(
  volumes: Record<string, { driver: string; options: Record<string, string> }> = {},
  containers: Record<string, ContainerCreateShape> = {},
  imageUsers: Record<string, string> = {},
  networks: Record<string, AdmissionNetwork> = {},
): AdmissionLookups {
  return {
    volume: async (name) => volumes[name] ?? null,
    container: async (name) => {
      const key = Object.keys(containers).find((key) => key === name || idOf(key) === name);
      const config = key === undefined ? undefined : containers[key];
      return key !== undefined && config ? { id: idOf(key), config } : null;
    },
    network: async (name) =>
      networks[name] ?? Object.values(networks).find((network) => network.id === name) ?? null,
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
      'HostConfig.Sysctls ["kernel.core_pattern"] are not kernel parameters of the container\'s own namespaces',
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
      'the user of image "app" ("") is root; give "user" as a numeric non-zero uid',
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
    ).toEqual(['User "0:0" is uid 0']);
    // A name proves nothing: /etc/passwd in the image may map it to uid 0. Atoi reads "00" as 0.
    for (const [user, problem] of [
      ['app', 'is not a numeric uid (a user name may be uid 0 in the image)'],
      ['00', 'is uid 0'],
      ['+0', 'is not a numeric uid (a user name may be uid 0 in the image)'],
      ['root:1000', 'is root'],
    ]) {
      expect(
        messages(
          await reviewContainerCreate({ ...good, User: user }, 'restricted', settings, lookups()),
        ),
      ).toEqual([`User ${JSON.stringify(user)} ${problem}`]);
    }
    expect(
      await reviewContainerCreate({ ...good, User: '1000' }, 'restricted', settings, lookups()),
    ).toEqual([]);
    expect(
      messages(
        await reviewContainerCreate(
          good,
          'restricted',
          settings,
          lookups({}, {}, { app: 'nobody' }),
        ),
      ),
    ).toEqual([
      'the user of image "app" ("nobody") is not a numeric uid (a user name may be uid 0 in the image); give "user" as a numeric non-zero uid',
    ]);
    const bound = {
      ...good,
      User: '1000',
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

  it('allows the sysctls of namespaces the container has of its own', async () => {
    const own = {
      Image: 'x',
      HostConfig: {
        Sysctls: {
          'net.ipv4.ip_unprivileged_port_start': '0',
          'net.core.somaxconn': '1024',
          'kernel.shmmax': '1000000',
          'kernel.msgmax': '9000',
          'kernel.sem': '250 32000 32 128',
          'fs.mqueue.msg_max': '20',
        },
      },
    };
    expect(await reviewContainerCreate(own, 'baseline', settings, lookups())).toEqual([]);
    const shared = {
      Image: 'x',
      HostConfig: {
        NetworkMode: 'none',
        IpcMode: 'host',
        Sysctls: { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1', 'kernel.domainname': 'x' },
      },
    };
    expect(messages(await reviewContainerCreate(shared, 'baseline', settings, lookups()))).toEqual([
      'HostConfig.IpcMode "host"',
      'HostConfig.Sysctls ["kernel.shmmax","kernel.domainname"] are not kernel parameters of the container\'s own namespaces',
    ]);
    const otherNetwork = {
      Image: 'x',
      HostConfig: { NetworkMode: 'container:plain', Sysctls: { 'net.ipv4.ip_forward': '1' } },
    };
    const found = await reviewContainerCreate(
      otherNetwork,
      'baseline',
      settings,
      lookups({}, { plain: { HostConfig: {} } }),
    );
    expect(found.map((item) => item.control)).toEqual(['sysctls']);
  });

  it('bounds /dev/shm by the memory limit, or the default without one', async () => {
    const review = (hostConfig: Record<string, unknown>) =>
      reviewContainerCreate(
        { Image: 'x', HostConfig: hostConfig },
        'baseline',
        settings,
        lookups(),
      );
    const mib = 1024 * 1024;
    expect(await review({ ShmSize: 64 * mib })).toEqual([]);
    expect(await review({ ShmSize: 256 * mib, Memory: 256 * mib })).toEqual([]);
    expect((await review({ ShmSize: 65 * mib })).map((item) => item.control)).toEqual(['shm-size']);
    expect(
      (await review({ ShmSize: 512 * mib, Memory: 256 * mib })).map((item) => item.control),
    ).toEqual(['shm-size']);
  });

  it('allows ulimits but real-time priority', async () => {
    const review = (ulimits: unknown[]) =>
      reviewContainerCreate(
        { Image: 'x', HostConfig: { Ulimits: ulimits } },
        'baseline',
        settings,
        lookups(),
      );
    expect(
      await review([
        { Name: 'nofile', Soft: 1024, Hard: 4096 },
        { Name: 'rtprio', Soft: 0, Hard: 0 },
      ]),
    ).toEqual([]);
    expect(messages(await review([{ Name: 'rtprio', Soft: 0, Hard: 99 }]))).toEqual([
      'HostConfig.Ulimits[0] "rtprio" grants real-time scheduling priority',
    ]);
  });

  it('allows the security options a container has anyway, and no other', async () => {
    const review = (options: string[], level: 'baseline' | 'restricted' = 'baseline') =>
      reviewContainerCreate(
        {
          Image: 'x',
          User: '1000',
          HostConfig: { CapDrop: ['ALL'], SecurityOpt: options },
        },
        level,
        settings,
        lookups(),
      );
    expect(
      await review(['no-new-privileges:false', 'apparmor=docker-default', 'no-new-privileges']),
    ).toEqual([]);
    for (const option of [
      'seccomp=unconfined',
      'apparmor=unconfined',
      'label=disable',
      'label=type:spc_t',
      'systempaths=unconfined',
      'seccomp={"defaultAction":"SCMP_ACT_ALLOW"}',
    ]) {
      expect(messages(await review([option])), option).toEqual([
        `HostConfig.SecurityOpt ${JSON.stringify([option])} relaxes confinement`,
      ]);
    }
    // The engine reads the options in order: the last no-new-privileges entry decides.
    expect(
      messages(await review(['no-new-privileges', 'no-new-privileges:false'], 'restricted')),
    ).toEqual(['HostConfig.SecurityOpt must hold "no-new-privileges"']);
    expect(await review(['no-new-privileges:false', 'no-new-privileges'], 'restricted')).toEqual(
      [],
    );
  });

  it('reviews the containers of volumesFrom, and every network of EndpointsConfig', async () => {
    const body = {
      Image: 'x',
      HostConfig: { NetworkMode: 'front', VolumesFrom: ['agent:ro', 'plain'] },
      NetworkingConfig: { EndpointsConfig: { front: {}, lan: {} } },
    };
    const found = await reviewContainerCreate(
      body,
      'baseline',
      settings,
      lookups(
        {},
        { agent: { HostConfig: { Privileged: true } }, plain: { HostConfig: {} } },
        {},
        { front: bridge('front'), lan: bridge('lan', { driver: 'macvlan' }) },
      ),
    );
    expect(found.map((item) => item.control)).toEqual(['shared-namespaces', 'network-drivers']);
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
    expect(
      messages(reviewNetworkCreate({ Name: 'n', Driver: 'bridge' }, 'baseline', settings)),
    ).toEqual([]);
    expect(
      messages(
        reviewNetworkCreate(
          { Name: 'n', Driver: 'macvlan', Options: { parent: 'eth0' } },
          'baseline',
          settings,
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
          settings,
        ),
      ),
    ).toEqual(['Options ["com.docker.network.bridge.name"] are not recognised']);
    // The swarm picks an overlay network's VXLAN id; one given would share another's traffic.
    expect(
      messages(
        reviewNetworkCreate(
          {
            Name: 'n',
            Driver: 'overlay',
            Options: { 'com.docker.network.driver.overlay.vxlanid_list': '4097' },
          },
          'baseline',
          settings,
        ),
      ),
    ).toEqual(['Options ["com.docker.network.driver.overlay.vxlanid_list"] are not recognised']);
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
      'image-pull',
    );
    expect(routeRuleOf('POST', '/images/a/b/push', none)?.review).toBe('image-push');
    expect(routeRuleOf('POST', '/images/a/b/tag', none)?.review).toBe('none');
    expect(routeRuleOf('POST', '/auth', none)?.review).toBe('registry-login');
    expect(routeRuleOf('GET', '/distribution/a%2Fb%3A1/json', none)?.review).toBe('registry-read');
    expect(routeRuleOf('GET', '/containers/json', none)).toBeUndefined();
    expect(routeRuleOf('POST', '/networks/n/connect', none)?.review).toBe('network-connect');
    expect(routeRuleOf('POST', '/networks/n/disconnect', none)?.review).toBe('none');
    expect(routeRuleOf('POST', '/images/create', new URLSearchParams('fromSrc=-'))?.review).toBe(
      'privileged-only',
    );
    for (const [method, path] of [
      ['POST', '/plugins/pull'],
      ['POST', '/plugins/team/driver:1/enable'],
      ['POST', '/plugins/driver/disable'],
      ['POST', '/plugins/driver/upgrade'],
      ['POST', '/plugins/driver/set'],
      ['DELETE', '/plugins/team/driver:1'],
      ['GET', '/plugins/privileges'],
    ] as const) {
      expect(routeRuleOf(method, path, none)?.review, `${method} ${path}`).toBe('privileged-only');
    }
    expect(routeRuleOf('GET', '/plugins/driver/json', none)).toBeUndefined();
    expect(routeRuleOf('PUT', '/volumes/data', none)?.review).toBe('none');
  });

  it('matches allow-list entries by path segments', () => {
    expect(allowListEntryOf('/srv/database', settings.bindAllowList)).toBeUndefined();
    expect(allowListEntryOf('/srv/data/x', settings.bindAllowList)?.path).toBe('/srv/data');
    expect(allowListEntryOf('/srv/data/', settings.bindAllowList)).toBeUndefined();
  });
});

describe('pinning what the review inspected', () => {
  const containers = { decoy: { HostConfig: { NetworkMode: 'bridge' } } };
  const networks = { apps: bridge('apps') };
  const look = () => lookups({}, containers, {}, networks);

  it('names shared containers and joined networks by the ids it inspected', async () => {
    const body = {
      Image: 'x',
      HostConfig: { PidMode: 'container:decoy', VolumesFrom: ['decoy:ro'], Links: ['decoy'] },
    };
    const admitted = await admitContainerCreate(body, 'baseline', settings, look());
    expect(admitted.findings).toEqual([]);
    expect(admitted.body.HostConfig).toEqual({
      PidMode: `container:${idOf('decoy')}`,
      VolumesFrom: [`${idOf('decoy')}:ro`],
      Links: [`${idOf('decoy')}:decoy`],
    });
    const onNetwork = {
      Image: 'x',
      HostConfig: { NetworkMode: 'apps' },
      NetworkingConfig: { EndpointsConfig: { apps: { Aliases: ['web'] } } },
    };
    const joined = await admitContainerCreate(onNetwork, 'baseline', settings, look());
    expect(joined.findings).toEqual([]);
    expect(joined.body).toEqual({
      Image: 'x',
      HostConfig: { NetworkMode: idOf('apps') },
      NetworkingConfig: {
        EndpointsConfig: { [idOf('apps')]: { Aliases: ['web'], NetworkID: idOf('apps') } },
      },
    });
    // The pinned body passes the review again, unchanged.
    const again = await admitContainerCreate(joined.body, 'baseline', settings, look());
    expect(again).toEqual({ findings: [], body: joined.body });
  });

  it('leaves bodies without references, and privileged ones, as they are', async () => {
    const body = { Image: 'x', HostConfig: { NetworkMode: 'bridge' } };
    expect((await admitContainerCreate(body, 'baseline', settings, look())).body).toBe(body);
    const shared = { Image: 'x', HostConfig: { NetworkMode: 'container:decoy' } };
    expect((await admitContainerCreate(shared, 'privileged', settings, look())).body).toBe(shared);
  });

  it('refuses an endpoint NetworkID other than the network its key names', async () => {
    const body = {
      Image: 'x',
      NetworkingConfig: { EndpointsConfig: { bridge: { NetworkID: idOf('lan') } } },
    };
    expect(messages(await reviewContainerCreate(body, 'baseline', settings, look()))).toEqual([
      `NetworkingConfig.EndpointsConfig["bridge"].NetworkID "${idOf('lan')}" is not the network the entry names`,
    ]);
  });

  it('pins a connect to the network id, and its endpoint NetworkID', async () => {
    const admitted = await admitNetworkConnect(
      'apps',
      { Container: 'c', EndpointConfig: { Aliases: ['a'] } },
      'baseline',
      settings,
      look(),
    );
    expect(admitted).toEqual({
      findings: [],
      network: idOf('apps'),
      body: { Container: 'c', EndpointConfig: { Aliases: ['a'], NetworkID: idOf('apps') } },
      missing: false,
    });
  });
});

describe('joining networks', () => {
  const networks = {
    lan: bridge('lan', { driver: 'macvlan', options: { parent: 'eth0' } }),
    hostbr: bridge('hostbr', { options: { 'com.docker.network.bridge.name': 'br0' } }),
    fromcfg: bridge('fromcfg', { configFrom: 'cfg' }),
    bridge: bridge('bridge', { options: { 'com.docker.network.bridge.name': 'docker0' } }),
    apps: bridge('apps'),
  };
  const review = (body: ContainerCreateShape) =>
    reviewContainerCreate(body, 'baseline', settings, lookups({}, {}, {}, networks)).then(messages);

  it('refuses networks on host interfaces, host bridges and config-only options', async () => {
    expect(await review({ Image: 'x', HostConfig: { NetworkMode: 'lan' } })).toEqual([
      'HostConfig.NetworkMode (network "lan") Driver "macvlan" is not bridge or overlay',
      'HostConfig.NetworkMode (network "lan") Options ["parent"] are not recognised',
    ]);
    expect(
      await review({ Image: 'x', NetworkingConfig: { EndpointsConfig: { hostbr: {} } } }),
    ).toEqual([
      'NetworkingConfig.EndpointsConfig["hostbr"] (network "hostbr") Options ["com.docker.network.bridge.name"] are not recognised',
    ]);
    expect((await review({ Image: 'x', HostConfig: { NetworkMode: 'fromcfg' } }))[0]).toContain(
      'takes its options from config-only network "cfg"',
    );
    expect(await review({ Image: 'x', HostConfig: { NetworkMode: 'gone' } })).toEqual([
      'HostConfig.NetworkMode: no such network "gone"',
    ]);
    const connect = await admitNetworkConnect(
      'lan',
      { Container: 'c' },
      'baseline',
      settings,
      lookups({}, {}, {}, networks),
    );
    expect(messages(connect.findings)[0]).toBe(
      'network (network "lan") Driver "macvlan" is not bridge or overlay',
    );
    // A missing network is left for the engine's own "not found" answer (the gate gives it).
    const missing = await admitNetworkConnect(
      'gone',
      { Container: 'c' },
      'baseline',
      settings,
      lookups({}, {}, {}, networks),
    );
    expect(missing).toMatchObject({ findings: [], missing: true, network: 'gone' });
  });

  it("allows the engine's own networks, by name or id, and plain bridges", async () => {
    expect(await review({ Image: 'x', HostConfig: { NetworkMode: 'bridge' } })).toEqual([]);
    expect(await review({ Image: 'x', HostConfig: { NetworkMode: idOf('bridge') } })).toEqual([]);
    expect(await review({ Image: 'x', HostConfig: { NetworkMode: 'none' } })).toEqual([]);
    expect(await review({ Image: 'x', HostConfig: { NetworkMode: 'apps' } })).toEqual([]);
  });

  it('reviews the networks of a container whose namespace a new one shares', async () => {
    const containers = {
      onlan: {
        HostConfig: { NetworkMode: 'bridge' },
        NetworkingConfig: { EndpointsConfig: { [idOf('lan')]: {} } },
      },
    };
    const found = await reviewContainerCreate(
      { Image: 'x', HostConfig: { NetworkMode: 'container:onlan' } },
      'baseline',
      settings,
      lookups({}, containers, {}, networks),
    );
    expect(messages(found)[0]).toContain(
      'takes from container "onlan", which this level would refuse',
    );
  });
});

describe('explicit addresses', () => {
  const create = (Config: object[], pools = settings) =>
    messages(reviewNetworkCreate({ Name: 'n', IPAM: { Config } }, 'baseline', pools));

  it('allows subnets, ranges, gateways and auxiliary addresses inside the pools only', () => {
    expect(
      create([
        {
          Subnet: '10.200.1.0/24',
          IPRange: '10.200.1.128/25',
          Gateway: '10.200.1.1',
          AuxiliaryAddresses: { router: '10.200.1.2' },
        },
        { Subnet: 'fd00:dead:0:1::/64', Gateway: 'fd00:dead:0:1::1' },
      ]),
    ).toEqual([]);
    expect(
      create([{ Subnet: '8.8.8.0/24', Gateway: '8.8.8.254' }, { Subnet: '10.0.0.0/8' }]),
    ).toEqual([
      'IPAM.Config[0].Subnet "8.8.8.0/24" is outside DOCKERGRAPH_NETWORK_POOLS',
      'IPAM.Config[0].Gateway "8.8.8.254" is outside DOCKERGRAPH_NETWORK_POOLS',
      'IPAM.Config[1].Subnet "10.0.0.0/8" is outside DOCKERGRAPH_NETWORK_POOLS',
    ]);
    expect(create([{ Subnet: '10.200.1.0/24' }], { ...settings, networkPools: [] })).toEqual([
      'IPAM.Config[0].Subnet "10.200.1.0/24" is explicit, and DOCKERGRAPH_NETWORK_POOLS lists no pools: leave it to the engine',
    ]);
    expect(create([{ Subnet: 'x' }])).toEqual(['IPAM.Config[0].Subnet "x" is not an IP prefix']);
    expect(
      reviewNetworkCreate({ IPAM: { Config: [{ Subnet: '8.8.8.0/24' }] } }, 'privileged', settings),
    ).toEqual([]);
  });

  it('allows fixed container addresses inside the pools only', async () => {
    const networks = { apps: bridge('apps') };
    const body = (IPAMConfig: object) => ({
      Image: 'x',
      HostConfig: { NetworkMode: 'apps' },
      NetworkingConfig: { EndpointsConfig: { apps: { IPAMConfig } } },
    });
    const review = (IPAMConfig: object) =>
      reviewContainerCreate(
        body(IPAMConfig),
        'baseline',
        settings,
        lookups({}, {}, {}, networks),
      ).then(messages);
    expect(await review({ IPv4Address: '10.200.3.4', IPv6Address: 'fd00:dead::4' })).toEqual([]);
    expect(await review({ IPv4Address: '9.9.9.9', LinkLocalIPs: ['169.254.169.254'] })).toEqual([
      'NetworkingConfig.EndpointsConfig["apps"].IPAMConfig.IPv4Address "9.9.9.9" is outside DOCKERGRAPH_NETWORK_POOLS',
      'NetworkingConfig.EndpointsConfig["apps"].IPAMConfig.LinkLocalIPs[0] "169.254.169.254" is outside DOCKERGRAPH_NETWORK_POOLS',
    ]);
  });
});

describe('registries', () => {
  it('allows listed registries only, Docker Hub by any of its names', () => {
    expect(reviewRegistry('fromImage', 'docker.io', 'baseline', settings)).toEqual([]);
    expect(reviewRegistry('fromImage', 'Registry-1.Docker.io', 'baseline', settings)).toEqual([]);
    expect(reviewRegistry('fromImage', '127.0.0.1:5000', 'restricted', settings)).toEqual([]);
    expect(messages(reviewRegistry('fromImage', '172.17.0.2:9999', 'baseline', settings))).toEqual([
      'fromImage registry "172.17.0.2:9999" is not in DOCKERGRAPH_REGISTRIES',
    ]);
    expect(reviewRegistry('fromImage', '172.17.0.2:9999', 'privileged', settings)).toEqual([]);
    expect(canonicalRegistry('index.docker.io')).toBe('docker.io');
  });

  it('reads login addresses as the engine does', () => {
    expect(loginRegistryOf('')).toBe('docker.io');
    expect(loginRegistryOf('https://index.docker.io/v1/')).toBe('index.docker.io');
    expect(loginRegistryOf('http://10.0.0.1:5000/x')).toBe('10.0.0.1:5000');
    expect(loginRegistryOf('registry.example.com')).toBe('registry.example.com');
  });
});
