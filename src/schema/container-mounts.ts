import { MountTypeEnum } from './container-enums.ts';
import { ContainerMountRef, VolumeRef } from './refs.ts';

ContainerMountRef.implement({
  description: 'A filesystem mounted into a container.',
  fields: (t) => ({
    type: t.field({
      type: MountTypeEnum,
      description: 'What is mounted.',
      resolve: ({ mount }) =>
        (mount.Type as 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'cluster' | undefined) ?? 'volume',
    }),
    name: t.string({
      nullable: true,
      description: 'Volume name, for volume mounts.',
      resolve: ({ mount }) => mount.Name || null,
    }),
    source: t.string({
      nullable: true,
      description: 'Host path of a bind mount, or where a volume lives on the host.',
      resolve: ({ mount }) => mount.Source || null,
    }),
    destination: t.string({
      description: 'Path inside the container.',
      resolve: ({ mount }) => mount.Destination,
    }),
    driver: t.string({
      nullable: true,
      description: 'Volume driver, for volume mounts.',
      resolve: ({ mount }) => mount.Driver || null,
    }),
    mode: t.string({
      nullable: true,
      description: 'Mount options as given, e.g. "z" or "ro".',
      resolve: ({ mount }) => mount.Mode || null,
    }),
    readWrite: t.boolean({
      description: 'Whether the container may write to it.',
      resolve: ({ mount }) => mount.RW ?? true,
    }),
    propagation: t.string({
      nullable: true,
      description: 'Bind propagation, e.g. "rprivate".',
      resolve: ({ mount }) => mount.Propagation || null,
    }),
    volume: t.field({
      type: VolumeRef,
      nullable: true,
      description: 'The mounted volume; null for other mounts or when it no longer exists.',
      resolve: async ({ mount, engine }, _args, context) => {
        if (mount.Type !== 'volume' || !mount.Name) return null;
        const volume = await context.loaders.volumes.byName.load(mount.Name);
        return volume ? { engine, volume } : null;
      },
    }),
  }),
});
