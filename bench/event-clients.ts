/**
 * The client side of `bench/event-delivery.ts`, in a process of its own so that
 * the server's memory is measured alone: opens N graphql-ws subscriptions to
 * the `events` of one label (with the bench's token), prints "ready" once they
 * are asked for, then one JSON line of delivery latencies each time another
 * `events-per-client` events per client arrived (one line per round of the
 * bench). A line "close" on stdin closes every client, then the process exits:
 * the clients leave before the server stops, so neither side writes to a socket
 * the other closed.
 *
 * Two kinds of client (the sixth argument):
 * - `raw` (the default): the graphql-ws protocol spoken over `ws` directly, each message's
 *   arrival time noted as its `message` event fires and the message read after the round.
 *   A thousand clients share this one process, which handles their messages one after
 *   another: the work done per message before its time is noted delays every later one, and
 *   the last client's wait grows with it. A subscriber in a browser of its own has no such
 *   queue, so the bench does as little as it can before noting the time.
 * - `graphql-ws`: graphql-ws's own client, the time noted in its `next` callback (after its
 *   parsing, validation and dispatch): what the same thousand clients see when each uses the
 *   library, queue included.
 */
import { createInterface } from 'node:readline';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [given, subscribersText, label, perClientText, token, kind = 'raw'] = process.argv.slice(2);
if (!given || !subscribersText || !label || !perClientText || !token) {
  throw new Error(
    'usage: event-clients.ts <ws-url> <subscribers> <label> <events-per-client> <token> [raw|graphql-ws]',
  );
}
const url: string = given;
if (kind !== 'raw' && kind !== 'graphql-ws') throw new Error(`unknown client kind "${kind}"`);
const subscribers = Number(subscribersText);
const perRound = subscribers * Number(perClientText);

const QUERY = `subscription BenchEvents($labels: [String!]) {
  events(filter: { types: [CONTAINER], actions: ["create", "start", "die", "destroy"], labels: $labels }) {
    kind event { action timeNano }
  }
}`;

/** Milliseconds from an event's engine timestamp to `arrivedAt`. */
function latencyOf(timeNano: string, arrivedAt: number): number {
  return arrivedAt - Number(BigInt(timeNano) / 1_000_000n);
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/** Opens the clients; each calls `onEvent` per event message. Answers a function closing them. */
function openGraphqlWsClients(onEvent: (latencyMs: number) => void): () => Promise<void> {
  const clients = Array.from({ length: subscribers }, () =>
    createClient({
      url,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: false,
      connectionParams: { authorization: `Bearer ${token}` },
    }),
  );
  for (const client of clients) {
    client.subscribe<{ events: { event: { timeNano: string } | null } }>(
      { query: QUERY, variables: { labels: [label] } },
      {
        next: (message) => {
          const event = message.data?.events.event;
          if (event) onEvent(latencyOf(event.timeNano, Date.now()));
        },
        error: (error) => fail(`subscription error: ${JSON.stringify(error)}`),
        complete: () => {},
      },
    );
  }
  return async () => {
    await Promise.all(clients.map((client) => client.dispose()));
  };
}

/** A `next` message of the subscription, as the server sends it. */
interface NextMessage {
  readonly type: string;
  readonly payload?: {
    readonly data?: { readonly events?: { event: { timeNano: string } | null } };
  };
}

/**
 * The same clients over `ws`: connection_init, subscribe once acknowledged, then each text
 * message's arrival time and bytes kept as they come. Event messages are told apart by a
 * substring (a RESYNC carries no event) and counted; the JSON is read when a round is
 * complete, away from the arrivals being timed.
 */
function openRawClients(onRound: (latenciesMs: number[]) => void): () => Promise<void> {
  let arrivals: number[] = [];
  let messages: Buffer[] = [];
  const sockets = Array.from({ length: subscribers }, () => {
    const socket = new WebSocket(url, 'graphql-transport-ws');
    let subscribed = false;
    socket.on('open', () => {
      socket.send(
        JSON.stringify({
          type: 'connection_init',
          payload: { authorization: `Bearer ${token}` },
        }),
      );
    });
    socket.on('message', (data: Buffer) => {
      if (subscribed) {
        const arrivedAt = Date.now();
        if (!data.includes('"timeNano"')) {
          // Not an event: a RESYNC is skipped as graphql-ws's client does; an error is not.
          const message = JSON.parse(String(data)) as NextMessage;
          if (message.type !== 'next') fail(`subscription ended: ${String(data)}`);
          return;
        }
        arrivals.push(arrivedAt);
        messages.push(data);
        if (messages.length === perRound) {
          const [times, texts] = [arrivals, messages];
          arrivals = [];
          messages = [];
          onRound(readRound(times, texts));
        }
        return;
      }
      const message = JSON.parse(String(data)) as { type: string };
      if (message.type !== 'connection_ack') fail(`expected connection_ack: ${String(data)}`);
      subscribed = true;
      socket.send(
        JSON.stringify({
          id: '1',
          type: 'subscribe',
          payload: { query: QUERY, variables: { labels: [label] } },
        }),
      );
    });
    socket.on('close', (code, reason) => {
      if (code !== 1000) fail(`connection closed: ${code} ${String(reason)}`);
    });
    socket.on('error', (error) => fail(`connection failed: ${error.message}`));
    return socket;
  });
  return async () => {
    await Promise.all(
      sockets.map(
        (socket) =>
          new Promise<void>((resolve) => {
            socket.removeAllListeners('close');
            socket.once('close', () => resolve());
            socket.close(1000);
          }),
      ),
    );
  };
}

/** The latencies of a round's messages, each from the time it arrived; fails on any other message. */
function readRound(arrivals: readonly number[], messages: readonly Buffer[]): number[] {
  return messages.map((data, index) => {
    const message = JSON.parse(String(data)) as NextMessage;
    const event = message.payload?.data?.events?.event;
    if (message.type !== 'next' || !event) fail(`expected an event: ${String(data)}`);
    return latencyOf(event.timeNano, arrivals[index] ?? Number.NaN);
  });
}

const writeRound = (latenciesMs: number[]) =>
  process.stdout.write(`${JSON.stringify({ latenciesMs })}\n`);
let close: () => Promise<void>;
if (kind === 'raw') {
  close = openRawClients(writeRound);
} else {
  let latenciesMs: number[] = [];
  close = openGraphqlWsClients((latencyMs) => {
    latenciesMs.push(latencyMs);
    if (latenciesMs.length === perRound) {
      writeRound(latenciesMs);
      latenciesMs = [];
    }
  });
}
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line !== 'close') return;
  void close().then(() => process.exit(0));
});
process.stdout.write('ready\n');
