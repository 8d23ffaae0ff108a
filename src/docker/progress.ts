import {
  EngineError,
  EngineNotFoundError,
  errorFromTransport,
  RegistryAuthError,
} from './errors.ts';
import { parseJsonLines } from './json-lines.ts';

/**
 * One line of the JSON progress streams of `POST /images/create` (pull,
 * import), `POST /images/{name}/push`, `POST /build` and `POST /images/load`.
 * These endpoints answer HTTP 200 before the work is done and report a failure
 * as a line with `error`/`errorDetail`, so the stream must be read to its end.
 */
export interface ProgressEvent {
  /** e.g. "Pulling fs layer", "Pushed", "Digest: sha256:…". */
  readonly status?: string;
  /** Layer id the status is about. */
  readonly id?: string;
  readonly progressDetail?: { readonly current?: number; readonly total?: number };
  /** Build output text (`RUN` output, step headers). */
  readonly stream?: string;
  /** Extra data: the built image id (`{ID}`), a push digest (`{Tag, Digest, Size}`). */
  readonly aux?: { readonly ID?: string; readonly Tag?: string; readonly Digest?: string };
  readonly error?: string;
  readonly errorDetail?: { readonly message?: string; readonly code?: number };
}

function isProgressEvent(value: unknown): value is ProgressEvent {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const authProblem =
  /unauthorized|authentication required|no basic auth credentials|denied: requested access|incorrect username or password/i;
const missingProblem =
  /manifest unknown|not found|does not exist|no such image|repository .* not found/i;
/** How Go's HTTP client reports a registry it could not talk to. */
const unreachableProblem =
  /dial tcp|no such host|connection refused|network is unreachable|i\/o timeout|TLS handshake timeout|server gave HTTP response to HTTPS client|x509: /i;

/**
 * A registry could not be reached (no route, refused, DNS, TLS): the engine answers
 * HTTP 500 or reports it in the stream. `registry` is the host it tried.
 */
export class RegistryUnreachableError extends EngineError {
  constructor(
    readonly registry: string | null,
    message: string,
    status: number,
    options?: { cause?: unknown },
  ) {
    super('ENGINE_ERROR', message, status, options);
  }
}

/**
 * Classifies a registry failure from the engine's own words: refused credentials, no
 * connection, no such image; null when the message says none of these.
 */
function classifyRegistryMessage(
  message: string,
  what: string,
  registry: string | null,
  status: number,
  options?: { cause?: unknown },
): EngineError | null {
  const text = `${what}: ${message}`;
  if (authProblem.test(message)) return new RegistryAuthError(registry, text, options);
  if (unreachableProblem.test(message)) {
    return new RegistryUnreachableError(
      registry,
      `${what}: the registry${registry ? ` ${registry}` : ''} could not be reached: ${message}`,
      status,
      options,
    );
  }
  if (missingProblem.test(message)) return new EngineNotFoundError('NOT_FOUND', text, 404, options);
  return null;
}

/** Classifies the failure a progress stream reported. */
export function errorFromProgress(
  event: ProgressEvent,
  what: string,
  registry: string | null,
): EngineError {
  const message = event.errorDetail?.message ?? event.error ?? 'unknown error';
  return (
    classifyRegistryMessage(message, what, registry, 200) ??
    new EngineError('ENGINE_ERROR', `${what}: ${message}`, 200)
  );
}

/**
 * Classifies an engine failure (HTTP 500) of a call that talks to a registry: pulls and
 * searches fail before their stream starts, with the registry's refusal or the connection
 * error as the message. Other errors are returned as they are.
 */
export function registryFailure(error: unknown, what: string, registry: string | null): unknown {
  if (!(error instanceof EngineError) || error.kind !== 'ENGINE_ERROR' || error.status !== 500) {
    return error;
  }
  const prefix = `${what}: `;
  const message = error.message.startsWith(prefix)
    ? error.message.slice(prefix.length)
    : error.message;
  return classifyRegistryMessage(message, what, registry, error.status, { cause: error }) ?? error;
}

/**
 * Reads a progress stream to its end, handing each event to `onEvent`, and
 * throws the failure it reports, if any: auth failures as
 * {@link RegistryAuthError}, registries out of reach as {@link RegistryUnreachableError},
 * missing images as {@link EngineNotFoundError}.
 */
export async function readProgress(
  body: AsyncIterable<Uint8Array>,
  what: string,
  options: {
    readonly registry?: string | null;
    readonly onEvent?: (event: ProgressEvent) => void;
  } = {},
): Promise<void> {
  try {
    for await (const event of parseJsonLines(body, { guard: isProgressEvent })) {
      if (event.error !== undefined || event.errorDetail !== undefined) {
        throw errorFromProgress(event, what, options.registry ?? null);
      }
      options.onEvent?.(event);
    }
  } catch (error) {
    throw errorFromTransport(error, what);
  }
}
