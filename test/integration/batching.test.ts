// Engine calls per operation, asserted exactly as dataloader's own tests assert their batch
// functions' calls: a query over N containers costs the same list calls whatever N is.
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { graphql } from '../generated/gql.ts';
import { useAppWithFixtures } from '../helpers/app-with-fixtures.ts';
import { BASE_IMAGE, TEST_LABEL } from '../helpers/docker-fixtures.ts';

const ContainerGraphQuery = graphql(`
  query BatchContainerGraph($labels: [String!]!) {
    containers(filter: { labels: $labels }) {
      totalCount
      edges {
        node {
          dockerId
          name
          image { dockerId tags }
          networks { networkName network { dockerId name } }
          mounts { type destination volume { name } }
        }
      }
    }
  }
`);

const ContainerGraphTwiceQuery = graphql(`
  query BatchContainerGraphTwice($labels: [String!]!) {
    containers(filter: { labels: $labels }) {
      edges {
        node {
          dockerId
          image { dockerId tags }
          sameImage: image { dockerId tags }
          networks { networkName network { dockerId name } }
          sameNetworks: networks { networkName network { dockerId name } }
          mounts { type volume { name } }
          sameMounts: mounts { type volume { name } }
        }
      }
    }
  }
`);

const AliasedListsQuery = graphql(`
  query BatchAliasedLists {
    first: containers(first: 100) { totalCount edges { node { dockerId name state } } }
    second: containers(first: 100) { totalCount edges { node { dockerId name state } } }
    images(first: 100) { totalCount }
    sameImages: images(first: 100) { totalCount }
  }
`);

const AliasedFilteredListsQuery = graphql(`
  query BatchAliasedFilteredLists($labels: [String!]!, $other: [String!]!) {
    first: containers(filter: { labels: $labels }) { totalCount }
    second: containers(filter: { labels: $labels }, first: 1) { totalCount }
    other: containers(filter: { labels: $other }) { totalCount }
    images(filter: { labels: $labels }) { totalCount }
    sameImages: images(filter: { labels: $labels }) { totalCount }
    volumes(filter: { labels: $labels }) { totalCount }
    sameVolumes: volumes(filter: { labels: $labels }) { totalCount }
    networks(filter: { labels: $labels }) { totalCount }
    sameNetworks: networks(filter: { labels: $labels }) { totalCount }
  }
`);

const InspectFieldsQuery = graphql(`
  query BatchInspectFields($labels: [String!]!) {
    containers(filter: { labels: $labels }) {
      edges {
        node {
          dockerId
          exitCode
          config { env { name value } }
        }
      }
    }
  }
`);

const InspectTwiceQuery = graphql(`
  query BatchInspectTwice($labels: [String!]!) {
    containers(filter: { labels: $labels }) {
      edges {
        node {
          dockerId
          exitCode
          again: exitCode
          pid
          config { env { name } }
          image {
            containers { dockerId exitCode config { env { name } } }
          }
        }
      }
    }
  }
`);

const SizeQuery = graphql(`
  query BatchSize($labels: [String!]!) {
    containers(filter: { labels: $labels }) {
      edges { node { dockerId size { writableBytes rootFsBytes } } }
    }
  }
`);

const ListsQuery = graphql(`
  query BatchLists {
    containers(first: 5) { totalCount edges { node { dockerId } } }
    images(first: 5) { totalCount edges { node { dockerId tags } } }
  }
`);

const NodesQuery = graphql(`
  query BatchNodes($ids: [ID!]!) {
    nodes(ids: $ids) {
      id
      ... on Container { dockerId name state }
    }
  }
`);

const TwoNodesQuery = graphql(`
  query BatchTwoNodes($a: ID!, $b: ID!) {
    a: node(id: $a) { id ... on Container { dockerId name } }
    b: node(id: $b) { id ... on Container { dockerId name } }
  }
`);

