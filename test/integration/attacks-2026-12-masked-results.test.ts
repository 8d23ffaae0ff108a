// A hostile client against the review of the masking and of the subscription places
// (src/plugins/use-masked-results.ts, `whenSubscriptionEnds`): what it could leave held on the
// server (a token's places, the `dockergraph_subscriptions_open` gauge, upload folders) and
// what it could read or have logged of an error that was not its own to see.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTar, EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.ts';
import { HOLD_MS } from '../helpers/held-reads.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';
import { captureLog } from '../helpers/log-capture.ts';
import { usePrivateTmpdir } from '../helpers/private-tmpdir.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** A graphql-ws connection spoken by hand, as a hostile client speaks it: its frames in order. */
interface RawConnection {
  readonly socket: WebSocket;
  /** Every message received, parsed. */
  readonly messages: { id?: string; type: string; payload?: unknown }[];
  /** Resolves with the close code once the socket closed, whoever closed it. */
  readonly closed: Promise<number>;
  send(message: Record<string, unknown>): void;
}

async function connect(serverUrl: string): Promise<RawConnection> {
  const socket = new WebSocket(
    `${serverUrl.replace(/^http/, 'ws')}/graphql`,
    'graphql-transport-ws',
  );
  const messages: RawConnection['messages'] = [];
  socket.on('message', (data) => messages.push(JSON.parse(String(data))));
  const closed = new Promise<number>((resolve) => socket.once('close', resolve));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ type: 'connection_init' }));
  await waitFor(() => messages.some((message) => message.type === 'connection_ack'), {
    timeoutMs: 10_000,
    what: 'connection_ack',
  });
  return {
    socket,
    messages,
    closed,
    send: (message) => socket.send(JSON.stringify(message)),
  };
}

