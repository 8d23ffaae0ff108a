import { describe, expect, it } from 'vitest';
import {
  type BuildSpecInput,
  checkBuild,
  checkImportUrl,
  refusalField,
} from '../../src/docker/build-spec.ts';
import { InvalidInputError } from '../../src/docker/errors.ts';
import { encodeRegistryConfig } from '../../src/docker/registry-auth.ts';
import { readTar } from '../helpers/tar.ts';

const dockerfile = 'FROM dockergraph/busybox:latest\n';

/** The field and message of the InvalidInputError a build is refused with. */
function refusal(
  input: BuildSpecInput,
  upload: (() => Buffer) | null = null,
): { field: string | null; message: string } {
  try {
    checkBuild(input, upload);
  } catch (error) {
    if (error instanceof InvalidInputError) return { field: error.field, message: error.message };
    throw error;
  }
  throw new Error('expected an InvalidInputError');
}

describe('checkBuild', () => {
  it('makes the context of an inline Dockerfile and its files, with the options given', async () => {
    const { options, inline } = checkBuild(
      {
        dockerfile,
        dockerfilePath: 'build/Dockerfile',
        files: [{ path: 'app/run.sh', content: 'echo hi\n', mode: 0o755 }],
        tags: ['app:1'],
        buildArgs: [{ name: 'V', value: '1' }],
        target: 'final',
      },
      null,
    );
    expect(inline).toBe(true);
    expect(options).toMatchObject({
      dockerfile: 'build/Dockerfile',
      tags: ['app:1'],
      buildArgs: { V: '1' },
      target: 'final',
    });
    if (!Buffer.isBuffer(options.context)) throw new Error('expected an in-memory context');
    const files = (await readTar(options.context))
      .filter((entry) => entry.type === 'file')
      .map((entry) => [entry.name, entry.content.toString()]);
    expect(files).toEqual([
      ['build/Dockerfile', dockerfile],
      ['app/run.sh', 'echo hi\n'],
    ]);
  });

  it('opens an uploaded context only once the input is found right', () => {
    let opened = 0;
    const upload = () => {
      opened += 1;
      return Buffer.alloc(0);
    };
    expect(refusal({ tags: ['Upper/Case:x'] }, upload).field).toBe('input.tags[0]');
    expect(opened).toBe(0);
    expect(checkBuild({}, upload).inline).toBe(false);
    expect(opened).toBe(1);
  });

  it.each<[string, BuildSpecInput, boolean, string, string]>([
    ['neither Dockerfile nor context', {}, false, 'input.dockerfile', 'or an uploaded context'],
    ['both Dockerfile and context', { dockerfile }, true, 'input.dockerfile', 'not both'],
    [
      'files beside an upload',
      { files: [{ path: 'a', content: '' }] },
      true,
      'input.files',
      'put them in the uploaded context',
    ],
    ['an empty Dockerfile', { dockerfile: ' \n' }, false, 'input.dockerfile', 'must not be empty'],
    [
      'a bad tag',
      { dockerfile, tags: ['app:ok', 'Upper/Case:x'] },
      false,
      'input.tags[1]',
      '"Upper"',
    ],
    ['a bad stage name', { dockerfile, target: '1st' }, false, 'input.target', 'not a stage name'],
    [
      'a path outside the context',
      {
        dockerfile,
        files: [
          { path: 'ok', content: '' },
          { path: '../etc/passwd', content: '' },
        ],
      },
      false,
      'input.files[1].path',
      '".."',
    ],
    [
      'a folder as a file',
      { dockerfile, files: [{ path: 'app/', content: '' }] },
      false,
      'input.files[0].path',
      'names a folder',
    ],
    [
      'a file at the Dockerfile path',
      { dockerfile, files: [{ path: 'Dockerfile', content: '' }] },
      false,
      'input.files[0].path',
      'input.dockerfilePath',
    ],
    [
      'a mode out of range',
      { dockerfile, files: [{ path: 'a', content: '', mode: 0o10000 }] },
      false,
      'input.files[0].mode',
      'not a permission value',
    ],
    [
      "a file that is another file's folder",
      {
        dockerfile,
        files: [
          { path: 'a', content: '' },
          { path: 'a/b', content: '' },
        ],
      },
      false,
      'input.files[1].path',
      'given as a file',
    ],
  ])('refuses %s, naming the field', (_what, input, withUpload, field, words) => {
    const answer = refusal(input, withUpload ? () => Buffer.alloc(0) : null);
    expect(answer.field).toBe(field);
    expect(answer.message).toContain(words);
  });

  it('passes the network, cache and resource options of the RUN steps', () => {
    const { options } = checkBuild(
      {
        dockerfile,
        networkMode: 'none',
        extraHosts: ['db.local:10.1.2.3', 'gw:host-gateway'],
        cacheFrom: ['app:cache'],
        cpuShares: 512,
        cpusetCpus: '0-1,3',
        cpuPeriodMicroseconds: 100000,
        cpuQuotaMicroseconds: 50000,
        memoryBytes: 64 * 1024 * 1024,
        memorySwapBytes: -1,
      },
      null,
    );
    expect(options).toMatchObject({
      networkMode: 'none',
      extraHosts: ['db.local:10.1.2.3', 'gw:host-gateway'],
      cacheFrom: ['app:cache'],
      cpuShares: 512,
      cpusetCpus: '0-1,3',
      cpuPeriod: 100000,
      cpuQuota: 50000,
      memory: 64 * 1024 * 1024,
      memorySwap: -1,
    });
  });

  it.each([
    [{ networkMode: 'my net' }, 'input.networkMode'],
    [{ extraHosts: ['db.local'] }, 'input.extraHosts[0]'],
    [{ extraHosts: ['ok:10.0.0.1', 'a:10.0.0.1,b:10.0.0.2'] }, 'input.extraHosts[1]'],
    [{ cacheFrom: ['app cache'] }, 'input.cacheFrom[0]'],
    [{ cpuShares: 0 }, 'input.cpuShares'],
    [{ cpuPeriodMicroseconds: -1 }, 'input.cpuPeriodMicroseconds'],
    [{ cpuQuotaMicroseconds: 1.5 }, 'input.cpuQuotaMicroseconds'],
    [{ cpusetCpus: '0-' }, 'input.cpusetCpus'],
    [{ memoryBytes: 1024 }, 'input.memoryBytes'],
    [{ memorySwapBytes: -1 }, 'input.memorySwapBytes'],
    [{ memoryBytes: 64 * 1024 * 1024, memorySwapBytes: 1024 * 1024 }, 'input.memorySwapBytes'],
  ] as const)('refuses %j naming the field', (input, field) => {
    expect(refusal({ dockerfile, ...input }).field).toBe(field);
  });
});

