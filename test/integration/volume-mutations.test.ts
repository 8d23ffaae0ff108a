import type { ResultOf } from '@graphql-typed-document-node/core';
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/gql.ts';
import { useAppWithFixtures } from '../helpers/app-with-fixtures.ts';
import { expectType } from '../helpers/mutations.ts';

const CreateVolume = graphql(`
  mutation CreateVolume($input: CreateVolumeInput!) {
    createVolume(input: $input) {
      __typename
      ... on VolumePayload { volume { id name driver labels { name value } options { name value } } }
      ... on MutationError { message }
      ... on InvalidInputError { field }
    }
  }
`);

const RemoveVolume = graphql(`
  mutation RemoveVolume($name: String!, $force: Boolean) {
    removeVolume(name: $name, force: $force) {
      __typename
      ... on RemoveVolumePayload { name }
      ... on MutationError { message }
      ... on InvalidInputError { field }
    }
  }
`);

const PruneVolumes = graphql(`
  mutation PruneVolumes($labels: [String!]) {
    pruneVolumes(labels: $labels) {
      __typename
      ... on PruneVolumesPayload { volumesDeleted spaceReclaimedBytes }
      ... on MutationError { message }
      ... on InvalidInputError { field }
    }
  }
`);

const UpdateVolume = graphql(`
  mutation UpdateVolume($name: String!) {
    updateVolume(name: $name, availability: DRAIN) {
      __typename
      ... on MutationError { message }
      ... on NotSupportedError { engine }
    }
  }
`);

const VolumeExists = graphql(`
  query VolumeExists($name: String!) {
    volume(name: $name) { name }
  }
`);

describe('volume mutations', () => {
  const { app, fixtures, runLabel } = useAppWithFixtures();

  it('creates a volume with driver options and labels, and reads it back', async () => {
    const name = fixtures.name('made');
    const { createVolume } = await app.query(CreateVolume, {
      input: {
        name,
        driverOptions: [
          { name: 'type', value: 'tmpfs' },
          { name: 'device', value: 'tmpfs' },
          { name: 'o', value: 'size=1m' },
        ],
        labels: [runLabel, { name: 'purpose', value: 'test' }],
      },
    });
    const { volume } = expectType(createVolume, 'VolumePayload');
    expect(volume).toMatchObject({ name, driver: 'local' });
    expect(volume.labels).toEqual(
      [runLabel, { name: 'purpose', value: 'test' }].sort((a, b) => (a.name < b.name ? -1 : 1)),
    );
    expect(volume.options).toEqual([
      { name: 'device', value: 'tmpfs' },
      { name: 'o', value: 'size=1m' },
      { name: 'type', value: 'tmpfs' },
    ]);
    expect((await app.query(VolumeExists, { name })).volume?.name).toBe(name);
  });

  it('refuses a bad name or repeated label before the engine, naming the field', async () => {
    const calls = await app.callsDuring(async () => {
      const bad = await app.query(CreateVolume, { input: { name: 'no spaces allowed' } });
      expect(expectType(bad.createVolume, 'InvalidInputError').field).toBe('input.name');
      const twice = await app.query(CreateVolume, {
        input: { name: fixtures.name('twice'), labels: [runLabel, runLabel] },
      });
      const error = expectType(twice.createVolume, 'InvalidInputError');
      expect(error.field).toBe('input.labels[1].name');
      expect(error.message).toContain('given twice');
    });
    expect(calls.filter((call) => call !== 'HEAD /_ping')).toEqual([]);
  });

  it('removes a volume by name or global ID; a used one is a conflict unless forced; a missing one is not found', async () => {
    const name = fixtures.name('used');
    await fixtures.createVolume(name);
    await fixtures.createContainer(fixtures.name('user'), {
      HostConfig: { Binds: [`${name}:/data`] },
    });

    const conflict = await app.query(RemoveVolume, { name });
    expect(expectType(conflict.removeVolume, 'ConflictError').message).toMatch(/in use/);

    const forcedName = fixtures.name('byid');
    const created = await app.query(CreateVolume, {
      input: { name: forcedName, labels: [runLabel] },
    });
    const { volume } = expectType(created.createVolume, 'VolumePayload');
    const removed = await app.query(RemoveVolume, { name: volume.id });
    expect(expectType(removed.removeVolume, 'RemoveVolumePayload').name).toBe(forcedName);
    expect((await app.query(VolumeExists, { name: forcedName })).volume).toBeNull();

    const missing = await app.query(RemoveVolume, { name: forcedName });
    expect(expectType(missing.removeVolume, 'NotFoundError').message).toContain(forcedName);
  });

  it('prunes unused volumes with the given labels and reports what it freed', async () => {
    const label = `dockergraph.prune=${fixtures.run}`;
    const unused = fixtures.name('prunable');
    const kept = fixtures.name('kept');
    await fixtures.createVolume(unused, { Labels: { 'dockergraph.prune': fixtures.run } });
    await fixtures.createVolume(kept, { Labels: { 'dockergraph.prune': fixtures.run } });
    await fixtures.createContainer(fixtures.name('keeper'), {
      HostConfig: { Binds: [`${kept}:/data`] },
    });

    const { pruneVolumes } = await app.query(PruneVolumes, { labels: [label] });
    const report = expectType(pruneVolumes, 'PruneVolumesPayload');
    expect(report.volumesDeleted).toEqual([unused]);
    expect(report.spaceReclaimedBytes).toBeGreaterThanOrEqual(0);
    expect((await app.query(VolumeExists, { name: kept })).volume?.name).toBe(kept);

    const bad = await app.query(PruneVolumes, { labels: ['=x'] });
    expect(expectType(bad.pruneVolumes, 'InvalidInputError').field).toBe('labels[0]');
  });

  it('answers NotSupportedError naming the API version for a volume update, writing nothing', async () => {
    const name = fixtures.name('kept');
    await fixtures.createVolume(name);
    let updateVolume: ResultOf<typeof UpdateVolume>['updateVolume'] | undefined;
    const calls = await app.callsDuring(async () => {
      ({ updateVolume } = await app.query(UpdateVolume, { name }));
    });
    // `PUT /volumes/{name}` came with API 1.42 (swarm cluster volumes); the engine speaks 1.41.
    const refused = expectType(updateVolume, 'NotSupportedError');
    expect(refused.engine).toBe('docker');
    expect(refused.message).toContain('need Engine API 1.42; this engine speaks 1.41');
    expect(calls.filter((call) => !call.startsWith('GET ') && call !== 'HEAD /_ping')).toEqual([]);
  });
});
