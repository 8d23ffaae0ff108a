import { FixedBuffer, Repeater } from '@repeaterjs/repeater';
import type { GraphQLContext } from '../context.ts';
import { type BuildStepHeader, parseStepHeader } from '../docker/build.ts';
import { BuildFailedError, EngineError } from '../docker/errors.ts';
import { inspectImage } from '../docker/images.ts';
import type { ProgressEvent } from '../docker/progress.ts';
import { builder } from './builder.ts';
import { type ImageRecord, ImageRef } from './refs.ts';

/**
 * The messages of the subscriptions that stream the progress of work on an image
 * (`pullImageProgress`, `buildImageProgress`), shared by their domain files.
 */

/** A step of the work: a pull's progress event, or a line of a build's output. */
export interface ProgressStep {
  readonly event: ProgressEvent | null;
  readonly line: string | null;
}

/** One message of a progress stream: a step, the result, or the failure that ended it. */
export type ProgressMessage =
  | ({ readonly kind: 'progress' } & ProgressStep)
  | { readonly kind: 'done'; readonly image: ImageRecord }
  | { readonly kind: 'failed'; readonly code: string; readonly message: string };

const ProgressKindEnum = builder.enumType('ImageProgressKind', {
  description: 'What an image progress message carries.',
  values: {
    PROGRESS: {
      value: 'progress',
      description:
        'A step: of a pull `status`, `layer`, `current`, `total`; of a build `line` (and `step`, `stepCount` on step headers).',
    },
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

export const ImageProgressRef = builder.objectRef<ProgressMessage>('ImageProgress').implement({
  description: 'A step of a pull or build, or its result, or the failure that ended it.',
  fields: (t) => ({
    kind: t.field({
      type: ProgressKindEnum,
      description: 'Whether this is a step, the result, or the failure.',
      resolve: (message) => message.kind,
    }),
    status: t.string({
      nullable: true,
      description:
        'What a pull does, e.g. "Downloading", "Pull complete", "Already exists"; null for builds.',
      resolve: (message) => (message.kind === 'progress' ? (message.event?.status ?? null) : null),
    }),
    layer: t.string({
      nullable: true,
      description:
        'The short id of the layer the step is about (the engine puts the tag there for "Pulling from"); null for steps of the whole image.',
      resolve: (message) => (message.kind === 'progress' ? (message.event?.id ?? null) : null),
    }),
    current: t.float({
      nullable: true,
      description: 'Bytes of the layer done so far, when the engine tells.',
      resolve: (message) =>
        message.kind === 'progress' ? (message.event?.progressDetail?.current ?? null) : null,
    }),
    total: t.float({
      nullable: true,
      description: 'Bytes of the layer in all, when the engine tells.',
      resolve: (message) =>
        message.kind === 'progress' ? (message.event?.progressDetail?.total ?? null) : null,
    }),
    line: t.string({
      nullable: true,
      description:
        'A line of build output as it arrives (step header, command output, pull milestone of a `FROM` image), without colour codes or line end; null for pulls.',
      resolve: (message) => (message.kind === 'progress' ? message.line : null),
    }),
    step: t.int({
      nullable: true,
      description:
        'The number of the build step a step header ("Step 2/5 : RUN make") starts, from 1; null on other messages.',
      resolve: (message) => stepHeader(message)?.step ?? null,
    }),
    stepCount: t.int({
      nullable: true,
      description: 'The number of steps of the build, on a step header; null on other messages.',
      resolve: (message) => stepHeader(message)?.count ?? null,
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
        'The kind of failure, e.g. NOT_FOUND, UNAUTHORIZED, BAD_REQUEST, BUILD_FAILED (a build step failed), ENGINE_UNAVAILABLE; null unless FAILED.',
      resolve: (message) => (message.kind === 'failed' ? message.code : null),
    }),
  }),
});

function stepHeader(message: ProgressMessage): BuildStepHeader | null {
  return message.kind === 'progress' && message.line !== null
    ? parseStepHeader(message.line)
    : null;
}

/**
 * Runs `work`, yielding each step it reports as it comes, then the image it
 * made (read back by the reference `work` resolves with) or the failure that ended it.
 * A subscriber that leaves cancels the work at once, also while no step comes (a build
 * step may run for minutes silently): the engine stops a pull or build whose stream is
 * closed.
 *
 * A Repeater: its `return()` stops it (and so aborts the work) without waiting for a
 * next step, and the executor leaves at once rather than waiting for the work to settle.
 * Steps are kept without bound until read, as the engine sends them (a pull or build
 * reports a bounded number of steps); a failure other than an engine's is thrown to the
 * reader after the steps before it.
 */
export function progressOf(
  context: GraphQLContext,
  work: (report: (step: ProgressStep) => void, signal: AbortSignal) => Promise<string>,
): AsyncIterableIterator<ProgressMessage> {
  return new Repeater<ProgressMessage, undefined>(async (push, stop) => {
    const cancel = new AbortController();
    const left = stop.then(() => {
      cancel.abort();
      return null;
    });
    const outcome = work((step) => {
      void push({ kind: 'progress', ...step });
    }, cancel.signal).then(
      (reference) => ({ reference }),
      (error: unknown) => ({ error }),
    );
    const settled = await Promise.race([outcome, left]);
    if (settled === null) return undefined;
    try {
      if ('error' in settled) throw settled.error;
      context.renewLoaders();
      // Read as the engine has it, as the pullImage mutation reads its image back: a token
      // limited to labels is told of the image it pulled, though it may not see it in lists.
      const inspect = await inspectImage(context.docker, settled.reference);
      if (!inspect) {
        await push({
          kind: 'failed',
          code: 'NOT_FOUND',
          message: `image "${settled.reference}" is gone`,
        });
      } else {
        await push({
          kind: 'done',
          image: { engine: context.engineName, id: inspect.Id, summary: null, inspect },
        });
      }
    } catch (error) {
      // Engine errors carry messages made for users (credentials are never in them); anything
      // else is a bug whose text stays in the logs.
      if (!(error instanceof EngineError)) throw error;
      const code = error instanceof BuildFailedError ? 'BUILD_FAILED' : error.kind;
      await push({ kind: 'failed', code, message: error.message });
    }
    stop();
    return undefined;
  }, new FixedBuffer(Number.POSITIVE_INFINITY));
}
