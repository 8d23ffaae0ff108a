import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../context.ts';
import type { Principal } from '../security/principal.ts';
import type { RateLimiter } from '../security/rate-limiter.ts';

/** The bucket of a principal: its token's, or one shared by every request when no token is configured. */
function rateLimitKey(principal: Principal): string {
  return principal.tokenId === null ? 'local' : `token:${principal.tokenId}`;
}

function describeLimit(limiter: RateLimiter): string {
  return `${limiter.limit} operations per ${limiter.windowMs / 1_000} s (DOCKERGRAPH_RATE_LIMIT, DOCKERGRAPH_RATE_LIMIT_WINDOW_SECONDS)`;
}

/**
 * Takes `count` operations from the principal's bucket: null when they may run,
 * otherwise the RATE_LIMITED error to answer, saying when to retry (in its
 * message, `extensions.retryAfterSeconds`, and the HTTP `Retry-After` header).
 */
export function admitOperations(
  limiter: RateLimiter,
  principal: Principal,
  count: number,
): GraphQLError | null {
  const decision = limiter.take(rateLimitKey(principal), count);
  if (decision.allowed) return null;
  const who = principal.tokenId === null ? 'this server' : `token "${principal.tokenId}"`;
  if (decision.retryAfterMs === null) {
    return new GraphQLError(
      `the request holds ${count} operations, more than the rate limit of ${who} allows at once: ${describeLimit(limiter)}`,
      { extensions: { code: 'RATE_LIMITED', http: { status: 429 } } },
    );
  }
  const retryAfterSeconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1_000));
  return new GraphQLError(
    `rate limit exceeded: ${who} may run ${describeLimit(limiter)}; retry in ${retryAfterSeconds} s`,
    {
      extensions: {
        code: 'RATE_LIMITED',
        retryAfterSeconds,
        http: { status: 429, headers: { 'retry-after': String(retryAfterSeconds) } },
      },
    },
  );
}

/**
 * Counts every GraphQL operation of an HTTP request against its principal's
 * rate limit (each operation of a batch counts) once the body is read and
 * before anything is parsed, and answers 429 with `Retry-After` when over it.
 * WebSocket operations are counted in src/server.ts with {@link admitOperations}.
 */
export function useRateLimit(
  limiter: RateLimiter,
  principals: WeakMap<Request, Principal>,
): Plugin<GraphQLContext> {
  return {
    onRequestParse({ request }) {
      const principal = principals.get(request);
      if (!principal || !limiter.enabled) return;
      return {
        onRequestParseDone({ requestParserResult }) {
          const count = Array.isArray(requestParserResult) ? requestParserResult.length : 1;
          const refusal = admitOperations(limiter, principal, count);
          if (refusal) throw refusal;
        },
      };
    },
  };
}
