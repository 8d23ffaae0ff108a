import { EngineNotFoundError, InvalidInputError } from '../docker/errors.ts';
import { givenFields } from '../docker/given-fields.ts';
import {
  createVolume,
  inspectVolume,
  type PruneReport,
  pruneVolumes,
  removeVolume,
  updateVolumeAvailability,
  VOLUME_UPDATE_API_VERSION,
  type VolumeFilters,
  type VolumeSpec,
} from '../docker/volumes.ts';
import { builder } from './builder.ts';
import { invalidArgument } from './errors.ts';
import { labelFilterField, pruneLabelFilters, toLabelFilter } from './filter-inputs.ts';
import { engineArgs, enginesArgs, listAcrossEngines } from './fleet.ts';
import { createdVolume, labelsForCreate } from './label-access.ts';
import { mutationErrors } from './mutation-errors.ts';
import { engineReferenceOf, lookupKeyOf } from './node-id.ts';
import { paginate } from './pagination.ts';
import { ContainerRef, toContainerRecord, type VolumeRecord, VolumeRef } from './refs.ts';
import { lookupOf } from './scope-rules.ts';
import {
  KeyValueInput,
  labelFields,
  OptionRef,
  parseEngineTime,
  spaceReclaimedField,
  toKeyValues,
  toStringMap,
} from './shared.ts';

const ClusterVolumeAvailabilityEnum = builder.enumType('ClusterVolumeAvailability', {
  description: 'Whether swarm tasks may use a cluster volume.',
  values: {
    ACTIVE: { value: 'active', description: 'Tasks may be scheduled with it.' },
    PAUSE: {
      value: 'pause',
      description: 'No new task may use it; tasks using it keep running.',
    },
    DRAIN: {
      value: 'drain',
      description: 'Tasks using it are stopped and scheduled elsewhere; no new task may use it.',
    },
  } as const,
});

const VolumeScopeEnum = builder.enumType('VolumeScope', {
  description: 'Where a volume is visible.',
  values: {
    LOCAL: { value: 'local', description: 'On this engine only.' },
    GLOBAL: { value: 'global', description: 'On every node of the cluster.' },
  } as const,
});

const VolumeUsageRef = builder
  .objectRef<{ Size: number; RefCount: number }>('VolumeUsage')
  .implement({
    description: 'Disk space and use of a volume, as `docker system df -v` computes it.',
    fields: (t) => ({
      sizeBytes: t.field({
        type: 'SafeInt',
        nullable: true,
        description: 'Bytes it holds; null when its driver cannot tell.',
        resolve: (usage) => (usage.Size >= 0 ? usage.Size : null),
      }),
      refCount: t.int({
        nullable: true,
        description: 'Containers that reference it; null when its driver cannot tell.',
        resolve: (usage) => (usage.RefCount >= 0 ? usage.RefCount : null),
      }),
    }),
  });

VolumeRef.implement({
  description: 'A Docker volume.',
  fields: (t) => ({
    name: t.string({ description: 'Its unique name.', resolve: ({ volume }) => volume.Name }),
    driver: t.string({
      description: 'Volume driver, e.g. "local".',
      resolve: ({ volume }) => volume.Driver,
    }),
    mountpoint: t.string({
      description: 'Where its data lives on the host.',
      resolve: ({ volume }) => volume.Mountpoint,
    }),
    createdAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it was created; null when the driver does not say.',
      resolve: ({ volume }) => parseEngineTime(volume.CreatedAt),
    }),
    scope: t.field({
      type: VolumeScopeEnum,
      description: 'Where it is visible.',
      resolve: ({ volume }) => volume.Scope,
    }),
    ...labelFields(t, ({ volume }) => volume.Labels),
    options: t.field({
      type: [OptionRef],
      description: 'Driver options it was created with.',
      resolve: ({ volume }) => toKeyValues(volume.Options),
    }),
    usage: t.field({
      type: VolumeUsageRef,
      nullable: true,
      description:
        'Size and reference count. Slow: computed by the engine for all volumes at once (`/system/df`); null when unknown.',
      resolve: async ({ volume }, _args, context) => {
        const usage = await context.loaders.system.diskUsage();
        return (
          usage.Volumes?.find((candidate) => candidate.Name === volume.Name)?.UsageData ?? null
        );
      },
    }),
    containers: t.field({
      type: [ContainerRef],
      description: 'Containers that mount it, running or not, newest first.',
      resolve: async ({ engine, volume }, _args, context) => {
        const containers = await context.loaders.containers.all();
        return containers
          .filter((c) =>
            c.Mounts.some((mount) => mount.Type === 'volume' && mount.Name === volume.Name),
          )
          .map((c) => toContainerRecord(engine, c));
      },
    }),
  }),
});

