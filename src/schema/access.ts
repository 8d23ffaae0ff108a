import { GraphQLError } from 'graphql';
import type { AdmissionDeniedError } from '../security/admission.ts';

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
 * What a client sees of a write the admission policy refused: FORBIDDEN (HTTP
 * 403) with the refusal's words, and its level and findings for programs: each
 * finding names its control (a key of `ADMISSION_CONTROLS`) and says what it refuses.
 */
export function admissionDeniedToGraphQL(
  error: AdmissionDeniedError,
  from: GraphQLError,
): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: from.nodes ?? null,
    path: from.path ?? null,
    extensions: {
      code: 'FORBIDDEN',
      http: { status: 403 },
      admissionLevel: error.level,
      admissionFindings: error.findings.map(({ control, message }) => ({ control, message })),
    },
  });
}
