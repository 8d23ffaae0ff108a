// Distribution inspect and update checks against the local registry (127.0.0.1:5000, inside the
// engine's netns): an image pushed and pulled under a tag is up to date; once another image is
// pushed under the same tag, the old image and the container running it have an update. Answers
// are batched per operation and cached across operations; the registry allow-list holds.
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/gql.ts';
import type { ImageUpdateQuery } from '../generated/graphql.ts';
import { randomToken, tokensEnv } from '../helpers/access.ts';
import { createTestApp } from '../helpers/app.ts';
import { BASE_IMAGE, EngineFixtures } from '../helpers/docker-fixtures.ts';
import { deleteRegistryManifest, startRegistry } from '../helpers/engine.ts';
import { expectType } from '../helpers/mutations.ts';

const Push = graphql(`
  mutation UpdatePush($reference: String!) {
    pushImage(reference: $reference) {
      __typename
      ... on PushImagePayload { digest }
      ... on MutationError { message }
    }
  }
`);

const Pull = graphql(`
  mutation UpdatePull($reference: String!) {
    pullImage(reference: $reference) {
      __typename
      ... on ImagePayload { image { dockerId digests } }
      ... on MutationError { message }
    }
  }
`);

const Tag = graphql(`
  mutation UpdateTag($source: String!, $repository: String!, $tag: String) {
    tagImage(source: $source, repository: $repository, tag: $tag) {
      __typename
      ... on MutationError { message }
    }
  }
`);

const ImageUpdate = graphql(`
  query ImageUpdate($reference: String!) {
    image(reference: $reference) {
      dockerId
      updateAvailable
      updateChecks { reference available reason registryDigest localDigests }
    }
  }
`);

const ContainerUpdate = graphql(`
  query ContainerUpdate($id: String!, $image: String!) {
    container(idOrName: $id) {
      imageUpdateAvailable
      imageUpdateCheck { reference available reason registryDigest }
    }
    image(reference: $image) { updateAvailable }
  }
`);

const Distribution = graphql(`
  query Distribution($reference: String!) {
    distribution(reference: $reference) {
      reference
      digest
      mediaType
      sizeBytes
      platforms { os architecture variant }
    }
  }
`);

const fixtures = new EngineFixtures();
const { run } = fixtures;

