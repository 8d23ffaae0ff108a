// A TCP proxy in front of the private engine's unix socket whose behaviour tests switch:
// pass through, delay the engine's answers, refuse new connections, cut open ones, swap
// the events of a live event stream two by two, garble the body of an answer.
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { inject } from 'vitest';
import { dockerSocketPath } from './engine.ts';
import { Changes } from './wait-for.ts';

export type FaultMode =
  | { readonly kind: 'pass' }
  /** Holds every chunk the engine sends for `ms` before forwarding it. */
  | { readonly kind: 'delay'; readonly ms: number }
  /** Accepts new connections and closes them at once, before any byte. */
  | { readonly kind: 'refuse' }
  /** Closes a connection as soon as it sends a request line matching `pattern`; others pass. */
  | { readonly kind: 'drop'; readonly pattern: RegExp }
  /**
   * On live `GET /events` streams, sends every two events in swapped order, as the engine
   * does when it publishes the events of operations running at once: each event is one
   * chunk of the chunked answer, held until the next one has gone. Set between events.
   */
  | { readonly kind: 'swap-events' }
  /**
   * In the answer to a request whose line matches `pattern`, replaces the first byte of the
   * JSON body (`{` or `[`) with `!`: the answer arrives whole, every length kept, and cannot
   * be parsed. What a client then sees is what any unforeseen failure of the server shows.
   */
  | { readonly kind: 'garble'; readonly pattern: RegExp };

/** What the proxy saw of one client connection (a connection of the app's pool). */
export interface ProxyConnection {
  readonly id: number;
  /** Request lines ("GET /v1.41/containers/json?…") seen from the client, in order. */
  readonly requests: string[];
  /** Bytes of the engine's answers forwarded to the client. */
  answeredBytes: number;
  /** Whether a request was sent and no byte of its answer was forwarded yet. */
  awaitingAnswer: boolean;
  /** Chunked answers whose last chunk was forwarded (an event stream the engine ended). */
  answersEnded: number;
  /** Set when the connection ended; `byClient` when the client closed it first. */
  closed: { readonly byClient: boolean; readonly awaitingAnswer: boolean } | null;
}

