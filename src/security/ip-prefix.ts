import { isIPv4, isIPv6 } from 'node:net';

/**
 * IPv4 and IPv6 addresses and prefixes ("10.200.0.0/16", "fd00:dead::/48") as
 * numbers, for the admission policy's address pools. Parsing is strict: what
 * Node does not read as an address (leading zeros, zones) is no address, so a
 * text the engine might read otherwise is refused rather than misread.
 *
 * @module
 */

export type IpFamily = 4 | 6;

/** One address. */
export interface IpAddress {
  readonly family: IpFamily;
  readonly value: bigint;
}

/** A prefix: the addresses whose first `length` bits are those of `network`. */
export interface IpPrefix {
  readonly family: IpFamily;
  /** The first address, host bits cleared. */
  readonly network: bigint;
  readonly length: number;
  /** As written, for messages. */
  readonly text: string;
}

const bitsOf = (family: IpFamily) => (family === 4 ? 32 : 128);

function ipv4Value(text: string): bigint {
  return text.split('.').reduce((value, part) => (value << 8n) | BigInt(Number(part)), 0n);
}

/** An address, or null for text that is not one. */
export function parseIpAddress(text: string): IpAddress | null {
  if (isIPv4(text)) return { family: 4, value: ipv4Value(text) };
  if (!isIPv6(text) || text.includes('%')) return null;
  let groups = text;
  // An embedded IPv4 address ("::ffff:1.2.3.4") stands for the last two groups.
  const dotted = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const value = ipv4Value(dotted[1]);
    groups = `${text.slice(0, dotted.index + 1)}${(value >> 16n).toString(16)}:${(value & 0xffffn).toString(16)}`;
  }
  const [head = '', rest] = groups.split('::');
  const parse = (part: string) =>
    part === '' ? [] : part.split(':').map((group) => BigInt(`0x${group}`));
  const front = parse(head);
  const back = rest === undefined ? [] : parse(rest);
  const missing = 8 - front.length - back.length;
  if (missing < 0 || (rest === undefined && missing !== 0)) return null;
  const all = [...front, ...Array.from({ length: missing }, () => 0n), ...back];
  return { family: 6, value: all.reduce((value, group) => (value << 16n) | group, 0n) };
}

/** A prefix "address/length", or null for text that is not one. */
export function parseIpPrefix(text: string): IpPrefix | null {
  const slash = text.lastIndexOf('/');
  if (slash === -1) return null;
  const address = parseIpAddress(text.slice(0, slash));
  const lengthText = text.slice(slash + 1);
  if (!address || !/^\d{1,3}$/.test(lengthText)) return null;
  const length = Number(lengthText);
  const bits = bitsOf(address.family);
  if (length > bits) return null;
  const host = (1n << BigInt(bits - length)) - 1n;
  return { family: address.family, network: address.value & ~host, length, text };
}

/** Whether `pool` holds `address`. */
export function prefixHolds(pool: IpPrefix, address: IpAddress): boolean {
  if (pool.family !== address.family) return false;
  const shift = BigInt(bitsOf(pool.family) - pool.length);
  return address.value >> shift === pool.network >> shift;
}

/** Whether `pool` holds every address of `prefix`. */
export function prefixCovers(pool: IpPrefix, prefix: IpPrefix): boolean {
  return (
    prefix.length >= pool.length &&
    prefixHolds(pool, { family: prefix.family, value: prefix.network })
  );
}
