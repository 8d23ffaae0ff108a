import type { DockerClient } from './docker/client.ts';
import { createLoaders, type Loaders } from './loaders.ts';

/** What every resolver of one GraphQL operation shares. */
export interface GraphQLContext {
  /** The engine client, bound to the request's abort signal. */
  readonly docker: DockerClient;
  /** Batched, de-duplicated engine reads for this operation only. */
  readonly loaders: Loaders;
  /** Name of the engine, carried inside global IDs. */
  readonly engineName: string;
}

/** Builds the context of one operation: a request-scoped client view and fresh loaders. */
export function createContext(
  docker: DockerClient,
  engineName: string,
  signal: AbortSignal | undefined,
): GraphQLContext {
  const scoped = docker.withSignal(signal);
  return { docker: scoped, loaders: createLoaders(scoped), engineName };
}
