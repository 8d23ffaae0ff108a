import type { Redis } from 'ioredis';
import {
  checkBucketOptions,
  decideFromBucket,
  type RateDecision,
  type RateLimitStore,
  UNLIMITED,
} from './rate-limiter.ts';

/**
 * The token bucket of {@link RateLimiter}, kept in Redis so that every replica takes
 * from one budget. One Lua script reads, refills and takes atomically; time is the
 * Redis server's (`TIME`), so replicas with skewed clocks agree. A bucket expires
 * two windows after its last use (it is full again by then). Redis 5 and later
 * replicate a script's effects, which allows `TIME` before the writes.
 */
const TAKE_SCRIPT = `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local count = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = limit
  at = now
end
tokens = math.min(limit, tokens + math.max(0, now - at) * limit / window)
local taken = 0
if tokens >= count then
  tokens = tokens - count
  taken = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], window * 2)
return { taken, tostring(tokens) }
`;

export interface RedisRateLimiterOptions {
  /** The connection, opened on first use. */
  readonly redis: () => Promise<Redis>;
  /** Prefix of the bucket keys (`<prefix>rate:<key>`). */
  readonly prefix: string;
  /** Operations a key may run per window; 0 turns the limit off. */
  readonly limit: number;
  readonly windowMs: number;
}

/** Rate-limit buckets shared by every replica through one Redis. */
export class RedisRateLimiter implements RateLimitStore {
  readonly limit: number;
  readonly windowMs: number;
  readonly #redis: () => Promise<Redis>;
  readonly #prefix: string;

  constructor({ redis, prefix, limit, windowMs }: RedisRateLimiterOptions) {
    checkBucketOptions(limit, windowMs);
    this.limit = limit;
    this.windowMs = windowMs;
    this.#redis = redis;
    this.#prefix = prefix;
  }

  get enabled(): boolean {
    return this.limit > 0;
  }

  async take(key: string, count = 1): Promise<RateDecision> {
    if (!this.enabled) return UNLIMITED;
    // EVAL: the script is short, and EVALSHA would need a NOSCRIPT retry after a Redis restart.
    const answer: unknown = await (await this.#redis()).eval(
      TAKE_SCRIPT,
      1,
      `${this.#prefix}rate:${key}`,
      String(this.limit),
      String(this.windowMs),
      String(count),
    );
    if (!Array.isArray(answer) || answer.length !== 2) {
      throw new Error(`unexpected answer of the rate-limit script: ${JSON.stringify(answer)}`);
    }
    const [taken, tokens] = answer as [unknown, unknown];
    const left = Number(tokens);
    if ((taken !== 0 && taken !== 1) || !Number.isFinite(left)) {
      throw new Error(`unexpected answer of the rate-limit script: ${JSON.stringify(answer)}`);
    }
    return decideFromBucket(this.limit, this.windowMs, count, left, taken === 1);
  }
}
