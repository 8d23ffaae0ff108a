import {
  GraphQLError,
  Kind,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../context.ts';

/** Whether a root selection of `selectionSet`, in fragments too, is under @skip or @include. */
function hasConditionalRoot(
  context: ValidationContext,
  selectionSet: SelectionSetNode,
  seen: Set<string>,
): boolean {
  return selectionSet.selections.some((selection) => {
    if (
      selection.directives?.some(
        (directive) => directive.name.value === 'skip' || directive.name.value === 'include',
      )
    ) {
      return true;
    }
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      return hasConditionalRoot(context, selection.selectionSet, seen);
    }
    if (selection.kind === Kind.FRAGMENT_SPREAD) {
      const name = selection.name.value;
      // A fragment cycle is reported by graphql-js's own rule: each fragment is read once.
      if (seen.has(name)) return false;
      seen.add(name);
      const fragment = context.getFragment(name);
      return fragment ? hasConditionalRoot(context, fragment.selectionSet, seen) : false;
    }
    return false;
  });
}

/**
 * Refuses a subscription whose root field is under @skip or @include (as graphql-js 17's
 * SingleFieldSubscriptionsRule does): a skipped one selects no field, and graphql-tools'
 * executor then fails reading it ("undefined is not iterable"), an error the masking takes
 * for the server's, answered "Unexpected error." and logged at error level, with its stack,
 * for each such request of any client, over every transport.
 */
export function useUnconditionalSubscriptionRoot(): Plugin<GraphQLContext> {
  const rule: ValidationRule = (context) => ({
    OperationDefinition(node) {
      if (node.operation !== 'subscription') return;
      if (!hasConditionalRoot(context, node.selectionSet, new Set())) return;
      context.reportError(
        new GraphQLError(
          'a subscription must select its root field without @skip or @include: it has one field, always',
          // Yoga's own validation plugin gives it its code and status, as graphql-js's errors.
          { nodes: node },
        ),
      );
    },
  });
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(rule);
    },
  };
}
