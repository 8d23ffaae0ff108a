import {
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  GraphQLError,
  type GraphQLSchema,
  getOperationAST,
  isInputType,
  type SourceLocation,
  typeFromAST,
  valueFromAST,
} from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../context.ts';
import type { Logger } from '../logger.ts';

/**
 * Whether this runtime lets code make functions from strings. Cloudflare Workers refuse
 * it (`EvalError: Code generation from strings disallowed`); there operations keep
 * graphql-js's interpreter.
 */
export function canGenerateCode(): boolean {
  try {
    return new Function('return true')() === true;
  } catch {
    return false;
  }
}

/** A compiled operation, or the errors compiling it gave (answered as graphql-js would). */
type Compiled = CompiledQuery | ExecutionResult;

/**
 * Runs of an operation before it is compiled: a document asked for once (a cold start's
 * first query, a one-off from GraphiQL, a flood of distinct documents) is interpreted, and
 * one asked for again, as clients ask for theirs, is compiled then.
 */
const RUNS_BEFORE_COMPILING = 1;

/**
 * Per parsed document (yoga's parser cache shares document objects among requests and
 * bounds how many live) and per operation name, the operation compiled, or how many times
 * it was interpreted: one document may hold several operations, and which one runs is the
 * request's choice, not the first requester's.
 */
const compiledOperations = new WeakMap<DocumentNode, Map<string, Compiled | number>>();

/** The operation compiled, or `undefined` while it should still be interpreted. */
function compiledOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  logger: Logger,
): Compiled | undefined {
  let byName = compiledOperations.get(document);
  if (!byName) {
    byName = new Map();
    compiledOperations.set(document, byName);
  }
  // Operation names are GraphQL names, so the empty string cannot collide with one.
  const key = operationName ?? '';
  const cached = byName.get(key) ?? 0;
  if (typeof cached !== 'number') return cached;
  if (cached < RUNS_BEFORE_COMPILING) {
    byName.set(key, cached + 1);
    return undefined;
  }
  const compiled = compileQuery(schema, document, operationName ?? undefined, {
    disablingCapturingStackErrors: true,
  });
  if (!isCompiledQuery(compiled)) {
    logger.error('graphql-jit could not compile a document', {
      errors: (compiled.errors ?? []).map((error) => error.message).join('; '),
    });
  }
  byName.set(key, compiled);
  return compiled;
}

/**
 * The request's variables with each omitted one that has a default set to that default,
 * as graphql-js coerces them: graphql-jit refuses a non-null variable with a default when
 * the request omits it (`$name: String! = "x"`), which the GraphQL spec allows.
 */
function withVariableDefaults(args: ExecutionArgs): ExecutionArgs['variableValues'] {
  const operation = getOperationAST(args.document, args.operationName);
  const given = args.variableValues ?? {};
  const defaults: Record<string, unknown> = {};
  for (const definition of operation?.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    if (!definition.defaultValue || given[name] !== undefined) continue;
    const type = typeFromAST(args.schema, definition.type);
    // An unknown type or a default that does not coerce is left for the compiled
    // coercion to report, with graphql-js's message.
    if (!type || !isInputType(type)) continue;
    const value = valueFromAST(definition.defaultValue, type);
    if (value !== undefined) defaults[name] = value;
  }
  return Object.keys(defaults).length === 0 ? given : { ...given, ...defaults };
}

/** Character offsets of the starts of `body`'s lines (GraphQL counts \r\n, \n and \r as one). */
function lineStarts(body: string): number[] {
  const starts = [0];
  for (const match of body.matchAll(/\r\n|[\n\r]/g)) starts.push(match.index + match[0].length);
  return starts;
}

/**
 * graphql-jit's errors carry `locations` but no AST nodes, source or positions, which
 * graphql-js's errors carry and which yoga's masking and ours rebuild errors from (and so
 * would answer without locations). Each is made again as graphql-js makes it, its
 * positions found from its locations in the document's source.
 */
function toGraphQLJsErrors(
  errors: readonly GraphQLError[],
  document: DocumentNode,
): GraphQLError[] {
  const source = document.loc?.source;
  let starts: number[] | undefined;
  return errors.map((error) => {
    if (error.nodes || !source) return error;
    starts ??= lineStarts(source.body);
    const positions = (error.locations ?? []).flatMap((location: SourceLocation) => {
      const start = starts?.[location.line - 1];
      return start === undefined ? [] : [start + location.column - 1];
    });
    return new GraphQLError(error.message, {
      source,
      positions: positions.length > 0 ? positions : null,
      path: error.path ?? null,
      originalError: error.originalError ?? null,
      extensions: error.extensions,
    });
  });
}

/** `result` with graphql-js's errors, put first as graphql-js puts them (answers keep key order). */
function withGraphQLJsErrors(result: ExecutionResult, document: DocumentNode): ExecutionResult {
  const { errors, ...rest } = result;
  if (!errors?.length) return result;
  return { errors: toGraphQLJsErrors(errors, document), ...rest };
}

/**
 * Runs operations through graphql-jit: each parsed document asked for a second time is
 * compiled once into JavaScript that walks its selections, instead of graphql-js interpreting the document
 * for every object of every answer. The resolvers, and so every rule the schema wraps
 * around them (permissions, label limits, engine binding, redaction), are the same
 * functions either way. Measured in bench/read-model.ts: the overview of 200 containers
 * from the read model took a third of the interpreter's time.
 *
 * Client text never becomes code: graphql-jit writes names (GraphQL names, letters, digits
 * and `_` only) into the code and keeps argument values, defaults and messages as JSON
 * data; test/integration/attacks-2026-12-compiled-execution.test.ts holds it to the
 * interpreter's answers for hostile documents.
 *
 * Queries and mutations only: graphql-jit 0.8 hands a subscription field's `subscribe` the
 * request's variables in place of the field's arguments (`containerLogs(id: $id, tail: 0)`
 * would get `{ id }` and no `tail`), so subscriptions keep graphql-js, which creates their
 * streams and executes their events (use-shared-subscription-results.ts executes each event
 * once per token and document already).
 *
 * It must come before every plugin that wraps the execute function it is given (tracing):
 * envelop hands each plugin the function the ones before it set, and this plugin replaces
 * it outright.
 */
export function useCompiledExecution(logger: Logger): Plugin<GraphQLContext> {
  return {
    onExecute({ executeFn, setExecuteFn }) {
      setExecuteFn((args) => {
        const compiled = compiledOperation(args.schema, args.document, args.operationName, logger);
        if (!compiled) return executeFn(args);
        if (!isCompiledQuery(compiled)) return compiled;
        return Promise.resolve(
          compiled.query(args.rootValue, args.contextValue, withVariableDefaults(args)),
        ).then((result) => withGraphQLJsErrors(result, args.document));
      });
    },
  };
}
