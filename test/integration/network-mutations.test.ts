import { describe, expect, it } from 'vitest';
import { demuxBuffer } from '../../src/docker/demux.ts';
import { graphql } from '../generated/gql.ts';
import type { CreateNetworkInput } from '../generated/graphql.ts';
import { useAppWithFixtures } from '../helpers/app-with-fixtures.ts';
import { must } from '../helpers/must.ts';
import { expectType } from '../helpers/mutations.ts';

const CreateNetwork = graphql(`
  mutation NetMutCreateNetwork($input: CreateNetworkInput!) {
    createNetwork(input: $input) {
      __typename
      ... on NetworkPayload {
        warning
        network {
          id
          dockerId
          name
          driver
          internal
          attachable
          enableIpv6
          labels { name value }
          options { name value }
          ipam {
            driver
            options { name value }
            config { subnet ipRange gateway auxiliaryAddresses { name value } }
          }
        }
      }
      ... on MutationError { message }
      ... on InvalidInputError { field }
    }
  }
`);

const ConnectContainer = graphql(`
  mutation NetMutConnect(
    $network: String!
    $container: String!
    $aliases: [String!]
    $ipv4Address: String
    $ipv6Address: String
  ) {
    connectContainerToNetwork(
      network: $network
      container: $container
      aliases: $aliases
      ipv4Address: $ipv4Address
      ipv6Address: $ipv6Address
    ) {
      __typename
      ... on NetworkConnectionPayload {
        network { name containers { container { name } ipv4Address ipv6Address } }
        container { name networks { networkName ipAddress ipPrefixLength ipv6Address aliases } }
      }
      ... on MutationError { message }
      ... on InvalidInputError { field }
    }
  }
`);

const DisconnectContainer = graphql(`
  mutation NetMutDisconnect($network: String!, $container: String!, $force: Boolean) {
    disconnectContainerFromNetwork(network: $network, container: $container, force: $force) {
      __typename
      ... on NetworkConnectionPayload {
        network { name containers { container { name } } }
        container { name networks { networkName } }
      }
      ... on MutationError { message }
      ... on InvalidInputError { field }
    }
  }
`);

const RemoveNetwork = graphql(`
  mutation NetMutRemove($id: String!) {
    removeNetwork(id: $id) {
      __typename
      ... on RemoveNetworkPayload { id dockerId name }
      ... on MutationError { message }
      ... on InvalidInputError { field }
      ... on EngineFailureError { code engineStatus }
    }
  }
`);

const PruneNetworks = graphql(`
  mutation NetMutPrune($labels: [String!], $until: DateTime) {
    pruneNetworks(labels: $labels, until: $until) {
      __typename
      ... on PruneNetworksPayload { networksDeleted }
      ... on MutationError { message }
      ... on InvalidInputError { field }
    }
  }
`);

const NetworkByName = graphql(`
  query NetMutNetworkByName($idOrName: String!) {
    network(idOrName: $idOrName) { name }
  }
`);

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : 1);

