import { describe, expect, it } from 'vitest';
import {
  collectLogLines,
  type DemuxedFrame,
  decodeLogBuffer,
  decodeLogStream,
  demuxBuffer,
  demuxFrames,
  EngineStreamError,
  FrameDecoder,
  type LogLine,
  type LogLineOptions,
  type LogSummary,
  StreamFramingError,
  splitLogLines,
} from '../../src/docker/demux.ts';
import { chunkings as chunkingsOf, fixture, stream } from '../helpers/chunks.ts';

/** Ways to cut a buffer into chunks, as a stream might. */
const chunkings = (buf: Buffer) => chunkingsOf(buf, { sizes: [7], maxRandomCuts: 20 });

async function framesOf(chunks: Uint8Array[]): Promise<DemuxedFrame[]> {
  const frames: DemuxedFrame[] = [];
  for await (const frame of demuxFrames(stream(chunks))) frames.push(frame);
  return frames;
}

function plain(
  frames: DemuxedFrame[],
): Array<{ stream: string; payload: string; incomplete: boolean }> {
  return frames.map((f) => ({
    stream: f.stream,
    payload: f.payload.toString('hex'),
    incomplete: f.incomplete === true,
  }));
}

/** Decodes a fixture under every chunking, checks they agree, returns the result. */
async function decodeAll(
  name: string,
  options: LogLineOptions,
): Promise<{ lines: LogLine[]; truncated: boolean; incomplete: boolean }> {
  const buf = fixture(name);
  const reference = decodeLogBuffer(buf, options);
  for (const [label, chunks] of chunkings(buf)) {
    const decoded = await collectLogLines(stream(chunks), options);
    expect(decoded, `${name} chunked ${label}`).toEqual(reference);
  }
  return reference;
}

const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;

// What the capture container wrote (see README): interleaved, with "é", "€", an
// empty line on each stream, a CRLF-terminated line and a last line with no newline.
const MUX_LINES = [
  { stream: 'stdout', message: 'out 1: plain' },
  { stream: 'stderr', message: 'err 1: café' },
  { stream: 'stdout', message: '' },
  { stream: 'stdout', message: 'out 2: 5 €' },
  { stream: 'stderr', message: 'err 2: crlf' },
  { stream: 'stderr', message: '' },
  { stream: 'stdout', message: 'out 3: no newline' },
];

describe('demuxFrames', () => {
  it('decodes the real multiplexed logs stream into one frame per log entry', async () => {
    const buf = fixture('logs-mux.bin');
    const reference = demuxBuffer(buf);
    expect(reference.map((f) => [f.stream, f.payload.toString('utf8')])).toEqual([
      ['stdout', 'out 1: plain\n'],
      ['stderr', 'err 1: café\n'],
      ['stdout', '\n'],
      ['stdout', 'out 2: 5 €\n'],
      ['stderr', 'err 2: crlf\r\n'],
      ['stderr', '\n'],
      ['stdout', 'out 3: no newline'],
    ]);
    for (const [label, chunks] of chunkings(buf)) {
      expect(plain(await framesOf(chunks)), label).toEqual(plain(reference));
    }
  });

  it('shows the engine splitting a long line mid-character into two frames (local driver)', () => {
    const frames = demuxBuffer(fixture('logs-local-long.bin'));
    const [first, second] = frames;
    expect(first?.payload.length).toBe(16 * 1024);
    expect(first?.payload.at(-1)).toBe(0xe2); // first byte of "€"
    expect(second?.payload.subarray(0, 2)).toEqual(Buffer.from([0x82, 0xac]));
  });

  it('keeps a final frame cut short by the end of the stream, marked incomplete', async () => {
    const buf = fixture('logs-mux.bin');
    const cut = buf.subarray(0, buf.length - 5);
    for (const [label, chunks] of chunkings(cut)) {
      const frames = await framesOf(chunks);
      expect(frames, label).toHaveLength(7);
      const last = frames.at(-1);
      expect(last?.incomplete, label).toBe(true);
      expect(last?.stream).toBe('stdout');
      expect(last?.payload.toString('utf8')).toBe('out 3: no ne');
      expect(frames.slice(0, -1).every((f) => f.incomplete === undefined)).toBe(true);
    }
  });

  it('reports a stream that ended inside a header as an empty incomplete frame', async () => {
    const buf = fixture('logs-mux.bin');
    // The last frame is an 8-byte header plus 17 bytes ("out 3: no newline").
    const headerStart = buf.length - 17 - 8;
    const cut = buf.subarray(0, headerStart + 3);
    for (const [label, chunks] of chunkings(cut)) {
      const last = (await framesOf(chunks)).at(-1);
      expect(last, label).toEqual({ stream: 'stdout', payload: Buffer.alloc(0), incomplete: true });
    }
  });

  it('rejects a TTY (raw) stream with an explanatory error', () => {
    expect(() => demuxBuffer(fixture('logs-tty.bin'))).toThrow(StreamFramingError);
    expect(() => demuxBuffer(fixture('logs-tty.bin'))).toThrow(/stream type byte 111 .* TTY/);
  });

  it('raises the engine error carried by a systemerr frame (type 3)', () => {
    const message = Buffer.from('container not running');
    const header = Buffer.from([3, 0, 0, 0, 0, 0, 0, message.length]);
    const decoder = new FrameDecoder();
    expect(() => decoder.push(Buffer.concat([header, message]))).toThrow(EngineStreamError);
    expect(() => new FrameDecoder().push(Buffer.concat([header, message]))).toThrow(
      'error from daemon in stream: container not running',
    );
  });

  it('refuses a frame larger than maxFrameBytes', () => {
    const header = Buffer.from([1, 0, 0, 0, 0x01, 0, 0, 0]);
    expect(() => new FrameDecoder({ maxFrameBytes: 1024 }).push(header)).toThrow(
      /announces 16777216 bytes/,
    );
  });
});