describe('a remote build context', () => {
  it.each([
    'https://example.com/app.tar.gz',
    'http://10.0.0.5:8080/context.tar',
    'https://github.com/docker/app.git#main:build',
    'git://example.com/app.git',
  ])('sends %s as the remote context, with no body', (remoteContext) => {
    const { options, inline, remote } = checkBuild(
      { remoteContext, dockerfilePath: 'build/Dockerfile' },
      null,
    );
    expect(options.remote).toBe(remoteContext);
    expect(options.context).toBeUndefined();
    expect(options.dockerfile).toBe('build/Dockerfile');
    expect({ inline, remote }).toEqual({ inline: false, remote: true });
  });

  it.each([
    ['ftp://example.com/app.tar', /not an http:\/\/, https:\/\/ or git:\/\/ URL/],
    ['file:///etc/passwd', /not an http/],
    ['ssh://git@example.com/app.git', /not an http/],
    ['git@github.com:docker/app.git', /not a URL|not an http/],
    ['example.com/app.tar', /not a URL/],
    ['https://user:secret@example.com/app.git', /credentials/],
    ['https://token@example.com/app.git', /credentials/],
    ['https://example.com/a b.tar', /not an http/],
  ])('refuses %s naming input.remoteContext', (remoteContext, message) => {
    const { field, message: said } = refusal({ remoteContext });
    expect(field).toBe('input.remoteContext');
    expect(said).toMatch(message);
    // The credentials of a refused URL are not repeated in the answer.
    expect(said).not.toContain('secret');
  });

  it('is exclusive with an inline Dockerfile, files and an uploaded context', () => {
    const remoteContext = 'https://example.com/app.tar';
    expect(refusal({ remoteContext, dockerfile }).field).toBe('input.dockerfile');
    expect(refusal({ remoteContext, files: [{ path: 'a', content: 'x' }] }).field).toBe(
      'input.files',
    );
    let opened = 0;
    const upload = () => {
      opened += 1;
      return Buffer.alloc(0);
    };
    expect(refusal({ remoteContext }, upload).field).toBe('input.remoteContext');
    expect(opened).toBe(0);
    expect(refusal({ remoteContext, dockerfilePath: '../Dockerfile' }).field).toBe(
      'input.dockerfilePath',
    );
  });

  it('names input.remoteContext when the engine cannot fetch it', () => {
    expect(refusalField('remote', false, true)).toBe('input.remoteContext');
    expect(refusalField('context', false, true)).toBe('input.remoteContext');
    expect(refusalField('context', false, false)).toBe('context');
  });
});

