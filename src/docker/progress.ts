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

/** Classifies the failure a progress stream reported. */
export function errorFromProgress(
  event: ProgressEvent,
  what: string,
  registry: string | null,
): EngineError {
  const message = event.errorDetail?.message ?? event.error ?? 'unknown error';
  const text = `${what}: ${message}`;
  if (authProblem.test(message)) return new RegistryAuthError(registry, text);
  if (missingProblem.test(message)) return new EngineNotFoundError('NOT_FOUND', text, 404);
  return new EngineError('ENGINE_ERROR', text, 200);
}

/**
 * Reads a progress stream to its end, handing each event to `onEvent`, and
 * throws the failure it reports, if any: auth failures as
 * {@link RegistryAuthError}, missing images as {@link EngineNotFoundError}.
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
