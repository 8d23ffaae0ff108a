// Production mode (introspection and GraphiQL off, errors that tell nothing of the host) and the
// browser protections that are always on: cross-site request rules, CORS and the WebSocket Origin check.
import { afterAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/gql.ts';
import {
  createTestApp,
  type HttpAnswer,
  readAnswer,
  type TestApp,
  withoutEngineCalls,
} from '../helpers/app.ts';
import { clientOf, finalAnswer, upgradeAnswer } from '../helpers/graphql-ws.ts';
import { startLiveServer } from '../helpers/live-server.ts';

const ProductionEngineQuery = graphql(`
  query ProductionEngineVersion {
    engine { version { version } }
  }
`);

const ENDPOINT = 'http://dockergraph.test/graphql';
const INTROSPECTION = '{ __schema { queryType { name } } }';

/** What the app answers to `init` at `url`. */
async function fetchAnswer(app: TestApp, url: string, init: RequestInit = {}): Promise<HttpAnswer> {
  return readAnswer(await app.app.fetch(url, init));
}

function post(app: TestApp, query: string): Promise<HttpAnswer> {
  return app.post({ query });
}

describe('production mode', () => {
  const production = createTestApp({ DOCKERGRAPH_PRODUCTION: 'true' });
  const development = createTestApp();
  afterAll(async () => {
    await production.close();
    await development.close();
  });

  it('turns introspection off, saying how to turn it on', async () => {
    const answer = await withoutEngineCalls(production, () => post(production, INTROSPECTION));
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([
      expect.objectContaining({
        message:
          'introspection is turned off: the operation asks for "__schema" (DOCKERGRAPH_INTROSPECTION=true turns it on)',
        extensions: { code: 'INTROSPECTION_DISABLED' },
      }),
    ]);
    const type = await post(production, '{ __type(name: "Container") { name } }');
    expect(type.body.errors?.[0]?.extensions?.code).toBe('INTROSPECTION_DISABLED');
    // __typename is not introspection: clients need it.
    expect((await post(production, '{ __typename }')).body).toEqual({
      data: { __typename: 'Query' },
    });
    expect((await post(development, INTROSPECTION)).body).toEqual({
      data: { __schema: { queryType: { name: 'Query' } } },
    });
  });

  it('is on with NODE_ENV=production, and introspection can be turned back on', async () => {
    const nodeEnv = createTestApp({ NODE_ENV: 'production' });
    const introspective = createTestApp({
      DOCKERGRAPH_PRODUCTION: 'true',
      DOCKERGRAPH_INTROSPECTION: 'true',
    });
    try {
      expect((await post(nodeEnv, INTROSPECTION)).body.errors?.[0]?.extensions?.code).toBe(
        'INTROSPECTION_DISABLED',
      );
      expect((await post(introspective, INTROSPECTION)).body.errors).toBeUndefined();
    } finally {
      await nodeEnv.close();
      await introspective.close();
    }
  });

  it('turns introspection off over WebSocket too', async () => {
    const live = await startLiveServer(undefined, { env: { DOCKERGRAPH_PRODUCTION: 'true' } });
    try {
      const result = await withoutEngineCalls(live, () =>
        finalAnswer(live.client, { query: INTROSPECTION }),
      );
      expect(result.errors?.[0]?.message).toBe(
        'introspection is turned off: the operation asks for "__schema" (DOCKERGRAPH_INTROSPECTION=true turns it on)',
      );
    } finally {
      await live.close();
    }
  });

  it("keeps the schema's names out of error messages", async () => {
    const answer = await withoutEngineCalls(production, () => post(production, '{ containerz }'));
    expect(answer.body.errors?.[0]?.message).toBe(
      'Cannot query field "containerz" on type "Query".',
    );
    const badEnum = await fetchAnswer(production, ENDPOINT, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query:
          'query ($s: [ContainerState!]) { containers(filter: { states: $s }) { totalCount } }',
        variables: { s: ['RUNNIN'] },
      }),
    });
    expect(badEnum.text).not.toContain('Did you mean');
    expect(badEnum.body.errors?.[0]?.message).toContain('"RUNNIN" does not exist');
    // Developers get graphql-js's hints.
    expect((await post(development, '{ containerz }')).body.errors?.[0]?.message).toBe(
      'Cannot query field "containerz" on type "Query". Did you mean "container" or "containers"?',
    );
  });

  it('turns GraphiQL off unless DOCKERGRAPH_GRAPHIQL=true', async () => {
    const page = (app: TestApp) =>
      withoutEngineCalls(app, () =>
        fetchAnswer(app, ENDPOINT, { headers: { accept: 'text/html' } }),
      );
    const off = await page(production);
    expect(off.status).toBe(406);
    expect(off.text).not.toContain('<html');
    const withGraphiQL = createTestApp({
      DOCKERGRAPH_PRODUCTION: 'true',
      DOCKERGRAPH_GRAPHIQL: 'true',
    });
    try {
      const on = await page(withGraphiQL);
      expect(on.status).toBe(200);
      expect(on.headers.get('content-type')).toContain('text/html');
      expect(on.text).toContain('<title>dockergraph</title>');
    } finally {
      await withGraphiQL.close();
    }
  });

  it('tells clients of an unreachable engine neither its socket, its address nor a stack', async () => {
    for (const dockerHost of [
      'unix:///tmp/dockergraph-missing-engine/docker.sock',
      'tcp://127.0.0.1:1',
    ]) {
      const app = createTestApp({
        DOCKERGRAPH_PRODUCTION: 'true',
        DOCKER_HOST: dockerHost,
        DOCKERGRAPH_CONNECT_TIMEOUT_MS: '2000',
      });
      try {
        const answer = await post(app, '{ engine { version { version } } }');
        expect(answer.body.errors).toEqual([
          expect.objectContaining({
            message: 'ping the engine: the Docker engine is unavailable',
            extensions: { code: 'ENGINE_UNAVAILABLE' },
          }),
        ]);
        for (const secret of [
          'dockergraph-missing-engine',
          'docker.sock',
          '127.0.0.1',
          'ECONNREFUSED',
          'ENOENT',
          'stack',
          '.ts:',
        ]) {
          expect({ dockerHost, leaked: answer.text.includes(secret), secret }).toEqual({
            dockerHost,
            leaked: false,
            secret,
          });
        }
      } finally {
        await app.close();
      }
    }
  });
});

