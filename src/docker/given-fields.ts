/** The fields of an input that were given: GraphQL's null and absent both mean "no value". */
export type GivenFields<T> = { -readonly [K in keyof T]?: Exclude<T[K], null | undefined> };

/** Drops the null and absent fields of an input. */
export function givenFields<T extends object>(input: T): GivenFields<T> {
  return Object.fromEntries(
    Object.entries(input).filter(([, value]) => value !== null && value !== undefined),
  ) as GivenFields<T>;
}
