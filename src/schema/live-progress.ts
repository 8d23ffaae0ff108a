import type { GraphQLContext } from '../context.ts';
import { EngineError } from '../docker/errors.ts';
import { checkImageReference, checkPlatform, withDefaultTag } from '../docker/image-reference.ts';
import { pullImage } from '../docker/images.ts';
import type { ProgressEvent } from '../docker/progress.ts';
import { builder } from './builder.ts';
import { type ImageRecord, ImageRef } from './refs.ts';
import { RegistryAuthInput, toRegistryCredentials } from './shared.ts';

/** One message of a progress stream: a step, the result, or the failure that ended it. */
type ProgressMessage =
  | { readonly kind: 'progress'; readonly event: ProgressEvent }
  | { readonly kind: 'done'; readonly image: ImageRecord }
  | { readonly kind: 'failed'; readonly code: string; readonly message: string };

const ProgressKindEnum = builder.enumType('ImageProgressKind', {
  description: 'What an image progress message carries.',
  values: {
    PROGRESS: { value: 'progress', description: 'A step: `status`, `layer`, `current`, `total`.' },
    DONE: {
      value: 'done',
      description: 'The work finished: `image` holds the result. Last message.',
    },
    FAILED: {
      value: 'failed',
      description: 'The work failed: `error` and `errorCode` say why. Last message.',
    },
  } as const,
});

const ImageProgressRef = builder.objectRef<ProgressMessage>('ImageProgress').implement({
  description: 'A step of a pull, or its result, or the failure that ended it.',
  fields: (t) => ({
    kind: t.field({
      type: ProgressKindEnum,
      description: 'Whether this is a step, the result, or the failure.',
      resolve: (message) => message.kind,
    }),
    status: t.string({
      nullable: true,
      description: 'What happens, e.g. "Downloading", "Pull complete", "Already exists".',
      resolve: (message) => (message.kind === 'progress' ? (message.event.status ?? null) : null),
    }),
    layer: t.string({
      nullable: true,
      description:
        'The short id of the layer the step is about (the engine puts the tag there for "Pulling from"); null for steps of the whole image.',
      resolve: (message) => (message.kind === 'progress' ? (message.event.id ?? null) : null),
    }),
    current: t.float({
      nullable: true,
      description: 'Bytes of the layer done so far, when the engine tells.',
      resolve: (message) =>
        message.kind === 'progress' ? (message.event.progressDetail?.current ?? null) : null,
    }),
    total: t.float({
      nullable: true,
      description: 'Bytes of the layer in all, when the engine tells.',
      resolve: (message) =>
        message.kind === 'progress' ? (message.event.progressDetail?.total ?? null) : null,
    }),
    image: t.field({
      type: ImageRef,
      nullable: true,
      description:
        'The resulting image, read after the work finished; null unless the kind is DONE.',
      resolve: (message) => (message.kind === 'done' ? message.image : null),
    }),
    error: t.string({
      nullable: true,
      description: 'Why the work failed (the engine’s or registry’s message); null unless FAILED.',
      resolve: (message) => (message.kind === 'failed' ? message.message : null),
    }),
    errorCode: t.string({
      nullable: true,
      description:
        'The kind of failure, e.g. NOT_FOUND, UNAUTHORIZED, ENGINE_UNAVAILABLE; null unless FAILED.',
      resolve: (message) => (message.kind === 'failed' ? message.code : null),
    }),
  }),
});

/**
 * Runs `work`, yielding each progress event it reports as it comes, then the image it
 * made (read back by the reference `work` resolves with) or the failure that ended it.
 * A subscriber that leaves cancels the work at its next progress event: the engine stops
 * a pull or build whose stream is closed.
 */
async function* progressOf(
  context: GraphQLContext,
  work: (onEvent: (event: ProgressEvent) => void, signal: AbortSignal) => Promise<string>,
): AsyncGenerator<ProgressMessage, void, undefined> {
  const cancel = new AbortController();
  try {
    yield* progressUntilDone(context, work, cancel.signal);
  } finally {
    cancel.abort();
  }
}

async function* progressUntilDone(
  context: GraphQLContext,
  work: (onEvent: (event: ProgressEvent) => void, signal: AbortSignal) => Promise<string>,
  signal: AbortSignal,
): AsyncGenerator<ProgressMessage, void, undefined> {
  const queue: ProgressMessage[] = [];
  let wake: (() => void) | null = null;
  let finished = false;
  const notify = () => {
    const resume = wake;
    wake = null;
    resume?.();
  };
  let outcome: { reference: string } | { error: unknown } = { reference: '' };
  void work((event) => {
    queue.push({ kind: 'progress', event });
    notify();
  }, signal).then(
    (reference) => {
      outcome = { reference };
      finished = true;
      notify();
    },
    (error: unknown) => {
      outcome = { error };
      finished = true;
      notify();
    },
  );
  for (;;) {
    const message = queue.shift();
    if (message) {
      yield message;
      continue;
    }
    if (finished) break;
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
  }
  try {
    if ('error' in outcome) throw outcome.error;
    context.renewLoaders();
    const inspect = await context.loaders.images.inspect.load(outcome.reference);
    if (!inspect) {
      yield { kind: 'failed', code: 'NOT_FOUND', message: `image "${outcome.reference}" is gone` };
      return;
    }
    yield {
      kind: 'done',
      image: { engine: context.engineName, id: inspect.Id, summary: null, inspect },
    };
  } catch (error) {
    // Engine errors carry messages made for users (credentials are never in them); anything
    // else is a bug whose text stays in the logs.
    if (!(error instanceof EngineError)) throw error;
    yield { kind: 'failed', code: error.kind, message: error.message };
  }
}

builder.subscriptionField('pullImageProgress', (t) =>
  t.field({
    type: ImageProgressRef,
    description:
      'Pulls an image (`docker pull`) and streams its progress per layer; the last message holds the pulled image (DONE) or why the pull failed (FAILED).',
    args: {
      reference: t.arg.string({
        required: true,
        description:
          'What to pull: "[registry[:port]/]repository[:tag][@digest]"; without tag or digest "latest".',
      }),
      platform: t.arg.string({
        required: false,
        description:
          'Platform of a multi-platform image, "os/arch[/variant]"; the engine’s own when omitted.',
      }),
      auth: t.arg({
        type: RegistryAuthInput,
        required: false,
        description: 'Credentials for the registry.',
      }),
    },
    subscribe: (_root, { reference, platform, auth }, context) => {
      checkImageReference('reference', reference);
      const credentials = toRegistryCredentials('auth', auth);
      const checkedPlatform =
        platform !== null && platform !== undefined ? checkPlatform('platform', platform) : null;
      return progressOf(context, async (onEvent, signal) => {
        await pullImage(context.docker.withSignal(signal), {
          reference,
          ...(checkedPlatform !== null ? { platform: checkedPlatform } : {}),
          ...(credentials ? { credentials } : {}),
          onEvent,
        });
        return withDefaultTag(reference);
      });
    },
    resolve: (message) => message,
  }),
);
