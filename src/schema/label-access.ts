import type { GraphQLContext } from '../context.ts';
import type { EngineContainerCreateBody } from '../docker/container-spec.ts';
import {
  EngineConflictError,
  EngineError,
  EngineNotFoundError,
  InvalidInputError,
} from '../docker/errors.ts';
import { type EngineVolume, inspectVolume } from '../docker/volumes.ts';
import {
  changesWithLimitLabels,
  isVolumeVisible,
  type LabelLimit,
  labelConflictMessage,
  limitOf,
  withLimitFilters,
  withLimitLabels,
} from '../security/label-scope.ts';
import { type EngineObjectType, engineReferenceOf } from './node-id.ts';

/**
 * Where the schema applies the label limit of a token (the rules are in
 * `src/security/label-scope.ts`; reads are filtered by the loaders): mutation
 * and subscription targets must be visible, created objects get the limit's
 * labels, prunes are narrowed to the visible objects (event streams: in
 * `visible-events.ts`).
 * For a principal without a limit every helper here answers at once, without
 * an engine call.
 *
 * @module
 */

/** The label limit of the operation's principal; null when it sees everything. */
export function labelLimitOf(context: GraphQLContext): LabelLimit | null {
  return limitOf(context.principal.labels);
}

/** The engine's own words for an object it does not have, after the call's `what`. */
function engineNotFound(
  typename: EngineObjectType,
  key: string,
  what: string,
): EngineNotFoundError {
  const words: Readonly<Record<EngineObjectType, string>> = {
    Container: `No such container: ${key}`,
    Image: `No such image: ${key}`,
    Volume: `get ${key}: no such volume`,
    Network: `network ${key} not found`,
  };
  return new EngineNotFoundError('NOT_FOUND', `${what}: ${words[typename]}`, 404);
}

/**
 * The engine reference a mutation or subscription argument names, as
 * {@link engineReferenceOf} finds it, checked to be visible to a principal
 * limited to labels. An object it may not see answers the same NotFoundError
 * as one that does not exist (`action` is the verb of the engine call's
 * description, e.g. "stop" for `stop container "web"`, or the whole
 * description of the object's key, so that both read alike); nothing else is
 * revealed.
 * Containers and networks are answered by their full id, so that the change
 * reaches the very object checked; images keep the reference given (removing
 * by name and by id differ), volumes their name. Without a limit: no engine call.
 */
export async function visibleEngineReference(
  context: GraphQLContext,
  typename: EngineObjectType,
  field: string,
  value: string,
  action: string | ((key: string) => string),
): Promise<string> {
  const key = engineReferenceOf(context.engineName, typename, field, value);
  if (!labelLimitOf(context)) return key;
  const what = (name: string) =>
    typeof action === 'string' ? `${action} ${typename.toLowerCase()} "${name}"` : action(name);
  const { loaders } = context;
  switch (typename) {
    case 'Container': {
      const container = await loaders.containers.inspect.load(key);
      if (!container) throw engineNotFound(typename, key, what(key));
      return container.Id;
    }
    case 'Image': {
      if (!(await loaders.images.inspect.load(key))) throw engineNotFound(typename, key, what(key));
      return key;
    }
    case 'Volume': {
      if (!(await loaders.volumes.inspect.load(key))) {
        throw engineNotFound(typename, key, what(key));
      }
      return key;
    }
    case 'Network': {
      const network = await loaders.networks.inspect.load(key);
      if (!network) throw engineNotFound(typename, key, what(key));
      return network.Id;
    }
  }
}

/**
 * The labels of an object the principal creates: those requested, plus the
 * limit's; a requested label the limit sets otherwise is an InvalidInputError
 * naming `field` and the label. Without a limit `requested` is answered as is.
 */
export function labelsForCreate(
  context: GraphQLContext,
  field: string,
  requested: Readonly<Record<string, string>> | undefined,
): Record<string, string> | undefined {
  const limit = labelLimitOf(context);
  if (!limit) return requested ? { ...requested } : undefined;
  const merged = withLimitLabels(requested, limit);
  if ('conflict' in merged)
    throw new InvalidInputError(field, labelConflictMessage(merged.conflict));
  return merged.labels;
}

/**
 * Dockerfile `changes` of a commit or an import, with a `LABEL` instruction
 * setting the limit's labels last; a change setting one of them to another
 * value is an InvalidInputError naming its entry and the label.
 */
