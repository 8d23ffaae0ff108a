// Narrowing mutation result unions the way a client does: by __typename.

/** A member of a result union: the payload or one of the typed errors. */
interface Typed {
  readonly __typename?: string;
}

/**
 * The member of `result` named `typename`; fails the test with the error's message
 * (or the payload it got instead) when the mutation answered something else.
 */
export function expectType<T extends Typed, N extends NonNullable<T['__typename']>>(
  result: T | null | undefined,
  typename: N,
): Extract<T, { __typename?: N }> {
  if (result?.__typename !== typename) {
    throw new Error(`expected ${typename}, got ${JSON.stringify(result)}`);
  }
  return result as Extract<T, { __typename?: N }>;
}
