// Recorded engine answers and the ways a stream may cut them into chunks, for
// the tests of the stream decoders.
import { readFileSync } from 'node:fs';

/** A recorded engine answer from test/fixtures (see its README for how they were captured). */
export function fixture(name: string): Buffer {
  return readFileSync(new URL(`../fixtures/${name}`, import.meta.url));
}

/** Deterministic PRNG (mulberry32) so "random" chunkings are reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function splitAt(buf: Buffer, cuts: number[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let prev = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    parts.push(new Uint8Array(buf.subarray(prev, cut)));
    prev = cut;
  }
  parts.push(new Uint8Array(buf.subarray(prev)));
  return parts;
}

export interface ChunkingOptions {
  /** Chunk sizes to cut at besides single bytes, e.g. [7]. */
  readonly sizes?: readonly number[];
  /** Each seeded random chunking makes from 1 to this many cuts. */
  readonly maxRandomCuts: number;
}

/**
 * Ways to cut a buffer into chunks: whole, byte by byte, every `sizes` bytes and
 * seeded random cuts.
 */
export function chunkings(buf: Buffer, options: ChunkingOptions): Array<[string, Uint8Array[]]> {
  const result: Array<[string, Uint8Array[]]> = [
    ['whole', [buf]],
    ['1-byte', [...buf].map((byte) => Uint8Array.of(byte))],
  ];
  for (const size of options.sizes ?? []) {
    const cuts = Array.from({ length: Math.floor(buf.length / size) }, (_, i) => (i + 1) * size);
    result.push([`${size}-byte`, splitAt(buf, cuts)]);
  }
  for (const seed of [1, 42, 2024]) {
    const random = prng(seed);
    const count = 1 + Math.floor(random() * options.maxRandomCuts);
    const cuts = Array.from({ length: count }, () => Math.floor(random() * buf.length));
    result.push([`random seed ${seed}`, splitAt(buf, cuts)]);
  }
  return result;
}

/** The chunks as a stream, as the engine client hands a body to a decoder. */
export async function* stream(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield chunk;
}
