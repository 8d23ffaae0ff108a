// One request pipeline: every guard refuses the same operation the same way over every
// transport (HTTP POST, GET with SSE, WebSocket), before the engine is called. A hostile client
// picks the transport with the weakest checks: there must be none.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Client, createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Logger } from '../../src/logger.ts';
import { operationHash } from '../../src/plugins/persisted-operations.ts';
import { randomToken, tokensEnv } from '../helpers/access.ts';
import type { GraphQLResponse } from '../helpers/app.ts';
import { auditRecordsIn } from '../helpers/audit-lines.ts';
import {
  clientWithToken,
  closeAfterConnectionInit,
  finalAnswer,
  webSocketUrl,
} from '../helpers/graphql-ws.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';
import { captureLog } from '../helpers/log-capture.ts';
import { waitFor } from '../helpers/wait-for.ts';

const TRANSPORTS = ['http', 'sse', 'websocket'] as const;
type Transport = (typeof TRANSPORTS)[number];

type Errors = NonNullable<GraphQLResponse<unknown>['errors']>;

interface Operation {
  readonly query?: string;
  readonly variables?: Readonly<Record<string, unknown>>;
  readonly extensions?: Readonly<Record<string, unknown>>;
}

/** The data of the first `data:` line of an event stream, or the JSON body. */
function firstResult(text: string, contentType: string): GraphQLResponse<unknown> {
  if (/json/.test(contentType)) return JSON.parse(text) as GraphQLResponse<unknown>;
  const line = text.split('\n').find((candidate) => candidate.startsWith('data:'));
  if (!line) throw new Error(`no data in the event stream: ${text}`);
  return JSON.parse(line.slice('data:'.length)) as GraphQLResponse<unknown>;
}

/** Sends `operation` over `transport` with `token`; the first result (or refusal) it answers. */
async function send(
  server: LiveServer,
  transport: Transport,
  operation: Operation,
  token: string,
): Promise<GraphQLResponse<unknown>> {
  const url = `${server.server.url}/graphql`;
  if (transport === 'websocket') {
    const client = clientWithToken(server.server.url, token);
    try {
      return await finalAnswer(client, { query: operation.query ?? '', ...operation });
    } finally {
      await client.dispose();
    }
  }
  if (transport === 'http') {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify(operation),
    });
    return firstResult(await response.text(), response.headers.get('content-type') ?? '');
  }
  const search = new URLSearchParams();
  if (operation.query !== undefined) search.set('query', operation.query);
  if (operation.variables) search.set('variables', JSON.stringify(operation.variables));
  if (operation.extensions) search.set('extensions', JSON.stringify(operation.extensions));
  const response = await fetch(`${url}?${search}`, {
    headers: {
      accept: 'text/event-stream',
      authorization: `Bearer ${token}`,
      'x-graphql-yoga-csrf': 'sse',
    },
  });
  const reader = response.body?.getReader();
  if (!reader) throw new Error('no body');
  // The first event is enough: a subscription would go on.
  let text = '';
  const decoder = new TextDecoder();
  for (;;) {
    const { done, value } = await reader.read();
    if (value) text += decoder.decode(value, { stream: true });
    if (done || /\n\n/.test(text) || /json/.test(response.headers.get('content-type') ?? '')) {
      if (!done) await reader.cancel();
      break;
    }
  }
  return firstResult(text, response.headers.get('content-type') ?? '');
}

/** The only error of a refusal, checked to carry no data. */
function refusal(answer: GraphQLResponse<unknown>) {
  expect(answer.data ?? null).toBeNull();
  expect(answer.errors).toHaveLength(1);
  const [error] = answer.errors as Errors;
  if (!error) throw new Error('no error');
  return { message: error.message, code: error.extensions?.code };
}

/** Sends `operation` over every transport, expecting the same refusal and no engine call. */
async function expectRefusedEverywhere(
  server: LiveServer,
  operation: Operation | ((transport: Transport) => Operation),
  token: string | ((transport: Transport) => string),
  expected: { code: string; message: string | RegExp },
): Promise<void> {
  for (const transport of TRANSPORTS) {
    const calls = await server.callsDuring(async () => {
      const answer = await send(
        server,
        transport,
        typeof operation === 'function' ? operation(transport) : operation,
        typeof token === 'function' ? token(transport) : token,
      );
      const { code, message } = refusal(answer);
      expect({ transport, code }).toEqual({ transport, code: expected.code });
      expect(message).toMatch(expected.message);
    });
    expect({ transport, calls }).toEqual({ transport, calls: [] });
  }
}