const VolumeFilterInput = builder.inputType('VolumeFilter', {
  description: 'Which volumes to list. Conditions of different fields must all hold.',
  fields: (t) => ({
    dangling: t.boolean({
      required: false,
      description: 'true: only volumes no container uses; false: only used ones.',
    }),
    drivers: t.stringList({ required: false, description: 'Volume drivers.' }),
    labels: labelFilterField(t),
    names: t.stringList({ required: false, description: 'Parts of the name.' }),
  }),
});

function toVolumeFilters(
  filter: typeof VolumeFilterInput.$inferInput | null | undefined,
): VolumeFilters {
  return toLabelFilter(filter);
}

/** How `volume(…)` names its object: from the label-scope table. */
const VOLUME_LOOKUP = lookupOf('volume');

builder.queryFields((t) => ({
  volumes: t.connection(
    {
      type: VolumeRef,
      description: 'Volumes of every engine asked, sorted by name, then by engine name.',
      args: {
        ...enginesArgs,
        filter: t.arg({
          type: VolumeFilterInput,
          required: false,
          description: 'Which volumes to list.',
        }),
      },
      resolve: async (_root, args, context, info) => {
        const filters = toVolumeFilters(args.filter);
        const volumes = await listAcrossEngines(context, info, args.engines, async (bound) =>
          (await bound.loaders.volumes.list(filters)).map((volume) => ({
            engine: bound.engineName,
            volume,
          })),
        );
        return paginate(volumes, args, ({ engine, volume }) => `${volume.Name}\u0000${engine}`);
      },
    },
    { name: 'VolumeConnection', description: 'A page of volumes.' },
    { name: 'VolumeEdge', description: 'A volume and its cursor.' },
  ),
  volume: t.field({
    type: VolumeRef,
    nullable: true,
    description: 'One volume by name or global ID; null when there is none.',
    args: {
      ...engineArgs,
      name: t.arg.string({
        required: true,
        description:
          'Volume name, or global ID (the `id` of a Volume, which also names its engine).',
      }),
    },
    resolve: async (_root, args, context) => {
      const name = lookupKeyOf(() => context.engineName, VOLUME_LOOKUP, args.name);
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
        throw invalidArgument(
          'name',
          `"${name}" is not a volume name (letters, digits, "_", "." and "-", not first)`,
        );
      }
      // Through the loader: a volume the principal may not see is answered as missing.
      const volume = await context.loaders.volumes.inspect.load(name);
      return volume ? { engine: context.engineName, volume } : null;
    },
  }),
}));

// ---------------------------------------------------------------------------
// Mutations

const volumeNamePattern = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

const VolumePayloadRef = builder
  .objectRef<{ engine: string; volume: VolumeRecord['volume'] }>('VolumePayload')
  .implement({
    description: 'A volume, read back after the change.',
    fields: (t) => ({
      volume: t.field({
        type: VolumeRef,
        description: 'The volume.',
        resolve: (payload) => payload,
      }),
    }),
  });

const RemoveVolumePayloadRef = builder
  .objectRef<{ name: string }>('RemoveVolumePayload')
  .implement({
    description: 'A removed volume.',
    fields: (t) => ({
      name: t.exposeString('name', { description: 'Name of the volume that was removed.' }),
    }),
  });

const PruneVolumesPayloadRef = builder.objectRef<PruneReport>('PruneVolumesPayload').implement({
  description: 'What a volume prune removed.',
  fields: (t) => ({
    volumesDeleted: t.exposeStringList('deleted', { description: 'Names of the volumes removed.' }),
    spaceReclaimedBytes: spaceReclaimedField(t),
  }),
});

