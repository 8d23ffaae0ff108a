import { randomUUID } from 'node:crypto';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createDockerClient } from '../../src/docker/create-docker-client.ts';
import { graphql } from '../generated/gql.ts';
import { createTestApp, dataOf, type GraphQLResponse } from '../helpers/app.ts';
import { BASE_IMAGE, EngineFixtures } from '../helpers/docker-fixtures.ts';
import {
  type AuthRegistry,
  deleteRegistryManifest,
  startAuthRegistry,
  startRegistry,
} from '../helpers/engine.ts';
import { captureLog } from '../helpers/log-capture.ts';
import { expectType } from '../helpers/mutations.ts';

const LifecyclePull = graphql(`
  mutation LifecyclePull($reference: String!, $platform: String, $auth: RegistryAuthInput) {
    pullImage(reference: $reference, platform: $platform, auth: $auth) {
      __typename
      ... on ImagePayload { image { id dockerId tags digests os architecture } }
      ... on MutationError { message }
      ... on InvalidInputError { field }
      ... on RegistryAuthError { registry }
      ... on EngineFailureError { code engineStatus }
    }
  }
`);

const LifecyclePush = graphql(`
  mutation LifecyclePush($reference: String!, $auth: RegistryAuthInput) {
    pushImage(reference: $reference, auth: $auth) {
      __typename
      ... on PushImagePayload { digest image { dockerId tags digests } }
      ... on MutationError { message }
      ... on InvalidInputError { field }
      ... on RegistryAuthError { registry }
    }
  }
`);

const LifecycleTag = graphql(`
  mutation LifecycleTag($source: String!, $repository: String!, $tag: String) {
    tagImage(source: $source, repository: $repository, tag: $tag) {
      __typename
      ... on ImagePayload { image { id dockerId tags } }
      ... on MutationError { message }
      ... on InvalidInputError { field }
    }
  }
`);

const LifecycleRemove = graphql(`
  mutation LifecycleRemove($reference: String!, $force: Boolean, $noPrune: Boolean) {
    removeImage(reference: $reference, force: $force, noPrune: $noPrune) {
      __typename
      ... on RemoveImagePayload { untagged deleted }
      ... on MutationError { message }
      ... on InvalidInputError { field }
    }
  }
`);

const LifecyclePrune = graphql(`
  mutation LifecyclePrune($dangling: Boolean, $labels: [String!], $until: DateTime) {
    pruneImages(dangling: $dangling, labels: $labels, until: $until) {
      __typename
      ... on PruneImagesPayload { imagesDeleted imagesUntagged spaceReclaimedBytes }
      ... on MutationError { message }
      ... on InvalidInputError { field }
    }
  }
`);

const LifecycleCommit = graphql(`
  mutation LifecycleCommit(
    $container: String!
    $repository: String
    $tag: String
    $message: String
    $author: String
    $changes: [String!]
    $pause: Boolean
  ) {
    commitContainer(
      container: $container
      repository: $repository
      tag: $tag
      message: $message
      author: $author
      changes: $changes
      pause: $pause
    ) {
      __typename
      ... on ImagePayload {
        image {
          dockerId
          tags
          comment
          author
          label(name: "dockergraph.test")
          config { cmd env { name value } }
        }
      }
      ... on MutationError { message }
      ... on InvalidInputError { field }
    }
  }
`);

const LifecycleSearch = graphql(`
  query LifecycleSearch($term: String!, $limit: Int) {
    searchImages(term: $term, limit: $limit) { name description stars official automated }
  }
`);

const LifecycleImage = graphql(`
  query LifecycleImage($reference: String!) {
    image(reference: $reference) { dockerId tags digests parentId os architecture }
  }
`);

/** `127.0.0.1:5000/team/app` → path `team/app` below the registry. */
function registryPath(repository: string): string {
  return repository.slice(repository.indexOf('/') + 1);
}

