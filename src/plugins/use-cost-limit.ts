import { createComplexityRule } from '@pothos/plugin-complexity';
import { type DocumentNode, type GraphQLError, type GraphQLSchema, validate } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../context.ts';
import { operationTooComplex } from '../schema/cost-rules.ts';

interface Operation {
  readonly schema: GraphQLSchema;
  readonly document: DocumentNode;
  readonly variableValues?: Readonly<Record<string, unknown>> | null | undefined;
  readonly operationName?: string | null | undefined;
  readonly contextValue?: unknown;
}

/**
 * The errors of an operation over its depth or cost limit (DOCKERGRAPH_MAX_DEPTH,
 * DOCKERGRAPH_MAX_COST), costed by the schema's cost model with its variables.
 */
function complexityErrors(operation: Operation, maxDepth: number, maxCost: number): GraphQLError[] {
  const rule = createComplexityRule({
    variableValues: { ...operation.variableValues },
    operationName: operation.operationName ?? null,
    // The cost model reads arguments only (src/schema/cost-rules.ts), never the context:
    // what it answers for one document and variables holds for every request.
    context: {},
    validate: (result, reportError) => {
      if (result.depth > maxDepth)
        reportError(operationTooComplex('depth', result.depth, maxDepth));
      else if (result.complexity > maxCost) {
        reportError(operationTooComplex('cost', result.complexity, maxCost));
      }
    },
  });
  // Not through yoga's validation cache: the cost depends on the variables (`first: $n`).
  return [...validate(operation.schema, operation.document, [rule])];
}

/** Most documents whose passing variable sets are remembered; then the memory starts afresh. */
const MAX_DOCUMENTS = 1_000;
/** Most variable sets remembered per document. */
const MAX_VARIABLE_SETS = 64;
/** Variables longer than this (as JSON) are costed every time rather than remembered. */
const MAX_REMEMBERED_VARIABLES_CHARS = 4_096;

/**
 * Remembers the operations (document, operation name and variables) found within
 * the limits, so that an operation asked again is not costed again: the cost of
 * an operation depends on nothing else. Documents are keyed by their source
 * text, which yoga's parser cache maps to one parsed document anyway. Refused
 * operations are not remembered: they are costed again each time, as before.
 */
class PassedOperations {
  private readonly documents = new Map<string, Set<string>>();

  /** The key of `operation`, or null when it is not to be remembered. */
  keyOf(operation: Operation): { document: string; variables: string } | null {
    const source = operation.document.loc?.source.body;
    if (source === undefined) return null;
    let variables: string;
    try {
      variables = `${operation.operationName ?? ''}\u0000${JSON.stringify(operation.variableValues ?? {})}`;
    } catch {
      return null;
    }
    if (variables.length > MAX_REMEMBERED_VARIABLES_CHARS) return null;
    return { document: source, variables };
  }

  has(key: { document: string; variables: string }): boolean {
    return this.documents.get(key.document)?.has(key.variables) ?? false;
  }

  add(key: { document: string; variables: string }): void {
    let sets = this.documents.get(key.document);
    if (!sets) {
      if (this.documents.size >= MAX_DOCUMENTS) this.documents.clear();
      sets = new Set();
      this.documents.set(key.document, sets);
    }
    if (sets.size >= MAX_VARIABLE_SETS) sets.clear();
    sets.add(key.variables);
  }
}

/**
 * Refuses operations deeper or costlier than the limits before they run, over
 * HTTP and WebSocket alike (the schema's own check runs only once a root field
 * resolves: after a subscription has started). An operation found within the
 * limits once is not costed again (see {@link PassedOperations}).
 */
export function useCostLimit(limits: {
  readonly maxDepth: number;
  readonly maxCost: number;
}): Plugin<GraphQLContext> {
  const passed = new PassedOperations();
  const check = (operation: Operation): GraphQLError[] => {
    const key = passed.keyOf(operation);
    if (key && passed.has(key)) return [];
    const errors = complexityErrors(operation, limits.maxDepth, limits.maxCost);
    if (key && errors.length === 0) passed.add(key);
    return errors;
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const errors = check(args);
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const errors = check(args);
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
  };
}
