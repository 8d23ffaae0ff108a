/**
 * The one place where engine responses and transport failures become errors.
 * Messages carry the engine's own words but never a socket path, a host or a
 * certificate path: these errors reach GraphQL clients.
 */

/** What kind of failure an engine call ended in, independent of HTTP. */
export type EngineErrorKind =
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'NOT_MODIFIED'
  | 'BAD_REQUEST'
  | 'FORBIDDEN'
  | 'UNAUTHORIZED'
  | 'NOT_IMPLEMENTED'
  | 'ENGINE_ERROR'
  | 'ENGINE_UNAVAILABLE'
  | 'ENGINE_TIMEOUT';

/** An engine call that did not succeed. `status` is the HTTP status, 0 when none arrived. */
export class EngineError extends Error {
  override readonly name = 'EngineError';

  constructor(
    readonly kind: EngineErrorKind,
    message: string,
    readonly status: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The engine has no such object (HTTP 404). */
export class EngineNotFoundError extends EngineError {}

/** The object's state or name clashes with the request (HTTP 409): name in use, running, in use. */
export class EngineConflictError extends EngineError {}

/**
 * The request is not acceptable: refused by the engine (HTTP 400, `field` null) or
 * by dockergraph before it reached the engine (`field` names the input).
 */
export class InvalidInputError extends EngineError {
  constructor(
    readonly field: string | null,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('BAD_REQUEST', message, field === null ? 400 : 0, options);
  }
}

/** A registry refused the credentials, or asked for some (HTTP 401, or an error in a pull/push stream). */
export class RegistryAuthError extends EngineError {
  constructor(
    readonly registry: string | null,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('UNAUTHORIZED', message, 401, options);
  }
}

/**
 * The engine cannot do what was asked at all: its API has no such operation, or one that
 * does something else (Podman's Docker-compatible API lacks some Docker endpoints and
 * options). Nothing was changed. `engine` names the kind of engine, e.g. "podman".
 */
export class EngineNotSupportedError extends EngineError {
  constructor(
    readonly engine: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('NOT_IMPLEMENTED', message, 0, options);
  }
}

/**
 * A build stopped at a failing step: the engine reported the failure inside the
 * HTTP 200 answer of `POST /build`. `log` holds the build output up to the
 * failure (its last lines when it was longer than the cap, then `logTruncated`).
 */
export class BuildFailedError extends EngineError {
  constructor(
    message: string,
    readonly log: readonly string[],
    readonly logTruncated: boolean,
    options?: { cause?: unknown },
  ) {
    super('ENGINE_ERROR', message, 200, options);
  }
}

const kindByStatus: ReadonlyMap<number, EngineErrorKind> = new Map([
  [304, 'NOT_MODIFIED'],
  [400, 'BAD_REQUEST'],
  [401, 'UNAUTHORIZED'],
  [403, 'FORBIDDEN'],
  [404, 'NOT_FOUND'],
  [409, 'CONFLICT'],
  [501, 'NOT_IMPLEMENTED'],
]);

/** Reads the engine's `{"message": "..."}` error body, falling back to the raw text. */
function readEngineMessage(body: string): string {
  const text = body.trim();
  if (text === '') return '';
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && 'message' in parsed) {
      const { message } = parsed;
      if (typeof message === 'string') return message;
    }
  } catch {
    // Plain-text bodies come from proxies and older engines.
  }
  return text.slice(0, 500);
}

/**
 * The `cause` of a Podman error body (`{"cause", "message", "response"}`): the name of the
 * libpod error it ends in. Docker's bodies have no `cause`.
 */
function readPodmanCause(body: string): string | null {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && 'cause' in parsed) {
      const { cause } = parsed;
      if (typeof cause === 'string') return cause;
    }
  } catch {
    // Not JSON: no cause.
  }
  return null;
}

/**
 * Podman's causes of an HTTP 500 where Docker answers 409 for the same request: a name
 * in use, an object in use, a container in the wrong state (libpod's `define` errors).
 */
