import { print } from 'graphql';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createFetchHandler } from '../../src/handler.ts';
import { graphql } from '../generated/gql.ts';
import { randomToken, tokensEnv } from '../helpers/access.ts';

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
