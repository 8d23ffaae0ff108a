/**
 * Stands in for ioredis in the Workers bundle (scripts/build.ts aliases it): Workers
 * open no TCP connections for its client, so DOCKERGRAPH_REDIS_URL cannot be used there.
 */
export class Redis {
  constructor() {
    throw new Error(
      'Redis (DOCKERGRAPH_REDIS_URL) is not available in Cloudflare Workers: unset it; each isolate then keeps its own rate limit',
    );
  }
}
