// The `docker run` options of createContainer beyond the common ones (several networks,
// volumes-from, devices, ulimits, log driver, security options, /dev/shm, sysctls, DNS), created
// on the private engine (API 1.41, which takes one network at create: the others are connected
// before the start) and read back through the Container fields.
import { describe, expect, it } from 'vitest';
import { useAppWithFixtures } from '../helpers/app-with-fixtures.ts';
import { BASE_IMAGE } from '../helpers/docker-fixtures.ts';
import { waitFor } from '../helpers/wait-for.ts';

type Answer = {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
};

const CREATE = `mutation ($input: CreateContainerInput!) {
  createContainer(input: $input, start: true) {
    __typename
    ... on MutationError { message }
    ... on InvalidInputError { field }
    ... on ContainerPayload { container { dockerId } }
  }
}`;

const READ = `query ($id: String!) {
  container(idOrName: $id) {
    state
    networks { networkName ipAddress ipv6Address aliases }
    logs(timestamps: false) { lines { message } }
    hostConfig {
      networkMode
      volumesFrom
      devices { pathOnHost pathInContainer cgroupPermissions }
      deviceCgroupRules
      ulimits { name soft hard }
      logDriver
      logOptions { name value }
      securityOptions
      shmSizeBytes
      sysctls { name value }
      dns
      dnsSearch
      dnsOptions
      extraHosts
      init
      readonlyRootfs
    }
    config { stopSignal stopTimeout healthcheck { test intervalNanoseconds retries } }
    mounts { type destination readWrite }
  }
}`;

/** Settings the input gives and the host config reads back as they were given. */
const resolverAndRootSettings = {
  dns: ['10.0.0.53'],
  dnsSearch: ['corp.example'],
  dnsOptions: ['ndots:2'],
  extraHosts: ['db.local:10.1.2.3'],
  init: true,
  readonlyRootfs: true,
};

