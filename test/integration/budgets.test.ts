// Engine-call budgets as a client meets them: `nodes(ids:)` is capped and costed per ID, and an
// operation that would make more engine calls than DOCKERGRAPH_MAX_ENGINE_CALLS is stopped with
// an error naming the setting. A subscription's budget is per event, not for its whole life.
import { afterAll, describe, expect, it } from 'vitest';
import { encodeNodeId } from '../../src/schema/node-id.ts';
import { createTestApp, withoutEngineCalls } from '../helpers/app.ts';
import { collectSubscription } from '../helpers/collect-subscription.ts';
import { EngineFixtures } from '../helpers/docker-fixtures.ts';
import { startLiveServer } from '../helpers/live-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const NODES = 'query Nodes($ids: [ID!]!) { nodes(ids: $ids) { id } }';

/**
 * Global IDs of `count` images no engine has: an image missing from the engine's list is
 * inspected by its id, one engine call each (as the IDs of intermediate images are).
 */
function missingImageIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) =>
    encodeNodeId('Image', `local:sha256:${i.toString(16).padStart(64, 'f')}`),
  );
}

describe('nodes(ids:)', () => {
  const app = createTestApp();
  afterAll(() => app.close());

  it('refuses 8,000 IDs with an error naming the cap, before any engine call', async () => {
    const ids = missingImageIds(8_000);
    const answer = await withoutEngineCalls(app, () =>
      app.post({ query: NODES, variables: { ids } }),
    );
    expect(answer.body.data ?? null).toBeNull();
    expect(answer.body.errors).toHaveLength(1);
    expect(answer.body.errors?.[0]?.message).toBe(
      'Invalid argument "ids": 8000 IDs asked for, at most 100 may be fetched at once (DOCKERGRAPH_MAX_NODE_IDS)',
    );
    expect(answer.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('costs each ID: 12,000 IDs are over the cost limit before they are read', async () => {
    const answer = await withoutEngineCalls(app, () =>
      app.post({
        query: NODES,
        variables: { ids: missingImageIds(12_000).map((id) => id.slice(0, 24)) },
      }),
    );
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.[0]?.message).toBe(
      'the operation is too costly: its cost is 12000, the limit is 10000 (DOCKERGRAPH_MAX_COST)',
    );
  });

  it('fetches up to the cap, one engine call per ID', async () => {
    const calls = await app.callsDuring(async () => {
      const answer = await app.post({ query: NODES, variables: { ids: missingImageIds(100) } });
      expect(answer.body.errors).toBeUndefined();
      expect(answer.body.data).toEqual({ nodes: Array.from({ length: 100 }, () => null) });
    });
    expect(
      calls.filter((call) => call.startsWith('GET /images/') && call !== 'GET /images/json'),
    ).toHaveLength(100);
  });
});

describe('engine-call budget', () => {
  it('stops an operation at DOCKERGRAPH_MAX_ENGINE_CALLS with an error naming the setting', async () => {
    const app = createTestApp({ DOCKERGRAPH_MAX_ENGINE_CALLS: '5' });
    try {
      const calls = await app.callsDuring(async () => {
        const answer = await app.post({
          query: NODES,
          variables: { ids: missingImageIds(12) },
        });
        // The IDs past the budget answer the error, not a silent null.
        expect(answer.body.errors?.length).toBeGreaterThanOrEqual(12 - 5);
        const codes = new Set(answer.body.errors?.map((error) => error.extensions?.code));
        expect(codes).toEqual(new Set(['ENGINE_CALL_BUDGET_EXCEEDED']));
        expect(answer.body.errors?.[0]?.message).toBe(
          'the operation needs more than 5 engine calls, the most one operation may make (DOCKERGRAPH_MAX_ENGINE_CALLS): ask for fewer objects or fields at once',
        );
      });
      // The engine never saw the calls over the budget.
      expect(calls.length).toBeLessThanOrEqual(5);
      // The next operation has a budget of its own.
      const next = await app.post({ query: NODES, variables: { ids: missingImageIds(4) } });
      expect(next.body.errors).toBeUndefined();
    } finally {
      await app.close();
    }
  });

  it('gives each event of a subscription its own budget, over WebSocket', async () => {
    const fixtures = new EngineFixtures();
    // One call per event: the container read after its change.
    const live = await startLiveServer(undefined, { env: { DOCKERGRAPH_MAX_ENGINE_CALLS: '1' } });
    try {
      const received = collectSubscription(
        'containerUpdated',
        live.client.iterate<{ containerUpdated: unknown }>({
          query:
            'subscription Updates($filter: ContainerUpdateFilter) { containerUpdated(filter: $filter) { action container { name } } }',
          variables: { filter: { labels: [`dockergraph.test=${fixtures.run}`] } },
        }),
      );
      await waitFor(() => live.server.events.subscriberCount === 1, {
        timeoutMs: 10_000,
        what: 'the subscription to listen to the event hub',
      });
      // Create and start two containers: four events, each read with a budget of one call.
      const name = fixtures.name('budget');
      for (const index of [1, 2]) {
        await fixtures.startContainer(await fixtures.createContainer(`${name}-${index}`));
      }
      await received.until(
        (messages) => (messages.length >= 4 || received.errors.length > 0 ? true : undefined),
        10_000,
        'four updates',
      );
      expect(received.errors).toEqual([]);
      expect(received.messages.length).toBeGreaterThanOrEqual(4);
      await received.stop();
    } finally {
      await live.close();
      await fixtures.cleanup();
    }
  });
});
