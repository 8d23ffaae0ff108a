import { GraphQLError } from 'graphql';
import type { GraphQLContext } from '../context.ts';
import { can, describePrincipal } from '../security/principal.ts';

/**
 * Access checks that resolvers make themselves, beyond the field rules of
 * `access-rules.ts` that scope-auth applies before a resolver runs: each
 * refusal is a top-level FORBIDDEN error, raised before any engine call.
 */

/** A top-level GraphQL error with code FORBIDDEN (HTTP 403). */
export function forbiddenError(
  message: string,
  extensions: Readonly<Record<string, unknown>> = {},
): GraphQLError {
  return new GraphQLError(message, {
    extensions: { ...extensions, code: 'FORBIDDEN', http: { status: 403 } },
  });
}

/**
 * Refuses an operation of `field` (e.g. "Mutation.createContainer") whose
 * input holds dangerous things (`findings`, from `src/security/dangerous-inputs.ts`)
 * unless the principal has the `dangerous` permission. The error names every
 * finding, and lists them in its `dangerousInputs` extension.
 */
export function checkDangerousInputs(
  context: GraphQLContext,
  field: string,
  findings: readonly string[],
): void {
  if (findings.length === 0 || can(context.principal, 'dangerous')) return;
  throw forbiddenError(
    `${describePrincipal(context.principal)} may not use ${field} with these inputs: ${findings.join('; ')}. They need the "dangerous" permission (role "admin")`,
    { dangerousInputs: [...findings] },
  );
}