/** A live server over the test engine with `env` and an admin and a viewer token. */
async function serverWith(
  env: Record<string, string> = {},
  extraTokens: readonly { id: string; role: string; token: string }[] = [],
  logger?: Logger,
) {
  const admin = randomToken();
  const viewer = randomToken();
  const server = await startLiveServer(undefined, {
    env: {
      ...tokensEnv([
        { id: 'admin', role: 'admin', token: admin },
        { id: 'viewer', role: 'viewer', token: viewer },
        ...extraTokens,
      ]),
      DOCKERGRAPH_MAX_BODY_BYTES: '4096',
      ...env,
    },
    ...(logger ? { logger } : {}),
  });
  return { server, admin, viewer };
}

describe('every guard over every transport', () => {
  let server: LiveServer;
  let admin: string;

  beforeAll(async () => {
    ({ server, admin } = await serverWith({ DOCKERGRAPH_MAX_DEPTH: '5' }));
  });
  afterAll(() => server?.close());

  it('depth', async () => {
    await expectRefusedEverywhere(
      server,
      { query: '{ containers(first: 1) { edges { node { image { containers { name } } } } } }' },
      admin,
      {
        code: 'QUERY_TOO_COMPLEX',
        message:
          'the operation is too deep: its depth is 6, the limit is 5 (DOCKERGRAPH_MAX_DEPTH)',
      },
    );
  });

  it('cost', async () => {
    await expectRefusedEverywhere(
      server,
      { query: '{ containers(first: 1000) { edges { node { size { rootFsBytes } } } } }' },
      admin,
      {
        code: 'QUERY_TOO_COMPLEX',
        message:
          /^the operation is too costly: its cost is \d+, the limit is 10000 \(DOCKERGRAPH_MAX_COST\)$/,
      },
    );
  });

  it('cost of nodes(ids:), per ID', async () => {
    const ids = Array.from({ length: 10_001 }, (_, i) => `I${i}`);
    await expectRefusedEverywhere(
      // Over the body limit of this server otherwise: sent to one with the default limit.
      server,
      {
        query: 'query N($ids: [ID!]!) { nodes(ids: $ids) { id } }',
        variables: { ids: ids.slice(0, 300) },
      },
      admin,
      {
        code: 'BAD_USER_INPUT',
        message:
          'Invalid argument "ids": 300 IDs asked for, at most 100 may be fetched at once (DOCKERGRAPH_MAX_NODE_IDS)',
      },
    );
  });

  it('aliases', async () => {
    const aliases = Array.from({ length: 31 }, (_, i) => `a${i}: engine { name }`).join(' ');
    await expectRefusedEverywhere(server, { query: `{ ${aliases} }` }, admin, {
      code: 'TOO_MANY_ALIASES',
      message: 'the operation has too many aliases: 31, the limit is 30 (DOCKERGRAPH_MAX_ALIASES)',
    });
  });

  it('lexical tokens', async () => {
    // Short tokens, so that the document stays under the body limit.
    const query = `{${' a'.repeat(2_001)}}`;
    await expectRefusedEverywhere(server, { query }, admin, {
      code: 'TOO_MANY_TOKENS',
      message:
        'the operation is too long: it has more than 2000 tokens, the limit is 2000 (DOCKERGRAPH_MAX_TOKENS)',
    });
  });

  it('permissions', async () => {
    const viewerServer = await serverWith();
    try {
      await expectRefusedEverywhere(
        viewerServer.server,
        // A subscription without side effects, so that a GET (SSE) may carry it: a viewer
        // lacks "logs".
        { query: 'subscription { containerLogs(id: "dg-pipeline-missing") { __typename } }' },
        viewerServer.viewer,
        {
          code: 'FORBIDDEN',
          message:
            'token "viewer" (role "viewer") may not use Subscription.containerLogs: it needs the "logs" permission',
        },
      );
    } finally {
      await viewerServer.server.close();
    }
  });
});

