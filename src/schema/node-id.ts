import { InvalidInputError } from '../docker/errors.ts';
import { invalidArgument } from './errors.ts';

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

/** The objects a mutation argument names by global ID, or by the engine's own id or name. */
export type EngineObjectType = 'Container' | 'Image' | 'Network' | 'Volume';

/**
 * The key to ask the engine for, by what an engine id or name of each type can
 * look like (blanks are refused before); null when it cannot name one. Volume
 * names are checked by their mutation, which also checks the names of new ones.
 */
const engineKeys: Readonly<Record<EngineObjectType, (id: string) => string | null>> = {
  // The engine answers "/name" in a path with a redirect: ask for "name".
  Container: (id) => {
    const key = id.replace(/^\//, '');
    return /^[^\s/]+$/.test(key) && !isDotSegment(key) ? key : null;
  },
  Image: (id) => (/\s/.test(id) ? null : id),
  // A network's id or name goes into the path as one segment.
  Network: (id) => (id.includes('/') || isDotSegment(id) ? null : id),
  Volume: (id) => id,
};

/** "." and "..": steps of a path, which no container or network id or name can be. */
function isDotSegment(key: string): boolean {
  return key === '.' || key === '..';
}

const engineKeyNames: Readonly<Record<EngineObjectType, string>> = {
  Container: 'a container id or name',
  Image: 'an image reference',
  Network: 'a network id or name',
  Volume: 'a volume name',
};

/**
 * What a mutation argument (or a download route's segment) names on the engine:
 * a global ID of `typename` is decoded to the engine's id; anything else is the
 * engine's own id, id prefix or name. A global ID of another type or engine, a
 * blank, and what cannot name a `typename` are refused with why.
 */
export function toEngineReference(
  engineName: string | (() => string),
  typename: EngineObjectType,
  value: string,
): { id: string } | { problem: string } {
  let id = value;
  const decoded = decodeNodeId(value);
  if (decoded.typename !== 'Invalid' && /^[A-Z][A-Za-z]+$/.test(decoded.typename)) {
    if (decoded.typename !== typename) {
      return {
        problem: `"${value}" is the global ID of a ${decoded.typename}, not of a ${typename}`,
      };
    }
    // Asked only here: a plain id or name is checked before the field needs its engine.
    const key = fromNodeKey(typeof engineName === 'string' ? engineName : engineName(), decoded.id);
    if (key === null)
      return { problem: `"${value}" is the global ID of an object on another engine` };
    id = key;
  }
  if (id.trim() === '') return { problem: 'must not be empty' };
  const key = engineKeys[typename](id);
  return key === null ? { problem: `"${value}" is not ${engineKeyNames[typename]}` } : { id: key };
}

/**
 * {@link toEngineReference} for a mutation argument: the engine's key, or an
 * {@link InvalidInputError} naming `field`, before any engine call.
 */
export function engineReferenceOf(
  engineName: string,
  typename: EngineObjectType,
  field: string,
  value: string,
): string {
  const reference = toEngineReference(engineName, typename, value);
  if ('problem' in reference) throw new InvalidInputError(field, reference.problem);
  return reference.id;
}

/** What a lookup's rule (`scope-rules.ts`) says of the argument that names its object. */
export interface LookupArgument {
  readonly argument: string;
  readonly type: EngineObjectType;
}

/**
 * {@link toEngineReference} for the argument of a lookup (`container(idOrName:)` and the
 * like, as its label-scope rule describes it): the engine's key, or a GraphQL error naming
 * the argument, before any engine call. `engineName` is asked only for a global ID, so that
 * a plain bad argument is named as such even before an engine is chosen.
 */
export function lookupKeyOf(
  engineName: () => string,
  { argument, type }: LookupArgument,
  value: string,
): string {
  const reference = toEngineReference(engineName, type, value);
  if ('problem' in reference) throw invalidArgument(argument, reference.problem);
  return reference.id;
}
