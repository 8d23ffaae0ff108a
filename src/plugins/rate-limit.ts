import { GraphQLError } from 'graphql';
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
