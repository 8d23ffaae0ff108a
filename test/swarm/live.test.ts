// Live swarm changes over graphql-ws: a node drained through GraphQL, watched as its tasks move
// (serviceUpdated) and as swarm events (events), then made active again.

import { print } from 'graphql';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createService } from '../../src/docker/swarm-services.ts';
import { graphql } from '../generated/gql.ts';
import { makeRoleTokens } from '../helpers/access.ts';
import { createTestApp } from '../helpers/app.ts';
import { collectSubscription } from '../helpers/collect-subscription.ts';
import { clientWithToken } from '../helpers/graphql-ws.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';
import { must } from '../helpers/must.ts';
import { BASE_IMAGE, SwarmFixtures } from '../helpers/swarm-fixtures.ts';
import { waitFor } from '../helpers/wait-for.ts';

const ServiceUpdated = graphql(`
  subscription SwarmServiceUpdated($ids: [String!]) {
    serviceUpdated(filter: { ids: $ids }) {
      kind
      serviceId
      progress { runningTasks desiredTasks converged }
      service { name tasks(desiredState: RUNNING) { state node { hostname } } }
    }
  }
`);

const SwarmEvents = graphql(`
  subscription SwarmEvents {
    events(filter: { types: [NODE, SERVICE] }) {
      kind
      event { type action actor { id } }
    }
  }
`);

const ServiceLogs = graphql(`
  subscription SwarmServiceLogsLive($id: String!) {
    serviceLogs(id: $id) { dropped line { taskId line { stream message } } }
  }
`);

const DrainNode = graphql(`
  mutation SwarmDrainNode($id: String!, $availability: SwarmNodeAvailability!) {
    updateSwarmNode(id: $id, input: { availability: $availability }) {
      __typename
      ... on SwarmNodePayload { node { hostname availability } }
      ... on MutationError { message }
    }
  }
`);

type UpdateMessage = {
  kind: string;
  serviceId: string;
  progress: { runningTasks: number; desiredTasks: number; converged: boolean } | null;
  service: { name: string; tasks: { state: string; node: { hostname: string } | null }[] } | null;
};
type EventMessage = {
  kind: string;
  event: { type: string | null; action: string; actor: { id: string } } | null;
};

/** What a subscription sends as `data[key]`, collected in the background; `until` finds one. */
function collect<K extends string, T>(
  client: Client,
  key: K,
  query: string,
  variables: Record<string, unknown>,
) {
  const collected = collectSubscription(key, client.iterate<Record<K, T>>({ query, variables }));
  return {
    messages: collected.messages,
    errors: collected.errors,
    until: (test: (message: T) => boolean, timeoutMs = 90_000) =>
      collected.until((messages) => messages.find(test), timeoutMs, `a ${key} message`),
    stop: () => collected.stop(),
  };
}

