// Reads a subscription's results in the background, for tests to wait on what arrived.
import { Changes } from './wait-for.ts';

/** What one subscriber received, in order, and whether its stream ended. */
export interface CollectedSubscription<T> {
  /** The `data[key]` of every result, in order. */
  readonly messages: T[];
  /** The `errors` of results, and what the iterator threw. */
  readonly errors: unknown[];
  readonly ended: boolean;
  /** Resolves with what `find` returns once it returns something; it looks after every result. */
  until<R>(
    find: (messages: readonly T[]) => R | undefined,
    timeoutMs: number,
    what: string,
  ): Promise<R>;
  /** Resolves once `count` messages that `counts` keeps (every message by default) arrived. */
  untilCount(count: number, timeoutMs: number, counts?: (message: T) => boolean): Promise<void>;
  /** Resolves once the stream ended. */
  untilEnded(timeoutMs: number): Promise<void>;
  /** Unsubscribes. */
  stop(): Promise<void>;
}

/** Collects the results of a graphql-ws or graphql-sse iterator, keeping `data[key]`. */
export function collectSubscription<K extends string, T>(
  key: K,
  iterator: AsyncIterableIterator<{ data?: Record<K, T> | null | undefined; errors?: unknown }>,
): CollectedSubscription<T> {
  const messages: T[] = [];
  const errors: unknown[] = [];
  const changes = new Changes();
  let ended = false;
  void (async () => {
    try {
      for await (const result of iterator) {
        if (result.errors) errors.push(result.errors);
        if (result.data) messages.push(result.data[key]);
        changes.notify();
      }
    } catch (error) {
      errors.push(error);
    } finally {
      ended = true;
      changes.notify();
    }
  })();
  const until = <R>(
    find: (messages: readonly T[]) => R | undefined,
    timeoutMs: number,
    what: string,
  ): Promise<R> =>
    changes.until(
      () => find(messages),
      timeoutMs,
      () =>
        new Error(
          `timed out waiting for ${what}: ${JSON.stringify(messages)} ${JSON.stringify(errors)}`,
        ),
    );
  return {
    messages,
    errors,
    get ended() {
      return ended;
    },
    until,
    untilCount: async (count, timeoutMs, counts = () => true) => {
      await until(
        (received) => (received.filter(counts).length >= count ? true : undefined),
        timeoutMs,
        `${count} messages`,
      );
    },
    untilEnded: async (timeoutMs) => {
      await changes.until(
        () => (ended ? true : undefined),
        timeoutMs,
        () => new Error(`timed out waiting for the stream to end: ${JSON.stringify(messages)}`),
      );
    },
    stop: async () => {
      await iterator.return?.();
    },
  };
}

/**
 * Reads a subscription to its end (or `timeoutMs`), keeping `data[key]` of every result
 * and the errors, as {@link collectSubscription} does.
 */
export async function readSubscription<K extends string, T>(
  key: K,
  iterator: AsyncIterableIterator<{ data?: Record<K, T> | null | undefined; errors?: unknown }>,
  timeoutMs = 120_000,
): Promise<{ messages: T[]; errors: unknown[] }> {
  const collected = collectSubscription(key, iterator);
  await collected.untilEnded(timeoutMs);
  return { messages: collected.messages, errors: collected.errors };
}
