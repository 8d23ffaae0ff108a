// The bookkeeping of reads shared between requests (src/docker/shared-reads.ts), with the
// sending function in the test's hands: when a read is held and joined, when it is sent at
// once, and how the signals of the readers that go away cancel it (or not). The engine side
// is tested against the real engine in test/integration/shared-reads.test.ts.
import { describe, expect, it } from 'vitest';
import { type ReadAnswer, SharedReads } from '../../src/docker/shared-reads.ts';

/** A send the test answers by hand, recording the signal each call got. */
function manualSend() {
  const calls: { signal: AbortSignal; answer(value: ReadAnswer): void }[] = [];
  const send = (signal: AbortSignal) =>
    new Promise<ReadAnswer>((resolve, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      calls.push({ signal, answer: resolve });
    });
  return { calls, send };
}

const ANSWER: ReadAnswer = { status: 200, body: '[]' };
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Starts a read of another request that stays in flight: reads asked now are held. */
function busy(reads: SharedReads) {
  const other = manualSend();
  const read = reads.read('other', new AbortController().signal, other.send);
  return { other, read };
}

describe('SharedReads', () => {
  it('sends a read at once when no other request has one in flight, and lets nobody join it', async () => {
    const reads = new SharedReads();
    const { calls, send } = manualSend();
    const first = reads.read('list', new AbortController().signal, send);
    await Promise.resolve();
    expect(calls).toHaveLength(1);
    const second = reads.read('list', new AbortController().signal, send);
    expect([first.joined, second.joined]).toEqual([false, false]);
    await turn();
    expect(calls).toHaveLength(2);
    for (const call of calls) call.answer(ANSWER);
    await expect(Promise.all([first.answer, second.answer])).resolves.toEqual([ANSWER, ANSWER]);
  });

  it('holds a read to the end of the turn while another request’s read is in flight; those asking meanwhile join it', async () => {
    const reads = new SharedReads();
    busy(reads);
    const { calls, send } = manualSend();
    const first = reads.read('list', new AbortController().signal, send);
    const second = reads.read('list', new AbortController().signal, send);
    await Promise.resolve();
    expect(calls).toHaveLength(0);
    await turn();
    expect(calls).toHaveLength(1);
    // Sent: from now on a reader makes its own call (held, as the server is still busy).
    const third = reads.read('list', new AbortController().signal, send);
    expect([first.joined, second.joined, third.joined]).toEqual([false, true, false]);
    await turn();
    expect(calls).toHaveLength(2);
    for (const call of calls) call.answer(ANSWER);
    await expect(Promise.all([first.answer, second.answer, third.answer])).resolves.toEqual([
      ANSWER,
      ANSWER,
      ANSWER,
    ]);
  });

  it('sends the reads one request starts together at once: its own reads do not make it busy', async () => {
    const reads = new SharedReads();
    const signal = new AbortController().signal;
    const { calls, send } = manualSend();
    reads.read('containers', signal, send);
    reads.read('images', signal, send);
    await Promise.resolve();
    expect(calls).toHaveLength(2);
  });

  it('tells operations without a signal (over WebSocket) apart by their operation', async () => {
    const reads = new SharedReads();
    const { calls, send } = manualSend();
    const [first, second, third] = [{}, {}, {}];
    reads.read('list', undefined, send, first);
    const held = reads.read('list', undefined, send, second);
    const joined = reads.read('list', undefined, send, third);
    await Promise.resolve();
    // The first went at once; the second is held, as the first is another operation's.
    expect(calls).toHaveLength(1);
    expect([held.joined, joined.joined]).toEqual([false, true]);
    await turn();
    expect(calls).toHaveLength(2);
  });

  it('keeps the call for the readers still waiting when one leaves, and cancels it when the last one leaves', async () => {
    const reads = new SharedReads();
    busy(reads);
    const { calls, send } = manualSend();
    const leaving = new AbortController();
    const staying = new AbortController();
    const left = reads.read('list', leaving.signal, send);
    const stayed = reads.read('list', staying.signal, send);
    await turn();
    leaving.abort(new Error('went away'));
    await expect(left.answer).rejects.toThrow('went away');
    expect(calls[0]?.signal.aborted).toBe(false);
    calls[0]?.answer(ANSWER);
    await expect(stayed.answer).resolves.toEqual(ANSWER);

    const both = [new AbortController(), new AbortController()];
    const pending = both.map((controller) => reads.read('list', controller.signal, send));
    await turn();
    for (const controller of both) controller.abort(new Error('went away'));
    for (const read of pending) await expect(read.answer).rejects.toThrow('went away');
    expect(calls[1]?.signal.aborted).toBe(true);
  });

  it('never cancels a read that a reader without a signal (the server’s own) waits for', async () => {
    const reads = new SharedReads();
    busy(reads);
    const { calls, send } = manualSend();
    const leaving = new AbortController();
    const left = reads.read('list', leaving.signal, send);
    const server = reads.read('list', undefined, send);
    await turn();
    leaving.abort(new Error('went away'));
    await expect(left.answer).rejects.toThrow('went away');
    expect(calls[0]?.signal.aborted).toBe(false);
    calls[0]?.answer(ANSWER);
    await expect(server.answer).resolves.toEqual(ANSWER);
  });

  it('cancels a held read whose only reader had already gone when it asked', async () => {
    const reads = new SharedReads();
    busy(reads);
    const { calls, send } = manualSend();
    const gone = new AbortController();
    gone.abort(new Error('went away'));
    const read = reads.read('list', gone.signal, send);
    await expect(read.answer).rejects.toThrow('went away');
    await turn();
    expect(calls[0]?.signal.aborted).toBe(true);
  });
});
