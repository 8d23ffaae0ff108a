import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import {
  CloseCode,
  type Context,
  handleProtocols,
  makeServer,
  type ServerOptions,
  type SubscribePayload,
} from 'graphql-ws';
import { WebSocket, type WebSocketServer } from 'ws';

/** What graphql-ws's hooks find in `context.extra` over this transport. */
export type WebSocketExtra = {
  readonly socket: WebSocket;
  /** The upgrade request; its `socket` is the connection's TCP socket. */
  readonly request: IncomingMessage;
};

/**
 * Bytes a connection may have waiting to be written while `send` still answers at once.
 * graphql-ws awaits `send` before it takes a subscription's next result: answering at
 * once lets the results of several events a subscriber was woken for leave in one write
 * (see {@link corkForThisTurn}); past this, `send` waits for the client, so a client that
 * does not read holds its subscription's stream, whose bounded queue then tells it that
 * it fell behind, instead of the server buffering for it without end.
 */
export const UNWAITED_BYTES = 64 * 1024;

/** Message of the close frame sent when the server fails on a connection: no detail leaves. */
const INTERNAL_ERROR_REASON = 'Internal server error';

/**
 * Holds the socket's writes until the promise reactions of the current turn of the event
 * loop have run, then writes them with one system call. A process.nextTick queued from a
 * promise reaction runs once the reaction queue is empty, so every message sent to this
 * connection meanwhile goes out together (Node's own HTTP responses cork the same way).
 * Each write is a system call that, over loopback, also runs the receiving side's TCP
 * work: with a thousand subscribers it was half of the server's CPU time per event.
 */
function corkForThisTurn(socket: Socket): void {
  if (socket.writableCorked > 0) return;
  socket.cork();
  process.nextTick(() => socket.uncork());
}

/** What graphql-ws is handed in place of an operation whose client completed its set-up. */
function emptyStream(): AsyncIterable<never> {
  return {
    [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true, value: undefined }) }),
  };
}

/**
 * Holds the id of each operation while it is set up, and ends it if its client completed
 * it meanwhile. graphql-ws forgets an operation completed during its set-up (its entry is
 * still empty: nothing to end) and frees its id, so a client could subscribe with the id
 * again: both set-ups went on, the first one then took the id over, and the second one's
 * stream replaced it there (or removed it, when it ended), so that a stream nobody can end
 * ran on unseen, holding its token's place (DOCKERGRAPH_MAX_SUBSCRIPTIONS_PER_TOKEN), its
 * engine stream and the gauge, after its connection was gone, until the server stopped.
 * Here the id's entry holds a stand-in that notes a "complete" and keeps the id taken
 * (graphql-ws closes a subscribe that reuses it with 4409, as for any id in use) until the
 * set-up ends; an operation completed meanwhile is then ended at once, its client told
 * "complete".
 */
function endingCompletedSetUps<P extends Record<string, unknown> | undefined, E>(
  options: ServerOptions<P, E>,
): ServerOptions<P, E> {
  // By subscribe message: graphql-ws hands the same payload object to every hook of one.
  const completedSetUps = new WeakSet<SubscribePayload>();
  const hold = (context: Context<P, E>, id: string, payload: SubscribePayload) => {
    const standIn = {
      [Symbol.asyncIterator]: () => emptyStream()[Symbol.asyncIterator](),
      // graphql-ws's "complete" removes the id's entry, then calls this.
      return: async (): Promise<IteratorResult<never, undefined>> => {
        completedSetUps.add(payload);
        if (!(id in context.subscriptions)) context.subscriptions[id] = standIn;
        return { done: true, value: undefined };
      },
    };
    context.subscriptions[id] = standIn;
  };
  return {
    ...options,
    onSubscribe: (context, id, payload) => {
      hold(context, id, payload);
      return options.onSubscribe?.(context, id, payload);
    },
    onOperation: async (context, id, payload, args, result) => {
      const given = (await options.onOperation?.(context, id, payload, args, result)) ?? result;
      if (!completedSetUps.has(payload)) return given;
      if (Symbol.asyncIterator in given) {
        await (given as AsyncIterable<unknown>)[Symbol.asyncIterator]().return?.();
      }
      return emptyStream();
    },
  };
}

