// `containerUpdated`: one subscription that keeps a dashboard's container list fresh. Changes
// are made through the raw Engine API; the subscriber sees each container read after the change.
import { print } from 'graphql';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.ts';
import { graphql } from '../generated/gql.ts';
import type { ContainerUpdatesOfLabelledSubscription } from '../generated/graphql.ts';
import { collectSubscription } from '../helpers/collect-subscription.ts';
import { EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const ContainerUpdatedSubscription = graphql(`
  subscription ContainerUpdatesOfLabelled($filter: ContainerUpdateFilter) {
    containerUpdated(filter: $filter) {
      kind
      action
      containerId
      reason
      container { id name state }
    }
  }
`);

type Message = ContainerUpdatesOfLabelledSubscription['containerUpdated'];

describe('containerUpdated subscription', () => {
  const fixtures = new EngineFixtures();
  let live: LiveServer | undefined;
  let running: RunningServer;
  let client: Client;

  /** Subscribes and collects messages in the background. */
  function subscribe(variables: Record<string, unknown>) {
    const collected = collectSubscription(
      'containerUpdated',
      client.iterate<{ containerUpdated: Message }>({
        query: print(ContainerUpdatedSubscription),
        variables,
      }),
    );
    return {
      messages: collected.messages,
      errors: collected.errors,
      /** Resolves with the first message after `from` that passes `test`. */
      until: (test: (message: Message) => boolean, from = 0) =>
        collected.until((messages) => messages.slice(from).find(test), 10_000, 'a message'),
      untilEnded: () => collected.untilEnded(10_000),
      stop: () => collected.stop(),
    };
  }

  async function untilSubscribers(count: number): Promise<void> {
    await waitFor(() => running.events.subscriberCount === count, {
      timeoutMs: 10_000,
      what: `${count} subscribers of the event hub`,
    });
  }

  beforeAll(async () => {
    live = await startLiveServer();
    ({ server: running, client } = live);
  });

  afterAll(async () => {
    try {
      await live?.close();
    } finally {
      await fixtures.cleanup();
    }
  });

  it('sends the container read after each change: started, stopped, renamed, then removed', async () => {
    const updates = subscribe({
      filter: { labels: [`${TEST_LABEL}=${fixtures.run}`, 'dg.live=lifecycle'] },
    });
    await untilSubscribers(1);
    const name = fixtures.name('live-lifecycle');
    const id = await fixtures.createContainer(name, { Labels: { 'dg.live': 'lifecycle' } });
    const created = await updates.until((message) => message.action === 'create');
    expect(created).toMatchObject({
      kind: 'UPDATED',
      containerId: id,
      container: { name, state: 'CREATED' },
    });

    await fixtures.startContainer(id);
    await updates.until(
      (message) => message.action === 'start' && message.container?.state === 'RUNNING',
    );

    let from = updates.messages.length;
    await fixtures.send(
      { method: 'POST', path: `/containers/${id}/stop`, query: { t: 0 } },
      'stop test container',
    );
    const stopped = await updates.until((message) => message.action === 'stop', from);
    expect(stopped).toMatchObject({
      kind: 'UPDATED',
      containerId: id,
      container: { name, state: 'EXITED' },
    });

    from = updates.messages.length;
    const renamed = fixtures.name('live-renamed');
    await fixtures.send(
      { method: 'POST', path: `/containers/${id}/rename`, query: { name: renamed } },
      'rename test container',
    );
    const afterRename = await updates.until((message) => message.action === 'rename', from);
    expect(afterRename).toMatchObject({
      kind: 'UPDATED',
      containerId: id,
      container: { name: renamed, state: 'EXITED' },
    });

    from = updates.messages.length;
    await fixtures.send({ method: 'DELETE', path: `/containers/${id}` }, 'remove test container');
    const removed = await updates.until((message) => message.action === 'destroy', from);
    expect(removed).toEqual({
      kind: 'REMOVED',
      action: 'destroy',
      containerId: id,
      reason: null,
      container: null,
    });
    await updates.stop();
    expect(updates.errors).toEqual([]);
    // Every message is about the labelled container: nothing else passed the filter.
    expect(new Set(updates.messages.map((message) => message.containerId))).toEqual(new Set([id]));
    await untilSubscribers(0);
  });

  it('follows containers by name and ignores the others', async () => {
    const followed = fixtures.name('live-followed');
    const updates = subscribe({ filter: { names: [`/${followed}`] } });
    await untilSubscribers(1);
    const other = await fixtures.createContainer(fixtures.name('live-other'));
    const id = await fixtures.createContainer(followed);
    await updates.until((message) => message.action === 'create');
    await fixtures.send(
      { method: 'DELETE', path: `/containers/${other}` },
      'remove the other container',
    );
    await fixtures.send({ method: 'DELETE', path: `/containers/${id}` }, 'remove test container');
    await updates.until((message) => message.kind === 'REMOVED');
    await updates.stop();
    expect(updates.errors).toEqual([]);
    expect(updates.messages.map((message) => [message.kind, message.containerId])).toEqual([
      ['UPDATED', id],
      ['REMOVED', id],
    ]);
  });

  it('rejects a malformed label filter before subscribing', async () => {
    const updates = subscribe({ filter: { labels: ['=x'] } });
    await updates.untilEnded();
    expect(JSON.stringify(updates.errors)).toMatch(/filter\.labels\[0\].*BAD_USER_INPUT/);
    expect(updates.messages).toEqual([]);
  });
});
