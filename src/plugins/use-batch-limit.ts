import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../context.ts';

/** The error of a batched request (a JSON array of operations) that is not allowed. */
function batchRefused(size: number, maxBatchSize: number): GraphQLError {
  const message =
    maxBatchSize === 0
      ? `batched requests (a list of ${size} operations) are turned off: send one operation per request, or allow batches with DOCKERGRAPH_BATCHING=<most operations per request>`
      : `the request holds ${size} operations, the most one batch may hold is ${maxBatchSize} (DOCKERGRAPH_BATCHING)`;
  return new GraphQLError(message, {
    extensions: { code: 'BATCH_REFUSED', http: { status: maxBatchSize === 0 ? 400 : 413 } },
  });
}

/**
 * Refuses batched requests when batching is off (DOCKERGRAPH_BATCHING=0, the
 * default) and batches of more than `maxBatchSize` operations otherwise, once the
 * body is read and before any operation is parsed. Yoga's own check says less.
 */
export function useBatchLimit(maxBatchSize: number): Plugin<GraphQLContext> {
  return {
    onRequestParse() {
      return {
        onRequestParseDone({ requestParserResult }) {
          if (!Array.isArray(requestParserResult)) return;
          if (maxBatchSize === 0 || requestParserResult.length > maxBatchSize) {
            throw batchRefused(requestParserResult.length, maxBatchSize);
          }
        },
      };
    },
  };
}