/** Options of {@link serveGraphqlWs} besides the protocol's. */
export interface GraphqlWsTransportOptions {
  /** Pings each client this often and closes it when no pong came before the next; 0: never. */
  readonly keepAliveMs?: number;
  /** Told of a failure on the server's side of a connection (which is then closed). */
  readonly onInternalError: (error: unknown) => void;
  /**
   * Told of a connection's socket failing: a frame that breaks the protocol or is too large
   * (ws closes with 1002 or 1009), or the network. The client's doing, not the server's: a
   * log at error level would let any client write one line per connection.
   */
  readonly onConnectionError?: (error: unknown, request: IncomingMessage) => void;
}

/**
 * Serves the graphql-ws protocol (graphql-ws's `makeServer`, unchanged) on the sockets of
 * `webSocketServer`. It does what graphql-ws's own `ws` adapter does (subprotocol choice,
 * keep-alive, close on failure) with these differences: a send answers at once while the
 * connection is not backed up (see {@link UNWAITED_BYTES}), and a turn's writes to one
 * connection are corked into one; close frames never carry an internal error's message;
 * an operation completed during its set-up keeps its id until it is ended
 * ({@link endingCompletedSetUps}).
 */
export function serveGraphqlWs<P extends Record<string, unknown> | undefined>(
  options: ServerOptions<P, WebSocketExtra>,
  webSocketServer: WebSocketServer,
  { keepAliveMs = 12_000, onInternalError, onConnectionError }: GraphqlWsTransportOptions,
): {
  /**
   * Closes every connection (1001, going away) and stops serving; a client that has not
   * answered the close within `graceMs` is dropped (ws itself would wait 30 s for a
   * client that stopped reading or whose network is gone, holding the server's stop).
   */
  dispose(graceMs?: number): Promise<void>;
} {
  const server = makeServer(endingCompletedSetUps(options));
  webSocketServer.options.handleProtocols = handleProtocols;
  const closeAll = (code: number, reason: string) => {
    for (const client of webSocketServer.clients) client.close(code, reason);
  };
  webSocketServer.once('error', (error) => {
    onInternalError(error);
    closeAll(CloseCode.InternalServerError, INTERNAL_ERROR_REASON);
  });
  webSocketServer.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    const tcp = request.socket;
    socket.once('error', (error) => {
      onConnectionError?.(error, request);
      socket.close(CloseCode.InternalServerError, INTERNAL_ERROR_REASON);
    });
    let pongWait: NodeJS.Timeout | null = null;
    const pingInterval =
      keepAliveMs > 0
        ? setInterval(() => {
            if (socket.readyState !== WebSocket.OPEN) return;
            pongWait = setTimeout(() => socket.terminate(), keepAliveMs);
            socket.once('pong', () => {
              if (pongWait) clearTimeout(pongWait);
              pongWait = null;
            });
            socket.ping();
          }, keepAliveMs)
        : null;
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) => {
          if (socket.readyState !== WebSocket.OPEN) return;
          corkForThisTurn(tcp);
          if (socket.bufferedAmount < UNWAITED_BYTES) {
            // A failed write errors the socket, which closes it (the handler above).
            socket.send(data);
            return;
          }
          return new Promise<void>((resolve, reject) => {
            socket.send(data, (error) => (error ? reject(error) : resolve()));
          });
        },
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) => {
          socket.on('message', async (data) => {
            try {
              await handle(String(data));
            } catch (error) {
              onInternalError(error);
              socket.close(CloseCode.InternalServerError, INTERNAL_ERROR_REASON);
            }
          });
        },
      },
      { socket, request },
    );
    socket.once('close', (code, reason) => {
      if (pongWait) clearTimeout(pongWait);
      if (pingInterval) clearInterval(pingInterval);
      void closed(code, String(reason));
    });
  });
  return {
    async dispose(graceMs = 1_000) {
      closeAll(1001, 'Going away');
      const drop = setTimeout(() => {
        for (const client of webSocketServer.clients) client.terminate();
      }, graceMs);
      webSocketServer.removeAllListeners();
      try {
        await new Promise<void>((resolve, reject) => {
          webSocketServer.close((error) => (error ? reject(error) : resolve()));
        });
      } finally {
        clearTimeout(drop);
      }
    },
  };
}
