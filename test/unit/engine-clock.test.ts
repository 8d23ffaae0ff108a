// The engine's time told by its events (src/docker/engine-clock.ts), on clocks set by hand:
// never earlier than the engine's time less the event's way here, and later by a fraction of
// a millisecond when the clocks allow it, where the wall clock alone is up to 2 ms late.
import { describe, expect, it } from 'vitest';
import { EngineClock } from '../../src/docker/engine-clock.ts';

const MS = 1_000_000n;

/** A machine whose wall clock (to the millisecond, as Date.now) and monotonic clock move together. */
function machine(startWallMs: number) {
  let exactWallMs = startWallMs;
  const startMonotonic = 5_000.123_456;
  return {
    clocks: {
      wall: () => Math.floor(exactWallMs),
      monotonic: () => startMonotonic + (exactWallMs - startWallMs),
    },
    /** This machine's exact time, in nanoseconds. */
    exactNanos: () => BigInt(Math.round(exactWallMs * 1_000_000)),
    advance(ms: number) {
      exactWallMs += ms;
    },
    setWall(ms: number) {
      exactWallMs = ms;
    },
  };
}

describe('EngineClock', () => {
  it('reads the wall clock a millisecond on before any event', () => {
    const here = machine(1_700_000_000_000.4);
    const clock = new EngineClock(here.clocks);
    expect(clock.now()).toBe(1_700_000_000_001n * MS);
  });

  it('follows an engine on this machine to within a fraction of a millisecond, never early', () => {
    const here = machine(1_700_000_000_000.25);
    const clock = new EngineClock(here.clocks);
    // Events stamped by the same clock, arriving 40 µs later.
    for (let index = 0; index < 5; index++) {
      const stamped = here.exactNanos();
      here.advance(0.04);
      clock.observe(stamped);
      here.advance(137.31);
    }
    const truth = here.exactNanos();
    const estimate = clock.now();
    expect(estimate).toBeGreaterThanOrEqual(truth - 40_000n);
    expect(estimate - truth).toBeLessThan(300_000n);
  });

  it('follows an engine whose clock runs 3 s ahead or behind', () => {
    for (const skewMs of [3_000, -3_000]) {
      const here = machine(1_700_000_000_000.9);
      const clock = new EngineClock(here.clocks);
      const engineNanos = () => here.exactNanos() + BigInt(skewMs) * MS;
      const stamped = engineNanos();
      here.advance(0.1);
      clock.observe(stamped);
      here.advance(2_500.5);
      const truth = engineNanos();
      expect(clock.now()).toBeGreaterThanOrEqual(truth - 100_000n);
      expect(clock.now() - truth).toBeLessThan(500_000n);
    }
  });

  it('is never earlier than the wall clock allows, should the wall clocks jump forward', () => {
    let wallMs = 1_700_000_000_000.5;
    let monotonicMs = 9_000.25;
    const clock = new EngineClock({ wall: () => Math.floor(wallMs), monotonic: () => monotonicMs });
    // The engine shares this machine's wall clock: an event stamped now arrives at once.
    clock.observe(BigInt(Math.round(wallMs * 1_000_000)));
    // The wall clock is set 10 s on (the engine's with it); the monotonic clock goes on.
    wallMs += 10_000.5;
    monotonicMs += 0.5;
    const truth = BigInt(Math.round(wallMs * 1_000_000));
    expect(clock.now()).toBeGreaterThanOrEqual(truth - MS);
    expect(clock.now()).toBeLessThanOrEqual(truth + 2n * MS);
  });

  it('forgets a measure two minutes old once events come again', () => {
    const here = machine(1_700_000_000_000);
    const clock = new EngineClock(here.clocks);
    // An engine 5 s ahead, then set back to this machine's time.
    clock.observe(here.exactNanos() + 5_000n * MS);
    here.advance(180_000);
    clock.observe(here.exactNanos());
    here.advance(10);
    expect(clock.now() - here.exactNanos()).toBeLessThan(2n * MS);
  });
});