describe('cross-site request rules (always on)', () => {
  const app = createTestApp({ DOCKERGRAPH_ALLOWED_ORIGINS: 'https://dash.example.com' });
  afterAll(() => app.close());
  const query = JSON.stringify({ query: '{ engine { version { version } } }' });
  const getUrl = `${ENDPOINT}?query=${encodeURIComponent('{ engine { version { version } } }')}`;
  const formTypes = [
    'text/plain',
    'text/plain; application/json',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
  ];

  it('refuses a form-typed POST no browser vouches for, before the engine', async () => {
    for (const contentType of formTypes) {
      const answer = await withoutEngineCalls(app, () =>
        fetchAnswer(app, ENDPOINT, {
          method: 'POST',
          headers: { 'content-type': contentType },
          body: query,
        }),
      );
      expect({ contentType, status: answer.status, errors: answer.body.errors }).toEqual({
        contentType,
        status: 403,
        errors: [
          expect.objectContaining({
            message:
              'refused as a possible cross-site request forgery: a POST of a form, multipart or text/plain body (or none) must come from a browser page of an allowed origin, or carry the header "x-graphql-yoga-csrf" (any value); JSON POSTs need not',
            extensions: { code: 'CSRF_HEADER_REQUIRED' },
          }),
        ],
      });
    }
  });

  it('refuses every request of a page of another site, GET or POST, before the engine', async () => {
    const foreign = [
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
    ];
    for (const headers of foreign) {
      for (const init of [
        { headers },
        {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: query,
        },
        { method: 'POST', headers: { ...headers, 'content-type': 'text/plain' }, body: query },
      ] satisfies RequestInit[]) {
        const answer = await withoutEngineCalls(app, () =>
          fetchAnswer(app, init.method ? ENDPOINT : getUrl, init),
        );
        expect({ headers, method: init.method ?? 'GET', status: answer.status }).toEqual({
          headers,
          method: init.method ?? 'GET',
          status: 403,
        });
        expect(answer.body.errors?.[0]?.extensions?.code).toBe('CROSS_SITE_REFUSED');
        // CORS headers go only to allowed origins: the page could not read even the refusal.
        expect(answer.headers.get('access-control-allow-origin')).toBeNull();
      }
    }
  });

  it('runs GET queries with no special header, and form POSTs a browser vouches for', async () => {
    for (const headers of [{}, { 'sec-fetch-site': 'same-origin' }, { 'sec-fetch-site': 'none' }]) {
      const answer = await fetchAnswer(app, getUrl, { headers });
      expect({ headers, status: answer.status, errors: answer.body.errors }).toEqual({
        headers,
        status: 200,
        errors: undefined,
      });
    }
    for (const origin of ['https://dash.example.com', 'http://dockergraph.test']) {
      const answer = await fetchAnswer(app, ENDPOINT, {
        method: 'POST',
        headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
        body: `query=${encodeURIComponent('{ engine { version { version } } }')}`,
      });
      expect({ origin, status: answer.status, errors: answer.body.errors }).toEqual({
        origin,
        status: 200,
        errors: undefined,
      });
    }
  });

  it('runs mutations and engine-changing subscriptions over POST only', async () => {
    const mutation = await withoutEngineCalls(app, () =>
      fetchAnswer(
        app,
        `${ENDPOINT}?query=${encodeURIComponent('mutation { pruneVolumes { spaceReclaimed } }')}`,
      ),
    );
    expect(mutation.status).toBe(405);
    for (const subscription of [
      'subscription { pullImageProgress(reference: "dockergraph/none:x") { status } }',
      'subscription S { ...F } fragment F on Subscription { pullImageProgress(reference: "dockergraph/none:x") { status } }',
      'subscription { ... on Subscription { buildImageProgress(dockerfile: "FROM scratch") { status } } }',
    ]) {
      const answer = await withoutEngineCalls(app, () =>
        fetchAnswer(app, `${ENDPOINT}?query=${encodeURIComponent(subscription)}`, {
          headers: { accept: 'application/graphql-response+json' },
        }),
      );
      expect({ subscription, status: answer.status }).toEqual({ subscription, status: 405 });
      expect(answer.body.errors?.[0]?.message).toMatch(
        /^(pullImageProgress|buildImageProgress) changes the engine: subscribe with a POST/,
      );
    }
  });

  it('lets JSON POSTs through without the header: browsers preflight them', async () => {
    expect(await app.query(ProductionEngineQuery)).toMatchObject({
      engine: { version: { version: expect.any(String) } },
    });
  });
});