export interface FaultProxy {
  /** `tcp://127.0.0.1:<port>`, for DOCKER_HOST. */
  readonly dockerHost: string;
  readonly port: number;
  /** Connections accepted so far, refused ones included. */
  readonly connectionsOpened: number;
  /** Every connection that reached the engine, oldest first. */
  readonly connections: readonly ProxyConnection[];
  setMode(mode: FaultMode): void;
  /** Destroys every open connection (both sides). */
  cutAll(): void;
  /** Destroys one connection (both sides), e.g. the one carrying the event stream. */
  cut(connection: ProxyConnection): void;
  /** Request lines seen so far on all connections, for {@link waitForRequest}'s `since`. */
  readonly requestsSeen: number;
  /**
   * Resolves with the connection of the first request line matching `pattern` among those
   * seen after the first `since` (default 0), once it is seen.
   */
  waitForRequest(
    pattern: RegExp,
    options?: { readonly since?: number; readonly timeoutMs?: number },
  ): Promise<ProxyConnection>;
  /** Resolves once `connection` has closed. */
  waitForClose(connection: ProxyConnection, timeoutMs?: number): Promise<void>;
  /** Resolves once the engine ended a chunked answer on `connection` (its last chunk forwarded). */
  waitForAnswerEnd(connection: ProxyConnection, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const REQUEST_LINE = /^(GET|POST|PUT|DELETE|HEAD) (\S+) HTTP\/1\.1\r$/gm;

/** Starts a proxy on 127.0.0.1:0 to the engine of this test run (inject('dockerHost')). */
export async function startFaultProxy(
  socketPath = dockerSocketPath(inject('dockerHost')),
): Promise<FaultProxy> {
  let mode: FaultMode = { kind: 'pass' };
  let opened = 0;
  const connections: ProxyConnection[] = [];
  const seen: { readonly connection: ProxyConnection; readonly line: string }[] = [];
  const open = new Set<Socket>();
  const cutters = new Map<ProxyConnection, () => void>();
  /** Per connection: sends what swap-events holds, when the mode changes. */
  const releasers = new Map<ProxyConnection, () => void>();
  const timers = new Set<NodeJS.Timeout>();
  /** Told whenever something a waiter may look at changes. */
  const changes = new Changes();
  const notify = () => changes.notify();

  const server = createServer((client) => {
    opened += 1;
    if (mode.kind === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    const record: ProxyConnection = {
      id: opened,
      requests: [],
      answeredBytes: 0,
      awaitingAnswer: false,
      answersEnded: 0,
      closed: null,
    };
    connections.push(record);
    const upstream = connect(socketPath);
    open.add(client);
    open.add(upstream);
    const end = (byClient: boolean) => {
      if (record.closed) return;
      record.closed = { byClient, awaitingAnswer: record.awaitingAnswer };
      open.delete(client);
      open.delete(upstream);
      client.destroy();
      upstream.destroy();
      notify();
    };
    cutters.set(record, () => end(false));
    client.on('close', () => end(true));
    upstream.on('close', () => end(false));
    client.on('error', () => end(true));
    upstream.on('error', () => end(false));

    /** Where the garble mode is in the answer it spoils: its headers, then its body. */
    let garbling: 'no' | 'headers' | 'body' = 'no';
    /** Spoils the first JSON byte of the body after the answer's headers, in place. */
    const garble = (chunk: Buffer) => {
      let from = 0;
      if (garbling === 'headers') {
        const headersEnd = chunk.indexOf('\r\n\r\n');
        if (headersEnd < 0) return;
        garbling = 'body';
        from = headersEnd + 4;
      }
      const brace = chunk.indexOf('{', from);
      const bracket = chunk.indexOf('[', from);
      const first = brace < 0 ? bracket : bracket < 0 ? brace : Math.min(brace, bracket);
      if (first < 0) return;
      chunk[first] = 0x21;
      garbling = 'no';
    };
    client.on('data', (chunk: Buffer) => {
      for (const match of chunk.toString('latin1').matchAll(REQUEST_LINE)) {
        record.requests.push(`${match[1]} ${match[2]}`);
        seen.push({ connection: record, line: `${match[1]} ${match[2]}` });
        record.awaitingAnswer = true;
        if (mode.kind === 'garble' && mode.pattern.test(`${match[1]} ${match[2]}`)) {
          garbling = 'headers';
        }
        if (mode.kind === 'drop' && mode.pattern.test(`${match[1]} ${match[2]}`)) {
          end(false);
          return;
        }
      }
      upstream.write(chunk);
      notify();
    });
    /** The swap-events state of this connection: bytes of an unfinished chunk, a held one. */
    const swap = { pending: Buffer.alloc(0), held: null as Buffer | null };
    const liveEvents = () => {
      const last = record.requests.at(-1) ?? '';
      return /^GET \/v[\d.]+\/events/.test(last) && !last.includes('until=');
    };
    releasers.set(record, () => {
      const held = Buffer.concat([swap.held ?? Buffer.alloc(0), swap.pending]);
      swap.held = null;
      swap.pending = Buffer.alloc(0);
      if (held.length > 0 && !record.closed) client.write(held);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (mode.kind === 'swap-events' && liveEvents()) {
        swap.pending = Buffer.concat([swap.pending, chunk]);
        for (;;) {
          const header = /^([0-9a-fA-F]+)\r\n/.exec(swap.pending.toString('latin1', 0, 20));
          if (!header?.[1]) break;
          const size = Number.parseInt(header[1], 16);
          const length = header[0].length + size + 2;
          if (size === 0 || swap.pending.length < length) break;
          const frame = swap.pending.subarray(0, length);
          swap.pending = swap.pending.subarray(length);
          if (swap.held === null) {
            swap.held = frame;
          } else {
            client.write(frame);
            client.write(swap.held);
            record.answeredBytes += frame.length + swap.held.length;
            swap.held = null;
          }
        }
        notify();
        return;
      }
      if (garbling !== 'no') garble(chunk);
      const forward = () => {
        if (record.closed) return;
        record.answeredBytes += chunk.length;
        record.awaitingAnswer = false;
        if (chunk.toString('latin1', chunk.length - 5) === '0\r\n\r\n') record.answersEnded += 1;
        client.write(chunk);
        notify();
      };
      if (mode.kind !== 'delay') {
        forward();
        return;
      }
      // Later chunks wait at least as long, so the order is kept.
      const timer = setTimeout(() => {
        timers.delete(timer);
        forward();
      }, mode.ms);
      timers.add(timer);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  function waitFor<T>(find: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return changes.until(
      find,
      timeoutMs,
      () => new Error(`fault proxy: timed out after ${timeoutMs} ms waiting for ${what}`),
    );
  }

  return {
    dockerHost: `tcp://127.0.0.1:${port}`,
    port,
    get connectionsOpened() {
      return opened;
    },
    connections,
    setMode(next) {
      mode = next;
      if (next.kind !== 'swap-events') for (const release of releasers.values()) release();
    },
    cutAll() {
      for (const socket of open) socket.destroy();
    },
    cut(connection) {
      cutters.get(connection)?.();
    },
    get requestsSeen() {
      return seen.length;
    },
    waitForRequest(pattern, { since = 0, timeoutMs = 10_000 } = {}) {
      return waitFor(
        () => seen.slice(since).find(({ line }) => pattern.test(line))?.connection,
        `a request matching ${pattern}`,
        timeoutMs,
      );
    },
    async waitForClose(connection, timeoutMs = 10_000) {
      await waitFor(
        () => (connection.closed ? true : undefined),
        `connection ${connection.id} to close`,
        timeoutMs,
      );
    },
    async waitForAnswerEnd(connection, timeoutMs = 10_000) {
      await waitFor(
        () => (connection.answersEnded > 0 ? true : undefined),
        `the end of an answer on connection ${connection.id}`,
        timeoutMs,
      );
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
