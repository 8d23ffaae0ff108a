import { GraphQLError } from 'graphql';
import { handleStreamOrSingleExecutionResult, type Plugin } from 'graphql-yoga';
import type { GraphQLContext, PartialError } from '../context.ts';

/** The GraphQL error of an engine that did not answer a list spanning engines. */
function toGraphQLError(partial: PartialError): GraphQLError {
  return new GraphQLError(partial.message, {
    path: [...partial.path],
    extensions: { code: partial.code, engine: partial.engine },
  });
}

/**
 * Adds the errors of engines that did not answer to a result that carries the
 * other engines' data: a list spanning engines answers what it has, and says
 * which engine is missing, with the list's path (GraphQL's partial results).
 */
export function usePartialErrors(): Plugin<GraphQLContext> {
  return {
    onExecute({ args }) {
      const context = args.contextValue as GraphQLContext;
      return {
        onExecuteDone(payload) {
          return handleStreamOrSingleExecutionResult(payload, ({ result, setResult }) => {
            const partial = context.partialErrors;
            if (!partial || partial.length === 0) return;
            // Taken, not read: a subscription's next event starts without them.
            const errors = partial.splice(0, partial.length).map(toGraphQLError);
            setResult({ ...result, errors: [...(result.errors ?? []), ...errors] });
          });
        },
      };
    },
  };
}
