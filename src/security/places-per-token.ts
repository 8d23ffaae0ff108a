/**
 * Places a token may hold at once (its live subscriptions, its WebSocket connections, its
 * terminal sessions), up to a bound per token. Without tokens configured every principal
 * counts as one token, the key `''`.
 */
export class PlacesPerToken {
  readonly #held = new Map<string, number>();
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** How many places `token` holds now. */
  held(token: string | null): number {
    return this.#held.get(token ?? '') ?? 0;
  }

  /**
   * Takes a place for `token`: the function answered gives it back, once however often it
   * is called; null when the token holds all its places.
   */
  take(token: string | null): (() => void) | null {
    const key = token ?? '';
    const held = this.#held.get(key) ?? 0;
    if (held >= this.#limit) return null;
    this.#held.set(key, held + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const left = (this.#held.get(key) ?? 1) - 1;
      if (left > 0) this.#held.set(key, left);
      else this.#held.delete(key);
    };
  }
}
