/** What every spec (`*-spec.ts`) reads from its GraphQL-shaped input. */

/** An optional input field: GraphQL gives null or leaves it out. */
export type Maybe<T> = T | null | undefined;

/** A name and its value (label, environment variable, option, build argument). */
export interface NameValueSpec {
  readonly name: string;
  readonly value: string;
}
