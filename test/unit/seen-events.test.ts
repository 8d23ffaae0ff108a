// The event hub's memory of the events one upstream broadcast (SeenEvents), on real events
// captured from the engine (test/fixtures/events.bin): events that come out of timestamp
// order are all delivered, and what a reconnect replays again is dropped.
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SeenEvents } from '../../src/docker/event-hub.ts';
import { type EngineEvent, parseEngineEvents } from '../../src/docker/events.ts';

const bytes = readFileSync(fileURLToPath(new URL('../fixtures/events.bin', import.meta.url)));
const captured: EngineEvent[] = [];
for await (const event of parseEngineEvents(Readable.from([bytes]))) captured.push(event);

/** The captured events' keys that `seen` admits, in the order given. */
function admitted(seen: SeenEvents, events: readonly EngineEvent[]): string[] {
  return events.filter((event) => seen.admit(event)).map((event) => `${event.timeNano}`);
}

describe('SeenEvents', () => {
  it('admits every event once, also those that come after a newer one', () => {
    expect(captured.length).toBeGreaterThan(4);
    // As the engine sends the events of operations running at once: stamped in one order,
    // published in another.
    const [first, second, third, ...rest] = captured;
    if (!first || !second || !third) throw new Error('too few captured events');
    const shuffled = [third, first, second, ...rest.reverse()];
    const seen = new SeenEvents();
    expect(admitted(seen, shuffled)).toEqual(shuffled.map((event) => `${event.timeNano}`));
    let newest = 0n;
    for (const event of captured)
      if (BigInt(event.timeNano) > newest) newest = BigInt(event.timeNano);
    expect(seen.newest).toBe(newest);
  });

  it('drops what a replay sends again, and resumes a second before the newest event', () => {
    const seen = new SeenEvents();
    expect(seen.resumeFrom).toBeNull();
    const newest = captured.at(-1);
    if (!newest) throw new Error('no captured events');
    admitted(seen, captured);
    expect(seen.resumeFrom).toBe(BigInt(newest.timeNano) - 1_000_000_000n);
    // The replay from there: the events of the last second again, then one not seen yet.
    const replayed = captured.filter((event) => BigInt(event.timeNano) >= (seen.resumeFrom ?? 0n));
    expect(replayed.length).toBeGreaterThan(0);
    const later = { ...newest, timeNano: (BigInt(newest.timeNano) + 5_000n).toString() };
    expect(admitted(seen, [...replayed, later])).toEqual([`${later.timeNano}`]);
  });
});
