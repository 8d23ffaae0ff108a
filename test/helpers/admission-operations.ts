// Operations that the admission tests (the policy itself and the attacks on it) both send.
import { graphql } from '../generated/gql.ts';

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
