// The one way tests make a raw Engine API client (fixtures, observers, second clients).
import { DockerClient } from '../../src/docker/client.ts';
import { resolveDockerEndpoint } from '../../src/docker/docker-host.ts';

/** Timeouts of a test's engine client. */
export interface EngineClientTimeouts {
  readonly connectTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /** Whether views of the client share reads (src/docker/shared-reads.ts); true unless false. */
  readonly sharedReads?: boolean;
}

/**
 * A client of the engine at `dockerHost` (a `unix://` or `tcp://` address), without
 * TLS and without the docker CLI's configuration; 5 s to connect and 120 s a request
 * unless `timeouts` says otherwise.
 */
export function createEngineClient(
  dockerHost: string,
  timeouts: EngineClientTimeouts = {},
): DockerClient {
  return DockerClient.create(
    resolveDockerEndpoint({ dockerHost, tlsVerify: false, configDir: '/nonexistent' }),
    {
      connectTimeoutMs: timeouts.connectTimeoutMs ?? 5_000,
      requestTimeoutMs: timeouts.requestTimeoutMs ?? 120_000,
      ...(timeouts.sharedReads === undefined ? {} : { sharedReads: timeouts.sharedReads }),
    },
  );
}
