import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  EngineError,
  EngineNotFoundError,
  errorFromResponse,
  RegistryAuthError,
} from '../../src/docker/errors.ts';
import {
  parseImageReference,
  registryOf,
  withDefaultTag,
} from '../../src/docker/image-reference.ts';
import {
  type ProgressEvent,
  RegistryUnreachableError,
  readProgress,
  registryFailure,
} from '../../src/docker/progress.ts';
import { encodeRegistryAuth } from '../../src/docker/registry-auth.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));

async function* chunks(bytes: Uint8Array, size: number) {
  for (let offset = 0; offset < bytes.length; offset += size)
    yield bytes.subarray(offset, offset + size);
}

describe('readProgress on captured streams', () => {
  it('reads a whole pull to its end, in any chunking', async () => {
    for (const size of [1, 7, 1 << 20]) {
      const events: ProgressEvent[] = [];
      await readProgress(chunks(fixture('pull.bin'), size), 'pull', {
        onEvent: (event) => events.push(event),
      });
      expect(events.at(-1)?.status).toMatch(/^Status: /);
      expect(events.some((event) => event.status?.startsWith('Digest: sha256:'))).toBe(true);
    }
  });

  it('collects build output and the built image id', async () => {
    const events: ProgressEvent[] = [];
    await readProgress(chunks(fixture('build.bin'), 5), 'build', {
      onEvent: (event) => events.push(event),
    });
    expect(events.some((event) => event.aux?.ID?.startsWith('sha256:'))).toBe(true);
    expect(events.filter((event) => event.stream).length).toBeGreaterThan(0);
  });

  it('throws the failure a build reported inside its HTTP 200 answer', async () => {
    const failure = readProgress(chunks(fixture('build-fail.bin'), 3), 'build image');
    await expect(failure).rejects.toBeInstanceOf(EngineError);
    await expect(failure).rejects.toThrow(/^build image: /);
  });

  it('classifies registry refusals and missing images', async () => {
    const line = (message: string) =>
      Buffer.from(
        `{"status":"Pulling"}\r\n{"errorDetail":{"message":"${message}"},"error":"${message}"}\r\n`,
      );
    const auth = readProgress(chunks(line('unauthorized: authentication required'), 4), 'push', {
      registry: 'r:5000',
    });
    await expect(auth).rejects.toBeInstanceOf(RegistryAuthError);
    await expect(auth).rejects.toMatchObject({ registry: 'r:5000' });
    await expect(
      readProgress(chunks(line('manifest unknown: manifest unknown'), 4), 'pull'),
    ).rejects.toBeInstanceOf(EngineNotFoundError);
  });
});

describe('registry credentials', () => {
  it('encodes X-Registry-Auth as padded URL-safe base64 JSON with the engine’s field names', () => {
    // The engine's decoder (Go's base64.URLEncoding) needs the padding: without it the
    // credentials are silently dropped.
    expect(encodeRegistryAuth(undefined)).toBe('e30=');
    const encoded = encodeRegistryAuth({ username: 'u', password: 'p?>', serverAddress: 'r:5000' });
    expect(encoded).not.toMatch(/[+/]/);
    expect(encoded.length % 4).toBe(0);
    expect(JSON.parse(Buffer.from(encoded, 'base64url').toString())).toEqual({
      username: 'u',
      password: 'p?>',
      serveraddress: 'r:5000',
    });
  });

  it('finds the registry of a reference', () => {
    expect(registryOf('busybox')).toBe('docker.io');
    expect(registryOf('library/busybox:1')).toBe('docker.io');
    expect(registryOf('127.0.0.1:5000/app:1')).toBe('127.0.0.1:5000');
    expect(registryOf('localhost/app')).toBe('localhost');
    expect(registryOf('ghcr.io/org/app')).toBe('ghcr.io');
  });
});

describe('image references', () => {
  it('splits a reference into registry, path, tag and digest as the engine does', () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    expect(parseImageReference('busybox')).toEqual({
      registry: null,
      path: 'busybox',
      tag: null,
      digest: null,
    });
    expect(parseImageReference('127.0.0.1:5000/team/app:1.2')).toEqual({
      registry: '127.0.0.1:5000',
      path: 'team/app',
      tag: '1.2',
      digest: null,
    });
    expect(parseImageReference(`localhost/app:v1@${digest}`)).toEqual({
      registry: 'localhost',
      path: 'app',
      tag: 'v1',
      digest,
    });
    expect(parseImageReference('my_org/app-name__x.y')).toMatchObject({
      path: 'my_org/app-name__x.y',
    });
  });

  it('pulls one tag of a bare repository name, not every tag', () => {
    expect(withDefaultTag('busybox')).toBe('busybox:latest');
    expect(withDefaultTag('127.0.0.1:5000/team/app')).toBe('127.0.0.1:5000/team/app:latest');
    expect(withDefaultTag('127.0.0.1:5000/team/app:1.2')).toBe('127.0.0.1:5000/team/app:1.2');
    expect(withDefaultTag('app@sha256:abc')).toBe('app@sha256:abc');
  });

  it('says why a string is not a reference', () => {
    for (const [reference, problem] of [
      ['App', /"App" is not a repository name component/],
      ['app:', /"" is not a tag/],
      ['app:-x', /is not a tag/],
      ['app@sha256:12', /is not a digest/],
      ['reg:port/app', /"reg:port" is not a registry/],
      ['team//app', /"" is not a repository name component/],
      [':v1', /names no repository/],
      [`${'a'.repeat(256)}:v1`, /longer than 255/],
    ] as const) {
      const parsed = parseImageReference(reference);
      expect('problem' in parsed && parsed.problem, reference).toMatch(problem);
    }
  });
});

describe('registry failures the engine answers with HTTP 500', () => {
  const what = 'pull image "r:5000/app:v1"';
  const engine500 = (message: string) => errorFromResponse(500, JSON.stringify({ message }), what);

  it('classifies refused credentials and unreachable registries, keeping the engine’s words', () => {
    const auth = registryFailure(
      engine500('unauthorized: authentication required'),
      what,
      'r:5000',
    );
    expect(auth).toBeInstanceOf(RegistryAuthError);
    expect(auth).toMatchObject({
      registry: 'r:5000',
      message: `${what}: unauthorized: authentication required`,
    });

    const refused = 'Get "http://r:5000/v2/": dial tcp 10.0.0.1:5000: connect: connection refused';
    const unreachable = registryFailure(engine500(refused), what, 'r:5000');
    expect(unreachable).toBeInstanceOf(RegistryUnreachableError);
    expect(unreachable).toMatchObject({
      kind: 'ENGINE_ERROR',
      status: 500,
      message: `${what}: the registry r:5000 could not be reached: ${refused}`,
    });
  });

  it('leaves other failures as they are', () => {
    const other = engine500('devmapper: thin pool full');
    expect(registryFailure(other, what, 'r:5000')).toBe(other);
    const conflict = errorFromResponse(409, '{"message":"unauthorized"}', what);
    expect(registryFailure(conflict, what, 'r:5000')).toBe(conflict);
  });
});
