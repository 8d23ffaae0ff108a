import type { DockerClient } from './docker/client.ts';
import type { EventHub } from './docker/event-hub.ts';
import { createLoaders, type Loaders } from './loaders.ts';

/** What every resolver of one GraphQL operation shares. */
export interface GraphQLContext {
  /** The engine client, bound to the request's abort signal. */
  readonly docker: DockerClient;
  /** Batched, de-duplicated engine reads for this operation only. */
  readonly loaders: Loaders;
  /** Name of the engine, carried inside global IDs. */
  readonly engineName: string;
  /** The engine's event stream, shared by every subscription. */
  readonly events: EventHub;
  /**
   * Replaces `loaders` with fresh ones. A subscription keeps one context for all its
   * events, which are executed one after the other: each must read the engine anew.
   */
  renewLoaders(): void;
}

/** Builds the context of one operation: a request-scoped client view and fresh loaders. */
export function createContext(
  docker: DockerClient,
  engineName: string,
  signal: AbortSignal | undefined,
  events: EventHub,
): GraphQLContext {
  const scoped = docker.withSignal(signal);
  const loaders = createLoaders(scoped);
  return {
    docker: scoped,
    loaders,
    engineName,
    events,
    renewLoaders() {
      // In place: envelop copies the context's properties into the one resolvers get.
      Object.assign(loaders, createLoaders(scoped));
    },
  };
}
