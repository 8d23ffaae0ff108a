import type { ArgBuilder } from '@pothos/core';
import type { GraphQLContext } from '../context.ts';
import {
  type ArchiveBody,
  ArchiveRefusedError,
  BUILD_LOG_LIMITS,
  type BuildResult,
  buildImage,
  buildRefusal,
  checkImageChanges,
  IMAGE_CHANGE_INSTRUCTIONS,
  importImage,
  loadImages,
} from '../docker/build.ts';
import {
  type CheckedBuild,
  checkBuild,
  checkImportUrl,
  refusalField,
} from '../docker/build-spec.ts';
import type { DockerClient } from '../docker/client.ts';
import { BuildFailedError, EngineError, InvalidInputError } from '../docker/errors.ts';
import { givenFields } from '../docker/given-fields.ts';
import { checkImageName, checkPlatform } from '../docker/image-reference.ts';
import { type BuilderTypes, builder } from './builder.ts';
import { ImageProgressRef, progressOf } from './image-progress.ts';
import { changesForCreate, labelsForCreate } from './label-access.ts';
import {
  MutationErrorInterface,
  mutationErrors,
  registryMutationErrors,
} from './mutation-errors.ts';
import { readBackImage } from './read-back.ts';
import { type ImageRecord, ImageRef } from './refs.ts';
import { KeyValueInput } from './shared.ts';
import { uploadBody } from './uploads.ts';

/** The cap of build logs, in words. */
const logCap = `${BUILD_LOG_LIMITS.maxLines} lines, ${BUILD_LOG_LIMITS.maxChars} characters, ${BUILD_LOG_LIMITS.maxLineChars} per line`;

// Errors

builder.objectType(BuildFailedError, {
  name: 'BuildFailedError',
  description:
    'A build step failed (a `RUN` command exited non-zero, a `COPY` source is missing, ...). `message` has the engine’s words; `log` the output up to the failure.',
  interfaces: [MutationErrorInterface],
  isTypeOf: (value) => value instanceof BuildFailedError,
  fields: (t) => ({
    log: t.stringList({
      description:
        'Build output up to the failure, one entry per line, without colour codes or line ends.',
      resolve: (error) => [...error.log],
    }),
    logTruncated: t.exposeBoolean('logTruncated', {
      description: `Whether the output was longer than the cap (${logCap}): the oldest lines were dropped or long lines cut.`,
    }),
  }),
});

/** The errors of a build: it pulls `FROM` images, and a failed step comes before the engine's other failures. */
const buildMutationErrors = [
  ...registryMutationErrors.filter((error) => error !== EngineError),
  BuildFailedError,
  EngineError,
] as const;

// Payloads

interface BuildImageResult {
  readonly image: ImageRecord;
  readonly log: string[];
  readonly logTruncated: boolean;
}

const BuildImagePayloadRef = builder.objectRef<BuildImageResult>('BuildImagePayload').implement({
  description: 'A built image, read back after the build, and the build’s output.',
  fields: (t) => ({
    image: t.field({
      type: ImageRef,
      description: 'The image the build made (its last stage, or the `target` stage).',
      resolve: (payload) => payload.image,
    }),
    log: t.exposeStringList('log', {
      description:
        'Build output, one entry per line (step headers, command output, "Successfully built"), without colour codes or line ends.',
    }),
    logTruncated: t.exposeBoolean('logTruncated', {
      description: `Whether the output was longer than the cap (${logCap}): the oldest lines were dropped or long lines cut.`,
    }),
  }),
});

const ImportImagePayloadRef = builder
  .objectRef<{ image: ImageRecord }>('ImportImagePayload')
  .implement({
    description: 'An imported image, read back after the import.',
    fields: (t) => ({
      image: t.field({
        type: ImageRef,
        description: 'The image made from the archive: one layer holding the whole file system.',
        resolve: (payload) => payload.image,
      }),
    }),
  });

const LoadImagesPayloadRef = builder
  .objectRef<{ images: ImageRecord[] }>('LoadImagesPayload')
  .implement({
    description: 'The images a `docker save` archive held, read back after loading.',
    fields: (t) => ({
      images: t.field({
        type: [ImageRef],
        description: 'The images loaded, in the order the engine reported them, each once.',
        resolve: (payload) => payload.images,
      }),
    }),
  });

