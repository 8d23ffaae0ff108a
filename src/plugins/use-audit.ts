import type { IncomingMessage } from 'node:http';
import {
  type DocumentNode,
  defaultFieldResolver,
  type ExecutionArgs,
  type ExecutionResult,
  type FieldNode,
  type GraphQLError,
  type GraphQLFieldResolver,
  type GraphQLSchema,
  getNamedType,
  getOperationAST,
  isAbstractType,
  Kind,
  type OperationDefinitionNode,
  parse,
  type SelectionSetNode,
} from 'graphql';
import { type GraphQLParams, isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { FleetView, GraphQLContext } from '../context.ts';
import { bearerTokenOf, type Principal } from '../security/principal.ts';
import { redactVariables, scrubSecrets, secretLiterals } from '../security/redact.ts';
import type { AuditError, AuditLog, AuditOutcome, AuditRecord } from './audit-log.ts';

/**
 * Codes of refusals: the operation was not allowed to run (authentication,
 * authorisation, read-only, limits), as opposed to one that ran and failed.
 */
const DENIAL_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'RATE_LIMITED',
  'QUERY_TOO_COMPLEX',
  'TOO_MANY_ALIASES',
  'TOO_MANY_TOKENS',
  'BATCH_REFUSED',
  'REQUEST_TOO_LARGE',
  'CSRF_HEADER_REQUIRED',
  'PERSISTED_QUERY_ONLY',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_ID_REQUIRED',
]);

/** HTTP statuses a refusal carries (`extensions.http.status`) whatever its code. */
const DENIAL_STATUSES = new Set([401, 403, 413, 429]);

/** Longest error message kept in an audit line. */
const MAX_MESSAGE_LENGTH = 500;

/** A GraphQL error as results carry it; results made by plugins may hold plain errors. */
type ResultError = Pick<GraphQLError, 'message'> &
  Partial<Pick<GraphQLError, 'path' | 'extensions'>>;

/** What the hooks of one operation see of its context, whichever transport it came by. */
interface OperationContext {
  readonly request?: Request;
  readonly params?: GraphQLParams;
  /** Set by the WebSocket path (src/server.ts) before the context is built. */
  readonly principal?: Principal;
  /** The Node request: the HTTP request, or the WebSocket's upgrade request. */
  readonly req?: IncomingMessage;
  /** The engines the operation may use (src/context.ts); absent before the context is built. */
  readonly fleet?: Pick<FleetView, 'touched'>;
}

/** The interface every typed mutation error implements (src/schema/mutation-errors.ts). */
const MUTATION_ERROR_INTERFACE = 'MutationError';

/** The typed errors root mutation fields answered, per operation context. */
const typedErrorsByContext = new WeakMap<object, AuditError[]>();

/** Mutation resolvers already observed (the schema is shared by every app of the process). */
const observedResolvers = new WeakSet<GraphQLFieldResolver<unknown, unknown>>();

function clip(message: string, secrets: readonly string[]): string {
  const scrubbed = scrubSecrets(message, secrets);
  return scrubbed.length > MAX_MESSAGE_LENGTH
    ? `${scrubbed.slice(0, MAX_MESSAGE_LENGTH)}…`
    : scrubbed;
}

/**
 * Wraps the resolvers of the root mutation fields so that a typed error they
 * answer (a union member implementing `MutationError`, such as `NotFoundError`)
 * is noted for the audit line: the client need not select `__typename`.
 */
function observeMutationResults(schema: GraphQLSchema): void {
  const mutationType = schema.getMutationType();
  if (!mutationType) return;
  for (const field of Object.values(mutationType.getFields())) {
    if (field.resolve && observedResolvers.has(field.resolve)) continue;
    const resolve = field.resolve ?? defaultFieldResolver;
    const observed: GraphQLFieldResolver<unknown, unknown> = (source, args, context, info) => {
      const sink =
        typeof context === 'object' && context ? typedErrorsByContext.get(context) : null;
      const result = resolve(source, args, context, info);
      if (!sink) return result;
      const note = (value: unknown) => {
        const returnType = getNamedType(info.returnType);
        if (!isAbstractType(returnType) || typeof value !== 'object' || value === null) return;
        // The errors plugin answers a typed error as a proxy of it, which asking the schema's
        // isTypeOf would unwrap (and so turn into a thrown error): ask about a bare instance of
        // its class instead.
        const errorClass = (value as { constructor?: unknown }).constructor;
        if (typeof errorClass !== 'function' || !(errorClass.prototype instanceof Error)) return;
        const probe: unknown = Object.create(errorClass.prototype as object);
        const member = info.schema
          .getPossibleTypes(returnType)
          .find((type) => type.isTypeOf?.(probe, context, info) === true);
        if (!member?.getInterfaces().some((face) => face.name === MUTATION_ERROR_INTERFACE)) return;
        const { message } = value as { message?: unknown };
        sink.push({
          field: info.path.key.toString(),
          code: member.name,
          message: typeof message === 'string' ? message : member.name,
        });
      };
      if (result instanceof Promise) {
        return result.then((value: unknown) => {
          note(value);
          return value;
        });
      }
      note(result);
      return result;
    };
    observedResolvers.add(observed);
    field.resolve = observed;
  }
}

