/**
 * Token buckets, one per key (a token id): each holds up to `limit` operations and
 * refills continuously at `limit` per `windowMs`, so a client may burst up to the
 * limit and then runs at the sustained rate. Pure: time comes from `now`.
 */

/** What {@link RateLimiter.take} decided. */
export type RateDecision =
  | { readonly allowed: true; readonly remaining: number }
  | {
      readonly allowed: false;
      /**
       * Milliseconds until `count` operations would be allowed; null when `count` is
       * more than the bucket holds, so that waiting never helps.
       */
      readonly retryAfterMs: number | null;
    };

export interface RateLimiterOptions {
  /** Operations a key may run per window (the bucket size); 0 turns the limit off. */
  readonly limit: number;
  readonly windowMs: number;
  /** Milliseconds since some fixed point; `Date.now` unless a test injects a clock. */
  readonly now?: () => number;
}

/**
 * Where the buckets live: this process ({@link RateLimiter}), or a store every replica
 * shares (`redis-rate-limiter.ts`). `take` may answer later; it throws when the
 * store cannot be reached, and the caller refuses rather than letting operations through.
 */
export interface RateLimitStore {
  readonly limit: number;
  readonly windowMs: number;
  /** Whether the limit is on. */
  readonly enabled: boolean;
  take(key: string, count?: number): RateDecision | Promise<RateDecision>;
}

/** Checks the bucket size and window every store shares; throws a RangeError naming the wrong one. */
export function checkBucketOptions(limit: number, windowMs: number): void {
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError('limit must be an integer >= 0');
  if (!(windowMs > 0)) throw new RangeError('windowMs must be positive');
}

/** What a store answers while the limit is off (`limit` 0). */
export const UNLIMITED: RateDecision = { allowed: true, remaining: Number.POSITIVE_INFINITY };

/** The decision for `tokens` left in a bucket of `limit` after asking for `count`. */
export function decideFromBucket(
  limit: number,
  windowMs: number,
  count: number,
  tokens: number,
  taken: boolean,
): RateDecision {
  if (taken) return { allowed: true, remaining: Math.floor(tokens) };
  if (count > limit) return { allowed: false, retryAfterMs: null };
  const perMs = limit / windowMs;
  return { allowed: false, retryAfterMs: Math.ceil((count - tokens) / perMs) };
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Per-key token buckets. Keys are few (one per configured token), so buckets are kept. */
export class RateLimiter implements RateLimitStore {
  readonly limit: number;
  readonly windowMs: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor({ limit, windowMs, now = Date.now }: RateLimiterOptions) {
    checkBucketOptions(limit, windowMs);
    this.limit = limit;
    this.windowMs = windowMs;
    this.#now = now;
  }

  /** Whether the limit is on. */
  get enabled(): boolean {
    return this.limit > 0;
  }

  /**
   * Takes `count` operations from `key`'s bucket when it holds that many: all or
   * nothing, so that a refused batch costs nothing.
   */
  take(key: string, count = 1): RateDecision {
    if (!this.enabled) return UNLIMITED;
    const now = this.#now();
    const bucket = this.#refilled(key, now);
    const taken = bucket.tokens >= count;
    if (taken) bucket.tokens -= count;
    return decideFromBucket(this.limit, this.windowMs, count, bucket.tokens, taken);
  }

  #refilled(key: string, now: number): Bucket {
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = { tokens: this.limit, updatedAt: now };
      this.#buckets.set(key, bucket);
      return bucket;
    }
    // A clock that goes back (NTP) refills nothing rather than taking tokens away.
    const elapsed = Math.max(0, now - bucket.updatedAt);
    bucket.tokens = Math.min(this.limit, bucket.tokens + (elapsed * this.limit) / this.windowMs);
    bucket.updatedAt = now;
    return bucket;
  }
}
