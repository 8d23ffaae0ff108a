// Live engine events: the `events` subscription over WebSocket (graphql-ws) and SSE
// (graphql-sse), one upstream `GET /events` shared by every subscriber, and a dropped upstream
// resumed without gap or repeat. The server reaches the engine through a fault proxy, so that
// the test sees (and cuts) the upstream connection itself.
import { createHash } from 'node:crypto';
import { print } from 'graphql';
import { createClient as createSseClient } from 'graphql-sse';
import { type Client, createClient as createWsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config.ts';
import type { EngineCallRecord } from '../../src/docker/client.ts';
import { createDockerClient } from '../../src/docker/create-docker-client.ts';
import { EventHub, type EventMessage } from '../../src/docker/event-hub.ts';
import { createLogger } from '../../src/logger.ts';
import { type RunningServer, startServer } from '../../src/server.ts';
import { graphql } from '../generated/gql.ts';
import type { EventsOfLabelledContainersSubscription } from '../generated/graphql.ts';
import {
  type CollectedSubscription,
  collectSubscription,
} from '../helpers/collect-subscription.ts';
import { EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { createEngineClient } from '../helpers/engine-client.ts';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';
import { Changes, waitFor } from '../helpers/wait-for.ts';

const EventsSubscription = graphql(`
  subscription EventsOfLabelledContainers($filter: EventFilter, $since: DateTime) {
    events(filter: $filter, since: $since) {
      kind
      reason
      event {
        type
        action
        timeNano
        actor { id attributes { name value } }
        container { name }
      }
    }
  }
`);

type Message = EventsOfLabelledContainersSubscription['events'];

const ACTIONS = ['create', 'start', 'die', 'destroy'];

const ObjectEventsSubscription = graphql(`
  subscription EventsOfVolumeAndNetwork($filter: EventFilter) {
    events(filter: $filter) {
      kind
      event {
        type
        action
        actor { id attributes { name value } }
        volume { name }
        network { name }
      }
    }
  }
`);

type Received = CollectedSubscription<Message>;

function actionsOf(received: Received): (string | null | undefined)[] {
  return received.messages.map((message) =>
    message.kind === 'EVENT' ? message.event?.action : `RESYNC: ${message.reason}`,
  );
}

describe('events subscription', () => {
  const fixtures = new EngineFixtures();
  const calls: EngineCallRecord[] = [];
  const wsClients: Client[] = [];
  let proxy: FaultProxy;
  let running: RunningServer;
  let live: LiveServer | undefined;

  function wsClient(url = running.url): Client {
    const client = createWsClient({
      url: `${url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
    });
    wsClients.push(client);
    return client;
  }

  function filterFor(scenario: string) {
    return {
      filter: {
        types: ['CONTAINER' as const],
        actions: ACTIONS,
        labels: [`${TEST_LABEL}=${fixtures.run}`, `dg.events=${scenario}`],
      },
    };
  }

  function subscribeWs(client: Client, scenario: string, since?: Date): Received {
    return collectSubscription(
      'events',
      client.iterate<{ events: Message }>({
        query: print(EventsSubscription),
        variables: { ...filterFor(scenario), ...(since ? { since: since.toISOString() } : {}) },
      }),
    );
  }

  async function untilSubscribers(count: number, server = running): Promise<void> {
    await waitFor(() => server.events.subscriberCount === count, {
      timeoutMs: 10_000,
      what: `${count} subscribers of the event hub`,
    });
  }

  function createLabelled(scenario: string, base = scenario): Promise<string> {
    return fixtures.createContainer(fixtures.name(`events-${base}`), {
      Labels: { 'dg.events': scenario },
    });
  }

  async function stopAndRemove(id: string): Promise<void> {
    await fixtures.send(
      { method: 'POST', path: `/containers/${id}/stop`, query: { t: 0 }, acceptStatus: [304] },
      'stop test container',
    );
    await fixtures.send({ method: 'DELETE', path: `/containers/${id}` }, 'remove test container');
  }

  beforeAll(async () => {
    proxy = await startFaultProxy();
    live = await startLiveServer(proxy.dockerHost, {
      env: { DOCKERGRAPH_CONNECT_TIMEOUT_MS: '2000' },
    });
    live.docker.observe((call) => calls.push(call));
    running = live.server;
  });

  afterAll(async () => {
    try {
      await Promise.all(wsClients.map((client) => client.dispose()));
      await live?.close();
      await proxy?.close();
    } finally {
      await fixtures.cleanup();
    }
  });

  it('streams create, start, die and destroy of a labelled container over WebSocket, with the container linked while it exists', async () => {
    const received = subscribeWs(wsClient(), 'ws');
    await untilSubscribers(1);
    const id = await createLabelled('ws');
    await received.untilCount(1, 10_000);
    await fixtures.startContainer(id);
    await received.untilCount(2, 10_000);
    await stopAndRemove(id);
    await received.untilCount(4, 10_000);
    await received.stop();

    expect(received.errors).toEqual([]);
    expect(actionsOf(received)).toEqual(ACTIONS);
    for (const message of received.messages) {
      expect(message.event).toMatchObject({ type: 'CONTAINER', actor: { id } });
      expect(message.event?.actor.attributes).toContainEqual({ name: 'dg.events', value: 'ws' });
      expect(message.event?.timeNano).toMatch(/^\d{19}$/);
    }
    // Each event reads the engine anew: linked while it exists, null once destroyed.
    expect(received.messages[0]?.event?.container).toEqual({ name: fixtures.name('events-ws') });
    expect(received.messages[3]?.event?.container).toBeNull();
    await untilSubscribers(0);
  });

  it('decides an event once per distinct filter: equal filters get the same events, other filters only theirs', async () => {
    // The hub runs each distinct filter once per event and hands its verdict to every
    // subscriber of that filter (event-hub.ts): subscribers whose filters differ in one
    // label value, in the actions, or only in the order of their labels must each still
    // receive exactly what their own filter lets through.
    const subscribe = (filter: ReturnType<typeof filterFor>['filter']) =>
      collectSubscription(
        'events',
        wsClient().iterate<{ events: Message }>({
          query: print(EventsSubscription),
          variables: { filter },
        }),
      );
    const same = filterFor('verdict-a').filter;
    const first = subscribe(same);
    const second = subscribe(same);
    const reordered = subscribe({ ...same, labels: [...same.labels].reverse() });
    const fewerActions = subscribe({ ...same, actions: ['start', 'destroy'] });
    const otherLabel = subscribe(filterFor('verdict-b').filter);
    await untilSubscribers(5);

    const id = await createLabelled('verdict-a');
    await fixtures.startContainer(id);
    await stopAndRemove(id);
    for (const received of [first, second, reordered]) await received.untilCount(4, 10_000);
    await fewerActions.untilCount(2, 10_000);
    // Broadcast after every event of the first container: had one of those passed the
    // other label's filter, it would come before this one.
    const otherId = await createLabelled('verdict-b');
    await otherLabel.untilCount(1, 10_000);
    await Promise.all(
      [first, second, reordered, fewerActions, otherLabel].map((received) => received.stop()),
    );
    await stopAndRemove(otherId);

    for (const received of [first, second, reordered]) {
      expect(received.errors).toEqual([]);
      expect(actionsOf(received)).toEqual(ACTIONS);
      expect(received.messages.map((message) => message.event?.actor.id)).toEqual([id, id, id, id]);
    }
    expect(actionsOf(fewerActions)).toEqual(['start', 'destroy']);
    expect(actionsOf(otherLabel)).toEqual(['create']);
    expect(otherLabel.messages[0]?.event?.actor.id).toBe(otherId);
    await untilSubscribers(0);
  });

  it('streams the same over SSE', async () => {
    const client = createSseClient({ url: `${running.url}/graphql`, retryAttempts: 0 });
    try {
      const received = collectSubscription(
        'events',
        client.iterate<{ events: Message }>({
          query: print(EventsSubscription),
          variables: filterFor('sse'),
        }),
      );
      await untilSubscribers(1);
      const id = await createLabelled('sse');
      await received.untilCount(1, 10_000);
      await fixtures.startContainer(id);
      await stopAndRemove(id);
      await received.untilCount(4, 10_000);
      await received.stop();
      expect(received.errors).toEqual([]);
      expect(actionsOf(received)).toEqual(ACTIONS);
      expect(received.messages.map((message) => message.event?.actor.id)).toEqual(
        ACTIONS.map(() => id),
      );
      await untilSubscribers(0);
    } finally {
      client.dispose();
    }
  });

  it('serves 50 subscribers with one upstream /events connection, closed when they all left', async () => {
    await waitFor(() => !running.events.upstreamOpen, {
      timeoutMs: 10_000,
      what: 'no upstream left from earlier tests',
    });
    const eventsCallsBefore = calls.filter((call) => call.path === '/events').length;
    const requestsBefore = proxy.requestsSeen;
    const subscribers = Array.from({ length: 50 }, () => subscribeWs(wsClient(), 'many'));
    await untilSubscribers(50);
    const upstream = await proxy.waitForRequest(/^GET \/v[\d.]+\/events/, {
      since: requestsBefore,
    });

    const id = await createLabelled('many');
    await Promise.all(subscribers.map((received) => received.untilCount(1, 10_000)));
    for (const received of subscribers) {
      expect(received.messages).toEqual([
        expect.objectContaining({
          kind: 'EVENT',
          event: expect.objectContaining({
            action: 'create',
            actor: expect.objectContaining({ id }),
          }),
        }),
      ]);
    }
    expect(calls.filter((call) => call.path === '/events').length - eventsCallsBefore).toBe(1);

    await Promise.all(subscribers.map((received) => received.stop()));
    await untilSubscribers(0);
    await proxy.waitForClose(upstream);
    expect(upstream.closed).toMatchObject({ byClient: true });
    expect(running.events.upstreamOpen).toBe(false);
    expect(calls.filter((call) => call.path === '/events').length - eventsCallsBefore).toBe(1);
    await stopAndRemove(id);
  });

  it('resumes a dropped upstream: events made while it was cut arrive once, in order', async () => {
    const received = subscribeWs(wsClient(), 'drop');
    await untilSubscribers(1);
    const first = await createLabelled('drop', 'drop-1');
    await received.untilCount(1, 10_000);

    const opened = running.events.upstreamConnections;
    proxy.setMode({ kind: 'refuse' });
    proxy.cutAll();
    await waitFor(() => !running.events.upstreamOpen, {
      timeoutMs: 10_000,
      what: 'the upstream to be seen as dropped',
    });
    // Made straight on the engine while the app cannot reach it.
    await fixtures.startContainer(first);
    await stopAndRemove(first);
    expect(received.messages).toHaveLength(1);
    proxy.setMode({ kind: 'pass' });

    await received.untilCount(4, 15_000);
    // A later event proves that nothing was repeated before it.
    const second = await createLabelled('drop', 'drop-2');
    await received.untilCount(5, 10_000);
    await received.stop();

    expect(received.errors).toEqual([]);
    expect(actionsOf(received)).toEqual([...ACTIONS, 'create']);
    expect(received.messages.map((message) => message.event?.actor.id)).toEqual([
      first,
      first,
      first,
      first,
      second,
    ]);
    expect(running.events.upstreamConnections).toBeGreaterThan(opened);
    await fixtures.send(
      { method: 'DELETE', path: `/containers/${second}`, query: { force: true } },
      'remove test container',
    );
  });

  it('delivers events the engine publishes out of timestamp order, each once', async () => {
    const received = subscribeWs(wsClient(), 'swap');
    await untilSubscribers(1);
    // The engine stamps an event before it publishes it: the events of operations running at
    // once come out of timestamp order. The proxy sends these two creates the other way round.
    proxy.setMode({ kind: 'swap-events' });
    let first = '';
    let second = '';
    try {
      first = await createLabelled('swap', 'swap-1');
      second = await createLabelled('swap', 'swap-2');
      await received.untilCount(2, 10_000);
    } finally {
      proxy.setMode({ kind: 'pass' });
    }
    // A later event shows nothing else came.
    const third = await createLabelled('swap', 'swap-3');
    await received.untilCount(3, 10_000);
    await received.stop();
    expect(received.errors).toEqual([]);
    expect(received.messages.map((message) => [message.kind, message.event?.actor.id])).toEqual([
      ['EVENT', second],
      ['EVENT', first],
      ['EVENT', third],
    ]);
    for (const id of [first, second, third]) {
      await fixtures.send({ method: 'DELETE', path: `/containers/${id}` }, 'remove test container');
    }
  });

  it('replays the events since a given time, then goes on live without repeating them', async () => {
    const before = new Date(Date.now() - 1_000);
    const id = await createLabelled('since');
    await fixtures.startContainer(id);
    const received = subscribeWs(wsClient(), 'since', before);
    await received.untilCount(2, 10_000);
    await untilSubscribers(1);
    await stopAndRemove(id);
    await received.untilCount(4, 10_000);
    await received.stop();
    expect(received.errors).toEqual([]);
    expect(actionsOf(received)).toEqual(ACTIONS);
    await untilSubscribers(0);
  });

  it('answers malformed subscriptions with errors, keeping the socket open', async () => {
    let connections = 0;
    const client = createWsClient({
      url: `${running.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazyCloseTimeout: 10_000,
      on: { connected: () => (connections += 1) },
    });
    wsClients.push(client);
    const syntax = collectSubscription(
      'events',
      client.iterate<{ events: Message }>({ query: 'subscription {' }),
    );
    await syntax.untilEnded(10_000);
    expect(JSON.stringify(syntax.errors)).toMatch(/Syntax Error/);
    const badLabel = collectSubscription(
      'events',
      client.iterate<{ events: Message }>({
        query: print(EventsSubscription),
        variables: { filter: { labels: ['=x'] } },
      }),
    );
    await badLabel.untilEnded(10_000);
    expect(JSON.stringify(badLabel.errors)).toMatch(/filter\.labels\[0\].*BAD_USER_INPUT/);
    expect(badLabel.messages).toEqual([]);
    // The same socket still serves.
    const received = subscribeWs(client, 'after-errors');
    await untilSubscribers(1);
    const id = await createLabelled('after-errors');
    await received.untilCount(1, 10_000);
    await received.stop();
    expect(actionsOf(received)).toEqual(['create']);
    expect(connections).toBe(1);
    await untilSubscribers(0);
    await fixtures.send(
      { method: 'DELETE', path: `/containers/${id}`, query: { force: true } },
      'remove test container',
    );
  });

  it('gives a subscriber that falls behind a resync and ends its stream, without disturbing the others', async () => {
    const hub = new EventHub(fixtures.engine, { bufferSize: 2 });
    try {
      const filter = { labels: [`${TEST_LABEL}=${fixtures.run}`, 'dg.events=slow'] };
      const slow = hub.subscribe({ filter });
      const reader = hub.subscribe({ filter });
      const seen: EventMessage[] = [];
      const read = (async () => {
        for await (const message of reader) {
          seen.push(message);
          if (message.kind === 'event' && message.event.Action === 'destroy') break;
        }
      })();
      const id = await createLabelled('slow');
      await fixtures.startContainer(id);
      await stopAndRemove(id);
      await read;

      const slowMessages: EventMessage[] = [];
      for await (const message of slow) slowMessages.push(message);
      expect(slowMessages.map((message) => message.kind)).toEqual(['event', 'event', 'resync']);
      expect(slowMessages[2]).toMatchObject({ reason: expect.stringMatching(/fell behind/) });
      expect(seen.every((message) => message.kind === 'event')).toBe(true);
      expect(seen.length).toBeGreaterThan(2);
      expect(hub.subscriberCount).toBe(0);
      expect(hub.upstreamConnections).toBe(1);
      // What `/metrics` reads as dockergraph_event_resyncs_total: one subscriber fell behind.
      expect(hub.resyncCount).toBe(1);
    } finally {
      hub.close();
    }
  });

  it('hands an event to 200 subscribers a few at a time (the first finish with it before the last are handed it) and to an immediate one at once, all of them every event in order', async () => {
    const hub = new EventHub(fixtures.engine);
    try {
      const filter = { labels: [`${TEST_LABEL}=${fixtures.run}`, 'dg.events=many'] };
      const subscriptions = Array.from({ length: 200 }, () => hub.subscribe({ filter }));
      // The read model's way: subscribed last, handed each event before the hub yields.
      const immediate = hub.subscribe({ filter, immediate: true });
      const immediateActions: string[] = [];
      let lastHadCreateWhenImmediateRead: boolean | null = null;
      const actions = subscriptions.map(() => [] as string[]);
      // Whether the first subscriber had finished with the create event (several awaits, as
      // graphql-ws's message and write are) by the time the last one read it.
      let firstDoneWhenLastRead: boolean | null = null;
      let firstDone = false;
      const reads = subscriptions.map(async (subscription, index) => {
        for await (const message of subscription) {
          if (message.kind !== 'event') continue;
          actions[index]?.push(message.event.Action);
          if (message.event.Action === 'create') {
            if (index === subscriptions.length - 1) firstDoneWhenLastRead = firstDone;
            for (let step = 0; step < 5; step += 1) await Promise.resolve();
            if (index === 0) firstDone = true;
          }
          if (message.event.Action === 'destroy') break;
        }
      });
      const immediateRead = (async () => {
        for await (const message of immediate) {
          if (message.kind !== 'event') continue;
          immediateActions.push(message.event.Action);
          if (message.event.Action === 'create') {
            lastHadCreateWhenImmediateRead = actions.at(-1)?.includes('create') ?? false;
          }
          if (message.event.Action === 'destroy') break;
        }
      })();
      const id = await createLabelled('many');
      await fixtures.startContainer(id);
      await stopAndRemove(id);
      await Promise.all([...reads, immediateRead]);

      expect(firstDoneWhenLastRead).toBe(true);
      expect(lastHadCreateWhenImmediateRead).toBe(false);
      const expected = ['create', 'start', 'die', 'destroy'];
      for (const seen of [...actions, immediateActions]) {
        expect(seen.filter((action) => expected.includes(action))).toEqual(expected);
      }
      expect(hub.subscriberCount).toBe(0);
    } finally {
      hub.close();
    }
  });

  it('hands a subscriber replaying `since` an event once when the event came during its replay and the others are handed it in turns', async () => {
    // Through the proxy, which holds the create event back from the hub's live stream until
    // the replay has been asked for: the event then comes live while the replay runs.
    const hub = new EventHub(createEngineClient(proxy.dockerHost));
    const filter = { labels: [`${TEST_LABEL}=${fixtures.run}`, 'dg.events=replay-turns'] };
    // Handed the event before the replaying subscriber, in turns of the event loop, in which
    // the replay's answer comes and ends. Each does some work with it, as a GraphQL execution
    // and its write do (hashing stands in for them), so that those turns last.
    const crowd = Array.from({ length: 320 }, () => hub.subscribe({ filter }));
    const work = Buffer.alloc(256 * 1024, 1);
    const crowdReads = crowd.map(async (subscription) => {
      for await (const message of subscription) {
        createHash('sha256').update(work).digest();
        if (message.kind === 'event' && message.event.Action === 'destroy') break;
      }
    });
    let id = '';
    try {
      await waitFor(() => hub.upstreamOpen, { timeoutMs: 10_000, what: 'the hub upstream' });
      const since = new Date(Date.now() - 1_000);
      proxy.setMode({ kind: 'swap-events' });
      id = await createLabelled('replay-turns');
      const requests = proxy.requestsSeen;
      const replaying = hub.subscribe({ filter, since });
      await proxy.waitForRequest(/\/events\?.*until=/, { since: requests });
      // The held create goes to the hub now, while the engine has not answered the replay.
      proxy.setMode({ kind: 'pass' });
      const actions: string[] = [];
      const replayRead = (async () => {
        for await (const message of replaying) {
          actions.push(message.kind === 'event' ? message.event.Action : message.kind);
          if (message.kind === 'event' && message.event.Action === 'destroy') break;
        }
      })();
      // A later event shows whether the create came twice.
      await fixtures.send({ method: 'DELETE', path: `/containers/${id}` }, 'remove test container');
      id = '';
      await Promise.all([...crowdReads, replayRead]);
      expect(actions).toEqual(['create', 'destroy']);
      expect(hub.subscriberCount).toBe(0);
    } finally {
      proxy.setMode({ kind: 'pass' });
      hub.close();
      if (id) {
        await fixtures.send(
          { method: 'DELETE', path: `/containers/${id}`, query: { force: true } },
          'remove test container',
        );
      }
    }
  });

  it('hands a subscriber replaying `since` an event once when its live copy comes after the replay ended', async () => {
    // The proxy holds the create back from the hub's live stream until the replay, which
    // gave it, has ended: its live copy comes after.
    const hub = new EventHub(createEngineClient(proxy.dockerHost));
    const filter = { labels: [`${TEST_LABEL}=${fixtures.run}`, 'dg.events=replay-late'] };
    const keepsUpstream = hub.subscribe({ filter: { types: ['none'] } });
    let id = '';
    try {
      await waitFor(() => hub.upstreamOpen, { timeoutMs: 10_000, what: 'the hub upstream' });
      const since = new Date(Date.now() - 1_000);
      proxy.setMode({ kind: 'swap-events' });
      id = await createLabelled('replay-late');
      const requests = proxy.requestsSeen;
      const replaying = hub.subscribe({ filter, since });
      const actions: string[] = [];
      const read = (async () => {
        for await (const message of replaying) {
          actions.push(message.kind === 'event' ? message.event.Action : message.kind);
          if (message.kind === 'event' && message.event.Action === 'destroy') break;
        }
      })();
      // The replay's answer ended, the create in it.
      const replay = await proxy.waitForRequest(/\/events\?.*until=/, { since: requests });
      await proxy.waitForAnswerEnd(replay);
      await waitFor(() => actions.includes('create'), {
        timeoutMs: 10_000,
        what: 'the replayed create',
      });
      proxy.setMode({ kind: 'pass' });
      // A later event shows whether the create came twice.
      await fixtures.send({ method: 'DELETE', path: `/containers/${id}` }, 'remove test container');
      id = '';
      await read;
      expect(actions).toEqual(['create', 'destroy']);
    } finally {
      proxy.setMode({ kind: 'pass' });
      await keepsUpstream.return?.();
      hub.close();
      if (id) {
        await fixtures.send(
          { method: 'DELETE', path: `/containers/${id}`, query: { force: true } },
          'remove test container',
        );
      }
    }
  });

  it("replays up to the engine's time, not this server's: a server whose clock runs behind the engine's still gets the event made just before it subscribed", async () => {
    // This process's clock three seconds behind the engine's, which stamps the events.
    const realNow = Date.now.bind(Date);
    const clock = vi.spyOn(Date, 'now').mockImplementation(() => realNow() - 3_000);
    const hub = new EventHub(fixtures.engine);
    const filter = { labels: [`${TEST_LABEL}=${fixtures.run}`, 'dg.events=replay-skew'] };
    const keepsUpstream = hub.subscribe({ filter: { types: ['none'] } });
    let id = '';
    try {
      await waitFor(() => hub.upstreamOpen, { timeoutMs: 10_000, what: 'the hub upstream' });
      // Seen live before the subscriber comes: only its replay can give it the create.
      const watcher = hub.subscribe({ filter, immediate: true });
      id = await createLabelled('replay-skew');
      for await (const message of watcher) {
        if (message.kind === 'event' && message.event.Action === 'create') break;
      }
      // Two seconds back by this server's clock.
      const replaying = hub.subscribe({ filter, since: new Date(Date.now() - 2_000) });
      const actions: string[] = [];
      const read = (async () => {
        for await (const message of replaying) {
          actions.push(message.kind === 'event' ? message.event.Action : message.kind);
          if (message.kind === 'event' && message.event.Action === 'destroy') break;
        }
      })();
      await waitFor(() => actions.length > 0, { timeoutMs: 10_000, what: 'the replay' });
      // A later event ends the read, whether or not the create came.
      await fixtures.send({ method: 'DELETE', path: `/containers/${id}` }, 'remove test container');
      id = '';
      await read;
      expect(actions).toEqual(['create', 'destroy']);
    } finally {
      clock.mockRestore();
      await keepsUpstream.return?.();
      hub.close();
      if (id) {
        await fixtures.send(
          { method: 'DELETE', path: `/containers/${id}`, query: { force: true } },
          'remove test container',
        );
      }
    }
  });

  it("replays `since` up to this server's time when the engine does not answer GET /info (a socket proxy allowing only events)", async () => {
    // The engine's clock is asked for the replay's cut-off; an engine behind a proxy that
    // refuses /info still streams events, and its replay must not fail for the clock.
    const hub = new EventHub(createEngineClient(proxy.dockerHost));
    const filter = { labels: [`${TEST_LABEL}=${fixtures.run}`, 'dg.events=replay-no-info'] };
    const keepsUpstream = hub.subscribe({ filter: { types: ['none'] } });
    let id = '';
    try {
      await waitFor(() => hub.upstreamOpen, { timeoutMs: 10_000, what: 'the hub upstream' });
      const since = new Date(Date.now() - 1_000);
      id = await createLabelled('replay-no-info');
      proxy.setMode({ kind: 'drop', pattern: /^GET \/v[\d.]+\/info/ });
      const replaying = hub.subscribe({ filter, since });
      const actions: string[] = [];
      const read = (async () => {
        for await (const message of replaying) {
          actions.push(message.kind === 'event' ? message.event.Action : message.kind);
          if (message.kind === 'event' && message.event.Action === 'destroy') break;
        }
      })();
      await waitFor(() => actions.length > 0, { timeoutMs: 10_000, what: 'the replay' });
      proxy.setMode({ kind: 'pass' });
      await fixtures.send({ method: 'DELETE', path: `/containers/${id}` }, 'remove test container');
      id = '';
      await read;
      expect(actions).toEqual(['create', 'destroy']);
    } finally {
      proxy.setMode({ kind: 'pass' });
      await keepsUpstream.return?.();
      hub.close();
      if (id) {
        await fixtures.send(
          { method: 'DELETE', path: `/containers/${id}`, query: { force: true } },
          'remove test container',
        );
      }
    }
  });

  it('ends the replay of a subscriber that leaves while the engine is asked for its time', async () => {
    // Another subscriber keeps the upstream open: the replay's engine calls must end with
    // the subscriber that wanted them, not run on for nobody.
    const hub = new EventHub(createEngineClient(proxy.dockerHost));
    const keepsUpstream = hub.subscribe({ filter: { types: ['none'] } });
    try {
      await waitFor(() => hub.upstreamOpen, { timeoutMs: 10_000, what: 'the hub upstream' });
      const requests = proxy.requestsSeen;
      // The engine's answers are held: the replay waits on its /info.
      proxy.setMode({ kind: 'delay', ms: 600_000 });
      const replaying = hub.subscribe({ since: new Date(Date.now() - 1_000) });
      const info = await proxy.waitForRequest(/^GET \/v[\d.]+\/info/, { since: requests });
      await replaying.return?.();
      await proxy.waitForClose(info, 10_000);
      expect(info.closed).toEqual({ byClient: true, awaitingAnswer: true });
    } finally {
      proxy.setMode({ kind: 'pass' });
      await keepsUpstream.return?.();
      hub.close();
    }
  });

  it('answers every read of a subscriber that reads twice at once, in order', async () => {
    // The async iterator protocol lets a consumer ask next() again before the first
    // answered (Promise.all over reads): each read must be answered, none left waiting.
    const hub = new EventHub(fixtures.engine);
    const filter = { labels: [`${TEST_LABEL}=${fixtures.run}`, 'dg.events=two-reads'] };
    const subscriber = hub.subscribe({ filter });
    let id = '';
    try {
      await waitFor(() => hub.upstreamOpen, { timeoutMs: 10_000, what: 'the hub upstream' });
      const reads = [subscriber.next(), subscriber.next(), subscriber.next()];
      id = await createLabelled('two-reads');
      await fixtures.send({ method: 'DELETE', path: `/containers/${id}` }, 'remove test container');
      id = '';
      const [create, destroy] = await Promise.all(reads.slice(0, 2));
      const actions = [create, destroy].map((read) =>
        read?.done === false && read.value.kind === 'event' ? read.value.event.Action : read,
      );
      expect(actions).toEqual(['create', 'destroy']);
      hub.close();
      expect(await reads[2]).toEqual({ done: true, value: undefined });
    } finally {
      hub.close();
      if (id) {
        await fixtures.send(
          { method: 'DELETE', path: `/containers/${id}`, query: { force: true } },
          'remove test container',
        );
      }
    }
  });

  it('asks the engine its time once for the replays of several `since` subscribers in a row', async () => {
    const hub = new EventHub(createEngineClient(proxy.dockerHost));
    const filter = { labels: [`${TEST_LABEL}=${fixtures.run}`, 'dg.events=replay-clock'] };
    const keepsUpstream = hub.subscribe({ filter: { types: ['none'] } });
    const infoCalls = () =>
      proxy.connections
        .flatMap((connection) => connection.requests)
        .filter((line) => /^GET \/v[\d.]+\/info/.test(line)).length;
    try {
      await waitFor(() => hub.upstreamOpen, { timeoutMs: 10_000, what: 'the hub upstream' });
      const before = infoCalls();
      for (let replay = 0; replay < 3; replay += 1) {
        const requests = proxy.requestsSeen;
        const replaying = hub.subscribe({ filter, since: new Date(Date.now() - 1_000) });
        // Past its cut-off: it asked for the events up to then.
        await proxy.waitForRequest(/\/events\?.*until=/, { since: requests });
        await replaying.return?.();
      }
      expect(infoCalls() - before).toBe(1);
    } finally {
      await keepsUpstream.return?.();
      hub.close();
    }
  });

  it("bounds what waits for a subscriber's turn: when the wakes fall behind a burst, each subscriber keeps the events its queue may hold, in order, then gets a resync and ends", async () => {
    const hub = new EventHub(fixtures.engine, { bufferSize: 2 });
    const filter = { labels: [`${TEST_LABEL}=${fixtures.run}`, 'dg.events=burst'] };
    const creates = 6;
    // Each does some work with each event, as a GraphQL execution and its write do (hashing
    // stands in for them), so that waking all of them for one event lasts many turns.
    const work = Buffer.alloc(1024 * 1024, 1);
    const crowd = Array.from({ length: 320 }, () => hub.subscribe({ filter }));
    const received = crowd.map(() => [] as EventMessage[]);
    const reads = crowd.map(async (subscription, index) => {
      for await (const message of subscription) {
        received[index]?.push(message);
        createHash('sha256').update(work).digest();
        if (received[index]?.length === creates) break;
      }
    });
    try {
      await waitFor(() => hub.upstreamOpen, { timeoutMs: 10_000, what: 'the hub upstream' });
      // Six creates at once: the hub is still waking subscribers for the first (320, a few
      // per turn) when the others come, more than the two a subscriber may have waiting.
      await Promise.all(
        Array.from({ length: creates }, (_, index) => createLabelled('burst', `burst-${index}`)),
      );
      await Promise.all(reads);
      for (const messages of received) {
        expect(messages.at(-1)).toMatchObject({
          kind: 'resync',
          reason: expect.stringMatching(/fell behind/),
        });
      }
      const idsOf = (messages: EventMessage[]) =>
        messages.flatMap((message) => (message.kind === 'event' ? [message.event.Actor.ID] : []));
      const handed = received.map((messages) => idsOf(messages));
      const longest = handed.reduce((most, ids) => (ids.length > most.length ? ids : most), []);
      // Nobody was queued the whole burst; each has the hub's first events in the hub's order.
      expect(longest.length).toBeLessThan(creates);
      for (const ids of handed) expect(ids).toEqual(longest.slice(0, ids.length));
      // Those not woken before the burst came kept just what their queue holds.
      expect(Math.min(...handed.map((ids) => ids.length))).toBe(2);
      expect(hub.resyncCount).toBe(crowd.length);
      expect(hub.subscriberCount).toBe(0);
    } finally {
      hub.close();
    }
  });

  it('lets a subscriber woken in its turn take 8 of the events waiting for it, the rest in later turns, all of them in order', async () => {
    const hub = new EventHub(fixtures.engine);
    const filter = {
      labels: [`${TEST_LABEL}=${fixtures.run}`, 'dg.events=per-wake'],
      actions: ['create'],
    };
    const creates = 10;
    // Handed each event at once: once it has all ten, the other's queue holds them too.
    const watcher = hub.subscribe({ filter, immediate: true });
    const subscriber = hub.subscribe({ filter });
    try {
      await waitFor(() => hub.upstreamOpen, { timeoutMs: 10_000, what: 'the hub upstream' });
      await Promise.all(
        Array.from({ length: creates }, (_, index) =>
          createLabelled('per-wake', `per-wake-${index}`),
        ),
      );
      const order: string[] = [];
      for await (const message of watcher) {
        if (message.kind === 'event') order.push(message.event.Actor.ID);
        if (order.length === creates) break;
      }
      // Counts the turns of the event loop while the subscriber reads what waits for it.
      let turn = 0;
      let reading = true;
      const tick = () => {
        turn += 1;
        if (reading) setImmediate(tick);
      };
      setImmediate(tick);
      const read: { id: string; turn: number }[] = [];
      for await (const message of subscriber) {
        if (message.kind === 'event') read.push({ id: message.event.Actor.ID, turn });
        if (read.length === creates) break;
      }
      reading = false;
      expect(read.map((each) => each.id)).toEqual(order);
      const perTurn: number[] = [];
      read.forEach((each, index) => {
        if (index > 0 && each.turn === read[index - 1]?.turn) {
          perTurn[perTurn.length - 1] = (perTurn.at(-1) ?? 0) + 1;
        } else {
          perTurn.push(1);
        }
      });
      expect(perTurn).toEqual([8, 2]);
      expect(hub.subscriberCount).toBe(0);
    } finally {
      hub.close();
    }
  });

  it('completes SSE streams and closes WebSocket clients when the server stops', async () => {
    const config = loadConfig({
      HOME: '/nonexistent',
      DOCKERGRAPH_AUDIT: 'off',
      DOCKERGRAPH_READ_MODEL: 'off',
      DOCKER_HOST: proxy.dockerHost,
      HOST: '127.0.0.1',
      PORT: '0',
    });
    const docker = createDockerClient(config);
    const second = await startServer(config, docker, createLogger('silent'));
    const sse = createSseClient({ url: `${second.url}/graphql`, retryAttempts: 0 });
    let closeCode: number | null = null;
    const ws = createWsClient({
      url: `${second.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      on: {
        closed: (event) => {
          if (event instanceof Object && 'code' in event && typeof event.code === 'number') {
            closeCode = event.code;
          }
        },
      },
    });
    try {
      const overSse = collectSubscription(
        'events',
        sse.iterate<{ events: Message }>({
          query: print(EventsSubscription),
          variables: filterFor('stop'),
        }),
      );
      const overWs = subscribeWs(ws, 'stop');
      await untilSubscribers(2, second);
      // The server ends the streams itself: they end before the grace it was given runs out.
      let graceOver = false;
      const grace = setTimeout(() => {
        graceOver = true;
      }, 10_000);
      try {
        await second.stop(10_000);
        await overSse.untilEnded(10_000);
        await overWs.untilEnded(10_000);
        expect(graceOver).toBe(false);
      } finally {
        clearTimeout(grace);
      }
      expect(overSse.errors).toEqual([]);
      expect(overWs.errors).toEqual([]);
      await waitFor(() => closeCode !== null, { timeoutMs: 5_000, what: 'the socket to close' });
      expect(closeCode).toBe(1001);
    } finally {
      sse.dispose();
      await ws.dispose();
    }
  });

  it('streams the create and destroy of a volume and a network, linked while they exist', async () => {
    const volume = fixtures.name('events-volume');
    const network = fixtures.name('events-network');
    const messages: {
      kind: string;
      event: {
        type: string | null;
        action: string;
        volume: { name: string } | null;
        network: { name: string } | null;
      } | null;
    }[] = [];
    const changes = new Changes();
    const client = wsClient();
    const stop = client.subscribe<{ events: (typeof messages)[number] }>(
      {
        query: print(ObjectEventsSubscription),
        variables: {
          filter: {
            types: ['VOLUME', 'NETWORK'],
            actions: ['create', 'destroy'],
            volumes: [volume],
            networks: [network],
          },
        },
      },
      {
        next: (result) => {
          if (result.data) messages.push(result.data.events);
          changes.notify();
        },
        error: (error) => {
          throw error;
        },
        complete: () => {},
      },
    );
    try {
      await untilSubscribers(1);
      await fixtures.createVolume(volume);
      const networkId = await fixtures.createNetwork(network);
      await changes.until(
        () => (messages.length >= 2 ? true : undefined),
        10_000,
        () => new Error(`got ${JSON.stringify(messages)}`),
      );
      await fixtures.send({ method: 'DELETE', path: `/volumes/${volume}` }, 'remove test volume');
      await fixtures.send(
        { method: 'DELETE', path: `/networks/${networkId}` },
        'remove test network',
      );
      await changes.until(
        () => (messages.length >= 4 ? true : undefined),
        10_000,
        () => new Error(`got ${JSON.stringify(messages)}`),
      );
    } finally {
      stop();
    }
    await untilSubscribers(0);
    expect(messages.map((message) => [message.event?.type, message.event?.action])).toEqual([
      ['VOLUME', 'create'],
      ['NETWORK', 'create'],
      ['VOLUME', 'destroy'],
      ['NETWORK', 'destroy'],
    ]);
    expect(messages[0]?.event?.volume).toEqual({ name: volume });
    expect(messages[1]?.event?.network).toEqual({ name: network });
    expect(messages[2]?.event?.volume).toBeNull();
    expect(messages[3]?.event?.network).toBeNull();
  });
});
