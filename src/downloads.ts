/**
 * Binary downloads beside `/graphql`: tar archives of container files, container
 * exports and image saves, streamed from the engine to the client as they come.
 * The schema hands out links to these routes (`Container.archiveUrl`,
 * `Container.exportUrl`, `Image.saveUrl`), built by `schema/download-links.ts`.
 *
 * Routes (all `GET`; paths relative to the origin that serves `/graphql`):
 *
 * - `/files/{engine}/containers/{container}/archive?path=/abs/path`: a file or
 *   folder of a container, as `docker cp` reads it (`GET /containers/{id}/archive`)
 * - `/files/{engine}/containers/{container}/export`: the container's filesystem
 *   (`GET /containers/{id}/export`)
 * - `/files/{engine}/images/save?reference=…` (repeatable): images as `docker save`
 *   writes them (`GET /images/{name}/get` for one, `GET /images/get?names=…` for several)
 *
 * `{engine}` names the engine (the configured engine name), so that links stay
 * valid when one server fronts several engines; `{container}` is a global ID,
 * engine id, unique id prefix or name; a reference is a name, `name:tag`, digest
 * reference or image id.
 *
 * Access: the request's principal (found by `useAuthentication`, which answers
 * 401 to a request without a valid token before this plugin runs) needs the
 * `dangerous` permission, as `copyToContainer` and `buildImage` do: a
 * container's files and an image's layers may hold any secret (403
 * `FORBIDDEN` otherwise, before any engine call). A token limited to labels
 * (see `src/security/label-scope.ts`) downloads only the container and images
 * it sees; the others answer 404 as if they did not exist.
 *
 * Failures answer JSON `{"error": {"code", "message"}}` with the matching status:
 * 400 bad request, 401 no valid token, 403 permission missing, 404 missing
 * container, path, image or engine, 405 method, 409 conflict, 502 engine
 * failure, 503 engine unavailable, 504 engine timeout. Messages carry the
 * engine's words but never a socket path or host.
 *
 * @module
 */
import type { Readable } from 'node:stream';
import type { Plugin } from 'graphql-yoga';
import { mayUseEngine } from './context.ts';
import {
  type ArchiveDownload,
  exportContainer,
  getContainerArchive,
  saveImages,
} from './docker/archive.ts';
import type { DockerClient } from './docker/client.ts';
import type { EngineRegistry, RegisteredEngine } from './docker/engine-registry.ts';
import { EngineError, type EngineErrorKind, EngineNotFoundError } from './docker/errors.ts';
import { errorResponse } from './error-response.ts';
import { createLoaders } from './loaders.ts';
import type { Logger } from './logger.ts';
import { DOWNLOADS_PREFIX } from './schema/download-links.ts';
import { toEngineReference } from './schema/node-id.ts';
import { limitOf } from './security/label-scope.ts';
import { isForeignPageRequest } from './security/origins.ts';
import { can, describePrincipal, type Principal } from './security/principal.ts';
import type { Permission } from './security/roles.ts';

/** The permission every download needs. */
const DOWNLOAD_PERMISSION: Permission = 'dangerous';

export interface DownloadOptions {
  /**
   * The engines served; a download uses a view of its engine's client bound to its
   * request's abort signal. An engine the principal may not see does not exist here.
   */
  readonly engines: EngineRegistry;
  readonly logger: Logger;
  /**
   * The principal authentication found for a request (`useAuthentication` runs
   * first); undefined when it found none, which is refused with 401.
   */
  readonly principalOf: (request: Request) => Principal | undefined;
  /** Origins besides the server's own whose pages may fetch downloads. */
  readonly allowedOrigins: readonly string[];
}

/** A failure of a download before its first byte: its HTTP status, code and message. */
class DownloadError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const statusByKind: Readonly<Record<EngineErrorKind, number>> = {
  NOT_FOUND: 404,
  BAD_REQUEST: 400,
  CONFLICT: 409,
  FORBIDDEN: 403,
  NOT_IMPLEMENTED: 501,
  ENGINE_UNAVAILABLE: 503,
  ENGINE_TIMEOUT: 504,
  // The engine's own failures, and answers a download cannot have, are a bad gateway.
  ENGINE_ERROR: 502,
  NOT_MODIFIED: 502,
  UNAUTHORIZED: 502,
};

function badRequest(message: string): DownloadError {
  return new DownloadError(400, 'BAD_REQUEST', message);
}

function notFound(message: string): DownloadError {
  return new DownloadError(404, 'NOT_FOUND', message);
}

/** A file name safe in `Content-Disposition`: letters, digits, ".", "_" and "-". */
function safeFileName(base: string, fallback: string): string {
  const cleaned = base
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    .slice(0, 100);
  return `${cleaned || fallback}.tar`;
}

/** How a container reference reads in a file name: ids shortened as the CLI shows them. */
function containerFileBase(reference: string): string {
  return /^[0-9a-f]{64}$/.test(reference) ? reference.slice(0, 12) : reference;
}

