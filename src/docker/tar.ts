/**
 * A writer of POSIX ustar archives, enough for build contexts and archive
 * uploads made from text and small files: regular files and folders, with
 * permission bits and a modification time. Owner ids are 0 (root), which is
 * what the engine gives files it copies into an image anyway.
 *
 * Ustar stores a path in two header fields: `name` (100 bytes) and `prefix`
 * (155 bytes), joined by a "/" the archive does not store. A longer path, or
 * one without a "/" at a place that splits it into those sizes, cannot be
 * written and is refused with a {@link TarPathError}.
 *
 * @module
 */

const BLOCK = 512;
const NAME_BYTES = 100;
const PREFIX_BYTES = 155;
/** The size field holds 11 octal digits. */
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

/** A path (or mode) that cannot go into a ustar archive; `path` is the one given. */
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
 * The ustar `prefix` and `name` fields of a path, or why it does not fit:
 * at most 100 bytes after the last "/" used as the split, and 155 before it.
 */
function ustarNameFields(path: string): { prefix: Buffer; name: Buffer } | string {
  const bytes = Buffer.from(path, 'utf8');
  if (bytes.length <= NAME_BYTES) return { prefix: Buffer.alloc(0), name: bytes };
  if (bytes.length > PREFIX_BYTES + 1 + NAME_BYTES) {
    return `the path is ${bytes.length} bytes long; ustar archives hold at most ${PREFIX_BYTES + 1 + NAME_BYTES}`;
  }
  // The earliest "/" whose remainder fits the name field leaves the most room for the prefix.
  // A folder's trailing "/" belongs to the name, never to the split.
  for (let slash = bytes.indexOf(0x2f); slash !== -1; slash = bytes.indexOf(0x2f, slash + 1)) {
    const name = bytes.subarray(slash + 1);
    if (name.length === 0 || name.length > NAME_BYTES) continue;
    if (slash > PREFIX_BYTES) break;
    return { prefix: bytes.subarray(0, slash), name };
  }
  return `the path is ${bytes.length} bytes long and has no "/" that splits it into at most ${PREFIX_BYTES} bytes of folders and ${NAME_BYTES} bytes of name, as ustar requires`;
}

/**
 * Why `path` cannot be an archive member, or `null` when it can: relative,
 * no empty, "." or ".." segments, and short enough for the ustar header.
 */
export function tarPathProblem(path: string): string | null {
  const segments = splitPath(path);
  if (typeof segments === 'string') return segments;
  const fields = ustarNameFields(segments.join('/'));
  return typeof fields === 'string' ? fields : null;
}

/** Writes `value` as zero-padded octal filling `width - 1` bytes and a NUL. */
function writeOctal(header: Buffer, offset: number, width: number, value: number): void {
  header.write(`${value.toString(8).padStart(width - 1, '0')}\0`, offset, width, 'ascii');
}

interface HeaderFields {
  readonly path: string;
  readonly folder: boolean;
  readonly mode: number;
  readonly size: number;
  readonly mtime: number;
}

function header(fields: HeaderFields): Buffer {
  const nameFields = ustarNameFields(fields.folder ? `${fields.path}/` : fields.path);
  if (typeof nameFields === 'string') throw new TarPathError(fields.path, nameFields);
  const block = Buffer.alloc(BLOCK);
  nameFields.name.copy(block, 0);
  writeOctal(block, 100, 8, fields.mode);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, fields.size);
  writeOctal(block, 136, 12, fields.mtime);
  // The checksum is computed with its own field filled with spaces.
  block.write('        ', 148, 8, 'ascii');
  block.write(fields.folder ? '5' : '0', 156, 1, 'ascii');
  block.write('ustar\0', 257, 6, 'ascii');
  block.write('00', 263, 2, 'ascii');
  writeOctal(block, 329, 8, 0);
  writeOctal(block, 337, 8, 0);
  nameFields.prefix.copy(block, 345);
  let checksum = 0;
  for (const byte of block) checksum += byte;
  block.write(`${checksum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return block;
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
 * Builds a ustar archive in memory. Folders that hold a given file but are not
 * given themselves are added before it (mode 0o755). Throws a
 * {@link TarPathError} for an unacceptable, too long or repeated path, or a
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
    const fields = ustarNameFields(folder ? `${path}/` : path);
    if (typeof fields === 'string') throw new TarPathError(entry.path, fields);
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
    return { entry, path, segments, folder, mode, mtime };
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
      const parentFields = ustarNameFields(`${parent}/`);
      if (typeof parentFields === 'string') {
        throw new TarPathError(
          entry.path,
          `its folder "${parent}" cannot be stored: ${parentFields}`,
        );
      }
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
      throw new TarPathError(entry.path, `the file is larger than ustar's ${MAX_SIZE} bytes`);
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
