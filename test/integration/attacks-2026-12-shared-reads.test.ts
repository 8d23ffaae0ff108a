// Attacks on engine reads shared between requests (src/docker/shared-reads.ts): a hostile
// user tries to get another principal's data through a read it joined (label-limited tokens,
// a viewer's redaction, a role without `secrets`, HTTP batches, subscriptions over WebSocket
// and SSE, the read model, the serverless handler), a stale answer (a read sent before a
// write, through dockergraph or behind its back, handed to a request that asked after it),
// to make other requests fail (a request that leaves, one that runs out of engine calls),
// and to make more engine calls than DOCKERGRAPH_MAX_ENGINE_CALLS allows. A fault proxy in
// front of the private engine holds the engine's answers (test/helpers/fault-proxy.ts), so
// that another read is in flight and requests asked in the same turn join one read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import type { DockerClient } from '../../src/docker/client.ts';
import { listContainers } from '../../src/docker/containers.ts';
import { createFetchHandler } from '../../src/handler.ts';
import { ADMIN_WITHOUT_SECRETS, randomToken, tokensEnv } from '../helpers/access.ts';
import {
  createTestApp,
  type GraphQLResponse,
  type TestApp,
  type TestAppOptions,
} from '../helpers/app.ts';
import { collectSubscription } from '../helpers/collect-subscription.ts';
import { EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { createEngineClient } from '../helpers/engine-client.ts';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.ts';
import { HOLD_MS, linesMatching, requestView, whileBusy } from '../helpers/held-reads.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const fixtures = new EngineFixtures();
const runLabel = `${TEST_LABEL}=${fixtures.run}`;
const SECRET = `joined-secret-${fixtures.run}`;
const names = { blue: fixtures.name('blue'), red: fixtures.name('red') };
const tokens = {
  admin: randomToken(),
  viewer: randomToken(),
  nosecrets: randomToken(),
  blue: randomToken(),
};
const tokenEnv = tokensEnv(
  [
    { id: 'admin', role: 'admin', token: tokens.admin },
    { id: 'viewer', role: 'viewer', token: tokens.viewer },
    { id: 'nosecrets', role: 'nosecrets', token: tokens.nosecrets },
    { id: 'blue', role: 'admin', token: tokens.blue, labels: { team: 'blue' } },
  ],
  { nosecrets: ADMIN_WITHOUT_SECRETS },
);

let proxy: FaultProxy;
let client: DockerClient;

const inspectOf = (name: string) => new RegExp(`^GET /v[\\d.]+/containers/${name}/json`);

interface EnvEntry {
  readonly name: string;
  readonly value: string | null;
  readonly redacted: boolean;
}
interface ContainerData {
  readonly name: string;
  readonly config: { readonly env: readonly EnvEntry[] };
}
type ContainerAnswer = GraphQLResponse<{ readonly container: ContainerData | null }>;

const CONTAINER = `query AttackJoinedContainer($name: String!) {
  container(idOrName: $name) { name config { env { name value redacted } } }
}`;

const secretOf = (container: ContainerData | null | undefined) =>
  container?.config.env.find((entry) => entry.name === 'SECRET');

beforeAll(async () => {
  proxy = await startFaultProxy();
  client = createEngineClient(proxy.dockerHost);
  await client.connection();
  await fixtures.createContainer(names.blue, {
    Env: [`SECRET=${SECRET}`],
    Labels: { team: 'blue' },
  });
  await fixtures.createContainer(names.red, { Env: [`SECRET=${SECRET}`], Labels: { team: 'red' } });
});

afterAll(async () => {
  await client?.close();
  await proxy?.close();
  await fixtures.cleanup();
});

/**
 * An app on the proxied engine with every token, no rate limit and `env` on top, its engine
 * version negotiated before the proxy holds answers.
 */
async function proxiedApp(
  env: Record<string, string>,
  options: Pick<TestAppOptions, 'metrics'> = {},
): Promise<TestApp> {
  const app = createTestApp(
    { ...tokenEnv, DOCKER_HOST: proxy.dockerHost, DOCKERGRAPH_RATE_LIMIT: '0', ...env },
    { token: tokens.admin, ...options },
  );
  try {
    await app.post({ query: '{ engine { version { apiVersion } } }' });
  } catch (error) {
    await app.close();
    throw error;
  }
  return app;
}

describe('shared reads: a request that leaves', () => {
  it('does not fail the requests that join its held read after it left', async () => {
    // Before the fix, the leaving request's read stayed joinable once cancelled: a hostile
    // client that disconnects as it asks made every request asking in that turn fail.
    const stayedList = await whileBusy(proxy, client, async () => {
      const leaving = requestView(client);
      const staying = requestView(client);
      const run = (view: DockerClient) => listContainers(view, { filters: { labels: [runLabel] } });
      const left = run(leaving.view);
      leaving.leave();
      const stayed = run(staying.view);
      await expect(left).rejects.toThrow(/went away/);
      return stayed;
    });
    expect(stayedList.flatMap((container) => container.Names).sort()).toEqual(
      [`/${names.blue}`, `/${names.red}`].sort(),
    );
  });
});

describe('shared reads through GraphQL: attacks', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await proxiedApp({ DOCKERGRAPH_BATCHING: '5' }, { metrics: true });
  });

  afterAll(async () => {
    await app?.close();
  });

  const ask = (token: string, name: string) =>
    app.post<ContainerAnswer>({ query: CONTAINER, variables: { name } }, { token });

  it('answers each token that joined one inspect as its own token allows: labels, redaction, field permissions', async () => {
    const before = linesMatching(proxy, inspectOf(names.red)).length;
    const [admin, viewer, nosecrets, blue] = await whileBusy(proxy, app.docker, () =>
      Promise.all([
        ask(tokens.admin, names.red),
        ask(tokens.viewer, names.red),
        ask(tokens.nosecrets, names.red),
        ask(tokens.blue, names.red),
      ]),
    );
    // One read for all four: the join did happen.
    expect(linesMatching(proxy, inspectOf(names.red)).length - before).toBe(1);
    expect(secretOf(admin.body.data?.container)).toEqual({
      name: 'SECRET',
      value: SECRET,
      redacted: false,
    });
    for (const limited of [viewer, nosecrets]) {
      expect(limited.body.data?.container?.name).toBe(names.red);
      expect(secretOf(limited.body.data?.container)).toEqual({
        name: 'SECRET',
        value: null,
        redacted: true,
      });
      expect(limited.text).not.toContain(SECRET);
    }
    // Outside blue's labels: as if it did not exist.
    expect(blue.body.data?.container).toBeNull();
    expect(blue.text).not.toContain(names.red);
    expect(blue.text).not.toContain(SECRET);
  });

  it('keeps a label-limited token to its labels in lists and batches asked with an admin’s', async () => {
    const LIST = `query AttackJoinedList($labels: [String!]) {
      containers(filter: { labels: $labels }) { edges { node { name config { env { value } } } } }
    }`;
    type ListAnswer = GraphQLResponse<{
      readonly containers: {
        readonly edges: readonly { readonly node: { readonly name: string } }[];
      };
    }>;
    const list = (token: string) =>
      app.post<ListAnswer>({ query: LIST, variables: { labels: [runLabel] } }, { token });
    const batch = [
      { query: CONTAINER, variables: { name: names.red } },
      { query: CONTAINER, variables: { name: names.blue } },
      { query: LIST, variables: { labels: [runLabel] } },
    ];
    const [adminList, blueList, adminBatch, blueBatch] = await whileBusy(proxy, app.docker, () =>
      Promise.all([
        list(tokens.admin),
        list(tokens.blue),
        app.post<GraphQLResponse<Record<string, unknown>>[]>(batch, { token: tokens.admin }),
        app.post<GraphQLResponse<Record<string, unknown>>[]>(batch, { token: tokens.blue }),
      ]),
    );
    const listed = (answer: ListAnswer) =>
      answer.data?.containers.edges.map((edge) => edge.node.name).sort();
    expect(listed(adminList.body)).toEqual([names.blue, names.red].sort());
    expect(listed(blueList.body)).toEqual([names.blue]);
    expect(blueList.text).not.toContain(names.red);

    expect(adminBatch.body).toHaveLength(3);
    expect(adminBatch.text).toContain(names.red);
    expect(blueBatch.body).toHaveLength(3);
    expect(blueBatch.body[0]?.data).toEqual({ container: null });
    expect(JSON.stringify(blueBatch.body[1]?.data)).toContain(names.blue);
    expect(blueBatch.text).not.toContain(names.red);
  });

  it('never hands an inspect sent before a rename through dockergraph to a request asked after it', async () => {
    const id = await fixtures.createContainer(fixtures.name('renamed'));
    const newName = fixtures.name('renamed-now');
    const { earlier, later } = await whileBusy(proxy, app.docker, async () => {
      const since = proxy.requestsSeen;
      const earlier = ask(tokens.admin, id);
      await proxy.waitForRequest(inspectOf(id), { since });
      // The inspect is sent (the engine has read the old name); now the rename.
      const renamed = await app.post({
        query: `mutation AttackRename($id: String!, $newName: String!) {
          renameContainer(id: $id, newName: $newName) { __typename }
        }`,
        variables: { id, newName },
      });
      expect(renamed.body.data).toEqual({ renameContainer: { __typename: 'ContainerPayload' } });
      const later = await ask(tokens.viewer, id);
      return { earlier: await earlier, later };
    });
    expect(earlier.body.data?.container?.name).toBe(fixtures.name('renamed'));
    expect(later.body.data?.container?.name).toBe(newName);
  });

  it('never hands a list sent before a write behind dockergraph’s back to a request asked after it', async () => {
    const LIST = `query AttackLaterList($labels: [String!]) {
      containers(filter: { labels: $labels }) { edges { node { name } } }
    }`;
    const labels = [runLabel, `behind=${fixtures.run}`];
    const name = fixtures.name('behind');
    const later = await whileBusy(proxy, app.docker, async () => {
      const since = proxy.requestsSeen;
      const earlier = app.post({ query: LIST, variables: { labels } }, { token: tokens.viewer });
      await proxy.waitForRequest(/^GET \/v[\d.]+\/containers\/json\?/, { since });
      // As `docker create` would: straight to the engine, not through dockergraph.
      await fixtures.createContainer(name, { Labels: { behind: fixtures.run } });
      const later = await app.post(
        { query: LIST, variables: { labels } },
        { token: tokens.viewer },
      );
      await earlier;
      return later;
    });
    expect(later.text).toContain(name);
  });

  it('keeps each request to its own engine-call budget: joined reads count, and one over budget fails nobody else', async () => {
    const budgeted = await proxiedApp({ DOCKERGRAPH_MAX_ENGINE_CALLS: '1' });
    try {
      const TWO = `query AttackTwoReads($a: String!, $b: String!) {
        a: container(idOrName: $a) { name }
        b: container(idOrName: $b) { name }
      }`;
      const post = (query: string, variables: Record<string, string>) =>
        budgeted.post<GraphQLResponse<Record<string, { name: string } | null>>>({
          query,
          variables,
        });
      const before = linesMatching(proxy, /^GET \/v[\d.]+\/containers\/[^/]+\/json/).length;
      const [greedy, alsoGreedy, modest] = await whileBusy(proxy, budgeted.docker, () =>
        Promise.all([
          post(TWO, { a: names.red, b: names.blue }),
          post(TWO, { a: names.red, b: names.blue }),
          post(`query AttackOneRead($a: String!) { a: container(idOrName: $a) { name } }`, {
            a: names.red,
          }),
        ]),
      );
      for (const answer of [greedy, alsoGreedy]) {
        // Each of the two may make one call: one container answers, the other runs out.
        const codes = (answer.body.errors ?? []).map((error) => error.extensions?.code);
        expect(codes).toEqual(['ENGINE_CALL_BUDGET_EXCEEDED']);
      }
      expect(modest.body).toEqual({ data: { a: { name: names.red } } });
      // Three requests of one allowed call each: never more than three calls sent.
      const sent = linesMatching(proxy, /^GET \/v[\d.]+\/containers\/[^/]+\/json/).length - before;
      expect(sent).toBeLessThanOrEqual(3);
      expect(sent).toBeGreaterThanOrEqual(1);
    } finally {
      await budgeted.close();
    }
  });
});

