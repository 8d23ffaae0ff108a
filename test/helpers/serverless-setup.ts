// globalSetup of the "serverless" project: the remote engine the serverless targets reach
// over TCP with mutual TLS (an engine instance of its own, in its own netns, reached through
// a veth pair), and the artifacts of `npm run build` the targets run.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildTargets } from '../../scripts/build.ts';
import { type EngineInstance, startEngine, stopEngine } from './engine.ts';
import { makeCertificates } from './tls-certificates.ts';

/** The remote engine as the serverless tests see it. */
export interface RemoteEngine {
  /** `tcp://<address>:2376`. */
  readonly dockerHost: string;
  /** The engine's address, for runtimes that connect by address (workerd). */
  readonly address: string;
  readonly port: number;
  /** PEM text of the CA, the client certificate and its key: DOCKER_TLS_CA/CERT/KEY. */
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    remoteEngine: RemoteEngine;
  }
}

// Names and addresses of an instance of its own; a developer running beside others picks
// other ones through these variables.
const instanceOf = (env: NodeJS.ProcessEnv) => ({
  dir: env.DOCKERGRAPH_REMOTE_ENGINE_DIR ?? '/tmp/dockergraph-remote',
  netns: env.DOCKERGRAPH_REMOTE_ENGINE_NETNS ?? 'dgremote',
  tlsAddress: env.DOCKERGRAPH_REMOTE_ENGINE_ADDRESS ?? '10.232.0.2',
  tlsHostAddress: env.DOCKERGRAPH_REMOTE_ENGINE_HOST_ADDRESS ?? '10.232.0.1',
});

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const base = instanceOf(process.env);
  const certificates = makeCertificates([base.tlsAddress]);
  const instance: EngineInstance = { ...base, tlsDir: certificates.engine };
  // Whatever a crashed run left holds the certificates of that run: start afresh.
  await stopEngine(instance);
  const [started] = await Promise.all([startEngine(instance), buildTargets()]);
  if (!started.tlsHost) throw new Error('scripts/engine.sh reported no TLS address');
  const read = (name: string) => readFileSync(join(certificates.good, name), 'utf8');
  project.provide('remoteEngine', {
    dockerHost: started.tlsHost,
    address: base.tlsAddress,
    port: 2376,
    ca: read('ca.pem'),
    cert: read('cert.pem'),
    key: read('key.pem'),
  });
  return async () => {
    try {
      await stopEngine(instance);
    } finally {
      rmSync(instance.dir, { recursive: true, force: true });
      certificates.cleanup();
    }
  };
}
