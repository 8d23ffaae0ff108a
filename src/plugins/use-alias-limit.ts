import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { GraphQLError, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../context.ts';

/**
 * Where graphql-armor's message ("Syntax Error: Aliases limit of 30 exceeded, found 31.") says
 * how many aliases it found; test/unit/library-messages.test.ts fails when an upgrade rewords it.
 */
export const LIBRARY_ALIASES_FOUND = /found (\d+)/;

/**
 * Refuses operations with more than `maxAliases` aliases (DOCKERGRAPH_MAX_ALIASES):
 * aliases let one request ask for the same costly field many times over. A
 * validation rule, so it holds over HTTP and WebSocket alike.
 */
export function useAliasLimit(maxAliases: number): Plugin<GraphQLContext> {
  const armorRule = maxAliasesRule({
    n: maxAliases,
    propagateOnRejection: false,
    onReject: [
      (context, error) => {
        const found = LIBRARY_ALIASES_FOUND.exec(error.message)?.[1];
        context?.reportError(
          new GraphQLError(
            `the operation has too many aliases: ${found ?? 'more than the limit'}, the limit is ${maxAliases} (DOCKERGRAPH_MAX_ALIASES)`,
            { extensions: { code: 'TOO_MANY_ALIASES', http: { status: 400 } } },
          ),
        );
      },
    ],
  });
  // Named, so that yoga's validation cache tells documents checked with it apart.
  const aliasLimitRule: ValidationRule = (context) => armorRule(context);
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(aliasLimitRule);
    },
  };
}
