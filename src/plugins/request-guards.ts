import type { Config } from '../config.ts';
import { RateLimiter } from '../security/rate-limiter.ts';
import { PersistedOperations } from './persisted-operations.ts';

/**
 * What the HTTP app and the WebSocket server share so that their limits are
 * one: the rate-limit buckets, and the registered operations.
 */
export interface RequestGuards {
  readonly rateLimiter: RateLimiter;
  /** Null unless DOCKERGRAPH_PERSISTED_OPERATIONS_FILE is set. */
  readonly persistedOperations: PersistedOperations | null;
}

/** Builds the guards of `config`; `now` is the rate limiter's clock (tests move it by hand). */
export function createRequestGuards(
  config: Pick<Config, 'limits' | 'security'>,
  now: () => number = Date.now,
): RequestGuards {
  const file = config.security.persistedOperationsFile;
  return {
    rateLimiter: new RateLimiter({
      limit: config.limits.rateLimit,
      windowMs: config.limits.rateLimitWindowMs,
      now,
    }),
    persistedOperations: file === undefined ? null : PersistedOperations.load(file),
  };
}
