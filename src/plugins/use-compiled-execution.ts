import {
  BREAK,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  getOperationAST,
  Kind,
  type OperationDefinitionNode,
  OperationTypeNode,
  valueFromASTUntyped,
  visit,
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

/**
 * A compiled operation and the defaults of its variables, as the client wrote them: graphql-jit
 * refuses a non-null variable with a default when the request omits it (`$first: Int! = 10`),
 * which the GraphQL spec allows, so each omitted one is given its default first. The literal's
 * plain value, not its coerced one: graphql-jit coerces what it is given again.
 */
interface CompiledOperation {
  readonly compiledQuery: CompiledQuery;
  readonly defaults: readonly (readonly [name: string, value: unknown])[];
}

/** A compiled operation, or why it is left to the interpreter. */
type Compiled = CompiledOperation | 'interpret';

/**
 * Runs of an operation before it is compiled: a document asked for once (a cold start's
 * first query, a one-off from GraphiQL, a flood of distinct documents) is interpreted, and
 * one asked for again, as clients ask for theirs, is compiled then.
 */
const RUNS_BEFORE_COMPILING = 1;

/**
 * Per operation of a parsed document (yoga's parser cache shares document objects among
 * requests and bounds how many live), the operation compiled, or how many times it was
 * interpreted. Keyed by the operation's node, not the request's operation name: one document
 * may hold several operations, which one runs is each request's choice, and names that name
 * no operation add nothing.
 */
const compiledOperations = new WeakMap<OperationDefinitionNode, Compiled | number>();

/**
 * Whether graphql-jit answers `operation` as graphql-js does, as far as tests against the
 * interpreter found (test/integration/attacks-2026-12-compiled-execution.test.ts):
 * - queries only: a mutation's root fields run one after another and the first that fails
 *   a non-null type stops the rest; graphql-jit runs them all, so a mutation after a
 *   refused one would still write;
 * - no fragments: graphql-jit collects a fragment's fields after their siblings, so the
 *   answer's keys would come in another order;
 * - no directives: graphql-jit writes `@skip`/`@include` conditions onto the document's
 *   nodes, which yoga's parser cache shares among requests;
 * - no string literals: graphql-jit writes literal arguments into its code as JSON, then
 *   turns any JSON string that starts with its date marker (`"__MAGIC_DATE__…`) into
 *   `new Date(…)` with the rest of the string as code, so a client's string literal could
 *   run as JavaScript in the server (values given as variables are never written into code).
 */
function isCompilable(document: DocumentNode, operation: OperationDefinitionNode): boolean {
  if (operation.operation !== OperationTypeNode.QUERY) return false;
  let compilable = true;
  visit(document, {
    enter(node) {
      if (
        node.kind === Kind.FRAGMENT_SPREAD ||
        node.kind === Kind.INLINE_FRAGMENT ||
        node.kind === Kind.FRAGMENT_DEFINITION ||
        node.kind === Kind.DIRECTIVE ||
        node.kind === Kind.STRING
      ) {
        compilable = false;
        return BREAK;
      }
      return undefined;
    },
  });
  return compilable;
}

/** The operation compiled, or `undefined` while (or because) it is to be interpreted. */
function compiledOperation(args: ExecutionArgs, logger: Logger): CompiledOperation | undefined {
  const { document, operationName, schema } = args;
  const operation = getOperationAST(document, operationName);
  if (!operation) return undefined;
  const cached = compiledOperations.get(operation) ?? 0;
  if (cached === 'interpret') return undefined;
  if (typeof cached !== 'number') return cached;
  if (cached < RUNS_BEFORE_COMPILING) {
    compiledOperations.set(operation, cached + 1);
    return undefined;
  }
  if (!isCompilable(document, operation)) {
    compiledOperations.set(operation, 'interpret');
    return undefined;
  }
  const compiled = compileQuery(schema, document, operationName ?? undefined, {
    disablingCapturingStackErrors: true,
  });
  if (!isCompiledQuery(compiled)) {
    logger.error('graphql-jit could not compile a document; it is interpreted', {
      errors: (compiled.errors ?? []).map((error) => error.message).join('; '),
    });
    compiledOperations.set(operation, 'interpret');
    return undefined;
  }
  const entry: CompiledOperation = {
    compiledQuery: compiled,
    defaults: (operation.variableDefinitions ?? []).flatMap((definition) =>
      definition.defaultValue
        ? [[definition.variable.name.value, valueFromASTUntyped(definition.defaultValue)] as const]
        : [],
    ),
  };
  compiledOperations.set(operation, entry);
  return entry;
}

/** The request's variables, each omitted one that has a default set to it. */
function withVariableDefaults(
  args: ExecutionArgs,
  defaults: CompiledOperation['defaults'],
): ExecutionArgs['variableValues'] {
  const given = args.variableValues ?? {};
  const omitted = defaults.filter(([name]) => given[name] === undefined);
  return omitted.length === 0 ? given : { ...given, ...Object.fromEntries(omitted) };
}

/**
 * Runs queries through graphql-jit: a document asked for a second time is compiled once into
 * JavaScript that walks its selections, instead of graphql-js interpreting the document for
 * every object of every answer. The resolvers, and so every rule the schema wraps around
 * them (permissions, label limits, engine binding, redaction), are the same functions either
 * way. Measured in bench/read-model.ts: the overview of 200 containers from the read model
 * took a third of the interpreter's time.
 *
 * Only where graphql-jit answers as graphql-js does ({@link isCompilable}), and only answers
 * without errors: a compiled run that ends with any error (a refusal, an engine failure, a
 * bad variable) is run again by the interpreter, with fresh loaders and budget, whose answer
 * the client gets, so every error keeps graphql-js's message, locations, order and null
 * propagation (a query only reads; its engine reads are made twice then). Subscriptions are always
 * interpreted: graphql-jit 0.8 hands a subscription field's `subscribe` the request's
 * variables in place of the field's arguments.
 *
 * Client text never becomes code: graphql-jit writes names (GraphQL names, letters, digits
 * and `_` only) into the code, and documents with string literals are not compiled.
 * test/integration/attacks-2026-12-compiled-execution.test.ts holds it to the interpreter's
 * answers for hostile and unusual documents, under every rule.
 *
 * It must come before every plugin that wraps the execute function it is given (tracing):
 * envelop hands each plugin the function the ones before it set, and this plugin replaces
 * it outright.
 */
export function useCompiledExecution(logger: Logger): Plugin<GraphQLContext> {
  return {
    onExecute({ args: { contextValue: context }, executeFn, setExecuteFn }) {
      setExecuteFn((args) => {
        const compiled = compiledOperation(args, logger);
        if (!compiled) return executeFn(args);
        const partialErrors = context.partialErrors.length;
        // Interpreted as if the compiled run had not happened: fresh loaders and a whole
        // engine-call budget, and without the partial errors that run reported.
        const interpretAgain = () => {
          context.partialErrors.length = partialErrors;
          context.renewLoaders();
          return executeFn(args);
        };
        // A promise from the start, so that a synchronous throw is interpreted again too.
        return new Promise<ExecutionResult>((resolve) =>
          resolve(
            compiled.compiledQuery.query(
              args.rootValue,
              args.contextValue,
              withVariableDefaults(args, compiled.defaults),
            ),
          ),
        ).then((result) => (result.errors?.length ? interpretAgain() : result), interpretAgain);
      });
    },
  };
}
