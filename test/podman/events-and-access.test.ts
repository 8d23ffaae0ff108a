// Events on Podman (live, replayed and as history, and containerUpdated), and the rules of
// access that must hold whatever the engine: a token limited to labels neither sees nor acts on
// another label's container (queries, mutations, subscriptions, terminals), and admission
// refuses a dangerous create from a write token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CUSTOM_ROLES, randomToken, tokensEnv } from '../helpers/access.ts';
import { createTestApp, type TestApp, withoutEngineWrites } from '../helpers/app.ts';
import { collectSubscription } from '../helpers/collect-subscription.ts';
import { BASE_IMAGE, EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { type Answer, data, MUTATION_ERROR_FIELDS, run } from './operations.ts';

const fixtures = new EngineFixtures();
const TEAM = { team: `pay-${fixtures.run}` };
const tokens = { admin: randomToken(), limited: randomToken(), deployer: randomToken() };
const env = tokensEnv(
  [
    { id: 'admin', role: 'admin', token: tokens.admin },
    { id: 'payments', role: 'admin', token: tokens.limited, labels: TEAM },
    // Writes without the dangerous permission: the baseline admission level.
    { id: 'deployer', role: 'deployer', token: tokens.deployer },
  ],
  CUSTOM_ROLES,
);

let admin: TestApp;
let limited: TestApp;
let deployer: TestApp;
let live: LiveServer;
let limitedLive: LiveServer;

beforeAll(async () => {
  admin = createTestApp(env, { token: tokens.admin });
  limited = createTestApp(env, { token: tokens.limited });
  deployer = createTestApp(env, { token: tokens.deployer });
  [live, limitedLive] = await Promise.all([
    startLiveServer(undefined, { env, token: tokens.admin }),
    startLiveServer(undefined, { env, token: tokens.limited }),
  ]);
});

afterAll(async () => {
  await Promise.all([live?.close(), limitedLive?.close()]);
  await fixtures.cleanup();
  await Promise.all([admin?.close(), limited?.close(), deployer?.close()]);
});

interface EventMessage {
  readonly kind: string;
  readonly event: {
    readonly action: string;
    readonly type: string | null;
    readonly actor: { readonly id: string };
    readonly container: { readonly name: string } | null;
  } | null;
}

const EVENTS = `subscription ($filter: EventFilter) {
  events(filter: $filter) { kind event { action type actor { id } container { name } } }
}`;

describe('events on Podman', () => {
  it('streams the events of a container as they happen, with the container resolved', async () => {
    const name = fixtures.name('ev-live');
    const collected = collectSubscription(
      'events',
      live.client.iterate<{ events: EventMessage }>({
        query: EVENTS,
        variables: { filter: { labels: [`${TEST_LABEL}=${fixtures.run}`], types: ['CONTAINER'] } },
      }),
    );
    try {
      await waitFor(() => live.server.events.subscriberCount > 0, {
        timeoutMs: 10_000,
        what: 'the subscriber',
      });
      const id = await fixtures.runContainer(name);
      const started = await collected.until(
        (messages) => messages.find((m) => m.event?.action === 'start' && m.event.actor.id === id),
        15_000,
        'the start event',
      );
      expect(started).toEqual({
        kind: 'EVENT',
        event: { action: 'start', type: 'CONTAINER', actor: { id }, container: { name } },
      });
      expect(collected.messages.map((m) => m.event?.action)).toContain('create');
      expect(collected.errors).toEqual([]);
    } finally {
      await collected.stop();
    }
  });

  it('lists past events with eventsHistory', async () => {
    const name = fixtures.name('ev-history');
    const since = new Date(Date.now() - 2_000);
    const id = await fixtures.runContainer(name);
    const history = await waitFor(
      async () => {
        const answer = await data<{
          eventsHistory: {
            truncated: boolean;
            events: { action: string; actor: { id: string } }[];
          };
        }>(
          admin,
          `query ($since: DateTime!, $until: DateTime, $filter: EventFilter) {
            eventsHistory(since: $since, until: $until, filter: $filter) { truncated events { action actor { id } } }
          }`,
          {
            since: since.toISOString(),
            until: new Date(Date.now() + 1_000).toISOString(),
            filter: { containers: [id] },
          },
        );
        const actions = answer.eventsHistory.events.map((event) => event.action);
        return actions.includes('start') ? answer.eventsHistory : null;
      },
      { timeoutMs: 15_000, what: 'the start event in the history' },
    );
    expect(history.truncated).toBe(false);
    expect(history.events.map((event) => event.action)).toEqual(
      expect.arrayContaining(['create', 'start']),
    );
    expect(new Set(history.events.map((event) => event.actor.id))).toEqual(new Set([id]));
  });

  it('keeps a list fresh with containerUpdated: a started container is read anew', async () => {
    const name = fixtures.name('ev-updated');
    const id = await fixtures.createContainer(name);
    const collected = collectSubscription(
      'containerUpdated',
      live.client.iterate<{
        containerUpdated: {
          kind: string;
          action: string | null;
          container: { name: string; state: string } | null;
        };
      }>({
        query: `subscription ($filter: ContainerUpdateFilter) {
          containerUpdated(filter: $filter) { kind action container { name state } }
        }`,
        variables: { filter: { ids: [id] } },
      }),
    );
    try {
      await waitFor(() => live.server.events.subscriberCount > 0, {
        timeoutMs: 10_000,
        what: 'the subscriber',
      });
      await fixtures.startContainer(id);
      const update = await collected.until(
        (messages) => messages.find((m) => m.container?.state === 'RUNNING'),
        15_000,
        'the container read back running',
      );
      expect(update).toEqual({
        kind: 'UPDATED',
        action: 'start',
        container: { name, state: 'RUNNING' },
      });
    } finally {
      await collected.stop();
    }
  });
});

describe('label-limited tokens on Podman', () => {
  const own = fixtures.name('team-own');
  const other = fixtures.name('team-other');
  let ownId = '';
  let otherId = '';

  beforeAll(async () => {
    [ownId, otherId] = await Promise.all([
      fixtures.runContainer(own, { Labels: TEAM }),
      fixtures.runContainer(other),
    ]);
  });

  it('lists and finds only containers carrying its labels', async () => {
    const answer = await data<{
      containers: { edges: { node: { name: string } }[] };
      byName: { name: string } | null;
      byId: { name: string } | null;
      mine: { name: string } | null;
    }>(
      limited,
      `query ($other: String!, $otherId: String!, $own: String!) {
        containers(filter: { labels: ["${TEST_LABEL}=${fixtures.run}"] }) { edges { node { name } } }
        byName: container(idOrName: $other) { name }
        byId: container(idOrName: $otherId) { name }
        mine: container(idOrName: $own) { name }
      }`,
      { other, otherId: otherId.slice(0, 12), own },
    );
    expect(answer.containers.edges.map((edge) => edge.node.name)).toEqual([own]);
    expect(answer).toMatchObject({ byName: null, byId: null, mine: { name: own } });
  });

  it("cannot stop, kill, exec in, rename or remove another label's container", async () => {
    const attempts: Record<string, string> = {
      stopContainer: `stopContainer(id: $id) { ${MUTATION_ERROR_FIELDS} }`,
      killContainer: `killContainer(id: $id) { ${MUTATION_ERROR_FIELDS} }`,
      pauseContainer: `pauseContainer(id: $id) { ${MUTATION_ERROR_FIELDS} }`,
      renameContainer: `renameContainer(id: $id, newName: "${fixtures.name('stolen')}") { ${MUTATION_ERROR_FIELDS} }`,
      execInContainer: `execInContainer(id: $id, input: { cmd: ["true"] }) { ${MUTATION_ERROR_FIELDS} }`,
      execDetached: `execDetached(id: $id, input: { cmd: ["true"] }) { ${MUTATION_ERROR_FIELDS} }`,
      removeContainer: `removeContainer(id: $id, force: true) { ${MUTATION_ERROR_FIELDS} }`,
    };
    for (const target of [other, otherId]) {
      for (const [field, selection] of Object.entries(attempts)) {
        const answer = await withoutEngineWrites(limited, () =>
          data<Record<string, Answer>>(limited, `mutation ($id: String!) { ${selection} }`, {
            id: target,
          }),
        );
        expect({ field, type: answer[field]?.__typename }).toEqual({
          field,
          type: 'NotFoundError',
        });
      }
    }
    const still = await data<{ container: { name: string; state: string } | null }>(
      admin,
      'query ($id: String!) { container(idOrName: $id) { name state } }',
      { id: otherId },
    );
    expect(still.container).toEqual({ name: other, state: 'RUNNING' });
  });

  it("follows neither the logs, the stats nor the events of another label's container", async () => {
    for (const [key, query] of [
      [
        'containerLogs',
        'subscription ($id: String!) { containerLogs(id: $id) { line { message } } }',
      ],
      [
        'containerStats',
        'subscription ($id: String!) { containerStats(ids: [$id]) { containerId } }',
      ],
    ] as const) {
      const collected = collectSubscription(
        key,
        limitedLive.client.iterate<Record<string, unknown>>({ query, variables: { id: other } }),
      );
      await collected.untilEnded(15_000);
      expect(collected.messages).toEqual([]);
      expect(JSON.stringify(collected.errors)).toContain('NOT_FOUND');
    }
    const events = collectSubscription(
      'events',
      limitedLive.client.iterate<{ events: EventMessage }>({
        query: EVENTS,
        variables: { filter: { types: ['CONTAINER'] } },
      }),
    );
    try {
      await waitFor(() => limitedLive.server.events.subscriberCount > 0, {
        timeoutMs: 10_000,
        what: 'the subscriber',
      });
      // One event of each: the other label's first, then its own, which arrives after it.
      await fixtures.send({ method: 'POST', path: `/containers/${otherId}/pause` }, 'pause other');
      await fixtures.send(
        { method: 'POST', path: `/containers/${otherId}/unpause` },
        'unpause other',
      );
      await fixtures.send({ method: 'POST', path: `/containers/${ownId}/pause` }, 'pause own');
      await fixtures.send({ method: 'POST', path: `/containers/${ownId}/unpause` }, 'unpause own');
      await events.until(
        (messages) => messages.find((m) => m.event?.action === 'unpause'),
        15_000,
        'its own unpause',
      );
      expect(new Set(events.messages.map((m) => m.event?.actor.id))).toEqual(new Set([ownId]));
    } finally {
      await events.stop();
    }
  });

  it("opens no terminal on another label's container", async () => {
    const close = (target: string) =>
      new Promise<{ code: number; reason: string }>((resolve) => {
        const socket = new WebSocket(
          `${live.server.url.replace(/^http/, 'ws')}/terminal/local/${target}/exec`,
          [
            'dockergraph.terminal.v1',
            `dockergraph.bearer.${Buffer.from(tokens.limited).toString('base64url')}`,
          ],
        );
        socket.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') }));
      });
    expect(await close(other)).toEqual({ code: 4404, reason: `No such container: ${other}` });
    expect(await close(otherId.slice(0, 12))).toEqual({
      code: 4404,
      reason: `No such container: ${otherId.slice(0, 12)}`,
    });
  });

  it('labels what it creates with its own labels', async () => {
    const name = fixtures.name('team-made');
    const created = await data<{
      createContainer: Answer & { container?: { labels: { name: string; value: string }[] } };
    }>(
      limited,
      `mutation ($input: CreateContainerInput!) {
        createContainer(input: $input) { ${MUTATION_ERROR_FIELDS} ... on ContainerPayload { container { labels { name value } } } }
      }`,
      {
        input: {
          name,
          image: BASE_IMAGE,
          cmd: ['true'],
          labels: [{ name: TEST_LABEL, value: fixtures.run }],
        },
      },
    );
    expect(created.createContainer.container?.labels).toContainEqual({
      name: 'team',
      value: TEAM.team,
    });
  });
});

describe('admission on Podman', () => {
  it('refuses a privileged create from a write token, creating nothing', async () => {
    const name = fixtures.name('privileged');
    const answer = await withoutEngineWrites(deployer, () =>
      deployer.post({
        query: `mutation ($input: CreateContainerInput!) { createContainer(input: $input) { __typename } }`,
        variables: { input: { name, image: BASE_IMAGE, privileged: true } },
      }),
    );
    expect(answer.status).toBe(403);
    expect(answer.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(answer.body.errors?.[0]?.message).toContain(
      'the "baseline" admission level refuses HostConfig.Privileged',
    );
    const found = await run<{ container: unknown }>(
      admin,
      'query ($name: String!) { container(idOrName: $name) { id } }',
      { name },
    );
    expect(found.data?.container).toBeNull();
  });
});
