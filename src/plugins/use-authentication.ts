import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../context.ts';
import { errorResponse } from '../error-response.ts';
import type { Authenticator, Principal } from '../security/principal.ts';

/** Paths answered without a token: probes that reveal nothing about the engine's objects. */
const OPEN_PATHS = new Set(['/healthz', '/readyz']);

/** The answer to a request without a valid token. */
function unauthenticatedResponse(message: string): Response {
  return errorResponse(401, 'UNAUTHENTICATED', message, {
    headers: { 'www-authenticate': 'Bearer realm="dockergraph"' },
  });
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
