import { describe, expect, it } from 'vitest';
import {
  JsonLinesDecoder,
  JsonLinesError,
  parseJsonLines,
  parseJsonLinesBuffer,
} from '../../src/docker/json-lines.ts';
import { chunkings as chunkingsOf, fixture, stream } from '../helpers/chunks.ts';

/** Ways to cut a buffer into chunks, as a stream might. */
const chunkings = (buf: Buffer) => chunkingsOf(buf, { maxRandomCuts: 30 });

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const values: T[] = [];
  for await (const value of iterable) values.push(value);
  return values;
}

/** Parses a fixture under every chunking, checks they agree, returns the values. */
async function parseAll(name: string): Promise<unknown[]> {
  const buf = fixture(name);
  const reference = parseJsonLinesBuffer(buf);
  for (const [label, chunks] of chunkings(buf)) {
    expect(await collect(parseJsonLines(stream(chunks))), `${name} chunked ${label}`).toEqual(
      reference,
    );
  }
  return reference;
}

/** The fixture's lines, parsed one at a time: the independent expectation. */
function linesOf(name: string): unknown[] {
  return fixture(name)
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface EngineEvent {
  Type: string;
  Action: string;
  timeNano: number;
}

function isEngineEvent(value: unknown): value is EngineEvent {
  return (
    isRecord(value) &&
    typeof value.Type === 'string' &&
    typeof value.Action === 'string' &&
    typeof value.timeNano === 'number'
  );
}

describe('parseJsonLines on real engine output', () => {
  it('decodes /events (\\n-separated)', async () => {
    const events = await parseAll('events.bin');
    expect(events).toEqual(linesOf('events.bin'));
    expect(events.length).toBe(13);
    expect(events.every(isEngineEvent)).toBe(true);
    const actions = events.filter(isEngineEvent).map((e) => `${e.Type}:${e.Action}`);
    expect(actions).toContain('image:push');
    expect(actions.at(-1)).toBe('image:pull');
  });

  it('decodes pull progress (\\r\\n-separated)', async () => {
    const messages = await parseAll('pull.bin');
    expect(fixture('pull.bin').includes('}\r\n{')).toBe(true);
    expect(messages).toEqual(linesOf('pull.bin'));
    expect(messages[0]).toEqual({ status: 'Pulling from capture/app', id: 'v1' });
    expect(messages.at(-1)).toEqual({
      status: 'Status: Downloaded newer image for localhost:5000/capture/app:v1',
    });
  });

  it('decodes push progress, where progressDetail.current can exceed total', async () => {
    const messages = await parseAll('push.bin');
    expect(messages).toEqual(linesOf('push.bin'));
    const overshoot = messages.filter(
      (m) =>
        isRecord(m) &&
        isRecord(m.progressDetail) &&
        typeof m.progressDetail.current === 'number' &&
        typeof m.progressDetail.total === 'number' &&
        m.progressDetail.current > m.progressDetail.total,
    );
    expect(overshoot.length).toBeGreaterThan(0);
  });

  it('decodes build output, multi-byte characters included', async () => {
    const messages = await parseAll('build.bin');
    expect(messages).toEqual(linesOf('build.bin'));
    const text = messages
      .map((m) => (isRecord(m) && typeof m.stream === 'string' ? m.stream : ''))
      .join('');
    // The RUN step's stderr arrives in "stream" wrapped in ANSI red.
    expect(text).toContain('\u001b[91mcafé\n\u001b[0m');
    expect(text).toContain('Successfully tagged localhost:5000/capture/app:v1');
  });

  it('decodes a failed build: HTTP 200 with the error in-band', async () => {
    const messages = await parseAll('build-fail.bin');
    expect(messages.at(-1)).toMatchObject({ errorDetail: { code: 3 } });
  });
});

describe('parseJsonLines edge cases', () => {
  it('skips blank lines, accepts \\r\\n and a last line without newline', async () => {
    const input = Buffer.from('\r\n\n{"a":1}\r\n   \n{"b":"é"}\n\n{"c":[]}');
    for (const [label, chunks] of chunkings(input)) {
      expect(await collect(parseJsonLines(stream(chunks))), label).toEqual([
        { a: 1 },
        { b: 'é' },
        { c: [] },
      ]);
    }
  });

  it('reports a malformed line with its number and a short excerpt', async () => {
    const input = Buffer.from('{"ok":true}\r\n\r\n{"broken": }\r\n{"never":"reached"}\r\n');
    const error = await collect(parseJsonLines(stream([input]))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JsonLinesError);
    expect(error).toMatchObject({ lineNumber: 3, excerpt: '"{\\"broken\\": }"' });
    expect(String(error)).toMatch(/line 3: invalid JSON/);
  });

  it('shortens the excerpt of a long malformed line', () => {
    const input = Buffer.from(`{"x":"${'y'.repeat(100_000)}"\n`);
    let caught: unknown;
    try {
      parseJsonLinesBuffer(input);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(JsonLinesError);
    const message = caught instanceof Error ? caught.message : '';
    expect(message.length).toBeLessThan(600);
    expect(message).toContain('(100007 bytes)');
  });

  it('gives up on a line longer than maxLineBytes without waiting for the end', async () => {
    let pulled = 0;
    async function* endless(): AsyncGenerator<Uint8Array> {
      for (;;) {
        pulled++;
        yield Buffer.alloc(1024, 0x61);
      }
    }
    await expect(collect(parseJsonLines(endless(), { maxLineBytes: 64 * 1024 }))).rejects.toThrow(
      /line 1: no newline within 65536 bytes/,
    );
    expect(pulled).toBe(65);
  });

  it('rejects a complete line over maxLineBytes too', () => {
    const decoder = new JsonLinesDecoder({ maxLineBytes: 10 });
    expect(() => decoder.push(Buffer.from('{"a":"0123456789"}\n'))).toThrow(/exceeds 10 bytes/);
  });

  it('checks values against a guard and types them', async () => {
    const events = parseJsonLines(stream([fixture('events.bin')]), { guard: isEngineEvent });
    const first = (await events.next()).value;
    // Typed as EngineEvent | void: reading .Action compiles only thanks to the guard.
    expect(first === undefined ? undefined : first.Action).toBe('create');

    const input = Buffer.from('{"Type":"container","Action":"start","timeNano":1}\n{"Type":1}\n');
    await expect(
      collect(parseJsonLines(stream([input]), { guard: isEngineEvent })),
    ).rejects.toThrow(/line 2: value does not have the expected shape/);
  });
});
