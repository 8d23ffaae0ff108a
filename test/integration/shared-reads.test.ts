// Engine reads shared between requests (src/docker/shared-reads.ts), over a fault proxy in
// front of the private engine that holds the engine's answers, so that one request's read is
// in flight while others ask: who joins a read and who sends their own, that a read already
// sent is never handed to a request that asked after it (a container created meanwhile is in
// the later answer), how requests that go away are handled, and, through GraphQL, that a
// request of another token that joined a read still gets only what its own token allows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerClient } from '../../src/docker/client.ts';
import { listContainers } from '../../src/docker/containers.ts';
import { graphql } from '../generated/gql.ts';
import { randomToken, tokensEnv } from '../helpers/access.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { collectSubscription } from '../helpers/collect-subscription.ts';
import { EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { createEngineClient } from '../helpers/engine-client.ts';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.ts';
import { busyEngine, HOLD_MS, linesMatching, requestView } from '../helpers/held-reads.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const fixtures = new EngineFixtures();
const runLabel = `${TEST_LABEL}=${fixtures.run}`;
let proxy: FaultProxy;
let client: DockerClient;

const listRun = (view: DockerClient) => listContainers(view, { filters: { labels: [runLabel] } });
const LIST = /^GET \/v[\d.]+\/containers\/json\?/;

beforeAll(async () => {
  proxy = await startFaultProxy();
  client = createEngineClient(proxy.dockerHost);
  await client.connection();
  await fixtures.createContainer(fixtures.name('first'));
});

afterAll(async () => {
  await client?.close();
  await proxy?.close();
  await fixtures.cleanup();
});

describe('shared engine reads', () => {
  it('sends a read once for the requests that ask for it while others are in flight, each with its own copy', async () => {
    proxy.setMode({ kind: 'delay', ms: HOLD_MS });
    const busy = await busyEngine(proxy, client);
    const before = linesMatching(proxy, LIST).length;
    const first = requestView(client);
    const second = requestView(client);
    const [firstList, secondList] = await Promise.all([listRun(first.view), listRun(second.view)]);
    await busy.answered;
    proxy.setMode({ kind: 'pass' });

    expect(linesMatching(proxy, LIST).length - before).toBe(1);
    expect(first.view.joinedReadCount).toBe(0);
    expect(second.view.joinedReadCount).toBe(1);
    expect(second.view.callCount).toBe(0);
    expect(firstList.map((container) => container.Names)).toEqual([[`/${fixtures.name('first')}`]]);
    expect(secondList).toEqual(firstList);
    // Parsed for each: what one request changes in its answer, the other never sees.
    expect(secondList).not.toBe(firstList);
    expect(secondList[0]).not.toBe(firstList[0]);
  });

  it('never hands a read already sent to a request that asks after it: a container created meanwhile is in its answer', async () => {
    proxy.setMode({ kind: 'delay', ms: HOLD_MS });
    const busy = await busyEngine(proxy, client);
    const since = proxy.requestsSeen;
    const earlier = listRun(requestView(client).view);
    await proxy.waitForRequest(LIST, { since });
    // Sent and not answered yet: the engine has read its list. Now a container appears.
    const name = fixtures.name('meanwhile');
    await fixtures.createContainer(name);
    const later = requestView(client);
    const laterList = await listRun(later.view);
    await Promise.all([earlier, busy.answered]);
    proxy.setMode({ kind: 'pass' });

    expect(later.view.joinedReadCount).toBe(0);
    expect(linesMatching(proxy, LIST).slice(-2)).toHaveLength(2);
    expect(laterList.flatMap((container) => container.Names)).toContain(`/${name}`);
  });

  it('lets a request go without cancelling the read of those still waiting; cancels it when all went', async () => {
    proxy.setMode({ kind: 'delay', ms: HOLD_MS });
    const busy = await busyEngine(proxy, client);
    const leaving = requestView(client);
    const staying = requestView(client);
    let since = proxy.requestsSeen;
    const left = listRun(leaving.view);
    const stayed = listRun(staying.view);
    const shared = await proxy.waitForRequest(LIST, { since });
    leaving.leave();
    await expect(left).rejects.toThrow(/went away/);
    const list = await stayed;
    expect(staying.view.joinedReadCount).toBe(1);
    expect(list.length).toBeGreaterThan(0);
    expect(shared.closed).toBeNull();

    since = proxy.requestsSeen;
    const both = [requestView(client), requestView(client)];
    const reads = both.map(({ view }) => listRun(view));
    const cancelled = await proxy.waitForRequest(LIST, { since });
    for (const { leave } of both) leave();
    for (const read of reads) await expect(read).rejects.toThrow(/went away/);
    await proxy.waitForClose(cancelled);
    expect(cancelled.closed).toEqual({ byClient: true, awaitingAnswer: true });
    await busy.answered;
    proxy.setMode({ kind: 'pass' });
  });

  it('sends reads that differ on their own: other filters, headers', async () => {
    proxy.setMode({ kind: 'delay', ms: HOLD_MS });
    const busy = await busyEngine(proxy, client);
    const before = linesMatching(proxy, LIST).length;
    const views = [requestView(client).view, requestView(client).view];
    const [labelled, unlabelled] = await Promise.all([
      listRun(views[0] as DockerClient),
      listContainers(views[1] as DockerClient, { filters: { labels: [`${runLabel}-other`] } }),
    ]);
    expect(linesMatching(proxy, LIST).length - before).toBe(2);
    expect(labelled.length).toBeGreaterThan(0);
    expect(unlabelled).toEqual([]);

    const infoBefore = linesMatching(proxy, /\/info/).length;
    const withHeaders = [requestView(client).view, requestView(client).view].map((view) =>
      view.json({ path: '/info', headers: { 'x-request': 'own' } }, 'info'),
    );
    await Promise.all(withHeaders);
    expect(linesMatching(proxy, /\/info/).length - infoBefore).toBe(2);
    await busy.answered;
    proxy.setMode({ kind: 'pass' });
  });

  it('sends each read on its own with DOCKERGRAPH_SHARED_READS=off', async () => {
    const unshared = createEngineClient(proxy.dockerHost, { sharedReads: false });
    // Negotiated before the proxy holds answers.
    await unshared.connection();
    try {
      proxy.setMode({ kind: 'delay', ms: HOLD_MS });
      const busy = await busyEngine(proxy, client);
      const before = linesMatching(proxy, LIST).length;
      const views = [0, 1].map(() => unshared.withSignal(new AbortController().signal));
      await Promise.all(views.map(listRun));
      expect(linesMatching(proxy, LIST).length - before).toBe(2);
      expect(views.map((view) => view.joinedReadCount)).toEqual([0, 0]);
      await busy.answered;
    } finally {
      proxy.setMode({ kind: 'pass' });
      await unshared.close();
    }
  });
});

describe('shared engine reads through GraphQL', () => {
  const tokens = { admin: randomToken(), viewer: randomToken() };
  const env = tokensEnv([
    { id: 'admin', role: 'admin', token: tokens.admin },
    { id: 'viewer', role: 'viewer', token: tokens.viewer },
  ]);
  const secret = `shared-read-secret-${fixtures.run}`;
  const name = fixtures.name('secret');
  let app: TestApp;

  const CONTAINER = `query SharedReadContainer($name: String!) {
    container(idOrName: $name) { name config { env { name value redacted } } }
  }`;
  interface ContainerAnswer {
    readonly data?: {
      readonly container: {
        readonly name: string;
        readonly config: {
          readonly env: readonly { name: string; value: string | null; redacted: boolean }[];
        };
      } | null;
    };
  }

  beforeAll(async () => {
    app = createTestApp(
      { ...env, DOCKER_HOST: proxy.dockerHost, DOCKERGRAPH_RATE_LIMIT: '0' },
      { token: tokens.admin, metrics: true },
    );
    await fixtures.createContainer(name, { Env: [`SECRET=${secret}`] });
    // The app negotiates with the engine before the proxy holds answers.
    await app.query(graphql(`query SharedReadsWarmUp { engine { version { apiVersion } } }`));
  });

  afterAll(async () => {
    await app?.close();
  });

  it('answers a viewer that joined an admin’s read as the viewer’s token allows', async () => {
    proxy.setMode({ kind: 'delay', ms: HOLD_MS });
    const busy = await busyEngine(proxy, app.docker);
    const inspect = new RegExp(`^GET /v[\\d.]+/containers/${name}/json`);
    const before = linesMatching(proxy, inspect).length;
    const ask = (token: string) =>
      app.post<ContainerAnswer>({ query: CONTAINER, variables: { name } }, { token });
    const [admin, viewer] = await Promise.all([ask(tokens.admin), ask(tokens.viewer)]);
    await busy.answered;
    proxy.setMode({ kind: 'pass' });

    expect(linesMatching(proxy, inspect).length - before).toBe(1);
    expect(admin.body.data?.container?.config.env).toContainEqual({
      name: 'SECRET',
      value: secret,
      redacted: false,
    });
    expect(viewer.body.data?.container?.config.env).toContainEqual({
      name: 'SECRET',
      value: null,
      redacted: true,
    });
    expect(viewer.text).not.toContain(secret);
    // The request that joined counts the read as joined, not as an engine call of its own.
    const metrics = await app.app.fetch('http://localhost/metrics', {
      headers: { authorization: `Bearer ${tokens.admin}` },
    });
    const text = await metrics.text();
    expect(text).toContain(
      'dockergraph_operation_engine_reads_joined_total{type="query",name="SharedReadContainer"} 1',
    );
    expect(text).toContain(
      'dockergraph_operation_engine_calls_sum{type="query",name="SharedReadContainer"} 1',
    );
  });
});

describe('shared engine reads of subscribers', () => {
  const SUBSCRIBERS = 32;
  const limited = randomToken();
  let live: LiveServer;

  beforeAll(async () => {
    live = await startLiveServer(undefined, {
      env: {
        ...tokensEnv([{ id: 'team', role: 'admin', token: limited, labels: { team: 'shared' } }]),
        DOCKERGRAPH_RATE_LIMIT: '0',
      },
    });
  });

  afterAll(async () => {
    await live?.close();
  });

  it('reads an event’s container a constant number of times for many label-limited subscribers over WebSocket', async () => {
    // Label-limited subscribers each execute their events (their results are never shared
    // between subscribers), so each reads the event's container. Their operations have no
    // abort signal over WebSocket: each is still an operation of its own, whose reads meet.
    const query = `subscription SharedReadSubscribers($labels: [String!]) {
      events(filter: { types: [CONTAINER], actions: ["create"], labels: $labels }) {
        kind event { actor { id } container { name config { env { name } } } }
      }
    }`;
    const request = { query, variables: { labels: [runLabel] } };
    const subscribers = Array.from({ length: SUBSCRIBERS }, () =>
      collectSubscription(
        'events',
        live.iterateWithToken<Record<string, unknown>>('websocket', limited, request),
      ),
    );
    await waitFor(() => live.server.events.subscriberCount === SUBSCRIBERS, {
      timeoutMs: 30_000,
      what: 'every subscriber on the event hub',
    });
    const name = fixtures.name('subscribed');
    let id = '';
    const calls = await live.callsDuring(async () => {
      id = await fixtures.createContainer(name, { Labels: { team: 'shared' } });
      for (const each of subscribers) {
        await each.until(
          (messages) => JSON.stringify(messages).includes(name) || undefined,
          30_000,
          'the create event with its container',
        );
      }
    });
    for (const each of subscribers) await each.stop();
    // A limited principal's container is found in the list of the containers it sees, then
    // inspected: two steps. In each, the first subscriber's read goes at once (nothing else
    // is in flight) and the others are held to the end of the turn and join the second. The
    // reads come in waves, one per turn of the event loop in which the previous step's
    // answers arrive: two normally, a few more on a loaded machine (it once took three); a
    // handful in all, however many subscribers, where each read alone before (32 each).
    const lists = calls.filter((call) => call === 'GET /containers/json');
    const inspects = calls.filter((call) => call === `GET /containers/${id}/json`);
    expect(lists.length).toBeGreaterThan(0);
    expect(lists.length).toBeLessThanOrEqual(4);
    expect(inspects.length).toBeGreaterThan(0);
    expect(inspects.length).toBeLessThanOrEqual(8);
  });
});
