/**
 * The client side of `bench/event-delivery.ts`, in a process of its own so that
 * the server's memory is measured alone: opens N graphql-ws subscriptions to
 * the `events` of one label, prints "ready" once the server acknowledged them
 * all, then prints one JSON line of delivery latencies once `expected` events
 * reached every client.
 */
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, subscribersText, label, expectedText] = process.argv.slice(2);
if (!url || !subscribersText || !label || !expectedText) {
  throw new Error('usage: event-clients.ts <ws-url> <subscribers> <label> <events-per-client>');
}
const subscribers = Number(subscribersText);
const expected = subscribers * Number(expectedText);

const QUERY = `subscription BenchEvents($labels: [String!]) {
  events(filter: { types: [CONTAINER], actions: ["create", "start", "die", "destroy"], labels: $labels }) {
    kind event { action timeNano }
  }
}`;

const latenciesMs: number[] = [];
const clients = Array.from({ length: subscribers }, () =>
  createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false }),
);
for (const client of clients) {
  client.subscribe<{ events: { event: { timeNano: string } | null } }>(
    { query: QUERY, variables: { labels: [label] } },
    {
      next: (message) => {
        const event = message.data?.events.event;
        if (!event) return;
        latenciesMs.push(Date.now() - Number(BigInt(event.timeNano) / 1_000_000n));
        if (latenciesMs.length === expected) {
          process.stdout.write(`${JSON.stringify({ latenciesMs })}\n`);
          void Promise.all(clients.map((each) => each.dispose())).then(() => process.exit(0));
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
process.stdout.write('ready\n');
