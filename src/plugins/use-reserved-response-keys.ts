import { GraphQLError, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../context.ts';

/** Response keys that JavaScript gives a meaning of its own in object literals. */
const RESERVED_RESPONSE_KEYS = new Set(['__proto__']);

/**
 * Refuses `__proto__` as a response key (an alias): in a JavaScript object literal or an
 * assignment it sets the object's prototype instead of a property, so code that builds
 * answers from response keys (graphql-jit's generated code, shared subscription results)
 * would drop the field or, one level down, write onto a shared prototype. graphql-js
 * itself would answer it; refusing it on every path keeps the paths alike.
 */
export function useReservedResponseKeys(): Plugin<GraphQLContext> {
  const reservedResponseKeyRule: ValidationRule = (context) => ({
    Field(node) {
      const key = (node.alias ?? node.name).value;
      if (!RESERVED_RESPONSE_KEYS.has(key)) return;
      context.reportError(
        new GraphQLError(
          `"${key}" cannot be a response key: JavaScript reserves it for an object's prototype; choose another alias`,
          { nodes: node, extensions: { code: 'RESERVED_RESPONSE_KEY', http: { status: 400 } } },
        ),
      );
    },
  });
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(reservedResponseKeyRule);
    },
  };
}
