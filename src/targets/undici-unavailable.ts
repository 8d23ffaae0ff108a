/**
 * Stands in for undici in the Workers bundle (scripts/build.ts aliases it): Workers
 * have no sockets for its pool, and the fetch transport is chosen there instead.
 */
export class Pool {
  constructor() {
    throw new Error(
      'undici is not available in Cloudflare Workers: set DOCKERGRAPH_ENGINE_TRANSPORT=fetch (the default there)',
    );
  }
}