describe('registry credentials of a build', () => {
  it('are keyed by registry host, as X-Registry-Config sends them', () => {
    const { options } = checkBuild(
      {
        dockerfile,
        registryAuth: [
          { registry: 'Registry.Example.com:5000', username: 'jane', password: 'hunter2' },
          { registry: 'docker.io', identityToken: 'tok' },
        ],
      },
      null,
    );
    expect(options.registryConfig).toEqual({
      'registry.example.com:5000': {
        username: 'jane',
        password: 'hunter2',
        serverAddress: 'registry.example.com:5000',
      },
      'docker.io': { identityToken: 'tok', serverAddress: 'docker.io' },
    });
    if (!options.registryConfig) throw new Error('expected registry credentials');
    const header = encodeRegistryConfig(options.registryConfig);
    // Base64url, padded as Go's URLEncoding decodes it.
    expect(header).toMatch(/^[A-Za-z0-9_-]+=*$/);
    expect(JSON.parse(Buffer.from(header, 'base64url').toString('utf8'))).toEqual({
      'registry.example.com:5000': {
        username: 'jane',
        password: 'hunter2',
        serveraddress: 'registry.example.com:5000',
      },
      'docker.io': { identitytoken: 'tok', serveraddress: 'docker.io' },
    });
  });

  it('sends no credentials when none are given', () => {
    expect(checkBuild({ dockerfile }, null).options.registryConfig).toBeUndefined();
    expect(
      checkBuild({ dockerfile, registryAuth: [] }, null).options.registryConfig,
    ).toBeUndefined();
  });

  it.each([
    [
      [{ registry: 'https://registry.example.com', username: 'u', password: 'p' }],
      'input.registryAuth[0].registry',
    ],
    [[{ registry: 'r.example.com' }], 'input.registryAuth[0]'],
    [[{ registry: 'r.example.com', username: 'u' }], 'input.registryAuth[0].password'],
    [[{ registry: 'r.example.com', password: 'p' }], 'input.registryAuth[0]'],
    [
      [{ registry: 'r.example.com', username: ' ', password: 'p' }],
      'input.registryAuth[0].username',
    ],
    [
      [{ registry: 'r.example.com', username: 'u', password: 'p', identityToken: 't' }],
      'input.registryAuth[0].identityToken',
    ],
    [
      [
        { registry: 'r.example.com', identityToken: 't' },
        { registry: 'R.example.com', identityToken: 't2' },
      ],
      'input.registryAuth[1].registry',
    ],
  ] as const)('refuses %j naming the field, without echoing the secret', (registryAuth, field) => {
    const { field: named, message } = refusal({ dockerfile, registryAuth });
    expect(named).toBe(field);
    expect(message).not.toMatch(/\bp\b|\bt2?\b/);
  });
});

describe('checkImportUrl', () => {
  it('takes an http(s) URL of an archive', () => {
    expect(checkImportUrl('fromUrl', 'https://example.com/rootfs.tar.gz')).toBe(
      'https://example.com/rootfs.tar.gz',
    );
  });

  it.each([
    'git://example.com/rootfs.git',
    'file:///tmp/rootfs.tar',
    '-',
    'rootfs.tar',
    'https://user:pw@example.com/rootfs.tar',
  ])('refuses %s naming fromUrl', (url) => {
    expect(() => checkImportUrl('fromUrl', url)).toThrow(
      expect.objectContaining({ field: 'fromUrl' }),
    );
  });
});
