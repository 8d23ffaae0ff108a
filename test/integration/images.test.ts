import { createHash } from 'node:crypto';
import type { ResultOf } from '@graphql-typed-document-node/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/gql.ts';
import type { ImageFilter } from '../generated/graphql.ts';
import { expectArgumentError } from '../helpers/app.ts';
import { useAppWithFixtures } from '../helpers/app-with-fixtures.ts';
import { globalIdTests, pagingTests } from '../helpers/connection-checks.ts';
import { BASE_IMAGE, createTar, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { must } from '../helpers/must.ts';

const ImageFacts = graphql(`
  fragment ImageFacts on Image {
    id
    dockerId
    shortId
    tags
    digests
    created
    sizeBytes
    sharedSizeBytes
    labels { name value }
    roleLabel: label(name: "org.example.role")
    emptyLabel: label(name: "org.example.empty")
    missingLabel: label(name: "org.example.missing")
    # A key every JavaScript object inherits: still not a label.
    constructorLabel: label(name: "constructor")
    parentId
    os
    architecture
    variant
    author
    comment
    dockerVersion
    layers
    config {
      cmd
      entrypoint
      ...ContainerConfigProcess
      image
      volumes
      stopSignal
      stopTimeout
      healthcheck { test intervalNanoseconds timeoutNanoseconds retries startPeriodNanoseconds }
      labels { name value }
    }
    history { imageId created createdBy tags sizeBytes comment }
    containers { dockerId name }
  }
`);

const ImageLookup = graphql(`
  query ImageLookup($reference: String!) {
    image(reference: $reference) { ...ImageFacts }
  }
`);

const ImageList = graphql(`
  query ImageList($filter: ImageFilter, $first: Int, $after: String, $last: Int, $before: String) {
    images(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { ...ImageFacts } }
    }
  }
`);

const ImageIds = graphql(`
  query ImageIds($filter: ImageFilter, $first: Int, $after: String, $last: Int, $before: String) {
    images(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { id dockerId created } }
    }
  }
`);

const ImageListSummary = graphql(`
  query ImageListSummary($filter: ImageFilter) {
    images(filter: $filter) {
      edges { node { dockerId tags digests created sizeBytes parentId labels { name value } } }
    }
  }
`);

const AllImageIds = graphql(`
  query AllImageIds {
    images { totalCount edges { node { dockerId } } }
  }
`);

const ImageEngineFacts = graphql(`
  query ImageEngineFacts {
    engine { version { version arch } }
  }
`);

type Image = ResultOf<typeof ImageFacts>;

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

const seconds = (time: number) => Math.floor(time / 1000) * 1000;

describe('images', () => {
  const { app, fixtures } = useAppWithFixtures();
  const run = fixtures.run;
  const runLabel = `${TEST_LABEL}=${run}`;
  const catalog = [runLabel, 'dg.set=catalog'];

  const webRepo = fixtures.name('web');
  const plainRepo = fixtures.name('plain');
  const commitRepo = fixtures.name('commit');
  const danglingRepo = fixtures.name('dangling');
  const loadedRepo = fixtures.name('loaded');
  const pageRepo = fixtures.name('page');
  const author = 'Jane Doe <jane@example.com>';

  const ids = { web: '', plain: '', commit: '', danglingOld: '', danglingNew: '', loaded: '' };
  let webContainer = '';
  let loadedDiffId = '';
  let buildStarted = 0;
  let buildFinished = 0;
  let base: Image;

  async function engineCall(
    method: 'POST' | 'DELETE',
    path: string,
    query: Record<string, string | boolean>,
    body?: Buffer,
  ): Promise<string> {
    const response = await fixtures.engine.request(
      {
        method,
        path,
        query,
        ...(body ? { body, headers: { 'content-type': 'application/x-tar' } } : {}),
      },
      `${method} ${path}`,
    );
    const text = await response.body.text();
    if (/"error":/.test(text)) throw new Error(`${method} ${path} failed: ${text}`);
    return text;
  }

  async function commit(container: string, repo: string, tag: string, extra = {}) {
    const answer = await engineCall('POST', '/commit', { container, repo, tag, ...extra });
    return (JSON.parse(answer) as { Id: string }).Id;
  }

  async function removeImage(id: string): Promise<void> {
    await engineCall('DELETE', `/images/${id}`, { force: true });
  }

  async function lookup(reference: string): Promise<Image> {
    const { image } = await app.query(ImageLookup, { reference });
    return must(image, `image ${reference}`);
  }

  async function idsOf(filter: ImageFilter): Promise<string[]> {
    const { images } = await app.query(ImageIds, { filter, first: 100 });
    expect(images.totalCount).toBe(images.edges.length);
    return images.edges.map((edge) => edge.node.dockerId).sort();
  }

  /** An image in `docker save` form, as if built for arm64/v8 elsewhere on 2 January 2020. */
  function savedArmImage(tag: string): Buffer {
    const layer = createTar({ 'hello.txt': 'hi\n' });
    loadedDiffId = `sha256:${sha256(layer)}`;
    const config = JSON.stringify({
      architecture: 'arm64',
      variant: 'v8',
      os: 'linux',
      author,
      created: '2020-01-02T03:04:05Z',
      config: { Cmd: ['/hello'], Labels: fixtures.labels({ 'dg.set': 'catalog' }) },
      rootfs: { type: 'layers', diff_ids: [loadedDiffId] },
      history: [
        { created: '2020-01-02T03:04:00Z', created_by: 'ADD hello.txt /', comment: 'first step' },
        {
          created: '2020-01-02T03:04:05Z',
          created_by: 'CMD ["/hello"]',
          comment: 'last step',
          empty_layer: true,
        },
      ],
    });
    const configName = `${sha256(config)}.json`;
    // Both tars are plain ASCII, so the inner one survives the outer one's UTF-8 encoding.
    return createTar({
      'layer.tar': layer.toString('latin1'),
      [configName]: config,
      'manifest.json': JSON.stringify([
        { Config: configName, RepoTags: [tag], Layers: ['layer.tar'] },
      ]),
    });
  }

  beforeAll(async () => {
    base = await lookup(BASE_IMAGE);
    buildStarted = Date.now();
    ids.web = await fixtures.buildImage(
      `${webRepo}:v1`,
      [
        `FROM ${BASE_IMAGE}`,
        'LABEL org.example.role=web org.example.empty=""',
        'ENV GREETING=hello APP_HOME=/srv/app',
        `RUN mkdir -p /srv/app && echo ${run} > /srv/app/built.txt`,
        'EXPOSE 8080/tcp 53/udp',
        'VOLUME /srv/data',
        'WORKDIR /srv/app',
        'USER nobody',
        'HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=4 CMD ["true"]',
        'STOPSIGNAL SIGINT',
        'ENTRYPOINT ["/bin/sh", "-c"]',
        'CMD ["echo hi"]',
      ].join('\n'),
      { 'dg.set': 'catalog' },
    );
    buildFinished = Date.now();
    await engineCall('POST', `/images/${ids.web}/tag`, { repo: webRepo, tag: 'v2' });
    webContainer = await fixtures.createContainer(fixtures.name('web-c'), {
      Image: `${webRepo}:v1`,
    });
    ids.plain = await fixtures.buildImage(
      `${plainRepo}:v1`,
      `FROM ${BASE_IMAGE}\nRUN echo ${run} > /plain.txt`,
      { 'dg.set': 'catalog', 'org.example.role': 'plain' },
    );
    // A commit keeps the container's configuration as the image's defaults.
    const source = await fixtures.createContainer(fixtures.name('commit-src'), {
      Labels: { 'dg.set': 'catalog' },
      Hostname: 'dg-host',
      Domainname: 'example.test',
      Tty: true,
      OpenStdin: true,
      StopTimeout: 7,
      Env: ['MODE=commit', 'FROM_ENGINE'],
    });
    ids.commit = await commit(source, commitRepo, 'v1', {
      author,
      comment: 'committed by the tests',
      pause: false,
    });
    ids.danglingOld = await fixtures.buildImage(
      `${danglingRepo}:v1`,
      `FROM ${BASE_IMAGE}\nRUN echo ${run}-old > /version.txt`,
      { 'dg.set': 'catalog' },
    );
    // Taking its tag leaves the first build untagged and unused: dangling.
    ids.danglingNew = await fixtures.buildImage(
      `${danglingRepo}:v1`,
      `FROM ${BASE_IMAGE}\nRUN echo ${run}-new > /version.txt`,
      { 'dg.set': 'catalog' },
    );
    await engineCall('POST', '/images/load', { quiet: true }, savedArmImage(`${loadedRepo}:v8`));
    ids.loaded = (await lookup(`${loadedRepo}:v8`)).dockerId;
  });

  it('describes a built image: tags, size, labels, platform, config, layers and history', async () => {
    const { engine } = await app.query(ImageEngineFacts);
    const web = await lookup(`${webRepo}:v1`);

    expect(web.dockerId).toBe(ids.web);
    expect(web.dockerId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(web.shortId).toBe(ids.web.slice('sha256:'.length, 'sha256:'.length + 12));
    expect(web.id).not.toBe('');
    expect(web.tags.sort()).toEqual([`${webRepo}:v1`, `${webRepo}:v2`]);
    expect(web.digests).toEqual([]);
    // Whole seconds, from the list and from a lookup alike.
    const created = Date.parse(web.created);
    expect(created % 1000).toBe(0);
    expect(created).toBeGreaterThanOrEqual(seconds(buildStarted));
    expect(created).toBeLessThanOrEqual(buildFinished);
    // The RUN step wrote 9 bytes (8-character run id and a newline) on top of the base.
    expect(web.sizeBytes).toBe(base.sizeBytes + 9);
    expect(web.sharedSizeBytes).toBeNull();
    expect(web.labels).toEqual([
      { name: 'dg.set', value: 'catalog' },
      { name: TEST_LABEL, value: run },
      ...base.labels,
      { name: 'org.example.empty', value: '' },
      { name: 'org.example.role', value: 'web' },
    ]);
    expect(web.roleLabel).toBe('web');
    expect(web.emptyLabel).toBe('');
    expect(web.missingLabel).toBeNull();
    expect(web.constructorLabel).toBeNull();
    expect(web.os).toBe('linux');
    expect(web.architecture).toBe(engine.version.arch);
    expect(web.variant).toBeNull();
    expect(web.author).toBeNull();
    expect(web.comment).toBeNull();
    expect(web.dockerVersion).toBe(engine.version.version);

    expect(web.config).toEqual({
      cmd: ['echo hi'],
      entrypoint: ['/bin/sh', '-c'],
      env: [
        ...must(base.config, 'base config').env,
        { name: 'GREETING', value: 'hello' },
        { name: 'APP_HOME', value: '/srv/app' },
      ],
      workingDir: '/srv/app',
      user: 'nobody',
      hostname: null,
      domainname: null,
      tty: false,
      openStdin: false,
      exposedPorts: [
        { port: 53, protocol: 'UDP' },
        { port: 8080, protocol: 'TCP' },
      ],
      // The classic builder records the image of its last intermediate step.
      image: web.parentId,
      volumes: ['/srv/data'],
      stopSignal: 'SIGINT',
      stopTimeout: null,
      healthcheck: {
        test: ['CMD', 'true'],
        intervalNanoseconds: 30_000_000_000,
        timeoutNanoseconds: 5_000_000_000,
        retries: 4,
        startPeriodNanoseconds: 10_000_000_000,
      },
      labels: web.labels,
    });

    // One new layer (the RUN step) on top of the base image's.
    expect(web.layers).toHaveLength(base.layers.length + 1);
    expect(web.layers.slice(0, base.layers.length)).toEqual(base.layers);
    expect(web.layers.at(-1)).toMatch(/^sha256:[0-9a-f]{64}$/);

    // Newest step first; the base image's own history at the end.
    const nop = (instruction: string) => `/bin/sh -c #(nop)  ${instruction}`;
    const createdBy = web.history.map((step) => step.createdBy);
    // Labels given to the build come last, one step each, in no particular order.
    expect(createdBy.slice(0, 2).sort()).toEqual([
      nop('LABEL dg.set=catalog'),
      nop(`LABEL ${TEST_LABEL}=${run}`),
    ]);
    expect(createdBy.slice(2)).toEqual([
      nop('CMD ["echo hi"]'),
      nop('ENTRYPOINT ["/bin/sh" "-c"]'),
      nop('STOPSIGNAL SIGINT'),
      nop(`HEALTHCHECK &{["CMD" "true"] "30s" "5s" "10s" '\\x04'}`),
      nop('USER nobody'),
      '/bin/sh -c #(nop) WORKDIR /srv/app',
      nop('VOLUME [/srv/data]'),
      nop('EXPOSE 53/udp 8080/tcp'),
      `/bin/sh -c mkdir -p /srv/app && echo ${run} > /srv/app/built.txt`,
      nop('ENV GREETING=hello APP_HOME=/srv/app'),
      nop('LABEL org.example.role=web org.example.empty='),
      ...base.history.map((step) => step.createdBy),
    ]);
    const steps = web.history.slice(0, -base.history.length);
    expect(web.history.slice(steps.length)).toEqual(base.history);
    expect(steps.map((step) => step.sizeBytes)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0]);
    expect(steps[0]?.imageId).toBe(ids.web);
    expect(steps[0]?.tags.sort()).toEqual([`${webRepo}:v1`, `${webRepo}:v2`]);
    expect(steps[1]?.imageId).toBe(web.parentId);
    for (const step of steps) {
      expect(step.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(step.comment).toBe('');
      expect(Date.parse(step.created)).toBeGreaterThanOrEqual(seconds(buildStarted));
      expect(Date.parse(step.created)).toBeLessThanOrEqual(buildFinished);
    }
    expect(new Set(steps.map((step) => step.imageId)).size).toBe(steps.length);
    expect(steps.slice(1).every((step) => step.tags.length === 0)).toBe(true);
    expect(base.history[0]?.tags).toContain(BASE_IMAGE);

    // Built locally: its parent is the image of the step before it.
    expect(web.parentId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(web.parentId).not.toBe(base.dockerId);
    expect(web.containers).toEqual([{ dockerId: webContainer, name: fixtures.name('web-c') }]);
  });

  it('describes an imported image: no parent, no builder version', () => {
    // The base image was imported from a root filesystem by scripts/engine.sh.
    expect(base.parentId).toBeNull();
    expect(base.dockerId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(base.tags).toContain(BASE_IMAGE);
    expect(base.layers).toHaveLength(1);
    expect(base.history).toHaveLength(1);
    expect(base.history[0]?.imageId).toBe(base.dockerId);
    expect(base.history[0]?.sizeBytes).toBe(base.sizeBytes);
  });

  it('describes an image built elsewhere: author, variant, history steps without ids', async () => {
    const loaded = await lookup(`${loadedRepo}:v8`);
    expect(loaded).toMatchObject({
      dockerId: ids.loaded,
      tags: [`${loadedRepo}:v8`],
      digests: [],
      created: '2020-01-02T03:04:05.000Z',
      sizeBytes: 3,
      parentId: null,
      os: 'linux',
      architecture: 'arm64',
      variant: 'v8',
      author,
      // Without a comment of its own, the engine reports the last step's.
      comment: 'last step',
      dockerVersion: null,
      layers: [loadedDiffId],
      containers: [],
    });
    expect(loaded.config).toMatchObject({
      cmd: ['/hello'],
      entrypoint: null,
      env: [],
      workingDir: null,
      user: null,
      exposedPorts: [],
      image: null,
      volumes: [],
      stopSignal: null,
      healthcheck: null,
    });
    expect(loaded.history).toEqual([
      {
        imageId: ids.loaded,
        created: '2020-01-02T03:04:05.000Z',
        createdBy: 'CMD ["/hello"]',
        tags: [`${loadedRepo}:v8`],
        sizeBytes: 0,
        comment: 'last step',
      },
      {
        imageId: null,
        created: '2020-01-02T03:04:00.000Z',
        createdBy: 'ADD hello.txt /',
        tags: [],
        sizeBytes: 3,
        comment: 'first step',
      },
    ]);
  });

  it('describes a committed image: author, comment, the container it came from', async () => {
    const committed = await lookup(`${commitRepo}:v1`);
    expect(committed).toMatchObject({
      dockerId: ids.commit,
      tags: [`${commitRepo}:v1`],
      author,
      comment: 'committed by the tests',
      parentId: base.dockerId,
      sizeBytes: base.sizeBytes,
      containers: [],
    });
    expect(committed.history[0]).toMatchObject({
      imageId: ids.commit,
      createdBy: 'sleep 3600',
      comment: 'committed by the tests',
      sizeBytes: 0,
    });
    expect(committed.history.slice(1)).toEqual(base.history);
    expect(committed.config).toMatchObject({
      cmd: ['sleep', '3600'],
      entrypoint: null,
      // The container's own variables first, then the image's it did not set.
      env: [
        { name: 'MODE', value: 'commit' },
        { name: 'FROM_ENGINE', value: null },
        ...must(base.config, 'base config').env,
      ],
      hostname: 'dg-host',
      domainname: 'example.test',
      tty: true,
      openStdin: true,
      stopTimeout: 7,
      image: BASE_IMAGE,
    });
    expect(committed.labels).toContainEqual({ name: TEST_LABEL, value: run });
  });

  it('lists an unused image with no containers, and an untagged one with no tags or digests', async () => {
    const plain = await lookup(`${plainRepo}:v1`);
    expect(plain.containers).toEqual([]);
    expect(plain.roleLabel).toBe('plain');
    const dangling = await lookup(ids.danglingOld);
    expect(dangling.tags).toEqual([]);
    expect(dangling.digests).toEqual([]);
    // From the list too, where the engine writes "<none>:<none>" and "<none>@<none>".
    const { images } = await app.query(ImageList, {
      filter: { labels: catalog, dangling: true },
    });
    expect(
      images.edges.map((edge) => [edge.node.dockerId, edge.node.tags, edge.node.digests]),
    ).toEqual([[ids.danglingOld, [], []]]);
  });

  it('gives the same facts from the list as from a lookup', async () => {
    const { images } = await app.query(ImageList, { filter: { labels: catalog } });
    const listed = images.edges.map((edge) => edge.node);
    expect(listed.map((image) => image.dockerId).sort()).toEqual(Object.values(ids).sort());
    for (const image of listed) {
      const single = await lookup(image.dockerId);
      expect(image).toEqual(single);
    }
  });

  it('reads what the image list holds from the list alone, in one engine call', async () => {
    let listed: ResultOf<typeof ImageListSummary> | undefined;
    const calls = await app.callsDuring(async () => {
      listed = await app.query(ImageListSummary, { filter: { labels: catalog } });
    });
    expect(calls).toEqual(['GET /images/json']);
    const images = must(listed, 'images').images.edges.map((edge) => edge.node);
    expect(images.map((image) => image.dockerId).sort()).toEqual(Object.values(ids).sort());
    expect(images.every((image) => image.digests.length === 0)).toBe(true);
  });

  it('finds an image by tag, full id, short id and "sha256:" id', async () => {
    const hex = ids.web.slice('sha256:'.length);
    for (const reference of [`${webRepo}:v1`, `${webRepo}:v2`, ids.web, hex, hex.slice(0, 12)]) {
      const result = await app.execute(ImageLookup, { reference });
      expect(result.errors).toBeUndefined();
      expect(result.data?.image?.dockerId).toBe(ids.web);
    }
    expect((await lookup(`sha256:${hex.slice(0, 12)}`)).dockerId).toBe(ids.web);
  });

  it('answers null, without an error, for an image that does not exist', async () => {
    for (const reference of [`${webRepo}:v3`, fixtures.name('missing'), 'ffffffffffff']) {
      const result = await app.execute(ImageLookup, { reference });
      expect(result).toEqual({ data: { image: null } });
    }
  });

  it('rejects a reference that is not one, naming the argument', async () => {
    for (const reference of ['UPPER/Case', 'has space', '', '   ']) {
      const result = await app.execute(ImageLookup, { reference });
      expect(result.data?.image).toBeNull();
      expectArgumentError(result, 'reference');
    }
  });

  describe('filters', () => {
    it('by labels: every label must match, by key or key=value', async () => {
      const all = Object.values(ids).sort();
      expect(await idsOf({ labels: [runLabel] })).toEqual(all);
      expect(await idsOf({ labels: catalog })).toEqual(all);
      expect(await idsOf({ labels: [runLabel, 'org.example.role'] })).toEqual(
        [ids.web, ids.plain].sort(),
      );
      expect(await idsOf({ labels: [runLabel, 'org.example.role=web'] })).toEqual([ids.web]);
      expect(await idsOf({ labels: [runLabel, 'org.example.role=db'] })).toEqual([]);
      const bad = await app.execute(ImageIds, { filter: { labels: [runLabel, '=web'] } });
      expect(bad.errors?.[0]?.extensions).toMatchObject({ argument: 'filter.labels[1]' });
    });

    it('by dangling', async () => {
      expect(await idsOf({ labels: catalog, dangling: true })).toEqual([ids.danglingOld]);
      expect(await idsOf({ labels: catalog, dangling: false })).toEqual(
        Object.values(ids)
          .filter((id) => id !== ids.danglingOld)
          .sort(),
      );
    });

    it('by reference patterns', async () => {
      expect(await idsOf({ labels: catalog, references: [webRepo] })).toEqual([ids.web]);
      expect(await idsOf({ labels: catalog, references: [`${webRepo}:v2`] })).toEqual([ids.web]);
      expect(await idsOf({ labels: catalog, references: [`${webRepo}:v9`] })).toEqual([]);
      expect(
        await idsOf({ labels: catalog, references: [`dg-d*-${run}`, `${plainRepo}:v*`] }),
      ).toEqual([ids.danglingNew, ids.plain].sort());
      const bad = await app.execute(ImageIds, { filter: { references: [webRepo, ' '] } });
      expect(bad.errors?.[0]?.extensions).toMatchObject({ argument: 'filter.references[1]' });
      const calls = await app.callsDuring(async () => {
        const unclosed = await app.execute(ImageIds, { filter: { references: ['[abc'] } });
        expect(unclosed.errors?.[0]?.extensions).toMatchObject({
          code: 'BAD_USER_INPUT',
          argument: 'filter.references[0]',
        });
      });
      expect(calls).toEqual([]);
    });

    it('by creation before or since another image', async () => {
      // Created in this order: web, plain, commit, dangling (old, new); the loaded one in 2020.
      expect(await idsOf({ labels: catalog, before: `${plainRepo}:v1` })).toEqual(
        [ids.web, ids.loaded].sort(),
      );
      expect(await idsOf({ labels: catalog, since: `${plainRepo}:v1` })).toEqual(
        [ids.commit, ids.danglingOld, ids.danglingNew].sort(),
      );
      expect(
        await idsOf({ labels: catalog, since: ids.web, before: `${danglingRepo}:v1` }),
      ).toEqual([ids.plain, ids.commit, ids.danglingOld].sort());
      const missing = `${fixtures.name('missing')}:v1`;
      for (const field of ['before', 'since'] as const) {
        const result = await app.execute(ImageIds, {
          filter: { labels: catalog, [field]: missing },
        });
        expect(result.data).toBeNull();
        expect(result.errors?.[0]?.message).toContain(missing);
        expect(result.errors?.[0]?.extensions).toMatchObject({
          code: 'BAD_USER_INPUT',
          argument: `filter.${field}`,
        });
      }
    });

    it('lists every image, unfiltered, including this run’s', async () => {
      const { images } = await app.query(AllImageIds);
      const listed = images.edges.map((edge) => edge.node.dockerId);
      expect(images.totalCount).toBe(listed.length);
      expect(listed).toEqual(expect.arrayContaining([...Object.values(ids), base.dockerId]));
    });
  });

  describe('pagination', () => {
    const filter = { labels: [runLabel, 'dg.set=page'] };
    const pages: string[] = [];

    beforeAll(async () => {
      const source = await fixtures.createContainer(fixtures.name('page-src'), {
        Labels: { 'dg.set': 'page' },
      });
      for (let index = 0; index < 5; index += 1) {
        pages.push(await commit(source, pageRepo, `p${index}`));
      }
    });

    pagingTests({
      things: 'images',
      order: 'newest first',
      execute: (args) => app.execute(ImageIds, { filter, ...args }),
      connection: (data) => data.images,
      key: (node) => node.dockerId,
      expectedOrder: (nodes) => {
        // The five commits, newest first; the list's own order within one second.
        const order = nodes.map((node) => node.dockerId);
        expect([...order].sort()).toEqual([...pages].sort());
        const created = nodes.map((node) => Date.parse(node.created));
        expect(created).toEqual([...created].sort((a, b) => b - a));
        return order;
      },
      remove: removeImage,
    });
  });

  describe('global ids', () => {
    async function refetched(dockerId: string, tags?: string[]) {
      const image = await lookup(dockerId);
      return { __typename: 'Image' as const, id: image.id, dockerId, tags: tags ?? image.tags };
    }

    globalIdTests({
      app,
      thing: 'image',
      things: 'images',
      present: async () => [
        await refetched(ids.web),
        await refetched(ids.plain),
        // Untagged images are not looked up from the list alone.
        await refetched(ids.danglingOld, []),
      ],
      removed: async () => {
        const gone = await fixtures.buildImage(
          `${fixtures.name('gone')}:v1`,
          `FROM ${BASE_IMAGE}\nRUN echo ${run} > /gone.txt`,
        );
        const { id } = await lookup(gone);
        await removeImage(gone);
        return id;
      },
    });
  });
});
