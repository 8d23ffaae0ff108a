import { isAsyncIterable, type Plugin } from 'graphql-yoga';

/** Ends `result`'s stream: its subscriber leaves the hub, and `onEnd` hooks (places) run. */
function endStream(result: AsyncIterable<unknown>): void {
  void Promise.resolve(result[Symbol.asyncIterator]().return?.()).catch(() => {});
}

/**
 * Ends an HTTP subscription that nobody will read. Yoga ends a subscription only when
 * the stream of its answer is cancelled; two answers are never read, and their
 * subscription held a hub subscriber and one of its token's places
 * (DOCKERGRAPH_MAX_SUBSCRIPTIONS_PER_TOKEN) until the server stopped:
 *
 * - an answer without a stream: a client that accepts only JSON is answered 406 after
 *   its subscription was set up;
 * - the answer of a client that left while its subscription was being set up: the Node
 *   adapter does not write (nor cancel) an answer to a closed response, and a fetch
 *   handler's runtime drops the answer of an aborted request.
 *
 * After yoga's result processors (they come before every plugin of ours), which choose
 * how the answer is written.
 */
export function useAbandonedSubscriptions(): Plugin {
  return {
    onResultProcess({ request, result, resultProcessor }) {
      if (!isAsyncIterable(result)) return;
      if (resultProcessor === undefined || request.signal.aborted) {
        endStream(result);
        return;
      }
      // The client may still leave before the answer's stream is read: its request is
      // aborted then. Once the stream is read, cancelling it ends the subscription too
      // (ending twice is harmless).
      request.signal.addEventListener('abort', () => endStream(result), { once: true });
    },
  };
}
