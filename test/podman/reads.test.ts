// What a user reads from Podman through GraphQL: every kind of object, nested as a dashboard
// asks for them, the engine's info, version and disk usage, and node(id) for each kind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { BASE_IMAGE, EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { data, run } from './operations.ts';

describe('reads on Podman', () => {
  const fixtures = new EngineFixtures();
  const name = fixtures.name('reads');
  const volumeName = fixtures.name('reads-vol');
  const networkName = fixtures.name('reads-net');
  let app: TestApp;
  let containerId = '';
  let networkId = '';

  beforeAll(async () => {
    app = createTestApp();
    await fixtures.createVolume(volumeName);
    networkId = await fixtures.createNetwork(networkName);
    containerId = await fixtures.runContainer(name, {
      Env: ['GREETING=hello'],
      ExposedPorts: { '80/tcp': {} },
      HostConfig: {
        NetworkMode: networkName,
        PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }] },
        Mounts: [{ Type: 'volume', Source: volumeName, Target: '/data' }],
      },
    });
  });

  afterAll(async () => {
    await fixtures.cleanup();
    await app?.close();
  });

  it('reads a container with its image, ports, networks and mounts nested', async () => {
    const answer = await data<{
      container: {
        dockerId: string;
        name: string;
        state: string;
        imageReference: string;
        image: { dockerId: string; tags: string[] } | null;
        labels: { name: string; value: string }[];
        config: { env: { name: string; value: string }[] } | null;
        ports: {
          privatePort: number;
          protocol: string;
          publicPort: number | null;
          hostIp: string | null;
        }[];
        networks: {
          networkName: string;
          ipAddress: string | null;
          network: { dockerId: string } | null;
        }[];
        mounts: {
          type: string;
          name: string | null;
          destination: string;
          readWrite: boolean;
          volume: { name: string } | null;
        }[];
        startedAt: string | null;
      };
    }>(
      app,
      `query ($name: String!) {
        container(idOrName: $name) {
          dockerId name state imageReference startedAt
          image { dockerId tags }
          labels { name value }
          config { env { name value } }
          ports { privatePort protocol publicPort hostIp }
          networks { networkName ipAddress network { dockerId } }
          mounts { type name destination readWrite volume { name } }
        }
      }`,
      { name },
    );
    const { container } = answer;
    expect(container).toMatchObject({ dockerId: containerId, name, state: 'RUNNING' });
    // Podman stores a name without a registry under localhost/.
    expect(container.image?.tags).toContain('localhost/dockergraph/busybox:latest');
    expect(container.labels).toContainEqual({ name: TEST_LABEL, value: fixtures.run });
    expect(container.config?.env).toContainEqual({ name: 'GREETING', value: 'hello' });
    expect(container.ports).toEqual([
      { privatePort: 80, protocol: 'TCP', publicPort: 18080, hostIp: '127.0.0.1' },
    ]);
    expect(container.networks).toEqual([
      {
        networkName,
        ipAddress: expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/),
        network: { dockerId: networkId },
      },
    ]);
    expect(container.mounts).toEqual([
      {
        type: 'VOLUME',
        name: volumeName,
        destination: '/data',
        readWrite: true,
        volume: { name: volumeName },
      },
    ]);
    expect(new Date(container.startedAt ?? 0).getTime()).toBeGreaterThan(0);
  });

  it('lists containers filtered by label, state and name', async () => {
    const answer = await data<{ containers: { edges: { node: { name: string } }[] } }>(
      app,
      `query ($labels: [String!], $names: [String!]) {
        containers(filter: { labels: $labels, names: $names, states: [RUNNING] }) { edges { node { name } } }
      }`,
      { labels: [`${TEST_LABEL}=${fixtures.run}`], names: [name] },
    );
    expect(answer.containers.edges.map((edge) => edge.node.name)).toEqual([name]);
  });

  it('reads images with the containers that use them', async () => {
    const answer = await data<{
      image: {
        dockerId: string;
        tags: string[];
        sizeBytes: number;
        os: string;
        architecture: string;
        containers: { name: string }[];
      } | null;
      images: { edges: { node: { tags: string[] } }[] };
    }>(
      app,
      `query ($reference: String!) {
        image(reference: $reference) { dockerId tags sizeBytes os architecture containers { name } }
        images { edges { node { tags } } }
      }`,
      { reference: BASE_IMAGE },
    );
    expect(answer.image?.sizeBytes).toBeGreaterThan(0);
    expect(answer.image?.os).toBe('linux');
    expect(answer.image?.containers.map((container) => container.name)).toContain(name);
    expect(answer.images.edges.flatMap((edge) => edge.node.tags)).toContainEqual(
      expect.stringMatching(/(^|\/)dockergraph\/busybox:latest$/),
    );
  });

  it('reads volumes with their usage and the containers that mount them', async () => {
    const answer = await data<{
      volume: {
        name: string;
        driver: string;
        mountpoint: string;
        usage: { refCount: number | null; sizeBytes: number | null } | null;
        containers: { name: string }[];
      } | null;
      volumes: { edges: { node: { name: string } }[] };
    }>(
      app,
      `query ($name: String!, $labels: [String!]) {
        volume(name: $name) { name driver mountpoint usage { refCount sizeBytes } containers { name } }
        volumes(filter: { labels: $labels }) { edges { node { name } } }
      }`,
      { name: volumeName, labels: [`${TEST_LABEL}=${fixtures.run}`] },
    );
    expect(answer.volume).toMatchObject({ name: volumeName, driver: 'local' });
    expect(answer.volume?.mountpoint).not.toBe('');
    expect(answer.volume?.usage).toEqual({ refCount: 1, sizeBytes: expect.any(Number) });
    expect(answer.volume?.containers).toEqual([{ name }]);
    expect(answer.volumes.edges.map((edge) => edge.node.name)).toEqual([volumeName]);
  });

  it('reads networks with their containers and address plan', async () => {
    const answer = await data<{
      network: {
        dockerId: string;
        name: string;
        driver: string;
        scope: string;
        ipam: { config: { subnet: string | null }[] };
        containers: { container: { name: string }; ipv4Address: string | null }[];
      } | null;
      networks: { edges: { node: { name: string } }[] };
    }>(
      app,
      `query ($name: String!) {
        network(idOrName: $name) { dockerId name driver scope ipam { config { subnet } } containers { container { name } ipv4Address } }
        networks { edges { node { name } } }
      }`,
      { name: networkName },
    );
    expect(answer.network).toMatchObject({
      dockerId: networkId,
      name: networkName,
      driver: 'bridge',
      scope: 'local',
    });
    expect(answer.network?.ipam.config[0]?.subnet).toMatch(/\/\d+$/);
    expect(answer.network?.containers).toEqual([
      { container: { name }, ipv4Address: expect.stringMatching(/^\d+\.\d+\.\d+\.\d+\/\d+$/) },
    ]);
    expect(answer.networks.edges.map((edge) => edge.node.name)).toEqual(
      expect.arrayContaining(['bridge', networkName]),
    );
  });

  it("reads the engine's info, version and disk usage", async () => {
    const answer = await data<{
      engine: {
        name: string;
        reachable: boolean;
        info: {
          serverVersion: string;
          containers: { total: number; running: number };
          images: number;
          driver: string;
          osType: string;
          memoryBytes: number;
          cpus: number;
        };
        version: { version: string; apiVersion: string; components: { name: string }[] };
        diskUsage: {
          layersSizeBytes: number;
          images: { count: number; sizeBytes: number };
          containers: { count: number };
          volumes: { count: number };
        };
      };
      images: { edges: { node: { sizeBytes: number } }[] };
    }>(
      app,
      `{ engine {
          name reachable
          info { serverVersion containers { total running } images driver osType memoryBytes cpus }
          version { version apiVersion components { name } }
          diskUsage { layersSizeBytes images { count sizeBytes } containers { count } volumes { count } }
        }
        images { edges { node { sizeBytes } } }
      }`,
    );
    const { engine } = answer;
    expect(engine).toMatchObject({ name: 'local', reachable: true });
    expect(engine.info.serverVersion).toMatch(/^4\./);
    expect(engine.info.containers.running).toBeGreaterThanOrEqual(1);
    expect(engine.info.images).toBeGreaterThanOrEqual(1);
    expect(engine.info.osType).toBe('linux');
    expect(engine.info.memoryBytes).toBeGreaterThan(0);
    expect(engine.version.components.map((component) => component.name)).toContain('Podman Engine');
    expect(engine.diskUsage.images.count).toBeGreaterThanOrEqual(1);
    // Podman reports no layer total: its images' sizes, summed.
    const imageSizes = answer.images.edges.reduce((total, edge) => total + edge.node.sizeBytes, 0);
    expect(engine.diskUsage.layersSizeBytes).toBe(imageSizes);
    expect(engine.diskUsage.images.sizeBytes).toBe(imageSizes);
    expect(engine.diskUsage.containers.count).toBeGreaterThanOrEqual(1);
    expect(engine.diskUsage.volumes.count).toBeGreaterThanOrEqual(1);
  });

  it('pages through containers with first and after: each once, newest second first', async () => {
    for (let index = 0; index < 5; index++) {
      await fixtures.createContainer(fixtures.name(`reads-page-${index}`));
    }
    const labels = Object.entries(fixtures.labels()).map(([key, value]) => `${key}=${value}`);
    type Page = {
      containers: {
        edges: { cursor: string; node: { dockerId: string; created: string } }[];
        pageInfo: { hasNextPage: boolean };
      };
    };
    const whole = await data<Page>(
      app,
      `query ($labels: [String!]!) {
        containers(filter: { labels: $labels }) {
          edges { cursor node { dockerId created } }
          pageInfo { hasNextPage }
        }
      }`,
      { labels },
    );
    const all = whole.containers.edges.map((edge) => edge.node);
    expect(all).toHaveLength(6);
    const seconds = all.map((node) => Math.floor(Date.parse(node.created) / 1000));
    expect(seconds).toEqual([...seconds].sort((a, b) => b - a));
    const walked: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: Page = await data<Page>(
        app,
        `query ($labels: [String!]!, $after: String) {
          containers(filter: { labels: $labels }, first: 2, after: $after) {
            edges { cursor node { dockerId created } }
            pageInfo { hasNextPage }
          }
        }`,
        { labels, after },
      );
      walked.push(...page.containers.edges.map((edge) => edge.node.dockerId));
      if (!page.containers.pageInfo.hasNextPage) break;
      after = page.containers.edges.at(-1)?.cursor ?? null;
    }
    expect(walked).toEqual(all.map((node) => node.dockerId));
  });

  it('finds each kind of object again by its global id', async () => {
    const ids = await data<{
      container: { id: string };
      image: { id: string };
      volume: { id: string };
      network: { id: string };
    }>(
      app,
      `query ($name: String!, $image: String!, $volume: String!, $network: String!) {
        container(idOrName: $name) { id }
        image(reference: $image) { id }
        volume(name: $volume) { id }
        network(idOrName: $network) { id }
      }`,
      { name, image: BASE_IMAGE, volume: volumeName, network: networkName },
    );
    const answer = await run<{
      nodes: ({ __typename: string; name?: string; tags?: string[] } | null)[];
    }>(
      app,
      `query ($ids: [ID!]!) {
        nodes(ids: $ids) {
          __typename
          ... on Container { name }
          ... on Image { tags }
          ... on Volume { name }
          ... on Network { name }
        }
      }`,
      { ids: [ids.container.id, ids.image.id, ids.volume.id, ids.network.id] },
    );
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.nodes).toEqual([
      { __typename: 'Container', name },
      {
        __typename: 'Image',
        tags: expect.arrayContaining([expect.stringMatching(/busybox:latest$/)]),
      },
      { __typename: 'Volume', name: volumeName },
      { __typename: 'Network', name: networkName },
    ]);
    const one = await data<{ node: { __typename: string; name: string } | null }>(
      app,
      'query ($id: ID!) { node(id: $id) { __typename ... on Container { name } } }',
      { id: ids.container.id },
    );
    expect(one.node).toEqual({ __typename: 'Container', name });
  });
});
