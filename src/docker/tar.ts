/**
 * Tar archives made in memory, enough for build contexts and archive uploads made
 * from text and small files: regular files and folders, with permission bits and a
 * modification time. Owner ids are 0 (root), which is what the engine gives files it
 * copies into an image anyway.
 *
 * The headers are node-tar's (`tar/header`, `tar/pax`, the encoder npm itself packs
 * with): a ustar header per member, preceded by a PAX extended header where ustar
 * cannot hold the path (over 100 bytes without a "/" that splits it into the `prefix`
 * and `name` fields, over 256 bytes, or not ASCII), so any path length works.
 * node-tar's streaming `Pack` reads files from disk and runs asynchronously; the two
 * encoders are synchronous and need no file system, so `createTar` stays synchronous.
 *
 * @module
 */

import { Header } from 'tar/header';
import { Pax } from 'tar/pax';

const BLOCK = 512;
/** The size field holds 11 octal digits; larger files would need a PAX size record. */
const MAX_SIZE = 8 ** 11 - 1;
const DEFAULT_FILE_MODE = 0o644;
const DEFAULT_FOLDER_MODE = 0o755;

/** One member of an archive. */
export interface TarEntry {
  /** Relative path with "/" between folders, e.g. "app/run.sh"; a folder's trailing "/" is optional. */
  readonly path: string;
  /** A regular file unless "folder". */
  readonly type?: 'file' | 'folder';
  /** Content of a file; text is written as UTF-8. Folders have none. */
  readonly content?: string | Uint8Array;
  /** Permission bits (up to 0o7777); 0o644 for files and 0o755 for folders when omitted. */
  readonly mode?: number;
  /** Modification time; the time of the call when omitted. */
  readonly modified?: Date;
}

/** A path (or mode) that cannot go into an archive; `path` is the one given. */
export class TarPathError extends Error {
  override readonly name = 'TarPathError';

  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`tar entry "${path}": ${problem}`);
  }
}

/** Splits a path into its folders and name, or says why it is not an acceptable archive path. */
function splitPath(path: string): string[] | string {
  if (path === '') return 'the path is empty';
  if (path.includes('\0')) return 'the path contains a NUL character';
  if (path.startsWith('/')) return 'the path must be relative (no leading "/")';
  const segments = path.replace(/\/$/, '').split('/');
  for (const segment of segments) {
    if (segment === '') return 'the path has an empty segment ("//")';
    if (segment === '.' || segment === '..')
      return `the path must not contain "${segment}" segments`;
  }
  return segments;
}

/**
 * Why `path` cannot be an archive member, or `null` when it can: relative, with no
 * empty, "." or ".." segments and no NUL. Any length works (PAX headers hold it).
 */
export function tarPathProblem(path: string): string | null {
  const segments = splitPath(path);
  return typeof segments === 'string' ? segments : null;
}

interface HeaderFields {
  readonly path: string;
  readonly folder: boolean;
  readonly mode: number;
  readonly size: number;
  readonly mtime: Date;
}

/** The header block of one member, after a PAX header when ustar cannot hold its path. */
function header(fields: HeaderFields): Buffer {
  const path = fields.folder ? `${fields.path}/` : fields.path;
  const ustar = new Header({
    path,
    mode: fields.mode,
    uid: 0,
    gid: 0,
    size: fields.size,
    mtime: fields.mtime,
    type: fields.folder ? 'Directory' : 'File',
    uname: '',
    gname: '',
    devmaj: 0,
    devmin: 0,
  });
  const block = Buffer.alloc(BLOCK);
  const needPax = ustar.encode(block);
  if (!needPax) return block;
  return Buffer.concat([new Pax({ path, mtime: fields.mtime }).encode(), block]);
}

function checkMode(path: string, mode: number): number {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    throw new TarPathError(path, `mode ${mode} is not a permission value from 0 to 0o7777 (4095)`);
  }
  return mode;
}

function toEntries(
  files: readonly TarEntry[] | Readonly<Record<string, string | Uint8Array>>,
): readonly TarEntry[] {
  if (Array.isArray(files)) return files;
  return Object.entries(files).map(([path, content]) => ({ path, content }));
}

/**
 * Builds a tar archive in memory. Folders that hold a given file but are not
 * given themselves are added before it (mode 0o755). Throws a
 * {@link TarPathError} for an unacceptable or repeated path, or a
 * path given both as a file and as a folder of another entry.
 *
 * `files` is a list of entries, or a map from path to file content.
 */
export function createTar(
  files: readonly TarEntry[] | Readonly<Record<string, string | Uint8Array>>,
): Buffer {
  const entries = toEntries(files);
  const now = Math.floor(Date.now() / 1000);
  const folderModes = new Map<string, number>();
  const filePaths = new Set<string>();
  const normalized = entries.map((entry) => {
    const segments = splitPath(entry.path);
    if (typeof segments === 'string') throw new TarPathError(entry.path, segments);
    const path = segments.join('/');
    const folder = entry.type === 'folder';
    if (folder && entry.content !== undefined && entry.content.length > 0) {
      throw new TarPathError(entry.path, 'a folder has no content');
    }
    if (folderModes.has(path) || filePaths.has(path)) {
      throw new TarPathError(entry.path, 'the path is given twice');
    }
    const mode = checkMode(
      entry.path,
      entry.mode ?? (folder ? DEFAULT_FOLDER_MODE : DEFAULT_FILE_MODE),
    );
    if (folder) folderModes.set(path, mode);
    else filePaths.add(path);
    const mtime = entry.modified ? Math.floor(entry.modified.getTime() / 1000) : now;
    if (!Number.isFinite(mtime) || mtime < 0) {
      throw new TarPathError(entry.path, 'the modification time is before 1970 or invalid');
    }
    return { entry, path, segments, folder, mode, mtime: new Date(mtime * 1000) };
  });

  const blocks: Buffer[] = [];
  const written = new Set<string>();
  for (const { entry, path, segments, folder, mode, mtime } of normalized) {
    for (let depth = 1; depth < segments.length; depth++) {
      const parent = segments.slice(0, depth).join('/');
      if (filePaths.has(parent)) {
        throw new TarPathError(entry.path, `"${parent}" is given as a file, not a folder`);
      }
      if (written.has(parent)) continue;
      written.add(parent);
      const parentMode = folderModes.get(parent) ?? DEFAULT_FOLDER_MODE;
      blocks.push(header({ path: parent, folder: true, mode: parentMode, size: 0, mtime }));
    }
    // A folder given after a file inside it was already written, with its given mode.
    if (written.has(path)) continue;
    written.add(path);
    if (folder) {
      blocks.push(header({ path, folder: true, mode, size: 0, mtime }));
      continue;
    }
    const content = entry.content ?? '';
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
    if (data.length > MAX_SIZE) {
      throw new TarPathError(
        entry.path,
        `the file is larger than the ${MAX_SIZE} bytes a tar size field holds`,
      );
    }
    blocks.push(
      header({ path, folder: false, mode, size: data.length, mtime }),
      data,
      Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK),
    );
  }
  // Two zero blocks end the archive.
  blocks.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(blocks);
}