describe('image lifecycle', () => {
  const app = createTestApp();
  const fixtures = new EngineFixtures();
  const run = fixtures.run;
  /** Names this file gave images: removed in afterAll (labelled images go with cleanup()). */
  const references = new Set<string>();
  /** Manifests pushed to the local registries, deleted from them in afterAll. */
  const pushed: { registry: string; repository: string; digest: string }[] = [];
  let registry = '';
  let authRegistry: AuthRegistry;
  /** Built FROM the base image with the run label: what gets tagged, pushed and pulled. */
  let sourceId = '';
  const sourceTag = `dg-source-${run}:v1`;

  beforeAll(async () => {
    [registry, authRegistry] = await Promise.all([startRegistry(), startAuthRegistry()]);
    sourceId = await fixtures.buildImage(
      sourceTag,
      `FROM ${BASE_IMAGE}\nRUN echo ${run} > /marker\n`,
    );
  });

  afterAll(async () => {
    for (const reference of references) {
      await fixtures.removeImage(reference);
    }
    for (const manifest of pushed) {
      await deleteRegistryManifest(
        manifest.registry,
        registryPath(manifest.repository),
        manifest.digest,
        manifest.registry === authRegistry.address
          ? `${authRegistry.username}:${authRegistry.password}`
          : undefined,
      );
    }
    await fixtures.cleanup();
    await app.close();
  });

  async function lookup(reference: string) {
    return (await app.query(LifecycleImage, { reference })).image;
  }

  it('tags an image into the registry, pushes it, removes the tag and pulls it back with its digest', async () => {
    const repository = `${registry}/dockergraph-test/app-${run}`;
    const reference = `${repository}:v1`;
    references.add(reference);

    const tagged = await app.query(LifecycleTag, { source: sourceId, repository, tag: 'v1' });
    const { image } = expectType(tagged.tagImage, 'ImagePayload');
    expect(image.dockerId).toBe(sourceId);
    expect(image.tags.sort()).toEqual([reference, sourceTag].sort());

    const { pushImage } = await app.query(LifecyclePush, { reference });
    const push = expectType(pushImage, 'PushImagePayload');
    expect(push.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    pushed.push({ registry, repository, digest: push.digest ?? '' });
    expect(push.image.dockerId).toBe(sourceId);
    expect(push.image.digests).toEqual([`${repository}@${push.digest}`]);

    const removed = await app.query(LifecycleRemove, { reference });
    expect(expectType(removed.removeImage, 'RemoveImagePayload')).toEqual({
      __typename: 'RemoveImagePayload',
      untagged: [reference, `${repository}@${push.digest}`],
      deleted: [],
    });
    expect(await lookup(reference)).toBeNull();

    const { pullImage } = await app.query(LifecyclePull, { reference });
    const pulled = expectType(pullImage, 'ImagePayload').image;
    expect(pulled.dockerId).toBe(sourceId);
    expect(pulled.tags).toContain(reference);
    expect(pulled.digests).toEqual([`${repository}@${push.digest}`]);

    // By digest, and for the platform the image was built for.
    const base = await lookup(sourceTag);
    const platform = `${base?.os}/${base?.architecture}`;
    const byDigest = await app.query(LifecyclePull, {
      reference: `${repository}@${push.digest}`,
      platform,
    });
    const pinned = expectType(byDigest.pullImage, 'ImagePayload').image;
    expect(pinned.dockerId).toBe(sourceId);
    expect(`${pinned.os}/${pinned.architecture}`).toBe(platform);
  });

  it('pulls a tag-less reference as "latest"', async () => {
    const repository = `${registry}/dockergraph-test/latest-${run}`;
    references.add(`${repository}:latest`);
    expectType(
      (await app.query(LifecycleTag, { source: sourceTag, repository })).tagImage,
      'ImagePayload',
    );
    const push = expectType(
      (await app.query(LifecyclePush, { reference: repository })).pushImage,
      'PushImagePayload',
    );
    pushed.push({ registry, repository, digest: push.digest ?? '' });
    expect(push.image.tags).toContain(`${repository}:latest`);
    expectType(
      (await app.query(LifecycleRemove, { reference: `${repository}:latest` })).removeImage,
      'RemoveImagePayload',
    );
    const pulled = expectType(
      (await app.query(LifecyclePull, { reference: repository })).pullImage,
      'ImagePayload',
    );
    expect(pulled.image.tags).toContain(`${repository}:latest`);
  });

  it('answers a missing tag with NotFoundError and an unreachable registry with the engine’s words', async () => {
    const missing = await app.query(LifecyclePull, {
      reference: `${registry}/dockergraph-test/app-${run}:missing`,
    });
    expect(expectType(missing.pullImage, 'NotFoundError').message).toMatch(
      /manifest unknown|not found/,
    );

    const unreachable = await app.query(LifecyclePull, { reference: '127.0.0.1:5999/nothing:v1' });
    const failure = expectType(unreachable.pullImage, 'EngineFailureError');
    expect(failure.code).toBe('ENGINE_ERROR');
    expect(failure.engineStatus).toBe(500);
    expect(failure.message).toContain('127.0.0.1:5999');
    expect(failure.message).toContain('connection refused');
  });

  it('pushes to and pulls from a registry that asks for credentials, never revealing a password', async () => {
    const log = captureLog('debug');
    const config = loadConfig({
      HOME: '/nonexistent',
      DOCKERGRAPH_AUDIT: 'off',
      DOCKER_HOST: inject('dockerHost'),
      LOG_LEVEL: 'debug',
    });
    const docker = createDockerClient(config);
    const loggedApp = createApp(config, { docker, logger: log.logger });
    const responses: GraphQLResponse<unknown>[] = [];
    async function execute<TData, TVariables>(
      document: TypedDocumentNode<TData, TVariables>,
      variables: TVariables,
    ): Promise<TData> {
      const response = await loggedApp.fetch('http://dockergraph.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: print(document), variables }),
      });
      const result = (await response.json()) as GraphQLResponse<TData>;
      responses.push(result);
      return dataOf(result);
    }

    try {
      const { address, username, password } = authRegistry;
      const wrongPassword = `s3cr3t-${randomUUID()}`;
      const good = { username, password, serverAddress: address };
      const wrong = { username, password: wrongPassword, serverAddress: address };
      const repository = `${address}/dockergraph-test/private-${run}`;
      const reference = `${repository}:v1`;
      references.add(reference);
      expectType(
        (await execute(LifecycleTag, { source: sourceId, repository, tag: 'v1' })).tagImage,
        'ImagePayload',
      );

      for (const auth of [undefined, wrong]) {
        const refused = await execute(LifecyclePush, { reference, auth });
        const error = expectType(refused.pushImage, 'RegistryAuthError');
        expect(error.registry).toBe(address);
        expect(error.message).toMatch(/no basic auth credentials|authentication required/);
      }

      const push = expectType(
        (await execute(LifecyclePush, { reference, auth: good })).pushImage,
        'PushImagePayload',
      );
      expect(push.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      pushed.push({ registry: address, repository, digest: push.digest ?? '' });
      expectType((await execute(LifecycleRemove, { reference })).removeImage, 'RemoveImagePayload');

      for (const auth of [undefined, wrong]) {
        const refused = await execute(LifecyclePull, { reference, auth });
        expect(expectType(refused.pullImage, 'RegistryAuthError').registry).toBe(address);
      }
      const pulled = expectType(
        (await execute(LifecyclePull, { reference, auth: good })).pullImage,
        'ImagePayload',
      );
      expect(pulled.image.digests).toContain(`${repository}@${push.digest}`);

      // Neither password is in an answer (errors included) or in a log line.
      expect(responses).toHaveLength(8);
      expect(log.entries.length).toBeGreaterThanOrEqual(8);
      for (const text of [...responses, ...log.entries].map((value) => JSON.stringify(value))) {
        expect(text).not.toContain(wrongPassword);
        expect(text).not.toContain(password);
      }
    } finally {
      await docker.close();
    }
  });

  it('removes tags and images, reporting what was untagged and deleted', async () => {
    const repository = `dg-tagged-${run}`;
    for (const tag of ['a', 'b']) {
      references.add(`${repository}:${tag}`);
      expectType(
        (await app.query(LifecycleTag, { source: sourceTag, repository, tag })).tagImage,
        'ImagePayload',
      );
    }
    const untag = await app.query(LifecycleRemove, { reference: `${repository}:a` });
    expect(expectType(untag.removeImage, 'RemoveImagePayload')).toMatchObject({
      untagged: [`${repository}:a`],
      deleted: [],
    });

    // An id names every tag of the image: the engine wants force for several.
    const byId = await app.query(LifecycleRemove, { reference: sourceId });
    expect(expectType(byId.removeImage, 'ConflictError').message).toMatch(/must be forced/);

    const soloTag = `dg-solo-${run}:v1`;
    const soloId = await fixtures.buildImage(
      soloTag,
      `FROM ${BASE_IMAGE}\nRUN echo solo-${run} > /solo\n`,
    );
    const parentId = (await lookup(soloTag))?.parentId;
    expect(parentId).toMatch(/^sha256:/);
    const solo = await app.query(LifecycleRemove, { reference: soloTag, noPrune: true });
    expect(expectType(solo.removeImage, 'RemoveImagePayload')).toMatchObject({
      untagged: [soloTag],
      deleted: [soloId],
    });
    // noPrune kept the untagged parent the build left; removing it deletes it.
    const parent = await app.query(LifecycleRemove, { reference: parentId ?? '' });
    expect(expectType(parent.removeImage, 'RemoveImagePayload').deleted).toContain(parentId);

    const missing = await app.query(LifecycleRemove, { reference: soloTag });
    expect(expectType(missing.removeImage, 'NotFoundError').message).toContain(soloTag);
  });

  it('refuses to remove an image a container uses unless forced', async () => {
    const usedTag = `dg-used-${run}:v1`;
    references.add(usedTag);
    const usedId = await fixtures.buildImage(
      usedTag,
      `FROM ${BASE_IMAGE}\nRUN echo used-${run} > /used\n`,
    );
    await fixtures.createContainer(fixtures.name('user'), { Image: usedTag });

    const refused = await app.query(LifecycleRemove, { reference: usedTag });
    expect(expectType(refused.removeImage, 'ConflictError').message).toMatch(
      /container .* is using its referenced image/,
    );

    // Force also deletes the image a stopped container was made from (a running one would keep it).
    const forced = await app.query(LifecycleRemove, { reference: usedTag, force: true });
    const removal = expectType(forced.removeImage, 'RemoveImagePayload');
    expect(removal.untagged).toEqual([usedTag]);
    expect(removal.deleted).toContain(usedId);
    expect(await lookup(usedId)).toBeNull();
  });

  it('prunes dangling images, and every unused one with a label filter', async () => {
    const danglingLabel = { 'dockergraph.prune': `dangling-${run}` };
    const tag = `dg-rebuilt-${run}:v1`;
    references.add(tag);
    const firstId = await fixtures.buildImage(
      tag,
      `FROM ${BASE_IMAGE}\nRUN echo first-${run} > /build\n`,
      danglingLabel,
    );
    const secondId = await fixtures.buildImage(
      tag,
      `FROM ${BASE_IMAGE}\nRUN echo second-${run} > /build\n`,
      danglingLabel,
    );
    expect(secondId).not.toBe(firstId);
    expect((await lookup(firstId))?.tags).toEqual([]);

    const dangling = await app.query(LifecyclePrune, {
      labels: [`dockergraph.prune=dangling-${run}`],
    });
    const danglingReport = expectType(dangling.pruneImages, 'PruneImagesPayload');
    expect(danglingReport.imagesDeleted).toContain(firstId);
    expect(danglingReport.imagesDeleted).not.toContain(secondId);
    expect(danglingReport.imagesUntagged).toEqual([]);
    expect(await lookup(firstId)).toBeNull();
    expect((await lookup(tag))?.dockerId).toBe(secondId);

    const unusedLabel = { 'dockergraph.prune': `unused-${run}` };
    const unusedTag = `dg-unused-${run}:v1`;
    const keptTag = `dg-kept-${run}:v1`;
    references.add(unusedTag).add(keptTag);
    const unusedId = await fixtures.buildImage(
      unusedTag,
      `FROM ${BASE_IMAGE}\nRUN echo unused-${run} > /unused\n`,
      unusedLabel,
    );
    const keptId = await fixtures.buildImage(
      keptTag,
      `FROM ${BASE_IMAGE}\nRUN echo kept-${run} > /kept\n`,
      unusedLabel,
    );
    await fixtures.createContainer(fixtures.name('keeper'), { Image: keptTag });
    const labels = [`dockergraph.prune=unused-${run}`];

    // Nothing of this run was created before 2000.
    const tooOld = await app.query(LifecyclePrune, {
      dangling: false,
      labels,
      until: '2000-01-01T00:00:00Z',
    });
    expect(expectType(tooOld.pruneImages, 'PruneImagesPayload')).toMatchObject({
      imagesDeleted: [],
      imagesUntagged: [],
      spaceReclaimedBytes: 0,
    });

    const all = await app.query(LifecyclePrune, { dangling: false, labels });
    const allReport = expectType(all.pruneImages, 'PruneImagesPayload');
    expect(allReport.imagesUntagged).toEqual([unusedTag]);
    expect(allReport.imagesDeleted).toContain(unusedId);
    expect(allReport.imagesDeleted).not.toContain(keptId);
    expect(allReport.spaceReclaimedBytes).toBeGreaterThan(0);
    expect(await lookup(unusedTag)).toBeNull();
    expect((await lookup(keptTag))?.dockerId).toBe(keptId);

    const bad = await app.query(LifecyclePrune, { labels: ['=x'] });
    expect(expectType(bad.pruneImages, 'InvalidInputError').field).toBe('labels[0]');
  });

  it('commits a container with message, author and changes, read back through the image', async () => {
    const name = fixtures.name('committed');
    await fixtures.runContainer(name, { Cmd: ['sh', '-c', `echo ${run} > /committed.txt`] }, true);
    const repository = `dg-commit-${run}`;
    references.add(`${repository}:v1`);

    const { commitContainer } = await app.query(LifecycleCommit, {
      container: name,
      repository,
      tag: 'v1',
      message: 'saved for the tests',
      author: 'Test Author <test@example.com>',
      changes: ['CMD ["cat", "/committed.txt"]', 'ENV COMMITTED=1', 'label extra=yes'],
    });
    const image = expectType(commitContainer, 'ImagePayload').image;
    expect(image).toMatchObject({
      tags: [`${repository}:v1`],
      comment: 'saved for the tests',
      author: 'Test Author <test@example.com>',
      label: run,
    });
    expect(image.config?.cmd).toEqual(['cat', '/committed.txt']);
    expect(image.config?.env).toContainEqual({ name: 'COMMITTED', value: '1' });

    // The image holds the container's filesystem: its command finds the file.
    const check = await fixtures.runContainer(fixtures.name('check'), {
      Image: image.dockerId,
      Cmd: null,
    });
    expect(await fixtures.waitContainer(check)).toBe(0);

    const untagged = await app.query(LifecycleCommit, { container: name, pause: false });
    const bare = expectType(untagged.commitContainer, 'ImagePayload').image;
    expect(bare.tags).toEqual([]);
    expect(bare.comment).toBeNull();
    references.add(bare.dockerId);

    const missing = await app.query(LifecycleCommit, { container: fixtures.name('nothing') });
    expect(expectType(missing.commitContainer, 'NotFoundError').message).toContain('nothing');
  });

  it('fails a search clearly when the engine cannot reach Docker Hub', async () => {
    const result = await app.execute(LifecycleSearch, { term: 'busybox', limit: 5 });
    expect(result.data).toBeNull();
    expect(result.errors).toHaveLength(1);
    expect(result.errors?.[0]?.extensions?.code).toBe('REGISTRY_UNREACHABLE');
    expect(result.errors?.[0]?.message).toMatch(
      /^search images for "busybox": the registry docker\.io could not be reached: /,
    );
  });

  it('refuses bad references, platforms, tags, commit changes and credentials before the engine', async () => {
    const pull = async (variables: { reference: string; platform?: string; auth?: object }) =>
      (await app.query(LifecyclePull, variables)).pullImage;
    const commit = async (variables: { container: string; changes?: string[]; tag?: string }) =>
      (await app.query(LifecycleCommit, variables)).commitContainer;
    const cases = [
      {
        attempt: () => pull({ reference: 'Upper/Case:v1' }),
        field: 'reference',
        message: /"Upper" is not a repository name component/,
      },
      {
        attempt: () => pull({ reference: 'app:bad tag' }),
        field: 'reference',
        message: /is not a tag/,
      },
      {
        attempt: () => pull({ reference: 'app@sha256:short' }),
        field: 'reference',
        message: /is not a digest/,
      },
      {
        attempt: () => pull({ reference: 'app:v1', platform: 'linux' }),
        field: 'platform',
        message: /"linux" is not a platform/,
      },
      {
        attempt: () => pull({ reference: 'app:v1', auth: { password: 'p4ss-only' } }),
        field: 'auth.username',
        message: /required with a password/,
      },
      {
        attempt: async () =>
          (await app.query(LifecyclePush, { reference: `app@sha256:${'a'.repeat(64)}` })).pushImage,
        field: 'reference',
        message: /names a digest/,
      },
      {
        attempt: async () =>
          (await app.query(LifecycleTag, { source: sourceTag, repository: 'app:v1' })).tagImage,
        field: 'repository',
        message: /give the repository alone/,
      },
      {
        attempt: async () =>
          (await app.query(LifecycleTag, { source: sourceTag, repository: 'app', tag: '-x' }))
            .tagImage,
        field: 'tag',
        message: /is not a tag/,
      },
      {
        attempt: () => commit({ container: 'anything', changes: ['ENV A=1', 'RUN ls'] }),
        field: 'changes[1]',
        message: /"RUN" is not an instruction a commit applies/,
      },
      {
        attempt: () => commit({ container: 'anything', changes: ['CMD'] }),
        field: 'changes[0]',
        message: /CMD needs an argument/,
      },
      {
        attempt: () => commit({ container: 'anything', changes: ['CMD ["sh"]\nRUN ls'] }),
        field: 'changes[0]',
        message: /single line/,
      },
      {
        attempt: () => commit({ container: 'anything', tag: 'v1' }),
        field: 'tag',
        message: /needs a repository/,
      },
    ];
    const calls = await app.callsDuring(async () => {
      for (const { attempt, field, message } of cases) {
        const error = expectType(await attempt(), 'InvalidInputError');
        expect(error.field).toBe(field);
        expect(error.message).toMatch(message);
      }
      const search = await app.execute(LifecycleSearch, { term: 'busybox', limit: 0 });
      expect(search.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument: 'limit',
      });
    });
    expect(calls.filter((call) => call !== 'HEAD /_ping')).toEqual([]);
  });
});
