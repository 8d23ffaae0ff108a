import { Repeater } from '@repeaterjs/repeater';
import type { GraphQLResolveInfo } from 'graphql';
import { bindEngine, type GraphQLContext } from '../context.ts';
import type { RegisteredEngine } from '../docker/engine-registry.ts';
import { EngineError } from '../docker/errors.ts';
import { builder } from './builder.ts';
import { ENGINE_ARGUMENT_DESCRIPTION } from './engine-binding-plugin.ts';

/**
 * Root lists that span engines: each selected engine is asked at once, with its
 * own timeouts; the answers are merged. An engine that cannot be reached or does
 * not answer in time leaves its objects out and adds an error naming it (code
 * ENGINE_UNAVAILABLE or ENGINE_TIMEOUT, `extensions.engine`, the list's path); any
 * other failure fails the field, as with one engine.
 *
 * @module
 */

/** The `engines` argument of every root list that spans engines. */
export const enginesArgs = builder.args((t) => ({
  engines: t.stringList({
    required: false,
    description:
      "Which engines to ask: engine names, or label selectors of engines such as `env=prod`; every engine the token may see when left out. The answers are merged in the list's order across engines; an engine that does not answer adds an error with code ENGINE_UNAVAILABLE or ENGINE_TIMEOUT and `extensions.engine`, and the others' objects are still answered.",
  }),
}));

/** The `engine` argument of lookups, mutations and lists of one engine. */
export const engineArgs = builder.args((t) => ({
  engine: t.string({
    required: false,
    description: ENGINE_ARGUMENT_DESCRIPTION,
  }),
}));

/** Whether an engine failure is the engine being away (leave it out) rather than a wrong question. */
function isEngineAway(error: unknown): error is EngineError {
  return (
    error instanceof EngineError &&
    (error.kind === 'ENGINE_UNAVAILABLE' || error.kind === 'ENGINE_TIMEOUT')
  );
}

/** The path of the field being resolved, as GraphQL errors carry it. */
function pathOf(info: GraphQLResolveInfo): (string | number)[] {
  const path: (string | number)[] = [];
  for (let at: GraphQLResolveInfo['path'] | undefined = info.path; at; at = at.prev) {
    path.unshift(at.key);
  }
  return path;
}

/**
 * Reads `read` on every engine `selectors` picks (see {@link enginesArgument}), at
 * once, each with the context bound to its engine. With one engine selected its
 * failure fails the field; with several, an engine that is away is left out and
 * reported as a partial error.
 */
export async function readAcrossEngines<T>(
  context: GraphQLContext,
  info: GraphQLResolveInfo,
  selectors: readonly string[] | null | undefined,
  read: (bound: GraphQLContext, engine: RegisteredEngine) => Promise<T>,
): Promise<{ engine: string; value: T }[]> {
  const engines = context.fleet.select(selectors, 'engines');
  if (engines.length === 1 && engines[0]) {
    const [engine] = engines;
    return [{ engine: engine.name, value: await read(bindEngine(context, engine.name), engine) }];
  }
  const answers = await Promise.allSettled(
    engines.map((engine) => read(bindEngine(context, engine.name), engine)),
  );
  const values: { engine: string; value: T }[] = [];
  for (const [index, answer] of answers.entries()) {
    const engine = engines[index];
    if (!engine) continue;
    if (answer.status === 'fulfilled') {
      values.push({ engine: engine.name, value: answer.value });
    } else if (isEngineAway(answer.reason)) {
      context.partialErrors.push({
        message: `engine "${engine.name}": ${answer.reason.message}`,
        path: pathOf(info),
        code: answer.reason.kind,
        engine: engine.name,
      });
    } else {
      throw answer.reason;
    }
  }
  return values;
}

/** {@link readAcrossEngines} for lists: the objects of every engine that answered, in one list. */
export async function listAcrossEngines<T>(
  context: GraphQLContext,
  info: GraphQLResolveInfo,
  selectors: readonly string[] | null | undefined,
  read: (bound: GraphQLContext, engine: RegisteredEngine) => Promise<readonly T[]>,
): Promise<T[]> {
  const answers = await readAcrossEngines(context, info, selectors, read);
  return answers.flatMap((answer) => answer.value);
}

/** A message of one engine's event stream, with the engine it came from. */
export type EngineMessage<M> = M & { readonly engine: string };

/**
 * Each message of a hub, tagged, once: every subscriber of the hub then receives the
 * same object, by which `use-shared-subscription-results.ts` recognizes the same event.
 */
const taggedMessages = new WeakMap<object, { readonly engine: string }>();

function tagged<M extends object>(message: M, engine: string): EngineMessage<M> {
  const known = taggedMessages.get(message);
  if (known?.engine === engine) return known as EngineMessage<M>;
  const made: EngineMessage<M> = { ...message, engine };
  taggedMessages.set(message, made);
  return made;
}

/**
 * The messages of one engine, tagged with its name; when the engine leaves the
 * configuration (or the server stops) the stream ends with a RESYNC saying so.
 */
function tagWithEngine<M extends object>(
  messages: AsyncIterableIterator<M, undefined>,
  engine: RegisteredEngine,
  resync: (reason: string) => M,
): AsyncIterableIterator<EngineMessage<M>, undefined> {
  // Hand-made rather than a Repeater: this runs for every subscriber of every event, and
  // the Repeater's queueing showed in the profile of one event sent to 1,000 subscribers.
  // Each message is read from `messages` when the reader asks for it; leaving leaves
  // `messages` at once (its pending read then ends).
  // A then-chain rather than an async function: a subscriber waiting for its next event
  // holds a pending promise, not a suspended frame, which was promoted to the old
  // generation between events with 1,000 subscribers (a sampling heap profile).
  const done = { done: true, value: undefined } as const;
  let finished = false;
  const onMessage = (
    result: IteratorResult<M, undefined>,
  ): IteratorResult<EngineMessage<M>, undefined> => {
    if (finished) return done;
    if (result.done !== true) return { done: false, value: tagged(result.value, engine.name) };
    finished = true;
    const reason = engine.retiredReason();
    if (reason === null) return done;
    return { done: false, value: { ...resync(reason), engine: engine.name } };
  };
  const tagging: AsyncIterableIterator<EngineMessage<M>, undefined> = {
    next() {
      if (finished) return Promise.resolve(done);
      return messages.next().then(onMessage);
    },
    async return() {
      finished = true;
      await messages.return?.();
      return done;
    },
    [Symbol.asyncIterator]: () => tagging,
  };
  return tagging;
}

/**
 * One subscription over the engines `selectors` picks (all the principal may see when
 * null): `subscribe` is called once per engine with the context bound to it (each
 * engine's shared upstream serves every subscriber), and the streams are merged, each
 * message tagged with its engine; `resync` makes the message that ends the stream of
 * an engine that leaves the configuration.
 */
export function subscribeAcrossEngines<M extends object>(
  context: GraphQLContext,
  selectors: readonly string[] | null | undefined,
  subscribe: (bound: GraphQLContext) => AsyncIterableIterator<M, undefined>,
  resync: (reason: string) => M,
): AsyncIterableIterator<EngineMessage<M>, undefined> {
  const streams = context.fleet
    .select(selectors, 'engines')
    .map((engine) => tagWithEngine(subscribe(bindEngine(context, engine.name)), engine, resync));
  const [only] = streams;
  if (streams.length === 1 && only) return only;
  // Repeater.merge's type infers through PromiseLike, which a type parameter defeats: its
  // values are the streams' values.
  return Repeater.merge(streams) as AsyncIterableIterator<EngineMessage<M>, undefined>;
}
