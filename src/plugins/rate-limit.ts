import { GraphQLError } from 'graphql';
import type { Principal } from '../security/principal.ts';
import type { RateDecision, RateLimitStore } from '../security/rate-limiter.ts';

/** The bucket of a principal: its token's, or one shared by every request when no token is configured. */
function rateLimitKey(principal: Principal): string {
  return principal.tokenId === null ? 'local' : `token:${principal.tokenId}`;
}

function describeLimit(limiter: RateLimitStore): string {
  return `${limiter.limit} operations per ${limiter.windowMs / 1_000} s (DOCKERGRAPH_RATE_LIMIT, DOCKERGRAPH_RATE_LIMIT_WINDOW_SECONDS)`;
}

/**
 * Takes `count` operations from the principal's bucket: null when they may run,
 * otherwise the RATE_LIMITED error to answer, saying when to retry (in its
 * message, `extensions.retryAfterSeconds`, and the HTTP `Retry-After` header), or
 * RATE_LIMIT_UNAVAILABLE when a shared store does not answer (`onStoreError` hears why).
 */
export async function admitOperations(
  limiter: RateLimitStore,
  principal: Principal,
  count: number,
  onStoreError: (error: unknown) => void,
): Promise<GraphQLError | null> {
  let decision: RateDecision;
  try {
    decision = await limiter.take(rateLimitKey(principal), count);
  } catch (error) {
    onStoreError(error);
    // Refused, not let through: a limit that lapses when its store is down is no limit.
    return new GraphQLError(
      'the rate limit cannot be checked: its store (DOCKERGRAPH_REDIS_URL) does not answer; retry shortly',
      { extensions: { code: 'RATE_LIMIT_UNAVAILABLE', http: { status: 503 } } },
    );
  }
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
