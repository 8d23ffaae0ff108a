import type { Config } from '../config.ts';
import { DockerClient } from './client.ts';
import { resolveDockerEndpoint } from './docker-host.ts';

/** What an engine client is made from: where the engine is and how long it may take. */
export type EngineClientSettings = Pick<
  Config,
  'docker' | 'engineConnectTimeoutMs' | 'engineRequestTimeoutMs'
>;

/**
 * The engine client of a configuration: the engine the docker CLI would use
 * (DOCKER_HOST, contexts, the default socket) with the configured timeouts.
 */
export function createDockerClient(config: EngineClientSettings): DockerClient {
  return DockerClient.create(resolveDockerEndpoint(config.docker), {
    connectTimeoutMs: config.engineConnectTimeoutMs,
    requestTimeoutMs: config.engineRequestTimeoutMs,
  });
}
