import type { GraphQLContext } from '../context.ts';
import { inspectContainer } from '../docker/containers.ts';
import { EngineNotFoundError } from '../docker/errors.ts';
import { inspectImage } from '../docker/images.ts';
import { type ContainerRecord, type ImageRecord, toImageRecord } from './refs.ts';

/**
 * Objects read back from the engine after a mutation changed them, so that its
 * payload shows the engine's view. The operation's loader then holds the new
 * state, also when it read the object before the change.
 *
 * @module
 */

/** The container as it is after a change; null when it is gone. */
export async function readBackContainer(
  context: GraphQLContext,
  key: string,
): Promise<ContainerRecord | null> {
  const inspect = await inspectContainer(context.docker, key);
  if (!inspect) return null;
  context.loaders.containers.inspect.clear(inspect.Id).prime(inspect.Id, inspect);
  return { engine: context.engineName, id: inspect.Id, summary: null, inspect };
}

/** The image `reference` (a name or id) names after a change, which must still exist. */
export async function readBackImage(
  context: GraphQLContext,
  reference: string,
): Promise<ImageRecord> {
  const inspect = await inspectImage(context.docker, reference);
  if (!inspect) {
    throw new EngineNotFoundError(
      'NOT_FOUND',
      `image "${reference}" is gone: it was removed right after the change`,
      404,
    );
  }
  context.loaders.images.inspect.clear(inspect.Id).prime(inspect.Id, inspect);
  return toImageRecord(context.engineName, inspect);
}
