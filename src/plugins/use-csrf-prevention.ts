import {
  type DocumentNode,
  type FragmentDefinitionNode,
  GraphQLError,
  getOperationAST,
  Kind,
  type SelectionSetNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../context.ts';
import { schema } from '../schema/index.ts';
import { isForeignPageRequest } from '../security/origins.ts';

/**
 * Cross-site request protection, designed from one threat: a hostile web page
 * open in the browser of someone who runs dockergraph on loopback without
 * tokens (it runs everything as admin then). Tokens are never sent by the
 * browser on its own, so with tokens such a page has nothing to forge.
 *
 * What that page can do without asking the server first (a CORS preflight):
 * GET anything (links, images, `EventSource`, `fetch`), and POST a body of the
 * form content types (`application/x-www-form-urlencoded`, `multipart/form-data`,
 * `text/plain`, or none). Anything else (a JSON POST, an `Authorization` or
 * custom header) is preflighted, and the CORS answer (src/app.ts) approves only
 * allowed origins. Browsers mark every request with `Origin` (all POSTs and
 * every CORS request) and `Sec-Fetch-Site`.
 *
 * The rules, so that standard clients work on their defaults:
 * 1. a request of a page of another site (its `Origin` not allowed, or
 *    `Sec-Fetch-Site` cross-site or same-site without an allowed `Origin`)
 *    runs nothing: it could not read the answer anyway;
 * 2. a GET runs only what changes nothing: queries, and the subscriptions of
 *    {@link SUBSCRIPTION_EFFECTS} marked `none` (GraphQL over HTTP already
 *    forbids mutations over GET; yoga answers them 405);
 * 3. a POST a page could send without a preflight (the form content types,
 *    e.g. uploads) runs only when the browser vouches for it, `Origin`
 *    allowed or `Sec-Fetch-Site` same-origin, or when it carries
 *    {@link CSRF_HEADER} (any value; clients that are not browsers, e.g. curl
 *    uploads), which no page can add across sites without CORS approval.
 * Answers stay unreadable to other sites: CORS approves only allowed origins,
 * WebSocket upgrades check `Origin` (src/server.ts), and without tokens the
 * Host must be a loopback name (DNS rebinding).
 */

/** The header that lets a form-typed POST through when no browser header vouches for it. */
const CSRF_HEADER = 'x-graphql-yoga-csrf';

/**
 * What each subscription does to the engine: `changes` ones (a pull, a build)
 * run only over POST or WebSocket, never over GET, where any page could start
 * them. Every subscription field must be listed: the server does not start otherwise.
 */
export const SUBSCRIPTION_EFFECTS: Readonly<Record<string, 'none' | 'changes'>> = {
  events: 'none',
  containerUpdated: 'none',
  containerStats: 'none',
  containerLogs: 'none',
  serviceUpdated: 'none',
  serviceLogs: 'none',
  pullImageProgress: 'changes',
  buildImageProgress: 'changes',
};

/** Content types a page may POST across sites without a preflight (Fetch standard). */
const SIMPLE_CONTENT_TYPES = new Set([
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'text/plain',
]);

/**
 * Whether a browser would send a body of this `Content-Type` across sites
 * without a preflight: no type, or one whose essence (the MIME type before any
 * parameter, as the Fetch standard parses it) is a form type. So
 * `text/plain; application/json` counts as text/plain, as browsers count it.
 */
function isSimpleContentType(contentType: string | null): boolean {
  if (contentType === null) return true;
  const essence = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return SIMPLE_CONTENT_TYPES.has(essence);
}

function refusal(message: string, code: string, status: number): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status } } });
}

/** The root field names an operation's selection set asks for, through fragments. */
function rootFieldsOf(
  selectionSet: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  seen = new Set<string>(),
): string[] {
  return selectionSet.selections.flatMap((selection) => {
    if (selection.kind === Kind.FIELD) return [selection.name.value];
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      return rootFieldsOf(selection.selectionSet, fragments, seen);
    }
    const name = selection.name.value;
    const fragment = fragments.get(name);
    if (!fragment || seen.has(name)) return [];
    seen.add(name);
    return rootFieldsOf(fragment.selectionSet, fragments, seen);
  });
}

/** The subscription fields of `document` that change the engine, for `operationName`. */
function changingSubscriptionFields(
  document: DocumentNode,
  operationName: string | undefined,
): string[] {
  const operation = getOperationAST(document, operationName);
  if (operation?.operation !== 'subscription') return [];
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    }
  }
  return rootFieldsOf(operation.selectionSet, fragments).filter(
    (field) => SUBSCRIPTION_EFFECTS[field] === 'changes',
  );
}

/** Fails when a subscription field of the schema has no entry in {@link SUBSCRIPTION_EFFECTS}. */
function checkSubscriptionTable(): void {
  const fields = Object.keys(schema.getSubscriptionType()?.getFields() ?? {});
  const missing = fields.filter((field) => SUBSCRIPTION_EFFECTS[field] === undefined);
  if (missing.length > 0) {
    throw new Error(
      `subscriptions without an entry in SUBSCRIPTION_EFFECTS (src/plugins/use-csrf-prevention.ts): ${missing.join(', ')}`,
    );
  }
}

/** Applies the cross-site rules above to every GraphQL request over HTTP; on always. */
export function useCsrfPrevention(allowedOrigins: readonly string[]): Plugin<GraphQLContext> {
  checkSubscriptionTable();
  return {
    onRequestParse({ request }) {
      if (isForeignPageRequest(request, allowedOrigins)) {
        throw refusal(
          `refused: a request from a page of another site (origin ${request.headers.get('origin') ?? 'not sent'}); only this server's own pages and the origins of DOCKERGRAPH_ALLOWED_ORIGINS may use it from a browser`,
          'CROSS_SITE_REFUSED',
          403,
        );
      }
      if (request.method !== 'POST' || !isSimpleContentType(request.headers.get('content-type'))) {
        return;
      }
      const vouched =
        request.headers.get('origin') !== null ||
        request.headers.get('sec-fetch-site') === 'same-origin' ||
        request.headers.has(CSRF_HEADER);
      if (!vouched) {
        throw refusal(
          `refused as a possible cross-site request forgery: a POST of a form, multipart or text/plain body (or none) must come from a browser page of an allowed origin, or carry the header "${CSRF_HEADER}" (any value); JSON POSTs need not`,
          'CSRF_HEADER_REQUIRED',
          403,
        );
      }
    },
    onParse({ context }) {
      const { request, params } = context as {
        request?: Request;
        params?: { operationName?: string };
      };
      // WebSocket operations have no Fetch request, and no GET.
      if (request?.method !== 'GET') return;
      return ({ result }) => {
        if (result instanceof Error) return;
        const fields = changingSubscriptionFields(result, params?.operationName);
        if (fields.length > 0) {
          throw new GraphQLError(
            `${fields.join(', ')} changes the engine: subscribe with a POST (e.g. graphql-sse, or "Accept: text/event-stream") or over WebSocket, not with a GET, which any web page can send`,
            {
              extensions: {
                code: 'BAD_REQUEST',
                http: { status: 405, headers: { Allow: 'POST' } },
              },
            },
          );
        }
      };
    },
  };
}