describe('CORS', () => {
  const app = createTestApp({ DOCKERGRAPH_ALLOWED_ORIGINS: 'https://dash.example.com' });
  afterAll(() => app.close());

  const preflight = (origin: string) =>
    withoutEngineCalls(app, async () =>
      app.app.fetch(ENDPOINT, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type',
        },
      }),
    );

  it('answers preflights of allowed origins and of its own, with credentials', async () => {
    for (const origin of ['https://dash.example.com', 'http://dockergraph.test']) {
      const response = await preflight(origin);
      expect(response.status).toBe(204);
      expect({
        origin,
        allowOrigin: response.headers.get('access-control-allow-origin'),
        credentials: response.headers.get('access-control-allow-credentials'),
        headers: response.headers.get('access-control-allow-headers'),
      }).toEqual({
        origin,
        allowOrigin: origin,
        credentials: 'true',
        headers: 'authorization, content-type',
      });
    }
  });

  it('gives other origins no CORS headers, so that their pages can neither send nor read', async () => {
    for (const origin of ['https://evil.example', 'http://dockergraph.test.evil.example', 'null']) {
      const response = await preflight(origin);
      expect({ origin, allowOrigin: response.headers.get('access-control-allow-origin') }).toEqual({
        origin,
        allowOrigin: null,
      });
    }
    const answer = await app.app.fetch(ENDPOINT, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    const allowed = await app.app.fetch(ENDPOINT, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://dash.example.com' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://dash.example.com');
    // Browser clients may read when to retry after a rate-limit refusal.
    expect(allowed.headers.get('access-control-expose-headers')).toBe('retry-after');
  });
});

describe('WebSocket Origin check', () => {
  it('refuses the upgrade from a page of another origin, before graphql-ws and the engine', async () => {
    const live = await startLiveServer(undefined, {
      env: { DOCKERGRAPH_ALLOWED_ORIGINS: 'https://dash.example.com' },
    });
    try {
      const refused = await withoutEngineCalls(live, () =>
        upgradeAnswer(live.server.url, { origin: 'https://evil.example' }),
      );
      // The one error body of every non-GraphQL answer (src/error-response.ts).
      expect({ status: refused.status, body: JSON.parse(refused.body) }).toEqual({
        status: 403,
        body: {
          errors: [
            {
              message:
                "WebSocket from origin https://evil.example refused: not this server's origin nor in DOCKERGRAPH_ALLOWED_ORIGINS",
              extensions: { code: 'FORBIDDEN' },
            },
          ],
        },
      });
      // Allowed: an origin of the allow-list, the server's own, and clients that send none.
      for (const origin of ['https://dash.example.com', live.server.url]) {
        const client = clientOf(live.server.url, { origin });
        try {
          const result = await finalAnswer(client, { query: '{ engine { version { version } } }' });
          expect({ origin, errors: result.errors }).toEqual({ origin, errors: undefined });
        } finally {
          await client.dispose();
        }
      }
      expect((await finalAnswer(live.client, { query: '{ __typename }' })).data).toEqual({
        __typename: 'Query',
      });
    } finally {
      await live.close();
    }
  });
});
