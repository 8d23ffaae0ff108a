import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { graphql } from '../generated/gql.ts';
import { createTestApp } from '../helpers/app.ts';
import { type CertificateSet, makeCertificates, startTlsProxy } from '../helpers/tls-proxy.ts';

const PingQuery = graphql(`
  query TlsPing {
    engine { ping { apiVersion } }
  }
`);

describe('mutual TLS to the engine (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH)', () => {
  let certificates: CertificateSet;
  let proxy: Awaited<ReturnType<typeof startTlsProxy>>;

  beforeAll(async () => {
    certificates = makeCertificates();
    proxy = await startTlsProxy(certificates, new URL(inject('dockerHost')).pathname);
  });
  afterAll(async () => {
    await proxy.close();
    certificates.cleanup();
  });

  const appWith = (certPath: string) =>
    createTestApp({
      DOCKER_HOST: `tcp://127.0.0.1:${proxy.port}`,
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: certPath,
    });

  it('reaches the engine with the right CA and client certificate', async () => {
    const app = appWith(certificates.good);
    try {
      const { engine } = await app.query(PingQuery);
      expect(engine.ping.apiVersion).toBe('1.41');
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
      expect(result.errors?.[0]?.message).toMatch(
        /^ping the engine: the Docker engine closed the TLS connection; check that it trusts the client certificate$|TLS handshake with the Docker engine failed/,
      );
      expect(result.errors?.[0]?.message).not.toContain(String(proxy.port));
    } finally {
      await app.close();
    }
  });

  it('refuses an engine whose certificate its CA did not sign, naming the TLS failure', async () => {
    const app = appWith(certificates.wrongCa);
    try {
      const result = await app.execute(PingQuery);
      expect(result.errors?.[0]?.extensions?.code).toBe('ENGINE_UNAVAILABLE');
      expect(result.errors?.[0]?.message).toMatch(
        /TLS handshake with the Docker engine failed \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\)/,
      );
    } finally {
      await app.close();
    }
  });
});