describe('rate limit, registered operations and audit over every transport', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dg-pipeline-'));
  const registered = 'subscription Registered { events { type } }';
  const operationsFile = join(dir, 'operations.json');
  const auditFile = join(dir, 'audit.log');
  // A token per transport: each has a bucket of its own.
  const limited = Object.fromEntries(TRANSPORTS.map((t) => [t, randomToken()])) as Record<
    Transport,
    string
  >;
  let server: LiveServer;

  beforeAll(async () => {
    writeFileSync(operationsFile, JSON.stringify({ [operationHash(registered)]: registered }));
    ({ server } = await serverWith(
      {
        DOCKERGRAPH_RATE_LIMIT: '1',
        DOCKERGRAPH_RATE_LIMIT_WINDOW_SECONDS: '3600',
        DOCKERGRAPH_PERSISTED_OPERATIONS_FILE: operationsFile,
        DOCKERGRAPH_AUDIT: auditFile,
      },
      TRANSPORTS.map((t) => ({ id: `limited-${t}`, role: 'admin', token: limited[t] })),
    ));
  });

  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses the second operation of a token over its rate limit, and audits it', async () => {
    for (const transport of TRANSPORTS) {
      // The first operation of the hour is let through (a query: answered at once).
      const first = await send(server, transport, { query: '{ __typename }' }, limited[transport]);
      expect({ transport, errors: first.errors }).toEqual({ transport, errors: undefined });
    }
    await expectRefusedEverywhere(
      server,
      { query: 'subscription Watch { events { type } }' },
      (transport) => limited[transport],
      {
        code: 'RATE_LIMITED',
        message:
          /^rate limit exceeded: token "limited-(http|sse|websocket)" may run 1 operations per 3600 s/,
      },
    );
    const denied = auditRecordsIn(readFileSync(auditFile, 'utf8')).filter(
      (record) => record.operationName === 'Watch',
    );
    expect(
      denied.map((record) => [
        record.transport,
        record.tokenId,
        record.outcome,
        record.errors?.[0]?.code,
      ]),
    ).toEqual([
      ['http', 'limited-http', 'denied', 'RATE_LIMITED'],
      ['sse', 'limited-sse', 'denied', 'RATE_LIMITED'],
      ['websocket', 'limited-websocket', 'denied', 'RATE_LIMITED'],
    ]);
  });
});

/**
 * Opens a graphql-ws socket with `token`, acknowledged; resolves once the server said so.
 * A raw socket, not a graphql-ws client: the tests send frames no client would (oversized
 * subscribe messages) and read the exact close code.
 */
function acknowledgedSocket(serverUrl: string, token: string): Promise<WebSocket> {
  const socket = new WebSocket(webSocketUrl(serverUrl), 'graphql-transport-ws');
  return new Promise((resolve, reject) => {
    socket.once('open', () => {
      socket.send(
        JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }),
      );
    });
    socket.once('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string };
      if (message.type === 'connection_ack') resolve(socket);
      else reject(new Error(`the server answered ${String(data)}`));
    });
    socket.once('error', reject);
  });
}

/** How the server closed `socket`. */
function closed(socket: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
}

describe('registered operations over every transport', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dg-pipeline-'));
  const registered = '{ engine { name } }';
  const operationsFile = join(dir, 'operations.json');
  writeFileSync(operationsFile, JSON.stringify({ [operationHash(registered)]: registered }));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a document of its own from a non-admin: registered operations only', async () => {
    const persisted = await serverWith({ DOCKERGRAPH_PERSISTED_OPERATIONS_FILE: operationsFile });
    try {
      await expectRefusedEverywhere(
        persisted.server,
        { query: 'subscription Mine { events { type } }' },
        persisted.viewer,
        {
          code: 'PERSISTED_QUERY_ONLY',
          message: /^token "viewer" \(role "viewer"\) may run registered operations only/,
        },
      );
      await expectRefusedEverywhere(
        persisted.server,
        { extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } },
        persisted.viewer,
        { code: 'PERSISTED_QUERY_NOT_FOUND', message: /^no registered operation has the hash/ },
      );
    } finally {
      await persisted.server.close();
    }
  });
});