/** Calls `onField` with each root field of `operation`, inline and named fragments followed (each fragment once). */
export function forEachRootField(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  onField: (field: FieldNode) => void,
): void {
  const fragments = new Map(
    document.definitions.flatMap((definition) =>
      definition.kind === Kind.FRAGMENT_DEFINITION
        ? [[definition.name.value, definition.selectionSet] as const]
        : [],
    ),
  );
  const seen = new Set<string>();
  const collect = (selectionSet: SelectionSetNode) => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        onField(selection);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        collect(selection.selectionSet);
      } else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) collect(fragment);
      }
    }
  };
  collect(operation.selectionSet);
}

/** Root fields an operation selects, through fragments, without `__typename`. */
function rootFields(document: DocumentNode, operation: OperationDefinitionNode): string[] {
  const names = new Set<string>();
  forEachRootField(document, operation, (field) => {
    if (field.name.value !== '__typename') names.add(field.name.value);
  });
  return [...names];
}

function errorCode(error: ResultError): string {
  const code = error.extensions?.code;
  return typeof code === 'string' ? code : 'GRAPHQL_ERROR';
}

function isDenial(error: ResultError): boolean {
  const status = (error.extensions?.http as { status?: unknown } | undefined)?.status;
  return (
    DENIAL_CODES.has(errorCode(error)) ||
    (typeof status === 'number' && DENIAL_STATUSES.has(status))
  );
}

/** Where an operation came from, for its audit line. */
export interface AuditSource {
  /** Who ran it; undefined when no principal was found. */
  readonly principal: Principal | undefined;
  readonly transport: AuditRecord['transport'];
  readonly clientAddress: string | null;
}

/** The audit line of a mutation or subscription whose document was read. */
function operationRecord(
  source: AuditSource,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> | null | undefined,
  outcome: { errors: readonly ResultError[]; typedErrors: readonly AuditError[] },
  startedAt?: number,
  engines?: readonly string[],
): AuditRecord {
  const redacted = redactVariables(variables, document);
  const secrets = [...redacted.secrets, ...secretLiterals(document)];
  const errors: AuditError[] = [
    ...outcome.errors.map((error) => ({
      field: typeof error.path?.[0] === 'string' ? error.path[0] : null,
      code: errorCode(error),
      message: clip(error.message, secrets),
    })),
    ...outcome.typedErrors.map((error) => ({
      ...error,
      message: clip(error.message, secrets),
    })),
  ];
  const result: AuditOutcome = outcome.errors.some(isDenial)
    ? 'denied'
    : errors.length > 0
      ? 'error'
      : 'ok';
  return {
    time: new Date().toISOString(),
    tokenId: source.principal?.tokenId ?? null,
    role: source.principal?.role ?? null,
    operationType: operation.operation === 'subscription' ? 'subscription' : 'mutation',
    operationName: operation.name?.value ?? null,
    fields: rootFields(document, operation),
    ...(engines && engines.length > 0 ? { engines } : {}),
    variables: redacted.variables,
    outcome: result,
    ...(errors.length > 0 ? { errors } : {}),
    transport: source.transport,
    clientAddress: source.clientAddress,
    ...(startedAt === undefined
      ? {}
      : { durationMs: Math.round((performance.now() - startedAt) * 10) / 10 }),
  };
}

/** The operation a document names, when it is one the audit log keeps: mutation or subscription. */
function auditedOperation(
  document: DocumentNode,
  operationName: string | null | undefined,
): OperationDefinitionNode | null {
  const operation = getOperationAST(document, operationName);
  return operation && operation.operation !== 'query' ? operation : null;
}

/**
 * The audit line of an operation refused before it was parsed and run (a rate
 * limit, a non-registered operation): its document is read here, within the
 * token limit, to tell a refused mutation or subscription (audited) from a
 * query (not audited, null).
 */
export function refusedOperationRecord(
  source: AuditSource,
  params: {
    readonly query?: string | null | undefined;
    readonly operationName?: string | null | undefined;
    readonly variables?: Readonly<Record<string, unknown>> | null | undefined;
  },
  errors: readonly ResultError[],
  maxTokens: number,
): AuditRecord | null {
  if (typeof params.query !== 'string') return null;
  let document: DocumentNode;
  try {
    document = parse(params.query, { maxTokens });
  } catch {
    return null;
  }
  const operation = auditedOperation(document, params.operationName);
  if (!operation) return null;
  return operationRecord(source, document, operation, params.variables, {
    errors,
    typedErrors: [],
  });
}

