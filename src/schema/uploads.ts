import { Readable } from 'node:stream';

/**
 * Uploads (the `File` scalar) as byte streams, read as the engine reads the request
 * body rather than held in memory. Yoga hands over the File of its fetch ponyfill,
 * which can neither `slice` nor pass through `Readable.fromWeb`; its stream, like a
 * native one, is an async iterable of bytes, which `Readable.from` takes.
 *
 * @module
 */

function isByteIterable(value: unknown): value is AsyncIterable<Uint8Array> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** The bytes of an upload, chunk by chunk as they arrive. */
function uploadBytes(file: File): AsyncIterable<Uint8Array> {
  const stream: unknown = file.stream();
  if (!isByteIterable(stream)) throw new TypeError('the upload’s stream cannot be read');
  return stream;
}

/** A stream of the whole upload. */
export function uploadBody(file: File): Readable {
  return Readable.from(uploadBytes(file), { objectMode: false });
}

/**
 * Reads the first `count` bytes of an upload (for a look at them) and gives a
 * stream of the whole upload that sends on the rest as the engine reads it;
 * `discard` lets go of an upload that will not be sent.
 */
export async function peekUpload(
  file: File,
  count: number,
): Promise<{ head: Buffer; body: Readable; discard(): Promise<void> }> {
  const chunks = uploadBytes(file)[Symbol.asyncIterator]();
  const read: Buffer[] = [];
  let size = 0;
  let ended = false;
  while (size < count) {
    const next = await chunks.next();
    if (next.done === true) {
      ended = true;
      break;
    }
    read.push(Buffer.from(next.value));
    size += next.value.byteLength;
  }
  const start = Buffer.concat(read);
  async function* replay(): AsyncGenerator<Uint8Array> {
    if (start.length > 0) yield start;
    if (ended) return;
    for (let next = await chunks.next(); next.done !== true; next = await chunks.next()) {
      yield next.value;
    }
  }
  return {
    head: start.subarray(0, count),
    body: Readable.from(replay(), { objectMode: false }),
    async discard() {
      if (!ended) await chunks.return?.();
    },
  };
}