describe('shared reads with the read model and through the serverless handler', () => {
  it('answers a viewer that joined an admin’s read with the read model on as the viewer’s token allows', async () => {
    const modelled = await proxiedApp({ DOCKERGRAPH_READ_MODEL: 'on' });
    try {
      const ask = (token: string, name: string) =>
        modelled.post<ContainerAnswer>({ query: CONTAINER, variables: { name } }, { token });
      const [admin, viewer, blue] = await whileBusy(proxy, modelled.docker, () =>
        Promise.all([
          ask(tokens.admin, names.blue),
          ask(tokens.viewer, names.blue),
          ask(tokens.blue, names.red),
        ]),
      );
      expect(secretOf(admin.body.data?.container)?.value).toBe(SECRET);
      expect(secretOf(viewer.body.data?.container)).toEqual({
        name: 'SECRET',
        value: null,
        redacted: true,
      });
      expect(viewer.text).not.toContain(SECRET);
      expect(blue.body.data?.container).toBeNull();
    } finally {
      await modelled.close();
    }
  });

  it('answers each token through the serverless handler (fetch transport) as its own token allows', async () => {
    const handler = createFetchHandler(() =>
      loadConfig({
        ...tokenEnv,
        HOME: '/nonexistent',
        DOCKER_HOST: proxy.dockerHost,
        DOCKERGRAPH_ENGINE_TRANSPORT: 'fetch',
        DOCKERGRAPH_RATE_LIMIT: '0',
        DOCKERGRAPH_AUDIT: 'off',
        LOG_LEVEL: 'silent',
      }),
    );
    const post = async (token: string, name: string, signal?: AbortSignal) => {
      const response = await handler.fetch(
        new Request('http://edge.example/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: CONTAINER, variables: { name } }),
          ...(signal ? { signal } : {}),
        }),
      );
      return { text: await response.text(), status: response.status };
    };
    // Negotiated before the proxy holds answers.
    await post(tokens.admin, names.blue);
    const before = linesMatching(proxy, inspectOf(names.red)).length;
    // The handler's own client is not reachable from here: another read held at the proxy
    // keeps it busy only through requests, so a slow first request is asked first.
    proxy.setMode({ kind: 'delay', ms: HOLD_MS });
    try {
      const leaving = new AbortController();
      const since = proxy.requestsSeen;
      const first = post(tokens.admin, names.blue, leaving.signal).catch((error: unknown) => error);
      await proxy.waitForRequest(inspectOf(names.blue), { since });
      const answers = Promise.all([
        post(tokens.admin, names.red),
        post(tokens.viewer, names.red),
        post(tokens.blue, names.red),
      ]);
      leaving.abort(new DOMException('the client went away', 'AbortError'));
      const [admin, viewer, blue] = await answers;
      await first;
      const parse = (text: string) => JSON.parse(text) as ContainerAnswer;
      expect(linesMatching(proxy, inspectOf(names.red)).length - before).toBeGreaterThanOrEqual(1);
      expect(secretOf(parse(admin.text).data?.container)?.value).toBe(SECRET);
      expect(secretOf(parse(viewer.text).data?.container)).toEqual({
        name: 'SECRET',
        value: null,
        redacted: true,
      });
      expect(viewer.text).not.toContain(SECRET);
      expect(parse(blue.text).data?.container).toBeNull();
      expect(blue.text).not.toContain(SECRET);
    } finally {
      proxy.setMode({ kind: 'pass' });
    }
  });
});