describe('decodeLogStream', () => {
  it('splits the multiplexed stream into lines per stream', async () => {
    const { lines, truncated, incomplete } = await decodeAll('logs-mux.bin', {
      tty: false,
      timestamps: false,
    });
    expect(lines).toEqual(MUX_LINES.map((line) => ({ ...line, timestamp: null })));
    expect(truncated).toBe(false);
    expect(incomplete).toBe(false);
  });

  it('splits off timestamps=1 prefixes', async () => {
    const { lines } = await decodeAll('logs-mux-timestamps.bin', { tty: false, timestamps: true });
    expect(lines.map(({ stream, message }) => ({ stream, message }))).toEqual(MUX_LINES);
    expect(lines[0]?.timestamp).toBe('2026-11-23T21:55:23.164420771Z');
    for (const line of lines) expect(line.timestamp).toMatch(TIMESTAMP);
    const times = lines.map((line) => line.timestamp ?? '');
    expect([...times].sort()).toEqual(times);
  });

  it('decodes a TTY stream: all stdout, CRLF line ends from the terminal', async () => {
    const { lines } = await decodeAll('logs-tty.bin', { tty: true, timestamps: false });
    expect(lines).toEqual([
      { stream: 'stdout', timestamp: null, message: 'out 1: plain' },
      { stream: 'stdout', timestamp: null, message: 'err 1: café' },
      { stream: 'stdout', timestamp: null, message: '' },
      { stream: 'stdout', timestamp: null, message: 'out 2: 5 €' },
      // The program wrote "\r\n"; the terminal made that "\r\r\n". One "\r" is the
      // terminator's, the other was output.
      { stream: 'stdout', timestamp: null, message: 'err 2: crlf\r' },
      { stream: 'stdout', timestamp: null, message: '' },
      { stream: 'stdout', timestamp: null, message: 'out 3: no newline' },
    ]);
  });

  it('decodes a TTY stream with timestamps', async () => {
    const { lines } = await decodeAll('logs-tty-timestamps.bin', { tty: true, timestamps: true });
    expect(lines.map((line) => line.message)).toEqual([
      'out 1: plain',
      'err 1: café',
      '',
      'out 2: 5 €',
      'err 2: crlf\r',
      '',
      'out 3: no newline',
    ]);
    for (const line of lines) expect(line.timestamp).toMatch(TIMESTAMP);
  });

  it('reassembles a character the engine split across two frames (local log driver)', async () => {
    const { lines } = await decodeAll('logs-local-long.bin', { tty: false, timestamps: false });
    // The local driver drops the "\n" after the last fragment of a split line (the
    // frame is "\x82\xac tail"), so that line only ends with the stream and comes
    // out after the later stderr line.
    expect(lines).toEqual([
      { stream: 'stderr', timestamp: null, message: 'short' },
      { stream: 'stdout', timestamp: null, message: `${'a'.repeat(16383)}€ tail` },
    ]);
    const tail = demuxBuffer(fixture('logs-local-long.bin'))[1];
    expect(tail?.payload.toString('utf8', 2)).toBe(' tail');
  });

  it('drops the timestamp of a continuation entry, even between the bytes of a character', async () => {
    const { lines } = await decodeAll('logs-local-long-timestamps.bin', {
      tty: false,
      timestamps: true,
    });
    expect(lines.map(({ stream, message }) => ({ stream, message }))).toEqual([
      { stream: 'stderr', message: 'short' },
      { stream: 'stdout', message: `${'a'.repeat(16383)}€ tail` },
    ]);
    const raw = fixture('logs-local-long-timestamps.bin').toString('latin1');
    const firstTimestamp = raw.slice(8, 8 + 30);
    expect(firstTimestamp).toMatch(TIMESTAMP);
    expect(lines[1]?.timestamp).toBe(firstTimestamp);
  });

  it('passes on what the json-file driver stored for a split character (U+FFFD)', async () => {
    const { lines } = await decodeAll('logs-jsonfile-long-timestamps.bin', {
      tty: false,
      timestamps: true,
    });
    // json-file stores each 16 KiB fragment as a JSON string, so the split "€" was
    // already replaced by U+FFFD on disk: one for the lead byte, one per continuation byte.
    expect(lines.map(({ stream, message }) => ({ stream, message }))).toEqual([
      { stream: 'stderr', message: 'short' },
      { stream: 'stdout', message: `${'a'.repeat(16383)}\ufffd\ufffd\ufffd tail` },
    ]);
    for (const line of lines) expect(line.timestamp).toMatch(TIMESTAMP);
  });

  it('yields a truncated final frame as a line and flags the stream incomplete', async () => {
    const buf = fixture('logs-mux.bin');
    const cut = buf.subarray(0, buf.length - 5);
    const reference = decodeLogBuffer(cut, { tty: false, timestamps: false });
    expect(reference.incomplete).toBe(true);
    expect(reference.truncated).toBe(false);
    expect(reference.lines.at(-1)).toEqual({
      stream: 'stdout',
      timestamp: null,
      message: 'out 3: no ne',
    });
    for (const [label, chunks] of chunkings(cut)) {
      expect(
        await collectLogLines(stream(chunks), { tty: false, timestamps: false }),
        label,
      ).toEqual(reference);
    }
  });

  it('holds a partial line per stream so interleaved fragments do not mix', () => {
    const frame = (type: number, text: string): Buffer => {
      const payload = Buffer.from(text);
      const header = Buffer.alloc(8);
      header[0] = type;
      header.writeUInt32BE(payload.length, 4);
      return Buffer.concat([header, payload]);
    };
    const buf = Buffer.concat([frame(1, 'a'), frame(2, 'b\n'), frame(1, 'c\n'), frame(2, 'tail')]);
    expect(decodeLogBuffer(buf, { tty: false, timestamps: false }).lines).toEqual([
      { stream: 'stderr', timestamp: null, message: 'b' },
      { stream: 'stdout', timestamp: null, message: 'ac' },
      { stream: 'stderr', timestamp: null, message: 'tail' },
    ]);
  });
});

