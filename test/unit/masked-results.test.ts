// useMaskedResults over a schema of its own whose resolvers fail on purpose: every place an
// error can reach a client (a query's result, the context's creation, one result of a
// subscription, the error a stream fails with, a request yoga could not run) is masked, an
// abort passes as it is, and the end callbacks of a stream run once however it ends.
import { GraphQLError, parse } from 'graphql';
import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import {
  UNEXPECTED_ERROR_MESSAGE,
  useMaskedResults,
  whenSubscriptionEnds,
} from '../../src/plugins/use-masked-results.ts';

/** What no client may read. */
const SECRET = 'secret at /var/run/docker.sock';

const schema = createSchema<{ failContext?: boolean }>({
  typeDefs: /* GraphQL */ `
    type Query { fails: String, works: String }
    type Subscription { ticks(failAt: Int, throwAt: Int): Int }
  `,
  resolvers: {
    Query: {
      fails: () => {
        throw new Error(SECRET);
      },
      works: () => 'yes',
    },
    Subscription: {
      ticks: {
        async *subscribe(
          _root: unknown,
          args: { failAt?: number | null; throwAt?: number | null },
        ) {
          for (let tick = 1; tick <= 3; tick++) {
            if (tick === args.throwAt) throw new Error(SECRET);
            yield { tick, fail: tick === args.failAt };
          }
        },
        resolve: (event: { tick: number; fail: boolean }) => {
          if (event.fail) throw new Error(SECRET);
          return event.tick;
        },
      },
    },
  },
});

/** Masks what is not a GraphQL error of the schema's own making, as the app's function does. */
const maskErrors: { masked: unknown[] } = { masked: [] };
function mask(error: unknown, message: string): Error {
  const original = error instanceof GraphQLError ? error.originalError : error;
  if (error instanceof GraphQLError && !original) return error;
  maskErrors.masked.push(original);
  return new GraphQLError(message, {
    path: error instanceof GraphQLError ? (error.path ?? null) : null,
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  });
}

/** Counts the ends of each subscription stream, as the places and metrics do. */
function useEndCounter(ends: { count: number }): Plugin {
  return {
    onSubscribe() {
      return {
        onSubscribeResult({ result }) {
          if (Symbol.asyncIterator in result) {
            whenSubscriptionEnds(result, () => {
              ends.count += 1;
            });
          }
        },
      };
    },
  };
}

function createApp(plugins: Plugin[] = []) {
  return createYoga({
    schema,
    maskedErrors: false,
    logging: false,
    plugins: [useMaskedResults(mask), ...plugins],
  });
}

/** Subscribes through the app's envelop, as the WebSocket transport does. */
async function subscribe(app: ReturnType<typeof createApp>, query: string) {
  const { subscribe: run, contextFactory } = app.getEnveloped({});
  const result = await run({
    schema: app.getEnveloped({}).schema,
    document: parse(query),
    contextValue: await contextFactory(),
  });
  if (!(Symbol.asyncIterator in result)) throw new Error('not a stream');
  return result[Symbol.asyncIterator]();
}

async function post(app: ReturnType<typeof createApp>, query: string, accept = 'application/json') {
  const response = await app.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept },
    body: JSON.stringify({ query }),
  });
  return response.text();
}

