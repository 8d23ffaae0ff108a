// Reading the tar archives the engine writes (docker cp, export, save), for assertions,
// with node-tar's parser (ustar, PAX and GNU long names, as Go's archive/tar writes them).
import { Parser, type ReadEntry } from 'tar';

/** One entry of a tar archive. */
export interface TarEntry {
  /** Path inside the archive, without a trailing slash for directories. */
  readonly name: string;
  /** "file", "directory", "symlink" or "other". */
  readonly type: 'file' | 'directory' | 'symlink' | 'other';
  readonly content: Buffer;
  readonly linkTarget: string;
}

function kindOf(entry: ReadEntry): TarEntry['type'] {
  switch (entry.type) {
    case 'File':
    case 'OldFile':
    case 'ContiguousFile':
      return 'file';
    case 'Directory':
      return 'directory';
    case 'SymbolicLink':
      return 'symlink';
    default:
      return 'other';
  }
}

/** Reads a whole tar archive held in memory; its entries in archive order. */
export async function readTar(archive: Buffer): Promise<TarEntry[]> {
  const read: Promise<TarEntry>[] = [];
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry) => {
        read.push(
          entry.concat().then((content) => ({
            name: entry.path.replace(/\/+$/, ''),
            type: kindOf(entry),
            content: Buffer.from(content),
            linkTarget: entry.linkpath ?? '',
          })),
        );
      },
    });
    parser.on('error', reject);
    parser.on('end', () => resolve());
    parser.end(archive);
  });
  return Promise.all(read);
}

/** The entry named `name`, failing the test with the names present when it is missing. */
export function tarEntry(entries: readonly TarEntry[], name: string): TarEntry {
  const entry = entries.find((candidate) => candidate.name === name);
  if (!entry) {
    throw new Error(
      `no "${name}" in the archive; it holds ${entries
        .slice(0, 20)
        .map((e) => e.name)
        .join(', ')}${entries.length > 20 ? ', …' : ''}`,
    );
  }
  return entry;
}
