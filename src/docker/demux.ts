/**
 * Decoding of the byte streams the Docker Engine returns from
 * `GET /containers/{id}/logs`, `POST /containers/{id}/attach` and exec start.
 *
 * Two wire formats exist, chosen by the container's `Tty` setting (the engine sends
 * `Content-Type: application/vnd.docker.multiplexed-stream` for the first and
 * `application/vnd.docker.raw-stream` for the second on API >= 1.42):
 *
 * - Non-TTY: a multiplexed stream of frames. Each frame is an 8-byte header
 *   `[stream, 0, 0, 0, size(4 bytes, big-endian)]` followed by `size` payload bytes.
 *   HTTP chunk boundaries are unrelated to frame boundaries: a frame may be split
 *   anywhere, including inside its header.
 * - TTY: the pseudo-terminal's raw output with no framing at all. Everything is
 *   stdout, because a TTY merges stderr into stdout inside the container. The TTY
 *   line discipline (`onlcr`) turns every `\n` the program writes into `\r\n`.
 *
 * For the logs endpoint each frame carries exactly one log entry as stored by the
 * log driver: one line including its `\n`, or a fragment of a longer line (the
 * engine splits lines at 16 KiB), or a final line that had no `\n`. With
 * `timestamps=1` each entry (not each line) is prefixed with an RFC 3339 timestamp
 * with nine fractional digits and a space.
 *
 * This module is pure: it never performs I/O.
 *
 * @module
 */

/** Which standard stream a piece of output belongs to. */
export type StreamName = 'stdin' | 'stdout' | 'stderr';

/** One decoded frame of a multiplexed stream. */
export interface DemuxedFrame {
  readonly stream: StreamName;
  /** The payload bytes. May share memory with the input chunk; copy it before mutating. */
  readonly payload: Buffer;
  /**
   * Set only on the last frame of a stream that ended before the frame was
   * complete (the header promised more bytes than arrived). `payload` then holds
   * the bytes that did arrive, possibly none.
   */
  readonly incomplete?: true;
}

/** Raised when the bytes cannot be a multiplexed stream (bad header). */
export class StreamFramingError extends Error {
  /** Byte offset of the offending header from the start of the stream. */
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(message);
    this.name = 'StreamFramingError';
    this.offset = offset;
  }
}

/**
 * Raised when the engine reports an error inside the stream itself (stream type 3,
 * "systemerr"); the engine uses it when something fails after the HTTP 200 status
 * line has already been sent, e.g. during an attach.
 */
export class EngineStreamError extends Error {
  constructor(message: string) {
    super(`error from daemon in stream: ${message}`);
    this.name = 'EngineStreamError';
  }
}

/** Options for {@link FrameDecoder}, {@link demuxFrames} and {@link demuxBuffer}. */
export interface DemuxOptions {
  /**
   * Largest frame payload accepted, in bytes; a header announcing more raises a
   * {@link StreamFramingError}. The engine writes one frame per log entry or per
   * read from the container's pipe (at most 32 KiB), so the 16 MiB default only
   * trips on corrupt input, e.g. a TTY stream decoded as multiplexed.
   */
  readonly maxFrameBytes?: number;
}

const HEADER_BYTES = 8;

/** Views a chunk as a Buffer without copying. */
function toBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk)
    ? chunk
    : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

// Stream type byte values, as defined by moby's pkg/stdcopy.
const STREAM_BY_TYPE: readonly StreamName[] = ['stdin', 'stdout', 'stderr'];
const SYSTEMERR_TYPE = 3;

function streamForType(type: number, offset: number): StreamName | 'systemerr' {
  const stream = STREAM_BY_TYPE[type];
  if (stream !== undefined) return stream;
  if (type === SYSTEMERR_TYPE) return 'systemerr';
  throw new StreamFramingError(
    `invalid stream type byte ${type} in multiplexed stream header at byte ${offset} ` +
      '(expected 0 stdin, 1 stdout, 2 stderr or 3 systemerr); ' +
      'a TTY container sends raw bytes, not frames',
    offset,
  );
}

/**
 * Incremental decoder for the multiplexed (non-TTY) format. Feed it chunks with
 * {@link FrameDecoder.push} and call {@link FrameDecoder.end} once the input ends.
 */