// Inputs

const BuildFileInput = builder.inputType('BuildFileInput', {
  description: 'A text file placed in the build context beside an inline Dockerfile.',
  fields: (t) => ({
    path: t.string({
      required: true,
      description:
        'Path in the context, relative with "/" between folders, e.g. "app/run.sh"; folders are made as needed.',
    }),
    content: t.string({ required: true, description: 'The file’s text, written as UTF-8.' }),
    mode: t.int({
      required: false,
      description: 'Permission bits as a number, e.g. 493 for 0o755; 420 (0o644) when omitted.',
    }),
  }),
});

const RegistryAuthForBuild = builder.inputType('RegistryAuthForBuild', {
  description:
    'Credentials for one registry a build’s `FROM` images come from: a username and password, or an identity token. Sent to the engine only (`X-Registry-Config`); never logged, echoed or returned.',
  fields: (t) => ({
    registry: t.string({
      required: true,
      description:
        'The registry host as image references name it, e.g. "registry.example.com:5000".',
    }),
    username: t.string({ required: false, description: 'User name at the registry.' }),
    password: t.string({
      required: false,
      description: 'Password or access token for `username`.',
    }),
    identityToken: t.string({
      required: false,
      description: 'An identity token from a registry login, instead of username and password.',
    }),
  }),
});

const BuildImageInput = builder.inputType('BuildImageInput', {
  description:
    'An image to build (`docker build`), from an inline Dockerfile plus files, from an uploaded context (the `context` argument), or from a remote context the engine fetches. Exactly one of `dockerfile`, `remoteContext` and `context` is given.',
  fields: (t) => ({
    remoteContext: t.string({
      required: false,
      description:
        'A URL the engine fetches the build context from (`docker build URL`): a Git repository (an https:// URL ending in ".git" or a git:// URL, with an optional "#ref:folder") or an http(s) URL of a tar archive. Without credentials in the URL; `dockerfilePath` is the Dockerfile’s path in it. The engine, not dockergraph, makes the request.',
    }),
    registryAuth: t.field({
      type: [RegistryAuthForBuild],
      required: false,
      description:
        'Credentials for the registries of the `FROM` images, one entry per registry (`X-Registry-Config`).',
    }),
    dockerfile: t.string({
      required: false,
      description: 'Text of an inline Dockerfile; the context is made of it and `files`.',
    }),
    files: t.field({
      type: [BuildFileInput],
      required: false,
      description: 'Files placed in the context beside an inline Dockerfile, for `COPY` and `ADD`.',
    }),
    dockerfilePath: t.string({
      required: false,
      description:
        'Path of the Dockerfile inside the context: where it is in an uploaded context, where the inline one is placed otherwise. "Dockerfile" when omitted.',
    }),
    tags: t.stringList({
      required: false,
      description: 'References to tag the image with, e.g. "app:1.0" or "127.0.0.1:5000/app".',
    }),
    buildArgs: t.field({
      type: [KeyValueInput],
      required: false,
      description: 'Values of the Dockerfile’s `ARG`s (`--build-arg`).',
    }),
    labels: t.field({
      type: [KeyValueInput],
      required: false,
      description: 'Labels set on the image, besides those of the Dockerfile.',
    }),
    target: t.string({
      required: false,
      description: 'Stage of a multi-stage Dockerfile to build and stop at (`FROM … AS name`).',
    }),
    noCache: t.boolean({
      required: false,
      description: 'Run every step again instead of reusing cached layers.',
    }),
    pull: t.boolean({
      required: false,
      description: 'Pull the `FROM` images even when they are present, for their newest version.',
    }),
    platform: t.string({
      required: false,
      description: 'Platform to build for, `os/arch[/variant]`, e.g. "linux/amd64".',
    }),
    networkMode: t.string({
      required: false,
      description:
        'Network of the `RUN` steps (`--network`): "bridge" (the default), "host", "none" or a network name.',
    }),
    extraHosts: t.stringList({
      required: false,
      description: 'Extra /etc/hosts entries of the `RUN` steps (`--add-host`), "host:ip".',
    }),
    cacheFrom: t.stringList({
      required: false,
      description: 'Images whose layers the build may reuse as cache (`--cache-from`).',
    }),
    cpuShares: t.int({
      required: false,
      description: 'Relative CPU weight of the `RUN` steps (`--cpu-shares`).',
    }),
    cpusetCpus: t.string({
      required: false,
      description: 'CPUs the `RUN` steps may run on (`--cpuset-cpus`), e.g. "0-1".',
    }),
    cpuPeriodMicroseconds: t.int({
      required: false,
      description: 'CFS period of the `RUN` steps (`--cpu-period`).',
    }),
    cpuQuotaMicroseconds: t.int({
      required: false,
      description: 'CPU time per period the `RUN` steps may use (`--cpu-quota`).',
    }),
    memoryBytes: t.field({
      type: 'SafeInt',
      required: false,
      description: 'Memory limit of the `RUN` steps (`--memory`), at least 6 MiB.',
    }),
    memorySwapBytes: t.field({
      type: 'SafeInt',
      required: false,
      description:
        'Memory plus swap of the `RUN` steps (`--memory-swap`), at least `memoryBytes`; -1 for unlimited swap.',
    }),
  }),
});