/** The engine's reference for the `{container}` segment, as mutations accept it. */
function containerReference(engineName: string, segment: string): string {
  const reference = toEngineReference(engineName, 'Container', segment);
  if ('problem' in reference) throw badRequest(reference.problem);
  return reference.id;
}

/** Checks an absolute path in a container given as a query parameter. */
function containerPath(url: URL): string {
  const path = url.searchParams.get('path');
  if (path === null || path === '') throw badRequest('the "path" query parameter is required');
  if (!path.startsWith('/')) throw badRequest(`path "${path}" is not absolute`);
  if (path.includes('\0')) throw badRequest('path must not contain NUL');
  return path;
}

/** Name, `name:tag`, `name@digest` or image id, loosely as the engine's grammar has them. */
const imageReferencePattern =
  /^(?:(?:sha256:)?[0-9a-f]{12,64}|(?:[A-Za-z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?)$/;

function imageReferences(url: URL): string[] {
  const references = url.searchParams.getAll('reference');
  if (references.length === 0)
    throw badRequest('at least one "reference" query parameter is required');
  for (const reference of references) {
    if (!imageReferencePattern.test(reference)) {
      throw badRequest(`"${reference}" is not an image reference (name, name:tag or image id)`);
    }
  }
  return references;
}

/** What one route answers: the engine's archive and the file name to offer. */
interface Download extends ArchiveDownload {
  readonly fileName: string;
}

/**
 * Checks that a download names only objects its principal may see: each check
 * rejects with the engine's own not-found words (`what` describes the download).
 */
interface Visibility {
  container(reference: string, what: string): Promise<void>;
  images(references: readonly string[], what: string): Promise<void>;
}

/** The checks of `principal`: through its label limit, or none (resolved at once) without one. */
function visibilityOf(principal: Principal, docker: DockerClient): Visibility {
  if (!limitOf(principal.labels)) {
    return { container: () => Promise.resolve(), images: () => Promise.resolve() };
  }
  const loaders = createLoaders(docker, principal.labels);
  const missing = (what: string, words: string) =>
    new EngineNotFoundError('NOT_FOUND', `${what}: ${words}`, 404);
  return {
    async container(reference, what) {
      if (!(await loaders.containers.inspect.load(reference))) {
        throw missing(what, `No such container: ${reference}`);
      }
    },
    async images(references, what) {
      const images = await loaders.images.inspect.loadMany(references);
      for (const image of images) {
        if (image instanceof Error) throw image;
        // The engine's words for an image to save it does not have.
        if (!image) throw missing(what, 'reference does not exist');
      }
    },
  };
}

/** The engine a download path names, among those the principal may see. */
function engineOfPath(url: URL, engines: EngineRegistry, principal: Principal): RegisteredEngine {
  const [segment = ''] = url.pathname.slice(DOWNLOADS_PREFIX.length).split('/');
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    throw badRequest('the path is not valid percent-encoding');
  }
  const engine = engines.get(name);
  if (!engine || !mayUseEngine(principal, engine)) throw notFound(`no engine named "${name}"`);
  return engine;
}

/** Finds the route of `url`, checks the principal may see its objects, and asks the engine for its archive. */
async function startDownload(
  url: URL,
  docker: DockerClient,
  engineName: string,
  visibility: Visibility,
): Promise<Download> {
  const segments = url.pathname.slice(DOWNLOADS_PREFIX.length).split('/');
  let decoded: string[];
  try {
    decoded = segments.map((segment) => decodeURIComponent(segment));
  } catch {
    throw badRequest('the path is not valid percent-encoding');
  }
  const [engine, kind, ...rest] = decoded;
  if (engine !== engineName) throw notFound(`no engine named "${engine ?? ''}"`);
  if (kind === 'containers' && rest.length === 2 && rest[0]) {
    const container = containerReference(engineName, rest[0]);
    if (rest[1] === 'archive') {
      const path = containerPath(url);
      await visibility.container(container, `copy "${path}" from container "${container}"`);
      const download = await getContainerArchive(docker, container, path);
      const base = download.stat?.name && download.stat.name !== '/' ? download.stat.name : 'root';
      return { ...download, fileName: safeFileName(base, 'archive') };
    }
    if (rest[1] === 'export') {
      await visibility.container(container, `export container "${container}"`);
      const download = await exportContainer(docker, container);
      return { ...download, fileName: safeFileName(containerFileBase(container), 'container') };
    }
  }
  if (kind === 'images' && rest.length === 1 && rest[0] === 'save') {
    const references = imageReferences(url);
    await visibility.images(references, `save ${references.map((name) => `"${name}"`).join(', ')}`);
    const download = await saveImages(docker, references);
    return { ...download, fileName: safeFileName(references[0] ?? '', 'images') };
  }
  throw notFound(`no download at ${url.pathname}`);
}

/**
 * The engine's body as a web stream that reads only as fast as the client takes
 * it; cancelling it (the client went away) destroys the engine response, which
 * closes that engine connection.
 */
function toWebStream(
  body: Readable,
  fetchAPI: { ReadableStream: typeof ReadableStream },
  onFailure: (error: unknown) => void,
): ReadableStream<Uint8Array> {
  const chunks = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  return new fetchAPI.ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = await chunks.next();
          if (next.done === true) controller.close();
          else {
            const chunk = next.value;
            controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          }
        } catch (error) {
          onFailure(error);
          controller.error(error);
        }
      },
      cancel() {
        body.destroy();
      },
    },
    { highWaterMark: 0 },
  );
}

