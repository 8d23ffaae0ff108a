/**
 * The floor of `bench/event-delivery.ts`: a plain Node server in a process of its own that
 * passes the engine's events to WebSocket subscribers, without GraphQL, security, logging or
 * a read model. One `GET /events` to the engine (undici on its socket, filtered
 * there by the label given, so that it reads only the bench's events); `ws` as dockergraph
 * uses it; the graphql-transport-ws messages a client needs and no more (`connection_init`
 * answered with `connection_ack`, each `subscribe` noted by its id, its query not read). Each
 * event is read from its JSON line, the `next` message's payload is written once and each
 * subscriber sent it under its own id, with the fields dockergraph's bench subscription
 * selects. dockergraph's delivery time and CPU above this floor are what GraphQL and its own
 * layers cost; the floor's own is what a fan-out from Node over these sockets costs on this
 * machine (most of it the kernel's: over loopback a send also runs the receiver's TCP work).
 *
 * Usage: `node event-floor.mjs <engine socket path> <label k=v> <subscribers>`; prints
 * `{"url":"ws://127.0.0.1:<port>"}` once listening and `{"subscribed":<subscribers>}` once
 * that many subscriptions were asked of it, and stops when its stdin closes.
 */
import { createServer } from 'node:http';
import { Pool } from 'undici';
import { type WebSocket, WebSocketServer } from 'ws';

const [socketPath, label, expectedText] = process.argv.slice(2);
if (!socketPath || !label || !expectedText) {
  throw new Error('usage: event-floor <socket path> <label k=v> <subscribers>');
}
const expected = Number(expectedText);
let subscribed = 0;
const engine = new Pool('http://localhost', { socketPath, connections: 1 });

/** Each subscriber's socket with the ids it subscribed under. */
const subscriptions = new Map<WebSocket, string[]>();

/** The event fields the bench's subscription selects, in its answer's shape. */
interface EngineEvent {
  readonly Action: string;
  readonly timeNano: number;
}

function deliver(line: string): void {
  const event = JSON.parse(line) as EngineEvent;
  // timeNano is beyond 2^53 as a number: its digits are taken from the line as they came.
  const timeNano = /"timeNano":(\d+)/.exec(line)?.[1] ?? String(event.timeNano);
  const payload = JSON.stringify({
    data: { events: { kind: 'EVENT', event: { action: event.Action, timeNano } } },
  });
  for (const [socket, ids] of subscriptions) {
    for (const id of ids)
      socket.send(`{"id":${JSON.stringify(id)},"type":"next","payload":${payload}}`);
  }
}

async function readEvents(): Promise<void> {
  const filters = JSON.stringify({
    label: [label],
    type: ['container'],
    event: ['create', 'start', 'die', 'destroy'],
  });
  const { statusCode, body } = await engine.request({
    method: 'GET',
    // Unversioned: the engine's own API version (the events' shape is the same in all).
    path: `/events?filters=${encodeURIComponent(filters)}`,
  });
  if (statusCode !== 200) throw new Error(`/events: ${statusCode} ${await body.text()}`);
  body.setEncoding('utf8');
  let pending = '';
  for await (const chunk of body as AsyncIterable<string>) {
    pending += chunk;
    let end = pending.indexOf('\n');
    while (end !== -1) {
      if (end > 0) deliver(pending.slice(0, end));
      pending = pending.slice(end + 1);
      end = pending.indexOf('\n');
    }
  }
}

const http = createServer();
const webSocketServer = new WebSocketServer({ server: http, path: '/graphql' });
webSocketServer.on('connection', (socket) => {
  socket.on('message', (data: Buffer) => {
    const message = JSON.parse(String(data)) as { type: string; id?: string };
    if (message.type === 'connection_init') {
      socket.send('{"type":"connection_ack"}');
    } else if (message.type === 'subscribe' && message.id !== undefined) {
      subscriptions.set(socket, [...(subscriptions.get(socket) ?? []), message.id]);
      subscribed += 1;
      if (subscribed === expected) process.stdout.write(`${JSON.stringify({ subscribed })}\n`);
    }
  });
  socket.on('close', () => subscriptions.delete(socket));
});
http.listen(0, '127.0.0.1', () => {
  const address = http.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  process.stdout.write(`${JSON.stringify({ url: `ws://127.0.0.1:${address.port}/graphql` })}\n`);
});
let stopping = false;
// A stream that fails while the bench runs ends the floor, so that the bench sees it exit
// (its clients then fail) instead of waiting for events that never come.
readEvents().catch((error: unknown) => {
  if (stopping) return;
  process.stderr.write(`the floor's /events stream failed: ${String(error)}\n`);
  process.exit(1);
});
process.stdin.resume();
process.stdin.on('end', () => {
  stopping = true;
  void engine.destroy();
  for (const socket of subscriptions.keys()) socket.terminate();
  http.close();
});
