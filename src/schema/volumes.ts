import { inspectVolume, type VolumeFilters } from '../docker/volumes.ts';
import { builder } from './builder.ts';
import { invalidArgument } from './errors.ts';
import { paginate } from './pagination.ts';
import { ContainerRef, toContainerRecord, VolumeRef } from './refs.ts';
import {
  checkLabelFilters,
  givenFields,
  LabelRef,
  OptionRef,
  parseEngineTime,
  toKeyValues,
} from './shared.ts';

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
    labels: t.field({
      type: [LabelRef],
      description: 'Labels, sorted by name.',
      resolve: ({ volume }) => toKeyValues(volume.Labels),
    }),
    label: t.string({
      nullable: true,
      description: 'The value of one label; null when it is not set.',
      args: { name: t.arg.string({ required: true, description: 'Label key.' }) },
      resolve: ({ volume: { Labels } }, { name }) =>
        Labels && Object.hasOwn(Labels, name) ? (Labels[name] ?? null) : null,
    }),
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
    labels: t.stringList({
      required: false,
      description: 'Labels as `key` or `key=value`; all must match.',
    }),
    names: t.stringList({ required: false, description: 'Parts of the name.' }),
  }),
});

function toVolumeFilters(
  filter: typeof VolumeFilterInput.$inferInput | null | undefined,
): VolumeFilters {
  if (!filter) return {};
  const given = givenFields(filter);
  checkLabelFilters('filter.labels', given.labels);
  return given;
}

builder.queryFields((t) => ({
  volumes: t.connection(
    {
      type: VolumeRef,
      description: 'Volumes, sorted by name.',
      args: {
        filter: t.arg({
          type: VolumeFilterInput,
          required: false,
          description: 'Which volumes to list.',
        }),
      },
      resolve: async (_root, args, context) => {
        const filters = toVolumeFilters(args.filter);
        const volumes = await context.loaders.volumes.list(filters);
        return paginate(
          volumes.map((volume) => ({ engine: context.engineName, volume })),
          args,
          ({ volume }) => volume.Name,
        );
      },
    },
    { name: 'VolumeConnection', description: 'A page of volumes.' },
    { name: 'VolumeEdge', description: 'A volume and its cursor.' },
  ),
  volume: t.field({
    type: VolumeRef,
    nullable: true,
    description: 'One volume by name; null when there is none.',
    args: { name: t.arg.string({ required: true, description: 'Volume name.' }) },
    resolve: async (_root, { name }, context) => {
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
        throw invalidArgument(
          'name',
          `"${name}" is not a volume name (letters, digits, "_", "." and "-", not first)`,
        );
      }
      const volume = await inspectVolume(context.docker, name);
      return volume ? { engine: context.engineName, volume } : null;
    },
  }),
}));
