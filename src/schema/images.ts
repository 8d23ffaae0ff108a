import { readImage } from '../accessors/image.ts';
import type { GraphQLContext } from '../context.ts';
import { EngineError } from '../docker/errors.ts';
import type { EngineImageHistoryItem, ImageFilters } from '../docker/images.ts';
import { redactFor, redactHistoryStep } from '../security/output-redaction.ts';
import { builder } from './builder.ts';
import { invalidArgument } from './errors.ts';
import { labelFilterField, toLabelFilter } from './filter-inputs.ts';
import { engineArgs, enginesArgs, listAcrossEngines } from './fleet.ts';
import { lookupKeyOf } from './node-id.ts';
import { newestFirstKey, paginate } from './pagination.ts';
import {
  ContainerConfigRef,
  ContainerRef,
  type ImageRecord,
  ImageRef,
  toContainerRecord,
  toImageRecord,
} from './refs.ts';
import { lookupOf } from './scope-rules.ts';
import { checkNonEmpty, labelFields, shortenId } from './shared.ts';

/** The image's facts, from whichever engine answer is at hand (see `ImageAccessor`). */
function read(image: ImageRecord, context: GraphQLContext) {
  return readImage(image, context.loaders);
}

const ImageHistoryItemRef = builder.objectRef<EngineImageHistoryItem>('ImageLayer').implement({
  description: 'One step of the build of an image (`docker history`).',
  fields: (t) => ({
    imageId: t.string({
      nullable: true,
      description:
        'Id of the image this step made; null for steps of images built elsewhere ("<missing>").',
      resolve: (layer) => (layer.Id && layer.Id !== '<missing>' ? layer.Id : null),
    }),
    created: t.field({
      type: 'DateTime',
      description: 'When the step ran.',
      resolve: (layer) => new Date(layer.Created * 1000),
    }),
    createdBy: t.string({
      description:
        'The instruction, e.g. "/bin/sh -c #(nop) CMD [\\"sh\\"]". Values of `ENV` and `ARG` instructions, and the build arguments a `RUN` step records ("|1 TOKEN=… /bin/sh -c …"), read "[redacted]" unless the token has the "secrets" permission.',
      resolve: (layer, _args, context) =>
        redactFor(context.principal, layer.CreatedBy, redactHistoryStep).text,
    }),
    redacted: t.boolean({
      description: 'Whether values in `createdBy` are withheld.',
      resolve: (layer, _args, context) =>
        redactFor(context.principal, layer.CreatedBy, redactHistoryStep).redacted,
    }),
    tags: t.stringList({
      description: 'Tags of the image this step made.',
      resolve: (layer) => layer.Tags ?? [],
    }),
    sizeBytes: t.field({
      type: 'SafeInt',
      description: 'Bytes the step added.',
      resolve: (layer) => layer.Size,
    }),
    comment: t.exposeString('Comment', { description: 'Comment recorded with the step.' }),
  }),
});

ImageRef.implement({
  description: 'A Docker image.',
  fields: (t) => ({
    dockerId: t.exposeString('id', {
      description: 'The image id: "sha256:" and 64 hexadecimal digits.',
    }),
    shortId: t.string({
      description: 'The first 12 digits of the id, as the docker CLI shows it.',
      resolve: (image) => shortenId(image.id),
    }),
    tags: t.stringList({
      description: 'Repository tags, e.g. "nginx:1.27"; empty for an untagged image.',
      resolve: (image, _args, context) => read(image, context).tags(),
    }),
    digests: t.stringList({
      description: 'Repository digests, e.g. "nginx@sha256:…"; set once pushed or pulled.',
      resolve: (image, _args, context) => read(image, context).digests(),
    }),
    created: t.field({
      type: 'DateTime',
      description: 'When it was built.',
      resolve: (image, _args, context) => read(image, context).created(),
    }),
    sizeBytes: t.field({
      type: 'SafeInt',
      description: 'Size of all its layers.',
      resolve: (image, _args, context) => read(image, context).size(),
    }),
    sharedSizeBytes: t.field({
      type: 'SafeInt',
      nullable: true,
      description:
        'Size of the layers it shares with other images; null when the engine did not compute it.',
      resolve: (image, _args, context) => read(image, context).sharedSize(),
    }),
    ...labelFields(t, (image, context) => read(image, context).labels()),
    parentId: t.string({
      nullable: true,
      description: 'Id of the image it was built on locally; null for pulled or imported images.',
      resolve: (image, _args, context) => read(image, context).parentId(),
    }),
    os: t.string({
      description: 'Operating system, e.g. "linux".',
      resolve: (image, _args, context) => read(image, context).os(),
    }),
    architecture: t.string({
      description: 'CPU architecture, e.g. "amd64".',
      resolve: (image, _args, context) => read(image, context).architecture(),
    }),
    variant: t.string({
      nullable: true,
      description: 'CPU variant, e.g. "v8" for arm64.',
      resolve: (image, _args, context) => read(image, context).variant(),
    }),
    author: t.string({
      nullable: true,
      description: 'Author recorded in the image.',
      resolve: (image, _args, context) => read(image, context).author(),
    }),
    comment: t.string({
      nullable: true,
      description: 'Comment recorded in the image (e.g. by `docker commit -m` or `import`).',
      resolve: (image, _args, context) => read(image, context).comment(),
    }),
    dockerVersion: t.string({
      nullable: true,
      description: 'Version of the engine that built it.',
      resolve: (image, _args, context) => read(image, context).dockerVersion(),
    }),
    layers: t.stringList({
      description: 'Digests of its filesystem layers, base first.',
      resolve: (image, _args, context) => read(image, context).layers(),
    }),
    config: t.field({
      type: ContainerConfigRef,
      nullable: true,
      description:
        'Defaults for containers made from it: command, entrypoint, environment, ports, user.',
      resolve: (image, _args, context) => read(image, context).config(),
    }),
    history: t.field({
      type: [ImageHistoryItemRef],
      description: 'The steps that built it, newest first.',
      resolve: (image, _args, context) => context.loaders.images.history.load(image.id),
    }),
    containers: t.field({
      type: [ContainerRef],
      description: 'Containers created from it, newest first.',
      resolve: async (image, _args, context) => {
        const containers = await context.loaders.containers.all();
        return containers
          .filter((c) => c.ImageID === image.id)
          .map((c) => toContainerRecord(image.engine, c));
      },
    }),
  }),
});

