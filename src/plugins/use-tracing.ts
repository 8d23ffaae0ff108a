import { getOperationAST } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../context.ts';
import type { Tracing } from './tracing.ts';

/**
 * A span per GraphQL query or mutation (over every transport), its execution run
 * inside it so that the engine calls it makes become its children. Operation names
 * come from the document: spans, unlike metric labels, are one per operation.
 */
export function useTracing(tracing: Tracing): Plugin<GraphQLContext> {
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const operation = getOperationAST(args.document, args.operationName);
      if (!operation) return undefined;
      const span = tracing.startOperation(
        operation.operation,
        args.operationName ?? operation.name?.value,
      );
      setExecuteFn((executeArgs) => span.run(() => executeFn(executeArgs)));
      return {
        onExecuteDone({ result }) {
          span.end(!isAsyncIterable(result) && (result.errors?.length ?? 0) > 0);
        },
      };
    },
  };
}
