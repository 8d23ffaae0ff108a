import { GraphQLError } from 'graphql';
import { checkImageChanges } from '../docker/build.ts';
import { givenFields } from '../docker/given-fields.ts';
import {
  checkImageName,
  checkImageReference,
  checkPlatform,
  checkRepository,
  checkTag,
  checkTagReference,
  registryOf,
  repositoryOf,
  withDefaultTag,
} from '../docker/image-reference.ts';
import {
  type BuildCachePruneReport,
  commitContainer,
  type ImagePruneReport,
  type ImageRemoval,
  pruneBuildCache,
  pruneImages,
  pullImage,
  pushImage,
  removeImage,
  searchImages,
  tagImage,
} from '../docker/images.ts';
import { RegistryUnreachableError } from '../docker/progress.ts';
import { builder } from './builder.ts';
import { invalidArgument } from './errors.ts';
import { pruneLabelFilters } from './filter-inputs.ts';
import { changesForCreate, concealEngineIds } from './label-access.ts';
import { mutationErrors, registryMutationErrors } from './mutation-errors.ts';
import { engineReferenceOf } from './node-id.ts';
import { readBackImage } from './read-back.ts';
import { type ImageRecord, ImageRef } from './refs.ts';
import {
  invalidInput,
  registryAuthArg,
  spaceReclaimedField,
  toRegistryCredentials,
} from './shared.ts';

// ---------------------------------------------------------------------------------------------
// Payloads

const ImagePayloadRef = builder.objectRef<ImageRecord>('ImagePayload').implement({
  description: 'An image, read back after the change.',
  fields: (t) => ({
    image: t.field({ type: ImageRef, description: 'The image.', resolve: (image) => image }),
  }),
});

const PushImagePayloadRef = builder
  .objectRef<{ image: ImageRecord; digest: string | null }>('PushImagePayload')
  .implement({
    description: 'A pushed image, read back after the push.',
    fields: (t) => ({
      image: t.field({
        type: ImageRef,
        description: 'The image; its `digests` now include the pushed one.',
        resolve: (payload) => payload.image,
      }),
      digest: t.exposeString('digest', {
        nullable: true,
        description:
          'Digest of the manifest the registry stored, e.g. "sha256:…"; null when the engine did not report it.',
      }),
    }),
  });

const RemoveImagePayloadRef = builder.objectRef<ImageRemoval>('RemoveImagePayload').implement({
  description: 'What removing an image did (`docker rmi`).',
  fields: (t) => ({
    untagged: t.exposeStringList('untagged', {
      description: 'Names removed: tags ("repo:tag") and digests ("repo@sha256:…").',
    }),
    deleted: t.exposeStringList('deleted', {
      description:
        'Ids of the images deleted: the image itself once no name refers to it, and its untagged parents.',
    }),
  }),
});

const PruneBuildCachePayloadRef = builder
  .objectRef<BuildCachePruneReport>('PruneBuildCachePayload')
  .implement({
    description: 'What a build cache prune removed.',
    fields: (t) => ({
      cachesDeleted: t.exposeStringList('deleted', {
        description: 'Ids of the build cache records removed.',
      }),
      spaceReclaimedBytes: spaceReclaimedField(t),
    }),
  });

const PruneImagesPayloadRef = builder.objectRef<ImagePruneReport>('PruneImagesPayload').implement({
  description: 'What an image prune removed.',
  fields: (t) => ({
    imagesDeleted: t.exposeStringList('deleted', { description: 'Ids of the images deleted.' }),
    imagesUntagged: t.exposeStringList('untagged', {
      description:
        'Names removed from the deleted images: tags and digests. Empty on Podman for a prune with `dangling: false`: Podman does not report them.',
    }),
    spaceReclaimedBytes: spaceReclaimedField(t),
  }),
});

interface SearchResult {
  readonly name: string;
  readonly description: string;
  readonly stars: number;
  readonly official: boolean;
  readonly automated: boolean;
}

