/**
 * Global IDs are base64url of `Type:engine:objectId`. The engine name lets one
 * schema serve several engines; the Relay plugin passes `engine:objectId` as
 * the id part.
 */
export function encodeNodeId(typename: string, id: string | number | bigint): string {
  return Buffer.from(`${typename}:${id}`, 'utf8').toString('base64url');
}

/** Reverses {@link encodeNodeId}; an ID that is not ours decodes to an unknown type. */
export function decodeNodeId(globalId: string): { typename: string; id: string } {
  const decoded = Buffer.from(globalId, 'base64url').toString('utf8');
  const separator = decoded.indexOf(':');
  if (separator <= 0 || !/^[A-Za-z]+$/.test(decoded.slice(0, separator))) {
    return { typename: 'Invalid', id: globalId };
  }
  return { typename: decoded.slice(0, separator), id: decoded.slice(separator + 1) };
}

/** The `engine:objectId` part a node's `id` field resolves to. */
export function toNodeKey(engineName: string, objectId: string): string {
  return `${engineName}:${objectId}`;
}

/** Splits a node key; `null` when it names another engine than `engineName`. */
export function fromNodeKey(engineName: string, key: string): string | null {
  const prefix = `${engineName}:`;
  return key.startsWith(prefix) ? key.slice(prefix.length) : null;
}

/**
 * What a mutation argument names on the engine: a global ID of `typename` is
 * decoded to the engine's id; anything else is the engine's own id, id prefix
 * or name. A global ID of another type or engine is refused.
 */
export function toEngineReference(
  engineName: string,
  typename: string,
  value: string,
): { id: string } | { problem: string } {
  const decoded = decodeNodeId(value);
  if (decoded.typename === 'Invalid' || !/^[A-Z][A-Za-z]+$/.test(decoded.typename)) {
    return { id: value };
  }
  if (decoded.typename !== typename) {
    return { problem: `is the global ID of a ${decoded.typename}, not of a ${typename}` };
  }
  const id = fromNodeKey(engineName, decoded.id);
  return id === null ? { problem: 'is the global ID of an object on another engine' } : { id };
}
