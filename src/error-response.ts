/**
 * The one error body of every answer that does not come from GraphQL execution
 * (authentication, host checks, downloads, the fetch handler's refusal): the shape
 * of a GraphQL-over-HTTP error, so that one client-side reader serves `/graphql`
 * and every other route alike.
 */
export interface ErrorBody {
  readonly errors: readonly [
    { readonly message: string; readonly extensions: { readonly code: string } },
  ];
}

export const ERROR_CONTENT_TYPE = 'application/json; charset=utf-8';

/** The body for one failure: `code` is machine-readable, `message` says what was wrong. */
export function errorBody(code: string, message: string): ErrorBody {
  return { errors: [{ message, extensions: { code } }] };
}

export interface ErrorResponseOptions {
  readonly headers?: Record<string, string>;
  /** The runtime's fetch API (yoga's `fetchAPI` where a plugin answers); the global one otherwise. */
  readonly fetchAPI?: { readonly Response: typeof Response };
}

/** A JSON error answer with {@link errorBody}. */
export function errorResponse(
  status: number,
  code: string,
  message: string,
  options: ErrorResponseOptions = {},
): Response {
  const ResponseClass = options.fetchAPI?.Response ?? Response;
  return new ResponseClass(JSON.stringify(errorBody(code, message)), {
    status,
    headers: { 'content-type': ERROR_CONTENT_TYPE, ...options.headers },
  });
}
