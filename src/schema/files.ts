import { readImage } from '../accessors/image.ts';
import {
  type EngineContainerPathStat,
  goFileMode,
  hasModeBit,
  looksLikeArchive,
  putContainerArchive,
  statContainerPath,
} from '../docker/archive.ts';
import { EngineNotFoundError, InvalidInputError } from '../docker/errors.ts';
import { builder } from './builder.ts';
import { downloadLinks } from './download-links.ts';
import { invalidArgument } from './errors.ts';
import { mutationErrors } from './mutation-errors.ts';
import { engineReferenceOf } from './node-id.ts';
import { readBackContainer } from './read-back.ts';
import { type ContainerRecord, ContainerRef, ImageRef } from './refs.ts';
import { parseEngineTime } from './shared.ts';
import { peekUpload } from './uploads.ts';

// ---------------------------------------------------------------------------
// Paths and files in a container

/** Why `path` cannot name a file in a container, or null when it can. */
function pathProblem(path: string): string | null {
  if (!path.startsWith('/')) return `"${path}" is not an absolute path`;
  if (path.includes('\0')) return 'must not contain NUL';
  return null;
}

/** Checks a path argument of a query field. */
function checkPathArgument(path: string): void {
  const problem = pathProblem(path);
  if (problem !== null) throw invalidArgument('path', problem);
}

const ContainerFileTypeEnum = builder.enumType('ContainerFileType', {
  description: 'What kind of file a path in a container is.',
  values: {
    FILE: { description: 'A regular file.' },
    DIRECTORY: { description: 'A directory.' },
    SYMLINK: { description: 'A symbolic link (`linkTarget` says where it points).' },
    BLOCK_DEVICE: { description: 'A block device.' },
    CHAR_DEVICE: { description: 'A character device.' },
    NAMED_PIPE: { description: 'A named pipe (FIFO).' },
    SOCKET: { description: 'A unix domain socket.' },
    OTHER: { description: 'Something else the engine could not classify.' },
  } as const,
});

type ContainerFileType = (typeof ContainerFileTypeEnum)['$inferType'];

/** The file type in a Go `os.FileMode`, as the engine reports it. */
function fileTypeOf(mode: number): ContainerFileType {
  if (hasModeBit(mode, goFileMode.dir)) return 'DIRECTORY';
  if (hasModeBit(mode, goFileMode.symlink)) return 'SYMLINK';
  if (hasModeBit(mode, goFileMode.device)) {
    return hasModeBit(mode, goFileMode.charDevice) ? 'CHAR_DEVICE' : 'BLOCK_DEVICE';
  }
  if (hasModeBit(mode, goFileMode.namedPipe)) return 'NAMED_PIPE';
  if (hasModeBit(mode, goFileMode.socket)) return 'SOCKET';
  if (hasModeBit(mode, goFileMode.irregular)) return 'OTHER';
  return 'FILE';
}

/** Permission bits as `chmod` takes them, e.g. "0644" or "4755". */
function octalPermissions(mode: number): string {
  const special =
    (hasModeBit(mode, goFileMode.setuid) ? 4 : 0) +
    (hasModeBit(mode, goFileMode.setgid) ? 2 : 0) +
    (hasModeBit(mode, goFileMode.sticky) ? 1 : 0);
  return `${special}${(mode % 0o1000).toString(8).padStart(3, '0')}`;
}

const ContainerFileInfoRef = builder
  .objectRef<EngineContainerPathStat & { readonly path: string }>('ContainerFileInfo')
  .implement({
    description:
      'Facts about one path in a container’s filesystem (`HEAD /containers/{id}/archive`).',
    fields: (t) => ({
      path: t.exposeString('path', { description: 'The path asked about.' }),
      name: t.exposeString('name', { description: 'Its last component, e.g. "passwd".' }),
      type: t.field({
        type: ContainerFileTypeEnum,
        description: 'What kind of file it is.',
        resolve: (file) => fileTypeOf(file.mode),
      }),
      sizeBytes: t.field({
        type: 'SafeInt',
        description: 'Its size in bytes (for a directory, what the filesystem reports for it).',
        resolve: (file) => file.size,
      }),
      permissions: t.string({
        description:
          'Permission bits in octal as `chmod` takes them, e.g. "0644"; the first digit holds setuid (4), setgid (2) and sticky (1).',
        resolve: (file) => octalPermissions(file.mode),
      }),
      modifiedAt: t.field({
        type: 'DateTime',
        nullable: true,
        description: 'When its content last changed; null when the engine did not say.',
        resolve: (file) => parseEngineTime(file.mtime),
      }),
      linkTarget: t.string({
        nullable: true,
        description: 'Where a symbolic link points, as written in the link; null for other files.',
        resolve: (file) => file.linkTarget || null,
      }),
    }),
  });

