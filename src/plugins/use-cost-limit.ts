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
    context: operation.contextValue ?? {},
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

/**
 * Refuses operations deeper or costlier than the limits before they run, over
 * HTTP and WebSocket alike (the schema's own check runs only once a root field
 * resolves: after a subscription has started).
 */
export function useCostLimit(limits: {
  readonly maxDepth: number;
  readonly maxCost: number;
}): Plugin<GraphQLContext> {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const errors = complexityErrors(args, limits.maxDepth, limits.maxCost);
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const errors = complexityErrors(args, limits.maxDepth, limits.maxCost);
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
  };
}
