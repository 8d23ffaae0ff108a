// What the Podman suites share: operations written as strings (the suites read the answers as a
// client would, without generated types) and the fields every mutation answer is read with.
import { expect } from 'vitest';
import { dataOf, type GraphQLResponse, type TestApp } from '../helpers/app.ts';

/** Runs one operation through HTTP; the answer as the client receives it. */
export async function run<TData>(
  app: TestApp,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<GraphQLResponse<TData>> {
  return (await app.post<GraphQLResponse<TData>>({ query, variables })).body;
}

/** Like {@link run}, failing the test when the answer has errors. */
export async function data<TData>(
  app: TestApp,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<TData> {
  return dataOf(await run<TData>(app, query, variables));
}

/** The fields of a mutation answer that tell a payload from a typed error, and which. */
export const MUTATION_ERROR_FIELDS = `
  __typename
  ... on MutationError { message }
  ... on NotSupportedError { engine }
  ... on EngineFailureError { code }
`;

/** A mutation answer read with {@link MUTATION_ERROR_FIELDS} and the payload's fields. */
export interface Answer {
  readonly __typename: string;
  readonly message?: string;
  readonly engine?: string;
  readonly code?: string;
  readonly [field: string]: unknown;
}

/** Runs one mutation and answers its root field, failing with the error when it is not `typename`. */
export async function mutate<T extends Answer = Answer>(
  app: TestApp,
  field: string,
  query: string,
  variables: Record<string, unknown>,
  typename: string,
): Promise<T> {
  const answer = await data<Record<string, T>>(app, query, variables);
  const result = answer[field];
  if (result?.__typename !== typename) {
    throw new Error(`${field}: expected ${typename}, got ${JSON.stringify(result)}`);
  }
  return result;
}

/** Checks that `answer` is the NotSupportedError a user of Podman sees, naming the engine. */
export function expectNotSupportedByPodman(answer: Answer | undefined): void {
  expect(answer).toMatchObject({
    __typename: 'NotSupportedError',
    engine: 'podman',
    message: expect.stringContaining('not supported by Podman'),
  });
}
