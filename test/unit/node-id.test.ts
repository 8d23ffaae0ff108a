import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/docker/errors.ts';
import {
  decodeNodeId,
  encodeNodeId,
  engineReferenceOf,
  fromNodeKey,
  toEngineReference,
  toNodeKey,
} from '../../src/schema/node-id.ts';

describe('global IDs', () => {
  it('round-trip type, engine and object id, ids with colons included', () => {
    const id = encodeNodeId('Image', toNodeKey('local', 'sha256:abc'));
    expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    const decoded = decodeNodeId(id);
    expect(decoded).toEqual({ typename: 'Image', id: 'local:sha256:abc' });
    expect(fromNodeKey('local', decoded.id)).toBe('sha256:abc');
    expect(fromNodeKey('other', decoded.id)).toBeNull();
  });

  it('decodes foreign strings to an invalid type instead of throwing', () => {
    expect(decodeNodeId('garbage!').typename).toBe('Invalid');
    expect(decodeNodeId(Buffer.from(':x').toString('base64url')).typename).toBe('Invalid');
  });
});

describe('engine references of mutation arguments', () => {
  const containerId = encodeNodeId('Container', toNodeKey('local', 'abc123'));

  it('decodes global IDs of the type and engine, and keeps engine ids and names', () => {
    expect(toEngineReference('local', 'Container', containerId)).toEqual({ id: 'abc123' });
    expect(toEngineReference('local', 'Container', '/web')).toEqual({ id: 'web' });
    expect(toEngineReference('local', 'Image', '127.0.0.1:5000/team/app:1')).toEqual({
      id: '127.0.0.1:5000/team/app:1',
    });
    expect(toEngineReference('local', 'Network', 'my net')).toEqual({ id: 'my net' });
  });

  it('refuses other types and engines, blanks, and what cannot name the type', () => {
    for (const [typename, value, problem] of [
      ['Network', containerId, /global ID of a Container, not of a Network/],
      ['Container', encodeNodeId('Container', toNodeKey('other', 'abc')), /another engine/],
      ['Volume', ' ', /^must not be empty$/],
      ['Container', encodeNodeId('Container', toNodeKey('local', ' ')), /^must not be empty$/],
      ['Container', ' web ', /is not a container id or name/],
      ['Container', 'a/b', /is not a container id or name/],
      ['Container', '/', /is not a container id or name/],
      ['Image', 'app: v1', /is not an image reference/],
    ] as const) {
      const reference = toEngineReference('local', typename, value);
      expect('problem' in reference && reference.problem, value).toMatch(problem);
    }
  });

  it('throws an InvalidInputError naming the argument', () => {
    expect(engineReferenceOf('local', 'Container', 'id', containerId)).toBe('abc123');
    let thrown: unknown;
    try {
      engineReferenceOf('local', 'Image', 'source', containerId);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidInputError);
    expect(thrown).toMatchObject({ field: 'source', message: expect.stringContaining('Image') });
  });
});
