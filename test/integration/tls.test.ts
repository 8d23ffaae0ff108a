// "TLS to the engine (DOCKER_TLS_VERIFY/DOCKER_CERT_PATH, mutual TLS) is tested for real: the test
// starts a private dockerd with --tlsverify and certificates the test generates (openssl), and the
// facade connects through it; a wrong client certificate is refused with a clear error."
// The engine is an instance of this file's own (scripts/engine.sh with DOCKERGRAPH_ENGINE_TLS_DIR),
// in its own network namespace, reached from the host through a veth pair.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/gql.ts';
import { createTestApp } from '../helpers/app.ts';
import { type EngineInstance, startEngine, stopEngine } from '../helpers/engine.ts';
import { type CertificateSet, makeCertificates } from '../helpers/tls-certificates.ts';

/** Where the instance listens, inside its netns; scripts/engine.sh's default. */
const ENGINE_ADDRESS = '10.231.0.2';

const PingQuery = graphql(`
  query TlsPing {
    engine { ping { apiVersion } }
  }
`);

const ImagesQuery = graphql(`
  query TlsImages {
    engine { version { version } }
    images(filter: { references: ["dockergraph/busybox"] }) { edges { node { tags } } }
  }
`);

describe('mutual TLS to a dockerd started with --tlsverify (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH)', () => {
  let certificates: CertificateSet;
  let instance: EngineInstance;
  let tlsHost = '';

  beforeAll(async () => {
    certificates = makeCertificates([ENGINE_ADDRESS]);
    instance = { dir: '/tmp/dockergraph-tls', netns: 'dgtls', tlsDir: certificates.engine };
    // Whatever a crashed run left holds the certificates of that run: start afresh.
    await stopEngine(instance);
    const started = await startEngine(instance);
    if (!started.tlsHost) throw new Error('scripts/engine.sh reported no TLS address');
    tlsHost = started.tlsHost;
  });

  afterAll(async () => {
    try {
      await stopEngine(instance);
    } finally {
      rmSync(instance.dir, { recursive: true, force: true });
      certificates.cleanup();
    }
  });

  const appWith = (certPath: string) =>
    createTestApp({
      DOCKER_HOST: tlsHost,
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: certPath,
      DOCKERGRAPH_CONNECT_TIMEOUT_MS: '5000',
    });

  it('listens where the test expects, and a client without TLS is told what went wrong', async () => {
    expect(tlsHost).toBe(`tcp://${ENGINE_ADDRESS}:2376`);
    // DOCKER_TLS_VERIFY forgotten: plain HTTP to the TLS port.
    const app = createTestApp({ DOCKER_HOST: tlsHost });
    try {
      const result = await app.execute(ImagesQuery);
      expect(result.data).toBeNull();
      expect(result.errors?.[0]?.message).toBe(
        'ping the engine: Client sent an HTTP request to an HTTPS server.',
      );
    } finally {
      await app.close();
    }
  });

  it('reaches the engine with the right CA and client certificate', async () => {
    const app = appWith(certificates.good);
    try {
      const { engine } = await app.query(PingQuery);
      expect(engine.ping.apiVersion).toBe('1.41');
      const { images } = await app.query(ImagesQuery);
      expect(images.edges.map((edge) => edge.node.tags)).toEqual([['dockergraph/busybox:latest']]);
    } finally {
      await app.close();
    }
  });

  it('is refused with a client certificate the engine does not trust, and says so', async () => {
    const app = appWith(certificates.wrongClient);
    try {
      const result = await app.execute(PingQuery);
      expect(result.data).toBeNull();
      expect(result.errors?.[0]?.extensions?.code).toBe('ENGINE_UNAVAILABLE');
      // TLS 1.3: the engine checks the client certificate after the handshake, and closes.
      expect(result.errors?.[0]?.message).toBe(
        'ping the engine: the Docker engine closed the TLS connection; check that it trusts the client certificate',
      );
      // The engine's address is not the client's business.
      expect(result.errors?.[0]?.message).not.toContain(ENGINE_ADDRESS);
    } finally {
      await app.close();
    }
  });

  it('refuses an engine whose certificate its CA did not sign, naming the TLS failure', async () => {
    const app = appWith(certificates.wrongCa);
    try {
      const result = await app.execute(PingQuery);
      expect(result.errors?.[0]?.extensions?.code).toBe('ENGINE_UNAVAILABLE');
      expect(result.errors?.[0]?.message).toBe(
        'ping the engine: the TLS handshake with the Docker engine failed (UNABLE_TO_VERIFY_LEAF_SIGNATURE)',
      );
    } finally {
      await app.close();
    }
  });
});
