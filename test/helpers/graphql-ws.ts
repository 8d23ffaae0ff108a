// graphql-ws clients of a started server, and the answers a test waits for over them.
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { GraphQLResponse } from './app.ts';

/** The graphql-ws address of a server whose HTTP base URL is `serverUrl`. */
export function webSocketUrl(serverUrl: string): string {
  return `${serverUrl.replace(/^http/, 'ws')}/graphql`;
}

/**
 * A graphql-ws client of `serverUrl` that does not retry. `upgrade` is what its upgrade
 * request carries besides (headers, origin), as a browser page's or a proxy's would.
 */
export function clientOf(serverUrl: string, upgrade: WebSocket.ClientOptions = {}): Client {
  class UpgradeWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, upgrade);
    }
  }
  return createClient({
    url: webSocketUrl(serverUrl),
    webSocketImpl: UpgradeWebSocket,
    retryAttempts: 0,
  });
}

/** A graphql-ws client of `serverUrl` that does not retry, sending `token` in connection_init. */
export function clientWithToken(serverUrl: string, token: string): Client {
  return createClient({
    url: webSocketUrl(serverUrl),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { authorization: `Bearer ${token}` },
  });
}

/** One operation sent over graphql-ws. */
export interface WebSocketOperation {
  readonly query: string;
  readonly variables?: Readonly<Record<string, unknown>>;
  readonly extensions?: Readonly<Record<string, unknown>>;
}

type Errors = NonNullable<GraphQLResponse<unknown>['errors']>;

/**
 * Sends `operation` and resolves with the result `settle` picks: `first` stops
 * at the first message (a subscription keeps running otherwise), `last` waits
 * for the operation to complete. GraphQL errors at the start come as an `error`
 * message with a list, answered as the result's errors; anything else is the
 * socket's and rejects.
 */
function answerOf(
  client: Client,
  operation: WebSocketOperation,
  settle: 'first' | 'last',
): Promise<GraphQLResponse<unknown>> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let last: GraphQLResponse<unknown> = {};
    const finish = (answer: GraphQLResponse<unknown>) => {
      if (settled) return;
      settled = true;
      unsubscribe();
      resolve(answer);
    };
    const unsubscribe = client.subscribe(
      {
        query: operation.query,
        ...(operation.variables ? { variables: { ...operation.variables } } : {}),
        ...(operation.extensions ? { extensions: { ...operation.extensions } } : {}),
      },
      {
        next: (message) => {
          last = message as GraphQLResponse<unknown>;
          if (settle === 'first') finish(last);
        },
        error: (error) => {
          if (Array.isArray(error)) finish({ errors: error as Errors });
          else reject(error);
        },
        complete: () => finish(last),
      },
    );
  });
}

/** The first thing `operation` answers: its first message, or its errors; then it is stopped. */
export function firstAnswer(
  client: Client,
  operation: WebSocketOperation,
): Promise<GraphQLResponse<unknown>> {
  return answerOf(client, operation, 'first');
}

/** What `operation` answered once it completed (a query or mutation: its result), or its errors. */
export function finalAnswer(
  client: Client,
  operation: WebSocketOperation,
): Promise<GraphQLResponse<unknown>> {
  return answerOf(client, operation, 'last');
}

/**
 * Opens a raw graphql-ws socket to `serverUrl` (with the upgrade request's
 * `headers`), sends connection_init with `payload`, and resolves with how the
 * server closed it; an answer instead of a close rejects.
 */
export function closeAfterConnectionInit(
  serverUrl: string,
  payload: Readonly<Record<string, unknown>>,
  headers: Readonly<Record<string, string>> = {},
): Promise<{ code: number; reason: string }> {
  const socket = new WebSocket(webSocketUrl(serverUrl), 'graphql-transport-ws', {
    headers: { ...headers },
  });
  return new Promise((resolve, reject) => {
    socket.once('open', () => {
      socket.send(JSON.stringify({ type: 'connection_init', payload }));
    });
    socket.once('message', (data) => {
      reject(new Error(`the server answered ${String(data)}`));
      socket.close();
    });
    socket.once('error', reject);
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
}

/**
 * Opens a raw WebSocket to `serverUrl` with `options` (headers, origin), as a
 * browser page or a misdirected client would: the upgrade's status and body
 * (101 and nothing when it is accepted, and then closed).
 */
export function upgradeAnswer(
  serverUrl: string,
  options: WebSocket.ClientOptions,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(webSocketUrl(serverUrl), 'graphql-transport-ws', options);
    socket.once('open', () => {
      socket.close();
      resolve({ status: 101, body: '' });
    });
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (part: string) => {
        body += part;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    socket.once('error', reject);
  });
}
