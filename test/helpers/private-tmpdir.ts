// A suite's servers write their temporary files (uploads, an audit log) into a directory of
// the suite's own, so that what they leave there is seen, and removed with it.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

export interface PrivateTmpdir {
  /** The directory, once the suite started. */
  path(): string;
  /** The upload folders (`dockergraph-upload-…`) the server has left there. */
  uploadFolders(): string[];
}

/**
 * Points TMPDIR at a fresh directory before the `beforeAll` hooks registered after this
 * call (start the server there), and puts it back after their `afterAll` hooks (vitest runs
 * those in reverse order), removing the directory.
 */
export function usePrivateTmpdir(prefix: string): PrivateTmpdir {
  const previous = process.env.TMPDIR;
  let directory = '';
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), prefix));
    process.env.TMPDIR = directory;
  });
  afterAll(() => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(directory, { recursive: true, force: true });
  });
  return {
    path: () => directory,
    uploadFolders: () =>
      readdirSync(directory).filter((name) => name.startsWith('dockergraph-upload-')),
  };
}
