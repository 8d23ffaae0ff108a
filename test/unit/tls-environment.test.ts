// TLS material as PEM text in DOCKER_TLS_CA, DOCKER_TLS_CERT and DOCKER_TLS_KEY (for functions,
// which have no certificate folders), on certificates openssl made.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { describeEndpoint, resolveDockerEndpoint } from '../../src/docker/docker-host.ts';
import { createFetchTransport } from '../../src/docker/fetch-transport.ts';
import { makeCertificates } from '../helpers/tls-certificates.ts';

const certificates = makeCertificates(['10.0.0.5']);
afterAll(() => certificates.cleanup());
const pem = (name: string) => readFileSync(join(certificates.good, name), 'utf8');
const base = { HOME: '/nonexistent', DOCKER_HOST: 'tcp://10.0.0.5' };
const full = {
  ...base,
  DOCKER_TLS_CA: pem('ca.pem'),
  DOCKER_TLS_CERT: pem('cert.pem'),
  DOCKER_TLS_KEY: pem('key.pem'),
};
const failure = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('loadConfig accepted the configuration');
};

describe('DOCKER_TLS_CA, DOCKER_TLS_CERT, DOCKER_TLS_KEY', () => {
  it('give mutual TLS, verified, on the TLS port, without reading any file', () => {
    const endpoint = resolveDockerEndpoint(loadConfig(full).docker, (path) => {
      throw new Error(`read ${path}`);
    });
    expect(endpoint).toMatchObject({ kind: 'tcp', host: '10.0.0.5', port: 2376 });
    if (endpoint.kind !== 'tcp' || endpoint.tls === null) throw new Error('no TLS');
    expect(endpoint.tls.ca?.toString()).toBe(pem('ca.pem'));
    expect(endpoint.tls.cert?.toString()).toBe(pem('cert.pem'));
    expect(endpoint.tls.key?.toString()).toBe(pem('key.pem'));
    expect(describeEndpoint(endpoint)).toBe(
      'tcp://10.0.0.5:2376 (TLS: verified, custom CA, client certificate) from DOCKER_HOST',
    );
  });

  it('accept newlines written as \\n, as one-line settings fields store them', () => {
    const oneLine = (text: string) => text.replaceAll('\n', '\\n');
    const config = loadConfig({
      ...base,
      DOCKER_TLS_CERT: oneLine(pem('cert.pem')),
      DOCKER_TLS_KEY: oneLine(pem('key.pem')),
    });
    expect(config.docker.tlsPem).toEqual({ cert: pem('cert.pem'), key: pem('key.pem') });
    const endpoint = resolveDockerEndpoint(config.docker);
    expect(describeEndpoint(endpoint)).toBe(
      'tcp://10.0.0.5:2376 (TLS: verified, system CAs, client certificate) from DOCKER_HOST',
    );
  });

  it('refuse a file name or other text where PEM belongs, naming the variable', () => {
    expect(failure({ ...base, DOCKER_TLS_CA: '/certs/ca.pem' })).toBe(
      `DOCKER_TLS_CA must hold PEM text (a "-----BEGIN ...CERTIFICATE-----" block), not a file name: put the file's contents in it, or its folder in DOCKER_CERT_PATH`,
    );
    expect(failure({ ...full, DOCKER_TLS_KEY: pem('cert.pem') })).toBe(
      'DOCKER_TLS_KEY must hold PEM text (a "-----BEGIN ...PRIVATE KEY-----" block)',
    );
  });

  it('refuse a certificate without its key, and the reverse', () => {
    expect(failure({ ...base, DOCKER_TLS_CERT: pem('cert.pem') })).toBe(
      'DOCKER_TLS_CERT is set without DOCKER_TLS_KEY: a client certificate and its key go together',
    );
    expect(failure({ ...base, DOCKER_TLS_KEY: pem('key.pem') })).toBe(
      'DOCKER_TLS_KEY is set without DOCKER_TLS_CERT: a client certificate and its key go together',
    );
  });

  it('refuse ambiguity with DOCKER_CERT_PATH, and a missing or unix DOCKER_HOST', () => {
    expect(failure({ ...full, DOCKER_CERT_PATH: certificates.good })).toMatch(
      /^DOCKER_CERT_PATH and DOCKER_TLS_CA\/DOCKER_TLS_CERT\/DOCKER_TLS_KEY are both set/,
    );
    const { DOCKER_HOST: _, ...withoutHost } = full;
    expect(failure(withoutHost)).toMatch(
      /need DOCKER_HOST \(e\.g\. tcp:\/\/engine\.example:2376\)/,
    );
    const unix = loadConfig({ ...full, DOCKER_HOST: 'unix:///var/run/docker.sock' });
    expect(() => resolveDockerEndpoint(unix.docker)).toThrow(
      'DOCKER_TLS_CA/DOCKER_TLS_CERT/DOCKER_TLS_KEY apply to a TCP engine, but DOCKER_HOST names the unix socket /var/run/docker.sock',
    );
  });
});

describe('DOCKERGRAPH_ENGINE_TRANSPORT and the fetch transport', () => {
  it('reads auto, undici or fetch, and names the variable otherwise', () => {
    expect(loadConfig(base).engineTransport).toBe('auto');
    expect(loadConfig({ ...base, DOCKERGRAPH_ENGINE_TRANSPORT: 'fetch' }).engineTransport).toBe(
      'fetch',
    );
    expect(failure({ ...base, DOCKERGRAPH_ENGINE_TRANSPORT: 'curl' })).toBe(
      'DOCKERGRAPH_ENGINE_TRANSPORT must be auto, undici or fetch, got "curl"',
    );
  });

  it('refuses what plain fetch cannot do: unix sockets and client certificates', () => {
    const options = { connectTimeoutMs: 1_000, requestTimeoutMs: 1_000 };
    expect(() =>
      createFetchTransport({ kind: 'unix', socketPath: '/var/run/docker.sock' }, options),
    ).toThrow(/reaches TCP engines only; DOCKER_HOST names a unix socket/);
    const endpoint = resolveDockerEndpoint(loadConfig(full).docker);
    expect(() => createFetchTransport(endpoint, options)).toThrow(
      /^the fetch transport cannot use a client certificate, a custom CA \(DOCKER_TLS_\*, DOCKER_CERT_PATH\): fetch has no TLS options; on Cloudflare Workers bind an mTLS certificate as DOCKER_ENGINE/,
    );
    // With an engine binding, the binding presents the certificate.
    expect(() =>
      createFetchTransport(endpoint, options, (request) => fetch(request)),
    ).not.toThrow();
  });
});
