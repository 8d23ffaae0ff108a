import { InvalidInputError } from './errors.ts';

/**
 * Docker's `filters` query parameter: a JSON object mapping a filter name to
 * the values it accepts, e.g. `{"label":["a=b"],"status":["running"]}`.
 * Values within one name are OR-ed by the engine, names are AND-ed.
 */
export type EngineFilters = Readonly<Record<string, readonly string[] | undefined>>;

/** Encodes typed filters for the `filters` parameter; `undefined` when there are none. */
export function encodeFilters(filters: EngineFilters | undefined): string | undefined {
  if (!filters) return undefined;
  const entries = Object.entries(filters).filter(
    (entry): entry is [string, readonly string[]] => entry[1] !== undefined && entry[1].length > 0,
  );
  if (entries.length === 0) return undefined;
  return JSON.stringify(Object.fromEntries(entries));
}

/**
 * Encodes one path segment naming an object. Image references keep their
 * slashes: the engine routes `/images/{name}/json` with `name` spanning them.
 * A name that is, or holds, a "." or ".." segment (or an empty one) is refused:
 * the engine cleans such paths, so `/images/../containers/x/json` would reach
 * another endpoint than the one the caller was allowed to use.
 */
export function encodePathSegment(value: string, keepSlashes = false): string {
  const segments = keepSlashes ? value.split('/') : [value];
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new InvalidInputError(
      null,
      `${JSON.stringify(value)} is not an object name: it may not be empty or hold "." or ".." path segments`,
    );
  }
  const encoded = encodeURIComponent(value);
  return keepSlashes ? encoded.replace(/%2F/gi, '/') : encoded;
}
