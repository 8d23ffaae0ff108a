import type { GraphQLContext } from '../context.ts';
import type { EngineDistributionInspect } from '../docker/distribution.ts';
import { EngineError, EngineNotFoundError, RegistryAuthError } from '../docker/errors.ts';
import {
  checkImageReference,
  parseImageReference,
  registryOf,
  repositoryOf,
  withDefaultTag,
} from '../docker/image-reference.ts';
import { RegistryUnreachableError } from '../docker/progress.ts';
import type { RegistryCredentials } from '../docker/registry-auth.ts';
import { AdmissionDeniedError } from '../security/admission.ts';
import { builder } from './builder.ts';
import { ContainerRef, ImageRef } from './refs.ts';
import { RegistryAuthInput, registryAuthArg, toRegistryCredentials } from './shared.ts';

/**
 * What registries hold (`GET /distribution/{name}/json`) and, built on it, whether
 * a newer image is there for a local one: the update checks of images and containers.
 *
 * @module
 */

interface DistributionRecord {
  readonly reference: string;
  readonly answer: EngineDistributionInspect;
}

const PlatformRef = builder
  .objectRef<{ os: string; architecture: string; variant?: string; 'os.version'?: string }>(
    'RegistryPlatform',
  )
  .implement({
    description: 'A platform an image in a registry is built for.',
    fields: (t) => ({
      os: t.exposeString('os', { description: 'Operating system, e.g. "linux".' }),
      architecture: t.exposeString('architecture', {
        description: 'CPU architecture, e.g. "amd64", "arm64".',
      }),
      variant: t.string({
        nullable: true,
        description: 'CPU variant, e.g. "v8"; null when none.',
        resolve: (platform) => platform.variant || null,
      }),
      osVersion: t.string({
        nullable: true,
        description: 'Operating system version (Windows images); null when none.',
        resolve: (platform) => platform['os.version'] || null,
      }),
    }),
  });

const DistributionRef = builder.objectRef<DistributionRecord>('RegistryManifest').implement({
  description:
    'What a registry holds under a reference (`docker manifest inspect`, without pulling): its digest and platforms.',
  fields: (t) => ({
    reference: t.exposeString('reference', {
      description: 'The reference asked about, with "latest" added when it named no tag.',
    }),
    digest: t.string({
      description:
        'Digest of the manifest (or the multi-platform index) the reference names, "sha256:…": what a pull by this reference records in the image’s digests.',
      resolve: (record) => record.answer.Descriptor.digest,
    }),
    mediaType: t.string({
      description:
        'Media type of that manifest, e.g. "application/vnd.oci.image.index.v1+json" for a multi-platform index.',
      resolve: (record) => record.answer.Descriptor.mediaType,
    }),
    sizeBytes: t.field({
      type: 'SafeInt',
      description: 'Size of the manifest itself (not of the image).',
      resolve: (record) => record.answer.Descriptor.size,
    }),
    platforms: t.field({
      type: [PlatformRef],
      description: 'The platforms it is available for.',
      resolve: (record) => record.answer.Platforms ?? [],
    }),
  }),
});

builder.queryField('distribution', (t) =>
  t.field({
    type: DistributionRef,
    description:
      'Asks the registry of a reference, through the engine (`GET /distribution/{name}/json`), for its digest and platforms, without pulling. Below the privileged admission level the registry must be in DOCKERGRAPH_REGISTRIES. Refused credentials fail with code UNAUTHORIZED, a tag the registry lacks with NOT_FOUND.',
    args: {
      reference: t.arg.string({
        required: true,
        description: 'What to ask about, e.g. "127.0.0.1:5000/team/app:1.2"; "latest" when no tag.',
      }),
      auth: registryAuthArg(t.arg),
    },
    resolve: async (_root, { reference, auth }, context) => {
      checkImageReference('reference', reference);
      const credentials = toRegistryCredentials('auth', auth);
      const full = withDefaultTag(reference);
      const answer = await context.loaders.distribution.load({
        reference: full,
        ...(credentials ? { credentials } : {}),
      });
      return { reference: full, answer };
    },
  }),
);