describe('createContainer: the other docker-run options', () => {
  const { app, fixtures, runLabel } = useAppWithFixtures();

  async function gql(query: string, variables: Record<string, unknown>): Promise<Answer> {
    return (await app.post<Answer>({ query, variables })).body;
  }

  it('joins several networks with aliases and fixed addresses, and reads every option back', async () => {
    const octet = () => 100 + Math.floor(Math.random() * 150);
    const front = fixtures.name('front');
    const back = fixtures.name('back');
    const frontNet = `10.${octet()}.${octet()}`;
    const backNet = `10.${octet()}.${octet()}`;
    await fixtures.createNetwork(front, { IPAM: { Config: [{ Subnet: `${frontNet}.0/24` }] } });
    await fixtures.createNetwork(back, {
      EnableIPv6: true,
      IPAM: { Config: [{ Subnet: `${backNet}.0/24` }, { Subnet: 'fd00:dd:1::/64' }] },
    });
    const source = fixtures.name('source');
    await fixtures.createContainer(source, { Volumes: { '/shared': {} } });

    const answer = await gql(CREATE, {
      input: {
        image: BASE_IMAGE,
        name: fixtures.name('runopts'),
        labels: [runLabel],
        cmd: [
          'sh',
          '-c',
          'ulimit -n; cat /proc/sys/net/ipv4/ip_unprivileged_port_start; df -k /dev/shm | tail -1; grep -c . /etc/resolv.conf >/dev/null && grep search /etc/resolv.conf; test -d /shared && echo shared; sleep 3600',
        ],
        networks: [
          { name: front, aliases: ['web', 'www'], ipv4Address: `${frontNet}.10` },
          {
            name: back,
            aliases: ['api'],
            ipv4Address: `${backNet}.20`,
            ipv6Address: 'fd00:dd:1::20',
          },
        ],
        volumesFrom: [{ container: source, readOnly: true }],
        devices: [
          { pathOnHost: '/dev/null', pathInContainer: '/dev/other-null', cgroupPermissions: 'rw' },
        ],
        deviceCgroupRules: ['c 1:3 rwm'],
        ulimits: [{ name: 'nofile', soft: 1234, hard: 2345 }],
        logConfig: { driver: 'local', options: [{ name: 'max-size', value: '5m' }] },
        securityOptions: ['apparmor=docker-default'],
        noNewPrivileges: true,
        shmSizeBytes: 32 * 1024 * 1024,
        sysctls: [
          { name: 'net.ipv4.ip_unprivileged_port_start', value: '80' },
          { name: 'kernel.shmmni', value: '2048' },
        ],
        ...resolverAndRootSettings,
        mounts: [{ type: 'TMPFS', target: '/scratch', tmpfsSizeBytes: 1048576 }],
        stopSignal: 'SIGINT',
        stopTimeout: 3,
        healthcheck: { test: ['CMD', 'true'], intervalSeconds: 5, retries: 2 },
      },
    });
    expect(answer.errors, JSON.stringify(answer)).toBeUndefined();
    const payload = answer.data?.createContainer as {
      __typename: string;
      container?: { dockerId: string };
    };
    expect(payload.__typename, JSON.stringify(payload)).toBe('ContainerPayload');
    const id = payload.container?.dockerId ?? '';

    type Read = {
      container: {
        state: string;
        networks: {
          networkName: string;
          ipAddress: string;
          ipv6Address: string | null;
          aliases: string[];
        }[];
        logs: { lines: { message: string }[] };
        hostConfig: Record<string, unknown>;
        config: Record<string, unknown>;
        mounts: { type: string; destination: string; readWrite: boolean }[];
      };
    };
    let read: Read | undefined;
    await waitFor(
      async () => {
        read = (await gql(READ, { id })).data as Read;
        return read.container.logs.lines.some((line) => line.message === 'shared');
      },
      { timeoutMs: 20_000, what: 'the container to print its settings' },
    );
    const container = read?.container;
    expect(container?.state).toBe('RUNNING');
    expect(container?.logs.lines.map((line) => line.message)).toEqual([
      '1234',
      '80',
      expect.stringMatching(/^shm\s+32768\s/),
      'search corp.example',
      'shared',
    ]);
    const networks = [...(container?.networks ?? [])].sort((a, b) =>
      a.networkName.localeCompare(b.networkName),
    );
    expect(
      networks.map(({ networkName, ipAddress, ipv6Address }) => ({
        networkName,
        ipAddress,
        ipv6Address,
      })),
    ).toEqual(
      [
        { networkName: back, ipAddress: `${backNet}.20`, ipv6Address: 'fd00:dd:1::20' },
        { networkName: front, ipAddress: `${frontNet}.10`, ipv6Address: null },
      ].sort((a, b) => a.networkName.localeCompare(b.networkName)),
    );
    const aliases = Object.fromEntries(
      networks.map((network) => [network.networkName, network.aliases]),
    );
    expect(aliases[front]).toEqual(expect.arrayContaining(['web', 'www']));
    expect(aliases[back]).toEqual(expect.arrayContaining(['api']));
    expect(container?.hostConfig).toEqual({
      networkMode: front,
      volumesFrom: [`${source}:ro`],
      devices: [
        { pathOnHost: '/dev/null', pathInContainer: '/dev/other-null', cgroupPermissions: 'rw' },
      ],
      deviceCgroupRules: ['c 1:3 rwm'],
      ulimits: [{ name: 'nofile', soft: 1234, hard: 2345 }],
      logDriver: 'local',
      logOptions: [{ name: 'max-size', value: '5m' }],
      securityOptions: ['no-new-privileges', 'apparmor=docker-default'],
      shmSizeBytes: 32 * 1024 * 1024,
      sysctls: [
        { name: 'kernel.shmmni', value: '2048' },
        { name: 'net.ipv4.ip_unprivileged_port_start', value: '80' },
      ],
      ...resolverAndRootSettings,
    });
    expect(container?.config).toEqual({
      stopSignal: 'SIGINT',
      stopTimeout: 3,
      healthcheck: { test: ['CMD', 'true'], intervalNanoseconds: 5_000_000_000, retries: 2 },
    });
    expect(container?.mounts).toEqual(
      expect.arrayContaining([
        { type: 'TMPFS', destination: '/scratch', readWrite: true },
        { type: 'VOLUME', destination: '/shared', readWrite: false },
      ]),
    );
  });

  it('removes a container whose later network cannot be joined, and says so', async () => {
    const front = fixtures.name('front-only');
    await fixtures.createNetwork(front);
    const name = fixtures.name('half-joined');
    const answer = await gql(CREATE, {
      input: {
        image: BASE_IMAGE,
        name,
        labels: [runLabel],
        networks: [{ name: front }, { name: fixtures.name('no-such-network') }],
      },
    });
    const payload = answer.data?.createContainer as { __typename: string; message?: string };
    expect(payload.__typename, JSON.stringify(answer)).toBe('NotFoundError');
    expect(payload.message).toMatch(/the container created for it \([0-9a-f]{64}\) was removed/);
    const lookup = await gql(`query ($id: String!) { container(idOrName: $id) { dockerId } }`, {
      id: name,
    });
    expect(lookup.data?.container).toBeNull();
  });
});