describe('useMaskedResults', () => {
  it('masks the errors of a query result', async () => {
    const text = await post(createApp(), '{ fails works }');
    expect(JSON.parse(text)).toEqual({
      data: { fails: null, works: 'yes' },
      errors: [
        {
          message: UNEXPECTED_ERROR_MESSAGE,
          path: ['fails'],
          extensions: { code: 'INTERNAL_SERVER_ERROR' },
        },
      ],
    });
    expect(text).not.toContain('secret');
  });

  it('masks an error of the context and of a request yoga could not run', async () => {
    const failingContext: Plugin = {
      onContextBuilding() {
        throw new Error(SECRET);
      },
    };
    const failingParams: Plugin = {
      onParams() {
        throw new Error(SECRET);
      },
    };
    // Through the envelop, as the WebSocket transport creates it: no HTTP answer to mask.
    const { contextFactory } = createApp([failingContext]).getEnveloped({});
    const failure = await Promise.resolve()
      .then(() => contextFactory())
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(failure).toMatchObject({ message: UNEXPECTED_ERROR_MESSAGE });
    for (const plugin of [failingContext, failingParams]) {
      const text = await post(createApp([plugin]), '{ works }');
      expect(text).not.toContain('secret');
      expect(JSON.parse(text)).toMatchObject({
        errors: [
          { message: UNEXPECTED_ERROR_MESSAGE, extensions: { code: 'INTERNAL_SERVER_ERROR' } },
        ],
      });
    }
  });

  it('masks one result of a subscription and goes on', async () => {
    const ends = { count: 0 };
    const stream = await subscribe(
      createApp([useEndCounter(ends)]),
      'subscription { ticks(failAt: 2) }',
    );
    const results = [];
    for (let step = await stream.next(); step.done !== true; step = await stream.next()) {
      results.push(step.value);
    }
    expect(JSON.parse(JSON.stringify(results))).toEqual([
      { data: { ticks: 1 } },
      {
        data: { ticks: null },
        errors: [
          {
            message: UNEXPECTED_ERROR_MESSAGE,
            path: ['ticks'],
            extensions: { code: 'INTERNAL_SERVER_ERROR' },
          },
        ],
      },
      { data: { ticks: 3 } },
    ]);
    expect(ends.count).toBe(1);
  });

  it('masks the error a stream fails with, over SSE too, and ends it once', async () => {
    const ends = { count: 0 };
    const app = createApp([useEndCounter(ends)]);
    const stream = await subscribe(app, 'subscription { ticks(throwAt: 2) }');
    expect(await stream.next()).toEqual({ done: false, value: { data: { ticks: 1 } } });
    const failure = await stream.next().then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(GraphQLError);
    expect(failure).toMatchObject({
      message: UNEXPECTED_ERROR_MESSAGE,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(ends.count).toBe(1);
    await stream.return?.();
    expect(ends.count).toBe(1);

    const sse = await post(app, 'subscription { ticks(throwAt: 2) }', 'text/event-stream');
    expect(sse).toContain(UNEXPECTED_ERROR_MESSAGE);
    expect(sse).not.toContain('secret');
    expect(ends.count).toBe(2);
  });

  it('lets an abort a stream fails with through as it is', async () => {
    // graphql-tools' executor locates what a source throws; a plugin's own subscribe
    // function (the shared results' one) does not.
    const abort = new DOMException('the client left', 'AbortError');
    const rawStream: Plugin = {
      onSubscribe({ setSubscribeFn }) {
        setSubscribeFn(async function* () {
          yield* [];
          throw abort;
        });
      },
    };
    const stream = await subscribe(createApp([rawStream]), 'subscription { ticks }');
    const failure = await stream.next().then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBe(abort);
  });

  it('ends a stream the client leaves once, at once', async () => {
    const ends = { count: 0 };
    const stream = await subscribe(createApp([useEndCounter(ends)]), 'subscription { ticks }');
    await stream.next();
    await stream.return?.();
    await stream.return?.();
    expect(ends.count).toBe(1);
  });

  it('refuses loudly a stream another plugin put in place of the masked one', async () => {
    const ends = { count: 0 };
    const replacing: Plugin = {
      onSubscribe() {
        return {
          onSubscribeResult({ result, setResult }) {
            if (!(Symbol.asyncIterator in result)) return;
            setResult(
              (async function* () {
                yield* result;
              })(),
            );
          },
        };
      },
    };
    maskErrors.masked = [];
    const text = await post(
      createApp([replacing, useEndCounter(ends)]),
      'subscription { ticks }',
      'text/event-stream',
    );
    expect(text).toContain(UNEXPECTED_ERROR_MESSAGE);
    // Its place was given back at once.
    expect(ends.count).toBe(1);
    expect(String(maskErrors.masked[0])).toContain('useMaskedResults must be the first plugin');
  });
});
