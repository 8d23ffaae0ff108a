// Images, volumes and networks on Podman as a user manages them through GraphQL: a build from
// an uploaded context, tag, remove and prune; volumes and networks created, connected,
// disconnected, removed and pruned.
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { createTar, EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { readTar } from '../helpers/tar.ts';
import { type Answer, data, MUTATION_ERROR_FIELDS, mutate } from './operations.ts';

describe('images, volumes and networks on Podman', () => {
  const fixtures = new EngineFixtures();
  const runLabel = { name: TEST_LABEL, value: fixtures.run };
  const runFilter = `${TEST_LABEL}=${fixtures.run}`;
  const repository = `dg-built-${fixtures.run}`;
  let app: TestApp;

  beforeAll(() => {
    app = createTestApp();
  });

  afterAll(async () => {
    await fixtures.cleanup();
    await app?.close();
  });

  it('builds an image from an uploaded context, and runs it', async () => {
    const context = createTar({
      Dockerfile:
        'FROM dockergraph/busybox:latest\nCOPY hello.txt /hello.txt\nCMD ["cat", "/hello.txt"]\n',
      'hello.txt': 'built on podman\n',
    });
    const built = await app.upload<
      {
        buildImage: Answer & {
          image: { dockerId: string; tags: string[]; labels: { name: string; value: string }[] };
          log: string[];
        };
      },
      { input: unknown; archive: null }
    >(
      parse(`mutation ($archive: File, $input: BuildImageInput!) {
        buildImage(context: $archive, input: $input) {
          ${MUTATION_ERROR_FIELDS}
          ... on BuildImagePayload { log image { dockerId tags labels { name value } } }
        }
      }`),
      { input: { tags: [`${repository}:v1`], labels: [runLabel] } },
      context,
    );
    expect(built.buildImage.__typename).toBe('BuildImagePayload');
    expect(built.buildImage.image.tags).toContainEqual(
      expect.stringMatching(new RegExp(`(^|/)${repository}:v1$`)),
    );
    expect(built.buildImage.image.labels).toContainEqual(runLabel);
    expect(built.buildImage.log.join('\n')).toContain('COPY hello.txt /hello.txt');

    const ran = await mutate<Answer & { container: { name: string } }>(
      app,
      'createContainer',
      `mutation ($input: CreateContainerInput!) {
        createContainer(input: $input, start: true) { ${MUTATION_ERROR_FIELDS} ... on ContainerPayload { container { name } } }
      }`,
      { input: { name: fixtures.name('built'), image: `${repository}:v1`, labels: [runLabel] } },
      'ContainerPayload',
    );
    const exit = await data<{ waitContainer: { exitCode: number } }>(
      app,
      'mutation ($id: String!) { waitContainer(id: $id) { ... on ContainerExit { exitCode } } }',
      { id: ran.container.name },
    );
    expect(exit.waitContainer.exitCode).toBe(0);
    const logs = await data<{ container: { logs: { lines: { message: string }[] } } }>(
      app,
      'query ($id: String!) { container(idOrName: $id) { logs { lines { message } } } }',
      { id: ran.container.name },
    );
    expect(logs.container.logs.lines.map((line) => line.message)).toEqual(['built on podman']);
  });

  it("reads the built image's history and downloads it as a docker save archive", async () => {
    const answer = await data<{
      image: { history: { createdBy: string }[]; saveUrl: string } | null;
    }>(
      app,
      'query ($reference: String!) { image(reference: $reference) { history { createdBy } saveUrl } }',
      { reference: `${repository}:v1` },
    );
    expect(answer.image?.history.map((layer) => layer.createdBy).join('\n')).toContain('COPY');
    const response = await app.app.fetch(`http://dockergraph.test${answer.image?.saveUrl ?? ''}`);
    expect(response.status).toBe(200);
    const names = (await readTar(Buffer.from(await response.arrayBuffer()))).map(
      (entry) => entry.name,
    );
    expect(names).toContain('manifest.json');
  });

  it('answers a failing build step as BuildFailedError with the output', async () => {
    const context = createTar({
      Dockerfile: 'FROM dockergraph/busybox:latest\nRUN echo failing step; exit 7\n',
    });
    const built = await app.upload<
      { buildImage: Answer & { log?: string[] } },
      { input: unknown; archive: null }
    >(
      parse(`mutation ($archive: File, $input: BuildImageInput!) {
        buildImage(context: $archive, input: $input) { ${MUTATION_ERROR_FIELDS} ... on BuildFailedError { log } }
      }`),
      { input: { tags: [`${repository}:failing`], labels: [runLabel] } },
      context,
    );
    expect(built.buildImage.__typename).toBe('BuildFailedError');
    expect(built.buildImage.log?.join('\n')).toContain('failing step');
  });

  it('tags an image, removes the tag, and prunes the image', async () => {
    const tagged = await mutate<Answer & { image: { tags: string[] } }>(
      app,
      'tagImage',
      `mutation ($source: String!, $repository: String!) {
        tagImage(source: $source, repository: $repository, tag: "v2") { ${MUTATION_ERROR_FIELDS} ... on ImagePayload { image { tags } } }
      }`,
      { source: `${repository}:v1`, repository },
      'ImagePayload',
    );
    expect(tagged.image.tags).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`(^|/)${repository}:v1$`)),
        expect.stringMatching(new RegExp(`(^|/)${repository}:v2$`)),
      ]),
    );
    const removeQuery = `mutation ($reference: String!, $force: Boolean) {
      removeImage(reference: $reference, force: $force) { ${MUTATION_ERROR_FIELDS} ... on RemoveImagePayload { untagged deleted } }
    }`;
    const untagged = await mutate<Answer & { untagged: string[]; deleted: string[] }>(
      app,
      'removeImage',
      removeQuery,
      { reference: `${repository}:v2` },
      'RemoveImagePayload',
    );
    expect(untagged.untagged).toEqual([
      expect.stringMatching(new RegExp(`(^|/)${repository}:v2$`)),
    ]);
    expect(untagged.deleted).toEqual([]);
    // A container (the one run above) uses v1: removal is a conflict without force.
    const inUse = await data<{ removeImage: Answer }>(app, removeQuery, {
      reference: `${repository}:v1`,
    });
    expect(inUse.removeImage.__typename).toBe('ConflictError');

    await fixtures.send(
      { method: 'DELETE', path: `/containers/${fixtures.name('built')}`, query: { force: true } },
      'remove the built container',
    );
    const pruned = await mutate<Answer & { imagesDeleted: string[]; imagesUntagged: string[] }>(
      app,
      'pruneImages',
      `mutation ($labels: [String!]) {
        pruneImages(dangling: false, labels: $labels) { ${MUTATION_ERROR_FIELDS} ... on PruneImagesPayload { imagesDeleted imagesUntagged spaceReclaimedBytes } }
      }`,
      { labels: [runFilter] },
      'PruneImagesPayload',
    );
    expect(pruned.imagesDeleted.length).toBeGreaterThanOrEqual(1);
    // Podman's own prune (the compatible one removes dangling images only) names no tags.
    expect(pruned.imagesUntagged).toEqual([]);
    const gone = await data<{ image: unknown }>(
      app,
      'query ($reference: String!) { image(reference: $reference) { id } }',
      {
        reference: `${repository}:v1`,
      },
    );
    expect(gone.image).toBeNull();
  });

  it('creates, removes and prunes volumes', async () => {
    const create = `mutation ($input: CreateVolumeInput!) {
      createVolume(input: $input) { ${MUTATION_ERROR_FIELDS} ... on VolumePayload { volume { name driver labels { name value } } } }
    }`;
    const kept = fixtures.name('vol-kept');
    const created = await mutate<
      Answer & { volume: { name: string; driver: string; labels: unknown[] } }
    >(app, 'createVolume', create, { input: { name: kept, labels: [runLabel] } }, 'VolumePayload');
    expect(created.volume).toEqual({ name: kept, driver: 'local', labels: [runLabel] });
    const pruneable = fixtures.name('vol-prune');
    await mutate(
      app,
      'createVolume',
      create,
      { input: { name: pruneable, labels: [runLabel] } },
      'VolumePayload',
    );

    const removed = await mutate(
      app,
      'removeVolume',
      `mutation ($name: String!) { removeVolume(name: $name) { ${MUTATION_ERROR_FIELDS} ... on RemoveVolumePayload { name } } }`,
      { name: kept },
      'RemoveVolumePayload',
    );
    expect(removed.name).toBe(kept);
    const pruned = await mutate<Answer & { volumesDeleted: string[] }>(
      app,
      'pruneVolumes',
      `mutation ($labels: [String!]) { pruneVolumes(labels: $labels) { ${MUTATION_ERROR_FIELDS} ... on PruneVolumesPayload { volumesDeleted } } }`,
      { labels: [runFilter] },
      'PruneVolumesPayload',
    );
    expect(pruned.volumesDeleted).toEqual([pruneable]);
  });

  it('creates a network, connects and disconnects a container, removes and prunes networks', async () => {
    const networkName = fixtures.name('net');
    const containerName = fixtures.name('net-member');
    await fixtures.runContainer(containerName);
    const created = await mutate<
      Answer & { network: { dockerId: string; name: string; driver: string; labels: unknown[] } }
    >(
      app,
      'createNetwork',
      `mutation ($input: CreateNetworkInput!) {
        createNetwork(input: $input) { ${MUTATION_ERROR_FIELDS} ... on NetworkPayload { network { dockerId name driver labels { name value } } } }
      }`,
      { input: { name: networkName, labels: [runLabel] } },
      'NetworkPayload',
    );
    expect(created.network).toMatchObject({
      name: networkName,
      driver: 'bridge',
      labels: [runLabel],
    });

    const connected = await mutate<
      Answer & { container: { networks: { networkName: string; aliases: string[] }[] } }
    >(
      app,
      'connectContainerToNetwork',
      `mutation ($container: String!, $network: String!) {
        connectContainerToNetwork(container: $container, network: $network, aliases: ["member"]) {
          ${MUTATION_ERROR_FIELDS}
          ... on NetworkConnectionPayload { container { networks { networkName aliases } } }
        }
      }`,
      { container: containerName, network: networkName },
      'NetworkConnectionPayload',
    );
    expect(connected.container.networks).toContainEqual({
      networkName,
      aliases: expect.arrayContaining(['member']),
    });
    const members = await data<{ network: { containers: { container: { name: string } }[] } }>(
      app,
      'query ($name: String!) { network(idOrName: $name) { containers { container { name } } } }',
      { name: networkName },
    );
    expect(members.network.containers).toEqual([{ container: { name: containerName } }]);

    const disconnect = `mutation ($container: String!, $network: String!) {
      disconnectContainerFromNetwork(container: $container, network: $network) {
        ${MUTATION_ERROR_FIELDS}
        ... on NetworkConnectionPayload { container { networks { networkName } } }
      }
    }`;
    const disconnected = await mutate<
      Answer & { container: { networks: { networkName: string }[] } }
    >(
      app,
      'disconnectContainerFromNetwork',
      disconnect,
      { container: containerName, network: networkName },
      'NetworkConnectionPayload',
    );
    expect(disconnected.container.networks.map((network) => network.networkName)).not.toContain(
      networkName,
    );
    const notConnected = await data<{ disconnectContainerFromNetwork: Answer }>(app, disconnect, {
      container: containerName,
      network: networkName,
    });
    expect(notConnected.disconnectContainerFromNetwork.__typename).toBe('ConflictError');

    const removed = await mutate(
      app,
      'removeNetwork',
      `mutation ($id: String!) { removeNetwork(id: $id) { ${MUTATION_ERROR_FIELDS} ... on RemoveNetworkPayload { id } } }`,
      { id: networkName },
      'RemoveNetworkPayload',
    );
    expect(removed.__typename).toBe('RemoveNetworkPayload');

    const pruneable = fixtures.name('net-prune');
    await fixtures.createNetwork(pruneable);
    const pruned = await mutate<Answer & { networksDeleted: string[] }>(
      app,
      'pruneNetworks',
      `mutation ($labels: [String!]) { pruneNetworks(labels: $labels) { ${MUTATION_ERROR_FIELDS} ... on PruneNetworksPayload { networksDeleted } } }`,
      { labels: [runFilter] },
      'PruneNetworksPayload',
    );
    expect(pruned.networksDeleted).toEqual([pruneable]);
  });
});
