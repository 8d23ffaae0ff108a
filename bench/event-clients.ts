/**
 * The client side of `bench/event-delivery.ts`, in a process of its own so that
 * the server's memory is measured alone: opens N graphql-ws subscriptions to
 * the `events` of one label (with the bench's token), prints "ready" once they
 * are asked for, then one JSON line of delivery latencies each time another
 * `events-per-client` events per client arrived (one line per round of the
 * bench). A line "close" on stdin closes every client, then the process exits:
 * the clients leave before the server stops, so neither side writes to a socket
 * the other closed.
 */
import { createInterface } from 'node:readline';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, subscribersText, label, perClientText, token] = process.argv.slice(2);
if (!url || !subscribersText || !label || !perClientText || !token) {
  throw new Error(
    'usage: event-clients.ts <ws-url> <subscribers> <label> <events-per-client> <token>',
  );
}
const subscribers = Number(subscribersText);
const perRound = subscribers * Number(perClientText);

const QUERY = `subscription BenchEvents($labels: [String!]) {
  events(filter: { types: [CONTAINER], actions: ["create", "start", "die", "destroy"], labels: $labels }) {
    kind event { action timeNano }
  }
}`;

let latenciesMs: number[] = [];
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
        if (!event) return;
        latenciesMs.push(Date.now() - Number(BigInt(event.timeNano) / 1_000_000n));
        if (latenciesMs.length === perRound) {
          process.stdout.write(`${JSON.stringify({ latenciesMs })}\n`);
          latenciesMs = [];
        }
      },
      error: (error) => {
        process.stderr.write(`subscription error: ${JSON.stringify(error)}\n`);
        process.exit(1);
      },
      complete: () => {},
    },
  );
}
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line !== 'close') return;
  void Promise.all(clients.map((client) => client.dispose())).then(() => process.exit(0));
});
process.stdout.write('ready\n');
