// The rules of a token limited to labels, on the engine's own shapes.
import { describe, expect, it } from 'vitest';
import {
  carriesLabels,
  changesWithLimitLabels,
  findLabelConflict,
  findVisible,
  isImageVisible,
  isNetworkVisible,
  isVolumeVisible,
  labelConflictMessage,
  labelsOfChange,
  limitOf,
  namedSwarmObject,
  objectsUsedBy,
  SWARM_ID_CHARACTERS,
  withLimitFilters,
  withLimitLabels,
} from '../../src/security/label-scope.ts';

const limit = { team: 'payments', env: 'prod' };

describe('containers', () => {
  it('are visible when they carry every label of the limit with its value', () => {
    expect(carriesLabels({ team: 'payments', env: 'prod', other: 'x' }, limit)).toBe(true);
    expect(carriesLabels({ team: 'payments' }, limit)).toBe(false);
    expect(carriesLabels({ team: 'payments', env: 'dev' }, limit)).toBe(false);
    expect(carriesLabels(null, limit)).toBe(false);
    expect(carriesLabels({}, limit)).toBe(false);
  });

  it('do not take inherited keys for labels', () => {
    expect(carriesLabels({}, { constructor: '' })).toBe(false);
  });
});

describe('the limit of a principal', () => {
  it('is none for no labels or an empty map', () => {
    expect(limitOf(null)).toBeNull();
    expect(limitOf(undefined)).toBeNull();
    expect(limitOf({})).toBeNull();
    expect(limitOf(limit)).toBe(limit);
  });

  it('adds its labels to the filters of lists and prunes', () => {
    expect(withLimitFilters(['a'], limit)).toEqual(['a', 'team=payments', 'env=prod']);
    expect(withLimitFilters(undefined, limit)).toEqual(['team=payments', 'env=prod']);
    expect(withLimitFilters(['a'], null)).toEqual(['a']);
    expect(withLimitFilters(null, null)).toBeUndefined();
  });
});

describe('images, volumes and networks', () => {
  const used = objectsUsedBy([
    {
      ImageID: 'sha256:used',
      Mounts: [
        { Type: 'volume', Name: 'data' },
        { Type: 'bind', Name: '' },
      ],
      NetworkSettings: { Networks: { backend: { NetworkID: 'net-1' }, fresh: { NetworkID: '' } } },
    },
    // Inspect names the image `Image`.
    { Image: 'sha256:inspected', Mounts: null, NetworkSettings: null },
  ]);

  it('are what the containers use', () => {
    expect([...used.imageIds].sort()).toEqual(['sha256:inspected', 'sha256:used']);
    expect([...used.volumeNames]).toEqual(['data']);
    expect([...used.networkIds]).toEqual(['net-1']);
    expect([...used.networkNames].sort()).toEqual(['backend', 'fresh']);
  });

  it('are visible when labelled or used by a visible container', () => {
    expect(isImageVisible({ Id: 'sha256:used', labels: null }, limit, used)).toBe(true);
    expect(isImageVisible({ Id: 'sha256:other', labels: limit }, limit, used)).toBe(true);
    expect(isImageVisible({ Id: 'sha256:other', labels: { team: 'x' } }, limit, used)).toBe(false);
    expect(isVolumeVisible({ Name: 'data', Labels: null }, limit, used)).toBe(true);
    expect(isVolumeVisible({ Name: 'other', Labels: null }, limit, used)).toBe(false);
    expect(isVolumeVisible({ Name: 'other', Labels: limit }, limit, used)).toBe(true);
    expect(isNetworkVisible({ Id: 'net-1', Name: 'renamed', Labels: null }, limit, used)).toBe(
      true,
    );
    // A container that never started has no network id yet: its network is known by name.
    expect(isNetworkVisible({ Id: 'net-2', Name: 'fresh', Labels: null }, limit, used)).toBe(true);
    expect(isNetworkVisible({ Id: 'net-3', Name: 'bridge', Labels: null }, limit, used)).toBe(
      false,
    );
  });
});

