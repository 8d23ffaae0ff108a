import { print } from 'graphql';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createFetchHandler } from '../../src/handler.ts';
import { graphql } from '../generated/gql.ts';
import { randomToken, tokensEnv } from '../helpers/access.ts';
import { Changes } from '../helpers/wait-for.ts';

const HandlerQuery = graphql(`
  query HandlerEngine {
    engine { version { apiVersion } }
  }
`);

const testEnvironment = {
  DOCKER_HOST: inject('dockerHost'),
  LOG_LEVEL: 'silent',
  DOCKERGRAPH_AUDIT: 'off',
};

const queryRequest = (headers: Record<string, string> = {}) =>
  new Request('http://edge.example/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: print(HandlerQuery) }),
  });

describe('serverless fetch handler (src/handler.ts)', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('answers WHATWG Requests with the same app, configured from the environment', async () => {
    const token = randomToken();
    const environment = {
      ...testEnvironment,
      ...tokensEnv([{ id: 'edge', role: 'viewer', token }]),
    };
    for (const [name, value] of Object.entries(environment)) vi.stubEnv(name, value);
    // The default export reads process.env on its first request.
    const handler = (await import('../../src/handler.ts')).default;
    const response = await handler.fetch(queryRequest({ authorization: `Bearer ${token}` }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      data: { engine: { version: { apiVersion: '1.41' } } },
    });
    expect((await handler.fetch(queryRequest())).status).toBe(401);
    const health = await handler.fetch(new Request('http://edge.example/healthz'));
    expect(health.status).toBe(200);
  });

  it('ends a subscription whose client left before its answer came, and gives its place back', async () => {
    // A runtime aborts the request of a client that went away: the handler's promise then
    // rejects and nobody reads (or cancels) the stream of the answer. The subscription must
    // end all the same, or it holds a hub subscriber and one of the token's places forever.
    const token = randomToken();
    const answered = new Changes();
    const lines: string[] = [];
    const handler = createFetchHandler(
      () =>
        loadConfig({
          ...testEnvironment,
          LOG_LEVEL: 'info',
          HOME: '/nonexistent',
          DOCKERGRAPH_MAX_SUBSCRIPTIONS_PER_TOKEN: '1',
          ...tokensEnv([{ id: 'edge', role: 'viewer', token }]),
        }),
      {
        writeLogLine: (line) => {
          lines.push(line);
          answered.notify();
        },
      },
    );
    const subscribe = (signal?: AbortSignal, query = 'subscription { events { kind } }') =>
      handler.fetch(
        new Request('http://edge.example/graphql', {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'text/event-stream',
            authorization: `Bearer ${token}`,
          },
          body: JSON.stringify({ query }),
          ...(signal ? { signal } : {}),
        }),
      );
    const client = new AbortController();
    const left = subscribe(client.signal);
    client.abort();
    await expect(left).rejects.toThrow();
    // The app went on with it: its subscription was set up, and its answer made (logged).
    await answered.until(
      () => (lines.some((line) => /"msg":"request"/.test(line)) ? true : undefined),
      10_000,
      () => new Error('the aborted request was never answered'),
    );
    // The token's one place is free again: a subscription of a past range (which completes
    // once read) is admitted.
    const next = await subscribe(
      undefined,
      'subscription { events(since: "2000-01-01T00:00:00Z", until: "2000-01-01T00:00:01Z") { kind } }',
    );
    const text = await next.text();
    expect(text).toMatch(/event: complete/);
    expect(text).not.toMatch(/TOO_MANY_SUBSCRIPTIONS/);
  });

  it('serves nothing without tokens, and says what to configure', async () => {
    const handler = createFetchHandler(() =>
      loadConfig({ ...testEnvironment, HOME: '/nonexistent' }),
    );
    const response = await handler.fetch(queryRequest());
    expect(response.status).toBe(503);
    const body = (await response.json()) as { errors: { message: string }[] };
    expect(body.errors[0]?.message).toMatch(
      /^dockergraph refuses to serve without authentication: .*Configure tokens \(DOCKERGRAPH_TOKENS_FILE or DOCKERGRAPH_TOKENS/,
    );
  });
});