/** The value of `dockergraph_subscriptions_open` for `transport` (no tokens: anyone may scrape). */
async function openSubscriptions(live: LiveServer, transport: string): Promise<number> {
  const text = await (await fetch(`${live.server.url}/metrics`)).text();
  const line = text
    .split('\n')
    .find((candidate) =>
      candidate.startsWith(`dockergraph_subscriptions_open{transport="${transport}"} `),
    );
  if (line === undefined) throw new Error(`no gauge for ${transport}`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('a graphql-ws operation id completed during its set-up and subscribed to again', () => {
  const fixtures = new EngineFixtures();
  let proxy: FaultProxy;
  let live: LiveServer;
  let containerId: string;

  beforeAll(async () => {
    proxy = await startFaultProxy();
    live = await startLiveServer(proxy.dockerHost, {
      // Without tokens every client counts as one token: two places for everyone.
      env: { DOCKERGRAPH_MAX_SUBSCRIPTIONS_PER_TOKEN: '2', DOCKERGRAPH_RATE_LIMIT: '0' },
    });
    containerId = await fixtures.createContainer(fixtures.name('reused-id'));
    await fixtures.startContainer(containerId);
  });

  afterAll(async () => {
    proxy?.setMode({ kind: 'pass' });
    await live?.close();
    await proxy?.close();
    await fixtures.cleanup();
  });

  it('holds no place once the connection is gone', async () => {
    // The engine client has negotiated its version before the proxy holds answers.
    const warm = await fetch(`${live.server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ engine { version { apiVersion } } }' }),
    });
    expect(await warm.json()).toEqual({ data: { engine: { version: { apiVersion: '1.41' } } } });
    const stats = {
      query: 'subscription S($ids: [String!]!) { containerStats(ids: $ids) { containerId } }',
      variables: { ids: [containerId] },
    };
    const connection = await connect(live.server.url);
    // The set-up of "a" waits for the engine's inspection of the container, held by the proxy…
    proxy.setMode({ kind: 'delay', ms: HOLD_MS });
    const since = proxy.requestsSeen;
    connection.send({ id: 'a', type: 'subscribe', payload: stats });
    await proxy.waitForRequest(/^GET \/v[\d.]+\/containers\/[^/]+\/json/, { since });
    // …when the client completes "a" and subscribes again with the same id. graphql-ws forgot
    // "a" at its "complete": both set-ups went on, the first one then took the id over, and the
    // second one's stream replaced it there, so that the first ran unseen and kept its place
    // (and its engine stream) after the connection was gone, until the server stopped.
    connection.send({ id: 'a', type: 'complete' });
    connection.send({ id: 'a', type: 'subscribe', payload: stats });
    await waitFor(
      () =>
        connection.socket.readyState === WebSocket.CLOSED ||
        connection.messages.some((message) => message.id === 'a'),
      { timeoutMs: 10_000, what: 'an answer about "a", or the connection closed' },
    );
    proxy.setMode({ kind: 'pass' });
    connection.socket.close();
    await connection.closed;
    await waitFor(async () => (await openSubscriptions(live, 'websocket')) === 0, {
      timeoutMs: 10_000,
      what: 'no WebSocket subscription counted open',
    });
    // Both places are free: two subscriptions of the token run at once again.
    const next = await connect(live.server.url);
    next.send({ id: '1', type: 'subscribe', payload: stats });
    next.send({ id: '2', type: 'subscribe', payload: stats });
    await waitFor(
      () =>
        ['1', '2'].every((id) =>
          next.messages.some((message) => message.id === id && message.type === 'next'),
        ),
      { timeoutMs: 10_000, what: 'a sample on both subscriptions' },
    );
    expect(JSON.stringify(next.messages)).not.toContain('TOO_MANY_SUBSCRIPTIONS');
    next.socket.close();
    await next.closed;
  });

  it('ends an operation completed during its set-up, its connection still open', async () => {
    const connection = await connect(live.server.url);
    proxy.setMode({ kind: 'delay', ms: HOLD_MS });
    const since = proxy.requestsSeen;
    connection.send({
      id: 'b',
      type: 'subscribe',
      payload: {
        query: 'subscription S($ids: [String!]!) { containerStats(ids: $ids) { containerId } }',
        variables: { ids: [containerId] },
      },
    });
    await proxy.waitForRequest(/^GET \/v[\d.]+\/containers\/[^/]+\/json/, { since });
    connection.send({ id: 'b', type: 'complete' });
    // Its stream is ended before the server says "complete": its place is free by then.
    await waitFor(
      () =>
        connection.messages.some((message) => message.id === 'b' && message.type === 'complete'),
      { timeoutMs: 10_000, what: '"complete" of b' },
    );
    proxy.setMode({ kind: 'pass' });
    expect(connection.messages.filter((message) => message.id === 'b')).toEqual([
      { id: 'b', type: 'complete' },
    ]);
    expect(await openSubscriptions(live, 'websocket')).toBe(0);
    expect(connection.socket.readyState).toBe(WebSocket.OPEN);
    connection.socket.close();
    await connection.closed;
  });
});

describe('uploads of a request answered as an event stream without a live subscription', () => {
  const fixtures = new EngineFixtures();
  // The server's temporary directory, private to this suite: what it leaves there is seen.
  const { uploadFolders } = usePrivateTmpdir('dg-masked-uploads-');
  let live: LiveServer;

  beforeAll(async () => {
    live = await startLiveServer();
  });

  afterAll(async () => {
    await live?.close();
    await fixtures.cleanup();
  });

  /** Sends `query` with one uploaded `file` (a megabyte of zeros) as `variable`, accepting an event stream. */
  async function uploadAsEventStream(
    query: string,
    variables: Record<string, unknown>,
    variable: string,
    file: Uint8Array<ArrayBuffer> = new Uint8Array(1_024 * 1_024),
  ) {
    const form = new FormData();
    form.set('operations', JSON.stringify({ query, variables }));
    form.set('map', JSON.stringify({ 0: [`variables.${variable}`] }));
    form.set('0', new Blob([file]), 'upload.tar');
    const response = await fetch(`${live.server.url}/graphql`, {
      method: 'POST',
      headers: { 'x-graphql-yoga-csrf': 'upload', accept: 'text/event-stream' },
      body: form,
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    return response.text();
  }

  it('removes them once answered', async () => {
    // A mutation: its one result is written as an event stream.
    const imported = await uploadAsEventStream(
      'mutation I($archive: File!) { importImage(archive: $archive) { __typename } }',
      { archive: null },
      'archive',
    );
    expect(imported).toContain('"importImage"');
    // A subscription that fails at its start (an invalid tag): a result, not a stream.
    const refused = await uploadAsEventStream(
      'subscription B($context: File, $input: BuildImageInput!) { buildImageProgress(context: $context, input: $input) { __typename } }',
      { context: null, input: { tags: ['Not A Tag!'] } },
      'context',
    );
    expect(refused).toContain('BAD_REQUEST');
    // Both were kept on disk for a subscription stream that never came (the answer's type
    // said "event stream"), a megabyte each, until the server stopped.
    await waitFor(() => uploadFolders().length === 0, {
      timeoutMs: 10_000,
      what: 'no upload folder left',
    });
  });

  it('keeps those of a live subscription until its stream ends', async () => {
    const before = uploadFolders();
    // The engine reads the uploaded context while the answer streams.
    const built = await uploadAsEventStream(
      'subscription B($context: File, $input: BuildImageInput!) { buildImageProgress(context: $context, input: $input) { kind errorCode } }',
      { context: null, input: { labels: [{ name: TEST_LABEL, value: fixtures.run }] } },
      'context',
      new Uint8Array(createTar({ Dockerfile: 'FROM dockergraph/busybox:latest\nRUN true\n' })),
    );
    expect(built).toContain('"kind":"DONE"');
    await waitFor(() => uploadFolders().length === before.length, {
      timeoutMs: 10_000,
      what: 'no upload folder left',
    });
  });
});

describe('what a client reads of an error that is not its own to see', () => {
  const log = captureLog('debug');
  let live: LiveServer;

  beforeAll(async () => {
    live = await startLiveServer(undefined, {
      logger: log.logger,
      env: { DOCKERGRAPH_BATCHING: '2', DOCKERGRAPH_RATE_LIMIT: '0' },
    });
  });

  afterAll(async () => {
    await live?.close();
  });

  it("answers a body that is not JSON without the parser's own words", async () => {
    for (const body of ['{', '[{"query": "{ __typename }"}, {']) {
      const response = await fetch(`${live.server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body,
      });
      // Yoga put JSON.parse's SyntaxError, name and message ("Expected property name or '}'
      // in JSON at position 1…", quoting the body), in the error's extensions.originalError,
      // which the masking let through with the error, a GraphQL one of yoga's making.
      expect({ body, status: response.status, answer: await response.json() }).toEqual({
        body,
        status: 400,
        answer: {
          errors: [
            { message: 'POST body sent invalid JSON.', extensions: { code: 'BAD_REQUEST' } },
          ],
        },
      });
    }
  });

  it("answers GET variables that are not JSON as the client's mistake, logging no error", async () => {
    const from = log.entries.length;
    const asked = [
      ['GET', 'query=%7B__typename%7D&variables=%7Bnot-json'],
      ['GET', 'query=%7B__typename%7D&extensions=%7Bnot-json'],
      ['POST', 'query=%7B__typename%7D&variables=%7Bnot-json'],
    ] as const;
    for (const [method, search] of asked) {
      const response = await fetch(
        `${live.server.url}/graphql${method === 'GET' ? `?${search}` : ''}`,
        method === 'GET'
          ? { headers: { accept: 'application/json' } }
          : {
              method,
              headers: {
                accept: 'application/json',
                'content-type': 'application/x-www-form-urlencoded',
                'x-graphql-yoga-csrf': 'form',
              },
              body: search,
            },
      );
      // Yoga's JSON.parse failed with a SyntaxError, no GraphQL error: the masking took it
      // for the server's fault, answered "Unexpected error." (200) and logged its stack at
      // error level, one line per request of any client.
      expect({ method, search, status: response.status, answer: await response.json() }).toEqual({
        method,
        search,
        status: 400,
        answer: {
          errors: [
            {
              message: 'the "variables" and "extensions" parameters must be JSON objects',
              extensions: { code: 'BAD_REQUEST' },
            },
          ],
        },
      });
    }
    expect(log.entries.slice(from).filter((entry) => entry.level === 'error')).toEqual([]);
  });

  it('refuses a subscription whose root field is skipped, logging no error', async () => {
    const from = log.entries.length;
    const skipped = [
      'subscription { events @skip(if: true) { kind } }',
      'subscription { ... @include(if: false) { events { kind } } }',
      'subscription { ...Root } fragment Root on Subscription { events @skip(if: true) { kind } }',
    ];
    for (const query of skipped) {
      for (const transport of ['sse', 'websocket'] as const) {
        const answers: unknown[] = [];
        try {
          for await (const answer of live.iterateWithToken(transport, 'none', { query })) {
            answers.push(answer);
          }
        } catch (errors) {
          // graphql-ws's client throws the errors of an "error" message.
          answers.push({ errors });
        }
        // graphql-tools' executor read the root field of an empty selection ("undefined is not
        // iterable"): answered "Unexpected error." and logged as the server's fault.
        expect({ query, transport, answers }).toEqual({
          query,
          transport,
          answers: [
            {
              errors: [
                expect.objectContaining({
                  message:
                    'a subscription must select its root field without @skip or @include: it has one field, always',
                  extensions: expect.objectContaining({ code: 'GRAPHQL_VALIDATION_FAILED' }),
                }),
              ],
            },
          ],
        });
      }
    }
    expect(log.entries.slice(from).filter((entry) => entry.level === 'error')).toEqual([]);
  });
});
