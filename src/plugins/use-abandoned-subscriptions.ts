import { GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';

/** Ends `result`'s stream: its subscriber leaves the hub, and `onEnd` hooks (places) run. */
function endStream(result: AsyncIterable<unknown>): void {
  void Promise.resolve(result[Symbol.asyncIterator]().return?.()).catch(() => {});
}

/** What a batch answers for a subscription it held: a batch is written as one document. */
function inBatch(): { errors: GraphQLError[] } {
  return {
    errors: [
      new GraphQLError(
        'a subscription cannot run in a batch, whose answer is one document: send it alone',
        { extensions: { code: 'BATCH_REFUSED' } },
      ),
    ],
  };
}

/**
 * Ends an HTTP subscription that nobody will read. Yoga ends a subscription only when
 * the stream of its answer is cancelled; three answers are never read, and their
 * subscription held a hub subscriber and one of its token's places
 * (DOCKERGRAPH_MAX_SUBSCRIPTIONS_PER_TOKEN) until the server stopped:
 *
 * - an answer without a stream: a client that accepts only JSON is answered 406 after
 *   its subscription was set up;
 * - a batch's (DOCKERGRAPH_BATCHING), written as one JSON document: each subscription it
 *   held is answered with an error instead;
 * - the answer of a client that left while its subscription was being set up: the Node
 *   adapter does not write (nor cancel) an answer to a closed response, and a fetch
 *   handler's runtime drops the answer of an aborted request.
 *
 * After yoga's result processors (they come before every plugin of ours), which choose
 * how the answer is written.
 */
export function useAbandonedSubscriptions(): Plugin {
  return {
    onResultProcess({ request, result, resultProcessor, setResult }) {
      if (Array.isArray(result)) {
        // Typed as results, but a batch's subscriptions are streams.
        if (!result.some((one) => isAsyncIterable(one))) return;
        setResult(
          result.map((one) => {
            if (!isAsyncIterable(one)) return one;
            endStream(one);
            return inBatch();
          }),
        );
        return;
      }
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