describe('live subscriptions per token', () => {
  it('holds one token to DOCKERGRAPH_MAX_SUBSCRIPTIONS_PER_TOKEN live subscriptions over every transport together, other tokens apart', async () => {
    const { server, admin, viewer } = await serverWith({
      DOCKERGRAPH_MAX_SUBSCRIPTIONS_PER_TOKEN: '2',
      DOCKERGRAPH_RATE_LIMIT: '0',
    });
    const operation = { query: 'subscription { events { kind } }' };
    const hub = server.server.events;
    const untilSubscribers = (count: number) =>
      waitFor(() => hub.subscriberCount === count, {
        timeoutMs: 10_000,
        what: `${count} subscribers (${hub.subscriberCount} now)`,
      });
    try {
      // One over WebSocket, one over SSE: the token's two. Each starts with its first read.
      const overWebSocket = server.iterateWithToken('websocket', admin, operation);
      void overWebSocket.next();
      const overSse = server.iterateWithToken('sse', admin, operation);
      void overSse.next();
      await untilSubscribers(2);
      await expectRefusedEverywhere(server, operation, admin, {
        code: 'TOO_MANY_SUBSCRIPTIONS',
        message:
          /^this token already has 2 live subscriptions, the most one token may have \(DOCKERGRAPH_MAX_SUBSCRIPTIONS_PER_TOKEN\)/,
      });
      expect(hub.subscriberCount).toBe(2);
      // Another token has places of its own.
      void server.iterateWithToken('websocket', viewer, operation).next();
      await untilSubscribers(3);
      // Once one of the token's ends, it may open another.
      await overSse.return?.();
      await untilSubscribers(2);
      void server.iterateWithToken('websocket', admin, operation).next();
      await untilSubscribers(3);
    } finally {
      await server.close();
    }
  });
  it('holds one token to DOCKERGRAPH_MAX_CONNECTIONS_PER_TOKEN open WebSocket connections, other tokens apart', async () => {
    const { server, admin, viewer } = await serverWith({
      DOCKERGRAPH_MAX_CONNECTIONS_PER_TOKEN: '2',
      DOCKERGRAPH_RATE_LIMIT: '0',
    });
    const clients: Client[] = [];
    /** An idle connection of `token`, resolved once acknowledged; it stays open until disposed. */
    const connect = (token: string) => {
      const client = createClient({
        url: webSocketUrl(server.server.url),
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: false,
        connectionParams: { authorization: `Bearer ${token}` },
        onNonLazyError: () => {},
      });
      clients.push(client);
      return new Promise<Client>((resolve, reject) => {
        client.on('connected', () => resolve(client));
        client.on('closed', (event) => reject(event));
      });
    };
    const refusal = (token: string) =>
      closeAfterConnectionInit(server.server.url, { authorization: `Bearer ${token}` });
    try {
      // Idle connections count: neither of these runs anything.
      const first = await connect(admin);
      await connect(admin);
      expect(await refusal(admin)).toEqual({
        code: 4403,
        reason:
          'this token already holds 2 connections, the most one token may hold (DOCKERGRAPH_MAX_CONNECTIONS_PER_TOKEN)',
      });
      // Another token has places of its own.
      await connect(viewer);
      // Once one of the token's closes, it may open another (the server sees the close
      // after the client does: the attempt is repeated until it is admitted).
      await first.dispose();
      await waitFor(
        () =>
          connect(admin).then(
            () => true,
            () => false,
          ),
        { timeoutMs: 10_000, what: 'a connection of the token admitted again' },
      );
    } finally {
      for (const client of clients) await client.dispose();
      await server.close();
    }
  });

  it('gives the place back of a subscription sent over HTTP without a stream type, answered 406', async () => {
    // The subscription runs before yoga finds that the client accepts no stream (JSON
    // only) and answers 406 without reading it: its place and hub subscriber must go.
    const { server, admin } = await serverWith({
      DOCKERGRAPH_MAX_SUBSCRIPTIONS_PER_TOKEN: '1',
      DOCKERGRAPH_RATE_LIMIT: '0',
    });
    const hub = server.server.events;
    try {
      for (const accept of ['application/json', 'application/graphql-response+json']) {
        const response = await fetch(`${server.server.url}/graphql`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept,
            authorization: `Bearer ${admin}`,
          },
          body: JSON.stringify({ query: 'subscription { events { kind } }' }),
        });
        await response.arrayBuffer();
        expect({ accept, status: response.status }).toEqual({ accept, status: 406 });
        await waitFor(() => hub.subscriberCount === 0, {
          timeoutMs: 10_000,
          what: `no hub subscriber left (${hub.subscriberCount} now)`,
        });
      }
      // The token's one place is free: a subscription over WebSocket is admitted.
      const answer = await send(
        server,
        'websocket',
        {
          query:
            'subscription { events(since: "2000-01-01T00:00:00Z", until: "2000-01-01T00:00:01Z") { kind } }',
        },
        admin,
      );
      expect(answer.errors ?? []).toEqual([]);
    } finally {
      await server.close();
    }
  });
  it('gives the places back of subscriptions sent in a batch, which is answered as one JSON', async () => {
    // A batch's answer is one document: its subscriptions are set up and never streamed.
    const { server, admin } = await serverWith({
      DOCKERGRAPH_MAX_SUBSCRIPTIONS_PER_TOKEN: '1',
      DOCKERGRAPH_RATE_LIMIT: '0',
      DOCKERGRAPH_BATCHING: '2',
    });
    const hub = server.server.events;
    try {
      for (const accept of ['application/json', 'text/event-stream']) {
        const response = await fetch(`${server.server.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept, authorization: `Bearer ${admin}` },
          body: JSON.stringify([
            { query: 'subscription { events { kind } }' },
            { query: '{ engine { version { apiVersion } } }' },
          ]),
        });
        const text = await response.text();
        if (accept === 'application/json') {
          const [subscription, query] = JSON.parse(text) as GraphQLResponse<unknown>[];
          expect(subscription?.errors?.[0]?.extensions?.code).toBe('BATCH_REFUSED');
          expect(query?.data).toEqual({ engine: { version: { apiVersion: '1.41' } } });
        }
        await waitFor(() => hub.subscriberCount === 0, {
          timeoutMs: 10_000,
          what: `no hub subscriber left after a batch accepting ${accept} (${hub.subscriberCount} now)`,
        });
      }
      const answer = await send(
        server,
        'websocket',
        {
          query:
            'subscription { events(since: "2000-01-01T00:00:00Z", until: "2000-01-01T00:00:01Z") { kind } }',
        },
        admin,
      );
      expect(answer.errors ?? []).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

describe('size', () => {
  it('refuses a body, a query string and a WebSocket message over DOCKERGRAPH_MAX_BODY_BYTES', async () => {
    const log = captureLog('debug');
    const { server, admin } = await serverWith({}, [], log.logger);
    try {
      const padding = 'x'.repeat(5_000);
      const operation = { query: '{ __typename }', variables: { padding } };
      const calls = await server.callsDuring(async () => {
        for (const transport of ['http', 'sse'] as const) {
          const answer = await send(server, transport, operation, admin);
          expect({ transport, ...refusal(answer) }).toEqual({
            transport,
            code: 'REQUEST_TOO_LARGE',
            message: expect.stringMatching(
              /^the request body (is \d+ bytes, more than|is larger than) the limit of 4096 bytes \(DOCKERGRAPH_MAX_BODY_BYTES\)$/,
            ),
          });
        }
        const socket = await acknowledgedSocket(server.server.url, admin);
        const close = closed(socket);
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { ...operation } }));
        // 1009: message too big.
        expect((await close).code).toBe(1009);
      });
      // The client's doing: noted at debug level with its address, never as a server error.
      await log.waitFor(
        (entry) => entry.msg === 'WebSocket connection closed on its socket failing',
      );
      expect(log.entries.filter((entry) => entry.msg.startsWith('WebSocket'))).toEqual([
        expect.objectContaining({
          level: 'debug',
          error: expect.stringMatching(/max payload size exceeded/i),
          clientAddress: '127.0.0.1',
        }),
      ]);
      expect(calls).toEqual([]);
      // The server still answers.
      const fine = await send(server, 'websocket', { query: '{ __typename }' }, admin);
      expect(fine).toEqual({ data: { __typename: 'Query' } });
    } finally {
      await server.close();
    }
  });

  it('closes the socket of a 90 MiB subscribe message at its frame header (finding 7)', async () => {
    const { server, admin } = await serverWith({ DOCKERGRAPH_MAX_BODY_BYTES: '1048576' });
    try {
      const calls = await server.callsDuring(async () => {
        const socket = await acknowledgedSocket(server.server.url, admin);
        const close = closed(socket);
        const big = JSON.stringify({
          id: '1',
          type: 'subscribe',
          payload: { query: `subscription { events { type } } #${'x'.repeat(90 * 1_024 * 1_024)}` },
        });
        socket.send(big);
        expect((await close).code).toBe(1009);
      });
      expect(calls).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

describe('authentication', () => {
  it('refuses a missing or wrong token over every transport, before the engine', async () => {
    const { server } = await serverWith();
    try {
      const calls = await server.callsDuring(async () => {
        for (const token of ['', 'not-a-token']) {
          for (const transport of ['http', 'sse'] as const) {
            const answer = await send(server, transport, { query: '{ __typename }' }, token);
            expect({ transport, code: refusal(answer).code }).toEqual({
              transport,
              code: 'UNAUTHENTICATED',
            });
          }
          const client = clientWithToken(server.server.url, token);
          try {
            await expect(finalAnswer(client, { query: '{ __typename }' })).rejects.toMatchObject({
              code: 4403,
            });
          } finally {
            await client.dispose();
          }
        }
      });
      expect(calls).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