const CreateVolumeInput = builder.inputType('CreateVolumeInput', {
  description: 'A volume to create (`docker volume create`).',
  fields: (t) => ({
    name: t.string({
      required: false,
      description:
        'Its name (letters, digits, "_", "." and "-"); the engine picks one when omitted.',
    }),
    driver: t.string({ required: false, description: 'Volume driver; "local" when omitted.' }),
    driverOptions: t.field({
      type: [KeyValueInput],
      required: false,
      description:
        'Driver options, e.g. type=tmpfs, device=tmpfs, o=size=64m for the local driver.',
    }),
    labels: t.field({ type: [KeyValueInput], required: false, description: 'Labels to set.' }),
  }),
});

function checkVolumeName(field: string, name: string) {
  if (!volumeNamePattern.test(name)) {
    throw new InvalidInputError(
      field,
      `"${name}" is not a volume name: at least two of letters, digits, "_", "." and "-", starting with a letter or digit`,
    );
  }
}

builder.mutationFields((t) => ({
  createVolume: t.field({
    type: VolumePayloadRef,
    description:
      'Creates a volume. Creating one with the name of an existing volume answers that volume.',
    errors: { types: [...mutationErrors] },
    args: { input: t.arg({ type: CreateVolumeInput, required: true, description: 'The volume.' }) },
    resolve: async (_root, { input }, context) => {
      if (input.name !== null && input.name !== undefined)
        checkVolumeName('input.name', input.name);
      const spec: VolumeSpec = {
        ...(input.name ? { name: input.name } : {}),
        ...(input.driver ? { driver: input.driver } : {}),
        ...givenFields({
          driverOptions: toStringMap('input.driverOptions', input.driverOptions),
          // A token limited to labels gives them to what it creates.
          labels: labelsForCreate(
            context,
            'input.labels',
            toStringMap('input.labels', input.labels),
          ),
        }),
      };
      const volume = await createdVolume(context, await createVolume(context.docker, spec));
      return { engine: context.engineName, volume };
    },
  }),
  updateVolume: t.field({
    type: VolumePayloadRef,
    description: `Changes whether swarm tasks may use a cluster volume (\`docker volume update --availability\`, \`PUT /volumes/{name}\`), the one setting of a volume the engine lets change. Needs Engine API ${VOLUME_UPDATE_API_VERSION}: an engine that speaks an older version answers NotSupportedError naming it; a volume that is not a cluster volume is an InvalidInputError on \`name\`.`,
    errors: { types: [...mutationErrors] },
    args: {
      name: t.arg.string({ required: true, description: 'Volume name, or its global ID.' }),
      availability: t.arg({
        type: ClusterVolumeAvailabilityEnum,
        required: true,
        description: 'Its new availability.',
      }),
    },
    resolve: async (_root, { name, availability }, context) => {
      const volume = engineReferenceOf(context.engineName, 'Volume', 'name', name);
      checkVolumeName('name', volume);
      await updateVolumeAvailability(context.docker, volume, availability);
      const updated = await inspectVolume(context.docker, volume);
      if (!updated) {
        throw new EngineNotFoundError(
          'NOT_FOUND',
          `volume "${volume}" is gone: it was removed right after the change`,
          404,
        );
      }
      return { engine: context.engineName, volume: updated };
    },
  }),
  removeVolume: t.field({
    type: RemoveVolumePayloadRef,
    description: 'Removes a volume. A volume a container uses is a conflict unless `force` is set.',
    errors: { types: [...mutationErrors] },
    args: {
      name: t.arg.string({ required: true, description: 'Volume name, or its global ID.' }),
      force: t.arg.boolean({
        required: false,
        defaultValue: false,
        description: 'Remove it even when a container uses it.',
      }),
    },
    resolve: async (_root, { name, force }, context) => {
      const volume = engineReferenceOf(context.engineName, 'Volume', 'name', name);
      checkVolumeName('name', volume);
      await removeVolume(context.docker, volume, force ?? false);
      return { name: volume };
    },
  }),
  pruneVolumes: t.field({
    type: PruneVolumesPayloadRef,
    description: 'Removes the local volumes no container uses (`docker volume prune`).',
    errors: { types: [...mutationErrors] },
    args: {
      labels: t.arg.stringList({
        required: false,
        description: 'Only volumes with these labels (`key` or `key=value`).',
      }),
    },
    resolve: async (_root, { labels }, context) => {
      const scopedLabels = pruneLabelFilters(context, 'labels', labels);
      return pruneVolumes(context.docker, scopedLabels ? { labels: scopedLabels } : {});
    },
  }),
}));