describe('network mutations', () => {
  const { app, fixtures, runLabel } = useAppWithFixtures();
  // Address space of this run, away from the engine's default pools (172.17-31, 192.168)
  // and from the read tests' 10.100-199 range: a /24 split into smaller subnets.
  const net = `10.${200 + (Number.parseInt(fixtures.run.slice(0, 2), 16) % 50)}.${Number.parseInt(fixtures.run.slice(2, 4), 16)}`;
  // Groups written without leading zeros, the way the engine prints IPv6 addresses back.
  const group = (hex: string) => Number.parseInt(hex, 16).toString(16);
  const net6 = `fd42:${group(fixtures.run.slice(0, 4))}:${group(fixtures.run.slice(4, 8))}`;

  /**
   * Runs a command in a running container through the raw Engine API
   * (`POST /containers/{id}/exec`, then `POST /exec/{id}/start` attached) and
   * returns its exit code and its stdout and stderr, in order.
   */
  async function execIn(
    container: string,
    cmd: string[],
  ): Promise<{ exitCode: number | null; output: string }> {
    const json = { 'content-type': 'application/json' };
    const exec = await fixtures.engine.json<{ Id: string }>(
      {
        method: 'POST',
        path: `/containers/${container}/exec`,
        headers: json,
        body: JSON.stringify({ AttachStdout: true, AttachStderr: true, Cmd: cmd }),
      },
      `create exec in ${container}`,
    );
    const response = await fixtures.engine.request(
      {
        method: 'POST',
        path: `/exec/${exec.Id}/start`,
        headers: json,
        body: JSON.stringify({ Detach: false }),
      },
      `start exec in ${container}`,
    );
    const chunks: Buffer[] = [];
    for await (const chunk of response.body) chunks.push(Buffer.from(chunk as Uint8Array));
    const frames = demuxBuffer(Buffer.concat(chunks));
    const output = Buffer.concat(frames.map((frame) => frame.payload)).toString('utf8');
    const { ExitCode } = await fixtures.engine.json<{ ExitCode: number | null }>(
      { path: `/exec/${exec.Id}/json` },
      `inspect exec in ${container}`,
    );
    return { exitCode: ExitCode, output };
  }

  it('creates a network with full IPAM, labels and driver options, and reads it back', async () => {
    const name = fixtures.name('full');
    const { createNetwork } = await app.query(CreateNetwork, {
      input: {
        name,
        attachable: true,
        ipam: {
          config: [
            {
              subnet: `${net}.0/26`,
              ipRange: `${net}.32/27`,
              gateway: `${net}.1`,
              auxiliaryAddresses: [{ name: 'printer', value: `${net}.5` }],
            },
          ],
          options: [{ name: 'purpose', value: 'ipam-test' }],
        },
        labels: [runLabel, { name: 'purpose', value: 'test' }],
        options: [{ name: 'com.docker.network.driver.mtu', value: '1400' }],
      },
    });
    const { network, warning } = expectType(createNetwork, 'NetworkPayload');
    expect(warning).toBeNull();
    expect(network).toMatchObject({
      name,
      driver: 'bridge',
      internal: false,
      attachable: true,
      enableIpv6: false,
      options: [{ name: 'com.docker.network.driver.mtu', value: '1400' }],
      ipam: {
        driver: 'default',
        options: [{ name: 'purpose', value: 'ipam-test' }],
        config: [
          {
            subnet: `${net}.0/26`,
            ipRange: `${net}.32/27`,
            gateway: `${net}.1`,
            auxiliaryAddresses: [{ name: 'printer', value: `${net}.5` }],
          },
        ],
      },
    });
    expect(network.labels).toEqual([runLabel, { name: 'purpose', value: 'test' }].sort(byName));
    expect(network.dockerId).toMatch(/^[0-9a-f]{64}$/);
    expect((await app.query(NetworkByName, { idOrName: name })).network?.name).toBe(name);
  });

  it('creates internal and dual-stack IPv6 networks; IPv6 without a subnet has no free pool', async () => {
    const internalName = fixtures.name('internal');
    const internal = await app.query(CreateNetwork, {
      input: { name: internalName, internal: true, labels: [runLabel] },
    });
    expect(expectType(internal.createNetwork, 'NetworkPayload').network).toMatchObject({
      name: internalName,
      internal: true,
      enableIpv6: false,
    });

    const dualName = fixtures.name('dual');
    const dual = await app.query(CreateNetwork, {
      input: {
        name: dualName,
        enableIpv6: true,
        ipam: {
          config: [
            { subnet: `${net}.64/27` },
            { subnet: `${net6}:1::/64`, gateway: `${net6}:1::1`, ipRange: `${net6}:1::/80` },
          ],
        },
        labels: [runLabel],
      },
    });
    const { network } = expectType(dual.createNetwork, 'NetworkPayload');
    expect(network.enableIpv6).toBe(true);
    expect(network.ipam.config).toEqual([
      {
        subnet: `${net}.64/27`,
        ipRange: null,
        gateway: null,
        auxiliaryAddresses: [],
      },
      {
        subnet: `${net6}:1::/64`,
        ipRange: `${net6}:1::/80`,
        gateway: `${net6}:1::1`,
        auxiliaryAddresses: [],
      },
    ]);

    const containerName = fixtures.name('six');
    await fixtures.runContainer(containerName);
    const address6 = `${net6}:1::42`;
    const connected = await app.query(ConnectContainer, {
      network: dualName,
      container: containerName,
      ipv6Address: address6,
    });
    const payload = expectType(connected.connectContainerToNetwork, 'NetworkConnectionPayload');
    expect(payload.network.containers).toEqual([
      {
        container: { name: containerName },
        ipv4Address: expect.stringMatching(/\/27$/),
        ipv6Address: `${address6}/64`,
      },
    ]);
    const inside = await execIn(containerName, ['ip', '-6', '-o', 'addr']);
    expect(inside.output).toContain(`inet6 ${address6}/64`);

    // The engine (20.10) has no default IPv6 pools: it answers 404, which is no missing object.
    const noPool = await app.query(CreateNetwork, {
      input: { name: fixtures.name('nopool6'), enableIpv6: true, labels: [runLabel] },
    });
    expect(expectType(noPool.createNetwork, 'ConflictError').message).toMatch(
      /non-overlapping IPv6 address pool/,
    );
  });

  it('refuses bad input before the engine, naming the field', async () => {
    const subnet = `${net}.0/26`;
    const cases: [CreateNetworkInput, string, RegExp][] = [
      [{ name: '-leading-dash' }, 'input.name', /not a network name/],
      [
        { name: 'ok', ipam: { config: [{ subnet: `${net}.0/33` }] } },
        'input.ipam.config[0].subnet',
        /CIDR/,
      ],
      [
        { name: 'ok', ipam: { config: [{ subnet: 'not-a-subnet' }] } },
        'input.ipam.config[0].subnet',
        /CIDR/,
      ],
      [
        { name: 'ok', ipam: { config: [{ subnet, gateway: '10.0.0.1' }] } },
        'input.ipam.config[0].gateway',
        /not inside the subnet/,
      ],
      [
        { name: 'ok', ipam: { config: [{ subnet, ipRange: `${net}.0/25` }] } },
        'input.ipam.config[0].ipRange',
        /not inside the subnet/,
      ],
      [
        { name: 'ok', ipam: { config: [{ subnet, ipRange: 'fd00::/64' }] } },
        'input.ipam.config[0].ipRange',
        /not inside the subnet/,
      ],
      [
        {
          name: 'ok',
          ipam: { config: [{ subnet, auxiliaryAddresses: [{ name: 'x', value: '10.0.0.9' }] }] },
        },
        'input.ipam.config[0].auxiliaryAddresses[0].value',
        /not inside the subnet/,
      ],
      [
        { name: 'ok', ipam: { config: [{ subnet: `${net6}::/64` }] } },
        'input.enableIpv6',
        /must be true/,
      ],
      [
        { name: 'ok', ipam: { config: [{ subnet }, { subnet: `${net}.32/27` }] } },
        'input.ipam.config[1].subnet',
        /overlaps/,
      ],
      [{ name: 'ok', labels: [runLabel, runLabel] }, 'input.labels[1].name', /given twice/],
    ];
    const calls = await app.callsDuring(async () => {
      for (const [input, field, message] of cases) {
        const { createNetwork } = await app.query(CreateNetwork, { input });
        const error = expectType(createNetwork, 'InvalidInputError');
        expect({ field: error.field, message: error.message }).toEqual({
          field,
          message: expect.stringMatching(message),
        });
      }
      const badAddress = await app.query(ConnectContainer, {
        network: 'some-network',
        container: 'some-container',
        ipv4Address: '10.1.2.300',
      });
      expect(expectType(badAddress.connectContainerToNetwork, 'InvalidInputError').field).toBe(
        'ipv4Address',
      );
      const wrongId = await app.query(RemoveNetwork, {
        id: Buffer.from('Volume:default:x').toString('base64url'),
      });
      expect(expectType(wrongId.removeNetwork, 'InvalidInputError')).toMatchObject({
        field: 'id',
        message: expect.stringContaining('not of a Network'),
      });
      const badLabel = await app.query(PruneNetworks, { labels: ['=x'] });
      expect(expectType(badLabel.pruneNetworks, 'InvalidInputError').field).toBe('labels[0]');
    });
    expect(calls.filter((call) => call !== 'HEAD /_ping')).toEqual([]);
  });

  it('answers a name in use with a conflict, or a warning when duplicates are allowed', async () => {
    const name = fixtures.name('taken');
    await fixtures.createNetwork(name);
    const taken = await app.query(CreateNetwork, { input: { name, labels: [runLabel] } });
    expect(expectType(taken.createNetwork, 'ConflictError').message).toContain('already exists');

    const second = await app.query(CreateNetwork, {
      input: { name, checkDuplicate: false, labels: [runLabel] },
    });
    const payload = expectType(second.createNetwork, 'NetworkPayload');
    expect(payload.network.name).toBe(name);
    expect(payload.warning).toContain('already exists');
  });

  it('answers a subnet overlapping another network with a conflict', async () => {
    await fixtures.createNetwork(fixtures.name('pool'), {
      IPAM: { Config: [{ Subnet: `${net}.96/28` }] },
    });
    const { createNetwork } = await app.query(CreateNetwork, {
      input: {
        name: fixtures.name('overlap'),
        ipam: { config: [{ subnet: `${net}.96/29` }] },
        labels: [runLabel],
      },
    });
    expect(expectType(createNetwork, 'ConflictError').message).toMatch(/overlaps/);
  });

  it('connects a running container with an alias and a fixed address, seen from inside, and disconnects it', async () => {
    const networkName = fixtures.name('joined');
    const created = await app.query(CreateNetwork, {
      input: {
        name: networkName,
        ipam: { config: [{ subnet: `${net}.128/27` }] },
        labels: [runLabel],
      },
    });
    const networkId = expectType(created.createNetwork, 'NetworkPayload').network.id;
    const appName = fixtures.name('app');
    const peerName = fixtures.name('peer');
    await fixtures.runContainer(appName);
    await fixtures.runContainer(peerName, { HostConfig: { NetworkMode: networkName } });
    const address = `${net}.140`;

    // By global ID for the network, by name for the container.
    const connected = await app.query(ConnectContainer, {
      network: networkId,
      container: appName,
      aliases: ['database'],
      ipv4Address: address,
    });
    const payload = expectType(connected.connectContainerToNetwork, 'NetworkConnectionPayload');
    expect(payload.network.containers).toContainEqual({
      container: { name: appName },
      ipv4Address: `${address}/27`,
      ipv6Address: null,
    });
    const attachment = must(
      payload.container.networks.find((n) => n.networkName === networkName),
      'the new attachment',
    );
    expect(attachment).toMatchObject({ ipAddress: address, ipPrefixLength: 27 });
    expect(attachment.aliases).toContain('database');

    const inside = await execIn(appName, ['ip', '-4', '-o', 'addr']);
    expect(inside.exitCode).toBe(0);
    expect(inside.output).toContain(`inet ${address}/27`);
    const lookup = await execIn(peerName, ['nslookup', 'database']);
    expect(lookup.output).toContain(address);
    expect(lookup.exitCode).toBe(0);

    const twice = await app.query(ConnectContainer, { network: networkName, container: appName });
    expect(expectType(twice.connectContainerToNetwork, 'ConflictError').message).toMatch(
      /already exists in network/,
    );
    const thirdName = fixtures.name('third');
    await fixtures.runContainer(thirdName);
    const inUse = await app.query(ConnectContainer, {
      network: networkName,
      container: thirdName,
      ipv4Address: address,
    });
    expect(expectType(inUse.connectContainerToNetwork, 'ConflictError').message).toMatch(
      /already in use/,
    );
    const outside = await app.query(ConnectContainer, {
      network: networkName,
      container: thirdName,
      ipv4Address: `${net}.200`,
    });
    expect(expectType(outside.connectContainerToNetwork, 'InvalidInputError')).toMatchObject({
      field: 'ipv4Address',
      message: expect.stringContaining("does not belong to any of this network's subnets"),
    });
    const onBridge = await app.query(ConnectContainer, {
      network: 'bridge',
      container: thirdName,
      ipv4Address: '172.17.0.250',
    });
    expect(expectType(onBridge.connectContainerToNetwork, 'InvalidInputError').field).toBe(
      'ipv4Address',
    );

    const disconnected = await app.query(DisconnectContainer, {
      network: networkName,
      container: appName,
    });
    const after = expectType(
      disconnected.disconnectContainerFromNetwork,
      'NetworkConnectionPayload',
    );
    expect(after.container.networks.map((n) => n.networkName)).toEqual(['bridge']);
    expect(after.network.containers).toEqual([{ container: { name: peerName } }]);
    const insideAfter = await execIn(appName, ['ip', '-4', '-o', 'addr']);
    expect(insideAfter.exitCode).toBe(0);
    expect(insideAfter.output).not.toContain(address);
    expect(insideAfter.output).toContain('inet 172.17.');

    const notConnected = await app.query(DisconnectContainer, {
      network: networkName,
      container: appName,
    });
    expect(
      expectType(notConnected.disconnectContainerFromNetwork, 'ConflictError').message,
    ).toMatch(/is not connected/);
  });

  it('answers a missing network or container with not found', async () => {
    const containerName = fixtures.name('lonely');
    await fixtures.runContainer(containerName);
    const networkName = fixtures.name('there');
    await fixtures.createNetwork(networkName);
    const missingNetwork = fixtures.name('nowhere');
    const missingContainer = fixtures.name('nobody');

    const noNetwork = new RegExp(`network "?${missingNetwork}"? not found`);
    const noContainer = new RegExp(`No such container: ${missingContainer}`);
    const answers: [string, { __typename?: string; message?: string } | undefined, RegExp][] = [
      [
        'connect to a missing network',
        (await app.query(ConnectContainer, { network: missingNetwork, container: containerName }))
          .connectContainerToNetwork,
        noNetwork,
      ],
      [
        'connect a missing container',
        (await app.query(ConnectContainer, { network: networkName, container: missingContainer }))
          .connectContainerToNetwork,
        noContainer,
      ],
      [
        'disconnect from a missing network',
        (
          await app.query(DisconnectContainer, {
            network: missingNetwork,
            container: containerName,
          })
        ).disconnectContainerFromNetwork,
        noNetwork,
      ],
      [
        'disconnect a missing container',
        (
          await app.query(DisconnectContainer, {
            network: networkName,
            container: missingContainer,
          })
        ).disconnectContainerFromNetwork,
        noContainer,
      ],
      [
        'remove a missing network',
        (await app.query(RemoveNetwork, { id: missingNetwork })).removeNetwork,
        new RegExp(`${missingNetwork}": no such network`),
      ],
    ];
    for (const [what, answer, message] of answers) {
      expect({ what, typename: answer?.__typename, message: answer?.message }).toEqual({
        what,
        typename: 'NotFoundError',
        message: expect.stringMatching(message),
      });
    }
  });

  it('removes a network by global ID; one in use is a conflict; a builtin one is forbidden', async () => {
    const usedName = fixtures.name('busy');
    await fixtures.createNetwork(usedName);
    await fixtures.runContainer(fixtures.name('busy-user'), {
      HostConfig: { NetworkMode: usedName },
    });
    const inUse = await app.query(RemoveNetwork, { id: usedName });
    expect(expectType(inUse.removeNetwork, 'ConflictError').message).toMatch(/active endpoints/);

    const builtin = await app.query(RemoveNetwork, { id: 'bridge' });
    expect(expectType(builtin.removeNetwork, 'EngineFailureError')).toMatchObject({
      code: 'FORBIDDEN',
      engineStatus: 403,
      message: expect.stringContaining('pre-defined network'),
    });

    const name = fixtures.name('doomed');
    const created = await app.query(CreateNetwork, { input: { name, labels: [runLabel] } });
    const { network } = expectType(created.createNetwork, 'NetworkPayload');
    const removed = await app.query(RemoveNetwork, { id: network.id });
    expect(expectType(removed.removeNetwork, 'RemoveNetworkPayload')).toEqual({
      __typename: 'RemoveNetworkPayload',
      id: network.id,
      dockerId: network.dockerId,
      name,
    });
    expect((await app.query(NetworkByName, { idOrName: name })).network).toBeNull();
  });

  it('prunes only the unused networks with the given labels and reports them', async () => {
    const pruneLabel = { 'dockergraph.prune': fixtures.run };
    const unused = fixtures.name('prunable');
    const used = fixtures.name('kept');
    const unlabelled = fixtures.name('unlabelled');
    await fixtures.createNetwork(unused, { Labels: pruneLabel });
    await fixtures.createNetwork(used, { Labels: pruneLabel });
    await fixtures.createNetwork(unlabelled);
    await fixtures.runContainer(fixtures.name('keeper'), { HostConfig: { NetworkMode: used } });
    const labels = [`dockergraph.prune=${fixtures.run}`];

    const tooOld = await app.query(PruneNetworks, {
      labels,
      until: new Date(Date.now() - 3_600_000).toISOString(),
    });
    expect(expectType(tooOld.pruneNetworks, 'PruneNetworksPayload').networksDeleted).toEqual([]);

    const { pruneNetworks } = await app.query(PruneNetworks, { labels });
    expect(expectType(pruneNetworks, 'PruneNetworksPayload').networksDeleted).toEqual([unused]);
    expect((await app.query(NetworkByName, { idOrName: unused })).network).toBeNull();
    expect((await app.query(NetworkByName, { idOrName: used })).network?.name).toBe(used);
    expect((await app.query(NetworkByName, { idOrName: unlabelled })).network?.name).toBe(
      unlabelled,
    );
  });
});
