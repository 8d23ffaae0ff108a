import type { GraphQLContext } from '../context.ts';
import type { EngineContainerCreateBody } from '../docker/container-spec.ts';
import {
  EngineConflictError,
  EngineError,
  EngineNotFoundError,
  InvalidInputError,
} from '../docker/errors.ts';
import type { EngineServiceSpec } from '../docker/service-spec.ts';
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
import { missingWords } from './scope-rules.ts';

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

/**
 * The engine key of an object (an id, id prefix or name, as {@link engineReferenceOf}
 * finds it) resolved inside what a limited principal sees: containers and
 * networks by their full id, images by the reference given, volumes by name;
 * null for an object it may not see, or that does not exist. The loaders match
 * an id prefix or name against the visible objects only, so that no engine
 * message about another object reaches the principal. Without a limit `key`
 * is answered as is, without an engine call.
 */
export async function visibleKey(
  context: GraphQLContext,
  typename: EngineObjectType,
  key: string,
): Promise<string | null> {
  if (!labelLimitOf(context)) return key;
  const { loaders } = context;
  switch (typename) {
    case 'Container':
      return (await loaders.containers.inspect.load(key))?.Id ?? null;
    case 'Image':
      return (await loaders.images.inspect.load(key)) ? key : null;
    case 'Volume':
      return (await loaders.volumes.inspect.load(key)) ? key : null;
    case 'Network':
      return (await loaders.networks.inspect.load(key))?.Id ?? null;
  }
}

/**
 * The engine reference an argument of a create names, checked to be visible to
 * a principal limited to labels; one it may not see answers the NotFoundError
 * `notFound` words for a missing one (the label-scope plugin checks the
 * target arguments of root fields the same way, from `scope-rules.ts`).
 */