const ImageFilterInput = builder.inputType('ImageFilter', {
  description: 'Which images to list. Conditions of different fields must all hold.',
  fields: (t) => ({
    dangling: t.boolean({
      required: false,
      description: 'true: only untagged images no other image builds on; false: only the others.',
    }),
    labels: labelFilterField(t),
    references: t.stringList({
      required: false,
      description: 'Reference patterns, e.g. "busybox" or "registry:5000/app:1.*".',
    }),
    before: t.string({
      required: false,
      description: 'Only images created before this one (reference or id).',
    }),
    since: t.string({
      required: false,
      description: 'Only images created after this one (reference or id).',
    }),
    all: t.boolean({
      required: false,
      description:
        'true: intermediate images too (the untagged layers a classic build leaves, `docker images --all`); top-level images only when omitted.',
    }),
  }),
});

function toImageFilters(
  filter: typeof ImageFilterInput.$inferInput | null | undefined,
): ImageFilters {
  if (!filter) return {};
  const given = toLabelFilter(filter);
  checkNonEmpty('filter.references', given.references);
  given.references?.forEach((reference, index) => {
    // The engine matches references as shell patterns; an unclosed "[" makes it fail with HTTP 500.
    if (/\[[^\]]*$/.test(reference))
      throw invalidArgument(`filter.references[${index}]`, `"${reference}" has an unclosed "["`);
  });
  return given;
}

/** The engine answers a `before`/`since` image it does not have with an error about the list. */
async function checkImageExists(
  context: GraphQLContext,
  argument: string,
  reference: string | undefined,
) {
  if (reference === undefined) return;
  const image = await context.loaders.images.inspect.load(reference).catch((error: unknown) => {
    if (error instanceof EngineError && error.kind === 'BAD_REQUEST') {
      throw invalidArgument(argument, error.message);
    }
    throw error;
  });
  if (!image) throw invalidArgument(argument, `there is no image "${reference}"`);
}

/** How `image(…)` names its object: from the label-scope table. */
const IMAGE_LOOKUP = lookupOf('image');

builder.queryFields((t) => ({
  images: t.connection(
    {
      type: ImageRef,
      description:
        'Images of every engine asked: newest first, then by engine name, then by id (intermediate build layers only with `filter.all`). The same image on two engines is two objects.',
      args: {
        ...enginesArgs,
        filter: t.arg({
          type: ImageFilterInput,
          required: false,
          description: 'Which images to list.',
        }),
      },
      resolve: async (_root, args, context, info) => {
        const filters = toImageFilters(args.filter);
        const images = await listAcrossEngines(context, info, args.engines, async (bound) => {
          await checkImageExists(bound, 'filter.before', filters.before);
          await checkImageExists(bound, 'filter.since', filters.since);
          const found = await bound.loaders.images.list(filters);
          return found.map((image) => toImageRecord(bound.engineName, image));
        });
        return paginate(images, args, (image) =>
          newestFirstKey(image.summary?.Created ?? 0, `${image.engine}:${image.id}`),
        );
      },
    },
    { name: 'ImageConnection', description: 'A page of images.' },
    { name: 'ImageEdge', description: 'An image and its cursor.' },
  ),
  image: t.field({
    type: ImageRef,
    nullable: true,
    description:
      'One image by reference ("name:tag", "name@digest"), id or global ID; null when there is none.',
    args: {
      ...engineArgs,
      reference: t.arg.string({
        required: true,
        description:
          'Reference, id (full, short, or with "sha256:"), or global ID (the `id` of an Image, which also names its engine).',
      }),
    },
    resolve: async (_root, { reference }, context) => {
      const key = lookupKeyOf(() => context.engineName, IMAGE_LOOKUP, reference.trim());
      // Through the loader: an image the principal may not see is answered as missing.
      const inspect = await context.loaders.images.inspect.load(key).catch((error: unknown) => {
        if (error instanceof EngineError && error.kind === 'BAD_REQUEST')
          throw invalidArgument('reference', error.message);
        throw error;
      });
      if (!inspect) return null;
      context.loaders.images.inspect.prime(inspect.Id, inspect);
      return toImageRecord(context.engineName, inspect);
    },
  }),
}));