describe('shared reads in subscriptions: attacks', () => {
  let live: LiveServer;

  beforeAll(async () => {
    live = await startLiveServer(proxy.dockerHost, {
      env: { ...tokenEnv, DOCKERGRAPH_RATE_LIMIT: '0' },
    });
  });

  afterAll(async () => {
    await live?.close();
  });

  it('hands each subscriber of an event only what its own token allows, over WebSocket and SSE', async () => {
    const query = `subscription AttackJoinedEvents($labels: [String!]) {
      events(filter: { types: [CONTAINER], actions: ["start"], labels: $labels }) {
        kind event { action actor { id } container { name config { env { name value redacted } } } }
      }
    }`;
    const request = { query, variables: { labels: [runLabel] } };
    const subscribers = (['websocket', 'sse'] as const).flatMap((transport) =>
      (['admin', 'viewer', 'blue'] as const).map((token) => ({
        token,
        transport,
        collected: collectSubscription(
          'events',
          live.iterateWithToken<Record<string, unknown>>(transport, tokens[token], request),
        ),
      })),
    );
    // Every subscriber is on the event hub before the events it must see.
    await waitFor(
      () => {
        const failed = subscribers.filter((each) => each.collected.errors.length > 0);
        if (failed.length > 0) throw new Error(JSON.stringify(failed[0]?.collected.errors));
        return live.server.events.subscriberCount === subscribers.length;
      },
      { timeoutMs: 30_000, what: 'every subscriber on the event hub' },
    );
    const ids = {
      blue: await fixtures.createContainer(fixtures.name('ev-blue'), {
        Env: [`SECRET=${SECRET}`],
        Labels: { team: 'blue' },
      }),
      red: await fixtures.createContainer(fixtures.name('ev-red'), {
        Env: [`SECRET=${SECRET}`],
        Labels: { team: 'red' },
      }),
    };
    const mentions = (id: string) => (messages: readonly unknown[]) =>
      JSON.stringify(messages).includes(id) || undefined;
    // Both starts with another read held: the subscribers' per-event inspects meet.
    await whileBusy(proxy, live.docker, async () => {
      await Promise.all([fixtures.startContainer(ids.blue), fixtures.startContainer(ids.red)]);
      for (const each of subscribers) {
        const what = `${each.token} over ${each.transport}`;
        await each.collected.until(mentions(ids.blue), 30_000, `${what}: the blue start`);
        if (each.token !== 'blue') {
          await each.collected.until(mentions(ids.red), 30_000, `${what}: the red start`);
        }
      }
    });
    for (const each of subscribers) {
      const what = `${each.token} over ${each.transport}`;
      const text = JSON.stringify(each.collected.messages);
      expect(each.collected.errors, what).toEqual([]);
      // Admins (blue is one, limited to its labels) read the secret; the viewer never does.
      if (each.token === 'viewer') expect(text, what).not.toContain(SECRET);
      else expect(text, what).toContain(SECRET);
      if (each.token === 'blue') {
        expect(text, what).not.toContain(ids.red);
        expect(text, what).not.toContain(fixtures.name('ev-red'));
      }
    }
    for (const each of subscribers) await each.collected.stop();
  });
});
