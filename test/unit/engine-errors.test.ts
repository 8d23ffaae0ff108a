import { describe, expect, it } from 'vitest';
import {
  EngineConflictError,
  EngineError,
  errorFromResponse,
  errorFromTransport,
} from '../../src/docker/errors.ts';
import { fromEventTimestamp, toEventTimestamp } from '../../src/docker/events.ts';
import { encodeFilters, encodePathSegment } from '../../src/docker/filters.ts';
import {
  compareApiVersions,
  negotiateApiVersion,
  parsePingHeaders,
} from '../../src/docker/version.ts';

describe('errorFromResponse', () => {
  it.each([
    [404, 'NOT_FOUND'],
    [409, 'CONFLICT'],
    [304, 'NOT_MODIFIED'],
    [400, 'BAD_REQUEST'],
    [500, 'ENGINE_ERROR'],
  ] as const)('maps HTTP %i to %s with the engine message', (status, kind) => {
    const error = errorFromResponse(
      status,
      '{"message":"No such container: web"}\n',
      'inspect container "web"',
    );
    expect(error).toBeInstanceOf(EngineError);
    expect(error.kind).toBe(kind);
    expect(error.status).toBe(status);
    expect(error.message).toBe('inspect container "web": No such container: web');
  });

  it("maps Podman's HTTP 500 for a name or object in use to a conflict, and other 500s not", () => {
    const podman = (cause: string) =>
      errorFromResponse(
        500,
        JSON.stringify({ cause, message: `it failed: ${cause}`, response: 500 }),
        'create container "web"',
      );
    for (const cause of [
      'that name is already in use',
      'container state improper',
      'network is being used',
    ]) {
      const error = podman(cause);
      expect(error).toBeInstanceOf(EngineConflictError);
      expect(error.kind).toBe('CONFLICT');
      expect(error.status).toBe(500);
      expect(error.message).toBe(`create container "web": it failed: ${cause}`);
    }
    expect(podman('OCI runtime error')).not.toBeInstanceOf(EngineConflictError);
    expect(podman('OCI runtime error').kind).toBe('ENGINE_ERROR');
  });

  it('keeps plain-text bodies and says the status when the body is empty', () => {
    expect(errorFromResponse(502, 'Bad Gateway', 'list containers').message).toBe(
      'list containers: Bad Gateway',
    );
    expect(errorFromResponse(500, '', 'list containers').message).toBe(
      'list containers: engine answered HTTP 500',
    );
    expect(errorFromResponse(304, '', 'start container').message).toBe(
      'start container: not modified',
    );
  });
});

describe('errorFromTransport', () => {
  const withCode = (code: string) =>
    Object.assign(new Error(`connect ${code} /var/run/secret.sock`), { code });

  it('reports refused and missing sockets as unavailable, never naming the socket', () => {
    for (const code of ['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'UND_ERR_SOCKET']) {
      const error = errorFromTransport(withCode(code), 'list containers');
      expect(error).toBeInstanceOf(EngineError);
      expect((error as EngineError).kind).toBe('ENGINE_UNAVAILABLE');
      expect((error as EngineError).message).toBe(
        'list containers: the Docker engine is unavailable',
      );
    }
  });

  it('reports timeouts and TLS failures distinctly', () => {
    expect((errorFromTransport(withCode('UND_ERR_CONNECT_TIMEOUT'), 'x') as EngineError).kind).toBe(
      'ENGINE_TIMEOUT',
    );
    expect((errorFromTransport(withCode('UND_ERR_HEADERS_TIMEOUT'), 'x') as EngineError).kind).toBe(
      'ENGINE_TIMEOUT',
    );
    const tls = errorFromTransport(withCode('ERR_TLS_CERT_ALTNAME_INVALID'), 'x') as EngineError;
    expect(tls.kind).toBe('ENGINE_UNAVAILABLE');
    expect(tls.message).toBe(
      'x: the TLS handshake with the Docker engine failed (ERR_TLS_CERT_ALTNAME_INVALID)',
    );
  });

  it('explains a TLS connection the engine closed: how TLS 1.3 refuses a client certificate', () => {
    const closed = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    expect((errorFromTransport(closed, 'x', true) as EngineError).message).toBe(
      'x: the Docker engine closed the TLS connection; check that it trusts the client certificate',
    );
    expect((errorFromTransport(closed, 'x', false) as EngineError).message).toBe(
      'x: the Docker engine is unavailable',
    );
  });

  it('finds the code on a wrapped cause and passes aborts through', () => {
    const wrapped = new Error('fetch failed', { cause: withCode('ECONNREFUSED') });
    expect((errorFromTransport(wrapped, 'x') as EngineError).kind).toBe('ENGINE_UNAVAILABLE');
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    expect(errorFromTransport(abort, 'x')).toBe(abort);
  });
});

describe('API version negotiation', () => {
  it('uses the lower of the engine version and ours', () => {
    expect(negotiateApiVersion('1.41', '1.51')).toBe('1.41');
    expect(negotiateApiVersion('1.56', '1.51')).toBe('1.51');
    expect(compareApiVersions('1.9', '1.10')).toBeLessThan(0);
  });

  it('reads ping headers, recognising Podman', () => {
    const docker = parsePingHeaders({
      'api-version': '1.41',
      ostype: 'linux',
      'docker-experimental': 'false',
    });
    expect(docker).toMatchObject({
      apiVersion: '1.41',
      osType: 'linux',
      experimental: false,
      podmanApiVersion: null,
    });
    const podman = parsePingHeaders({ 'api-version': '1.41', 'libpod-api-version': '5.2.0' });
    expect(podman.podmanApiVersion).toBe('5.2.0');
    expect(parsePingHeaders({}).apiVersion).toBe('1.24');
  });
});

describe('filters and paths', () => {
  it('encodes typed filters as the engine reads them, leaving empty ones out', () => {
    expect(
      encodeFilters({ label: ['a=b', 'c'], status: ['running'], name: [], id: undefined }),
    ).toBe('{"label":["a=b","c"],"status":["running"]}');
    expect(encodeFilters({ name: [] })).toBeUndefined();
  });

  it('escapes names in paths, keeping the slashes of image references', () => {
    expect(encodePathSegment('../etc?x=1')).toBe('..%2Fetc%3Fx%3D1');
    expect(encodePathSegment('registry:5000/app:1.0', true)).toBe('registry%3A5000/app%3A1.0');
  });
});

describe('event timestamps', () => {
  it('reads back what it writes, with or without nanoseconds', () => {
    expect(fromEventTimestamp(toEventTimestamp(1_796_490_715_954_329_546n))).toBe(
      1_796_490_715_954_329_546n,
    );
    expect(fromEventTimestamp('1796490715')).toBe(1_796_490_715_000_000_000n);
    expect(fromEventTimestamp('1796490715.5')).toBe(1_796_490_715_500_000_000n);
    expect(fromEventTimestamp('2026-12-05T17:00:00Z')).toBeNull();
  });
});
