/**
 * The engine's time as this server can tell it from the events the engine sends, for the
 * `until` of the read model's catch-up (`read-model.ts`): never early by more than the time
 * an event takes to arrive (which the catch-up needs not cover: a change reached its client
 * before the client asked), and late by as little as the clocks allow, since the engine waits
 * out a future `until` before it answers.
 *
 * Two measures are kept per minute (the last two minutes count, so that a clock set back is
 * forgotten; when no event came since, the last measure stands):
 * - how far the engine's stamps run ahead of this machine's wall clock (`Date.now()`, to the
 *   millisecond: read later than the engine's clock by up to a millisecond);
 * - their offset from this process's monotonic clock (`performance.now()`, to the
 *   microsecond), which ticks at the rate of the wall clock (both follow the time service's
 *   adjustments) but does not jump when the wall clock is set.
 *
 * The estimate is the monotonic one plus a margin for the rates of two machines' clocks to
 * differ (50 ppm of the time since the event measured), kept between the wall clock's floor
 * (what the engine's time is at least, should the wall clocks have jumped since) and its
 * ceiling (what it is at most).
 */

const NANOS_PER_MS = 1_000_000n;

/** What an estimate from the monotonic clock adds, whatever the time since the event. */
const MONOTONIC_MARGIN_NANOS = 200_000n;

/** Clocks of two machines may differ in rate by this much (parts per million). */
const RATE_DIFFERENCE_PPM = 50n;

/** The best of one minute's measures. */
interface MinuteMeasure {
  /** Largest (event time - wall time at its arrival): how far the engine runs ahead. */
  readonly wallAhead: bigint;
  /** Largest (event time - monotonic time at its arrival), and when that event arrived. */
  readonly monotonicOffset: bigint;
  readonly monotonicAt: bigint;
}

/** The clocks an {@link EngineClock} reads: milliseconds, as `Date.now` and `performance.now`. */
export interface LocalClocks {
  readonly wall: () => number;
  readonly monotonic: () => number;
}

const SYSTEM_CLOCKS: LocalClocks = {
  wall: () => Date.now(),
  monotonic: () => performance.now(),
};

function millisecondsToNanos(milliseconds: number): bigint {
  return BigInt(Math.round(milliseconds * 1_000_000));
}

function larger(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/** See the module's description. */
export class EngineClock {
  readonly #clocks: LocalClocks;
  #minute = Number.NaN;
  #thisMinute: MinuteMeasure | null = null;
  #lastMinute: MinuteMeasure | null = null;

  constructor(clocks: LocalClocks = SYSTEM_CLOCKS) {
    this.#clocks = clocks;
  }

  /** Takes in an event the engine stamped `eventNano` (its clock), arriving now. */
  observe(eventNano: bigint): void {
    const monotonic = this.#clocks.monotonic();
    const minute = Math.floor(monotonic / 60_000);
    if (minute !== this.#minute) {
      // The last minute's measure counts one minute more; one older than that is forgotten.
      this.#lastMinute = minute - this.#minute === 1 ? this.#thisMinute : null;
      this.#thisMinute = null;
      this.#minute = minute;
    }
    const monotonicAt = millisecondsToNanos(monotonic);
    const measured: MinuteMeasure = {
      wallAhead: eventNano - BigInt(this.#clocks.wall()) * NANOS_PER_MS,
      monotonicOffset: eventNano - monotonicAt,
      monotonicAt,
    };
    const kept = this.#thisMinute;
    this.#thisMinute = kept
      ? {
          wallAhead: larger(kept.wallAhead, measured.wallAhead),
          ...(measured.monotonicOffset > kept.monotonicOffset
            ? { monotonicOffset: measured.monotonicOffset, monotonicAt }
            : { monotonicOffset: kept.monotonicOffset, monotonicAt: kept.monotonicAt }),
        }
      : measured;
  }

  /** The engine's time now (nanoseconds since the epoch, its clock), as the description says. */
  now(): bigint {
    const wall = BigInt(this.#clocks.wall()) * NANOS_PER_MS;
    const best = this.#best();
    if (!best) return wall + NANOS_PER_MS;
    // `wall` is read up to a millisecond late, and so was each measure of `wallAhead`.
    const ceiling = wall + best.wallAhead + NANOS_PER_MS;
    const floor = wall + best.wallAhead - NANOS_PER_MS;
    const monotonic = millisecondsToNanos(this.#clocks.monotonic());
    const elapsed = monotonic - best.monotonicAt;
    const estimate =
      monotonic +
      best.monotonicOffset +
      MONOTONIC_MARGIN_NANOS +
      (elapsed > 0n ? (elapsed * RATE_DIFFERENCE_PPM) / 1_000_000n : 0n);
    if (estimate > ceiling) return ceiling;
    return larger(estimate, floor);
  }

  /** The two minutes' measures together; null before any event. */
  #best(): MinuteMeasure | null {
    const [current, last] = [this.#thisMinute, this.#lastMinute];
    if (!current || !last) return current ?? last;
    return {
      wallAhead: larger(current.wallAhead, last.wallAhead),
      ...(current.monotonicOffset >= last.monotonicOffset
        ? { monotonicOffset: current.monotonicOffset, monotonicAt: current.monotonicAt }
        : { monotonicOffset: last.monotonicOffset, monotonicAt: last.monotonicAt }),
    };
  }
}