/** The answer of one update check. */
interface UpdateCheck {
  readonly reference: string;
  readonly available: boolean | null;
  readonly reason: string | null;
  readonly registryDigest: string | null;
  readonly localDigests: readonly string[];
}

const UpdateCheckRef = builder.objectRef<UpdateCheck>('ImageUpdateCheck').implement({
  description:
    'Whether the registry holds another image under a tag than the local one: the registry’s digest for the tag compared with the digests the local image was pulled or pushed with.',
  fields: (t) => ({
    reference: t.exposeString('reference', { description: 'The tag checked, "repository:tag".' }),
    available: t.exposeBoolean('available', {
      nullable: true,
      description:
        'true when the registry’s digest for the tag is not one of the local image’s; false when it is; null when it cannot be told (see `reason`).',
    }),
    reason: t.exposeString('reason', {
      nullable: true,
      description:
        'Why `available` is null: no digest for the repository (an image built, loaded or tagged here, never pulled or pushed), a registry not allowed, out of reach, refusing the credentials, or without the tag.',
    }),
    registryDigest: t.exposeString('registryDigest', {
      nullable: true,
      description: 'The digest the registry holds for the tag; null when it was not read.',
    }),
    localDigests: t.exposeStringList('localDigests', {
      description: 'The digests of the local image in that repository ("sha256:…").',
    }),
  }),
});

/** The repository of a name ("repo:tag", "repo@digest") as the engine lists it, or null. */
function repositoryOfName(name: string): string | null {
  const parsed = parseImageReference(name);
  return 'problem' in parsed ? null : repositoryOf(parsed);
}

/** Why a registry could not tell, in words for `reason`; other errors are thrown. */
function reasonOf(error: unknown, reference: string): string {
  const registry = registryOf(reference);
  if (error instanceof AdmissionDeniedError) {
    return `the registry ${registry} is not in DOCKERGRAPH_REGISTRIES for this token`;
  }
  if (error instanceof RegistryAuthError) {
    return `the registry ${registry} refused the credentials, or asked for some`;
  }
  if (error instanceof RegistryUnreachableError) {
    return `the registry ${registry} could not be reached`;
  }
  if (error instanceof EngineNotFoundError) return `the registry ${registry} has no ${reference}`;
  if (error instanceof EngineError) return error.message;
  throw error;
}

/** Compares the registry's digest for `name` (a tag) with `repoDigests` of the local image. */
async function checkUpdate(
  context: GraphQLContext,
  name: string,
  repoDigests: readonly string[],
  credentials: RegistryCredentials | undefined,
): Promise<UpdateCheck> {
  const parsed = parseImageReference(name);
  const unknown = (reason: string, localDigests: readonly string[] = []): UpdateCheck => ({
    reference: name,
    available: null,
    reason,
    registryDigest: null,
    localDigests,
  });
  if ('problem' in parsed) return unknown(`"${name}" is not a tag: ${parsed.problem}`);
  if (parsed.digest !== null) return unknown(`${name} is pinned to a digest: it cannot change`);
  const repository = repositoryOf(parsed);
  const reference = `${repository}:${parsed.tag ?? 'latest'}`;
  const localDigests = repoDigests.flatMap((entry) => {
    const at = entry.indexOf('@');
    return at !== -1 && repositoryOfName(entry.slice(0, at)) === repository
      ? [entry.slice(at + 1)]
      : [];
  });
  if (localDigests.length === 0) {
    return unknown(
      `the local image has no digest in ${repository}: it was built, loaded or tagged here, not pulled from or pushed to the registry`,
    );
  }
  try {
    const answer = await context.loaders.distribution.load({
      reference,
      ...(credentials ? { credentials } : {}),
    });
    const registryDigest = answer.Descriptor.digest;
    return {
      reference,
      available: !localDigests.includes(registryDigest),
      reason: null,
      registryDigest,
      localDigests,
    };
  } catch (error) {
    return unknown(reasonOf(error, reference), localDigests);
  }
}