export class FrameDecoder {
  readonly #maxFrameBytes: number;
  readonly #header = Buffer.alloc(HEADER_BYTES);
  #headerFilled = 0;
  /** Stream of the frame whose payload is being collected, or null while reading a header. */
  #stream: StreamName | 'systemerr' | null = null;
  #remaining = 0;
  #parts: Buffer[] = [];
  #offset = 0;

  constructor(options: DemuxOptions = {}) {
    this.#maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  /**
   * Consumes one chunk and returns the frames it completed, in order.
   *
   * @throws {StreamFramingError} on an invalid header.
   * @throws {EngineStreamError} when the engine sent an error frame.
   */
  push(chunk: Uint8Array): DemuxedFrame[] {
    const buf = toBuffer(chunk);
    const frames: DemuxedFrame[] = [];
    let pos = 0;
    while (pos < buf.length) {
      if (this.#stream === null) {
        if (this.#headerFilled === 0 && buf.length - pos >= HEADER_BYTES) {
          // Fast path: the whole header is inside this chunk.
          this.#startFrame(buf.subarray(pos, pos + HEADER_BYTES));
          pos += HEADER_BYTES;
        } else {
          const take = Math.min(HEADER_BYTES - this.#headerFilled, buf.length - pos);
          buf.copy(this.#header, this.#headerFilled, pos, pos + take);
          this.#headerFilled += take;
          pos += take;
          if (this.#headerFilled < HEADER_BYTES) break;
          this.#startFrame(this.#header);
        }
        this.#offset += HEADER_BYTES;
      }
      const take = Math.min(this.#remaining, buf.length - pos);
      if (take > 0) {
        this.#parts.push(buf.subarray(pos, pos + take));
        this.#remaining -= take;
        this.#offset += take;
        pos += take;
      }
      if (this.#remaining === 0) {
        const frame = this.#finishFrame(false);
        if (frame !== null) frames.push(frame);
      }
    }
    return frames;
  }

  /**
   * Signals the end of input. Returns the final frame when the input stopped in
   * the middle of one (marked `incomplete`, with whatever payload arrived), else
   * null. Docker's own Go client (`stdcopy.StdCopy`) silently drops such a partial
   * frame; we hand it over so no output is lost and the caller can tell.
   */
  end(): DemuxedFrame | null {
    if (this.#stream === null) {
      if (this.#headerFilled === 0) return null;
      // Only part of a header arrived. Its first byte already names the stream.
      const type = this.#header[0] ?? 0;
      this.#stream = streamForType(type, this.#offset);
      this.#headerFilled = 0;
    }
    return this.#finishFrame(true);
  }

  #startFrame(header: Buffer): void {
    const type = header[0] ?? 0;
    const stream = streamForType(type, this.#offset);
    // Bytes 1-3 are reserved; the engine writes zeros and its own reader ignores them.
    const size = header.readUInt32BE(4);
    if (size > this.#maxFrameBytes) {
      throw new StreamFramingError(
        `multiplexed stream frame at byte ${this.#offset} announces ${size} bytes, ` +
          `more than the ${this.#maxFrameBytes}-byte limit`,
        this.#offset,
      );
    }
    this.#stream = stream;
    this.#remaining = size;
    this.#headerFilled = 0;
  }

  #finishFrame(incomplete: boolean): DemuxedFrame | null {
    const stream = this.#stream;
    const parts = this.#parts;
    this.#stream = null;
    this.#parts = [];
    this.#remaining = 0;
    if (stream === null) return null;
    const payload = parts.length === 1 && parts[0] !== undefined ? parts[0] : Buffer.concat(parts);
    if (stream === 'systemerr') {
      throw new EngineStreamError(payload.toString('utf8'));
    }
    return incomplete ? { stream, payload, incomplete: true } : { stream, payload };
  }
}

/**
 * Decodes a multiplexed (non-TTY) stream, yielding each frame once it is complete.
 * A stream that ends mid-frame yields a last frame marked `incomplete`.
 *
 * @throws {StreamFramingError} on an invalid header (e.g. the container is a TTY).
 * @throws {EngineStreamError} when the engine sent an error frame.
 */
export async function* demuxFrames(
  chunks: AsyncIterable<Uint8Array>,
  options: DemuxOptions = {},
): AsyncGenerator<DemuxedFrame, void, undefined> {
  const decoder = new FrameDecoder(options);
  for await (const chunk of chunks) {
    yield* decoder.push(chunk);
  }
  const last = decoder.end();
  if (last !== null) yield last;
}

/** Decodes a whole multiplexed stream held in memory. See {@link demuxFrames}. */
export function demuxBuffer(buf: Uint8Array, options: DemuxOptions = {}): DemuxedFrame[] {
  const decoder = new FrameDecoder(options);
  const frames = decoder.push(buf);
  const last = decoder.end();
  if (last !== null) frames.push(last);
  return frames;
}

/**
 * Adapts a TTY container's raw byte stream to frames: each chunk becomes a stdout
 * frame. Chunk boundaries carry no meaning in this format.
 */
export async function* ttyFrames(
  chunks: AsyncIterable<Uint8Array>,
): AsyncGenerator<DemuxedFrame, void, undefined> {
  for await (const chunk of chunks) {
    if (chunk.byteLength === 0) continue;
    yield {
      stream: 'stdout',
      payload: toBuffer(chunk),
    };
  }
}

/** One line of container output. */
export interface LogLine {
  readonly stream: StreamName;
  /**
   * The engine's RFC 3339 timestamp (`2024-01-02T03:04:05.123456789Z`) of the log
   * entry the line started in, when the logs were requested with `timestamps=1`;
   * null otherwise or when the line did not start with one.
   */
  readonly timestamp: string | null;
  /** The text, UTF-8 decoded, without the timestamp prefix and line terminator. */
  readonly message: string;
}

/** Options for {@link LogLineSplitter} and the functions built on it. */
export interface LogLineOptions {
  /** The container was created with `Tty: true` (raw stream, everything stdout). */
  readonly tty: boolean;
  /** The logs were requested with `timestamps=1`; the prefixes are split off. */
  readonly timestamps: boolean;
  /** Stop after this many lines. */
  readonly maxLines?: number;
  /** Stop before a line whose message would take the total past this many UTF-8 bytes. */
  readonly maxBytes?: number;
  /**
   * A line growing past this many bytes without a newline is emitted in pieces of at
   * most this size (cut at a UTF-8 character boundary), which bounds memory on
   * streams that never send a newline. Default 1 MiB.
   */
  readonly maxLineBytes?: number;
}

/** What happened over a whole decode. */
export interface LogSummary {
  /** Lines emitted. */
  readonly lineCount: number;
  /** UTF-8 bytes of the emitted messages. */
  readonly byteCount: number;
  /** A cap (`maxLines` / `maxBytes`) stopped the decode while more output existed. */
  readonly truncated: boolean;
  /**
   * The stream ended in the middle of a frame (see {@link DemuxedFrame.incomplete}).
   * Always false for TTY streams, which have no frames to be cut short.
   */
  readonly incomplete: boolean;
}

/** Result of {@link collectLogLines} and {@link decodeLogBuffer}. */
export interface DecodedLogs {
  readonly lines: LogLine[];
  readonly truncated: boolean;
  readonly incomplete: boolean;
}

const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const SPACE = 0x20;
// "2006-01-02T15:04:05.000000000+07:00" is 35 characters; allow a little slack.
const MAX_TIMESTAMP_CHARS = 40;
const TIMESTAMP_PATTERN =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/** Splits a leading `<RFC 3339 timestamp><space>` off `bytes`, if there is one. */
function splitTimestamp(bytes: Buffer): { timestamp: string | null; rest: Buffer } {
  const space = bytes.indexOf(SPACE);
  if (space <= 0 || space > MAX_TIMESTAMP_CHARS) return { timestamp: null, rest: bytes };
  const candidate = bytes.toString('latin1', 0, space);
  if (!TIMESTAMP_PATTERN.test(candidate)) return { timestamp: null, rest: bytes };
  return { timestamp: candidate, rest: bytes.subarray(space + 1) };
}

/** Length of the longest prefix of `bytes` no longer than `max` that ends on a UTF-8 boundary. */
function utf8Cut(bytes: Buffer, max: number): number {
  let cut = max;
  // Continuation bytes look like 0b10xxxxxx; never cut just before one.
  while (cut > 0 && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return cut === 0 ? max : cut;
}

interface PendingLine {
  readonly stream: StreamName;
  parts: Buffer[];
  length: number;
  /** A line has started on this stream and its newline has not arrived yet. */
  open: boolean;
  /** The timestamp is known (multiplexed: from the entry; TTY: parsed at first emit). */
  timestampKnown: boolean;
  timestamp: string | null;
  /** Arrival order of the line's first byte, for flushing at end of stream. */
  order: number;
}

/**
 * Incremental, synchronous line splitter over decoded frames. Keeps one partial
 * line per stream, so interleaved stdout and stderr fragments never mix.
 *
 * Lines are split on byte `\n` before decoding, and `\n` never occurs inside a
 * multi-byte UTF-8 sequence, so a character split across frames or chunks is
 * decoded intact. Invalid UTF-8 becomes U+FFFD.
 *
 * Timestamps: in the multiplexed format every frame is one log entry, so the prefix
 * is removed from the start of every frame. A frame continuing a line (the engine
 * splits lines longer than 16 KiB into several entries, each with its own
 * timestamp) has its prefix dropped and the line keeps its first entry's
 * timestamp. A TTY stream has no frame boundaries, so the prefix is taken from the
 * start of each line only; continuation timestamps of split long lines then remain
 * inside the message, as there is no way to tell them apart from output.
 */
export class LogLineSplitter {
  readonly #tty: boolean;
  readonly #timestamps: boolean;
  readonly #maxLines: number;
  readonly #maxBytes: number;
  readonly #maxLineBytes: number;
  readonly #pending = new Map<StreamName, PendingLine>();
  #order = 0;
  #lineCount = 0;
  #byteCount = 0;
  #truncated = false;
  #incomplete = false;
  #out: LogLine[] = [];

  constructor(options: LogLineOptions) {
    this.#tty = options.tty;
    this.#timestamps = options.timestamps;
    this.#maxLines = options.maxLines ?? Number.POSITIVE_INFINITY;
    this.#maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    this.#maxLineBytes = Math.max(4, options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
  }

  /** True once a cap was hit; further input is ignored. */
  get done(): boolean {
    return this.#truncated;
  }

  /** Counts so far (final after {@link LogLineSplitter.end}). */
  summary(): LogSummary {
    return {
      lineCount: this.#lineCount,
      byteCount: this.#byteCount,
      truncated: this.#truncated,
      incomplete: this.#incomplete,
    };
  }

  /** Consumes one frame and returns the lines it completed. */
  push(frame: DemuxedFrame): LogLine[] {
    if (this.#truncated) return [];
    if (frame.incomplete === true) this.#incomplete = true;
    const state = this.#state(frame.stream);
    let payload = frame.payload;
    let entryTimestamp: string | null = null;
    const perEntryTimestamps = this.#timestamps && !this.#tty;
    if (perEntryTimestamps) {
      const split = splitTimestamp(payload);
      entryTimestamp = split.timestamp;
      payload = split.rest;
      if (!state.open) {
        state.timestamp = entryTimestamp;
        state.timestampKnown = true;
      }
    }
    let start = 0;
    while (!this.#truncated && start < payload.length) {
      const nl = payload.indexOf(NEWLINE, start);
      if (nl === -1) {
        this.#append(state, payload.subarray(start));
        break;
      }
      this.#append(state, payload.subarray(start, nl));
      this.#finishLine(state, true);
      if (perEntryTimestamps) {
        // Further lines inside the same entry belong to that entry's timestamp.
        state.timestamp = entryTimestamp;
        state.timestampKnown = true;
      }
      start = nl + 1;
    }
    if (!this.#truncated && this.#lineCount >= this.#maxLines) {
      // The line cap is full: any output still held means something was cut off.
      for (const pending of this.#pending.values()) {
        if (pending.length > 0) this.#truncated = true;
      }
    }
    return this.#take();
  }

  /** Signals the end of input: flushes partial lines, oldest first. */
  end(): LogLine[] {
    const open = [...this.#pending.values()]
      .filter((state) => state.open)
      .sort((a, b) => a.order - b.order);
    for (const state of open) {
      if (this.#truncated) break;
      this.#finishLine(state, false);
    }
    return this.#take();
  }

  #take(): LogLine[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }

  #state(stream: StreamName): PendingLine {
    let state = this.#pending.get(stream);
    if (state === undefined) {
      state = {
        stream,
        parts: [],
        length: 0,
        open: false,
        timestampKnown: false,
        timestamp: null,
        order: 0,
      };
      this.#pending.set(stream, state);
    }
    return state;
  }

  #append(state: PendingLine, bytes: Buffer): void {
    if (!state.open) {
      state.open = true;
      state.order = this.#order++;
    }
    if (bytes.length === 0) return;
    state.parts.push(bytes);
    state.length += bytes.length;
    while (!this.#truncated && state.length > this.#maxLineBytes) {
      const all = Buffer.concat(state.parts, state.length);
      const cut = utf8Cut(all, this.#maxLineBytes);
      const rest = all.subarray(cut);
      state.parts = [rest];
      state.length = rest.length;
      this.#emit(state, all.subarray(0, cut));
    }
  }

  #finishLine(state: PendingLine, terminated: boolean): void {
    let bytes =
      state.parts.length === 1 && state.parts[0] !== undefined
        ? state.parts[0]
        : Buffer.concat(state.parts, state.length);
    // Only a "\r" directly before the "\n" belongs to the terminator.
    if (terminated && bytes[bytes.length - 1] === CARRIAGE_RETURN) {
      bytes = bytes.subarray(0, bytes.length - 1);
    }
    this.#emit(state, bytes);
    state.parts = [];
    state.length = 0;
    state.open = false;
    state.timestampKnown = false;
    state.timestamp = null;
  }

  #emit(state: PendingLine, raw: Buffer): void {
    if (this.#truncated) return;
    let bytes = raw;
    if (this.#timestamps && !state.timestampKnown) {
      const split = splitTimestamp(bytes);
      state.timestamp = split.timestamp;
      state.timestampKnown = true;
      bytes = split.rest;
    }
    if (this.#lineCount >= this.#maxLines || this.#byteCount + bytes.length > this.#maxBytes) {
      this.#truncated = true;
      return;
    }
    this.#lineCount++;
    this.#byteCount += bytes.length;
    this.#out.push({
      stream: state.stream,
      timestamp: state.timestamp,
      message: bytes.toString('utf8'),
    });
  }
}

/**
 * Splits frames into lines. The generator's return value is the {@link LogSummary};
 * when a cap is reached it stops pulling frames (closing the source) and returns
 * with `truncated: true`.
 */
export async function* splitLogLines(
  frames: AsyncIterable<DemuxedFrame>,
  options: LogLineOptions,
): AsyncGenerator<LogLine, LogSummary, undefined> {
  const splitter = new LogLineSplitter(options);
  for await (const frame of frames) {
    yield* splitter.push(frame);
    if (splitter.done) return splitter.summary();
  }
  yield* splitter.end();
  return splitter.summary();
}

/**
 * Decodes a logs/attach response body into lines: demultiplexes unless
 * `options.tty`, then splits lines as {@link splitLogLines} does.
 */
export function decodeLogStream(
  chunks: AsyncIterable<Uint8Array>,
  options: LogLineOptions & DemuxOptions,
): AsyncGenerator<LogLine, LogSummary, undefined> {
  return splitLogLines(options.tty ? ttyFrames(chunks) : demuxFrames(chunks, options), options);
}

/** Collects {@link decodeLogStream} into an array; use with a cap on large logs. */
export async function collectLogLines(
  chunks: AsyncIterable<Uint8Array>,
  options: LogLineOptions & DemuxOptions,
): Promise<DecodedLogs> {
  const lines: LogLine[] = [];
  const iterator = decodeLogStream(chunks, options);
  for (;;) {
    const next = await iterator.next();
    if (next.done === true) {
      return { lines, truncated: next.value.truncated, incomplete: next.value.incomplete };
    }
    lines.push(next.value);
  }
}

/** Synchronous {@link collectLogLines} for a whole response body held in memory. */
export function decodeLogBuffer(
  buf: Uint8Array,
  options: LogLineOptions & DemuxOptions,
): DecodedLogs {
  const frames = options.tty
    ? [
        {
          stream: 'stdout' as const,
          payload: toBuffer(buf),
        },
      ]
    : demuxBuffer(buf, options);
  const splitter = new LogLineSplitter(options);
  const lines: LogLine[] = [];
  for (const frame of frames) {
    lines.push(...splitter.push(frame));
    if (splitter.done) break;
  }
  lines.push(...splitter.end());
  const { truncated, incomplete } = splitter.summary();
  return { lines, truncated, incomplete };
}
