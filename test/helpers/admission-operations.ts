// Operations that the admission tests (the policy itself and the attacks on it) both send, and
// the refusal they both expect.
import { expect } from 'vitest';
import { graphql } from '../generated/gql.ts';
import { type EngineCallRecorder, type GraphQLResponse, withoutEngineWrites } from './app.ts';

/** Creates a volume and reads back the options the engine kept (or the refusal). */
export const CreateVolumeWithOptions = graphql(`
  mutation AdmissionCreateVolume($input: CreateVolumeInput!) {
    createVolume(input: $input) {
      __typename
      ... on VolumePayload { volume { name options { name value } } }
      ... on MutationError { message }
    }
  }
`);

/**
 * Sends a mutation, expecting one FORBIDDEN refusal at the baseline level with no engine
 * write (the review's lookups are reads); returns the error.
 */
export async function expectBaselineRefusal(
  app: EngineCallRecorder,
  send: () => Promise<GraphQLResponse<unknown>>,
) {
  const { data, errors } = await withoutEngineWrites(app, send);
  expect(data).toBeNull();
  expect(errors).toHaveLength(1);
  expect(errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  expect(errors?.[0]?.extensions?.admissionLevel).toBe('baseline');
  return errors?.[0];
}
