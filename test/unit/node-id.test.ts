import { describe, expect, it } from 'vitest';
import { decodeNodeId, encodeNodeId, fromNodeKey, toNodeKey } from '../../src/schema/node-id.ts';

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