/** The tags and digests of an image by id; null when it is gone. */
async function namesOfImage(context: GraphQLContext, id: string) {
  const image = await context.loaders.images.byId.load(id);
  if (!image) return null;
  return { tags: image.RepoTags ?? [], digests: image.RepoDigests ?? [] };
}

/** Any update among checks: true when one says so, false when all say none, null when none tells. */
function anyAvailable(checks: readonly UpdateCheck[]): boolean | null {
  if (checks.some((check) => check.available === true)) return true;
  return checks.some((check) => check.available === false) ? false : null;
}

builder.objectFields(ImageRef, (t) => {
  const auth = () =>
    t.arg({
      type: RegistryAuthInput,
      required: false,
      description: 'Credentials for the registries of its tags.',
    });
  const checks = async (
    image: { id: string },
    args: { auth?: typeof RegistryAuthInput.$inferInput | null | undefined },
    context: GraphQLContext,
  ) => {
    const credentials = toRegistryCredentials('auth', args.auth);
    const names = await namesOfImage(context, image.id);
    const tags = (names?.tags ?? []).filter((tag) => tag !== '<none>:<none>');
    return Promise.all(
      tags.map((tag) => checkUpdate(context, tag, names?.digests ?? [], credentials)),
    );
  };
  return {
    updateChecks: t.field({
      type: [UpdateCheckRef],
      description: `One update check per tag of the image (see \`updateAvailable\`).`,
      args: { auth: auth() },
      resolve: (image, args, context) => checks(image, args, context),
    }),
    updateAvailable: t.boolean({
      nullable: true,
      description:
        'Whether a registry holds a newer image under one of its tags: true when the registry’s digest for a tag is not one the image was pulled or pushed with, false when every tag checked matches; null when no tag can be checked (an image without tags or repository digests, a registry not allowed or out of reach: `updateChecks` says why). Registry answers are reused for DOCKERGRAPH_UPDATE_CHECK_TTL_SECONDS; one registry call per distinct tag per operation.',
      args: { auth: auth() },
      resolve: async (image, args, context) => anyAvailable(await checks(image, args, context)),
    }),
  };
});

builder.objectFields(ContainerRef, (t) => {
  const auth = () =>
    t.arg({
      type: RegistryAuthInput,
      required: false,
      description: 'Credentials for the registry of its image.',
    });
  const check = async (
    container: { id: string },
    args: { auth?: typeof RegistryAuthInput.$inferInput | null | undefined },
    context: GraphQLContext,
  ): Promise<UpdateCheck | null> => {
    const credentials = toRegistryCredentials('auth', args.auth);
    // The name it was created with: the list shows the image id instead once the tag moved.
    const inspect = await context.loaders.containers.inspect.load(container.id);
    if (!inspect) return null;
    const names = await namesOfImage(context, inspect.Image);
    return checkUpdate(
      context,
      inspect.Config.Image ?? inspect.Image,
      names?.digests ?? [],
      credentials,
    );
  };
  return {
    imageUpdateCheck: t.field({
      type: UpdateCheckRef,
      nullable: true,
      description:
        'The update check of the tag the container was created from against the image it runs (see `imageUpdateAvailable`); null when the container is gone.',
      args: { auth: auth() },
      resolve: (container, args, context) => check(container, args, context),
    }),
    imageUpdateAvailable: t.boolean({
      nullable: true,
      description:
        'Whether the registry holds another image under the tag the container was created from than the image it runs (a pull and a re-create would change it); null when that cannot be told (created from an image id or a digest, an image without repository digest, a registry not allowed or out of reach: `imageUpdateCheck` says why). Cached and batched as `Image.updateAvailable`.',
      args: { auth: auth() },
      resolve: async (container, args, context) =>
        (await check(container, args, context))?.available ?? null,
    }),
  };
});
