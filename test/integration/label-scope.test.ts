// A token limited to labels neither sees nor touches what does not carry them: through lists,
// lookups, `node(id)`, nested relations, system counts, events and every container mutation;
// what it creates carries its labels. The same engine seen by an unlimited admin shows that
// the objects it may not see are there.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse, print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.ts';
import { graphql } from '../generated/gql.ts';
import type { LabelScopeEventsSubscription } from '../generated/graphql.ts';
import { randomToken, tokensEnv } from '../helpers/access.ts';
import {
  createTestApp,
  dataOf,
  expectArgumentError,
  type GraphQLResponse,
} from '../helpers/app.ts';
import { collectSubscription } from '../helpers/collect-subscription.ts';
import { BASE_IMAGE, createTar, EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { encodeGlobalId } from '../helpers/global-ids.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const fixtures = new EngineFixtures();
const { run } = fixtures;
/** The token's limit: this run's objects of the payments team (the run label keeps other test files out). */
const LIMIT = { [TEST_LABEL]: run, team: 'payments' };
const RUN_FILTER = `${TEST_LABEL}=${run}`;

const limitedToken = randomToken();
const adminToken = randomToken();
const env = {
  ...tokensEnv([
    { id: 'payments', role: 'admin', token: limitedToken, labels: LIMIT },
    { id: 'root', role: 'admin', token: adminToken },
  ]),
  DOCKERGRAPH_MAX_COST: '1000000',
};
const limited = createTestApp(env, { token: limitedToken });
const admin = createTestApp(env, { token: adminToken });

const payName = fixtures.name('pay');
const otherName = fixtures.name('other');
const missingName = fixtures.name('missing');
const payVolume = fixtures.name('pay-vol');
const sharedVolume = fixtures.name('shared-vol');
const otherVolume = fixtures.name('other-vol');
const payNetwork = fixtures.name('pay-net');
const usedNetwork = fixtures.name('used-net');
const otherNetwork = fixtures.name('other-net');
const payImage = `dg-pay-img-${run}:1`;
const otherImage = `dg-other-img-${run}:1`;

let payId = '';
let otherId = '';
let payImageId = '';
let otherImageId = '';
let baseImageId = '';

const AdminIdsQuery = graphql(`
  query LabelScopeAdminIds($other: String!, $pay: String!, $image: String!, $volume: String!, $network: String!) {
    other: container(idOrName: $other) { id }
    pay: container(idOrName: $pay) { id }
    image(reference: $image) { id }
    volume(name: $volume) { id }
    network(idOrName: $network) { id }
  }
`);

/** Global IDs, as the unlimited admin reads them, of the unlabelled objects and the labelled container. */
function adminIds() {
  return admin.query(AdminIdsQuery, {
    other: otherName,
    pay: payName,
    image: otherImage,
    volume: otherVolume,
    network: otherNetwork,
  });
}

/** The same, of its own objects: the labelled container, its image, volume and network. */
function ownIds() {
  return admin.query(AdminIdsQuery, {
    other: otherName,
    pay: payName,
    image: payImage,
    volume: sharedVolume,
    network: usedNetwork,
  });
}

beforeAll(async () => {
  payImageId = await fixtures.buildImage(payImage, `FROM ${BASE_IMAGE}\n`, { team: 'payments' });
  otherImageId = await fixtures.buildImage(otherImage, `FROM ${BASE_IMAGE}\nLABEL purpose=other\n`);
  const base = await fixtures.engine.json<{ Id: string }>(
    { path: `/images/${BASE_IMAGE}/json` },
    'inspect base image',
  );
  baseImageId = base.Id;
  await fixtures.createVolume(payVolume, { Labels: { team: 'payments' } });
  await fixtures.createVolume(sharedVolume);
  await fixtures.createVolume(otherVolume);
  await fixtures.createNetwork(payNetwork, { Labels: { team: 'payments' } });
  await fixtures.createNetwork(usedNetwork);
  await fixtures.createNetwork(otherNetwork);
  payId = await fixtures.runContainer(payName, {
    Labels: { team: 'payments' },
    HostConfig: { Mounts: [{ Type: 'volume', Source: sharedVolume, Target: '/data' }] },
  });
  await fixtures.connectNetwork(usedNetwork, payId);
  otherId = await fixtures.runContainer(otherName, {
    Image: otherImage,
    HostConfig: { Mounts: [{ Type: 'volume', Source: otherVolume, Target: '/data' }] },
  });
  await fixtures.connectNetwork(otherNetwork, otherId);
}, 120_000);

afterAll(async () => {
  await fixtures.cleanup();
  await limited.close();
  await admin.close();
});

/** What the raw engine says of the unlabelled container: it must stay as it was. */
async function otherAsTheEngineSeesIt() {
  const inspect = await fixtures.engine.json<{
    Name: string;
    State: { Running: boolean; Paused: boolean };
    HostConfig: { RestartPolicy: { Name: string } };
  }>({ path: `/containers/${otherId}/json` }, 'inspect other');
  return {
    name: inspect.Name,
    running: inspect.State.Running,
    paused: inspect.State.Paused,
    restart: inspect.HostConfig.RestartPolicy.Name,
  };
}

const WRITE_METHODS = /^(POST|PUT|DELETE) /;

describe('reads', () => {
  const ListsQuery = graphql(`
    query LabelScopeLists {
      containers { totalCount edges { node { name labels { name value } } } }
      images { totalCount edges { node { dockerId } } }
      volumes { totalCount edges { node { name } } }
      networks { totalCount edges { node { name } } }
      engine {
        info { images containers { total running paused stopped } }
        diskUsage {
          images { count }
          containers { count }
          volumes { count }
          buildCache { count }
        }
      }
    }
  `);

  it('lists, totals and system counts hold only what carries its labels or its containers use', async () => {
    const data = await limited.query(ListsQuery);
    expect(data.containers.totalCount).toBe(1);
    expect(data.containers.edges.map((edge) => edge.node.name)).toEqual([payName]);
    expect(data.containers.edges[0]?.node.labels).toEqual(
      expect.arrayContaining([
        { name: 'team', value: 'payments' },
        { name: TEST_LABEL, value: run },
      ]),
    );
    // The base image is visible because its container uses it; the labelled one by its labels.
    expect(data.images.edges.map((edge) => edge.node.dockerId).sort()).toEqual(
      [baseImageId, payImageId].sort(),
    );
    expect(data.images.totalCount).toBe(2);
    expect(data.volumes.edges.map((edge) => edge.node.name).sort()).toEqual(
      [payVolume, sharedVolume].sort(),
    );
    expect(data.volumes.totalCount).toBe(2);
    // The container sits on the default bridge and on the unlabelled network it was connected to.
    expect(data.networks.edges.map((edge) => edge.node.name).sort()).toEqual(
      ['bridge', payNetwork, usedNetwork].sort(),
    );
    expect(data.engine.info).toEqual({
      images: 2,
      containers: { total: 1, running: 1, paused: 0, stopped: 0 },
    });
    expect(data.engine.diskUsage).toEqual({
      images: { count: 2 },
      containers: { count: 1 },
      volumes: { count: 2 },
      buildCache: { count: 0 },
    });

    // The unlimited admin sees the rest.
    const all = await admin.query(ListsQuery);
    expect(all.containers.edges.map((edge) => edge.node.name)).toEqual(
      expect.arrayContaining([payName, otherName]),
    );
    expect(all.images.edges.map((edge) => edge.node.dockerId)).toContain(otherImageId);
    expect(all.volumes.edges.map((edge) => edge.node.name)).toContain(otherVolume);
    expect(all.networks.edges.map((edge) => edge.node.name)).toContain(otherNetwork);
  });

  it('answers filtered lists from the engine with its labels added to the filter', async () => {
    const FilteredQuery = graphql(`
      query LabelScopeFiltered($labels: [String!]!) {
        containers(filter: { labels: $labels }) { totalCount edges { node { name } } }
      }
    `);
    const calls: string[] = [];
    const start = limited.calls.length;
    const data = await limited.query(FilteredQuery, { labels: [RUN_FILTER] });
    calls.push(...limited.calls.slice(start).map((call) => decodeURIComponent(call.query)));
    expect(data.containers.edges.map((edge) => edge.node.name)).toEqual([payName]);
    expect(calls).toHaveLength(1);
    // The engine filters: the token's labels travel in the `label` filter.
    expect(calls[0]).toContain(`"label":["${RUN_FILTER}`);
    expect(calls[0]).toContain('"team=payments"');
  });

  const LookupsQuery = graphql(`
    query LabelScopeLookups(
      $byName: String!, $byId: String!, $byPrefix: String!, $image: String!, $imageId: String!,
      $volume: String!, $network: String!, $node: ID!, $nodes: [ID!]!
    ) {
      byName: container(idOrName: $byName) { name }
      byId: container(idOrName: $byId) { name }
      byPrefix: container(idOrName: $byPrefix) { name }
      image(reference: $image) { dockerId }
      imageById: image(reference: $imageId) { dockerId }
      volume(name: $volume) { name }
      network(idOrName: $network) { name }
      node(id: $node) { id }
      nodes(ids: $nodes) { id }
    }
  `);

  it('answers lookups by name, id, prefix and global ID of what it may not see with null', async () => {
    const ids = await adminIds();
    const otherGlobalId = ids.other?.id ?? '';
    expect(otherGlobalId).not.toBe('');
    const data = await limited.query(LookupsQuery, {
      byName: otherName,
      byId: otherId,
      byPrefix: otherId.slice(0, 16),
      image: otherImage,
      imageId: otherImageId,
      volume: otherVolume,
      network: otherNetwork,
      node: otherGlobalId,
      nodes: [
        otherGlobalId,
        ids.pay?.id ?? '',
        ids.image?.id ?? '',
        ids.volume?.id ?? '',
        ids.network?.id ?? '',
      ],
    });
    expect(data).toEqual({
      byName: null,
      byId: null,
      byPrefix: null,
      image: null,
      imageById: null,
      volume: null,
      network: null,
      node: null,
      nodes: [null, { id: ids.pay?.id }, null, null, null],
    });
    // The same lookups of its own objects answer them.
    const own = await limited.query(LookupsQuery, {
      byName: payName,
      byId: payId,
      byPrefix: payId.slice(0, 16),
      image: payImage,
      imageId: baseImageId,
      volume: sharedVolume,
      network: usedNetwork,
      node: ids.pay?.id ?? '',
      nodes: [],
    });
    expect(own.byName?.name).toBe(payName);
    expect(own.byId?.name).toBe(payName);
    expect(own.byPrefix?.name).toBe(payName);
    expect(own.image?.dockerId).toBe(payImageId);
    expect(own.imageById?.dockerId).toBe(baseImageId);
    expect(own.volume?.name).toBe(sharedVolume);
    expect(own.network?.name).toBe(usedNetwork);
    expect(own.node?.id).toBe(ids.pay?.id);
  });

  const GlobalIdLookupsQuery = graphql(`
    query LabelScopeGlobalIdLookups($container: String!, $image: String!, $volume: String!, $network: String!) {
      container(idOrName: $container) { id name }
      image(reference: $image) { id dockerId }
      volume(name: $volume) { id name }
      network(idOrName: $network) { id name }
    }
  `);

  it('answers lookups by global ID as by the engine id: its own objects, null for the rest', async () => {
    const others = await adminIds();
    const own = await ownIds();
    const idsOf = (found: typeof others, container: string) => ({
      container,
      image: found.image?.id ?? '',
      volume: found.volume?.id ?? '',
      network: found.network?.id ?? '',
    });
    // What the admin reads of another label, asked by its global IDs: as missing.
    const hidden = await limited.query(GlobalIdLookupsQuery, idsOf(others, others.other?.id ?? ''));
    expect(hidden).toEqual({ container: null, image: null, volume: null, network: null });
    // Its own objects, by the global IDs the admin reads: found, under the same IDs.
    const mine = await limited.query(GlobalIdLookupsQuery, idsOf(own, own.pay?.id ?? ''));
    expect(mine).toEqual({
      container: { id: own.pay?.id, name: payName },
      image: { id: own.image?.id, dockerId: payImageId },
      volume: { id: own.volume?.id, name: sharedVolume },
      network: { id: own.network?.id, name: usedNetwork },
    });
  });

  it('answers forged global IDs that name a hidden object by name or prefix as missing, with no write', async () => {
    const others = await adminIds();
    // The engine's name, from an ID the admin read: `Type:engine:id`, base64url.
    const [, engineName] = Buffer.from(others.other?.id ?? '', 'base64url')
      .toString('utf8')
      .split(':');
    const forge = (type: string, key: string) => encodeGlobalId(type, engineName ?? '', key);
    const calls = await limited.callsDuring(async () => {
      for (const container of [otherName, `/${otherName}`, otherId.slice(0, 12), otherId]) {
        const byForged = await limited.query(GlobalIdLookupsQuery, {
          container: forge('Container', container),
          image: forge('Image', otherImage),
          volume: forge('Volume', otherVolume),
          network: forge('Network', otherNetwork),
        });
        expect(byForged).toEqual({ container: null, image: null, volume: null, network: null });
      }
    });
    expect(calls.filter((call) => WRITE_METHODS.test(call))).toEqual([]);
    // Its own container's global ID given where a network's is asked, and an ID of another
    // engine: refused as the arguments they are, before any engine call.
    const own = await ownIds();
    const lookUp = async (field: 'container' | 'network', argument: string, value: string) =>
      (
        await limited.post({
          query: `query ($value: String!) { ${field}(${argument}: $value) { id } }`,
          variables: { value },
        })
      ).body;
    const elsewhere = encodeGlobalId('Container', 'elsewhere', payId);
    const refusals = await limited.callsDuring(async () => {
      const wrongType = await lookUp('network', 'idOrName', own.pay?.id ?? '');
      expectArgumentError(wrongType, 'idOrName');
      expect(wrongType.errors?.[0]?.message).toBe(
        `Invalid argument "idOrName": "${own.pay?.id}" is the global ID of a Container, not of a Network`,
      );
      const otherEngine = await lookUp('container', 'idOrName', elsewhere);
      expectArgumentError(otherEngine, 'idOrName');
      expect(otherEngine.errors?.[0]?.message).toBe(
        `Invalid argument "idOrName": "${elsewhere}" is the global ID of an object on another engine`,
      );
    });
    expect(refusals.filter((call) => call.includes(payId))).toEqual([]);
  });

  const NestedQuery = graphql(`
    query LabelScopeNested($pay: String!, $base: String!, $shared: String!, $used: String!) {
      container(idOrName: $pay) {
        image { dockerId containers { name } }
        mounts { volume { name containers { name } usage { refCount } } }
        networks { networkName network { name containers { container { name } } } }
      }
      image(reference: $base) { containers { name } }
      volume(name: $shared) { containers { name } }
      bridge: network(idOrName: "bridge") { containers { container { name } } }
      used: network(idOrName: $used) { containers { container { name } } }
    }
  `);

  it('leaves what it may not see out of nested relations', async () => {
    const data = await limited.query(NestedQuery, {
      pay: payName,
      base: BASE_IMAGE,
      shared: sharedVolume,
      used: usedNetwork,
    });
    const only = [{ name: payName }];
    const onlyEndpoint = [{ container: { name: payName } }];
    // Containers of other test files (and the unlabelled one) use the base image and the bridge.
    expect(data.container?.image).toEqual({ dockerId: baseImageId, containers: only });
    expect(data.container?.mounts).toEqual([
      { volume: { name: sharedVolume, containers: only, usage: { refCount: 1 } } },
    ]);
    expect(data.container?.networks).toEqual([
      { networkName: 'bridge', network: { name: 'bridge', containers: onlyEndpoint } },
      { networkName: usedNetwork, network: { name: usedNetwork, containers: onlyEndpoint } },
    ]);
    expect(data.image?.containers).toEqual(only);
    expect(data.volume?.containers).toEqual(only);
    expect(data.bridge?.containers).toEqual(onlyEndpoint);
    expect(data.used?.containers).toEqual(onlyEndpoint);
  });

  it('reads a constant number of engine calls whatever the number of containers', async () => {
    const GraphQuery = graphql(`
      query LabelScopeGraph {
        containers {
          edges {
            node {
              name
              image { tags }
              networks { network { name } }
              mounts { volume { name } }
            }
          }
        }
      }
    `);
    const callsOf = async () => (await limited.callsDuring(() => limited.query(GraphQuery))).sort();
    const before = await callsOf();
    const extra = [fixtures.name('pay-extra-1'), fixtures.name('pay-extra-2')];
    for (const name of extra) {
      const id = await fixtures.createContainer(name, {
        Labels: { team: 'payments' },
        HostConfig: { Mounts: [{ Type: 'volume', Source: sharedVolume, Target: '/data' }] },
      });
      await fixtures.connectNetwork(usedNetwork, id);
    }
    try {
      const data = await limited.query(GraphQuery);
      expect(data.containers.edges).toHaveLength(3);
      expect(await callsOf()).toEqual(before);
      expect(before).toEqual([
        'GET /containers/json',
        'GET /images/json',
        'GET /networks',
        'GET /volumes',
      ]);
    } finally {
      for (const name of extra) {
        await fixtures.send(
          { method: 'DELETE', path: `/containers/${name}`, query: { force: true } },
          `remove ${name}`,
        );
      }
    }
  });
});

describe('mutations', () => {
  interface Refusal {
    readonly __typename: string;
    readonly message?: string;
  }

  const StartMutation = graphql(`
    mutation LabelScopeStart($id: String!) { startContainer(id: $id) { __typename ... on MutationError { message } } }
  `);
  const StopMutation = graphql(`
    mutation LabelScopeStop($id: String!) { stopContainer(id: $id) { __typename ... on MutationError { message } } }
  `);
  const RestartMutation = graphql(`
    mutation LabelScopeRestart($id: String!) { restartContainer(id: $id) { __typename ... on MutationError { message } } }
  `);
  const KillMutation = graphql(`
    mutation LabelScopeKill($id: String!) { killContainer(id: $id, signal: "TERM") { __typename ... on MutationError { message } } }
  `);
  const PauseMutation = graphql(`
    mutation LabelScopePause($id: String!) { pauseContainer(id: $id) { __typename ... on MutationError { message } } }
  `);
  const UnpauseMutation = graphql(`
    mutation LabelScopeUnpause($id: String!) { unpauseContainer(id: $id) { __typename ... on MutationError { message } } }
  `);
  const WaitMutation = graphql(`
    mutation LabelScopeWait($id: String!) { waitContainer(id: $id) { __typename ... on MutationError { message } } }
  `);
  const RenameMutation = graphql(`
    mutation LabelScopeRename($id: String!, $newName: String!) { renameContainer(id: $id, newName: $newName) { __typename ... on MutationError { message } } }
  `);
  const UpdateMutation = graphql(`
    mutation LabelScopeUpdate($id: String!) {
      updateContainer(id: $id, input: { restartPolicy: { name: ALWAYS } }) { __typename ... on MutationError { message } }
    }
  `);
  const RemoveMutation = graphql(`
    mutation LabelScopeRemove($id: String!) { removeContainer(id: $id, force: true) { __typename ... on MutationError { message } } }
  `);
  const ExecMutation = graphql(`
    mutation LabelScopeExec($id: String!) {
      execInContainer(id: $id, input: { cmd: ["touch", "/tmp/touched"] }) { __typename ... on MutationError { message } }
    }
  `);
  const ExecDetachedMutation = graphql(`
    mutation LabelScopeExecDetached($id: String!) {
      execDetached(id: $id, input: { cmd: ["touch", "/tmp/touched"] }) { __typename ... on MutationError { message } }
    }
  `);
  const CommitMutation = graphql(`
    mutation LabelScopeCommit($id: String!) { commitContainer(container: $id) { __typename ... on MutationError { message } } }
  `);
  const ConnectMutation = graphql(`
    mutation LabelScopeConnect($id: String!, $network: String!) {
      connectContainerToNetwork(container: $id, network: $network) { __typename ... on MutationError { message } }
    }
  `);
  const DisconnectMutation = graphql(`
    mutation LabelScopeDisconnect($id: String!, $network: String!) {
      disconnectContainerFromNetwork(container: $id, network: $network) { __typename ... on MutationError { message } }
    }
  `);
  const CopyMutation = graphql(`
    mutation LabelScopeCopy($id: String!, $archive: File!) {
      copyToContainer(id: $id, path: "/tmp", archive: $archive) { __typename ... on MutationError { message } }
    }
  `);

  /** One mutation naming a container, run with a name (or id) given. */
  interface ContainerMutation {
    readonly name: string;
    run(app: typeof limited, id: string): Promise<Refusal | undefined>;
  }

  function mutation<TData, TVariables>(
    name: string,
    document: TypedDocumentNode<TData, TVariables>,
    variables: (id: string) => TVariables,
  ): ContainerMutation {
    return {
      name,
      async run(app, id) {
        const execute = app.execute as (
          document: TypedDocumentNode<TData, TVariables>,
          variables: TVariables,
        ) => Promise<GraphQLResponse<TData>>;
        const result = await execute(document, variables(id));
        const data = dataOf(result) as Record<string, Refusal>;
        return Object.values(data)[0];
      },
    };
  }

  /** copyToContainer with a small tar, as the GraphQL multipart request specification sends it. */
  const copy: ContainerMutation = {
    name: 'copyToContainer',
    async run(app, id) {
      const archive = createTar({ planted: 'x' });
      return (await app.upload(CopyMutation, { id }, archive)).copyToContainer;
    },
  };

  const containerMutations: ContainerMutation[] = [
    mutation('startContainer', StartMutation, (id) => ({ id })),
    mutation('stopContainer', StopMutation, (id) => ({ id })),
    mutation('restartContainer', RestartMutation, (id) => ({ id })),
    mutation('killContainer', KillMutation, (id) => ({ id })),
    mutation('pauseContainer', PauseMutation, (id) => ({ id })),
    mutation('unpauseContainer', UnpauseMutation, (id) => ({ id })),
    mutation('waitContainer', WaitMutation, (id) => ({ id })),
    mutation('renameContainer', RenameMutation, (id) => ({ id, newName: fixtures.name('taken') })),
    mutation('updateContainer', UpdateMutation, (id) => ({ id })),
    mutation('removeContainer', RemoveMutation, (id) => ({ id })),
    mutation('execInContainer', ExecMutation, (id) => ({ id })),
    mutation('execDetached', ExecDetachedMutation, (id) => ({ id })),
    mutation('commitContainer', CommitMutation, (id) => ({ id })),
    mutation('connectContainerToNetwork', ConnectMutation, (id) => ({ id, network: payNetwork })),
    mutation('disconnectContainerFromNetwork', DisconnectMutation, (id) => ({
      id,
      network: payNetwork,
    })),
    copy,
  ];

  it.each(containerMutations.map((each) => [each.name, each] as const))(
    '%s on the unlabelled container answers as for a missing one and changes nothing',
    async (_name, each) => {
      const before = await otherAsTheEngineSeesIt();
      let refusal: Refusal | undefined;
      const calls = await limited.callsDuring(async () => {
        refusal = await each.run(limited, otherName);
      });
      expect(refusal?.__typename).toBe('NotFoundError');
      expect(calls.filter((call) => WRITE_METHODS.test(call))).toEqual([]);
      // An unlimited admin naming a container that does not exist gets the same answer.
      const missing = await each.run(admin, missingName);
      expect(missing?.__typename).toBe('NotFoundError');
      expect(refusal?.message?.replaceAll(otherName, '<name>')).toBe(
        missing?.message?.replaceAll(missingName, '<name>'),
      );
      // Named by engine id, it is refused alike.
      expect((await each.run(limited, otherId))?.__typename).toBe('NotFoundError');
      expect(await otherAsTheEngineSeesIt()).toEqual(before);
    },
  );

  it('refuses mutations of images, volumes and networks it may not see', async () => {
    const ObjectMutations = graphql(`
      mutation LabelScopeObjectMutations($image: String!, $volume: String!, $network: String!) {
        removeImage(reference: $image, force: true) { __typename }
        tagImage(source: $image, repository: "dg-stolen", tag: "x") { __typename }
        pushImage(reference: $image) { __typename }
        removeVolume(name: $volume, force: true) { __typename }
        removeNetwork(id: $network) { __typename }
      }
    `);
    let data: unknown;
    const calls = await limited.callsDuring(async () => {
      data = await limited.query(ObjectMutations, {
        image: otherImage,
        volume: otherVolume,
        network: otherNetwork,
      });
    });
    expect(data).toEqual({
      removeImage: { __typename: 'NotFoundError' },
      tagImage: { __typename: 'NotFoundError' },
      pushImage: { __typename: 'NotFoundError' },
      removeVolume: { __typename: 'NotFoundError' },
      removeNetwork: { __typename: 'NotFoundError' },
    });
    expect(calls.filter((call) => WRITE_METHODS.test(call))).toEqual([]);
    const still = await adminIds();
    expect(still.image && still.volume && still.network).toBeTruthy();
  });

  it('changes the containers it sees', async () => {
    const paused = await limited.query(PauseMutation, { id: payName });
    expect(paused.pauseContainer.__typename).toBe('ContainerPayload');
    const unpaused = await limited.query(UnpauseMutation, { id: payName });
    expect(unpaused.unpauseContainer.__typename).toBe('ContainerPayload');
  });
});

describe('what it creates', () => {
  const CreateContainer = graphql(`
    mutation LabelScopeCreateContainer($input: CreateContainerInput!) {
      createContainer(input: $input) {
        __typename
        ... on ContainerPayload { container { name labels { name value } mounts { volume { name label(name: "team") } } } }
        ... on MutationError { message }
        ... on InvalidInputError { field }
      }
    }
  `);
  const ContainerByName = graphql(`
    query LabelScopeContainerByName($name: String!) { container(idOrName: $name) { name } }
  `);

  it('labels a container and the volume its mount creates, and sees them', async () => {
    const name = fixtures.name('created');
    const volume = fixtures.name('created-vol');
    const data = await limited.query(CreateContainer, {
      input: {
        image: BASE_IMAGE,
        name,
        cmd: ['sleep', '60'],
        labels: [{ name: 'app', value: 'web' }],
        mounts: [{ type: 'VOLUME', source: volume, target: '/data' }],
      },
    });
    const created = data.createContainer;
    if (created.__typename !== 'ContainerPayload') throw new Error(JSON.stringify(created));
    expect(created.container?.labels).toEqual(
      expect.arrayContaining([
        { name: 'app', value: 'web' },
        { name: 'team', value: 'payments' },
        { name: TEST_LABEL, value: run },
      ]),
    );
    expect(created.container?.mounts).toEqual([{ volume: { name: volume, label: 'payments' } }]);
    expect((await limited.query(ContainerByName, { name }))?.container?.name).toBe(name);
  });

  it('refuses a label of its limit set to another value, naming it, before any engine call', async () => {
    let result: unknown;
    const calls = await limited.callsDuring(async () => {
      result = await limited.query(CreateContainer, {
        input: {
          image: BASE_IMAGE,
          name: fixtures.name('rebel'),
          labels: [{ name: 'team', value: 'billing' }],
        },
      });
    });
    expect(result).toEqual({
      createContainer: {
        __typename: 'InvalidInputError',
        field: 'input.labels',
        message:
          'label "team" must be "payments" for this token (it is limited to it), not "billing"',
      },
    });
    expect(calls).toEqual([]);
  });

  it('is told the same of a name in use whether its container is visible or not, and no id', async () => {
    const answerFor = async (name: string) => {
      const data = await limited.query(CreateContainer, {
        input: { image: BASE_IMAGE, name, cmd: ['true'] },
      });
      return {
        __typename: data.createContainer.__typename,
        message: 'message' in data.createContainer ? data.createContainer.message : '',
      };
    };
    const hidden = await answerFor(otherName);
    const visible = await answerFor(payName);
    expect(hidden).toEqual({
      __typename: 'ConflictError',
      message: `the container name "${otherName}" is already in use`,
    });
    expect(visible.message.replaceAll(payName, '<name>')).toBe(
      hidden.message.replaceAll(otherName, '<name>'),
    );
  });

  it('may not mount a volume, join a network or share the network of a container it does not see', async () => {
    const base = { image: BASE_IMAGE, cmd: ['true'] };
    const cases = [
      { mounts: [{ type: 'VOLUME' as const, source: otherVolume, target: '/data' }] },
      { networkMode: otherNetwork },
      { network: { name: otherNetwork } },
      { networkMode: `container:${otherName}` },
    ];
    const answers: unknown[] = [];
    const calls = await limited.callsDuring(async () => {
      for (const extra of cases) {
        const data = await limited.query(CreateContainer, {
          input: { ...base, name: fixtures.name('intruder'), ...extra },
        });
        const { __typename } = data.createContainer;
        answers.push(
          'field' in data.createContainer
            ? { __typename, field: data.createContainer.field }
            : { __typename },
        );
      }
    });
    expect(answers).toEqual([
      { __typename: 'InvalidInputError', field: 'input.mounts[0].source' },
      { __typename: 'NotFoundError' },
      { __typename: 'NotFoundError' },
      { __typename: 'NotFoundError' },
    ]);
    expect(calls.filter((call) => WRITE_METHODS.test(call))).toEqual([]);
  });

  it('labels volumes, networks, built and committed images', async () => {
    const Creates = graphql(`
      mutation LabelScopeCreates(
        $volume: String!, $network: String!, $tag: String!, $pay: String!, $dockerfile: String!,
        $changes: [String!]!
      ) {
        createVolume(input: { name: $volume }) {
          __typename
          ... on VolumePayload { volume { name label(name: "team") } }
        }
        createNetwork(input: { name: $network }) {
          __typename
          ... on NetworkPayload { network { name label(name: "team") } }
        }
        buildImage(input: { dockerfile: $dockerfile, tags: [$tag] }) {
          __typename
          ... on BuildImagePayload { image { tags label(name: "team") } }
          ... on MutationError { message }
        }
        commitContainer(container: $pay, changes: $changes) {
          __typename
          ... on ImagePayload { image { label(name: "team") run: label(name: "dockergraph.test") } }
          ... on MutationError { message }
        }
      }
    `);
    const volume = fixtures.name('made-vol');
    const network = fixtures.name('made-net');
    const tag = `dg-made-img-${run}:1`;
    const data = await limited.query(Creates, {
      volume,
      network,
      tag,
      pay: payName,
      // A Dockerfile label of the limit is overridden by the build's labels, which come last.
      dockerfile: `FROM ${BASE_IMAGE}\nLABEL team=billing\n`,
      changes: ['CMD ["sh"]'],
    });
    expect(data.createVolume).toEqual({
      __typename: 'VolumePayload',
      volume: { name: volume, label: 'payments' },
    });
    expect(data.createNetwork).toEqual({
      __typename: 'NetworkPayload',
      network: { name: network, label: 'payments' },
    });
    // The labels of the build win over the Dockerfile's.
    expect(data.buildImage).toEqual({
      __typename: 'BuildImagePayload',
      image: { tags: [tag], label: 'payments' },
    });
    expect(data.commitContainer).toEqual({
      __typename: 'ImagePayload',
      image: { label: 'payments', run },
    });
    const Seen = graphql(`
      query LabelScopeSeen($volume: String!, $network: String!, $tag: String!) {
        volume(name: $volume) { name }
        network(idOrName: $network) { name }
        image(reference: $tag) { tags }
      }
    `);
    expect(await limited.query(Seen, { volume, network, tag })).toEqual({
      volume: { name: volume },
      network: { name: network },
      image: { tags: [tag] },
    });
  });

  it('labels an imported image', async () => {
    const Import = graphql(`
      mutation LabelScopeImport($archive: File!, $repository: String!) {
        importImage(archive: $archive, repository: $repository, changes: ["LABEL app=imported"]) {
          __typename
          ... on ImportImagePayload { image { tags labels { name value } } }
          ... on MutationError { message }
        }
      }
    `);
    const repository = `dg-imported-${run}`;
    const data = await limited.upload(Import, { repository }, createTar({ 'hello.txt': 'hi' }));
    expect(data.importImage).toEqual({
      __typename: 'ImportImagePayload',
      image: {
        tags: [`${repository}:latest`],
        labels: [
          { name: 'app', value: 'imported' },
          { name: TEST_LABEL, value: run },
          { name: 'team', value: 'payments' },
        ],
      },
    });
  });

  it('refuses a LABEL change of its limit to another value, and a volume name another uses', async () => {
    const Refused = graphql(`
      mutation LabelScopeRefusedCreates($pay: String!, $volume: String!) {
        commitContainer(container: $pay, changes: ["ENV A=1", "LABEL team=billing"]) {
          __typename
          ... on InvalidInputError { field message }
        }
        createVolume(input: { name: $volume }) { __typename }
      }
    `);
    const data = await limited.query(Refused, { pay: payName, volume: otherVolume });
    expect(data.commitContainer).toEqual({
      __typename: 'InvalidInputError',
      field: 'changes[1]',
      message:
        'label "team" must be "payments" for this token (it is limited to it), not "billing"',
    });
    expect(data.createVolume).toEqual({ __typename: 'ConflictError' });
  });
});

describe('prunes', () => {
  it('remove only objects carrying its labels', async () => {
    const payStopped = fixtures.name('pay-stopped');
    const otherStopped = fixtures.name('other-stopped');
    await fixtures.createContainer(payStopped, { Labels: { team: 'payments' } });
    await fixtures.createContainer(otherStopped);
    const payUnused = fixtures.name('pay-unused-net');
    const otherUnused = fixtures.name('other-unused-net');
    await fixtures.createNetwork(payUnused, { Labels: { team: 'payments' } });
    await fixtures.createNetwork(otherUnused);
    const Prunes = graphql(`
      mutation LabelScopePrunes($labels: [String!]!) {
        pruneContainers(filter: { labels: $labels }) {
          ... on PruneContainersPayload { containersDeleted }
        }
        pruneNetworks(labels: $labels) { ... on PruneNetworksPayload { networksDeleted } }
      }
    `);
    const data = await limited.query(Prunes, { labels: [RUN_FILTER] });
    const exists = async (path: string) =>
      (await fixtures.engine.jsonOrNull<unknown>({ path }, `inspect ${path}`)) !== null;
    expect(await exists(`/containers/${payStopped}/json`)).toBe(false);
    expect(await exists(`/containers/${otherStopped}/json`)).toBe(true);
    expect(await exists(`/networks/${payUnused}`)).toBe(false);
    expect(await exists(`/networks/${otherUnused}`)).toBe(true);
    expect(await exists(`/networks/${otherNetwork}`)).toBe(true);
    if (!('networksDeleted' in data.pruneNetworks)) throw new Error('prune failed');
    expect(data.pruneNetworks.networksDeleted).not.toContain(otherUnused);
  });
});

describe('subscriptions', () => {
  const EventsSubscription = graphql(`
    subscription LabelScopeEvents {
      events {
        kind
        event { type action actor { id attributes { name value } } container { name } }
      }
    }
  `);

  type Message = LabelScopeEventsSubscription['events'];

  let limitedServer: LiveServer;
  let adminServer: LiveServer;

  beforeAll(async () => {
    limitedServer = await startLiveServer(undefined, { env, token: limitedToken });
    adminServer = await startLiveServer(undefined, { env, token: adminToken });
  });

  afterAll(async () => {
    await limitedServer?.close();
    await adminServer?.close();
  });

  /** Subscribes to all events through `server` and collects them. */
  function collect(server: LiveServer) {
    const collected = collectSubscription(
      'events',
      server.client.iterate<{ events: Message }>({ query: print(EventsSubscription) }),
    );
    return {
      messages: collected.messages,
      errors: collected.errors,
      until: (found: (message: Message) => boolean, what: string) =>
        collected.until((messages) => (messages.some(found) ? true : undefined), 20_000, what),
      stop: () => collected.stop(),
    };
  }

  const nameOf = (message: Message) =>
    message.event?.actor.attributes.find((attribute) => attribute.name === 'name')?.value;

  it('delivers no event of objects it may not see, and those of its own', async () => {
    const mine = collect(limitedServer);
    const all = collect(adminServer);
    try {
      // Both subscriptions are live once a first event reaches them: the limited one sees its
      // container, the admin every container.
      await waitFor(
        async () => {
          await fixtures.send(
            { method: 'POST', path: `/containers/${payId}/kill`, query: { signal: 'SIGWINCH' } },
            'signal pay',
          );
          return mine.messages.length > 0 && all.messages.length > 0;
        },
        { timeoutMs: 20_000, intervalMs: 500, what: 'both subscriptions to receive events' },
      );
      const otherVolumeMade = fixtures.name('late-other-vol');
      await fixtures.send(
        { method: 'POST', path: `/containers/${otherId}/stop`, query: { t: 0 } },
        'stop other',
      );
      await fixtures.startContainer(otherId);
      await fixtures.createVolume(otherVolumeMade);
      // What the token creates itself arrives, volume events included (they carry no labels).
      const ownVolume = fixtures.name('late-pay-vol');
      const CreateVolume = graphql(`
        mutation LabelScopeLateVolume($name: String!) { createVolume(input: { name: $name }) { __typename } }
      `);
      await limited.query(CreateVolume, { name: ownVolume });
      await fixtures.send(
        { method: 'POST', path: `/containers/${payId}/stop`, query: { t: 0 } },
        'stop pay',
      );
      await fixtures.startContainer(payId);
      await mine.until(
        (message) => message.event?.action === 'start' && nameOf(message) === payName,
        'the start of the labelled container',
      );
      await mine.until(
        (message) =>
          message.event?.type === 'VOLUME' &&
          message.event.action === 'create' &&
          message.event.actor.id === ownVolume,
        'the creation of its own volume',
      );
      await all.until(
        (message) => message.event?.action === 'start' && nameOf(message) === payName,
        'the start of the labelled container for the admin',
      );
      // The admin saw the unlabelled container's events; the limited token none of them.
      expect(
        all.messages.some(
          (message) => message.event?.action === 'stop' && nameOf(message) === otherName,
        ),
      ).toBe(true);
      expect(all.messages.some((message) => message.event?.actor.id === otherVolumeMade)).toBe(
        true,
      );
      expect(mine.errors).toEqual([]);
      for (const message of mine.messages) {
        if (message.kind !== 'EVENT') continue;
        expect(message.event?.actor.id).not.toBe(otherId);
        expect(message.event?.actor.id).not.toBe(otherVolumeMade);
        expect(nameOf(message)).not.toBe(otherName);
        if (message.event?.type === 'CONTAINER') {
          expect(message.event.actor.attributes).toEqual(
            expect.arrayContaining([{ name: 'team', value: 'payments' }]),
          );
        }
      }
      expect(mine.messages.some((message) => message.event?.container?.name === payName)).toBe(
        true,
      );
    } finally {
      await mine.stop();
      await all.stop();
    }
  });

  it('refuses logs, stats and updates of a container it may not see', async () => {
    const Logs = graphql(`
      subscription LabelScopeLogs($id: String!) { containerLogs(id: $id) { line { message } } }
    `);
    const Stats = graphql(`
      subscription LabelScopeStats($ids: [String!]!) { containerStats(ids: $ids) { containerId } }
    `);
    for (const [query, variables] of [
      [print(Logs), { id: otherName }],
      [print(Stats), { ids: [otherName] }],
    ] as const) {
      const iterator = limitedServer.client.iterate({ query, variables });
      const first = await iterator.next().catch((error: unknown) => ({ value: error }));
      await iterator.return?.();
      expect(JSON.stringify(first.value)).toContain(`No such container: ${otherName}`);
    }
    const Updates = graphql(`
      subscription LabelScopeUpdates { containerUpdated { kind containerId } }
    `);
    const updates = collectSubscription(
      'containerUpdated',
      limitedServer.client.iterate<{ containerUpdated: { kind: string; containerId: string } }>({
        query: print(Updates),
      }),
    );
    try {
      const SignalPay = graphql(`
        mutation LabelScopeRestartPay($id: String!) { restartContainer(id: $id, timeoutSeconds: 0) { __typename } }
      `);
      await waitFor(
        async () => {
          await fixtures.send(
            { method: 'POST', path: `/containers/${otherId}/restart`, query: { t: 0 } },
            'restart other',
          );
          await limited.query(SignalPay, { id: payName });
          return updates.messages.length > 0;
        },
        { timeoutMs: 20_000, intervalMs: 500, what: 'an update of the labelled container' },
      );
      await updates.untilCount(2, 20_000);
      expect(updates.errors).toEqual([]);
      for (const update of updates.messages) expect(update.containerId).toBe(payId);
    } finally {
      await updates.stop();
    }
  });
});

describe('attacks of issue 9 (label limits)', () => {
  /** Runs `query` through HTTP as `app`, answering its body. */
  async function post(app: typeof limited, query: string, variables: Record<string, unknown> = {}) {
    return (await app.post<GraphQLResponse<Record<string, unknown>>>({ query, variables })).body;
  }

  it('matches an id prefix among what it sees: no "Multiple IDs found" about a hidden container', async () => {
    const visible = (await limited.query(ListsVisible)).containers.edges.map(
      (edge) => edge.node.dockerId,
    );
    /** The shortest prefix of `id` no other visible container shares. */
    const uniquePrefix = (id: string) => {
      for (let length = 1; ; length += 1) {
        const prefix = id.slice(0, length);
        if (visible.filter((other) => other.startsWith(prefix)).length === 1) return prefix;
      }
    };
    let shared: { prefix: string; visibleId: string; hiddenId: string } | undefined;
    for (let attempt = 0; attempt < 100 && !shared; attempt += 1) {
      const hiddenId = await fixtures.createContainer(fixtures.name(`prefix-${attempt}`));
      for (const visibleId of visible) {
        const prefix = uniquePrefix(visibleId);
        if (hiddenId.startsWith(prefix)) shared = { prefix, visibleId, hiddenId };
      }
    }
    if (!shared) throw new Error('no hidden container shares a prefix with a visible one');
    const Lookup = 'query ($id: String!) { container(idOrName: $id) { dockerId } }';
    // The engine itself finds the prefix ambiguous: this is what the token used to be told.
    const engine = await fixtures.engine
      .jsonOrNull<unknown>({ path: `/containers/${shared.prefix}/json` }, 'inspect by prefix')
      .catch((error: unknown) => String(error));
    expect(String(engine)).toContain('Multiple IDs found');
    expect(await post(limited, Lookup, { id: shared.prefix })).toEqual({
      data: { container: { dockerId: shared.visibleId } },
    });
    const Pause = `mutation ($id: String!) {
      pauseContainer(id: $id) { __typename ... on ContainerPayload { container { dockerId } } ... on MutationError { message } }
    }`;
    const paused = await post(limited, Pause, { id: shared.prefix });
    const answer = JSON.stringify(paused);
    expect(answer).not.toContain('Multiple IDs');
    expect(answer).not.toContain(shared.hiddenId.slice(0, 12));
    // The hidden container's own prefix answers as a missing one.
    const hiddenPrefix = shared.hiddenId.slice(0, 12);
    expect(await post(limited, Lookup, { id: hiddenPrefix })).toEqual({
      data: { container: null },
    });
  }, 120_000);

  it('answers a rename onto a hidden name exactly as onto a visible one, and changes nothing', async () => {
    const twin = fixtures.name('pay-twin');
    await fixtures.createContainer(twin, { Labels: { team: 'payments' } });
    const Rename = `mutation ($id: String!, $newName: String!) {
      renameContainer(id: $id, newName: $newName) { __typename ... on MutationError { message } }
    }`;
    const hidden = await post(limited, Rename, { id: twin, newName: otherName });
    const visible = await post(limited, Rename, { id: twin, newName: payName });
    expect(hidden).toEqual({
      data: {
        renameContainer: {
          __typename: 'ConflictError',
          message: `the container name "${otherName}" is already in use`,
        },
      },
    });
    expect(JSON.stringify(visible).replaceAll(payName, '<name>')).toBe(
      JSON.stringify(hidden).replaceAll(otherName, '<name>'),
    );
    expect((await otherAsTheEngineSeesIt()).name).toBe(`/${otherName}`);
    const twinNow = await fixtures.engine.json<{ Name: string }>(
      { path: `/containers/${twin}/json` },
      'inspect twin',
    );
    expect(twinNow.Name).toBe(`/${twin}`);
  });

  it('answers a volume or network name in use with one message, not the engine’s', async () => {
    const Creates = `mutation ($volume: String!, $network: String!) {
      createVolume(input: { name: $volume }) { __typename ... on MutationError { message } }
      createNetwork(input: { name: $network }) { __typename ... on MutationError { message } }
    }`;
    const hidden = await post(limited, Creates, { volume: otherVolume, network: otherNetwork });
    expect(hidden).toEqual({
      data: {
        createVolume: {
          __typename: 'ConflictError',
          message: `the volume name "${otherVolume}" is already in use`,
        },
        createNetwork: {
          __typename: 'ConflictError',
          message: `the network name "${otherNetwork}" is already in use`,
        },
      },
    });
    const visible = await post(limited, Creates, { volume: payVolume, network: usedNetwork });
    // A visible volume's name answers the volume itself, as the engine does (it is the
    // token's); a visible network's name the same conflict.
    expect(visible.data?.createNetwork).toEqual({
      __typename: 'ConflictError',
      message: `the network name "${usedNetwork}" is already in use`,
    });
  });
});

const ListsVisible = graphql(`
  query LabelScopeVisibleIds { containers { edges { node { dockerId } } } }
`);

describe('every Mutation and Subscription field, as the limited token, against objects it cannot see', () => {
  /** The objects an operation names: hidden ones for the limited token, missing ones for the admin. */
  interface Targets {
    readonly container: string;
    readonly image: string;
    readonly volume: string;
    readonly network: string;
  }
  const hidden: Targets = {
    container: otherName,
    image: otherImage,
    volume: otherVolume,
    network: otherNetwork,
  };
  const missing: Targets = {
    container: missingName,
    image: `dg-missing-img-${run}:1`,
    volume: fixtures.name('missing-vol'),
    network: fixtures.name('missing-net'),
  };
  const answer = '{ __typename ... on MutationError { message } }';
  type Operation = (names: Targets) => { query: string; variables: Record<string, unknown> };
  /** A mutation naming a container by `id`, with more arguments after it. */
  const onContainer =
    (field: string, more = '', argument = 'id'): Operation =>
    (names) => ({
      query: `mutation ($id: String!) { ${field}(${argument}: $id${more}) ${answer} }`,
      variables: { id: names.container },
    });
  const onObject =
    (field: string, argument: string, target: keyof Targets, more = ''): Operation =>
    (names) => ({
      query: `mutation ($x: String!) { ${field}(${argument}: $x${more}) ${answer} }`,
      variables: { x: names[target] },
    });

  /**
   * What each field does with a hidden object: `missing` answers exactly as the admin is
   * answered for a missing object (names aside); `refused` is a documented refusal; `prune`
   * runs and must leave every hidden object; `untargeted` names no existing object (why).
   * A field of the schema without an entry fails the test.
   */
  type Attack =
    | { readonly kind: 'missing'; readonly operation: Operation; readonly upload?: boolean }
    | { readonly kind: 'refused'; readonly operation: Operation; readonly answer: unknown }
    | { readonly kind: 'prune'; readonly query: string }
    | { readonly kind: 'subscription-missing'; readonly operation: Operation }
    | { readonly kind: 'subscription-silent'; readonly query: string }
    | { readonly kind: 'untargeted'; readonly reason: string }
    | { readonly kind: 'denied-to-limited'; readonly query: string };

  const attacks: Readonly<Record<string, Attack>> = {
    startContainer: { kind: 'missing', operation: onContainer('startContainer') },
    stopContainer: { kind: 'missing', operation: onContainer('stopContainer') },
    restartContainer: { kind: 'missing', operation: onContainer('restartContainer') },
    killContainer: { kind: 'missing', operation: onContainer('killContainer', ', signal: "TERM"') },
    pauseContainer: { kind: 'missing', operation: onContainer('pauseContainer') },
    unpauseContainer: { kind: 'missing', operation: onContainer('unpauseContainer') },
    waitContainer: { kind: 'missing', operation: onContainer('waitContainer') },
    updateContainer: {
      kind: 'missing',
      operation: onContainer('updateContainer', ', input: { restartPolicy: { name: ALWAYS } }'),
    },
    renameContainer: {
      kind: 'missing',
      operation: onContainer('renameContainer', `, newName: "${fixtures.name('stolen')}"`),
    },
    removeContainer: {
      kind: 'missing',
      operation: onContainer('removeContainer', ', force: true'),
    },
    execInContainer: {
      kind: 'missing',
      operation: onContainer('execInContainer', ', input: { cmd: ["touch", "/tmp/x"] }'),
    },
    execDetached: {
      kind: 'missing',
      operation: onContainer('execDetached', ', input: { cmd: ["touch", "/tmp/x"] }'),
    },
    commitContainer: {
      kind: 'missing',
      operation: onContainer('commitContainer', '', 'container'),
    },
    copyToContainer: {
      kind: 'missing',
      upload: true,
      operation: (names) => ({
        query: `mutation ($id: String!, $archive: File!) { copyToContainer(id: $id, path: "/tmp", archive: $archive) ${answer} }`,
        variables: { id: names.container },
      }),
    },
    connectContainerToNetwork: {
      kind: 'missing',
      operation: onContainer(
        'connectContainerToNetwork',
        `, network: "${usedNetwork}"`,
        'container',
      ),
    },
    disconnectContainerFromNetwork: {
      kind: 'missing',
      operation: onContainer(
        'disconnectContainerFromNetwork',
        `, network: "${usedNetwork}"`,
        'container',
      ),
    },
    // The engine checks a network when the container starts; the token is refused at once.
    createContainer: {
      kind: 'refused',
      operation: (names) => ({
        query: `mutation ($network: String!) { createContainer(input: { image: "${BASE_IMAGE}", cmd: ["true"], networkMode: $network }) ${answer} }`,
        variables: { network: names.network },
      }),
      answer: {
        __typename: 'NotFoundError',
        message: `connect to network "${otherNetwork}": network ${otherNetwork} not found`,
      },
    },
    pushImage: { kind: 'missing', operation: onObject('pushImage', 'reference', 'image') },
    tagImage: {
      kind: 'missing',
      operation: onObject('tagImage', 'source', 'image', ', repository: "dg-stolen", tag: "x"'),
    },
    removeImage: { kind: 'missing', operation: onObject('removeImage', 'reference', 'image') },
    // The engine answers the removal of a missing volume as done; a hidden one is not found.
    removeVolume: {
      kind: 'refused',
      operation: onObject('removeVolume', 'name', 'volume', ', force: true'),
      answer: {
        __typename: 'NotFoundError',
        message: `remove volume "${otherVolume}": get ${otherVolume}: no such volume`,
      },
    },
    removeNetwork: { kind: 'missing', operation: onObject('removeNetwork', 'id', 'network') },
    createVolume: {
      kind: 'refused',
      operation: (names) => ({
        query: `mutation ($x: String!) { createVolume(input: { name: $x }) ${answer} }`,
        variables: { x: names.volume },
      }),
      answer: {
        __typename: 'ConflictError',
        message: `the volume name "${otherVolume}" is already in use`,
      },
    },
    createNetwork: {
      kind: 'refused',
      operation: (names) => ({
        query: `mutation ($x: String!) { createNetwork(input: { name: $x }) ${answer} }`,
        variables: { x: names.network },
      }),
      answer: {
        __typename: 'ConflictError',
        message: `the network name "${otherNetwork}" is already in use`,
      },
    },
    pruneContainers: { kind: 'prune', query: `mutation { pruneContainers ${answer} }` },
    pruneImages: { kind: 'prune', query: `mutation { pruneImages(dangling: false) ${answer} }` },
    pruneVolumes: { kind: 'prune', query: `mutation { pruneVolumes ${answer} }` },
    pruneNetworks: { kind: 'prune', query: `mutation { pruneNetworks ${answer} }` },
    pullImage: { kind: 'untargeted', reason: 'pulls from a registry by name (scope-rules.ts)' },
    checkRegistryLogin: {
      kind: 'untargeted',
      reason: 'asks a registry about credentials; names no object (scope-rules.ts)',
    },
    buildImage: { kind: 'untargeted', reason: 'builds a new, labelled image' },
    importImage: { kind: 'untargeted', reason: 'imports a new, labelled image' },
    loadImages: { kind: 'untargeted', reason: 'loads the images of an archive (scope-rules.ts)' },
    containerLogs: {
      kind: 'subscription-missing',
      operation: (names) => ({
        query: 'subscription ($id: String!) { containerLogs(id: $id) { line { message } } }',
        variables: { id: names.container },
      }),
    },
    containerStats: {
      kind: 'subscription-missing',
      operation: (names) => ({
        query: 'subscription ($ids: [String!]!) { containerStats(ids: $ids) { containerId } }',
        variables: { ids: [names.container] },
      }),
    },
    events: {
      kind: 'subscription-silent',
      query: `subscription ($ids: [String!]!) { events(filter: { containers: $ids }) { kind event { action actor { id attributes { name value } } } } }`,
    },
    containerUpdated: {
      kind: 'subscription-silent',
      query: `subscription ($ids: [String!]!) { containerUpdated(filter: { ids: $ids }) { kind containerId } }`,
    },
    pullImageProgress: { kind: 'untargeted', reason: 'pulls from a registry by name' },
    buildImageProgress: { kind: 'untargeted', reason: 'builds a new, labelled image' },
    // The swarm itself and its nodes belong to no label: refused before any engine call.
    initSwarm: { kind: 'denied-to-limited', query: `mutation { initSwarm(input: {}) ${answer} }` },
    // Engine plugins belong to no label: refused before any engine call.
    installPlugin: {
      kind: 'denied-to-limited',
      query: `mutation { installPlugin(remote: "127.0.0.1:5000/x/p:1", privileges: []) ${answer} }`,
    },
    upgradePlugin: {
      kind: 'denied-to-limited',
      query: `mutation { upgradePlugin(name: "p", remote: "127.0.0.1:5000/x/p:2", privileges: []) ${answer} }`,
    },
    enablePlugin: {
      kind: 'denied-to-limited',
      query: `mutation { enablePlugin(name: "p") ${answer} }`,
    },
    disablePlugin: {
      kind: 'denied-to-limited',
      query: `mutation { disablePlugin(name: "p") ${answer} }`,
    },
    configurePlugin: {
      kind: 'denied-to-limited',
      query: `mutation { configurePlugin(name: "p", settings: ["A=1"]) ${answer} }`,
    },
    removePlugin: {
      kind: 'denied-to-limited',
      query: `mutation { removePlugin(name: "p") ${answer} }`,
    },
    updateVolume: {
      kind: 'missing',
      operation: onObject('updateVolume', 'name', 'volume', ', availability: PAUSE'),
    },
    pruneBuildCache: {
      kind: 'denied-to-limited',
      query: `mutation { pruneBuildCache(all: true) ${answer} }`,
    },
    joinSwarm: {
      kind: 'denied-to-limited',
      query: `mutation { joinSwarm(input: { remoteAddresses: ["10.0.0.1:2377"], joinToken: "x" }) ${answer} }`,
    },
    leaveSwarm: { kind: 'denied-to-limited', query: `mutation { leaveSwarm ${answer} }` },
    updateSwarm: {
      kind: 'denied-to-limited',
      query: `mutation { updateSwarm(input: {}) ${answer} }`,
    },
    unlockSwarm: {
      kind: 'denied-to-limited',
      query: `mutation { unlockSwarm(unlockKey: "x") ${answer} }`,
    },
    updateSwarmNode: {
      kind: 'denied-to-limited',
      query: `mutation { updateSwarmNode(id: "x", input: { availability: DRAIN }) ${answer} }`,
    },
    removeSwarmNode: {
      kind: 'denied-to-limited',
      query: `mutation { removeSwarmNode(id: "x") ${answer} }`,
    },
    // Services, secrets and configs need a swarm manager: test/swarm/secrets.test.ts runs them
    // as a label-limited token against hidden ones, on a real swarm.
    ...Object.fromEntries(
      [
        'createService',
        'updateService',
        'scaleService',
        'rollbackService',
        'removeService',
        'createSecret',
        'removeSecret',
        'rotateSecret',
        'createConfig',
        'removeConfig',
        'rotateConfig',
        'serviceUpdated',
        'serviceLogs',
      ].map((field): [string, Attack] => [
        field,
        { kind: 'untargeted', reason: 'needs a swarm: covered by the swarm suite' },
      ]),
    ),
  };

  const fields = [
    ...Object.keys(schema.getMutationType()?.getFields() ?? {}),
    ...Object.keys(schema.getSubscriptionType()?.getFields() ?? {}),
  ];

  let limitedServer: LiveServer;
  let adminServer: LiveServer;
  let hiddenStopped = '';

  beforeAll(async () => {
    limitedServer = await startLiveServer(undefined, { env, token: limitedToken });
    adminServer = await startLiveServer(undefined, { env, token: adminToken });
    // A stopped hidden container, unused hidden networks and volumes: what prunes would take.
    hiddenStopped = fixtures.name('hidden-stopped');
    await fixtures.createContainer(hiddenStopped);
  });

  afterAll(async () => {
    await limitedServer?.close();
    await adminServer?.close();
  });

  /** What the raw engine shows of the hidden objects. */
  async function hiddenAsTheEngineSeesIt() {
    const exists = async (path: string) =>
      (await fixtures.engine.jsonOrNull<unknown>({ path }, `inspect ${path}`)) !== null;
    return {
      other: await otherAsTheEngineSeesIt(),
      stopped: await exists(`/containers/${hiddenStopped}/json`),
      image: await exists(`/images/${otherImage}/json`),
      volume: await exists(`/volumes/${otherVolume}`),
      network: await exists(`/networks/${otherNetwork}`),
    };
  }

  async function attempt(
    app: typeof limited,
    attack: Attack & { operation: Operation },
    names: Targets,
  ) {
    const { query, variables } = attack.operation(names);
    if ('upload' in attack && attack.upload) {
      const document = parse(query) as TypedDocumentNode<Record<string, unknown>, object>;
      return Object.values(await app.upload(document, variables, createTar({ x: 'x' })))[0];
    }
    const body = (await app.post<GraphQLResponse<Record<string, unknown>>>({ query, variables }))
      .body;
    return body.data ? Object.values(body.data)[0] : body;
  }

  const anonymous = (value: unknown, names: Targets) => {
    let text = JSON.stringify(value);
    for (const [kind, name] of Object.entries(names)) {
      // An image's repository alone is named too (the engine's words for a push).
      text = text
        .replaceAll(name, `<${kind}>`)
        .replaceAll(name.replace(/:[^:/]*$/, ''), `<${kind}>`);
    }
    return text;
  };

  it('receives connects and disconnects of a hidden container on a visible network without naming it', async () => {
    const query = `subscription { events(filter: { types: [NETWORK] }) { event { action actor { id attributes { name value } } } } }`;
    type Received = { event: { action: string; actor: { id: string } } };
    const follow = (server: LiveServer) => {
      const collected = collectSubscription(
        'events',
        server.client.iterate<{ events: Received }>({ query }),
      );
      return { received: collected.messages, stop: () => collected.stop() };
    };
    const mine = follow(limitedServer);
    const all = follow(adminServer);
    const used = await fixtures.engine.json<{ Id: string }>(
      { path: `/networks/${usedNetwork}` },
      'inspect used network',
    );
    const disconnectOf = (received: Received[]) =>
      received.some(
        (each) => each.event.action === 'disconnect' && each.event.actor.id === used.Id,
      );
    try {
      await waitFor(
        async () => {
          await fixtures.connectNetwork(usedNetwork, otherId);
          await fixtures.send(
            {
              method: 'POST',
              path: `/networks/${used.Id}/disconnect`,
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ Container: otherId }),
            },
            'disconnect other',
          );
          return disconnectOf(mine.received) && disconnectOf(all.received);
        },
        { timeoutMs: 20_000, intervalMs: 500, what: 'the disconnect on the visible network' },
      );
      // The admin is told which container it was; the limited token is not.
      expect(JSON.stringify(all.received)).toContain(otherId);
      const seen = JSON.stringify(mine.received);
      expect(seen).toContain('"action":"connect"');
      expect(seen).not.toContain(otherId);
      expect(seen).not.toContain('"name":"container"');
    } finally {
      await mine.stop();
      await all.stop();
    }
  });

  it('has an attack for every field of the schema, and none for a field that is not there', () => {
    expect(Object.keys(attacks).sort()).toEqual([...fields].sort());
  });

  it.each(fields)(
    '%s',
    async (field) => {
      const attack = attacks[field];
      if (!attack) throw new Error(`${field} has no attack: add one to this table`);
      const before = await hiddenAsTheEngineSeesIt();
      switch (attack.kind) {
        case 'missing': {
          const refusal = await attempt(limited, attack, hidden);
          const asMissing = await attempt(admin, attack, missing);
          expect((refusal as { __typename?: string }).__typename).toBe('NotFoundError');
          expect(anonymous(refusal, hidden)).toBe(anonymous(asMissing, missing));
          break;
        }
        case 'refused':
          expect(await attempt(limited, attack, hidden)).toEqual(attack.answer);
          break;
        case 'denied-to-limited': {
          const calls = await limited.callsDuring(async () => {
            const { body } = await limited.post<GraphQLResponse<unknown>>({ query: attack.query });
            expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
            expect(body.errors?.[0]?.message).toContain('is denied to tokens limited to labels');
          });
          expect(calls).toEqual([]);
          break;
        }
        case 'prune': {
          const body = (await limited.post<GraphQLResponse<unknown>>({ query: attack.query })).body;
          expect(body.errors).toBeUndefined();
          break;
        }
        case 'subscription-missing': {
          const first = async (server: LiveServer, names: Targets) => {
            const iterator = server.client.iterate(attack.operation(names));
            const result = await iterator.next().catch((error: unknown) => ({ value: error }));
            await iterator.return?.();
            return result.value;
          };
          const refusal = await first(limitedServer, hidden);
          expect(JSON.stringify(refusal)).toContain(`No such container: ${otherName}`);
          expect(anonymous(refusal, hidden)).toBe(
            anonymous(await first(adminServer, missing), missing),
          );
          break;
        }
        case 'subscription-silent': {
          // Follows the hidden and the visible container; both change; only the visible one's
          // change may arrive.
          const collected = collectSubscription(
            field,
            limitedServer.client.iterate<Record<string, unknown>>({
              query: attack.query,
              variables: { ids: [otherId, payId] },
            }),
          );
          try {
            await waitFor(
              async () => {
                for (const id of [otherId, payId]) {
                  await fixtures.send(
                    {
                      method: 'POST',
                      path: `/containers/${id}/update`,
                      headers: { 'content-type': 'application/json' },
                      body: '{}',
                    },
                    `update ${id}`,
                  );
                }
                return collected.messages.length > 0;
              },
              { timeoutMs: 20_000, intervalMs: 500, what: `a ${field} message` },
            );
            const text = JSON.stringify([collected.messages, collected.errors]);
            expect(text).toContain(payId);
            expect(text).not.toContain(otherId);
          } finally {
            await collected.stop();
          }
          break;
        }
        case 'untargeted':
          expect(attack.reason).not.toBe('');
          break;
      }
      expect(await hiddenAsTheEngineSeesIt()).toEqual(before);
    },
    60_000,
  );
});