/** What a refused authentication says, from the credentials presented (never the token). */
function authenticationFailureMessage(authorization: string | null | undefined): string {
  const token = bearerTokenOf(authorization);
  if (token === undefined) return 'no token presented';
  if (token === null) return 'malformed Authorization header';
  return 'the token is not valid';
}

/**
 * The audit line of a request refused for its credentials: written by the
 * HTTP path (401) and by the WebSocket path (connection refused, 4403).
 */
export function authenticationFailureRecord(
  transport: AuditRecord['transport'],
  authorization: string | null | undefined,
  clientAddress: string | null,
): AuditRecord {
  return {
    time: new Date().toISOString(),
    tokenId: null,
    role: null,
    operationType: null,
    operationName: null,
    fields: [],
    variables: null,
    outcome: 'denied',
    errors: [
      {
        field: null,
        code: 'UNAUTHENTICATED',
        message: authenticationFailureMessage(authorization),
      },
    ],
    transport,
    clientAddress,
  };
}

/** What the audit plugin needs from the app. */
export interface AuditOptions {
  readonly log: AuditLog;
  /** Principals of HTTP requests, as useAuthentication found them. */
  readonly principals: WeakMap<Request, Principal>;
}

/** How an HTTP request's operations travel, for their audit lines. */
export function transportOfRequest(request: Request): AuditRecord['transport'] {
  return request.headers.get('accept')?.includes('text/event-stream') ? 'sse' : 'http';
}

/**
 * Writes one audit line per mutation and per subscription start, over HTTP,
 * SSE and WebSocket alike: who (token id, role), what (operation, root fields,
 * variables with secrets redacted) and how it ended (`ok`, `error` with the
 * error codes and messages, `denied` for refusals). Refused mutations and
 * subscriptions are audited too (those refused before they are parsed, by
 * `guardOperations` in `operation-guards.ts`); requests refused for their
 * credentials get a line without operation, their body being never read.
 */
export function useAudit({ log, principals }: AuditOptions): Plugin<GraphQLContext> {
  if (!log.enabled) return {};

  const sourceOf = (context: OperationContext): AuditSource => ({
    principal: context.principal ?? (context.request ? principals.get(context.request) : undefined),
    transport: context.request ? transportOfRequest(context.request) : 'websocket',
    clientAddress: context.req?.socket?.remoteAddress ?? null,
  });

  /**
   * Notes that an operation is about to run (executed, or subscribed to): for a
   * mutation or subscription, the function that writes its line once its
   * result is known; null for a query. Typed errors its root fields answer are
   * collected when `withTypedErrors` (execution; a subscription's start has none).
   */
  const startOperation = (args: ExecutionArgs, withTypedErrors: boolean) => {
    const context = args.contextValue as OperationContext;
    const operation = auditedOperation(args.document, args.operationName);
    if (!operation) return null;
    const startedAt = performance.now();
    const typedErrors: AuditError[] = [];
    if (withTypedErrors) typedErrorsByContext.set(context, typedErrors);
    return (result: ExecutionResult | AsyncIterable<unknown>) => {
      typedErrorsByContext.delete(context);
      const errors = isAsyncIterable(result) ? [] : (result.errors ?? []);
      log.write(
        operationRecord(
          sourceOf(context),
          args.document,
          operation,
          args.variableValues,
          { errors, typedErrors },
          startedAt,
          context.fleet?.touched(),
        ),
      );
    };
  };

  return {
    onSchemaChange({ schema }) {
      observeMutationResults(schema);
    },
    onValidate({ context, params }) {
      return ({ valid, result }) => {
        const operationContext = context as OperationContext;
        if (valid) return;
        const operation = auditedOperation(
          params.documentAST,
          operationContext.params?.operationName,
        );
        if (!operation) return;
        log.write(
          operationRecord(
            sourceOf(operationContext),
            params.documentAST,
            operation,
            operationContext.params?.variables,
            { errors: result, typedErrors: [] },
          ),
        );
      };
    },
    onExecute({ args }) {
      const finish = startOperation(args, true);
      if (!finish) return;
      return {
        onExecuteDone({ result }) {
          finish(result);
        },
      };
    },
    onSubscribe({ args }) {
      const finish = startOperation(args, false);
      if (!finish) return;
      return {
        onSubscribeResult({ result }) {
          finish(result);
        },
      };
    },
    onResponse({ request, response, serverContext }) {
      if (response.status !== 401) return;
      const clientAddress =
        (serverContext as { req?: IncomingMessage }).req?.socket?.remoteAddress ?? null;
      log.write(
        authenticationFailureRecord('http', request.headers.get('authorization'), clientAddress),
      );
    },
  };
}
