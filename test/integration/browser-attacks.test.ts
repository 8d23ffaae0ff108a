// What a web page in the user's browser could try against a dockergraph on localhost: DNS
// rebinding (its own domain re-pointed at 127.0.0.1, so the browser thinks it is same-origin)
// and links or images pointing at the download routes. Neither reaches the engine.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomToken, tokensEnv } from '../helpers/access.ts';
import { createTestApp, withoutEngineCalls } from '../helpers/app.ts';
import { EngineFixtures } from '../helpers/docker-fixtures.ts';
import { upgradeAnswer } from '../helpers/graphql-ws.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';

const QUERY = JSON.stringify({ query: '{ engine { ping { apiVersion } } }' });

/** POSTs a query to `url` with `host` as the Host header; the status and body answered. */
function postWithHost(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      `${url}/graphql`,
      { method: 'POST', headers: { host, 'content-type': 'application/json' } },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          body += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(QUERY);
  });
}

/** The status of a WebSocket upgrade to `url` with `host` as the Host header. */
async function upgradeWithHost(url: string, host: string): Promise<number> {
  return (await upgradeAnswer(url, { headers: { host } })).status;
}

describe('DNS rebinding, with no tokens configured', () => {
  let live: LiveServer;
  beforeAll(async () => {
    live = await startLiveServer();
  });
  afterAll(() => live.close());

  it('refuses HTTP requests addressed to another name (421), before the engine', async () => {
    const answer = await withoutEngineCalls(live, () =>
      postWithHost(live.server.url, 'rebound.example:4000'),
    );
    expect(answer.status).toBe(421);
    expect(JSON.parse(answer.body).errors[0].message).toMatch(
      /^request for host "rebound\.example:4000" refused: without tokens dockergraph answers only requests addressed to localhost/,
    );
  });

  it('refuses WebSocket upgrades addressed to another name', async () => {
    const status = await withoutEngineCalls(live, () =>
      upgradeWithHost(live.server.url, 'rebound.example'),
    );
    expect(status).toBe(421);
  });

  it('answers requests addressed to localhost and loopback addresses', async () => {
    const port = new URL(live.server.url).port;
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `127.1.2.3:${port}`]) {
      const answer = await postWithHost(live.server.url, host);
      expect(answer.status, host).toBe(200);
      expect(JSON.parse(answer.body).data.engine.ping.apiVersion).toBe('1.41');
    }
    expect(await upgradeWithHost(live.server.url, `localhost:${port}`)).toBe(101);
  });
});

describe('with tokens configured', () => {
  let live: LiveServer;
  beforeAll(async () => {
    live = await startLiveServer(undefined, {
      env: tokensEnv([{ id: 'admin', role: 'admin', token: randomToken() }]),
    });
  });
  afterAll(() => live.close());

  it('serves any host name: the token, not the name, decides', async () => {
    const answer = await postWithHost(live.server.url, 'dockergraph.example.com');
    expect(answer.status).toBe(401);
  });
});

describe('download links followed from pages of other sites', () => {
  const fixtures = new EngineFixtures();
  const app = createTestApp({ DOCKERGRAPH_ALLOWED_ORIGINS: 'https://dash.example.com' });
  const name = fixtures.name('dl');
  const link = `http://127.0.0.1:4000/files/local/containers/${name}/archive?path=/etc/hostname`;

  beforeAll(async () => {
    await fixtures.createContainer(name);
  });
  afterAll(async () => {
    await fixtures.cleanup();
    await app.close();
  });

  const fetchWith = async (headers: Record<string, string>) => {
    let response: Response | undefined;
    const calls = await app.callsDuring(async () => {
      response = await app.app.fetch(link, { headers });
    });
    if (!response) throw new Error('no response');
    return { response, calls };
  };

  it.each([
    ['a link or image of another site', { 'sec-fetch-site': 'cross-site' }],
    ['a page of a sibling subdomain', { 'sec-fetch-site': 'same-site' }],
    ['a page whose origin is not allowed', { origin: 'https://evil.example' }],
  ])('refuses %s (403), before the engine', async (_what, headers) => {
    const { response, calls } = await fetchWith(headers);
    expect(response.status).toBe(403);
    const body = (await response.json()) as {
      errors: [{ message: string; extensions: { code: string } }];
    };
    expect(body.errors[0].extensions.code).toBe('CROSS_SITE_REFUSED');
    expect(body.errors[0].message).toContain('DOCKERGRAPH_ALLOWED_ORIGINS');
    expect(calls).toEqual([]);
  });

  it.each([
    ['its own pages', { 'sec-fetch-site': 'same-origin' }],
    ['an address typed by the user', { 'sec-fetch-site': 'none' }],
    ['an allowed origin', { origin: 'https://dash.example.com' }],
    ['a client that is not a browser', {}],
  ])('serves %s', async (_what, headers) => {
    const { response } = await fetchWith(headers);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-tar');
    await response.arrayBuffer();
  });
});
