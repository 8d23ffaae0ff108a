import type { ResultOf, VariablesOf } from '@graphql-typed-document-node/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/gql.ts';
import type { VolumeFilter } from '../generated/graphql.ts';
import { createTestApp } from '../helpers/app.ts';
import { EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';

// Spread into the operations below; codegen adds its definition to each of them.
graphql(`
  fragment VolumeFacts on Volume {
    id
    name
    driver
    mountpoint
    createdAt
    scope
    labels { name value }
    tierLabel: label(name: "org.example.tier")
    emptyLabel: label(name: "org.example.empty")
    missingLabel: label(name: "org.example.missing")
    # A key every JavaScript object inherits: still not a label.
    constructorLabel: label(name: "constructor")
    options { name value }
    containers { dockerId name }
  }
`);

const VolumeLookup = graphql(`
  query VolumeLookup($name: String!) {
    volume(name: $name) { ...VolumeFacts usage { sizeBytes refCount } }
  }
`);

const VolumeList = graphql(`
  query VolumeList($filter: VolumeFilter) {
    volumes(filter: $filter) {
      totalCount
      edges { node { ...VolumeFacts usage { sizeBytes refCount } } }
    }
  }
`);

const VolumeListWithoutUsage = graphql(`
  query VolumeListWithoutUsage($filter: VolumeFilter) {
    volumes(filter: $filter) { totalCount edges { node { ...VolumeFacts } } }
  }
`);

const VolumePairUsage = graphql(`
  query VolumePairUsage($a: String!, $b: String!) {
    a: volume(name: $a) { name usage { sizeBytes refCount } }
    b: volume(name: $b) { name usage { sizeBytes refCount } }
  }
`);

const VolumeNames = graphql(`
  query VolumeNames($filter: VolumeFilter, $first: Int, $after: String, $last: Int, $before: String) {
    volumes(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { name } }
    }
  }
`);

const AllVolumeNames = graphql(`
  query AllVolumeNames {
    volumes { totalCount edges { node { name } } }
  }
`);

const VolumeNode = graphql(`
  query VolumeNode($id: ID!) {
    node(id: $id) { __typename id ... on Volume { name driver } }
  }
`);

const VolumeNodes = graphql(`
  query VolumeNodes($ids: [ID!]!) {
    nodes(ids: $ids) { __typename id ... on Volume { name driver } }
  }
`);

type Volume = ResultOf<typeof VolumeLookup>['volume'];

function must<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`expected ${what}`);
  return value;
}

const seconds = (time: number) => Math.floor(time / 1000) * 1000;

