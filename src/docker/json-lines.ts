/**
 * Decoding of the Docker Engine's streamed JSON responses: `GET /events`,
 * `POST /images/create` (pull and import progress), `POST /images/{name}/push`,
 * `POST /build` and `GET /containers/{id}/stats?stream=1`.
 *
 * On the wire these are a sequence of JSON objects, one per line. The events and
 * stats endpoints end each object with `\n` (Go's `json.Encoder`); the progress
 * endpoints (pull, push, import, build) end each with `\r\n` (moby's
 * `streamformatter`). HTTP chunk boundaries are unrelated to line boundaries.
 *
 * The progress endpoints answer HTTP 200 before doing the work, so failures arrive
 * in-band as an object with `error` and `errorDetail` fields; that is for the
 * caller to interpret. This module is pure: it never performs I/O.
 *
 * @module
 */

/** Options for {@link JsonLinesDecoder} and {@link parseJsonLines}. */
export interface JsonLinesOptions {
  /**
   * Longest accepted line in bytes. A peer that sends more without a newline
   * causes a {@link JsonLinesError} instead of unbounded buffering. Default 4 MiB;
   * real objects are far smaller (a stats sample is a few KiB).
   */
  readonly maxLineBytes?: number;
}

/** Options for the validating form of {@link parseJsonLines}. */
export interface JsonLinesGuardOptions<T> extends JsonLinesOptions {
  /** Type guard every parsed value must pass; a failure raises a {@link JsonLinesError}. */
  readonly guard: (value: unknown) => value is T;
}

/** A line of a JSON-lines stream that could not be accepted. */
export class JsonLinesError extends Error {
  /** 1-based line number within the stream, blank lines included. */
  readonly lineNumber: number;
  /** The start of the offending line, shortened for logs. */
  readonly excerpt: string;

  constructor(problem: string, lineNumber: number, excerpt: string) {
    super(`JSON-lines stream, line ${lineNumber}: ${problem}: ${excerpt}`);
    this.name = 'JsonLinesError';
    this.lineNumber = lineNumber;
    this.excerpt = excerpt;
  }
}

const DEFAULT_MAX_LINE_BYTES = 4 * 1024 * 1024;
const EXCERPT_CHARS = 120;
const NEWLINE = 0x0a;

function toBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk)
    ? chunk
    : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** A JSON rendering of the first characters of `bytes`, marked when shortened. */
function excerptOf(bytes: Buffer): string {
  const head = bytes.subarray(0, EXCERPT_CHARS * 4).toString('utf8');
  if (head.length <= EXCERPT_CHARS && bytes.length <= EXCERPT_CHARS * 4) {
    return JSON.stringify(head);
  }
  return `${JSON.stringify(head.slice(0, EXCERPT_CHARS))}… (${bytes.length} bytes)`;
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/**
 * Incremental, synchronous decoder. Feed chunks with {@link JsonLinesDecoder.push}
 * and call {@link JsonLinesDecoder.end} when the input ends; both return the values
 * completed so far, in order.
 */
export class JsonLinesDecoder {
  readonly #maxLineBytes: number;
  readonly #guard: ((value: unknown) => boolean) | undefined;
  #parts: Buffer[] = [];
  #length = 0;
  #lineNumber = 0;

  /** `options.guard`, when given, must accept every value (see {@link JsonLinesGuardOptions}). */
  constructor(options: JsonLinesOptions & { readonly guard?: (value: unknown) => boolean } = {}) {
    this.#maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.#guard = options.guard;
  }

  /** @throws {JsonLinesError} on a malformed or oversized line. */
  push(chunk: Uint8Array): unknown[] {
    const buf = toBuffer(chunk);
    const values: unknown[] = [];
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(NEWLINE, start);
      if (nl === -1) break;
      const piece = buf.subarray(start, nl);
      start = nl + 1;
      let line = piece;
      if (this.#length > 0) {
        this.#parts.push(piece);
        line = Buffer.concat(this.#parts, this.#length + piece.length);
        this.#parts = [];
        this.#length = 0;
      }
      this.#line(line, values);
    }
    if (start < buf.length) {
      const rest = buf.subarray(start);
      this.#parts.push(rest);
      this.#length += rest.length;
      if (this.#length > this.#maxLineBytes) {
        const partial = Buffer.concat(this.#parts, this.#length);
        throw new JsonLinesError(
          `no newline within ${this.#maxLineBytes} bytes (maxLineBytes)`,
          this.#lineNumber + 1,
          excerptOf(partial),
        );
      }
    }
    return values;
  }

  /**
   * Signals the end of input. A last object without a trailing newline is accepted.
   *
   * @throws {JsonLinesError} when that last line is malformed.
   */
  end(): unknown[] {
    const values: unknown[] = [];
    if (this.#length > 0) {
      const line = Buffer.concat(this.#parts, this.#length);
      this.#parts = [];
      this.#length = 0;
      this.#line(line, values);
    }
    return values;
  }

  #line(line: Buffer, values: unknown[]): void {
    this.#lineNumber++;
    if (line.length > this.#maxLineBytes) {
      throw new JsonLinesError(
        `line of ${line.length} bytes exceeds ${this.#maxLineBytes} bytes (maxLineBytes)`,
        this.#lineNumber,
        excerptOf(line),
      );
    }
    // JSON.parse accepts the "\r" of a "\r\n" terminator as insignificant whitespace.
    const text = line.toString('utf8');
    const content = line.at(-1) === 0x0d ? line.subarray(0, -1) : line;
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      const reason = error instanceof Error ? shorten(error.message, 160) : 'invalid JSON';
      throw new JsonLinesError(`invalid JSON (${reason})`, this.#lineNumber, excerptOf(content));
    }
    if (this.#guard !== undefined && !this.#guard(value)) {
      throw new JsonLinesError(
        'value does not have the expected shape',
        this.#lineNumber,
        excerptOf(content),
      );
    }
    values.push(value);
  }
}

/**
 * Parses a stream of newline-separated JSON values, yielding each as soon as its
 * line is complete. Blank lines are skipped.
 *
 * Without a guard values are `unknown` and the caller validates them. With
 * `options.guard` every value is checked and the generator is typed accordingly.
 *
 * @throws {JsonLinesError} on a malformed, oversized or (with a guard) rejected line.
 */
export function parseJsonLines(
  chunks: AsyncIterable<Uint8Array>,
  options?: JsonLinesOptions,
): AsyncGenerator<unknown, void, undefined>;
export function parseJsonLines<T>(
  chunks: AsyncIterable<Uint8Array>,
  options: JsonLinesGuardOptions<T>,
): AsyncGenerator<T, void, undefined>;
export async function* parseJsonLines(
  chunks: AsyncIterable<Uint8Array>,
  options: JsonLinesOptions & { readonly guard?: (value: unknown) => boolean } = {},
): AsyncGenerator<unknown, void, undefined> {
  const decoder = new JsonLinesDecoder(options);
  for await (const chunk of chunks) {
    yield* decoder.push(chunk);
  }
  yield* decoder.end();
}

/** Synchronous {@link parseJsonLines} (without guard) for a whole body held in memory. */
export function parseJsonLinesBuffer(buf: Uint8Array, options: JsonLinesOptions = {}): unknown[] {
  const decoder = new JsonLinesDecoder(options);
  return [...decoder.push(buf), ...decoder.end()];
}
