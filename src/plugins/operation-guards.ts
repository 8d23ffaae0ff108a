import { GraphQLError } from 'graphql';
import type { GraphQLParams, Plugin } from 'graphql-yoga';
import type { Config } from '../config.ts';
import type { GraphQLContext } from '../context.ts';
import type { Principal } from '../security/principal.ts';
import type { AuditLog } from './audit-log.ts';
import { type OperationParams, resolvePersistedOperation } from './persisted-operations.ts';
import { admitOperations } from './rate-limit.ts';
import type { RequestGuards } from './request-guards.ts';
import { type AuditSource, refusedOperationRecord, transportOfRequest } from './use-audit.ts';

/**
 * The one request pipeline. Every GraphQL operation, whichever transport brought
 * it (HTTP POST or GET, SSE, WebSocket, the serverless fetch handler), passes:
 *
 * 1. its transport's size limit, before the bytes are held: DOCKERGRAPH_MAX_BODY_BYTES is
 *    the HTTP body limit (`use-body-limit.ts`, also for GET query strings) and the
 *    WebSocket server's `maxPayload` (close 1009); multipart uploads have their own
 *    (`use-uploads.ts`);
 * 2. authentication (HTTP per request, WebSocket per connection), with the same tokens;
 * 3. {@link guardOperations} below, once its operations are read and before any is parsed:
 *    batch size, rate limit, registered operations; refusals are audited here;
 * 4. envelop's parse, validate and execute/subscribe, which every transport runs through
 *    the same plugins: token limit (parse), aliases and introspection (validation),
 *    depth and cost (before execution or subscription), permissions (resolvers), the
 *    engine-call budget (engine client) and the audit of what ran.
 *
 * Each check is written once: the WebSocket server calls {@link guardOperations} and
 * runs the app's envelop, as the HTTP plugins do.
 *
 * @module
 */

/** What {@link guardOperations} needs: the shared limits and where refusals are audited. */
export interface OperationGuards extends RequestGuards {
  /** Most operations in one batched request; 0 refuses batches (DOCKERGRAPH_BATCHING). */
  readonly maxBatchSize: number;
  /** Token limit when reading a refused operation for its audit line. */
  readonly maxTokens: number;
  readonly audit: AuditLog;
  /** Told of each request refused by the rate limit (for metrics). */
  readonly onRateLimited: (transport: AuditSource['transport']) => void;
}

/** The guards of `config` over the shared rate limiter and registered operations. */
export function createOperationGuards(
  config: Pick<Config, 'limits'>,
  guards: RequestGuards,
  audit: AuditLog,
  onRateLimited: OperationGuards['onRateLimited'] = () => {},
): OperationGuards {
  return {
    ...guards,
    maxBatchSize: config.limits.maxBatchSize,
    maxTokens: config.limits.maxTokens,
    audit,
    onRateLimited,
  };
}

/** The error of a batched request (a JSON array of operations) that is not allowed. */
function batchRefused(size: number, maxBatchSize: number): GraphQLError {
  const message =
    maxBatchSize === 0
      ? `batched requests (a list of ${size} operations) are turned off: send one operation per request, or allow batches with DOCKERGRAPH_BATCHING=<most operations per request>`
      : `the request holds ${size} operations, the most one batch may hold is ${maxBatchSize} (DOCKERGRAPH_BATCHING)`;
  return new GraphQLError(message, {
    extensions: { code: 'BATCH_REFUSED', http: { status: maxBatchSize === 0 ? 400 : 413 } },
  });
}

/** One operation as a request carries it: an HTTP request's parameters, a `subscribe` payload. */
export interface RequestedOperation extends OperationParams {
  readonly operationName?: string | null | undefined;
  readonly variables?: Readonly<Record<string, unknown>> | null | undefined;
}

/** The operations of one request, as read from it. */
export interface RequestedOperations<T extends RequestedOperation> {
  readonly operations: readonly T[];
  /** Sent as a list (a batch), even of one. */
  readonly batched: boolean;
}

async function check<T extends RequestedOperation>(
  guards: OperationGuards,
  principal: Principal | undefined,
  { operations, batched }: RequestedOperations<T>,
): Promise<T[] | GraphQLError> {
  if (batched && (guards.maxBatchSize === 0 || operations.length > guards.maxBatchSize)) {
    return batchRefused(operations.length, guards.maxBatchSize);
  }
  // Each operation counts against its token's rate limit, a batch at once.
  const limited =
    principal &&
    (await admitOperations(guards.rateLimiter, principal, operations.length, guards.onStoreError));
  if (limited) return limited;
  const { persistedOperations } = guards;
  if (!persistedOperations) return [...operations];
  const admitted: T[] = [];
  for (const params of operations) {
    const resolved = await resolvePersistedOperation(
      persistedOperations,
      principal,
      params,
      guards.onStoreError,
    );
    if (resolved instanceof GraphQLError) return resolved;
    admitted.push({ ...params, query: resolved.query });
  }
  return admitted;
}

/**
 * Admits the operations of one request before any is parsed: the batch size, the
 * principal's rate limit, and in persisted-operations mode the registered document
 * each one runs (its own for admins). Answers the operations to run, or the error
 * that refuses them all; a refused mutation or subscription is audited as denied.
 */
export async function guardOperations<T extends RequestedOperation>(
  guards: OperationGuards,
  source: AuditSource,
  requested: RequestedOperations<T>,
): Promise<T[] | GraphQLError> {
  const result = await check(guards, source.principal, requested);
  if (result instanceof GraphQLError && result.extensions.code === 'RATE_LIMITED') {
    guards.onRateLimited(source.transport);
  }
  if (result instanceof GraphQLError && guards.audit.enabled) {
    for (const params of requested.operations) {
      const record = refusedOperationRecord(source, params, [result], guards.maxTokens);
      if (record) guards.audit.write(record);
    }
  }
  return result;
}

/** Requests whose operations were admitted while their body was read (multipart uploads). */
const admittedRequests = new WeakSet<Request>();

/** Notes that `request`'s operations passed {@link guardOperations}: they are not counted twice. */
export function markAdmitted(request: Request): void {
  admittedRequests.add(request);
}

/**
 * {@link guardOperations} for HTTP requests (POST, GET, SSE; Node server and fetch
 * handler): once the body is read, before anything is parsed. Refusals answer their
 * HTTP status (429 with `Retry-After`, 413, 403, 400).
 */
export function useOperationGuards(
  guards: OperationGuards,
  principals: WeakMap<Request, Principal>,
  clientAddressOf: (serverContext: unknown) => string | null,
): Plugin<GraphQLContext> {
  return {
    onRequestParse({ request, serverContext }) {
      return {
        async onRequestParseDone({ requestParserResult, setRequestParserResult }) {
          if (admittedRequests.has(request)) return;
          const batched = Array.isArray(requestParserResult);
          const admitted = await guardOperations(
            guards,
            {
              principal: principals.get(request),
              transport: transportOfRequest(request),
              clientAddress: clientAddressOf(serverContext),
            },
            {
              operations: batched ? requestParserResult : [requestParserResult],
              batched,
            } satisfies RequestedOperations<GraphQLParams>,
          );
          if (admitted instanceof GraphQLError) throw admitted;
          const [first] = admitted;
          if (batched) setRequestParserResult(admitted);
          else if (first) setRequestParserResult(first);
        },
      };
    },
  };
}
