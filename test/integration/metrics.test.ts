// `/metrics` scraped from a started server over the test engine: counters move with the
// labels an operator reads, and the route holds to the rules of the other routes.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomToken, tokensEnv } from '../helpers/access.ts';
import { clientWithToken, firstAnswer, webSocketUrl } from '../helpers/graphql-ws.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const tokens = {
  admin: randomToken(),
  viewer: randomToken(),
  monitor: randomToken(),
  burst: randomToken(),
};
/** The rate limit of every token: the burst token runs past it, the others stay under it. */
const RATE_LIMIT = 15;
const MAX_OPERATION_NAMES = 3;

let live: LiveServer;

beforeAll(async () => {
  live = await startLiveServer(undefined, {
    env: {
      ...tokensEnv(
        [
          { id: 'admin', role: 'admin', token: tokens.admin },
          { id: 'viewer', role: 'viewer', token: tokens.viewer },
          { id: 'monitor', role: 'monitoring', token: tokens.monitor },
          { id: 'burst', role: 'viewer', token: tokens.burst },
        ],
        { monitoring: ['metrics'] },
      ),
      DOCKERGRAPH_RATE_LIMIT: String(RATE_LIMIT),
      DOCKERGRAPH_RATE_LIMIT_WINDOW_SECONDS: '3600',
      DOCKERGRAPH_METRICS_MAX_OPERATION_NAMES: String(MAX_OPERATION_NAMES),
    },
    token: tokens.admin,
  });
});

afterAll(async () => {
  await live?.close();
});

function post(token: string, query: string, variables?: Record<string, unknown>) {
  return fetch(`${live.server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
  });
}

function scrape(token: string | null, headers: Record<string, string> = {}) {
  return fetch(`${live.server.url}/metrics`, {
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
  });
}

/** The metrics text as the monitoring token reads it. */
async function metricsText(): Promise<string> {
  const answer = await scrape(tokens.monitor);
  expect(answer.status).toBe(200);
  return answer.text();
}

/** The value of one series, `name{labels}`, labels in the order prom-client writes them; 0 when absent. */
function seriesValue(text: string, series: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('/metrics', () => {
  it('counts operations by name and their engine calls by engine, method and path template', async () => {
    const before = await metricsText();
    const listed = await post(
      tokens.admin,
      'query ListContainers { containers(first: 5) { edges { node { id name } } } }',
    );
    expect(listed.status).toBe(200);
    const text = await metricsText();
    const operation =
      'dockergraph_operation_duration_seconds_count{type="query",name="ListContainers"}';
    expect(seriesValue(text, operation)).toBe(seriesValue(before, operation) + 1);
    const calls = 'dockergraph_operation_engine_calls_sum{type="query",name="ListContainers"}';
    expect(seriesValue(text, calls)).toBeGreaterThanOrEqual(seriesValue(before, calls) + 1);
    const engine =
      'dockergraph_engine_call_duration_seconds_count{engine="local",method="GET",path="/containers/json",status="200"}';
    expect(seriesValue(text, engine)).toBeGreaterThan(seriesValue(before, engine));
    const request =
      'dockergraph_http_request_duration_seconds_count{route="/graphql",method="POST",status="200"}';
    expect(seriesValue(text, request)).toBeGreaterThan(seriesValue(before, request));
  });

  it('keeps raw ids and unregistered names out of its labels', async () => {
    const missingId = randomBytes(32).toString('hex');
    const uniqueName = `Probe_${randomBytes(6).toString('hex')}`;
    // Fill the names kept as labels, then send one more with an id in its argument.
    for (let index = 0; index < MAX_OPERATION_NAMES; index += 1) {
      expect((await post(tokens.admin, `query Filler${index} { engine { name } }`)).status).toBe(
        200,
      );
    }
    const before = await metricsText();
    const answer = await post(
      tokens.admin,
      `query ${uniqueName}($id: String!) { container(idOrName: $id) { id } }`,
      { id: missingId },
    );
    expect(answer.status).toBe(200);
    const text = await metricsText();
    expect(text).not.toContain(uniqueName);
    expect(text).not.toContain(missingId);
    expect(text).not.toContain('container(idOrName');
    const other = 'dockergraph_operation_duration_seconds_count{type="query",name="other"}';
    expect(seriesValue(text, other)).toBe(seriesValue(before, other) + 1);
    const lookup =
      'dockergraph_engine_call_duration_seconds_count{engine="local",method="GET",path="/containers/{id}/json",status="404"}';
    expect(seriesValue(text, lookup)).toBe(seriesValue(before, lookup) + 1);
  });

  it('counts open subscriptions by transport, the shared upstream event stream and the open connections', async () => {
    const client = clientWithToken(live.server.url, tokens.admin);
    const open = 'dockergraph_subscriptions_open{transport="websocket"}';
    const connections = 'dockergraph_websocket_connections_open';
    const upstream = 'dockergraph_upstream_streams_open{engine="local",kind="events"}';
    const before = await metricsText();
    let stop = () => {};
    try {
      stop = client.subscribe(
        { query: 'subscription WatchEvents { events { kind } }' },
        { next: () => {}, error: () => {}, complete: () => {} },
      );
      const during = await waitFor(
        async () => {
          const text = await metricsText();
          return seriesValue(text, open) === seriesValue(before, open) + 1 &&
            seriesValue(text, upstream) === 1 &&
            seriesValue(text, connections) === seriesValue(before, connections) + 1
            ? text
            : null;
        },
        { what: 'the subscription and its upstream counted', timeoutMs: 10_000 },
      );
      expect(seriesValue(during, 'dockergraph_subscriptions_open{transport="sse"}')).toBe(0);
    } finally {
      stop();
      await client.dispose();
    }
    await waitFor(
      async () => {
        const text = await metricsText();
        return (
          seriesValue(text, open) === seriesValue(before, open) &&
          seriesValue(text, upstream) === 0 &&
          seriesValue(text, connections) === seriesValue(before, connections)
        );
      },
      { what: 'the subscription and its upstream counted as closed', timeoutMs: 10_000 },
    );
  });

  it('counts rate-limit refusals and the error code answered', async () => {
    const before = await metricsText();
    let refused = 0;
    for (let index = 0; index <= RATE_LIMIT; index += 1) {
      const answer = await post(tokens.burst, '{ engine { name } }');
      if (answer.status === 429) refused += 1;
    }
    expect(refused).toBe(1);
    const text = await metricsText();
    const limited = 'dockergraph_rate_limited_total{transport="http"}';
    expect(seriesValue(text, limited)).toBe(seriesValue(before, limited) + 1);
    const errors = 'dockergraph_errors_total{code="RATE_LIMITED"}';
    expect(seriesValue(text, errors)).toBe(seriesValue(before, errors) + 1);

    // The same token, spent, over WebSocket: refused and counted there too.
    const client = clientWithToken(live.server.url, tokens.burst);
    try {
      const answer = await firstAnswer(client, { query: '{ engine { name } }' });
      expect(answer.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    } finally {
      await client.dispose();
    }
    const after = await metricsText();
    expect(seriesValue(after, 'dockergraph_rate_limited_total{transport="websocket"}')).toBe(
      seriesValue(text, 'dockergraph_rate_limited_total{transport="websocket"}') + 1,
    );
    expect(seriesValue(after, errors)).toBe(seriesValue(text, errors) + 1);
  });

  it('answers the Prometheus text format', async () => {
    const answer = await scrape(tokens.admin);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await answer.text();
    expect(text).toContain('# TYPE dockergraph_engine_call_duration_seconds histogram');
    expect(text).toContain('# TYPE dockergraph_subscriptions_open gauge');
  });
});

describe('/metrics access', () => {
  it('answers 401 without a valid token', async () => {
    expect((await scrape(null)).status).toBe(401);
    expect((await scrape(randomToken())).status).toBe(401);
  });

  it('answers 403 to a token without the metrics permission', async () => {
    const answer = await scrape(tokens.viewer);
    expect(answer.status).toBe(403);
    const body = (await answer.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('FORBIDDEN');
  });

  it('refuses a page of another site, even with a token', async () => {
    const fromOrigin = await scrape(tokens.admin, { origin: 'https://evil.example' });
    expect(fromOrigin.status).toBe(403);
    const crossSite = await scrape(tokens.admin, { 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
  });

  it('serves no metrics over the WebSocket path nor as another method', async () => {
    const post = await fetch(`${live.server.url}/metrics`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.admin}` },
    });
    expect(post.status).toBe(405);
    // The WebSocket server answers upgrades on /graphql only; /metrics is no WebSocket route.
    // A raw socket: the helpers speak to /graphql, and this asks for an upgrade elsewhere.
    const { default: WebSocket } = await import('ws');
    const url = webSocketUrl(live.server.url).replace(/\/graphql$/, '/metrics');
    const status = await new Promise<number>((resolve) => {
      const socket = new WebSocket(url, 'graphql-transport-ws', {
        headers: { authorization: `Bearer ${tokens.admin}` },
      });
      socket.on('unexpected-response', (_request, response) => {
        resolve(response.statusCode ?? 0);
        socket.terminate();
      });
      socket.on('open', () => {
        resolve(101);
        socket.close();
      });
      socket.on('error', () => resolve(-1));
    });
    expect(status).not.toBe(101);
  });
});