describe('volumes', () => {
  const app = createTestApp();
  const fixtures = new EngineFixtures();
  const run = fixtures.run;
  const runLabel = `${TEST_LABEL}=${run}`;
  const catalog = [runLabel, 'dg.set=catalog'];

  const data = fixtures.name('data');
  const scratch = fixtures.name('scratch');
  const tmpfs = fixtures.name('tmpfs');
  const writerName = fixtures.name('writer');
  let writer = '';
  let createStarted = 0;
  let createFinished = 0;
  let setupFinished = 0;

  async function lookup(name: string): Promise<NonNullable<Volume>> {
    return must((await app.query(VolumeLookup, { name })).volume, `volume ${name}`);
  }

  async function namesOf(filter: VolumeFilter): Promise<string[]> {
    const { volumes } = await app.query(VolumeNames, { filter });
    expect(volumes.totalCount).toBe(volumes.edges.length);
    return volumes.edges.map((edge) => edge.node.name);
  }

  async function removeVolume(name: string): Promise<void> {
    const response = await fixtures.engine.request(
      { method: 'DELETE', path: `/volumes/${name}` },
      `remove volume ${name}`,
    );
    await response.body.dump();
  }

  beforeAll(async () => {
    createStarted = Date.now();
    await fixtures.createVolume(data, {
      Labels: { 'dg.set': 'catalog', 'org.example.tier': 'db', 'org.example.empty': '' },
    });
    await fixtures.createVolume(scratch, {
      Labels: { 'dg.set': 'catalog', 'org.example.tier': 'cache' },
    });
    await fixtures.createVolume(tmpfs, {
      Labels: { 'dg.set': 'catalog' },
      DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' },
    });
    createFinished = Date.now();
    // Writes 5 bytes into the volume and exits; the stopped container still uses it.
    writer = await fixtures.runContainer(
      writerName,
      {
        Cmd: ['sh', '-c', 'printf hello > /data/greeting'],
        HostConfig: { Binds: [`${data}:/data`] },
      },
      true,
    );
    setupFinished = Date.now();
  });

  afterAll(async () => {
    await fixtures.cleanup();
    await app.close();
  });

  it('describes a volume in use: driver, place, labels, size, reference count, containers', async () => {
    const volume = await lookup(data);
    expect(volume).toEqual({
      id: expect.any(String),
      name: data,
      driver: 'local',
      mountpoint: expect.stringMatching(new RegExp(`^/.*/volumes/${data}/_data$`)),
      createdAt: expect.any(String),
      scope: 'LOCAL',
      labels: [
        { name: 'dg.set', value: 'catalog' },
        { name: TEST_LABEL, value: run },
        { name: 'org.example.empty', value: '' },
        { name: 'org.example.tier', value: 'db' },
      ],
      tierLabel: 'db',
      emptyLabel: '',
      missingLabel: null,
      constructorLabel: null,
      options: [],
      containers: [{ dockerId: writer, name: writerName }],
      usage: { sizeBytes: 5, refCount: 1 },
    });
    // Whole seconds. The local driver reports when its data directory last changed, so
    // the file the container wrote moved it past the creation.
    const created = Date.parse(must(volume.createdAt, 'createdAt'));
    expect(created).toBeGreaterThanOrEqual(seconds(createStarted));
    expect(created).toBeLessThanOrEqual(setupFinished);
  });

  it('describes an unused volume: no containers, nothing stored, no references', async () => {
    const volume = await lookup(scratch);
    expect(volume).toMatchObject({
      name: scratch,
      tierLabel: 'cache',
      emptyLabel: null,
      options: [],
      containers: [],
      usage: { sizeBytes: 0, refCount: 0 },
    });
    const created = Date.parse(must(volume.createdAt, 'createdAt'));
    expect(created).toBeGreaterThanOrEqual(seconds(createStarted));
    expect(created).toBeLessThanOrEqual(createFinished);
  });

  it('describes a volume with driver options, whose usage the engine does not compute', async () => {
    const volume = await lookup(tmpfs);
    expect(volume).toMatchObject({
      name: tmpfs,
      driver: 'local',
      scope: 'LOCAL',
      labels: [
        { name: 'dg.set', value: 'catalog' },
        { name: TEST_LABEL, value: run },
      ],
      tierLabel: null,
      options: [
        { name: 'device', value: 'tmpfs' },
        { name: 'o', value: 'size=1m' },
        { name: 'type', value: 'tmpfs' },
      ],
      containers: [],
      // `docker system df` leaves out volumes with driver options.
      usage: null,
    });
  });

  it('gives the same facts from the list as from a lookup', async () => {
    const { volumes } = await app.query(VolumeList, { filter: { labels: catalog } });
    expect(volumes.totalCount).toBe(3);
    const listed = volumes.edges.map((edge) => edge.node);
    expect(listed.map((volume) => volume.name)).toEqual([data, scratch, tmpfs]);
    for (const volume of listed) {
      expect(volume).toEqual(await lookup(volume.name));
    }
  });

  it('computes usage with one /system/df call for every volume of a request, and only when asked', async () => {
    const filter = { labels: catalog };
    const without = await app.callsDuring(() => app.query(VolumeListWithoutUsage, { filter }));
    expect(without).toEqual(['GET /volumes', 'GET /containers/json']);

    const listed = await app.callsDuring(() => app.query(VolumeList, { filter }));
    expect([...listed].sort()).toEqual(['GET /containers/json', 'GET /system/df', 'GET /volumes']);

    let pair: ResultOf<typeof VolumePairUsage> | undefined;
    const looked = await app.callsDuring(async () => {
      pair = await app.query(VolumePairUsage, { a: data, b: scratch });
    });
    expect([...looked].sort()).toEqual([
      'GET /system/df',
      `GET /volumes/${data}`,
      `GET /volumes/${scratch}`,
    ]);
    expect(pair).toEqual({
      a: { name: data, usage: { sizeBytes: 5, refCount: 1 } },
      b: { name: scratch, usage: { sizeBytes: 0, refCount: 0 } },
    });
  });

  it('answers null, without an error, for a volume that does not exist', async () => {
    const result = await app.execute(VolumeLookup, { name: fixtures.name('missing') });
    expect(result).toEqual({ data: { volume: null } });
  });

  it('rejects a name that is not a volume name, naming the argument', async () => {
    for (const name of ['', 'has space', '/abs', '-dash', '../up']) {
      const result = await app.execute(VolumeLookup, { name });
      expect(result.data?.volume).toBeNull();
      expect(result.errors).toHaveLength(1);
      expect(result.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument: 'name',
      });
      expect(result.errors?.[0]?.message).toContain('"name"');
    }
  });

  describe('filters', () => {
    it('by labels: every label must match, by key or key=value', async () => {
      expect(await namesOf({ labels: [runLabel] })).toEqual([data, scratch, tmpfs]);
      expect(await namesOf({ labels: [runLabel, 'org.example.tier'] })).toEqual([data, scratch]);
      expect(await namesOf({ labels: [runLabel, 'org.example.tier=db'] })).toEqual([data]);
      expect(await namesOf({ labels: [runLabel, 'org.example.tier=web'] })).toEqual([]);
      const bad = await app.execute(VolumeNames, { filter: { labels: [runLabel, '=db'] } });
      expect(bad.errors?.[0]?.extensions).toMatchObject({ argument: 'filter.labels[1]' });
    });

    it('by dangling', async () => {
      expect(await namesOf({ labels: catalog, dangling: true })).toEqual([scratch, tmpfs]);
      expect(await namesOf({ labels: catalog, dangling: false })).toEqual([data]);
    });

    it('by drivers', async () => {
      expect(await namesOf({ labels: catalog, drivers: ['local'] })).toEqual([
        data,
        scratch,
        tmpfs,
      ]);
      expect(await namesOf({ labels: catalog, drivers: ['nfs-driver'] })).toEqual([]);
    });

    it('by parts of the name', async () => {
      expect(await namesOf({ labels: catalog, names: ['scratch'] })).toEqual([scratch]);
      expect(await namesOf({ labels: catalog, names: [data, `tmpfs-${run}`] })).toEqual([
        data,
        tmpfs,
      ]);
      expect(await namesOf({ labels: catalog, names: [`nothing-${run}`] })).toEqual([]);
    });

    it('lists every volume, unfiltered, including this run’s', async () => {
      const { volumes } = await app.query(AllVolumeNames);
      const names = volumes.edges.map((edge) => edge.node.name);
      expect(volumes.totalCount).toBe(names.length);
      expect(names).toEqual(expect.arrayContaining([data, scratch, tmpfs]));
      expect(names).toEqual([...names].sort());
    });
  });

  describe('pagination', () => {
    const filter = { labels: [runLabel, 'dg.set=page'] };
    const pages = [0, 1, 2, 3, 4].map((index) => fixtures.name(`page-${index}`));

    beforeAll(async () => {
      for (const name of pages) await fixtures.createVolume(name, { Labels: { 'dg.set': 'page' } });
    });

    it('pages forward and backward by name and counts the whole list', async () => {
      const whole = (await app.query(VolumeNames, { filter })).volumes;
      expect(whole.totalCount).toBe(5);
      expect(whole.edges.map((edge) => edge.node.name)).toEqual(pages);
      expect(whole.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });

      const first = (await app.query(VolumeNames, { filter, first: 2 })).volumes;
      expect(first.totalCount).toBe(5);
      expect(first.edges.map((edge) => edge.node.name)).toEqual(pages.slice(0, 2));
      expect(first.pageInfo).toMatchObject({
        hasNextPage: true,
        hasPreviousPage: false,
        startCursor: first.edges[0]?.cursor,
        endCursor: first.edges[1]?.cursor,
      });
      const second = (
        await app.query(VolumeNames, { filter, first: 2, after: first.pageInfo.endCursor })
      ).volumes;
      expect(second.totalCount).toBe(5);
      expect(second.edges.map((edge) => edge.node.name)).toEqual(pages.slice(2, 4));
      expect(second.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
      const third = (
        await app.query(VolumeNames, { filter, first: 2, after: second.pageInfo.endCursor })
      ).volumes;
      expect(third.edges.map((edge) => edge.node.name)).toEqual(pages.slice(4));
      expect(third.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });

      const last = (await app.query(VolumeNames, { filter, last: 2 })).volumes;
      expect(last.edges.map((edge) => edge.node.name)).toEqual(pages.slice(3));
      expect(last.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
      const before = (
        await app.query(VolumeNames, { filter, last: 2, before: last.pageInfo.startCursor })
      ).volumes;
      expect(before.totalCount).toBe(5);
      expect(before.edges.map((edge) => edge.node.name)).toEqual(pages.slice(1, 3));
      expect(before.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    });

    it('keeps cursors valid when volumes before them are removed', async () => {
      const first = (await app.query(VolumeNames, { filter, first: 2 })).volumes;
      const last = (await app.query(VolumeNames, { filter, last: 2 })).volumes;
      // Remove the volume under the cursor and the one before it.
      await removeVolume(must(pages[0], 'page 0'));
      await removeVolume(must(pages[1], 'page 1'));
      const next = (
        await app.query(VolumeNames, { filter, first: 2, after: first.pageInfo.endCursor })
      ).volumes;
      expect(next.totalCount).toBe(3);
      expect(next.edges.map((edge) => edge.node.name)).toEqual(pages.slice(2, 4));
      expect(next.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
      const before = (
        await app.query(VolumeNames, { filter, last: 5, before: last.pageInfo.startCursor })
      ).volumes;
      expect(before.edges.map((edge) => edge.node.name)).toEqual(pages.slice(2, 3));
      expect(before.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    });

    it('rejects garbage cursors and negative counts, naming the argument', async () => {
      const cases: [Omit<VariablesOf<typeof VolumeNames>, 'filter'>, string][] = [
        [{ after: 'garbage' }, 'after'],
        [{ before: 'bm90LWEtY3Vyc29y' }, 'before'],
        [{ first: -1 }, 'first'],
        [{ last: -2 }, 'last'],
      ];
      for (const [args, argument] of cases) {
        const result = await app.execute(VolumeNames, { filter, ...args });
        expect(result.data).toBeNull();
        expect(result.errors?.[0]?.extensions).toMatchObject({
          code: 'BAD_USER_INPUT',
          argument,
        });
      }
    });
  });

  describe('global ids', () => {
    it('refetches volumes through node and nodes; a removed volume gives null', async () => {
      const inUse = await lookup(data);
      const unused = await lookup(scratch);
      const { node } = await app.query(VolumeNode, { id: inUse.id });
      expect(node).toEqual({ __typename: 'Volume', id: inUse.id, name: data, driver: 'local' });

      const goneName = fixtures.name('gone');
      await fixtures.createVolume(goneName);
      const gone = await lookup(goneName);
      await removeVolume(goneName);
      expect(await app.execute(VolumeNode, { id: gone.id })).toEqual({ data: { node: null } });

      const { nodes } = await app.query(VolumeNodes, { ids: [unused.id, gone.id, inUse.id] });
      expect(nodes).toEqual([
        { __typename: 'Volume', id: unused.id, name: scratch, driver: 'local' },
        null,
        { __typename: 'Volume', id: inUse.id, name: data, driver: 'local' },
      ]);
    });

    it('rejects an id that is not a global id, naming the argument', async () => {
      const result = await app.execute(VolumeNode, { id: 'garbage' });
      expect(result.data?.node).toBeNull();
      expect(result.errors).toHaveLength(1);
      expect(result.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument: 'id',
      });
      const inUse = await lookup(data);
      const many = await app.execute(VolumeNodes, { ids: [inUse.id, 'garbage'] });
      expect(many.data).toBeNull();
      expect(many.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument: 'ids[1]',
      });
    });
  });
});