const ImageSearchResultRef = builder.objectRef<SearchResult>('ImageSearchResult').implement({
  description: 'A repository found on Docker Hub (`docker search`).',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Repository name, e.g. "library/busybox".' }),
    description: t.exposeString('description', { description: 'Its short description.' }),
    stars: t.exposeInt('stars', { description: 'How many users starred it.' }),
    official: t.exposeBoolean('official', {
      description: 'Whether it is one of Docker’s official images.',
    }),
    automated: t.exposeBoolean('automated', {
      description: 'Whether it is built automatically from a source repository.',
    }),
  }),
});

// ---------------------------------------------------------------------------------------------
// Fields

const searchLimitMax = 100;

builder.queryFields((t) => ({
  searchImages: t.field({
    type: [ImageSearchResultRef],
    description:
      'Searches Docker Hub through the engine (`docker search`). Fails with code REGISTRY_UNREACHABLE when the engine cannot reach it.',
    args: {
      term: t.arg.string({
        required: true,
        description:
          'What to search for on Docker Hub, e.g. "busybox"; a term naming another registry ("host:port/x") is refused.',
      }),
      limit: t.arg.int({
        required: false,
        description: `At most this many results (1 to ${searchLimitMax}); the registry's default (25) when omitted.`,
      }),
    },
    resolve: async (_root, { term, limit }, context) => {
      if (term.trim() === '') throw invalidArgument('term', 'must not be empty');
      // A term "host:port/x" makes the engine contact that host: any read token could
      // point the engine at internal services.
      if (registryOf(term) !== 'docker.io') {
        throw invalidArgument(
          'term',
          `searches Docker Hub only; ${JSON.stringify(term)} names the registry ${JSON.stringify(registryOf(term))}`,
        );
      }
      if (limit !== null && limit !== undefined && (limit < 1 || limit > searchLimitMax)) {
        throw invalidArgument('limit', `must be between 1 and ${searchLimitMax}, got ${limit}`);
      }
      try {
        const results = await searchImages(context.docker, term, limit ?? undefined);
        return results.map((result) => ({
          name: result.name,
          description: result.description,
          stars: result.star_count,
          official: result.is_official,
          automated: result.is_automated,
        }));
      } catch (error) {
        if (error instanceof RegistryUnreachableError) {
          throw new GraphQLError(error.message, {
            extensions: { code: 'REGISTRY_UNREACHABLE', registry: error.registry },
          });
        }
        throw error;
      }
    },
  }),
}));