describe('caps', () => {
  const base = { tty: false, timestamps: false } as const;

  it('stops after maxLines and says it truncated', async () => {
    const result = await decodeAll('logs-mux.bin', { ...base, maxLines: 3 });
    expect(result.lines.map((line) => line.message)).toEqual(['out 1: plain', 'err 1: café', '']);
    expect(result.truncated).toBe(true);
  });

  it('does not claim truncation when the cap matches the output exactly', async () => {
    const exact = await decodeAll('logs-mux.bin', { ...base, maxLines: 7 });
    expect(exact.lines).toHaveLength(7);
    expect(exact.truncated).toBe(false);
    // Six lines leave the unterminated seventh behind.
    const short = await decodeAll('logs-mux.bin', { ...base, maxLines: 6 });
    expect(short.lines).toHaveLength(6);
    expect(short.truncated).toBe(true);
  });

  it('stops before a line that would exceed maxBytes', async () => {
    // "out 1: plain" is 12 bytes, "err 1: café" 12 (é is two bytes).
    const one = await decodeAll('logs-mux.bin', { ...base, maxBytes: 23 });
    expect(one.lines.map((line) => line.message)).toEqual(['out 1: plain']);
    expect(one.truncated).toBe(true);
    const all = await decodeAll('logs-mux.bin', { ...base, maxBytes: 1000 });
    expect(all.lines).toHaveLength(7);
    expect(all.truncated).toBe(false);
  });

  it('stops pulling from the source once a cap is reached', async () => {
    const buf = fixture('logs-mux.bin');
    let pulled = 0;
    let closed = false;
    async function* source(): AsyncGenerator<Uint8Array> {
      try {
        for (const byte of buf) {
          pulled++;
          yield Uint8Array.of(byte);
        }
      } finally {
        closed = true;
      }
    }
    const iterator = decodeLogStream(source(), { ...base, maxLines: 1 });
    const lines: LogLine[] = [];
    let summary: LogSummary | undefined;
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) {
        summary = next.value;
        break;
      }
      lines.push(next.value);
    }
    expect(lines.map((line) => line.message)).toEqual(['out 1: plain']);
    expect(summary).toEqual({ lineCount: 1, byteCount: 12, truncated: true, incomplete: false });
    expect(closed).toBe(true);
    expect(pulled).toBeLessThan(buf.length / 2);
  });

  it('cuts lines longer than maxLineBytes at character boundaries', async () => {
    const { lines } = await decodeAll('logs-local-long.bin', { ...base, maxLineBytes: 1000 });
    const stdout = lines.filter((line) => line.stream === 'stdout');
    expect(stdout.length).toBeGreaterThan(16);
    for (const line of stdout) expect(Buffer.byteLength(line.message)).toBeLessThanOrEqual(1000);
    expect(stdout.map((line) => line.message).join('')).toBe(`${'a'.repeat(16383)}€ tail`);
    expect(stdout.some((line) => line.message.includes('\ufffd'))).toBe(false);
  });

  it('exposes the summary as the return value of splitLogLines', async () => {
    const iterator = splitLogLines(demuxFrames(stream([fixture('logs-mux.bin')])), base);
    let next = await iterator.next();
    let count = 0;
    while (next.done !== true) {
      count++;
      next = await iterator.next();
    }
    expect(count).toBe(7);
    expect(next.value).toEqual({
      lineCount: 7,
      byteCount: 64,
      truncated: false,
      incomplete: false,
    });
  });
});