/** The node:http answer of a request served by the Node server (yoga's server context holds it). */
function nodeResponseOf(serverContext: unknown): { destroy(): void } | undefined {
  if (typeof serverContext !== 'object' || serverContext === null) return undefined;
  const response: unknown = (serverContext as { res?: unknown }).res;
  return typeof response === 'object' &&
    response !== null &&
    typeof (response as { destroy?: unknown }).destroy === 'function'
    ? (response as { destroy(): void })
    : undefined;
}

/** Why a principal without the download permission is refused, in the words of `/graphql`'s. */
function forbiddenMessage(principal: Principal): string {
  return `${describePrincipal(principal)} may not download container files or images: it needs the "${DOWNLOAD_PERMISSION}" permission`;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/**
 * A yoga plugin serving the download routes (see the module comment); every
 * other request goes on to yoga. Downloads are cancelled on the engine when the
 * client goes away.
 */
export function useDownloads(options: DownloadOptions): Plugin {
  const { engines, logger } = options;
  return {
    async onRequest({ request, url, endResponse, fetchAPI, serverContext }) {
      if (!url.pathname.startsWith(DOWNLOADS_PREFIX)) return;
      const refuse = (
        status: number,
        code: string,
        message: string,
        headers: Record<string, string> = {},
      ) => endResponse(errorResponse(status, code, message, { headers, fetchAPI }));
      // Exceptions thrown here would reach the HTTP server: every failure becomes an answer.
      try {
        if (request.method !== 'GET') {
          refuse(
            405,
            'METHOD_NOT_ALLOWED',
            `${request.method} is not allowed here; downloads are GET`,
            { allow: 'GET' },
          );
          return;
        }
        // A link or <img> of another site's page must not start a heavy export in the
        // user's name (with no tokens configured, nothing else would stop it).
        if (isForeignPageRequest(request, options.allowedOrigins)) {
          refuse(
            403,
            'CROSS_SITE_REFUSED',
            "downloads are not served to pages of other sites: open the link from this server's pages or an origin of DOCKERGRAPH_ALLOWED_ORIGINS",
          );
          return;
        }
        const principal = options.principalOf(request);
        if (!principal) {
          refuse(401, 'UNAUTHENTICATED', 'authentication required', {
            'www-authenticate': 'Bearer realm="dockergraph"',
          });
          return;
        }
        if (!can(principal, DOWNLOAD_PERMISSION)) {
          refuse(403, 'FORBIDDEN', forbiddenMessage(principal));
          return;
        }
        const engine = engineOfPath(url, engines, principal);
        // The download breaks off when its client leaves, or when its engine leaves the
        // configuration (the token may no longer see it; a reload awaits the removal).
        const scoped = engine.client.withSignal(AbortSignal.any([request.signal, engine.retired]));
        const download = await startDownload(
          url,
          scoped,
          engine.name,
          visibilityOf(principal, scoped),
        );
        const { body } = download.response;
        const stream = toWebStream(body, fetchAPI, (error) => {
          // The archive is sent chunked, with no length: ended here, a truncated archive
          // would look whole to the client. The connection is cut instead, so the client's
          // read fails (a failed web stream alone leaves node's answer open, and the client
          // waiting for the rest).
          nodeResponseOf(serverContext)?.destroy();
          if (isAbort(error)) return;
          logger.warn('download broke off', {
            path: url.pathname,
            error: error instanceof Error ? error.message : String(error),
          });
        });
        endResponse(
          new fetchAPI.Response(stream, {
            status: 200,
            headers: {
              'content-type': 'application/x-tar',
              'content-disposition': `attachment; filename="${download.fileName}"`,
              'cache-control': 'no-store',
              'x-content-type-options': 'nosniff',
            },
          }),
        );
      } catch (error) {
        if (error instanceof DownloadError) {
          refuse(error.status, error.code, error.message);
        } else if (error instanceof EngineError) {
          refuse(statusByKind[error.kind], error.kind, error.message);
        } else if (isAbort(error)) {
          // The client is gone; nobody reads this answer.
          refuse(499, 'CLIENT_CLOSED', 'the request was aborted');
        } else {
          logger.error('unexpected download error', {
            path: url.pathname,
            error: String(error instanceof Error ? error.stack : error),
          });
          refuse(500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.');
        }
      }
    },
  };
}