describe('live swarm changes', () => {
  const fixtures = new SwarmFixtures();
  const { tokens, env } = makeRoleTokens();
  const admin = createTestApp(env, { token: tokens.admin });
  const name = fixtures.name('moving');
  let live: LiveServer;
  let client: Client;
  let serviceId = '';
  let drained = '';

  beforeAll(async () => {
    const created = await createService(fixtures.manager, {
      Name: name,
      Labels: fixtures.labels(),
      TaskTemplate: {
        ContainerSpec: {
          Image: BASE_IMAGE,
          Command: ['sleep', '3600'],
          StopGracePeriod: 1_000_000_000,
        },
      },
      Mode: { Replicated: { Replicas: 3 } },
    });
    serviceId = must(created.id, 'service id');
    await fixtures.convergedTasks(name, 3);
    live = await startLiveServer(inject('dockerHost'), { env });
    client = clientWithToken(live.server.url, tokens.admin);
  });

  afterAll(async () => {
    if (drained) await admin.query(DrainNode, { id: drained, availability: 'ACTIVE' });
    await client?.dispose();
    await live?.close();
    await fixtures.cleanup();
    await admin.close();
    await fixtures.close();
  });

  it('shows the tasks of a drained node moving, as service updates and node events', async () => {
    const updates = collect<'serviceUpdated', UpdateMessage>(
      client,
      'serviceUpdated',
      print(ServiceUpdated),
      { ids: [serviceId] },
    );
    const events = collect<'events', EventMessage>(client, 'events', print(SwarmEvents), {});
    // The first message is the service as it is: three tasks on three nodes.
    const first = await updates.until((message) => message.progress?.converged === true);
    const hosts = (first.service?.tasks ?? []).map((task) => task.node?.hostname);
    expect(new Set(hosts).size).toBe(3);
    // Drain a worker (the manager keeps serving the API either way).
    const ids = await fixtures.nodeIds();
    drained = must(
      [...ids.keys()].find((host) => host.endsWith('node3')),
      'node3',
    );
    const answer = await admin.query(DrainNode, { id: drained, availability: 'DRAIN' });
    expect(answer.updateSwarmNode).toEqual({
      __typename: 'SwarmNodePayload',
      node: { hostname: drained, availability: 'DRAIN' },
    });
    const nodeEvent = await events.until(
      (message) => message.event?.type === 'NODE' && message.event.action === 'update',
    );
    expect(nodeEvent.event?.actor.id).toBe(ids.get(drained));
    const moved = await updates.until(
      (message) =>
        message.progress?.converged === true &&
        (message.service?.tasks.length ?? 0) === 3 &&
        (message.service?.tasks ?? []).every(
          (task) => task.state === 'running' && task.node?.hostname !== drained,
        ),
    );
    expect(new Set(moved.service?.tasks.map((task) => task.node?.hostname))).not.toContain(drained);
    // Messages in between showed the service short of its tasks, or tasks on new nodes.
    expect(updates.messages.indexOf(moved)).toBeGreaterThan(0);
    expect(updates.errors).toEqual([]);
    await Promise.all([updates.stop(), events.stop()]);
  });

  it('follows the output of the tasks of a service as they write it', async () => {
    const talker = fixtures.name('talker');
    await createService(fixtures.manager, {
      Name: talker,
      Labels: fixtures.labels(),
      TaskTemplate: {
        ContainerSpec: {
          Image: BASE_IMAGE,
          Command: [
            'sh',
            '-c',
            'i=0; while true; do i=$((i+1)); echo "tick $i"; echo "oops $i" >&2; sleep 1; done',
          ],
          StopGracePeriod: 1_000_000_000,
        },
      },
      Mode: { Replicated: { Replicas: 2 } },
    });
    type LogMessage = {
      dropped: number;
      line: { taskId: string | null; line: { stream: string; message: string } };
    };
    const logs = collect<'serviceLogs', LogMessage>(client, 'serviceLogs', print(ServiceLogs), {
      id: talker,
    });
    // Lines written after subscribing arrive, from both tasks, on both streams.
    await logs.until((message) => message.line.line.message === 'tick 3');
    await logs.until(
      (message) =>
        message.line.line.stream === 'STDERR' && message.line.line.message.startsWith('oops'),
    );
    await waitFor(() => new Set(logs.messages.map((message) => message.line.taskId)).size === 2, {
      timeoutMs: 30_000,
      what: 'lines of both tasks',
    });
    expect(logs.messages.every((message) => message.dropped === 0)).toBe(true);
    expect(logs.errors).toEqual([]);
    await logs.stop();
  });

  it('tells a followed service was removed', async () => {
    const updates = collect<'serviceUpdated', UpdateMessage>(
      client,
      'serviceUpdated',
      print(ServiceUpdated),
      { ids: [serviceId] },
    );
    await updates.until((message) => message.kind === 'UPDATED');
    await fixtures.cleanup();
    const removed = await updates.until((message) => message.kind === 'REMOVED');
    expect(removed).toMatchObject({ serviceId, service: null, progress: null });
    await updates.stop();
  });
});
