import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EngineError, EngineNotFoundError, RegistryAuthError } from '../../src/docker/errors.ts';
import { type ProgressEvent, readProgress } from '../../src/docker/progress.ts';
import { encodeRegistryAuth, registryOf } from '../../src/docker/registry-auth.ts';

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
  it('encodes X-Registry-Auth as base64url JSON with the engine’s field names', () => {
    expect(encodeRegistryAuth(undefined)).toBe('e30');
    const encoded = encodeRegistryAuth({ username: 'u', password: 'p?>', serverAddress: 'r:5000' });
    expect(encoded).not.toMatch(/[+/=]/);
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
