import { describe, expect, it } from 'vitest';
import { type BuildSpecInput, checkBuild } from '../../src/docker/build-spec.ts';
import { InvalidInputError } from '../../src/docker/errors.ts';
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
  it('makes the context of an inline Dockerfile and its files, with the options given', () => {
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
    const files = readTar(options.context)
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