export function changesForCreate(
  context: GraphQLContext,
  field: string,
  changes: readonly string[] | null | undefined,
): readonly string[] | null | undefined {
  const limit = labelLimitOf(context);
  if (!limit) return changes;
  const limited = changesWithLimitLabels(changes, limit);
  if ('conflict' in limited) {
    throw new InvalidInputError(
      `${field}[${limited.index}]`,
      labelConflictMessage(limited.conflict),
    );
  }
  return limited.changes;
}

/** Label filters of a prune or an event stream of the principal: those asked for, plus its limit's. */
export function scopedLabelFilters(
  context: GraphQLContext,
  labels: readonly string[] | null | undefined,
): readonly string[] | undefined {
  return withLimitFilters(labels, labelLimitOf(context));
}

/** Networks a container may name without being shown them: the engine's own modes. */
const BUILTIN_NETWORK_MODES = new Set(['bridge', 'default', 'host', 'none']);

/**
 * A container body a limited principal sends: the limit's labels on the
 * container and on the volumes its mounts create; the containers, networks
 * and volumes it names must be visible. A named volume it may not see cannot
 * be mounted: the engine would create a missing one, so an invisible one is
 * refused as a name in use (the only thing the answer reveals). Without a
 * limit the body is answered as is, without an engine call.
 */
export async function limitContainerCreate(
  context: GraphQLContext,
  field: string,
  body: EngineContainerCreateBody,
): Promise<EngineContainerCreateBody> {
  const limit = labelLimitOf(context);
  if (!limit) return body;
  const labels = labelsForCreate(context, `${field}.labels`, body.Labels);
  const mounts = await Promise.all(
    (body.HostConfig.Mounts ?? []).map(async (mount, index) => {
      if (mount.Type !== 'volume') return mount;
      const at = `${field}.mounts[${index}]`;
      if (mount.Source) {
        const existing = await inspectVolume(context.docker, mount.Source);
        if (existing && !isVolumeVisible(existing, limit, await context.loaders.scope.used())) {
          throw new InvalidInputError(
            `${at}.source`,
            `the volume name "${mount.Source}" is in use by a volume this token cannot use`,
          );
        }
      }
      const volumeLabels = labelsForCreate(
        context,
        `${at}.volumeLabels`,
        mount.VolumeOptions?.Labels,
      );
      return { ...mount, VolumeOptions: { ...mount.VolumeOptions, ...givenLabels(volumeLabels) } };
    }),
  );
  const networkMode = body.HostConfig.NetworkMode;
  if (networkMode !== undefined && !BUILTIN_NETWORK_MODES.has(networkMode)) {
    const sharedWith = /^container:(.*)$/.exec(networkMode)?.[1];
    if (sharedWith !== undefined) {
      await visibleEngineReference(
        context,
        'Container',
        `${field}.networkMode`,
        sharedWith,
        'join the network of',
      );
    } else {
      await visibleEngineReference(
        context,
        'Network',
        body.NetworkingConfig ? `${field}.network.name` : `${field}.networkMode`,
        networkMode,
        'connect to',
      );
    }
  }
  return {
    ...body,
    ...givenLabels(labels),
    HostConfig: {
      ...body.HostConfig,
      ...(body.HostConfig.Mounts ? { Mounts: mounts } : {}),
    },
  };
}

/**
 * The volume a create answered, checked to be the principal's: the engine
 * answers an existing volume of the same name as if it created it, and one a
 * limited principal may not see is refused as a name in use instead.
 */
export async function createdVolume(
  context: GraphQLContext,
  volume: EngineVolume,
): Promise<EngineVolume> {
  const limit = labelLimitOf(context);
  if (!limit || isVolumeVisible(volume, limit, await context.loaders.scope.used())) return volume;
  throw new EngineConflictError(
    'CONFLICT',
    `create volume "${volume.Name}": the name is in use by a volume this token cannot use`,
    409,
  );
}

function givenLabels(labels: Record<string, string> | undefined): {
  Labels?: Record<string, string>;
} {
  return labels ? { Labels: labels } : {};
}

/**
 * An engine failure shown to a limited principal, without the ids of objects it
 * may not see: the engine names them in conflicts ("the container name "/x" is
 * already in use by container "<id>"", "image is being used by container <id>").
 * Other errors, and every error of an unlimited principal, are answered as is.
 */
export function concealEngineIds(context: GraphQLContext, error: unknown): unknown {
  if (!labelLimitOf(context) || !(error instanceof EngineError)) return error;
  const concealed = error.message.replace(/\b(?:sha256:)?[0-9a-f]{12,64}\b/g, '(hidden)');
  if (concealed === error.message) return error;
  error.message = concealed;
  return error;
}