builder.objectFields(ContainerRef, (t) => ({
  file: t.field({
    type: ContainerFileInfoRef,
    nullable: true,
    description:
      'Facts about a file or folder in its filesystem (running or not); null when the path does not exist. Symbolic links are described, not followed.',
    args: {
      path: t.arg.string({ required: true, description: 'Absolute path in the container.' }),
    },
    resolve: async (container, { path }, context) => {
      checkPathArgument(path);
      const stat = await statContainerPath(context.docker, container.id, path);
      return stat ? { ...stat, path } : null;
    },
  }),
  archiveUrl: t.string({
    description:
      'Link downloading a file or folder of it as a tar archive (`docker cp` out of it), relative to the origin that serves this GraphQL endpoint. Fetching it answers 404 (JSON) when the path does not exist. Fetching it takes the same bearer token as this endpoint, with the `dangerous` permission.',
    args: {
      path: t.arg.string({
        required: true,
        description: 'Absolute path of the file or folder in the container.',
      }),
    },
    resolve: (container, { path }) => {
      checkPathArgument(path);
      return downloadLinks.containerArchive(container.engine, container.id, path);
    },
  }),
  exportUrl: t.string({
    description:
      'Link downloading its whole filesystem as a tar archive (`docker export`), relative to the origin that serves this GraphQL endpoint. Fetching it takes the same bearer token as this endpoint, with the `dangerous` permission.',
    resolve: (container) => downloadLinks.containerExport(container.engine, container.id),
  }),
}));

builder.objectFields(ImageRef, (t) => ({
  saveUrl: t.string({
    description:
      'Link downloading the image with its layers as a tar archive (`docker save`) that `loadImages` and `docker load` read back, relative to the origin that serves this GraphQL endpoint. It names every tag of the image, so they come back on load; an untagged image is saved by id, without tags. Fetching it takes the same bearer token as this endpoint, with the `dangerous` permission.',
    resolve: async (image, _args, context) => {
      const named = await readImage(image, context.loaders).tags();
      return downloadLinks.imageSave(image.engine, named.length > 0 ? named : [image.id]);
    },
  }),
}));

// ---------------------------------------------------------------------------
// Copying into a container

const ContainerFilesPayloadRef = builder
  .objectRef<{ readonly container: ContainerRecord; readonly path: string }>(
    'ContainerFilesPayload',
  )
  .implement({
    description: 'A container whose files changed, read back after the change.',
    fields: (t) => ({
      container: t.field({
        type: ContainerRef,
        description: 'The container.',
        resolve: (payload) => payload.container,
      }),
      path: t.exposeString('path', {
        description: 'The directory the archive was extracted into.',
      }),
    }),
  });

builder.mutationFields((t) => ({
  copyToContainer: t.field({
    type: ContainerFilesPayloadRef,
    description:
      'Extracts an uploaded tar archive (plain, gzip, bzip2 or xz) into a directory of a container, running or not (`docker cp` into it). A missing directory is not found; a path that is a file, or a read-only root filesystem, is an engine failure.',
    errors: { types: [...mutationErrors] },
    args: {
      id: t.arg.string({
        required: true,
        description: 'The container: global ID, engine id, unique id prefix or name.',
      }),
      path: t.arg.string({
        required: true,
        description: 'Absolute path of an existing directory to extract the archive into.',
      }),
      archive: t.arg({
        type: 'File',
        required: true,
        description:
          'The tar archive, sent as a multipart upload; its entries are created relative to `path`.',
      }),
      noOverwriteDirNonDir: t.arg.boolean({
        required: false,
        defaultValue: false,
        description:
          'Fail instead of replacing an existing directory with a non-directory of the archive, or the other way round.',
      }),
      copyOwnership: t.arg.boolean({
        required: false,
        defaultValue: false,
        description:
          'Keep the user and group ids of the archive entries (`docker cp -a`); otherwise files belong to the container’s root.',
      }),
    },
    resolve: async (_root, args, context) => {
      const container = engineReferenceOf(context.engineName, 'Container', 'id', args.id);
      const problem = pathProblem(args.path);
      if (problem !== null) throw new InvalidInputError('path', problem);
      const upload = await peekUpload(args.archive, 512);
      if (!looksLikeArchive(upload.head)) {
        await upload.discard();
        throw new InvalidInputError(
          'archive',
          upload.head.length === 0
            ? 'the upload is empty'
            : 'is not a tar archive (plain, gzip, bzip2 or xz compressed)',
        );
      }
      await putContainerArchive(context.docker, container, args.path, upload.body, {
        noOverwriteDirNonDir: args.noOverwriteDirNonDir ?? false,
        copyOwnership: args.copyOwnership ?? false,
      });
      const changed = await readBackContainer(context, container);
      if (!changed) {
        throw new EngineNotFoundError('NOT_FOUND', `container "${container}" was removed`, 404);
      }
      return { container: changed, path: args.path };
    },
  }),
}));
