// Abuse limits as a client meets them: depth, cost, aliases, tokens, body size, batching and the
// rate limit. Each refusal names its limit and setting, and reaches no engine.
import { request as httpRequest } from 'node:http';
import { print } from 'graphql';
import { afterAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/gql.ts';
import { tokensEnv } from '../helpers/access.ts';
import {
  createTestApp,
  type GraphQLResponse,
  type HttpAnswer,
  readAnswer,
  type TestApp,
  withoutEngineCalls,
} from '../helpers/app.ts';
import { finalAnswer } from '../helpers/graphql-ws.ts';
import { startLiveServer } from '../helpers/live-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const EngineVersionQuery = graphql(`
  query LimitsEngineVersion {
    engine { version { version } }
  }
`);

const ENDPOINT = 'http://dockergraph.test/graphql';
const engineVersion = print(EngineVersionQuery);

/** An answer to one operation, or to a batch of them. */
type Answer = HttpAnswer<GraphQLResponse<unknown> & GraphQLResponse<unknown>[]>;

const answerOf = (response: Response): Promise<Answer> => readAnswer(response);

/** POSTs `payload` (JSON-encoded unless a string or a form) to the app. */
function post(
  app: TestApp,
  payload: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return app.post(payload, { headers });
}

/** The one error of a refused request. */
function onlyError(answer: Answer) {
  expect(answer.body.errors).toHaveLength(1);
  const error = answer.body.errors?.[0];
  if (!error) throw new Error('no error');
  expect(answer.body.data ?? undefined).toBeUndefined();
  return error;
}

describe('depth and cost', () => {
  const app = createTestApp();
  afterAll(() => app.close());

  it('refuses a costly list before the engine: a thousand containers with sizes and stats', async () => {
    const answer = await withoutEngineCalls(app, () =>
      post(app, {
        query:
          '{ containers(first: 1000) { edges { node { name size { rootFsBytes } stats { cpuPercent } } } } }',
      }),
    );
    expect(answer.status).toBe(400);
    const error = onlyError(answer);
    expect(error.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(error.message).toBe(
      'the operation is too costly: its cost is 47001, the limit is 10000 (DOCKERGRAPH_MAX_COST)',
    );
  });

  it('refuses nested lists: the containers of fifty images, with stats', async () => {
    const answer = await withoutEngineCalls(app, () =>
      post(app, {
        query: '{ images(first: 50) { edges { node { containers { stats { cpuPercent } } } } } }',
      }),
    );
    expect(onlyError(answer).message).toMatch(/^the operation is too costly: its cost is \d+/);
  });

  it('costs a connection by its page size, read from the variables of each request', async () => {
    const small = createTestApp({ DOCKERGRAPH_MAX_COST: '100' });
    try {
      const query = 'query Page($n: Int) { containers(first: $n) { edges { node { name } } } }';
      const fits = await post(small, { query, variables: { n: 10 } });
      expect(fits.status).toBe(200);
      expect(fits.body.errors).toBeUndefined();
      // The same document again: a cached check of the first request must not let this through.
      const tooMany = await withoutEngineCalls(small, () =>
        post(small, { query, variables: { n: 100 } }),
      );
      expect(onlyError(tooMany).message).toBe(
        'the operation is too costly: its cost is 201, the limit is 100 (DOCKERGRAPH_MAX_COST)',
      );
    } finally {
      await small.close();
    }
  });

  it('refuses a deep query before the engine', async () => {
    let selection = 'name';
    for (let i = 0; i < 6; i++) selection = `image { containers { ${selection} } }`;
    const answer = await withoutEngineCalls(app, () =>
      post(app, { query: `{ containers(first: 1) { edges { node { ${selection} } } } }` }),
    );
    expect(answer.status).toBe(400);
    const error = onlyError(answer);
    expect(error.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(error.message).toBe(
      'the operation is too deep: its depth is 16, the limit is 12 (DOCKERGRAPH_MAX_DEPTH)',
    );
  });

  it('holds subscriptions to the limits too, before they start', async () => {
    const shallow = createTestApp({ DOCKERGRAPH_MAX_DEPTH: '2' });
    try {
      const answer = await withoutEngineCalls(shallow, () =>
        post(shallow, { query: 'subscription { events { event { actor { id } } } }' }),
      );
      expect(onlyError(answer).message).toBe(
        'the operation is too deep: its depth is 4, the limit is 2 (DOCKERGRAPH_MAX_DEPTH)',
      );
    } finally {
      await shallow.close();
    }
  });
});

describe('aliases, tokens and directives', () => {
  const app = createTestApp();
  afterAll(() => app.close());

  it('refuses an alias flood before the engine', async () => {
    const aliases = Array.from({ length: 31 }, (_, i) => `v${i}: engine { version { version } }`);
    const answer = await withoutEngineCalls(app, () =>
      post(app, { query: `{ ${aliases.join(' ')} }` }),
    );
    expect(answer.status).toBe(400);
    const error = onlyError(answer);
    expect(error.extensions?.code).toBe('TOO_MANY_ALIASES');
    expect(error.message).toBe(
      'the operation has too many aliases: 31, the limit is 30 (DOCKERGRAPH_MAX_ALIASES)',
    );
    // Thirty are fine.
    const fine = await post(app, { query: `{ ${aliases.slice(0, 30).join(' ')} }` });
    expect(fine.body.errors).toBeUndefined();
  });

  it('stops parsing a document longer than the token limit', async () => {
    const query = `{ ${'__typename '.repeat(2_000)}}`;
    const answer = await withoutEngineCalls(app, () => post(app, { query }));
    expect(answer.status).toBe(400);
    const error = onlyError(answer);
    expect(error.extensions?.code).toBe('TOO_MANY_TOKENS');
    expect(error.message).toBe(
      'the operation is too long: it has more than 2000 tokens, the limit is 2000 (DOCKERGRAPH_MAX_TOKENS)',
    );
  });

  it('refuses repeated directives (graphql-js validation), and a directive flood by its tokens', async () => {
    const repeated = await withoutEngineCalls(app, () =>
      post(app, { query: '{ engine @include(if: true) @include(if: true) { name } }' }),
    );
    expect(onlyError(repeated).message).toBe(
      'The directive "@include" can only be used once at this location.',
    );
    const flood = await withoutEngineCalls(app, () =>
      post(app, { query: `{ engine ${'@skip(if: false) '.repeat(400)}{ name } }` }),
    );
    expect(onlyError(flood).extensions?.code).toBe('TOO_MANY_TOKENS');
  });
});

/** A body source that never ends, counting what is read from it. */
function unendingBody() {
  const chunk = new TextEncoder().encode(' '.repeat(1_024));
  const state = { pulledBytes: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      state.pulledBytes += chunk.byteLength;
      controller.enqueue(chunk);
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

/**
 * POSTs to the Node server a body that never ends (chunked, or with a Content-Length it
 * never reaches), writing until the server answers; returns the answer and the bytes sent.
 */
function postUnending(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: GraphQLResponse<unknown>; sentBytes: number }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: 'POST', headers });
    const chunk = Buffer.alloc(16 * 1_024, ' ');
    let sentBytes = 0;
    let answered = false;
    const writeMore = () => {
      // Bounded, so that a server that reads everything fails the test instead of hanging it.
      while (!answered && sentBytes < 256 * 1_024 * 1_024) {
        sentBytes += chunk.length;
        if (!request.write(chunk)) {
          request.once('drain', writeMore);
          return;
        }
      }
      if (!answered) request.end();
    };
    request.on('response', (response) => {
      answered = true;
      const parts: Buffer[] = [];
      response.on('data', (part: Buffer) => parts.push(part));
      response.on('end', () => {
        request.destroy();
        resolve({
          status: response.statusCode ?? 0,
          body: JSON.parse(Buffer.concat(parts).toString('utf8')) as GraphQLResponse<unknown>,
          sentBytes,
        });
      });
    });
    // Once answered, the server closes the connection under the rest of the body.
    request.on('error', (error) => {
      if (!answered) reject(error);
    });
    writeMore();
  });
}

describe('request body size', () => {
  const env = { DOCKERGRAPH_MAX_BODY_BYTES: '2048', DOCKERGRAPH_MAX_UPLOAD_BYTES: '8192' };
  const app = createTestApp(env);
  afterAll(() => app.close());
  const padded = JSON.stringify({ query: engineVersion, variables: { pad: 'x'.repeat(5_000) } });

  it('answers 413 by Content-Length, naming the limit', async () => {
    const answer = await withoutEngineCalls(app, () =>
      post(app, padded, { 'content-length': String(Buffer.byteLength(padded)) }),
    );
    expect(answer.status).toBe(413);
    const error = onlyError(answer);
    expect(error.extensions?.code).toBe('REQUEST_TOO_LARGE');
    expect(error.message).toBe(
      `the request body is ${Buffer.byteLength(padded)} bytes, more than the limit of 2048 bytes (DOCKERGRAPH_MAX_BODY_BYTES)`,
    );
  });

  it('stops reading a streamed body without length at the limit (fetch handler)', async () => {
    const { stream, state } = unendingBody();
    const answer = await withoutEngineCalls(app, async () =>
      answerOf(
        await app.app.fetch(
          new Request(ENDPOINT, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: stream,
            duplex: 'half',
          } as RequestInit),
        ),
      ),
    );
    expect(answer.status).toBe(413);
    expect(onlyError(answer).message).toBe(
      'the request body is larger than the limit of 2048 bytes (DOCKERGRAPH_MAX_BODY_BYTES)',
    );
    await waitFor(() => state.cancelled, { timeoutMs: 5_000, what: 'the body to be cancelled' });
    expect(state.pulledBytes).toBeLessThan(64 * 1_024);
  });

  it('answers 413 through the Node server, by Content-Length and for a chunked body', async () => {
    const live = await startLiveServer(undefined, { env });
    try {
      const url = `${live.server.url}/graphql`;
      const calls = await live.callsDuring(async () => {
        // A declared length over the limit is refused before the body is read.
        const declared = await postUnending(url, {
          'content-type': 'application/json',
          'content-length': String(100 * 1_024 * 1_024),
        });
        expect(declared.status).toBe(413);
        expect(declared.body.errors?.[0]?.message).toBe(
          `the request body is ${100 * 1_024 * 1_024} bytes, more than the limit of 2048 bytes (DOCKERGRAPH_MAX_BODY_BYTES)`,
        );
        // Without a length (chunked), the server answers once 2 KiB have come.
        const chunked = await postUnending(url, { 'content-type': 'application/json' });
        expect(chunked.status).toBe(413);
        expect(chunked.body.errors?.[0]?.message).toBe(
          'the request body is larger than the limit of 2048 bytes (DOCKERGRAPH_MAX_BODY_BYTES)',
        );
        expect(chunked.sentBytes).toBeLessThan(32 * 1_024 * 1_024);
        // The server still answers.
        const fine = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ __typename }' }),
        });
        expect(await fine.json()).toEqual({ data: { __typename: 'Query' } });
      });
      expect(calls).toEqual([]);
    } finally {
      await live.close();
    }
  });

  it('holds multipart uploads to their own limit', async () => {
    const upload = async (bytes: number) => {
      const form = new FormData();
      // Files are accepted only for a field that takes one: loadImages, whose engine refuses
      // these zeros as an archive.
      form.set(
        'operations',
        JSON.stringify({
          query: 'mutation L($archive: File!) { loadImages(archive: $archive) { __typename } }',
          variables: { archive: null },
        }),
      );
      form.set('map', JSON.stringify({ 0: ['variables.archive'] }));
      form.set('0', new Blob([new Uint8Array(bytes)]), 'context.tar');
      return post(app, form, { 'x-graphql-yoga-csrf': 'upload' });
    };
    // Over the body limit, under the upload limit: accepted.
    const fits = await upload(4_000);
    expect(fits.status).toBe(200);
    expect(fits.body.errors).toBeUndefined();
    expect(fits.body.data).toEqual({ loadImages: { __typename: 'InvalidInputError' } });
    const tooLarge = await withoutEngineCalls(app, () => upload(10_000));
    expect(tooLarge.status).toBe(413);
    expect(onlyError(tooLarge).message).toMatch(
      /^the request body (is \d+ bytes, more than|is larger than) the limit of 8192 bytes \(DOCKERGRAPH_MAX_UPLOAD_BYTES\)$/,
    );
  });

  it('holds a GET query string to the body limit', async () => {
    const query = `{ __typename ${'__typename '.repeat(300)}}`;
    const answer = await withoutEngineCalls(app, async () =>
      answerOf(
        await app.app.fetch(`${ENDPOINT}?query=${encodeURIComponent(query)}`, {
          headers: { 'x-graphql-yoga-csrf': 'get' },
        }),
      ),
    );
    expect(answer.status).toBe(413);
    expect(onlyError(answer).message).toMatch(
      /limit of 2048 bytes \(DOCKERGRAPH_MAX_BODY_BYTES\)$/,
    );
  });
});

describe('batching', () => {
  it('refuses batched operations when batching is off (the default)', async () => {
    const app = createTestApp();
    try {
      const answer = await withoutEngineCalls(app, () =>
        post(app, [{ query: engineVersion }, { query: engineVersion }]),
      );
      expect(answer.status).toBe(400);
      const error = onlyError(answer);
      expect(error.extensions?.code).toBe('BATCH_REFUSED');
      expect(error.message).toBe(
        'batched requests (a list of 2 operations) are turned off: send one operation per request, or allow batches with DOCKERGRAPH_BATCHING=<most operations per request>',
      );
    } finally {
      await app.close();
    }
  });

  it('runs batches of at most DOCKERGRAPH_BATCHING operations', async () => {
    const app = createTestApp({ DOCKERGRAPH_BATCHING: '2' });
    try {
      const tooMany = await withoutEngineCalls(app, () =>
        post(app, [{ query: engineVersion }, { query: engineVersion }, { query: engineVersion }]),
      );
      expect(tooMany.status).toBe(413);
      expect(onlyError(tooMany).message).toBe(
        'the request holds 3 operations, the most one batch may hold is 2 (DOCKERGRAPH_BATCHING)',
      );
      const two = await post(app, [{ query: engineVersion }, { query: '{ __typename }' }]);
      expect(two.status).toBe(200);
      expect(two.body).toHaveLength(2);
      expect(two.body[0]?.data).toMatchObject({
        engine: { version: { version: expect.any(String) } },
      });
      expect(two.body[1]).toEqual({ data: { __typename: 'Query' } });
    } finally {
      await app.close();
    }
  });
});

describe('rate limit', () => {
  const env = {
    ...tokensEnv([
      { id: 'dash', role: 'viewer', token: 'dash-secret' },
      { id: 'ci', role: 'viewer', token: 'ci-secret' },
    ]),
    DOCKERGRAPH_RATE_LIMIT: '3',
    DOCKERGRAPH_RATE_LIMIT_WINDOW_SECONDS: '60',
    DOCKERGRAPH_BATCHING: '5',
  };

  it('answers a burst over the limit with 429 and when to retry, then lets the token in again', async () => {
    let now = 1_000_000;
    const app = createTestApp(env, { token: 'dash-secret', clock: () => now });
    try {
      const dash = { authorization: 'Bearer dash-secret' };
      for (let i = 0; i < 3; i++) {
        expect((await post(app, { query: engineVersion }, dash)).body.errors).toBeUndefined();
      }
      const refused = await withoutEngineCalls(app, () =>
        post(app, { query: engineVersion }, dash),
      );
      expect(refused.status).toBe(429);
      // Three per minute: one more operation is allowed 20 s after the burst.
      expect(refused.headers.get('retry-after')).toBe('20');
      const error = onlyError(refused);
      expect(error.extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: 20 });
      expect(error.message).toBe(
        'rate limit exceeded: token "dash" may run 3 operations per 60 s (DOCKERGRAPH_RATE_LIMIT, DOCKERGRAPH_RATE_LIMIT_WINDOW_SECONDS); retry in 20 s',
      );
      // Another token has its own bucket.
      const ci = await post(app, { query: engineVersion }, { authorization: 'Bearer ci-secret' });
      expect(ci.body.errors).toBeUndefined();
      now += 20_000;
      expect((await post(app, { query: engineVersion }, dash)).status).toBe(200);
      expect(
        (await withoutEngineCalls(app, () => post(app, { query: engineVersion }, dash))).status,
      ).toBe(429);
    } finally {
      await app.close();
    }
  });

  it('counts every operation of a batch', async () => {
    const now = 1_000_000;
    const app = createTestApp(env, { clock: () => now });
    try {
      const dash = { authorization: 'Bearer dash-secret' };
      const two = [{ query: engineVersion }, { query: engineVersion }];
      expect((await post(app, two, dash)).status).toBe(200);
      // One operation left: a batch of two is refused whole.
      const refused = await withoutEngineCalls(app, () => post(app, two, dash));
      expect(refused.status).toBe(429);
      expect(onlyError(refused).extensions?.retryAfterSeconds).toBe(20);
      expect((await post(app, { query: engineVersion }, dash)).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('counts WebSocket operations, answering an error message with when to retry', async () => {
    const live = await startLiveServer(undefined, {
      env: { DOCKERGRAPH_RATE_LIMIT: '2', DOCKERGRAPH_RATE_LIMIT_WINDOW_SECONDS: '1' },
    });
    const run = () => finalAnswer(live.client, { query: engineVersion });
    try {
      expect((await run()).errors).toBeUndefined();
      expect((await run()).errors).toBeUndefined();
      const refused = await withoutEngineCalls(live, run);
      expect(refused.errors?.[0]?.message).toMatch(
        /^rate limit exceeded: this server may run 2 operations per 1 s .*; retry in 1 s$/,
      );
      expect(refused.errors?.[0]?.extensions).toMatchObject({
        code: 'RATE_LIMITED',
        retryAfterSeconds: 1,
      });
      // The bucket refills within the second.
      await waitFor(async () => (await run()).errors === undefined, {
        timeoutMs: 5_000,
        what: 'the rate limit to let an operation through again',
      });
    } finally {
      await live.close();
    }
  });

  it('holds the operations running at once on one WebSocket connection to DOCKERGRAPH_MAX_OPERATIONS_PER_CONNECTION, answering the next with an error message', async () => {
    const live = await startLiveServer(undefined, {
      env: { DOCKERGRAPH_RATE_LIMIT: '0', DOCKERGRAPH_MAX_OPERATIONS_PER_CONNECTION: '3' },
    });
    // Each subscription holds a hub subscriber and its execution (about 29 kB each): one
    // connection opened 5,000 in two seconds, and the rate limit only slows that down.
    const subscribe = (label: string) => {
      const outcome: { errors: unknown[] | null; completed: boolean } = {
        errors: null,
        completed: false,
      };
      const unsubscribe = live.client.subscribe(
        { query: `subscription { events(filter: { labels: ["${label}"] }) { kind } }` },
        {
          next: () => {},
          error: (error) => {
            outcome.errors = Array.isArray(error) ? error : [error];
          },
          complete: () => {
            outcome.completed = true;
          },
        },
      );
      return { outcome, unsubscribe };
    };
    try {
      const held = [subscribe('a'), subscribe('b'), subscribe('c')];
      await waitFor(() => live.server.events.subscriberCount === 3, {
        timeoutMs: 10_000,
        what: 'three subscribers',
      });
      const refused = subscribe('d');
      await waitFor(() => refused.outcome.errors !== null, {
        timeoutMs: 10_000,
        what: 'the fourth operation to be refused',
      });
      expect(refused.outcome.errors).toEqual([
        expect.objectContaining({
          message:
            'this connection already runs 3 operations, the most one connection may run at once (DOCKERGRAPH_MAX_OPERATIONS_PER_CONNECTION): complete one first',
          extensions: expect.objectContaining({ code: 'TOO_MANY_OPERATIONS' }),
        }),
      ]);
      expect(live.server.events.subscriberCount).toBe(3);
      // The connection stays open: once one ends, another runs.
      held[0]?.unsubscribe();
      await waitFor(() => live.server.events.subscriberCount === 2, {
        timeoutMs: 10_000,
        what: 'the first to leave',
      });
      const next = subscribe('e');
      await waitFor(() => live.server.events.subscriberCount === 3, {
        timeoutMs: 10_000,
        what: 'another subscriber',
      });
      expect(next.outcome.errors).toBeNull();
    } finally {
      await live.close();
    }
  });
});
