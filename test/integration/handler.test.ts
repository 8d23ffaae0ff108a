import { print } from 'graphql';
import { afterAll, describe, expect, inject, it, vi } from 'vitest';
import { graphql } from '../generated/gql.ts';

const HandlerQuery = graphql(`
  query HandlerEngine {
    engine { version { apiVersion } }
  }
`);

describe('serverless fetch handler (src/handler.ts)', () => {
  afterAll(() => {
    vi.unstubAllEnvs();
  });

  it('answers WHATWG Requests with the same app, configured from the environment', async () => {
    vi.stubEnv('DOCKER_HOST', inject('dockerHost'));
    vi.stubEnv('LOG_LEVEL', 'silent');
    const handler = (await import('../../src/handler.ts')).default;
    const response = await handler.fetch(
      new Request('http://edge.example/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: print(HandlerQuery) }),
      }),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      data: { engine: { version: { apiVersion: '1.41' } } },
    });
    const health = await handler.fetch(new Request('http://edge.example/healthz'));
    expect(health.status).toBe(200);
  });
});