describe('update checks', () => {
  const app = createTestApp({ DOCKERGRAPH_UPDATE_CHECK_TTL_SECONDS: '0' });
  const cached = createTestApp({ DOCKERGRAPH_UPDATE_CHECK_TTL_SECONDS: '3600' });
  const baselineToken = randomToken();
  const baseline = createTestApp(
    { ...tokensEnv([{ id: 'reader', role: 'viewer', token: baselineToken }]) },
    { token: baselineToken },
  );
  let registry = '';
  let repository = '';
  let reference = '';
  let firstId = '';
  let secondId = '';
  let firstDigest = '';
  let secondDigest = '';
  let containerId = '';
  const localTag = `dg-upd-local-${run}:v1`;

  async function push(name: string): Promise<string> {
    const pushed = expectType(
      (await app.query(Push, { reference: name })).pushImage,
      'PushImagePayload',
    );
    if (!pushed.digest) throw new Error('no digest pushed');
    return pushed.digest;
  }

  beforeAll(async () => {
    registry = await startRegistry();
    repository = `${registry}/dockergraph-test/upd-${run}`;
    reference = `${repository}:v1`;
    firstId = await fixtures.buildImage(
      localTag,
      `FROM ${BASE_IMAGE}\nRUN echo first-${run} > /marker\n`,
    );
    expectType(
      (await app.query(Tag, { source: firstId, repository, tag: 'v1' })).tagImage,
      'ImagePayload',
    );
    firstDigest = await push(reference);
    // Pulled back: what a user running a registry image has.
    const pulled = expectType((await app.query(Pull, { reference })).pullImage, 'ImagePayload');
    expect(pulled.image.dockerId).toBe(firstId);
    containerId = await fixtures.createContainer(fixtures.name('upd'), { Image: reference });
  });

  afterAll(async () => {
    await fixtures.send(
      {
        method: 'DELETE',
        path: `/containers/${containerId}`,
        query: { force: true },
        acceptStatus: [404],
      },
      'remove container',
    );
    await fixtures.removeImage(reference);
    for (const digest of [firstDigest, secondDigest].filter(Boolean)) {
      await deleteRegistryManifest(registry, `dockergraph-test/upd-${run}`, digest);
    }
    await fixtures.cleanup();
    await Promise.all([app.close(), cached.close(), baseline.close()]);
  });

  it('reads a reference’s digest and platforms from its registry', async () => {
    const { distribution } = await app.query(Distribution, { reference });
    expect(distribution).toMatchObject({ reference, digest: firstDigest });
    expect(distribution.sizeBytes).toBeGreaterThan(0);
    expect(distribution.platforms).toEqual([{ os: 'linux', architecture: 'amd64', variant: null }]);
  });

  it('says an image pulled under a tag is up to date, and a container running it too', async () => {
    // Read first by the caching app, whose answer the cache test below reuses.
    const data = await cached.query(ContainerUpdate, { id: containerId, image: reference });
    expect(data.container?.imageUpdateAvailable).toBe(false);
    const { image } = await app.query(ImageUpdate, { reference });
    expect(image?.updateAvailable).toBe(false);
    // Its other tag names no registry repository it came from: that one cannot tell.
    expect(image?.updateChecks).toEqual(
      expect.arrayContaining([
        {
          reference,
          available: false,
          reason: null,
          registryDigest: firstDigest,
          localDigests: [firstDigest],
        },
        expect.objectContaining({ reference: localTag, available: null }),
      ]),
    );
  });

  it('answers null with a reason for an image that has no repository digest', async () => {
    // The base image was imported here, never pulled.
    const { image } = await app.query(ImageUpdate, { reference: BASE_IMAGE });
    expect(image?.updateAvailable).toBeNull();
    expect(image?.updateChecks).toHaveLength(1);
    expect(image?.updateChecks[0]?.reason).toContain('no digest in');
  });

  it('says there is an update once another image is pushed under the tag', async () => {
    secondId = await fixtures.buildImage(
      `dg-upd-second-${run}:v1`,
      `FROM ${BASE_IMAGE}\nRUN echo second-${run} > /marker\n`,
    );
    expectType(
      (await app.query(Tag, { source: secondId, repository, tag: 'v1' })).tagImage,
      'ImagePayload',
    );
    secondDigest = await push(reference);
    expect(secondDigest).not.toBe(firstDigest);

    // The container still runs the first image: the tag holds another now.
    const calls: string[] = [];
    let data: Awaited<ReturnType<typeof app.query<unknown, unknown>>> | undefined;
    const seen = await app.callsDuring(async () => {
      data = await app.query(ContainerUpdate, { id: containerId, image: reference });
    });
    calls.push(...seen);
    expect(data).toMatchObject({
      container: {
        imageUpdateAvailable: true,
        imageUpdateCheck: {
          reference,
          available: true,
          reason: null,
          registryDigest: secondDigest,
        },
      },
      // The local tag now names the second image, which is what the registry holds.
      image: { updateAvailable: false },
    });
    // The container's check and the image's share one registry call.
    expect(calls.filter((call) => call.startsWith('GET /distribution/'))).toHaveLength(1);

    // The first image under the tag again: the registry holds another.
    expectType(
      (await app.query(Tag, { source: firstId, repository, tag: 'v1' })).tagImage,
      'ImagePayload',
    );
    const { image } = await app.query(ImageUpdate, { reference });
    expect(image?.dockerId).toBe(firstId);
    expect(image?.updateAvailable).toBe(true);
  });

  it('reuses a registry answer for DOCKERGRAPH_UPDATE_CHECK_TTL_SECONDS', async () => {
    // `cached` read the tag before the second push: it answers what it read then, without asking.
    let data: Awaited<ReturnType<typeof cached.query<unknown, unknown>>> | undefined;
    const calls = await cached.callsDuring(async () => {
      data = await cached.query(ContainerUpdate, { id: containerId, image: reference });
    });
    expect(data).toMatchObject({ container: { imageUpdateAvailable: false } });
    expect(calls.filter((call) => call.startsWith('GET /distribution/'))).toEqual([]);
  });

  it('asks no registry outside DOCKERGRAPH_REGISTRIES for a token below privileged', async () => {
    const images: ImageUpdateQuery['image'][] = [];
    const calls = await baseline.callsDuring(async () => {
      images.push((await baseline.query(ImageUpdate, { reference })).image);
    });
    const [image] = images;
    if (!image) throw new Error('no image');
    expect(image.updateAvailable).toBeNull();
    expect(image.updateChecks[0]?.reason).toContain('not in DOCKERGRAPH_REGISTRIES');
    const direct = await baseline.post({ query: print(Distribution), variables: { reference } });
    expect(direct.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(direct.body.errors?.[0]?.extensions?.admissionFindings).toEqual([
      expect.objectContaining({ control: 'registries' }),
    ]);
    const directCalls = await baseline.callsDuring(async () => {
      await baseline.post({ query: print(Distribution), variables: { reference } });
    });
    expect(
      [...calls, ...directCalls].filter((call) => call.startsWith('GET /distribution/')),
    ).toEqual([]);
  });
});