async function visibleEngineReference(
  context: GraphQLContext,
  typename: EngineObjectType,
  field: string,
  value: string,
  notFound: (key: string) => string,
): Promise<string> {
  const key = engineReferenceOf(context.engineName, typename, field, value);
  const visible = await visibleKey(context, typename, key);
  if (visible === null) throw new EngineNotFoundError('NOT_FOUND', notFound(key), 404);
  return visible;
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
 * A mount of a container or of a service's tasks, as a limited principal may send it: a
 * named volume it may not see is refused as a name in use (the engine would mount the
 * existing one), and the volume the mount makes gets the limit's labels. Other mounts as given.
 */
async function limitVolumeMount<
  M extends {
    readonly Type?: string;
    readonly Source?: string;
    readonly VolumeOptions?: { readonly Labels?: Record<string, string> };
  },
>(context: GraphQLContext, limit: LabelLimit, at: string, mount: M): Promise<M> {
  if (mount.Type !== 'volume') return mount;
  if (mount.Source) {
    const existing = await inspectVolume(context.docker, mount.Source);
    if (existing && !isVolumeVisible(existing, limit, await context.loaders.scope.used())) {
      throw new InvalidInputError(`${at}.source`, nameInUseMessage('volume', mount.Source));
    }
  }
  const volumeLabels = labelsForCreate(context, `${at}.volumeLabels`, mount.VolumeOptions?.Labels);
  return { ...mount, VolumeOptions: { ...mount.VolumeOptions, ...givenLabels(volumeLabels) } };
}

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
  networkFields: readonly string[] = [`${field}.networkMode`],
): Promise<EngineContainerCreateBody> {
  const limit = labelLimitOf(context);
  if (!limit) return body;
  const labels = labelsForCreate(context, `${field}.labels`, body.Labels);
  const mounts = await Promise.all(
    (body.HostConfig.Mounts ?? []).map((mount, index) =>
      limitVolumeMount(context, limit, `${field}.mounts[${index}]`, mount),
    ),
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
        (key) => `join the network of container "${key}": ${missingWords('Container', key)}`,
      );
    }
  }
  // Every network it joins: the first is its NetworkMode, the others are connected.
  const networks = Object.keys(body.NetworkingConfig?.EndpointsConfig ?? {});
  const joined = networks.length > 0 ? networks : networkMode !== undefined ? [networkMode] : [];
  for (const [index, network] of joined.entries()) {
    if (BUILTIN_NETWORK_MODES.has(network) || network.startsWith('container:')) continue;
    await visibleEngineReference(
      context,
      'Network',
      networkFields[index] ?? `${field}.networks`,
      network,
      (key) => `connect to network "${key}": ${missingWords('Network', key)}`,
    );
  }
  for (const [index, entry] of (body.HostConfig.VolumesFrom ?? []).entries()) {
    const [container = ''] = entry.split(':');
    await visibleEngineReference(
      context,
      'Container',
      `${field}.volumesFrom[${index}].container`,
      container,
      (key) => `take the volumes of container "${key}": ${missingWords('Container', key)}`,
    );
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
 * A service spec a limited principal creates: every task is a container it
 * makes, so its mounts and networks are held as {@link limitContainerCreate}
 * holds a container's: a named volume it may not see is refused as a name in
 * use, the volumes the tasks make get the limit's labels, and each network
 * must be visible and is sent by its full id (the swarm resolves names and id
 * prefixes again, among networks the principal may not see); the tasks'
 * containers get the limit's labels, as the service does. Checked before
 * the engine call, so that the admission review never describes a hidden
 * network. Without a limit the spec is answered as is, without an engine call.
 */
export async function limitServiceCreate(
  context: GraphQLContext,
  field: string,
  spec: EngineServiceSpec,
): Promise<EngineServiceSpec> {
  const limit = labelLimitOf(context);
  if (!limit) return spec;
  const task = spec.TaskTemplate;
  const container = task.ContainerSpec;
  // The tasks' containers carry the limit's labels too, so that the principal sees them (and
  // their logs, stats and events) on the engines that run them.
  const containerLabels =
    container && labelsForCreate(context, `${field}.containerLabels`, container.Labels);
  const mounts =
    container?.Mounts &&
    (await Promise.all(
      container.Mounts.map((mount, index) =>
        limitVolumeMount(context, limit, `${field}.mounts[${index}]`, mount),
      ),
    ));
  const networks =
    task.Networks &&
    (await Promise.all(
      task.Networks.map(async (network, index) => {
        if (BUILTIN_NETWORK_MODES.has(network.Target)) return network;
        const id = await visibleEngineReference(
          context,
          'Network',
          `${field}.networks[${index}].target`,
          network.Target,
          (key) => `connect to network "${key}": ${missingWords('Network', key)}`,
        );
        return { ...network, Target: id };
      }),
    ));
  return {
    ...spec,
    TaskTemplate: {
      ...task,
      ...(container
        ? {
            ContainerSpec: {
              ...container,
              ...(mounts ? { Mounts: mounts } : {}),
              ...givenLabels(containerLabels),
            },
          }
        : {}),
      ...(networks ? { Networks: networks } : {}),
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
  throw nameInUse('volume', volume.Name);
}

/**
 * The one answer a limited principal gets for a name in use, whether the
 * object holding it is one it sees or not (names are engine-wide, so that the
 * refusal itself cannot be hidden: it tells that the name is taken, nothing
 * more), in place of the engine's words, which differ by case and name ids.
 */
function nameInUseMessage(kind: 'container' | 'volume' | 'network', name: string): string {
  return `the ${kind} name "${name}" is already in use`;
}

function nameInUse(kind: 'container' | 'volume' | 'network', name: string): EngineConflictError {
  return new EngineConflictError('CONFLICT', nameInUseMessage(kind, name), 409);
}

/** The engine's words for a name in use (a network's conflict may also be an overlapping subnet). */
const NAME_CLASH: Readonly<Record<'container' | 'network', RegExp>> = {
  container: /is already in use/,
  network: /already exists/,
};

/**
 * An engine failure of a create or rename that gives an object the name
 * `name`, shown to a limited principal: a conflict (the name is in use) is
 * answered {@link nameInUseMessage}; other failures as {@link concealEngineIds}
 * shows them. Every failure of an unlimited principal is answered as is.
 */
export function concealNameClash(
  context: GraphQLContext,
  error: unknown,
  kind: 'container' | 'network',
  name: string | undefined,
): unknown {
  if (!labelLimitOf(context) || name === undefined) return concealEngineIds(context, error);
  if (error instanceof EngineConflictError && NAME_CLASH[kind].test(error.message)) {
    return nameInUse(kind, name);
  }
  return concealEngineIds(context, error);
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