const IdsQuery = graphql(`
  query BatchIds($labels: [String!]!) {
    containers(filter: { labels: $labels }) { edges { node { id dockerId } } }
  }
`);

/** The calls a container graph costs, whatever the number of containers. */
const GRAPH_CALLS = ['GET /containers/json', 'GET /images/json', 'GET /networks', 'GET /volumes'];

const MANY = 20;

describe('engine calls per operation (batching)', () => {
  const { app, fixtures } = useAppWithFixtures();
  /** Filter labels of each group: the run label plus the group's own. */
  const oneLabels = [`${TEST_LABEL}=${fixtures.run}`, 'dockergraph.batch=one'];
  const manyLabels = [`${TEST_LABEL}=${fixtures.run}`, 'dockergraph.batch=many'];
  const oneTag = `${fixtures.name('batch-one')}:latest`;
  const manyTag = `${fixtures.name('batch-many')}:latest`;
  const frontNet = fixtures.name('batch-front');
  const backNet = fixtures.name('batch-back');
  let manyImageId = '';
  let oneIds: string[] = [];
  let manyIds: string[] = [];
  const writerLabels = [`${TEST_LABEL}=${fixtures.run}`, 'dockergraph.batch=writer'];
  let writerId = '';

  /** Creates `count` running containers of `image`, on both networks, each with its own volume. */
  async function createGroup(group: string, image: string, count: number): Promise<string[]> {
    return Promise.all(
      Array.from({ length: count }, async (_, index) => {
        const name = fixtures.name(`batch-${group}-${index}`);
        const volume = fixtures.name(`batch-${group}-vol-${index}`);
        await fixtures.createVolume(volume);
        const id = await fixtures.createContainer(name, {
          Image: image,
          Env: [`GROUP=${group}`, `INDEX=${index}`],
          Labels: { 'dockergraph.batch': group },
          HostConfig: { NetworkMode: frontNet, Binds: [`${volume}:/data`] },
        });
        await fixtures.connectNetwork(backNet, id);
        await fixtures.startContainer(id);
        return id;
      }),
    );
  }

  beforeAll(async () => {
    await fixtures.createNetwork(frontNet);
    await fixtures.createNetwork(backNet);
    await fixtures.buildImage(oneTag, `FROM ${BASE_IMAGE}\nLABEL dockergraph.batch=one\n`);
    manyImageId = await fixtures.buildImage(
      manyTag,
      `FROM ${BASE_IMAGE}\nLABEL dockergraph.batch=many\n`,
    );
    oneIds = await createGroup('one', oneTag, 1);
    manyIds = await createGroup('many', manyTag, MANY);
    writerId = await fixtures.runContainer(
      fixtures.name('batch-writer'),
      {
        Cmd: ['sh', '-c', 'head -c 65536 /dev/zero > /written'],
        Labels: { 'dockergraph.batch': 'writer' },
      },
      true,
    );
    // The first operation of an app also negotiates the API version (HEAD /_ping).
    const warmUp = await app.callsDuring(() => app.query(IdsQuery, { labels: oneLabels }));
    expect(warmUp).toEqual(['HEAD /_ping', 'GET /containers/json']);
  });

  it('reads a container graph with the same four list calls for 1 and for 20 containers', async () => {
    const one = await app.callsDuring(async () => {
      const data = await app.query(ContainerGraphQuery, { labels: oneLabels });
      expect(data.containers.totalCount).toBe(1);
      const node = data.containers.edges[0]?.node;
      expect(node?.dockerId).toBe(oneIds[0]);
      expect(node?.image?.tags).toEqual([oneTag]);
    });
    const many = await app.callsDuring(async () => {
      const data = await app.query(ContainerGraphQuery, { labels: manyLabels });
      expect(data.containers.totalCount).toBe(MANY);
      expect(data.containers.edges.map((edge) => edge.node.dockerId).sort()).toEqual(
        [...manyIds].sort(),
      );
      for (const { node } of data.containers.edges) {
        // Every level of the graph is really resolved, not null.
        expect(node.image).toEqual({ dockerId: manyImageId, tags: [manyTag] });
        expect(node.networks).toEqual(
          [frontNet, backNet].sort().map((name) => ({
            networkName: name,
            network: { dockerId: expect.stringMatching(/^[0-9a-f]{64}$/), name },
          })),
        );
        // Each container mounts its own volume: dg-batch-many-<i>-<run> has dg-batch-many-vol-<i>-<run>.
        expect(node.mounts).toEqual([
          {
            type: 'VOLUME',
            destination: '/data',
            volume: { name: node.name.replace('batch-many-', 'batch-many-vol-') },
          },
        ]);
      }
    });
    expect([...one].sort()).toEqual([...GRAPH_CALLS].sort());
    expect(many).toEqual(one);
  });

  it('costs nothing more when the same fields are asked twice under aliases', async () => {
    const calls = await app.callsDuring(async () => {
      const data = await app.query(ContainerGraphTwiceQuery, { labels: manyLabels });
      expect(data.containers.edges).toHaveLength(MANY);
      for (const { node } of data.containers.edges) {
        expect(node.sameImage).toEqual(node.image);
        expect(node.sameNetworks).toEqual(node.networks);
        expect(node.sameMounts).toEqual(node.mounts);
        expect(node.networks).toHaveLength(2);
        expect(node.mounts[0]?.volume?.name).toBeTruthy();
      }
    });
    expect([...calls].sort()).toEqual([...GRAPH_CALLS].sort());
  });

  it('reads a whole list asked twice under aliases once', async () => {
    const calls = await app.callsDuring(async () => {
      const data = await app.query(AliasedListsQuery);
      expect(data.first.totalCount).toBeGreaterThanOrEqual(MANY + 1);
      expect(data.second).toEqual(data.first);
      expect(data.sameImages.totalCount).toBe(data.images.totalCount);
    });
    expect([...calls].sort()).toEqual(['GET /containers/json', 'GET /images/json']);
  });

  it('reads a filtered list once per distinct filter, whatever the aliases', async () => {
    const labels = [`dockergraph.test=${fixtures.run}`];
    const calls = await app.callsDuring(async () => {
      const data = await app.query(AliasedFilteredListsQuery, {
        labels,
        other: ['dockergraph.none'],
      });
      expect(data.second.totalCount).toBe(data.first.totalCount);
      expect(data.other.totalCount).toBe(0);
    });
    expect([...calls].sort()).toEqual([
      'GET /containers/json',
      'GET /containers/json',
      'GET /images/json',
      'GET /networks',
      'GET /volumes',
    ]);
  });

  it('inspects each container once for inspect-only fields: N distinct calls', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    onTestFinished(() => {
      process.off('warning', onWarning);
    });
    for (const [labels, ids] of [
      [oneLabels, oneIds],
      [manyLabels, manyIds],
    ] as const) {
      const calls = await app.callsDuring(async () => {
        const data = await app.query(InspectFieldsQuery, { labels });
        for (const { node } of data.containers.edges) {
          // Running containers have no exit code yet; the env comes from inspect.
          expect(node.exitCode).toBeNull();
          expect(node.config?.env).toContainEqual({ name: 'GROUP', value: expect.any(String) });
        }
      });
      expect(calls[0]).toBe('GET /containers/json');
      const inspects = calls.slice(1);
      expect(inspects).toHaveLength(ids.length);
      expect([...inspects].sort()).toEqual(ids.map((id) => `GET /containers/${id}/json`).sort());
    }
    // 20 inspect calls in flight on one request's abort signal are not a listener leak.
    expect(warnings).toEqual([]);
  });

  it('de-duplicates inspect calls for aliases and image.containers back-references', async () => {
    const calls = await app.callsDuring(async () => {
      const data = await app.query(InspectTwiceQuery, { labels: manyLabels });
      expect(data.containers.edges).toHaveLength(MANY);
      for (const { node } of data.containers.edges) {
        expect(node.again).toBe(node.exitCode);
        expect(node.pid).toBeGreaterThan(0);
        // The image was built for this group: its containers are exactly the group.
        expect(node.image?.containers.map((c) => c.dockerId).sort()).toEqual([...manyIds].sort());
      }
    });
    const lists = calls.filter((call) => !/^GET \/containers\/[0-9a-f]{64}\/json$/.test(call));
    const inspects = calls.filter((call) => /^GET \/containers\/[0-9a-f]{64}\/json$/.test(call));
    // The filtered list, the image list, and the whole container list behind image.containers.
    expect(lists.sort()).toEqual([
      'GET /containers/json',
      'GET /containers/json',
      'GET /images/json',
    ]);
    expect(inspects.sort()).toEqual(manyIds.map((id) => `GET /containers/${id}/json`).sort());
  });

  it('sizes N containers with one size=1 list call', async () => {
    for (const [labels, ids] of [
      [oneLabels, oneIds],
      [manyLabels, manyIds],
      [writerLabels, [writerId]],
    ] as const) {
      const start = app.calls.length;
      const data = await app.query(SizeQuery, { labels });
      const calls = app.calls.slice(start);
      expect(data.containers.edges).toHaveLength(ids.length);
      for (const { node } of data.containers.edges) {
        expect(node.size?.rootFsBytes).toBeGreaterThan(0);
        // The writer wrote 64 KiB into its writable layer; the sleepers wrote nothing (0, not null).
        if (node.dockerId === writerId) {
          expect(node.size?.writableBytes).toBeGreaterThanOrEqual(64 * 1024);
        } else {
          expect(node.size?.writableBytes).toBe(0);
        }
      }
      // The filtered list, then one size=1 list for exactly the containers asked.
      expect(calls.map((call) => `${call.method} ${call.path}`)).toEqual([
        'GET /containers/json',
        'GET /containers/json',
      ]);
      const sized = calls.filter((call) => new URLSearchParams(call.query).get('size') === '1');
      expect(sized).toHaveLength(1);
      const filters = JSON.parse(new URLSearchParams(sized[0]?.query).get('filters') ?? '{}') as {
        id?: string[];
      };
      expect([...(filters.id ?? [])].sort()).toEqual([...ids].sort());
    }
  });

  it('does not share reads between two operations', async () => {
    const first = await app.callsDuring(() => app.query(ListsQuery));
    const second = await app.callsDuring(() => app.query(ListsQuery));
    expect([...first].sort()).toEqual(['GET /containers/json', 'GET /images/json']);
    expect(second).toEqual(first);
  });

  it('resolves node(id) and nodes(ids) for 20 containers with one list call', async () => {
    const listed = await app.query(IdsQuery, { labels: manyLabels });
    const ids = listed.containers.edges.map((edge) => edge.node.id);
    expect(ids).toHaveLength(MANY);

    const calls = await app.callsDuring(async () => {
      const data = await app.query(NodesQuery, { ids });
      expect(data.nodes.map((node) => node?.id)).toEqual(ids);
      expect(data.nodes.map((node) => (node && 'dockerId' in node ? node.dockerId : null))).toEqual(
        listed.containers.edges.map((edge) => edge.node.dockerId),
      );
    });
    expect(calls).toEqual(['GET /containers/json']);

    const [a, b] = ids;
    if (!a || !b) throw new Error('expected two ids');
    const twoCalls = await app.callsDuring(async () => {
      const data = await app.query(TwoNodesQuery, { a, b });
      expect(data.a?.id).toBe(a);
      expect(data.b?.id).toBe(b);
    });
    expect(twoCalls).toEqual(['GET /containers/json']);
  });
});
