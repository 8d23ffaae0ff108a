/**
 * `text` (JSON) with every `from` written as `to`, each as JSON writes it inside a string:
 * what a client received for one object read as what it would receive for another (a hidden
 * object's answer against a missing one's, compared byte for byte).
 */
export function renamedText(text: string, pairs: readonly (readonly [string, string])[]): string {
  const inJson = (value: string) => JSON.stringify(value).slice(1, -1);
  let result = text;
  for (const [from, to] of pairs) result = result.replaceAll(inJson(from), inJson(to));
  return result;
}

/** {@link renamedText} over `answer`'s JSON, parsed back. */
export function renamed<T>(answer: T, pairs: readonly (readonly [string, string])[]): T {
  return JSON.parse(renamedText(JSON.stringify(answer), pairs)) as T;
}