/** A build by a token limited to labels gives them to its image (the engine applies them last). */
function withLimitLabels(context: GraphQLContext, build: CheckedBuild): CheckedBuild {
  const labels = labelsForCreate(context, 'input.labels', build.options.labels);
  return labels ? { ...build, options: { ...build.options, labels } } : build;
}

/**
 * Runs a checked build, telling `onLine` each line of output as it comes. A request the
 * engine refused before building becomes an InvalidInputError naming the input at fault.
 */
async function runBuild(
  docker: DockerClient,
  build: CheckedBuild,
  onLine?: (line: string) => void,
): Promise<BuildResult> {
  return buildImage(docker, { ...build.options, ...(onLine ? { onLine } : {}) }).catch(
    (error: unknown) => {
      const refusal = buildRefusal(error);
      if (refusal === null || !(error instanceof EngineError)) throw error;
      throw new InvalidInputError(
        refusalField(refusal, build.inline, build.remote),
        error.message,
        {
          cause: error,
        },
      );
    },
  );
}

// Mutations

/** The arguments of `buildImage` and `buildImageProgress`: the build and its uploaded context. */
function buildArgs(arg: ArgBuilder<BuilderTypes>) {
  return {
    input: arg({ type: BuildImageInput, required: true, description: 'The build.' }),
    context: arg({
      type: 'File',
      required: false,
      description:
        'An uploaded build context: a tar archive (optionally gzip, bzip2 or xz compressed) holding the Dockerfile and the files it uses. Instead of `input.dockerfile`.',
    }),
  };
}

