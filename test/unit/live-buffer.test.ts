import { describe, expect, it } from 'vitest';
import { bufferDroppingOldest } from '../../src/docker/live-buffer.ts';

describe('bufferDroppingOldest', () => {
  it('ends the stream when its source fails, and hands the failure on to be logged', async () => {
    const failure = new Error('the engine dropped the stream');
    async function* source() {
      yield 'first';
      throw failure;
    }
    const failures: unknown[] = [];
    let closed = false;
    const queue = bufferDroppingOldest(
      source(),
      10,
      () => {
        closed = true;
      },
      (error) => failures.push(error),
    );
    const delivered: string[] = [];
    for await (const item of queue) delivered.push(item.value);
    expect(delivered).toEqual(['first']);
    expect(failures).toEqual([failure]);
    expect(closed).toBe(true);
  });
});
