import { GraphQLError, parse } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../context.ts';

/**
 * graphql-js 16's words for a document past `maxTokens` ("Document contains more that N
 * tokens"); test/unit/library-messages.test.ts fails when an upgrade rewords it.
 */
export const LIBRARY_TOKEN_LIMIT_MESSAGE = /contains more th(?:an|at) \d+ tokens/;

/**
 * Stops parsing documents longer than `maxTokens` tokens (DOCKERGRAPH_MAX_TOKENS)
 * as soon as the lexer passes the limit, with graphql-js's own `maxTokens`
 * option: a huge document costs no more than the limit to refuse. It also
 * bounds what validation walks: a flood of directives, fields or fragments.
 */
export function useTokenLimit(maxTokens: number): Plugin<GraphQLContext> {
  return {
    onParse({ setParseFn }) {
      setParseFn((source, options) => {
        try {
          return parse(source, { ...options, maxTokens });
        } catch (error) {
          if (error instanceof GraphQLError && LIBRARY_TOKEN_LIMIT_MESSAGE.test(error.message)) {
            throw new GraphQLError(
              `the operation is too long: it has more than ${maxTokens} tokens, the limit is ${maxTokens} (DOCKERGRAPH_MAX_TOKENS)`,
              { extensions: { code: 'TOO_MANY_TOKENS', http: { status: 400 } } },
            );
          }
          throw error;
        }
      });
    },
  };
}
