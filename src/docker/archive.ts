/**
 * Files in and out of containers and images as tar archives: the archive
 * endpoints (`docker cp`), container export and image save.
 *
 * @module
 */
import type { Readable } from 'node:stream';
import type { DockerClient, EngineCall } from './client.ts';
import { encodePathSegment } from './filters.ts';
import type { TransportResponse } from './transport.ts';

/**
 * What the engine tells of a path in a container: the `X-Docker-Container-Path-Stat`
 * header, base64 of this JSON. `mode` is a Go `os.FileMode`: permission bits in
 * the low 9 bits, file type and special bits above them.
 */
export interface EngineContainerPathStat {
  name: string;
  size: number;
  mode: number;
  /** RFC 3339. */
  mtime: string;
  /** Where a symbolic link points; empty otherwise. */
  linkTarget: string;
}

/** Bits of a Go `os.FileMode` (they are not the POSIX `st_mode` bits). */
export const goFileMode = {
  dir: 2 ** 31,
  symlink: 2 ** 27,
  device: 2 ** 26,
  namedPipe: 2 ** 25,
  socket: 2 ** 24,
  setuid: 2 ** 23,
  setgid: 2 ** 22,
  charDevice: 2 ** 21,
  sticky: 2 ** 20,
  irregular: 2 ** 19,
} as const;

/** Whether a Go file mode has `bit` set; the modes go beyond 32-bit signed integers. */
export function hasModeBit(mode: number, bit: number): boolean {
  return Math.floor(mode / bit) % 2 === 1;
}

/** Decodes the `X-Docker-Container-Path-Stat` header; `null` when absent or unreadable. */
export function parsePathStat(
  header: string | string[] | undefined,
): EngineContainerPathStat | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) return null;
    const stat = parsed as Partial<EngineContainerPathStat>;
    return {
      name: typeof stat.name === 'string' ? stat.name : '',
      size: typeof stat.size === 'number' ? stat.size : 0,
      mode: typeof stat.mode === 'number' ? stat.mode : 0,
      mtime: typeof stat.mtime === 'string' ? stat.mtime : '',
      linkTarget: typeof stat.linkTarget === 'string' ? stat.linkTarget : '',
    };
  } catch {
    return null;
  }
}

/**
 * `HEAD /containers/{id}/archive?path=`: facts about one path in a container;
 * `null` when the path (or the container) does not exist: a HEAD answer carries
 * no message to tell the two apart.
 */
export async function statContainerPath(
  client: DockerClient,
  container: string,
  path: string,
): Promise<EngineContainerPathStat | null> {
  const what = `read "${path}" in container "${container}"`;
  const response = await client.request(
    {
      method: 'HEAD',
      path: `/containers/${encodePathSegment(container)}/archive`,
      query: { path },
      acceptStatus: [404],
    },
    what,
  );
  await response.body.dump();
  if (response.status === 404) return null;
  return parsePathStat(response.headers['x-docker-container-path-stat']);
}

/**
 * `PUT /containers/{id}/archive?path=`: extracts a tar archive (plain, gzip,
 * bzip2 or xz) into a directory of a container, streaming `archive` as the body.
 * A missing directory is not found (404); a path that is a file, or an archive
 * that is no tar, is an engine failure (500).
 */
export async function putContainerArchive(
  client: DockerClient,
  container: string,
  path: string,
  archive: Readable,
  options: { readonly noOverwriteDirNonDir?: boolean; readonly copyOwnership?: boolean } = {},
): Promise<void> {
  const response = await client.request(
    {
      method: 'PUT',
      path: `/containers/${encodePathSegment(container)}/archive`,
      query: {
        path,
        noOverwriteDirNonDir: options.noOverwriteDirNonDir,
        copyUIDGID: options.copyOwnership,
      },
      headers: { 'content-type': 'application/x-tar' },
      body: archive,
      // The engine answers once the whole archive is extracted.
      timeoutMs: 600_000,
    },
    `copy an archive to "${path}" in container "${container}"`,
  );
  await response.body.dump();
}

/** An archive being read from the engine; destroy `response.body` to stop early. */
export interface ArchiveDownload {
  readonly response: TransportResponse;
}

/** Download answers start once the engine has the first bytes ready; big layers take a while. */
const DOWNLOAD_HEADERS_TIMEOUT_MS = 120_000;

/**
 * `GET /containers/{id}/archive?path=`: a tar archive of a file or folder of a
 * container, unread, with the path's facts. Missing container or path: not found.
 */
export async function getContainerArchive(
  client: DockerClient,
  container: string,
  path: string,
): Promise<ArchiveDownload & { readonly stat: EngineContainerPathStat | null }> {
  const response = await client.request(
    {
      path: `/containers/${encodePathSegment(container)}/archive`,
      query: { path },
      timeoutMs: DOWNLOAD_HEADERS_TIMEOUT_MS,
    },
    `copy "${path}" from container "${container}"`,
  );
  return { response, stat: parsePathStat(response.headers['x-docker-container-path-stat']) };
}

/** `GET /containers/{id}/export`: the container's whole filesystem as a tar archive, unread. */
export async function exportContainer(
  client: DockerClient,
  container: string,
): Promise<ArchiveDownload> {
  const response = await client.request(
    {
      path: `/containers/${encodePathSegment(container)}/export`,
      timeoutMs: DOWNLOAD_HEADERS_TIMEOUT_MS,
    },
    `export container "${container}"`,
  );
  return { response };
}

/**
 * Images with their layers as a `docker save` tar archive, unread: one image with
 * `GET /images/{name}/get`, several with `GET /images/get?names=…` (layers they share
 * are written once). A reference with a tag keeps that tag in `manifest.json`; an
 * image id saves the image without tags. A missing one is not found.
 */
export async function saveImages(
  client: DockerClient,
  references: readonly string[],
): Promise<ArchiveDownload> {
  const [only] = references;
  const call: EngineCall =
    references.length === 1 && only !== undefined
      ? { path: `/images/${encodePathSegment(only, true)}/get` }
      : { path: '/images/get', query: { names: references } };
  const response = await client.request(
    { ...call, timeoutMs: DOWNLOAD_HEADERS_TIMEOUT_MS },
    `save ${references.map((name) => `"${name}"`).join(', ')}`,
  );
  return { response };
}

/**
 * Whether the first bytes of an upload can start an archive the engine extracts:
 * a tar header with a valid checksum (ustar, GNU or v7), an empty tar, or the
 * gzip, bzip2 or xz magic numbers.
 */
export function looksLikeArchive(head: Uint8Array): boolean {
  const bytes = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return true;
  if (bytes.subarray(0, 3).toString('latin1') === 'BZh') return true;
  if (bytes.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return true;
  if (bytes.length < 512) return false;
  const header = bytes.subarray(0, 512);
  if (header.every((byte) => byte === 0)) return true;
  const recorded = Number.parseInt(
    header.subarray(148, 156).toString('latin1').replace(/\0.*$/, '').trim(),
    8,
  );
  let sum = 0;
  // The checksum counts its own eight bytes as spaces.
  for (let index = 0; index < 512; index++) {
    sum += index >= 148 && index < 156 ? 0x20 : (header[index] ?? 0);
  }
  return recorded === sum;
}