builder.mutationFields((t) => ({
  pullImage: t.field({
    type: ImagePayloadRef,
    description:
      'Pulls an image from its registry (`docker pull`) and answers it once the pull has finished. A reference without tag or digest pulls "latest".',
    errors: {
      types: [...registryMutationErrors],
      union: { description: 'The pulled image, or why the pull failed.' },
    },
    args: {
      reference: t.arg.string({
        required: true,
        description:
          'What to pull: "[registry[:port]/]repository[:tag][@digest]", e.g. "127.0.0.1:5000/team/app:1.2".',
      }),
      platform: t.arg.string({
        required: false,
        description:
          'Platform to pull for a multi-platform image, "os/arch[/variant]", e.g. "linux/arm64"; the engine’s own when omitted.',
      }),
      auth: registryAuthArg(t.arg),
    },
    resolve: async (_root, { reference, platform, auth }, context) => {
      checkImageReference('reference', reference);
      const credentials = toRegistryCredentials('auth', auth);
      await pullImage(context.docker, {
        reference,
        ...(platform !== null && platform !== undefined
          ? { platform: checkPlatform('platform', platform) }
          : {}),
        ...(credentials ? { credentials } : {}),
      });
      return readBackImage(context, withDefaultTag(reference));
    },
  }),
  pushImage: t.field({
    type: PushImagePayloadRef,
    description:
      'Pushes one tag of an image to the registry its name starts with (`docker push`). A reference without tag pushes "latest".',
    errors: {
      types: [...registryMutationErrors],
      union: { description: 'The pushed image and its digest, or why the push failed.' },
    },
    args: {
      reference: t.arg.string({
        required: true,
        description: 'The local name to push, e.g. "127.0.0.1:5000/team/app:1.2".',
      }),
      auth: registryAuthArg(t.arg),
    },
    resolve: async (_root, { reference, auth }, context) => {
      const parsed = checkTagReference('reference', reference);
      const credentials = toRegistryCredentials('auth', auth);
      const repository = repositoryOf(parsed);
      const tag = parsed.tag ?? 'latest';
      const digest = await pushImage(context.docker, {
        repository,
        tag,
        ...(credentials ? { credentials } : {}),
      });
      return { image: await readBackImage(context, `${repository}:${tag}`), digest };
    },
  }),
  tagImage: t.field({
    type: ImagePayloadRef,
    description: 'Gives an image another name (`docker tag`); a name in use moves to this image.',
    errors: {
      types: [...mutationErrors],
      union: { description: 'The image under its new name, or why it was not tagged.' },
    },
    args: {
      source: t.arg.string({
        required: true,
        description: 'The image: global ID, id, or reference ("name:tag", "name@digest").',
      }),
      repository: t.arg.string({
        required: true,
        description: 'The new repository name, with its registry, e.g. "127.0.0.1:5000/team/app".',
      }),
      tag: t.arg.string({
        required: false,
        defaultValue: 'latest',
        description: 'The new tag.',
      }),
    },
    resolve: async (_root, args, context) => {
      const source = engineReferenceOf(context.engineName, 'Image', 'source', args.source);
      const repository = checkRepository('repository', args.repository);
      const tag = checkTag('tag', args.tag ?? 'latest');
      await tagImage(context.docker, source, repository, tag);
      return readBackImage(context, `${repository}:${tag}`);
    },
  }),
  removeImage: t.field({
    type: RemoveImagePayloadRef,
    description:
      'Removes a name of an image, and the image once no name refers to it (`docker rmi`). An image a container uses is a conflict unless `force` is set.',
    errors: {
      types: [...mutationErrors],
      union: { description: 'What was untagged and deleted, or why nothing was.' },
    },
    args: {
      reference: t.arg.string({
        required: true,
        description:
          'Global ID, id, or reference ("name:tag", "name@digest"). An id removes every name of the image, which needs `force` when it has several.',
      }),
      force: t.arg.boolean({
        required: false,
        defaultValue: false,
        description: 'Remove it even when a container uses it or it has several names.',
      }),
      noPrune: t.arg.boolean({
        required: false,
        defaultValue: false,
        description: 'Keep its untagged parent images.',
      }),
    },
    resolve: async (_root, args, context) => {
      const reference = engineReferenceOf(context.engineName, 'Image', 'reference', args.reference);
      return removeImage(context.docker, reference, {
        force: args.force ?? false,
        noPrune: args.noPrune ?? false,
      }).catch((error: unknown) => {
        // The engine names the containers that use the image, which may be others'.
        throw concealEngineIds(context, error);
      });
    },
  }),
  pruneImages: t.field({
    type: PruneImagesPayloadRef,
    description:
      'Removes dangling images, or every image no container uses (`docker image prune [-a]`).',
    errors: {
      types: [...mutationErrors],
      union: { description: 'What the prune removed, or why it failed.' },
    },
    args: {
      dangling: t.arg.boolean({
        required: false,
        defaultValue: true,
        description:
          'true: only dangling images (untagged, no child); false: every image no container uses, as `-a`.',
      }),
      labels: t.arg.stringList({
        required: false,
        description: 'Only images with these labels (`key` or `key=value`); all must match.',
      }),
      until: t.arg({
        type: 'DateTime',
        required: false,
        description: 'Only images created before this time.',
      }),
    },
    resolve: async (_root, { dangling, labels, until }, context) => {
      const scopedLabels = pruneLabelFilters(context, 'labels', labels);
      return pruneImages(context.docker, {
        dangling: dangling ?? true,
        ...(scopedLabels ? { labels: scopedLabels } : {}),
        ...(until ? { until } : {}),
      });
    },
  }),
  pruneBuildCache: t.field({
    type: PruneBuildCachePayloadRef,
    description:
      'Removes build cache (`docker builder prune`): the cache of every build of the engine, whoever ran it. Needs the `dangerous` permission, as builds do, and a token without label limits (build cache carries no labels).',
    errors: {
      types: [...mutationErrors],
      union: { description: 'What the prune removed, or why it failed.' },
    },
    args: {
      all: t.arg.boolean({
        required: false,
        defaultValue: false,
        description: 'true: all unused build cache (`--all`); false: only dangling cache.',
      }),
      keepStorageBytes: t.arg({
        type: 'SafeInt',
        required: false,
        description: 'Bytes of cache to keep (`--keep-storage`); the oldest is removed first.',
      }),
      unusedForSeconds: t.arg({
        type: 'SafeInt',
        required: false,
        description: 'Only cache unused for at least this many seconds (the `until` filter).',
      }),
    },
    resolve: async (_root, args, context) => {
      for (const name of ['keepStorageBytes', 'unusedForSeconds'] as const) {
        const value = args[name];
        if (value !== null && value !== undefined && value < 0) {
          throw invalidInput(name, `must not be negative, got ${value}`);
        }
      }
      return pruneBuildCache(context.docker, {
        all: args.all ?? false,
        ...givenFields({
          keepStorageBytes: args.keepStorageBytes,
          unusedForSeconds: args.unusedForSeconds,
        }),
      });
    },
  }),
  commitContainer: t.field({
    type: ImagePayloadRef,
    description:
      'Makes an image from a container’s filesystem and configuration (`docker commit`).',
    errors: {
      types: [...mutationErrors],
      union: { description: 'The committed image, or why no image was made.' },
    },
    args: {
      container: t.arg.string({
        required: true,
        description: 'Global ID, engine id, unique id prefix or name of the container.',
      }),
      repository: t.arg.string({
        required: false,
        description: 'Repository to name the image with; the image stays untagged when omitted.',
      }),
      tag: t.arg.string({
        required: false,
        description: 'Tag for `repository`; "latest" when omitted.',
      }),
      message: t.arg.string({
        required: false,
        description: 'Commit message, recorded as the image’s comment.',
      }),
      author: t.arg.string({
        required: false,
        description: 'Author, e.g. "Jane Doe <jane@example.com>".',
      }),
      changes: t.arg.stringList({
        required: false,
        description:
          'Dockerfile instructions applied to the image’s configuration, one per entry, e.g. `CMD ["sh"]` or `ENV A=1`: CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, USER, VOLUME or WORKDIR.',
      }),
      pause: t.arg.boolean({
        required: false,
        defaultValue: true,
        description: 'Pause the container while its filesystem is copied.',
      }),
    },
    resolve: async (_root, args, context) => {
      const container = engineReferenceOf(
        context.engineName,
        'Container',
        'container',
        args.container,
      );
      const name = checkImageName(args.repository, args.tag);
      checkImageChanges('changes', args.changes, 'a commit');
      // A token limited to labels gives them to the image (a LABEL change, applied last).
      const changes = changesForCreate(context, 'changes', args.changes);
      const id = await commitContainer(context.docker, {
        container,
        ...name,
        ...(args.message ? { comment: args.message } : {}),
        ...(args.author ? { author: args.author } : {}),
        ...(changes?.length ? { changes } : {}),
        pause: args.pause ?? true,
      });
      return readBackImage(context, id);
    },
  }),
}));
