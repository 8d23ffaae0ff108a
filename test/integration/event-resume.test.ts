// The `events` subscription across a restart of the engine itself, and many subscribers on one
// upstream. The server runs over an engine of this file's own (as in outage.test.ts), so that
// restarting it disturbs no other test.
import { rmSync } from 'node:fs';
import { print } from 'graphql';
import { type Client, createClient as createWsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { DockerClient, EngineCallRecord } from '../../src/docker/client.ts';
import type { RunningServer } from '../../src/server.ts';
import { graphql } from '../generated/gql.ts';
import type { EventsAcrossEngineRestartSubscription } from '../generated/graphql.ts';
import {
  type CollectedSubscription,
  collectSubscription,
} from '../helpers/collect-subscription.ts';
import { BASE_IMAGE, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { type EngineInstance, startEngine, stopEngine } from '../helpers/engine.ts';
import { createEngineClient } from '../helpers/engine-client.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const instance: EngineInstance = { dir: '/tmp/dockergraph-event-resume', netns: 'dgevresume' };

const EventsSubscription = graphql(`
  subscription EventsAcrossEngineRestart($filter: EventFilter) {
    events(filter: $filter) {
      kind
      reason
      event { action actor { id } }
    }
  }
`);

type Message = EventsAcrossEngineRestartSubscription['events'];

const ACTIONS = ['create', 'start', 'stop'];
const RUN = `resume-${process.pid}-${Date.now()}`;

type Received = CollectedSubscription<Message>;

const isEvent = (message: Message) => message.kind === 'EVENT';

describe('events across an engine restart', () => {
  const calls: EngineCallRecord[] = [];
  const wsClients: Client[] = [];
  let engine: DockerClient;
  let running: RunningServer;
  let live: LiveServer | undefined;

  function wsClient(): Client {
    const client = createWsClient({
      url: `${running.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
    });
    wsClients.push(client);
    return client;
  }

  function subscribe(client: Client, scenario: string): Received {
    return collectSubscription(
      'events',
      client.iterate<{ events: Message }>({
        query: print(EventsSubscription),
        variables: {
          filter: {
            types: ['CONTAINER' as const],
            actions: ACTIONS,
            labels: [`${TEST_LABEL}=${RUN}`, `dg.resume=${scenario}`],
          },
        },
      }),
    );
  }

  async function untilSubscribers(count: number): Promise<void> {
    await waitFor(() => running.events.subscriberCount === count, {
      timeoutMs: 15_000,
      what: `${count} subscribers of the event hub`,
    });
  }

  /** Creates, starts and stops a labelled container through the raw Engine API. */
  async function createStartStop(scenario: string, name: string): Promise<string> {
    const { Id } = await engine.json<{ Id: string }>(
      {
        method: 'POST',
        path: '/containers/create',
        query: { name: `dg-${name}-${process.pid}` },
        body: JSON.stringify({
          Image: BASE_IMAGE,
          Cmd: ['sleep', '300'],
          Labels: { [TEST_LABEL]: RUN, 'dg.resume': scenario },
        }),
        headers: { 'content-type': 'application/json' },
      },
      'create test container',
    );
    for (const [path, query] of [
      [`/containers/${Id}/start`, {}],
      [`/containers/${Id}/stop`, { t: 0 }],
    ] as const) {
      const response = await engine.request(
        { method: 'POST', path, query },
        'change test container',
      );
      await response.body.dump();
    }
    return Id;
  }

  beforeAll(async () => {
    const { dockerHost } = await startEngine(instance);
    live = await startLiveServer(dockerHost, { env: { DOCKERGRAPH_CONNECT_TIMEOUT_MS: '2000' } });
    live.docker.observe((call) => calls.push(call));
    engine = createEngineClient(dockerHost, { requestTimeoutMs: 60_000 });
    running = live.server;
  }, 600_000);

  afterAll(async () => {
    try {
      await Promise.all(wsClients.map((client) => client.dispose()));
      await live?.close();
    } finally {
      await stopEngine(instance);
      rmSync(instance.dir, { recursive: true, force: true });
    }
  }, 180_000);

  it('delivers every event made before and after the engine restarted once, in order', async () => {
    const received = subscribe(wsClient(), 'restart');
    await untilSubscribers(1);
    const before = await createStartStop('restart', 'before');
    await received.untilCount(3, 15_000, isEvent);
    const opened = running.events.upstreamConnections;

    await stopEngine(instance);
    await startEngine(instance);
    await waitFor(() => running.events.upstreamOpen, {
      timeoutMs: 30_000,
      what: 'the upstream to reopen on the restarted engine',
    });
    const after = await createStartStop('restart', 'after');
    await received.untilCount(6, 15_000, isEvent);
    await received.stop();

    expect(received.errors).toEqual([]);
    const events = received.messages.filter((message) => message.kind === 'EVENT');
    expect(events.map((message) => [message.event?.action, message.event?.actor.id])).toEqual([
      ...ACTIONS.map((action) => [action, before]),
      ...ACTIONS.map((action) => [action, after]),
    ]);
    // The restarted engine lost its event buffer: the hub cannot prove nothing was missed
    // in between, so it may say so once, but only between the two runs of events.
    const resyncs = received.messages.flatMap((message, index) =>
      message.kind === 'RESYNC' ? [index] : [],
    );
    expect(resyncs.every((index) => index === 3)).toBe(true);
    expect(running.events.upstreamConnections).toBeGreaterThan(opened);
    await untilSubscribers(0);
  }, 180_000);

  it('serves 200 WebSocket subscribers with one upstream GET /events', async () => {
    await waitFor(() => !running.events.upstreamOpen, {
      timeoutMs: 10_000,
      what: 'no upstream left from the earlier test',
    });
    const eventsCalls = () =>
      calls.filter((call) => call.method === 'GET' && call.path === '/events').length;
    const callsBefore = eventsCalls();
    const subscribers = Array.from({ length: 200 }, () => subscribe(wsClient(), 'many'));
    await untilSubscribers(200);
    await waitFor(() => running.events.upstreamOpen, {
      timeoutMs: 10_000,
      what: 'the upstream to open',
    });
    const id = await createStartStop('many', 'many');
    await Promise.all(subscribers.map((received) => received.untilCount(3, 15_000, isEvent)));
    for (const received of subscribers) {
      expect(received.errors).toEqual([]);
      expect(
        received.messages.map((message) => [message.event?.action, message.event?.actor.id]),
      ).toEqual(ACTIONS.map((action) => [action, id]));
    }
    expect(eventsCalls() - callsBefore).toBe(1);
    await Promise.all(subscribers.map((received) => received.stop()));
    await untilSubscribers(0);
    expect(eventsCalls() - callsBefore).toBe(1);
  }, 120_000);
});
