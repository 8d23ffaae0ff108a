// Polling for a condition instead of sleeping for a fixed time.
import { setTimeout as delay } from 'node:timers/promises';

export interface WaitForOptions {
  /** Give up after this many milliseconds. */
  readonly timeoutMs: number;
  /** Pause between attempts; 100 ms unless told. */
  readonly intervalMs?: number;
  /** What is awaited, for the failure message, e.g. "container web to be healthy". */
  readonly what: string;
}

/**
 * Calls `probe` until it returns something other than `undefined`, `null` or
 * `false`, and returns that. Fails with a message naming `what`, the time
 * waited and the last value (or error) the probe gave, once `timeoutMs` passed.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  options: WaitForOptions,
): Promise<T> {
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + options.timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) {
      const detail =
        last instanceof Error ? `the last attempt threw: ${last.message}` : `got ${String(last)}`;
      throw new Error(
        `Timed out after ${options.timeoutMs} ms waiting for ${options.what} (${detail})`,
      );
    }
    await delay(intervalMs);
  }
}

/**
 * Waiting without polling on state that changes through events: whoever changes
 * the state calls `notify()`, and every pending `until` looks again.
 */
export class Changes {
  readonly #waiters = new Set<() => void>();

  /** Has every pending {@link until} look again. */
  notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  /**
   * Resolves with the first value other than `undefined` that `find` gives, now
   * or after a `notify()`. Rejects with what `find` throws, or with
   * `timeoutError()` once `timeoutMs` passed.
   */
  until<T>(find: () => T | undefined, timeoutMs: number, timeoutError: () => Error): Promise<T> {
    return new Promise((resolve, reject) => {
      const settle = (finish: () => void) => {
        this.#waiters.delete(check);
        clearTimeout(timer);
        finish();
      };
      const check = () => {
        let found: T | undefined;
        try {
          found = find();
        } catch (error) {
          settle(() => reject(error));
          return;
        }
        if (found !== undefined) settle(() => resolve(found));
      };
      const timer = setTimeout(() => settle(() => reject(timeoutError())), timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }
}
