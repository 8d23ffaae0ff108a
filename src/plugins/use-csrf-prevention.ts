import { useCSRFPrevention as useYogaCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../context.ts';

/** The header a GET, form or multipart request must carry; any value will do. */
const CSRF_HEADER = 'x-graphql-yoga-csrf';

/**
 * Refuses GraphQL requests a web page of another site could send without the
 * browser asking the server first (CORS preflight): GET requests and POSTs of
 * the form content types (urlencoded, multipart, text/plain) must carry
 * {@link CSRF_HEADER}, which no page can add across sites without CORS
 * approval. A server on 127.0.0.1 without tokens is what such a page attacks.
 * On always, production or not.
 */
export function useCsrfPrevention(): Plugin<GraphQLContext> {
  const yogaPlugin = useYogaCSRFPrevention({ requestHeaders: [CSRF_HEADER] });
  return {
    onRequestParse(payload) {
      try {
        return yogaPlugin.onRequestParse?.(payload);
      } catch {
        throw new GraphQLError(
          `refused as a possible cross-site request forgery: a GET request, or a POST of a form, multipart or text/plain body, must carry the header "${CSRF_HEADER}" (any value); JSON POSTs need not`,
          { extensions: { code: 'CSRF_HEADER_REQUIRED', http: { status: 403 } } },
        );
      }
    },
  };
}
