import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { RateLimiter, type RateLimitStore } from '../security/rate-limiter.ts';
import { RedisRateLimiter } from '../security/redis-rate-limiter.ts';
import {
  type OperationRegistry,
  PersistedOperations,
  RedisPersistedOperations,
} from './persisted-operations.ts';

/**
 * What the HTTP app and the WebSocket server share so that their limits are
 * one: the rate-limit buckets, and the registered operations. With
 * DOCKERGRAPH_REDIS_URL both live in Redis, shared by every replica.
 */
export interface RequestGuards {
  readonly rateLimiter: RateLimitStore;
  /** Null unless DOCKERGRAPH_PERSISTED_OPERATIONS_FILE or _REDIS_KEY is set. */
  readonly persistedOperations: OperationRegistry | null;
  /** Told why a shared store did not answer (the request is refused meanwhile). */
  readonly onStoreError: (error: unknown) => void;
  /** Closes the Redis connection, if one was opened. */
  close(): Promise<void>;
}

/** How long a Redis command may take before the request it guards is refused. */
const REDIS_COMMAND_TIMEOUT_MS = 2_000;

/**
 * One Redis connection for the guards, opened on first use: the client is loaded only
 * where DOCKERGRAPH_REDIS_URL is set (the Workers build has no TCP sockets for it).
 */
function lazyRedis(url: string, onError: (error: unknown) => void, onReady: () => void) {
  let connection: Promise<Redis> | undefined;
  return {
    get(): Promise<Redis> {
      connection ??= import('ioredis').then(({ Redis: RedisClient }) => {
        const client = new RedisClient(url, {
          // A command fails at once when Redis is away, rather than queueing while
          // the request it guards waits.
          enableOfflineQueue: false,
          maxRetriesPerRequest: 1,
          commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
          connectTimeout: REDIS_COMMAND_TIMEOUT_MS,
          lazyConnect: true,
        });
        client.on('error', onError);
        // Connected, or connected again after an outage.
        client.on('ready', onReady);
        return client.connect().then(
          () => client,
          (error: unknown) => {
            // The next request tries again.
            connection = undefined;
            client.disconnect();
            throw error;
          },
        );
      });
      return connection;
    },
    async close(): Promise<void> {
      const opened = connection;
      connection = undefined;
      if (!opened) return;
      try {
        await (await opened).quit();
      } catch {
        // Never connected, or already gone: nothing to close.
      }
    },
  };
}

/** Builds the guards of `config`; `now` is the in-memory rate limiter's clock (tests move it by hand). */
export function createRequestGuards(
  config: Pick<Config, 'limits' | 'security' | 'redis'>,
  now: () => number = Date.now,
  logger?: Logger,
): RequestGuards {
  const file = config.security.persistedOperationsFile;
  const redisKey = config.security.persistedOperationsRedisKey;
  // Once per outage (until the connection is ready again), not once per refused request.
  let reported = false;
  const onStoreError = (error: unknown) => {
    if (reported) return;
    reported = true;
    logger?.error('the shared store (DOCKERGRAPH_REDIS_URL) does not answer', {
      error: error instanceof Error ? error.message : String(error),
    });
  };
  const { redis } = config;
  if (!redis) {
    return {
      rateLimiter: new RateLimiter({
        limit: config.limits.rateLimit,
        windowMs: config.limits.rateLimitWindowMs,
        now,
      }),
      persistedOperations: file === undefined ? null : PersistedOperations.load(file),
      onStoreError,
      close: async () => {},
    };
  }
  const connection = lazyRedis(redis.url, onStoreError, () => {
    reported = false;
  });
  return {
    rateLimiter: new RedisRateLimiter({
      redis: () => connection.get(),
      prefix: redis.prefix,
      limit: config.limits.rateLimit,
      windowMs: config.limits.rateLimitWindowMs,
    }),
    persistedOperations:
      redisKey !== undefined
        ? new RedisPersistedOperations(() => connection.get(), redisKey)
        : file === undefined
          ? null
          : PersistedOperations.load(file),
    onStoreError,
    close: () => connection.close(),
  };
}
