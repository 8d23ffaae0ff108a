// Reading the tar archives the engine writes (docker cp, export, save), for assertions.

/** One entry of a tar archive. */
export interface TarEntry {
  /** Path inside the archive, without a trailing slash for directories. */
  readonly name: string;
  /** "file", "directory", "symlink" or "other". */
  readonly type: 'file' | 'directory' | 'symlink' | 'other';
  readonly content: Buffer;
  readonly linkTarget: string;
}

function text(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? field.length : end).toString('utf8');
}

function octal(block: Buffer, start: number, length: number): number {
  const value = text(block, start, length).trim();
  return value === '' ? 0 : Number.parseInt(value, 8);
}

/** The `path` and `linkpath` records of a PAX extended header. */
function paxRecords(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space === -1) break;
    const length = Number.parseInt(data.subarray(offset, space).toString('latin1'), 10);
    if (!Number.isFinite(length) || length <= 0) break;
    const record = data.subarray(space + 1, offset + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (equals > 0) records.set(record.slice(0, equals), record.slice(equals + 1));
    offset += length;
  }
  return records;
}

/**
 * Reads a whole ustar/PAX/GNU tar archive held in memory (as Go's archive/tar
 * writes them): regular files, directories and links; long names from PAX
 * (`x`) and GNU (`L`, `K`) headers.
 */
export function readTar(archive: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  let longName: string | null = null;
  let longLink: string | null = null;
  while (offset + 512 <= archive.length) {
    const header = archive.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const size = octal(header, 124, 12);
    const typeflag = String.fromCharCode(header[156] ?? 0);
    const data = archive.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (typeflag === 'x') {
      const records = paxRecords(data);
      longName = records.get('path') ?? longName;
      longLink = records.get('linkpath') ?? longLink;
      continue;
    }
    if (typeflag === 'g') continue;
    if (typeflag === 'L' || typeflag === 'K') {
      const value = data.toString('utf8').replace(/\0+$/, '');
      if (typeflag === 'L') longName = value;
      else longLink = value;
      continue;
    }
    const prefix = text(header, 345, 155);
    const shortName = text(header, 0, 100);
    const name = longName ?? (prefix ? `${prefix}/${shortName}` : shortName);
    const linkTarget = longLink ?? text(header, 157, 100);
    longName = null;
    longLink = null;
    entries.push({
      name: name.replace(/\/+$/, ''),
      type:
        typeflag === '0' || typeflag === '\0'
          ? 'file'
          : typeflag === '5'
            ? 'directory'
            : typeflag === '2'
              ? 'symlink'
              : 'other',
      content: Buffer.from(data),
      linkTarget,
    });
  }
  return entries;
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
