import {
  createSourceEventStream,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
  getOperationAST,
  getVariableValues,
  Kind,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../context.ts';
import type { Principal } from '../security/principal.ts';

/**
 * Root subscription fields whose answer to one event depends only on that event, the
 * operation (document, operation name, variables), the principal and the engines it
 * sees: the `events` stream (its objects are read anew for every event, through
 * loaders scoped to the principal's labels; its fields are hidden or redacted by the
 * principal's permissions). Streams that keep state per subscriber are not listed.
 */
const SHAREABLE_FIELDS: ReadonlySet<string> = new Set(['events']);

/** A number per object, for keys: objects stay distinct however alike they look. */
function identities(): (value: object) => number {
  const ids = new WeakMap<object, number>();
  let next = 0;
  return (value) => {
    let id = ids.get(value);
    if (id === undefined) {
      next += 1;
      id = next;
      ids.set(value, id);
    }
    return id;
  };
}

/** Everything of a principal that decides what it may read, its token included. */
function describeAccess(principal: Principal): string {
  return JSON.stringify([
    principal.tokenId,
    principal.role,
    [...principal.permissions].sort(),
    principal.labels ? Object.entries(principal.labels).sort() : null,
    principal.engines,
    principal.admission,
  ]);
}

/** Whether the operation selects only shareable root fields, without fragments or directives. */
function selectsShareableFields(document: DocumentNode, operationName: string | null | undefined) {
  const operation = getOperationAST(document, operationName);
  if (operation?.operation !== 'subscription') return false;
  return operation.selectionSet.selections.every(
    (selection) =>
      selection.kind === Kind.FIELD &&
      !selection.directives?.length &&
      SHAREABLE_FIELDS.has(selection.name.value),
  );
}

function isAsyncIterable(value: object): value is AsyncIterable<unknown> {
  return Symbol.asyncIterator in value;
}

/** One execution's result, and whether other subscribers may be handed it. */
interface SharedResult {
  readonly result: ExecutionResult;
  readonly shareable: boolean;
}

/**
 * Executes an event of a subscription once for every subscriber that receives that
 * very event object with the same operation and the same access, and hands each of
 * them the result. With a thousand subscribers to one engine's events, running
 * graphql-js (resolvers, access checks, redaction) a thousand times per event was
 * most of the delivery time.
 *
 * Exactness: results are shared only among subscribers whose key is equal, and the
 * key holds the document (by identity), operation name, variables, the principal's
 * token id, role, permissions, label limit, engine limit and admission level, and the
 * engines its operation sees (by identity). Two tokens never share a result, whatever
 * their rights; a label-limited subscriber's events are scoped per subscriber into
 * objects of their own (`visible-events.ts`), so they are never shared at all. A
 * result with errors (an engine call that failed or was aborted with its client), or
 * one that left partial errors of an engine that did not answer, is not handed on:
 * each other subscriber then executes the event itself. Every plugin's per-result
 * hooks (audit, metrics, error masking) still run for each subscriber: only
 * graphql-js's execution is shared. Each subscriber's source stream (its own bounded
 * buffer, its resyncs, its order) is its own.
 */
export function useSharedSubscriptionResults(): Plugin<GraphQLContext> {
  const documentId = identities();
  const engineId = identities();
  // Per event object: the results by key. An event held by no subscriber frees its results.
  const results = new WeakMap<object, Map<string, Promise<SharedResult>>>();

  const executeShared = (
    args: ExecutionArgs,
    context: GraphQLContext,
    key: string,
    payload: unknown,
  ): Promise<ExecutionResult> => {
    const run = async () => execute({ ...args, rootValue: payload });
    if (typeof payload !== 'object' || payload === null) return run();
    let byKey = results.get(payload);
    if (!byKey) {
      byKey = new Map();
      results.set(payload, byKey);
    }
    const executed = byKey.get(key);
    if (executed) {
      return executed.then(({ result, shareable }) =>
        // A copy: plugins may replace its fields for their subscriber.
        shareable ? { ...result } : run(),
      );
    }
    // Partial errors (an engine that did not answer) are kept on the executing
    // subscriber's context and added to its result by use-partial-errors: a result
    // that left any is not handed on, so every subscriber is told of them.
    const partialBefore = context.partialErrors.length;
    const running = run().then((result) => ({
      result,
      shareable: !result.errors?.length && context.partialErrors.length === partialBefore,
    }));
    byKey.set(key, running);
    return running.then(({ result }) => result);
  };

  return {
    onSubscribe({ args, subscribeFn, setSubscribeFn }) {
      const context = args.contextValue;
      if (!selectsShareableFields(args.document, args.operationName)) return;
      const key = JSON.stringify([
        documentId(args.document),
        args.operationName ?? null,
        args.variableValues ?? null,
        describeAccess(context.principal),
        context.fleet.visible().map(engineId),
      ]);
      setSubscribeFn(async (subscribeArgs) => {
        const operation = getOperationAST(subscribeArgs.document, subscribeArgs.operationName);
        const variables = operation
          ? getVariableValues(
              subscribeArgs.schema,
              operation.variableDefinitions ?? [],
              subscribeArgs.variableValues ?? {},
            )
          : null;
        // Early errors (bad variables) are answered by the usual function, as without sharing.
        if (!variables || variables.errors) return subscribeFn(subscribeArgs);
        const source = await createSourceEventStream(subscribeArgs);
        if (!isAsyncIterable(source)) return source;
        return mapEvents(source, (payload) => executeShared(subscribeArgs, context, key, payload));
      });
    },
  };
}

/**
 * The results of `source`'s events, one after the other, each read when its reader asks
 * (so the source's bounded buffer still measures how far the reader is behind); leaving
 * leaves `source` at once, also while no event comes (an async generator's `return()`
 * would wait for the next event). Hand-made rather than a Repeater, whose queueing cost
 * showed in the profile of one event delivered to a thousand subscribers.
 */
function mapEvents(
  source: AsyncIterable<unknown>,
  map: (payload: unknown) => Promise<ExecutionResult>,
): AsyncGenerator<ExecutionResult, undefined, unknown> {
  const events = source[Symbol.asyncIterator]();
  const done = { done: true, value: undefined } as const;
  const leave = async () => {
    await events.return?.();
    return done;
  };
  // Then-chains rather than an async function: a subscriber waiting for its next event
  // holds a pending promise, not a suspended frame (see tagWithEngine in fleet.ts).
  type Step = IteratorResult<ExecutionResult, undefined>;
  const resultOf = (value: ExecutionResult): Step => ({ done: false, value });
  const onEvent = (event: IteratorResult<unknown>): Step | Promise<Step> =>
    event.done === true ? done : map(event.value).then(resultOf);
  const mapped: AsyncGenerator<ExecutionResult, undefined, unknown> = {
    next: () => events.next().then(onEvent),
    return: leave,
    async throw(error: unknown) {
      await leave();
      throw error;
    },
    [Symbol.asyncIterator]: () => mapped,
  };
  return mapped;
}