const PODMAN_CONFLICT_CAUSES: ReadonlySet<string> = new Set([
  'that name is already in use',
  'container already exists',
  'container state improper',
  'network already exists',
  'network is being used',
  'volume already exists',
  'volume is being used',
  'image is in use by a container',
  'pod already exists',
]);

/** Turns a non-2xx engine response into an {@link EngineError} carrying the engine's message. */
export function errorFromResponse(status: number, body: string, what: string): EngineError {
  const cause = status === 500 ? readPodmanCause(body) : null;
  const kind =
    cause !== null && PODMAN_CONFLICT_CAUSES.has(cause)
      ? 'CONFLICT'
      : (kindByStatus.get(status) ?? 'ENGINE_ERROR');
  const message = readEngineMessage(body) || (kind === 'NOT_MODIFIED' ? 'not modified' : '');
  const text = `${what}: ${message || `engine answered HTTP ${status}`}`;
  switch (kind) {
    case 'NOT_FOUND':
      return new EngineNotFoundError(kind, text, status);
    case 'CONFLICT':
      return new EngineConflictError(kind, text, status);
    case 'BAD_REQUEST':
      return new InvalidInputError(null, text);
    case 'UNAUTHORIZED':
      return new RegistryAuthError(null, text);
    default:
      return new EngineError(kind, text, status);
  }
}

const unavailableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOENT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);

const timeoutCodes = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

const tlsCodePattern = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED)/;

function findErrorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    if (typeof current !== 'object') return undefined;
    const code = 'code' in current ? current.code : undefined;
    if (typeof code === 'string') return code;
    current = 'cause' in current ? current.cause : undefined;
  }
  return undefined;
}

/**
 * Turns a transport failure (refused, reset, timed out, TLS) into an
 * {@link EngineError}. Aborts by the caller are rethrown as they are.
 */
export function errorFromTransport(error: unknown, what: string, tls = false): unknown {
  if (error instanceof EngineError) return error;
  if (error instanceof Error && error.name === 'AbortError') return error;
  const code = findErrorCode(error);
  if (code !== undefined && timeoutCodes.has(code)) {
    return new EngineError(
      'ENGINE_TIMEOUT',
      `${what}: the Docker engine did not answer in time`,
      0,
      {
        cause: error,
      },
    );
  }
  if (code !== undefined && tlsCodePattern.test(code)) {
    return new EngineError(
      'ENGINE_UNAVAILABLE',
      `${what}: the TLS handshake with the Docker engine failed (${code})`,
      0,
      { cause: error },
    );
  }
  // Under TLS 1.3 the server checks the client certificate after the handshake and
  // refuses it by closing the connection: the client sees only the close.
  if (tls && code === 'UND_ERR_SOCKET') {
    return new EngineError(
      'ENGINE_UNAVAILABLE',
      `${what}: the Docker engine closed the TLS connection; check that it trusts the client certificate`,
      0,
      { cause: error },
    );
  }
  if (code === undefined || unavailableCodes.has(code) || code.startsWith('UND_ERR')) {
    return new EngineError('ENGINE_UNAVAILABLE', `${what}: the Docker engine is unavailable`, 0, {
      cause: error,
    });
  }
  return new EngineError(
    'ENGINE_UNAVAILABLE',
    `${what}: the Docker engine is unavailable (${code})`,
    0,
    {
      cause: error,
    },
  );
}

const droppedCodes = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

/**
 * True when a connection broke under a request: what a kept-alive connection
 * does when the engine restarted or closed it while it sat idle in the pool.
 */
export function isDroppedConnection(error: unknown): boolean {
  const code = findErrorCode(error);
  return code !== undefined && droppedCodes.has(code);
}

/** True when the failure means the engine could not be reached at all. */
export function isEngineUnreachable(error: unknown): boolean {
  return (
    error instanceof EngineError &&
    (error.kind === 'ENGINE_UNAVAILABLE' || error.kind === 'ENGINE_TIMEOUT')
  );
}
