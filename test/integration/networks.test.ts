import type { ResultOf } from '@graphql-typed-document-node/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/gql.ts';
import type { NetworkFilter } from '../generated/graphql.ts';
import { expectArgumentError } from '../helpers/app.ts';
import { useAppWithFixtures } from '../helpers/app-with-fixtures.ts';
import { globalIdTests, pagingTests } from '../helpers/connection-checks.ts';
import { TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { must } from '../helpers/must.ts';

// Spread into the operations below; codegen adds its definition to each of them.
graphql(`
  fragment NetworkFacts on Network {
    id
    dockerId
    shortId
    name
    driver
    scope
    created
    internal
    attachable
    ingress
    enableIpv6
    ipam {
      driver
      config { subnet ipRange gateway auxiliaryAddresses { name value } }
      options { name value }
    }
    labels { name value }
    zoneLabel: label(name: "org.example.zone")
    emptyLabel: label(name: "org.example.empty")
    missingLabel: label(name: "org.example.missing")
    # A key every JavaScript object inherits: still not a label.
    constructorLabel: label(name: "constructor")
    options { name value }
    containers {
      container { dockerId name }
      endpointId
      ipv4Address
      ipv6Address
      macAddress
    }
  }
`);

const NetworkLookup = graphql(`
  query NetworkLookup($idOrName: String!) {
    network(idOrName: $idOrName) { ...NetworkFacts }
  }
`);

const NetworkList = graphql(`
  query NetworkList($filter: NetworkFilter) {
    networks(filter: $filter) { totalCount edges { node { ...NetworkFacts } } }
  }
`);

const NetworkNames = graphql(`
  query NetworkNames($filter: NetworkFilter, $first: Int, $after: String, $last: Int, $before: String) {
    networks(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { name } }
    }
  }
`);

const BuiltinNetworks = graphql(`
  query BuiltinNetworks {
    networks(filter: { types: [BUILTIN] }) {
      totalCount
      edges { node { name driver scope labels { name } options { name value } } }
    }
  }
`);

const AllNetworkNames = graphql(`
  query AllNetworkNames {
    networks { totalCount edges { node { name } } }
  }
`);

type Network = NonNullable<ResultOf<typeof NetworkLookup>['network']>;

/** The MAC address the bridge driver derives from an IPv4 address: 02:42 and its four bytes. */
function bridgeMac(ip: string): string {
  const bytes = ip.split('.').map((part) => Number(part).toString(16).padStart(2, '0'));
  return ['02', '42', ...bytes].join(':');
}

describe('networks', () => {
  const { app, fixtures } = useAppWithFixtures();
  const run = fixtures.run;
  const runLabel = `${TEST_LABEL}=${run}`;
  const catalog = [runLabel, 'dg.set=catalog'];

  // Address space of this run, unlikely to overlap another run's.
  const net = `10.${100 + (Number.parseInt(run.slice(0, 2), 16) % 100)}.${Number.parseInt(run.slice(2, 4), 16)}`;
  const net6 = `fd00:${Number.parseInt(run.slice(0, 4), 16).toString(16)}:${Number.parseInt(run.slice(4, 8), 16).toString(16)}:`;
  const appMac = `02:00:${run.match(/../g)?.join(':')}`;

  const front = { name: fixtures.name('front'), id: '' };
  const back = { name: fixtures.name('back'), id: '' };
  const lonely = { name: fixtures.name('lonely'), id: '' };
  const idle = { name: fixtures.name('idle'), id: '' };
  /** This run's networks other than the pagination ones, sorted by name. */
  const catalogNames = [back.name, front.name, idle.name, lonely.name];
  const appName = fixtures.name('app');
  const workerName = fixtures.name('worker');
  const sleeperName = fixtures.name('sleeper');
  let sleeperId = '';
  let appId = '';
  let workerId = '';
  let createStarted = 0;
  let createFinished = 0;

  async function lookup(idOrName: string): Promise<Network> {
    return must((await app.query(NetworkLookup, { idOrName })).network, `network ${idOrName}`);
  }

  async function namesOf(filter: NetworkFilter): Promise<string[]> {
    const { networks } = await app.query(NetworkNames, { filter });
    expect(networks.totalCount).toBe(networks.edges.length);
    return networks.edges.map((edge) => edge.node.name);
  }

  async function removeNetwork(id: string): Promise<void> {
    await fixtures.send({ method: 'DELETE', path: `/networks/${id}` }, `remove network ${id}`);
  }

  beforeAll(async () => {
    createStarted = Date.now();
    front.id = await fixtures.createNetwork(front.name, {
      Driver: 'bridge',
      Attachable: true,
      Labels: { 'dg.set': 'catalog', 'org.example.zone': 'front', 'org.example.empty': '' },
      Options: {
        'com.docker.network.bridge.name': `dg${run}`,
        'com.docker.network.driver.mtu': '1400',
      },
      IPAM: {
        Driver: 'default',
        Options: { 'org.example.pool': 'front' },
        Config: [
          {
            Subnet: `${net}.0/25`,
            IPRange: `${net}.64/26`,
            Gateway: `${net}.1`,
            AuxiliaryAddresses: { router: `${net}.2` },
          },
        ],
      },
    });
    createFinished = Date.now();
    back.id = await fixtures.createNetwork(back.name, {
      Internal: true,
      EnableIPv6: true,
      Labels: { 'dg.set': 'catalog', 'org.example.zone': 'back' },
      IPAM: { Config: [{ Subnet: `${net}.128/28` }, { Subnet: `${net6}:/64` }] },
    });
    lonely.id = await fixtures.createNetwork(lonely.name, {
      Labels: { 'dg.set': 'catalog' },
      IPAM: { Config: [{ Subnet: `${net}.144/28` }] },
    });

    appId = await fixtures.runContainer(appName, {
      MacAddress: appMac,
      HostConfig: { NetworkMode: front.name },
      NetworkingConfig: {
        EndpointsConfig: {
          [front.name]: { IPAMConfig: { IPv4Address: `${net}.100` }, Aliases: ['web'] },
        },
      },
    });
    await fixtures.connectNetwork(back.name, appId, {
      IPAMConfig: { IPv4Address: `${net}.130`, IPv6Address: `${net6}:10` },
      Aliases: ['api'],
    });
    workerId = await fixtures.runContainer(workerName, {
      HostConfig: { NetworkMode: front.name },
    });
    // A container that ran on `idle` and stopped: attached, without an address.
    idle.id = await fixtures.createNetwork(idle.name, {
      Labels: { 'dg.set': 'catalog' },
      IPAM: { Config: [{ Subnet: `${net}.208/29` }] },
    });
    sleeperId = await fixtures.runContainer(
      sleeperName,
      { Cmd: ['true'], HostConfig: { NetworkMode: idle.name } },
      true,
    );
  });

  it('describes a user bridge network: address management, labels, options, endpoints', async () => {
    const network = await lookup(front.name);
    expect(network).toEqual({
      id: expect.any(String),
      dockerId: front.id,
      shortId: front.id.slice(0, 12),
      name: front.name,
      driver: 'bridge',
      scope: 'local',
      created: expect.any(String),
      internal: false,
      attachable: true,
      ingress: false,
      enableIpv6: false,
      ipam: {
        driver: 'default',
        config: [
          {
            subnet: `${net}.0/25`,
            ipRange: `${net}.64/26`,
            gateway: `${net}.1`,
            auxiliaryAddresses: [{ name: 'router', value: `${net}.2` }],
          },
        ],
        options: [{ name: 'org.example.pool', value: 'front' }],
      },
      labels: [
        { name: 'dg.set', value: 'catalog' },
        { name: TEST_LABEL, value: run },
        { name: 'org.example.empty', value: '' },
        { name: 'org.example.zone', value: 'front' },
      ],
      zoneLabel: 'front',
      emptyLabel: '',
      missingLabel: null,
      constructorLabel: null,
      options: [
        { name: 'com.docker.network.bridge.name', value: `dg${run}` },
        { name: 'com.docker.network.driver.mtu', value: '1400' },
      ],
      // Newest container first; the worker got the first address of the IP range.
      containers: [
        {
          container: { dockerId: workerId, name: workerName },
          endpointId: expect.stringMatching(/^[0-9a-f]{64}$/),
          ipv4Address: `${net}.64/25`,
          ipv6Address: null,
          macAddress: bridgeMac(`${net}.64`),
        },
        {
          container: { dockerId: appId, name: appName },
          endpointId: expect.stringMatching(/^[0-9a-f]{64}$/),
          ipv4Address: `${net}.100/25`,
          ipv6Address: null,
          macAddress: appMac,
        },
      ],
    });
    expect(network.id).not.toBe('');
    expect(network.dockerId).toMatch(/^[0-9a-f]{64}$/);
    const endpoints = network.containers.map((endpoint) => endpoint.endpointId);
    expect(new Set(endpoints).size).toBe(2);
    const created = Date.parse(must(network.created, 'created'));
    expect(created).toBeGreaterThanOrEqual(createStarted);
    expect(created).toBeLessThanOrEqual(createFinished);
  });

  it('describes an internal IPv6 network: pools without gateway or range, dual-stack endpoint', async () => {
    const network = await lookup(back.name);
    expect(network).toMatchObject({
      dockerId: back.id,
      name: back.name,
      driver: 'bridge',
      internal: true,
      attachable: false,
      enableIpv6: true,
      ipam: {
        driver: 'default',
        config: [
          { subnet: `${net}.128/28`, ipRange: null, gateway: null, auxiliaryAddresses: [] },
          { subnet: `${net6}:/64`, ipRange: null, gateway: null, auxiliaryAddresses: [] },
        ],
        options: [],
      },
      zoneLabel: 'back',
      emptyLabel: null,
      options: [],
      containers: [
        {
          container: { dockerId: appId, name: appName },
          endpointId: expect.stringMatching(/^[0-9a-f]{64}$/),
          ipv4Address: `${net}.130/28`,
          ipv6Address: `${net6}:10/64`,
          macAddress: bridgeMac(`${net}.130`),
        },
      ],
    });
    const frontNetwork = await lookup(front.name);
    const appEndpoints = [frontNetwork, network].flatMap((n) =>
      n.containers.filter((endpoint) => endpoint.container.dockerId === appId),
    );
    expect(appEndpoints[0]?.endpointId).not.toBe(appEndpoints[1]?.endpointId);
  });

  it('describes a network no container uses', async () => {
    const network = await lookup(lonely.name);
    expect(network).toMatchObject({
      dockerId: lonely.id,
      internal: false,
      enableIpv6: false,
      ipam: { config: [{ subnet: `${net}.144/28` }] },
      labels: [
        { name: 'dg.set', value: 'catalog' },
        { name: TEST_LABEL, value: run },
      ],
      zoneLabel: null,
      containers: [],
    });
  });

  it('lists a stopped container on a network, with no endpoint or address', async () => {
    const network = await lookup(idle.name);
    expect(network.containers).toEqual([
      {
        container: { dockerId: sleeperId, name: sleeperName },
        endpointId: null,
        ipv4Address: null,
        ipv6Address: null,
        macAddress: null,
      },
    ]);
  });

  it('lists the built-in networks bridge, host and none', async () => {
    const { networks } = await app.query(BuiltinNetworks);
    expect(networks.totalCount).toBe(3);
    expect(networks.edges.map((edge) => edge.node)).toEqual([
      {
        name: 'bridge',
        driver: 'bridge',
        scope: 'local',
        labels: [],
        options: expect.arrayContaining([
          { name: 'com.docker.network.bridge.default_bridge', value: 'true' },
        ]),
      },
      { name: 'host', driver: 'host', scope: 'local', labels: [], options: [] },
      { name: 'none', driver: 'null', scope: 'local', labels: [], options: [] },
    ]);
    expect((await lookup('host')).driver).toBe('host');
  });

  it('gives the same facts from the list as from a lookup', async () => {
    const { networks } = await app.query(NetworkList, { filter: { labels: catalog } });
    expect(networks.totalCount).toBe(4);
    const listed = networks.edges.map((edge) => edge.node);
    expect(listed.map((network) => network.name)).toEqual([
      back.name,
      front.name,
      idle.name,
      lonely.name,
    ]);
    for (const network of listed) {
      expect(network).toEqual(await lookup(network.dockerId));
    }
  });

  it('finds a network by name, id and id prefix', async () => {
    for (const idOrName of [front.name, front.id, front.id.slice(0, 12)]) {
      const result = await app.execute(NetworkLookup, { idOrName });
      expect(result.errors).toBeUndefined();
      expect(result.data?.network?.dockerId).toBe(front.id);
    }
  });

  it('answers null, without an error, for a network that does not exist', async () => {
    for (const idOrName of [fixtures.name('missing'), '0123456789abcdef']) {
      const result = await app.execute(NetworkLookup, { idOrName });
      expect(result).toEqual({ data: { network: null } });
    }
  });

  it('rejects what is not a network id or name, naming the argument', async () => {
    for (const idOrName of ['', '   ', 'a/b']) {
      const result = await app.execute(NetworkLookup, { idOrName });
      expect(result.data?.network).toBeNull();
      expectArgumentError(result, 'idOrName');
    }
  });

  describe('filters', () => {
    it('by ids and id prefixes', async () => {
      expect(await namesOf({ labels: catalog, ids: [front.id] })).toEqual([front.name]);
      expect(await namesOf({ labels: catalog, ids: [front.id.slice(0, 12), back.id] })).toEqual([
        back.name,
        front.name,
      ]);
      expect(await namesOf({ labels: catalog, ids: ['0123456789ab'] })).toEqual([]);
    });

    it('by parts of the name', async () => {
      expect(await namesOf({ labels: catalog, names: ['front'] })).toEqual([front.name]);
      expect(await namesOf({ labels: catalog, names: [lonely.name, `back-${run}`] })).toEqual([
        back.name,
        lonely.name,
      ]);
      expect(await namesOf({ labels: catalog, names: [`nothing-${run}`] })).toEqual([]);
    });

    it('by drivers', async () => {
      expect(await namesOf({ labels: catalog, drivers: ['bridge'] })).toEqual(catalogNames);
      expect(await namesOf({ labels: catalog, drivers: ['macvlan'] })).toEqual([]);
    });

    it('by labels: every label must match, by key or key=value', async () => {
      expect(await namesOf({ labels: [runLabel] })).toEqual(catalogNames);
      expect(await namesOf({ labels: [runLabel, 'org.example.zone'] })).toEqual([
        back.name,
        front.name,
      ]);
      expect(await namesOf({ labels: [runLabel, 'org.example.zone=back'] })).toEqual([back.name]);
      expect(await namesOf({ labels: [runLabel, 'org.example.zone=side'] })).toEqual([]);
      const bad = await app.execute(NetworkNames, { filter: { labels: [runLabel, '=back'] } });
      expect(bad.errors?.[0]?.extensions).toMatchObject({ argument: 'filter.labels[1]' });
    });

    it('by scopes', async () => {
      expect(await namesOf({ labels: catalog, scopes: ['LOCAL'] })).toEqual(catalogNames);
      expect(await namesOf({ labels: catalog, scopes: ['SWARM', 'GLOBAL'] })).toEqual([]);
    });

    it('by types', async () => {
      expect(await namesOf({ labels: catalog, types: ['CUSTOM'] })).toEqual(catalogNames);
      expect(await namesOf({ labels: catalog, types: ['BUILTIN'] })).toEqual([]);
      expect(await namesOf({ types: ['BUILTIN'], names: ['host'] })).toEqual(['host']);
    });

    it('by dangling', async () => {
      expect(await namesOf({ labels: catalog, dangling: true })).toEqual([lonely.name]);
      // A stopped container still counts as using its network, as `containers` shows.
      expect(await namesOf({ labels: catalog, dangling: false })).toEqual([
        back.name,
        front.name,
        idle.name,
      ]);
      expect(await namesOf({ dangling: false, types: ['BUILTIN'] })).toEqual([
        'bridge',
        'host',
        'none',
      ]);
      expect(await namesOf({ dangling: true, types: ['BUILTIN'] })).toEqual([]);
    });

    it('lists every network, unfiltered, including this run’s and the built-in ones', async () => {
      const { networks } = await app.query(AllNetworkNames);
      const names = networks.edges.map((edge) => edge.node.name);
      expect(networks.totalCount).toBe(names.length);
      expect(names).toEqual(expect.arrayContaining([...catalogNames, 'bridge', 'host', 'none']));
      expect(names).toEqual([...names].sort());
    });
  });

  describe('pagination', () => {
    const filter = { labels: [runLabel, 'dg.set=page'] };
    const pages = [0, 1, 2, 3, 4].map((index) => ({
      name: fixtures.name(`page-${index}`),
      id: '',
    }));

    beforeAll(async () => {
      for (const [index, page] of pages.entries()) {
        page.id = await fixtures.createNetwork(page.name, {
          Labels: { 'dg.set': 'page' },
          IPAM: { Config: [{ Subnet: `${net}.${160 + index * 8}/29` }] },
        });
      }
    });

    pagingTests({
      things: 'networks',
      order: 'by name',
      execute: (args) => app.execute(NetworkNames, { filter, ...args }),
      connection: (data) => data.networks,
      key: (node) => node.name,
      expectedOrder: () => pages.map((page) => page.name),
      remove: (name) =>
        removeNetwork(
          must(
            pages.find((page) => page.name === name),
            name,
          ).id,
        ),
    });
  });

  describe('global ids', () => {
    globalIdTests({
      app,
      thing: 'network',
      things: 'networks',
      present: async () =>
        Promise.all(
          [front, lonely].map(async ({ name, id }) => ({
            __typename: 'Network' as const,
            id: (await lookup(name)).id,
            name,
            dockerId: id,
          })),
        ),
      removed: async () => {
        const goneId = await fixtures.createNetwork(fixtures.name('gone'), {
          IPAM: { Config: [{ Subnet: `${net}.240/29` }] },
        });
        const gone = await lookup(goneId);
        await removeNetwork(goneId);
        return gone.id;
      },
    });
  });
});
