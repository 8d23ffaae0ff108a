import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/security/rate-limiter.ts';

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

describe('RateLimiter', () => {
  it('lets a key burst up to the limit, then refuses with the time until one operation is back', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ limit: 3, windowMs: 60_000, now: clock.now });
    expect(limiter.take('a')).toEqual({ allowed: true, remaining: 2 });
    expect(limiter.take('a')).toEqual({ allowed: true, remaining: 1 });
    expect(limiter.take('a')).toEqual({ allowed: true, remaining: 0 });
    // 3 per minute: one comes back every 20 seconds.
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterMs: 20_000 });
    clock.advance(5_000);
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterMs: 15_000 });
    clock.advance(15_000);
    expect(limiter.take('a')).toEqual({ allowed: true, remaining: 0 });
  });

  it('keeps one bucket per key', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ limit: 1, windowMs: 1_000, now: clock.now });
    expect(limiter.take('viewer').allowed).toBe(true);
    expect(limiter.take('viewer').allowed).toBe(false);
    expect(limiter.take('operator').allowed).toBe(true);
  });

  it('refills to the limit and no further', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ limit: 2, windowMs: 1_000, now: clock.now });
    limiter.take('a', 2);
    clock.advance(60_000);
    expect(limiter.take('a', 2)).toEqual({ allowed: true, remaining: 0 });
    expect(limiter.take('a').allowed).toBe(false);
  });

  it('takes a batch whole or not at all', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ limit: 5, windowMs: 5_000, now: clock.now });
    expect(limiter.take('a', 4).allowed).toBe(true);
    // Two asked, one left: nothing is taken, and the wait is for the missing one.
    expect(limiter.take('a', 2)).toEqual({ allowed: false, retryAfterMs: 1_000 });
    expect(limiter.take('a', 1)).toEqual({ allowed: true, remaining: 0 });
  });

  it('says that waiting never helps a batch larger than the limit', () => {
    const limiter = new RateLimiter({ limit: 5, windowMs: 1_000, now: () => 0 });
    expect(limiter.take('a', 6)).toEqual({ allowed: false, retryAfterMs: null });
    expect(limiter.take('a', 5).allowed).toBe(true);
  });

  it('refills nothing when the clock goes back', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ limit: 1, windowMs: 1_000, now: clock.now });
    limiter.take('a');
    clock.advance(-10_000);
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterMs: 1_000 });
    clock.advance(1_000);
    expect(limiter.take('a').allowed).toBe(true);
  });

  it('allows everything when the limit is 0 (off)', () => {
    const limiter = new RateLimiter({ limit: 0, windowMs: 1_000, now: () => 0 });
    expect(limiter.enabled).toBe(false);
    for (let i = 0; i < 100; i++) expect(limiter.take('a', 10).allowed).toBe(true);
  });

  it('rejects settings it cannot work with', () => {
    expect(() => new RateLimiter({ limit: -1, windowMs: 1_000 })).toThrow(/limit/);
    expect(() => new RateLimiter({ limit: 1, windowMs: 0 })).toThrow(/windowMs/);
  });
});
