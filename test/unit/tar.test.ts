// The tar writer, checked by the system's GNU tar: what it lists and what it extracts.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTar, TarPathError, tarPathProblem } from '../../src/docker/tar.ts';

const run = promisify(execFile);

describe('createTar', () => {
  let workDir = '';
  let archives = 0;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'dg-tar-'));
  });

  afterAll(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  /** Writes the archive, lets tar list it verbosely and extract it; returns the folder. */
  async function extract(tar: Buffer): Promise<{ dir: string; listing: string[] }> {
    archives += 1;
    const file = join(workDir, `a${archives}.tar`);
    const dir = join(workDir, `x${archives}`);
    await writeFile(file, tar);
    await run('mkdir', [dir]);
    const { stdout } = await run('tar', ['--list', '--file', file]);
    // --same-permissions keeps the modes exactly, whoever runs the test (no umask).
    await run('tar', ['--extract', '--same-permissions', '--file', file, '--directory', dir]);
    return { dir, listing: stdout.trim().split('\n') };
  }

  const modeOf = async (path: string) => (await stat(path)).mode & 0o7777;

  it('writes files with their content, modes and times, and the folders above them', async () => {
    const modified = new Date('2021-03-04T05:06:07Z');
    const { dir, listing } = await extract(
      createTar([
        { path: 'Dockerfile', content: 'FROM scratch\n' },
        { path: 'bin/run.sh', content: '#!/bin/sh\necho hi\n', mode: 0o755, modified },
        { path: 'data/deep/café.txt', content: 'é€\n' },
        { path: 'data/blob.bin', content: new Uint8Array([0, 1, 2, 255]) },
        { path: 'private', type: 'folder', mode: 0o700 },
        { path: 'empty.txt', content: '' },
      ]),
    );
    expect(listing).toEqual([
      'Dockerfile',
      'bin/',
      'bin/run.sh',
      'data/',
      'data/deep/',
      'data/deep/café.txt',
      'data/blob.bin',
      'private/',
      'empty.txt',
    ]);
    expect(await readFile(join(dir, 'Dockerfile'), 'utf8')).toBe('FROM scratch\n');
    expect(await readFile(join(dir, 'data/deep/café.txt'), 'utf8')).toBe('é€\n');
    expect([...(await readFile(join(dir, 'data/blob.bin')))]).toEqual([0, 1, 2, 255]);
    expect(await readFile(join(dir, 'empty.txt'), 'utf8')).toBe('');
    expect(await modeOf(join(dir, 'Dockerfile'))).toBe(0o644);
    expect(await modeOf(join(dir, 'bin/run.sh'))).toBe(0o755);
    expect(await modeOf(join(dir, 'data/deep'))).toBe(0o755);
    expect(await modeOf(join(dir, 'private'))).toBe(0o700);
    expect((await stat(join(dir, 'private'))).isDirectory()).toBe(true);
    expect((await stat(join(dir, 'bin/run.sh'))).mtime).toEqual(modified);
  });

  it('gives an implicit folder the mode of its later entry, and writes it once', async () => {
    const { dir, listing } = await extract(
      createTar([
        { path: 'conf/app.ini', content: 'x=1\n' },
        { path: 'conf/', type: 'folder', mode: 0o750 },
      ]),
    );
    expect(listing).toEqual(['conf/', 'conf/app.ini']);
    expect(await modeOf(join(dir, 'conf'))).toBe(0o750);
  });

  it('accepts the map form: path to content', async () => {
    const { dir, listing } = await extract(createTar({ 'a.txt': 'a', 'b/c.txt': 'c' }));
    expect(listing).toEqual(['a.txt', 'b/', 'b/c.txt']);
    expect(await readFile(join(dir, 'b/c.txt'), 'utf8')).toBe('c');
  });

  it('stores paths longer than 100 bytes in the ustar prefix field', async () => {
    const folders = `${'f'.repeat(60)}/${'g'.repeat(60)}/${'h'.repeat(30)}`;
    const path = `${folders}/${'n'.repeat(90)}.txt`;
    expect(Buffer.byteLength(path)).toBeGreaterThan(240);
    const tar = createTar([{ path, content: 'long\n' }]);
    // GNU tar would have written a ././@LongLink entry; ustar uses the prefix field at 345.
    expect(tar.includes('././@LongLink')).toBe(false);
    const { dir, listing } = await extract(tar);
    expect(listing.at(-1)).toBe(path);
    expect(await readFile(join(dir, path), 'utf8')).toBe('long\n');
  });

  it('stores paths ustar cannot hold (over 256 bytes, unsplittable) in PAX headers', async () => {
    const tooLong = `${'d/'.repeat(130)}x`;
    const unsplittable = `${'u'.repeat(20)}/${'n'.repeat(120)}`;
    const longFolderName = `${'p'.repeat(160)}/name`;
    const folder = 'q'.repeat(150);
    const nested = `${folder}/${'n'.repeat(90)}`;
    const deep = `${'long-folder-name/'.repeat(20)}file.txt`;
    expect(Buffer.byteLength(tooLong)).toBe(261);
    expect(Buffer.byteLength(deep)).toBeGreaterThan(256);
    for (const path of [tooLong, unsplittable, longFolderName, nested, deep]) {
      expect(tarPathProblem(path)).toBeNull();
    }
    const tar = createTar([
      { path: tooLong, content: 'too long\n' },
      { path: unsplittable, content: 'unsplittable\n' },
      { path: longFolderName, content: 'long folder\n' },
      { path: nested, content: 'nested\n' },
      { path: deep, content: 'deep\n', mode: 0o600 },
    ]);
    // PAX extended headers ("x" entries), not GNU's ././@LongLink.
    expect(tar.includes('././@LongLink')).toBe(false);
    const { dir, listing } = await extract(tar);
    for (const path of [tooLong, unsplittable, longFolderName, nested, deep]) {
      expect(listing).toContain(path);
    }
    expect(listing).toContain(`${folder}/`);
    expect(await readFile(join(dir, tooLong), 'utf8')).toBe('too long\n');
    expect(await readFile(join(dir, unsplittable), 'utf8')).toBe('unsplittable\n');
    expect(await readFile(join(dir, longFolderName), 'utf8')).toBe('long folder\n');
    expect(await readFile(join(dir, nested), 'utf8')).toBe('nested\n');
    expect(await readFile(join(dir, deep), 'utf8')).toBe('deep\n');
    expect(await modeOf(join(dir, deep))).toBe(0o600);
  });

  it('refuses unsafe, empty, repeated and conflicting paths and bad modes', () => {
    const problem = (entries: Parameters<typeof createTar>[0]) => {
      try {
        createTar(entries);
      } catch (error) {
        expect(error).toBeInstanceOf(TarPathError);
        return error instanceof TarPathError ? error.problem : '';
      }
      throw new Error('createTar accepted the entries');
    };
    expect(problem([{ path: '/etc/passwd' }])).toMatch(/relative/);
    expect(problem([{ path: '../escape' }])).toMatch(/"\.\." segments/);
    expect(problem([{ path: 'a/./b' }])).toMatch(/"\." segments/);
    expect(problem([{ path: 'a//b' }])).toMatch(/empty segment/);
    expect(problem([{ path: '' }])).toMatch(/empty/);
    expect(problem([{ path: 'a' }, { path: 'a' }])).toMatch(/given twice/);
    expect(problem([{ path: 'a' }, { path: 'a/b' }])).toMatch(/"a" is given as a file/);
    expect(problem([{ path: 'x', mode: 0o10000 }])).toMatch(/mode 4096/);
    expect(problem([{ path: 'x', mode: -1 }])).toMatch(/mode -1/);
    expect(problem([{ path: 'd', type: 'folder', content: 'x' }])).toMatch(/no content/);
    expect(tarPathProblem('fine/path.txt')).toBeNull();
  });

  it('pads every member to 512-byte blocks and ends with two zero blocks', () => {
    const tar = createTar([{ path: 'x', content: 'y'.repeat(513) }]);
    // Header, two data blocks, two end blocks.
    expect(tar.length).toBe(512 * 5);
    expect(tar.subarray(512 * 3).every((byte) => byte === 0)).toBe(true);
  });
});
