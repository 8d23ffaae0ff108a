import type { ResultOf } from '@graphql-typed-document-node/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/gql.ts';
import type { VolumeFilter } from '../generated/graphql.ts';
import { expectArgumentError } from '../helpers/app.ts';
import { useAppWithFixtures } from '../helpers/app-with-fixtures.ts';
import { globalIdTests, pagingTests } from '../helpers/connection-checks.ts';
import { TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { must } from '../helpers/must.ts';

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

type Volume = ResultOf<typeof VolumeLookup>['volume'];

const seconds = (time: number) => Math.floor(time / 1000) * 1000;

describe('volumes', () => {
  const { app, fixtures } = useAppWithFixtures();
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

  /** When the volume says it was created: in whole seconds, after the setup started, by `until`. */
  function expectCreatedBy(volume: NonNullable<Volume>, until: number): void {
    const created = Date.parse(must(volume.createdAt, 'createdAt'));
    expect(created).toBeGreaterThanOrEqual(seconds(createStarted));
    expect(created).toBeLessThanOrEqual(until);
  }

  async function namesOf(filter: VolumeFilter): Promise<string[]> {
    const { volumes } = await app.query(VolumeNames, { filter });
    expect(volumes.totalCount).toBe(volumes.edges.length);
    return volumes.edges.map((edge) => edge.node.name);
  }

  async function removeVolume(name: string): Promise<void> {
    await fixtures.send({ method: 'DELETE', path: `/volumes/${name}` }, `remove volume ${name}`);
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
    // The local driver reports when its data directory last changed, so the file the
    // container wrote moved it past the creation.
    expectCreatedBy(volume, setupFinished);
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
    expectCreatedBy(volume, createFinished);
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
      expectArgumentError(result, 'name');
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

    pagingTests({
      things: 'volumes',
      order: 'by name',
      execute: (args) => app.execute(VolumeNames, { filter, ...args }),
      connection: (data) => data.volumes,
      key: (node) => node.name,
      expectedOrder: () => pages,
      remove: removeVolume,
    });
  });

  describe('global ids', () => {
    globalIdTests({
      app,
      thing: 'volume',
      things: 'volumes',
      present: async () => [
        { __typename: 'Volume', id: (await lookup(data)).id, name: data, driver: 'local' },
        { __typename: 'Volume', id: (await lookup(scratch)).id, name: scratch, driver: 'local' },
      ],
      removed: async () => {
        const goneName = fixtures.name('gone');
        await fixtures.createVolume(goneName);
        const gone = await lookup(goneName);
        await removeVolume(goneName);
        return gone.id;
      },
    });
  });
});