builder.mutationFields((t) => ({
  buildImage: t.field({
    type: BuildImagePayloadRef,
    description:
      'Builds an image (`docker build`, classic builder) and returns it with the build output. A failing step answers BuildFailedError with the output so far; a missing `FROM` image NotFoundError.',
    errors: { types: [...buildMutationErrors] },
    args: buildArgs(t.arg),
    resolve: async (_root, { input, context: upload }, context) => {
      const build = withLimitLabels(
        context,
        checkBuild(input, upload ? () => uploadBody(upload) : null),
      );
      const result = await runBuild(context.docker, build);
      return {
        image: await readBackImage(context, result.imageId),
        log: result.log.lines,
        logTruncated: result.log.truncated,
      };
    },
  }),
  importImage: t.field({
    type: ImportImagePayloadRef,
    description:
      'Makes an image from a tar archive of a file system (`docker import`), e.g. a container export: uploaded (`archive`) or downloaded by the engine (`fromUrl`). Exactly one of them is given.',
    errors: { types: [...mutationErrors] },
    args: {
      archive: t.arg({
        type: 'File',
        required: false,
        description: 'A tar archive of the file system (optionally compressed).',
      }),
      fromUrl: t.arg.string({
        required: false,
        description:
          'Instead of `archive`: an http(s) URL of the tar archive, which the engine (not dockergraph) downloads (`docker import URL`). Without credentials in the URL.',
      }),
      repository: t.arg.string({
        required: false,
        description: 'Repository to tag the image into, e.g. "team/app"; untagged when omitted.',
      }),
      tag: t.arg.string({
        required: false,
        description: 'Tag within `repository`; "latest" when omitted.',
      }),
      message: t.arg.string({
        required: false,
        description: 'Commit message recorded in the image (its `comment`).',
      }),
      changes: t.arg.stringList({
        required: false,
        description: `Dockerfile instructions applied to the image's configuration, e.g. 'CMD ["sh"]' (${IMAGE_CHANGE_INSTRUCTIONS.join(', ')}).`,
      }),
      platform: t.arg.string({
        required: false,
        description:
          'Platform recorded in the image, `os/arch[/variant]`; the engine’s own when omitted.',
      }),
    },
    resolve: async (_root, args, context) => {
      const source = importSource(args.archive, args.fromUrl);
      const name = checkImageName(args.repository, args.tag);
      checkImageChanges('changes', args.changes, 'an import');
      // A token limited to labels gives them to the image (a LABEL change, applied last).
      const changes = changesForCreate(context, 'changes', args.changes);
      if (args.platform !== null && args.platform !== undefined) {
        checkPlatform('platform', args.platform);
      }
      const imageId = await importImage(context.docker, {
        ...source,
        ...name,
        ...givenFields({
          message: args.message,
          changes,
          platform: args.platform,
        }),
      }).catch((error: unknown) => {
        throw asArchiveError(error);
      });
      return { image: await readBackImage(context, imageId) };
    },
  }),
  loadImages: t.field({
    type: LoadImagesPayloadRef,
    description:
      'Loads the images of an uploaded `docker save` archive (`docker load`) and returns them.',
    errors: { types: [...mutationErrors] },
    args: {
      archive: t.arg({
        type: 'File',
        required: true,
        description:
          'A tar archive as `docker save` (or `GET /images/{name}/get`) writes it (optionally compressed).',
      }),
    },
    resolve: async (_root, { archive }, context) => {
      const { loaded } = await loadImages(context.docker, uploadBody(archive)).catch(
        (error: unknown) => {
          throw asArchiveError(error);
        },
      );
      const images = new Map<string, ImageRecord>();
      for (const reference of loaded) {
        const image = await readBackImage(context, reference);
        if (!images.has(image.id)) images.set(image.id, image);
      }
      return { images: [...images.values()] };
    },
  }),
}));

/** The archive an import reads: an upload or a URL, exactly one; checked before any engine call. */
function importSource(
  archive: File | null | undefined,
  fromUrl: string | null | undefined,
): { archive: ArchiveBody } | { fromUrl: string } {
  if (archive && fromUrl !== null && fromUrl !== undefined) {
    throw new InvalidInputError('fromUrl', 'give an uploaded archive or a URL, not both');
  }
  if (fromUrl !== null && fromUrl !== undefined)
    return { fromUrl: checkImportUrl('fromUrl', fromUrl) };
  if (!archive) throw new InvalidInputError('archive', 'give an uploaded archive or fromUrl');
  return { archive: uploadBody(archive) };
}

/** The engine's refusal of an uploaded archive names the `archive` argument. */
function asArchiveError(error: unknown): unknown {
  if (error instanceof ArchiveRefusedError) {
    return new InvalidInputError('archive', error.message, { cause: error });
  }
  return error;
}

// Subscriptions

builder.subscriptionField('buildImageProgress', (t) =>
  t.field({
    type: ImageProgressRef,
    description:
      'Builds an image like the `buildImage` mutation and streams its output line by line (step headers such as "Step 2/5 : RUN make", command output); the last message holds the built image (DONE) or why the build failed (FAILED, e.g. BUILD_FAILED for a failing step). With an uploaded `context` it is sent as an HTTP multipart request, not over WebSocket.',
    args: buildArgs(t.arg),
    subscribe: (_root, { input, context: upload }, context) => {
      const build = withLimitLabels(
        context,
        checkBuild(input, upload ? () => uploadBody(upload) : null),
      );
      return progressOf(context, async (report, signal) => {
        const result = await runBuild(context.docker.withSignal(signal), build, (line) =>
          report({ event: null, line }),
        );
        return result.imageId;
      });
    },
    resolve: (message) => message,
  }),
);
