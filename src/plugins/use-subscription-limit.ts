import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../context.ts';
import { PlacesPerToken } from '../security/places-per-token.ts';
import { whenSubscriptionEnds } from './use-masked-results.ts';

/**
 * At most `maxPerToken` subscriptions of one token live at once, over every transport
 * (WebSocket, SSE, the serverless handlers' SSE): the next is answered with an error,
 * code `TOO_MANY_SUBSCRIPTIONS`, until one of them ends. Each live subscription holds a
 * subscriber of a shared stream and its execution (about 29 kB); the rate limit only
 * slows their opening and the bound per WebSocket connection does not stop a token from
 * opening more connections, or SSE streams, so without this one token could hold as many
 * as it had time to open. Without tokens configured, every request counts as one token.
 */
export function useSubscriptionLimit(maxPerToken: number): Plugin<GraphQLContext> {
  const live = new PlacesPerToken(maxPerToken);
  return {
    onSubscribe({ args, setResultAndStopExecution }) {
      const end = live.take(args.contextValue.principal.tokenId);
      if (!end) {
        setResultAndStopExecution({
          errors: [
            new GraphQLError(
              `this token already has ${maxPerToken} live subscriptions, the most one token may have (DOCKERGRAPH_MAX_SUBSCRIPTIONS_PER_TOKEN): end one first`,
              { extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' } },
            ),
          ],
        });
        return;
      }
      return {
        onSubscribeResult({ result }) {
          // An early error (bad variables, a refused field) is a result, not a stream.
          whenSubscriptionEnds(result, end);
        },
      };
    },
  };
}
