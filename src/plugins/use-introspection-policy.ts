import {
  type ASTVisitor,
  GraphQLError,
  getNamedType,
  isIntrospectionType,
  type ValidationContext,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../context.ts';

/** Refuses `__schema` and `__type`: the fields that lead into the introspection types. */
function noIntrospectionRule(context: ValidationContext): ASTVisitor {
  return {
    Field(node) {
      const type = context.getType();
      const parent = context.getParentType();
      // One error per way in, not one per field selected inside.
      if (parent && isIntrospectionType(parent)) return;
      if (type && isIntrospectionType(getNamedType(type))) {
        context.reportError(
          new GraphQLError(
            `introspection is turned off: the operation asks for "${node.name.value}" (DOCKERGRAPH_INTROSPECTION=true turns it on)`,
            { nodes: node, extensions: { code: 'INTROSPECTION_DISABLED', http: { status: 400 } } },
          ),
        );
      }
    },
  };
}

/** graphql-js suggests field, argument and type names it knows: " Did you mean "containers"?" */
const suggestion = / ?Did you mean [^?]*\?$/;

function withoutSuggestion<E extends Error>(error: E): E | GraphQLError {
  if (!(error instanceof GraphQLError) || !suggestion.test(error.message)) return error;
  return new GraphQLError(error.message.replace(suggestion, ''), {
    nodes: error.nodes ?? null,
    source: error.source ?? null,
    positions: error.positions ?? null,
    path: error.path ?? null,
    originalError: error.originalError ?? null,
    extensions: error.extensions,
  });
}

/**
 * With introspection off (production mode, unless DOCKERGRAPH_INTROSPECTION=true),
 * refuses introspection queries and drops graphql-js's "Did you mean …?" hints
 * from validation and variable errors, which would tell the schema's names away.
 * Validation and execution hooks, so it holds over WebSocket too (yoga's
 * disable-introspection plugin keys its decision by HTTP request).
 */
export function useIntrospectionPolicy(introspection: boolean): Plugin<GraphQLContext> {
  if (introspection) return {};
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(noIntrospectionRule);
      return ({ valid, result, setResult }) => {
        if (!valid) setResult(result.map(withoutSuggestion));
      };
    },
    // Variables are checked as execution starts: "Did you mean the enum value …?"
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if (Symbol.asyncIterator in result || !result.errors) return;
          setResult({ ...result, errors: result.errors.map(withoutSuggestion) });
        },
      };
    },
  };
}