describe('the separate metrics listener (DOCKERGRAPH_METRICS_LISTEN)', () => {
  let separate: LiveServer;

  beforeAll(async () => {
    separate = await startLiveServer(undefined, {
      env: {
        ...tokensEnv([{ id: 'admin', role: 'admin', token: tokens.admin }]),
        DOCKERGRAPH_METRICS: 'off',
        DOCKERGRAPH_METRICS_LISTEN: '127.0.0.1:0',
      },
      token: tokens.admin,
    });
  });

  afterAll(async () => {
    await separate?.close();
  });

  it('answers /metrics there without a token, and no longer on the main listener', async () => {
    const { metricsUrl, url } = separate.server;
    if (metricsUrl === null) throw new Error('the metrics listener did not start');
    const queried = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.admin}` },
      body: JSON.stringify({ query: '{ engine { version { version } } }' }),
    });
    expect(queried.status).toBe(200);
    const scraped = await fetch(`${metricsUrl}/metrics`);
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('dockergraph_engine_call_duration_seconds_bucket');
    const main = await fetch(`${url}/metrics`, {
      headers: { authorization: `Bearer ${tokens.admin}` },
    });
    expect(main.status).toBe(404);
  });

  it('serves nothing else: not GraphQL, not other methods', async () => {
    const { metricsUrl } = separate.server;
    const graphql = await fetch(`${metricsUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ engine { name } }' }),
    });
    expect(graphql.status).toBe(404);
    expect((await fetch(`${metricsUrl}/metrics`, { method: 'POST' })).status).toBe(404);
  });
});
