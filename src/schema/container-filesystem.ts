import { builder } from './builder.ts';
import { ContainerSizeRef, FilesystemChangeRef } from './refs.ts';

const FilesystemChangeKindEnum = builder.enumType('FilesystemChangeKind', {
  description: 'How a path differs from the image the container was created from.',
  values: {
    MODIFIED: { value: 0, description: 'Changed.' },
    ADDED: { value: 1, description: 'Created by the container.' },
    DELETED: { value: 2, description: 'Removed by the container.' },
  } as const,
});

ContainerSizeRef.implement({
  description: 'Disk space of a container.',
  fields: (t) => ({
    writableBytes: t.field({
      type: 'SafeInt',
      nullable: true,
      description: 'Size of the files it created or changed.',
      resolve: (s) => s.rw,
    }),
    rootFsBytes: t.field({
      type: 'SafeInt',
      nullable: true,
      description: 'Size of its whole filesystem, image included.',
      resolve: (s) => s.rootFs,
    }),
  }),
});

FilesystemChangeRef.implement({
  description: 'A path that differs from the image (`docker diff`).',
  fields: (t) => ({
    path: t.exposeString('Path', { description: 'Absolute path inside the container.' }),
    kind: t.field({
      type: FilesystemChangeKindEnum,
      description: 'How it changed.',
      resolve: (c) => c.Kind,
    }),
  }),
});
