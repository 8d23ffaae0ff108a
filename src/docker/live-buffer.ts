/** One item of a {@link DroppingQueue}, with how many older items were dropped just before it. */
export interface Delivered<T> {
  readonly value: T;
  /** Items discarded since the previous delivery because the reader fell behind. */
  readonly dropped: number;
}

/**
 * A bounded queue between a live engine stream and one slow reader: when full, the
 * oldest item is discarded and counted, so memory stays bounded and the reader sees
 * the newest output plus how much it missed. Iterating consumes it; `return()` (the
 * reader leaving) or the producer's {@link DroppingQueue.end} closes it, and `onClose`
 * runs once either way, to release the upstream.
 *
 * Hand-made rather than a Repeater with a SlidingBuffer, because the Repeater is worse
 * here: its executor (and so its `push`) starts only on the first `next()`, and a
 * `return()` before that never runs the executor's clean-up. This queue fills from the
 * moment it is made (a stats subscriber is registered with the hub at once, a log
 * follower drains the engine while its reader is behind) and `onClose` runs however the
 * reader leaves. The SlidingBuffer also cannot tell the reader how many items it dropped.
 */
export class DroppingQueue<T> implements AsyncIterableIterator<Delivered<T>, undefined> {
  readonly #items: T[] = [];
  #dropped = 0;
  #ended = false;
  #closed = false;
  #wake: (() => void) | null = null;

  constructor(
    private readonly capacity: number,
    private readonly onClose: () => void = () => {},
  ) {}

  /** Whether the reader left or the producer ended it. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Adds an item, discarding the oldest waiting one when full. */
  push(value: T): void {
    if (this.#ended) return;
    if (this.#items.length >= this.capacity) {
      this.#items.shift();
      this.#dropped += 1;
    }
    this.#items.push(value);
    this.#notify();
  }

  /** Ends the queue once the items waiting are consumed. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#close();
    this.#notify();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onClose();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  async next(): Promise<IteratorResult<Delivered<T>, undefined>> {
    for (;;) {
      if (this.#items.length > 0) {
        const value = this.#items.shift() as T;
        const dropped = this.#dropped;
        this.#dropped = 0;
        return { done: false, value: { value, dropped } };
      }
      if (this.#ended) return { done: true, value: undefined };
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  async return(): Promise<IteratorResult<Delivered<T>, undefined>> {
    this.#items.length = 0;
    this.end();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * Reads `source` into a new {@link DroppingQueue} in the background; the queue ends
 * when the source does (a failure of the source also just ends it, and goes to
 * `onError`). `onClose` runs when the reader leaves or the source ended, and should
 * stop the source.
 */
export function bufferDroppingOldest<T>(
  source: AsyncIterable<T>,
  capacity: number,
  onClose: () => void,
  onError: (error: unknown) => void,
): DroppingQueue<T> {
  const queue = new DroppingQueue<T>(capacity, onClose);
  void (async () => {
    try {
      for await (const item of source) {
        if (queue.ended) break;
        queue.push(item);
      }
    } catch (error) {
      // The reader sees the stream end; the log says why.
      onError(error);
    } finally {
      queue.end();
    }
  })();
  return queue;
}
