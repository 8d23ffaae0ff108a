import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../context.ts';
import type { Authenticator, Principal } from '../security/principal.ts';

/** Paths answered without a token: probes that reveal nothing about the engine's objects. */
const OPEN_PATHS = new Set(['/healthz', '/readyz']);

/** The JSON a request without a valid token is answered with (401). */
function unauthenticatedResponse(message: string): Response {
  return new Response(
    JSON.stringify({ errors: [{ message, extensions: { code: 'UNAUTHENTICATED' } }] }),
    {
      status: 401,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'www-authenticate': 'Bearer realm="dockergraph"',
      },
    },
  );
}

/**
 * Authenticates every HTTP request by its `Authorization: Bearer` header before
 * anything else reads it, and answers 401 when it has no valid token. The
 * principal found is kept in `principals` for the request's context.
 */
export function useAuthentication(
  authenticator: Authenticator,
  principals: WeakMap<Request, Principal>,
): Plugin<GraphQLContext> {
  return {
    onRequest({ request, url, endResponse }) {
      if (OPEN_PATHS.has(url.pathname)) return;
      const result = authenticator.authenticate(request.headers.get('authorization'));
      if (result.failure) {
        endResponse(unauthenticatedResponse(result.failure.message));
        return;
      }
      principals.set(request, result.principal);
    },
  };
}
