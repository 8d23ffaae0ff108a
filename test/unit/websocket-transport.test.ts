import { type ClientRequestArgs, createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo, createConnection, type Socket } from 'node:net';
import { buildSchema } from 'graphql';
import { GRAPHQL_TRANSPORT_WS_PROTOCOL } from 'graphql-ws';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { serveGraphqlWs, UNWAITED_BYTES } from '../../src/websocket-transport.ts';
import { waitFor } from '../helpers/wait-for.ts';

const schema = buildSchema(`
  type Query { ok: Boolean }
  type Subscription {
    "count messages, all ready at once"
    burst(count: Int!): Int
    "messages of size bytes, one per turn of the event loop, without end"
    endless(size: Int!): String
  }
`);

/** What the server side saw of one connection. */
interface Observed {
  /** System-call-level writes of the connection's TCP socket (each `_write`/`_writev`). */
  writes: number;
  /** The connection's TCP socket, once a client connected. */
  socket: Socket | null;
  /** `endless` messages taken from the stream so far. */
  pulled: number;
  /** The most bytes the socket had waiting in the process when `endless` was asked for more. */
  mostWaitingAtPull: number;
}

interface Running {
  readonly url: string;
  readonly observed: Observed;
  close(): Promise<void>;
}

const running: Running[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

/** The transport on a server of its own, with a schema that needs no engine. */
async function serve(): Promise<Running> {
  const observed: Observed = { writes: 0, socket: null, pulled: 0, mostWaitingAtPull: 0 };
  const roots = {
    subscription: {
      burst: async function* ({ count }: { count: number }) {
        for (let index = 0; index < count; index += 1) yield { burst: index };
      },
      endless: async function* ({ size }: { size: number }) {
        for (;;) {
          observed.pulled += 1;
          observed.mostWaitingAtPull = Math.max(
            observed.mostWaitingAtPull,
            observed.socket?.writableLength ?? 0,
          );
          yield { endless: String(observed.pulled).padEnd(size, '.') };
          await new Promise((resolve) => setImmediate(resolve));
        }
      },
    },
  };
  const http: Server = createServer();
  const webSocketServer = new WebSocketServer({ noServer: true });
  http.on('upgrade', (request: IncomingMessage, socket, head) => {
    webSocketServer.handleUpgrade(request, socket, head, (client) => {
      webSocketServer.emit('connection', client, request);
    });
  });
  webSocketServer.on('connection', (_client: WebSocket, request: IncomingMessage) => {
    // Counted where the socket hands its bytes to the system.
    const socket = request.socket;
    observed.socket = socket;
    const write = socket._write.bind(socket);
    socket._write = (chunk, encoding, callback) => {
      observed.writes += 1;
      write(chunk, encoding, callback);
    };
    const writev = socket._writev?.bind(socket);
    if (writev) {
      socket._writev = (chunks, callback) => {
        observed.writes += 1;
        writev(chunks, callback);
      };
    }
  });
  const transport = serveGraphqlWs({ schema, roots }, webSocketServer, {
    keepAliveMs: 0,
    onInternalError: (error) => {
      throw error;
    },
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  const server: Running = {
    url: `ws://127.0.0.1:${port}/graphql`,
    observed,
    async close() {
      await transport.dispose();
      await new Promise((resolve) => http.close(resolve));
    },
  };
  running.push(server);
  return server;
}

/** A message the server sent, as the tests' subscriptions shape it. */
interface Received {
  readonly type: string;
  readonly id?: string;
  readonly payload?: { readonly data?: { readonly burst?: number; readonly endless?: string } };
}

/** A graphql-ws client on a TCP socket the test holds, to stop and resume its reading. */
async function connect(url: string): Promise<{
  readonly socket: Socket;
  readonly messages: Received[];
  send(message: object): void;
  untilMessages(count: number): Promise<void>;
}> {
  let socket: Socket | null = null;
  const client = new WebSocket(url, GRAPHQL_TRANSPORT_WS_PROTOCOL, {
    // The options ws passes carry the URL's host and port.
    createConnection: (options: ClientRequestArgs) => {
      socket = createConnection({ host: options.host ?? '127.0.0.1', port: Number(options.port) });
      return socket;
    },
  });
  const messages: Received[] = [];
  client.on('message', (data) => messages.push(JSON.parse(String(data))));
  await new Promise((resolve, reject) => {
    client.once('open', resolve);
    client.once('error', reject);
  });
  const send = (message: object) => client.send(JSON.stringify(message));
  const untilMessages = (count: number) =>
    waitFor(() => messages.length >= count, {
      timeoutMs: 30_000,
      intervalMs: 10,
      what: `${count} messages (${messages.length} so far)`,
    }).then(() => undefined);
  send({ type: 'connection_init' });
  await untilMessages(1);
  expect(messages.shift()).toEqual({ type: 'connection_ack' });
  if (!socket) throw new Error('the client made no socket');
  return { socket, messages, send, untilMessages };
}

describe('graphql-ws transport', () => {
  it('writes the results a subscription has ready in one turn to the socket at once, each a message of its own, in order', async () => {
    const server = await serve();
    const client = await connect(server.url);
    const writesBefore = server.observed.writes;
    client.send({
      id: 'burst',
      type: 'subscribe',
      payload: { query: 'subscription { burst(count: 20) }' },
    });
    await client.untilMessages(21);
    expect(client.messages).toEqual([
      ...Array.from({ length: 20 }, (_, index) => ({
        id: 'burst',
        type: 'next',
        payload: { data: { burst: index } },
      })),
      { id: 'burst', type: 'complete' },
    ]);
    // One write for the twenty messages and the completion, where there was one for each.
    expect(server.observed.writes - writesBefore).toBe(1);
  });

  it('holds the stream of a client that stops reading once its socket has the bound waiting, then sends everything, in order, when it reads again', async () => {
    const server = await serve();
    const client = await connect(server.url);
    const size = 256 * 1024;
    client.socket.pause();
    client.send({
      id: 'endless',
      type: 'subscribe',
      payload: { query: `subscription { endless(size: ${size}) }` },
    });
    // The system's buffers fill first (megabytes over loopback), then the process's.
    await waitFor(() => (server.observed.socket?.writableLength ?? 0) >= UNWAITED_BYTES, {
      timeoutMs: 30_000,
      intervalMs: 10,
      what: 'the server to have the bound waiting for the client',
    });
    const pulledWhenFull = server.observed.pulled;
    // The stream yields one message a turn: without the bound it would go on being read.
    for (let turn = 0; turn < 20; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    expect(server.observed.pulled).toBeLessThanOrEqual(pulledWhenFull + 1);
    // Never asked for more while more than the bound and one message were waiting.
    expect(server.observed.mostWaitingAtPull).toBeLessThan(UNWAITED_BYTES + size + 64);
    client.socket.resume();
    await client.untilMessages(pulledWhenFull + 5);
    client.send({ id: 'endless', type: 'complete' });
    const received = client.messages
      .slice(0, pulledWhenFull + 5)
      .map((message) => Number.parseInt(message.payload?.data?.endless ?? '', 10));
    expect(received).toEqual(Array.from({ length: pulledWhenFull + 5 }, (_, index) => index + 1));
  });

  it('drops on dispose, after a second, the connection of a client that stopped reading and so never answers the close', async () => {
    const server = await serve();
    const client = await connect(server.url);
    client.socket.pause();
    client.send({
      id: 'endless',
      type: 'subscribe',
      payload: { query: 'subscription { endless(size: 65536) }' },
    });
    await waitFor(() => (server.observed.socket?.writableLength ?? 0) >= UNWAITED_BYTES, {
      timeoutMs: 30_000,
      intervalMs: 10,
      what: 'the server to have the bound waiting for the client',
    });
    // ws waits 30 s for the client's close frame before it drops the socket: the stop of the
    // server (and this test) would wait as long.
    running.splice(running.indexOf(server), 1);
    await server.close();
    expect(server.observed.socket?.destroyed).toBe(true);
  });
});
