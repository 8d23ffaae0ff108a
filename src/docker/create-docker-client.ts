import type { Config } from '../config.ts';
import type { EngineDefinition } from '../engines-file.ts';
import { DockerClient } from './client.ts';
import { type EngineEndpoint, resolveDockerEndpoint } from './docker-host.ts';
import type { Transport, TransportOptions } from './transport.ts';

/** What an engine client is made from: where the engine is and how long it may take. */
export type EngineClientSettings = Pick<
  Config,
  'docker' | 'engineConnectTimeoutMs' | 'engineRequestTimeoutMs' | 'sharedReads'
>;

/**
 * The engine client of a configuration: the engine the docker CLI would use
 * (DOCKER_HOST, contexts, the default socket) with the configured timeouts,
 * over the transport `chooseTransport` picks (undici's pool when it gives none).
 */
export function createDockerClient(
  config: EngineClientSettings,
  chooseTransport?: (endpoint: EngineEndpoint, options: TransportOptions) => Transport | undefined,
): DockerClient {
  const endpoint = resolveDockerEndpoint(config.docker);
  const options = {
    connectTimeoutMs: config.engineConnectTimeoutMs,
    requestTimeoutMs: config.engineRequestTimeoutMs,
  };
  return DockerClient.create(
    endpoint,
    { ...options, sharedReads: config.sharedReads },
    chooseTransport?.(endpoint, options),
  );
}

/**
 * The client of one engine of several (`readEngineDefinitions`): as {@link createDockerClient},
 * from the definition's Docker settings and its own timeouts.
 */
export function createEngineClient(
  definition: EngineDefinition,
  chooseTransport?: (endpoint: EngineEndpoint, options: TransportOptions) => Transport | undefined,
  sharedReads = true,
): DockerClient {
  return createDockerClient(
    {
      docker: definition.docker,
      engineConnectTimeoutMs: definition.connectTimeoutMs,
      engineRequestTimeoutMs: definition.requestTimeoutMs,
      sharedReads,
    },
    chooseTransport,
  );
}
