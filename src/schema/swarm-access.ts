import type { GraphQLContext } from '../context.ts';
import { EngineNotFoundError, InvalidInputError } from '../docker/errors.ts';
import type { EngineNode } from '../docker/swarm.ts';
import type { EngineSwarmBlob, SwarmBlobKind } from '../docker/swarm-secrets.ts';
import type { EngineService } from '../docker/swarm-services.ts';
import { findVisible, SWARM_ID_CHARACTERS } from '../security/label-scope.ts';
import { decodeNodeId, fromNodeKey } from './node-id.ts';

/**
 * How swarm mutations name their objects: by global ID, or by the engine's id
 * or name. Lookups go through the request's loaders, so that a principal
 * limited to labels gets the same NotFoundError for what it may not see as
 * for what does not exist.
 *
 * @module
 */

/** The swarm objects a mutation argument names. */
export type SwarmObjectType = 'Service' | 'SwarmNode' | 'Secret' | 'Config';

/**
 * The engine key `value` names: a global ID of `typename` decoded (another
 * type, or another engine, is refused), or the value itself.
 */
export function swarmReferenceOf(
  context: GraphQLContext,
  typename: SwarmObjectType,
  field: string,
  value: string,
): string {
  let key = value;
  const decoded = decodeNodeId(value);
  if (decoded.typename !== 'Invalid' && /^[A-Z][A-Za-z]+$/.test(decoded.typename)) {
    if (decoded.typename !== typename) {
      throw new InvalidInputError(
        field,
        `"${value}" is the global ID of a ${decoded.typename}, not of a ${typename}`,
      );
    }
    const local = fromNodeKey(context.engineName, decoded.id);
    if (local === null) {
      throw new InvalidInputError(
        field,
        `"${value}" is the global ID of an object on another engine`,
      );
    }
    key = local;
  }
  if (key.trim() === '' || /[\s/]/.test(key)) {
    throw new InvalidInputError(field, `"${value}" is not an id or name of a ${typename}`);
  }
  return key;
}

/** The service `value` names, as the principal may see it; NotFoundError otherwise. */
export async function visibleService(
  context: GraphQLContext,
  field: string,
  value: string,
): Promise<EngineService> {
  const key = swarmReferenceOf(context, 'Service', field, value);
  const service = await context.loaders.swarm.serviceInspect.load(key);
  if (!service) throw new EngineNotFoundError('NOT_FOUND', `service ${key} not found`, 404);
  return service;
}

/** The secret or config `value` names, as the principal may see it; NotFoundError otherwise. */
export async function visibleSwarmBlob(
  context: GraphQLContext,
  kind: SwarmBlobKind,
  field: string,
  value: string,
): Promise<EngineSwarmBlob> {
  const key = swarmReferenceOf(context, kind === 'secret' ? 'Secret' : 'Config', field, value);
  const loaders = kind === 'secret' ? context.loaders.swarm.secrets : context.loaders.swarm.configs;
  const blob = await loaders.inspect.load(key);
  if (!blob) throw new EngineNotFoundError('NOT_FOUND', `${kind} ${key} not found`, 404);
  return blob;
}

/** The node `value` names (id, name or host name), as the principal may see it. */
export async function visibleNode(
  context: GraphQLContext,
  field: string,
  value: string,
): Promise<EngineNode> {
  const key = swarmReferenceOf(context, 'SwarmNode', field, value);
  // As the engine resolves a node (id, then name, then an id prefix only one node has), among
  // the nodes the principal sees: an ambiguous prefix names none, not the first that matches.
  const node = findVisible(
    await context.loaders.swarm.nodes(),
    key,
    (candidate) => ({
      id: candidate.ID,
      names: candidate.Description?.Hostname ? [candidate.Description.Hostname] : [],
    }),
    SWARM_ID_CHARACTERS,
  );
  if (!node) throw new EngineNotFoundError('NOT_FOUND', `node ${key} not found`, 404);
  return node;
}