describe('objects a limited token creates', () => {
  it('get the labels of the limit besides those asked for', () => {
    expect(withLimitLabels({ app: 'web' }, limit)).toEqual({
      labels: { app: 'web', team: 'payments', env: 'prod' },
    });
    expect(withLimitLabels(undefined, limit)).toEqual({ labels: limit });
    expect(withLimitLabels({ team: 'payments' }, limit)).toEqual({ labels: limit });
  });

  it('may not set a label of the limit to another value', () => {
    const result = withLimitLabels({ app: 'web', env: 'dev' }, limit);
    expect(result).toEqual({ conflict: { name: 'env', requested: 'dev', required: 'prod' } });
    const conflict = findLabelConflict({ env: 'dev' }, limit);
    expect(conflict && labelConflictMessage(conflict)).toBe(
      'label "env" must be "prod" for this token (it is limited to it), not "dev"',
    );
  });
});

describe('LABEL changes of a commit or import', () => {
  it('are read in both Dockerfile forms, quoted or not', () => {
    expect(labelsOfChange('LABEL team=payments app="my app"')).toEqual({
      team: 'payments',
      app: 'my app',
    });
    expect(labelsOfChange('label "team"="a \\"b\\""')).toEqual({ team: 'a "b"' });
    expect(labelsOfChange("LABEL 'the team'=x")).toEqual({ 'the team': 'x' });
    expect(labelsOfChange('LABEL team payments and more')).toEqual({
      team: 'payments and more',
    });
    expect(labelsOfChange('ENV team=payments')).toBeNull();
    expect(labelsOfChange('CMD ["sh"]')).toBeNull();
  });

  it('end with a LABEL instruction of the limit', () => {
    expect(changesWithLimitLabels(['CMD ["sh"]'], { team: 'pay "ments"' })).toEqual({
      changes: ['CMD ["sh"]', 'LABEL "team"="pay \\"ments\\""'],
    });
    const written = changesWithLimitLabels(null, limit);
    expect(written).toEqual({ changes: ['LABEL "team"="payments" "env"="prod"'] });
    // What is written reads back as the limit.
    if ('changes' in written) expect(labelsOfChange(written.changes[0] ?? '')).toEqual(limit);
  });

  it('refuse a change setting a label of the limit otherwise, naming its entry', () => {
    expect(changesWithLimitLabels(['CMD ["sh"]', 'LABEL env=dev'], limit)).toEqual({
      index: 1,
      conflict: { name: 'env', requested: 'dev', required: 'prod' },
    });
    expect(changesWithLimitLabels(['LABEL team payments'], limit)).toEqual({
      changes: ['LABEL team payments', 'LABEL "team"="payments" "env"="prod"'],
    });
  });
});

describe('a reference resolved among the objects a principal sees', () => {
  const services = [
    { ID: 'k1b2c3', Spec: { Name: 'web' } },
    { ID: 'k1x9y8', Spec: { Name: 'k1b' } },
    { ID: 'zz0011', Spec: {} },
  ];
  const find = (key: string) =>
    findVisible(services, key, namedSwarmObject, SWARM_ID_CHARACTERS)?.ID ?? null;

  it('takes the id, then a name, then an id prefix only one object has, as the engine does', () => {
    expect(find('k1b2c3')).toBe('k1b2c3');
    expect(find('web')).toBe('k1b2c3');
    // A name before an id prefix it also is.
    expect(find('k1b')).toBe('k1x9y8');
    expect(find('zz')).toBe('zz0011');
  });

  it('names nothing for a prefix several share, a blank, or what no swarm id is written with', () => {
    expect(find('k1')).toBeNull();
    expect(find('')).toBeNull();
    expect(find('K1B2')).toBeNull();
    // Engine ids are hex: without the swarm's characters, "zz" is no prefix.
    expect(findVisible(services, 'zz', namedSwarmObject)).toBeNull();
  });
});
