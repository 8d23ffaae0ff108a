/** An engine read answered whole: its status and its body, unparsed. */
export interface ReadAnswer {
  readonly status: number;
  readonly body: string;
}

/** What {@link SharedReads.read} gives a reader: the answer, and whether another sent the call. */
export interface JoinedRead {
  readonly answer: Promise<ReadAnswer>;
  /** true when the call was made for an earlier reader, and this one joined it before it was sent. */
  readonly joined: boolean;
}

/** A read not sent yet, and who waits for it. */
interface PendingRead {
  readonly answer: Promise<ReadAnswer>;
  /** Aborts the call once every reader that can go away has gone. */
  readonly controller: AbortController;
  /** Readers still waiting; one without a signal (the server's own) never goes. */
  waiting: number;
}

/**
 * Engine reads shared between the GraphQL requests of one engine: when several requests
 * need the very same read (method, path and query alike, no headers, no body) while it
 * has not been sent yet, the engine is asked once and each request parses its own copy
 * of the answer. A read is held back to the end of the event loop's turn (`setImmediate`)
 * only while reads of other requests are in flight on this engine (the server is busy:
 * more requests may ask for it in the same turn); otherwise it is sent at once.
 *
 * Exactness: a request only ever joins a read that was not sent yet, so the engine
 * reads its state after every request that gets the answer was received: each sees
 * every change finished before it asked, those made with the docker CLI included. An
 * answer sent before a request arrived is never handed to it (that would be a cache).
 */
export class SharedReads {
  readonly #pending = new Map<string, PendingRead>();
  /** Reads in flight (held back or sent), by the operation that started them. */
  readonly #inFlight = new Map<object | undefined, number>();
  #inFlightTotal = 0;

  /**
   * Joins the read of `key` not sent yet, or starts it: `send` makes the call with a signal
   * that aborts once every reader that had a signal aborted it. A reader whose `signal`
   * aborts stops waiting at once (its promise rejects with the signal's reason). `operation`
   * tells which reads are one operation's (the server is not busy with its own reads); its
   * signal unless given: operations over WebSocket have none.
   */
  read(
    key: string,
    signal: AbortSignal | undefined,
    send: (signal: AbortSignal) => Promise<ReadAnswer>,
    operation: object | undefined = signal,
  ): JoinedRead {
    const pending = this.#pending.get(key);
    // A read whose readers all went is cancelled: a later reader must not get its abort.
    if (pending && !pending.controller.signal.aborted) {
      return { answer: this.#wait(pending, signal), joined: true };
    }
    const controller = new AbortController();
    // Busy when other requests' reads are in flight: the reads one operation starts together
    // are all different (its loaders keep one of each), so they go at once.
    const own = this.#inFlight.get(operation) ?? 0;
    const busy = this.#inFlightTotal > own;
    this.#inFlight.set(operation, own + 1);
    this.#inFlightTotal += 1;
    const entry: PendingRead = {
      answer: (busy ? this.#heldBack(key, controller) : Promise.resolve())
        .then(() => send(controller.signal))
        .finally(() => {
          this.#inFlightTotal -= 1;
          const left = (this.#inFlight.get(operation) ?? 1) - 1;
          if (left === 0) this.#inFlight.delete(operation);
          else this.#inFlight.set(operation, left);
        }),
      controller,
      waiting: 0,
    };
    // Each reader handles the answer on its own; one whose readers all left is not unhandled.
    entry.answer.catch(() => undefined);
    if (busy) this.#pending.set(key, entry);
    return { answer: this.#wait(entry, signal), joined: false };
  }

  /** Resolves at the end of this turn, once `key`'s read (of `controller`) can no longer be joined. */
  #heldBack(key: string, controller: AbortController): Promise<void> {
    return new Promise((resolve) => {
      setImmediate(() => {
        // Sent from here on: later readers make their own call. The key may name a newer read
        // by now (this one was cancelled), which stays joinable to the end of its own turn.
        if (this.#pending.get(key)?.controller === controller) this.#pending.delete(key);
        resolve();
      });
    });
  }

  /** The answer of `entry` for one more reader, which stops waiting when `signal` aborts. */
  #wait(entry: PendingRead, signal: AbortSignal | undefined): Promise<ReadAnswer> {
    if (!signal) {
      // A reader that cannot go away keeps the call alive.
      entry.waiting = Number.POSITIVE_INFINITY;
      return entry.answer;
    }
    if (signal.aborted) {
      if (entry.waiting === 0) entry.controller.abort(signal.reason);
      return Promise.reject(signal.reason);
    }
    entry.waiting += 1;
    return new Promise<ReadAnswer>((resolve, reject) => {
      const onAbort = () => {
        reject(signal.reason);
        entry.waiting -= 1;
        if (entry.waiting === 0) entry.controller.abort(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      entry.answer.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }
}
