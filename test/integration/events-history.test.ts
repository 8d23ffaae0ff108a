// eventsHistory: the engine's past events between two times, as a query that answers and
// ends, filtered and scoped to labels as the live subscription is; and `events(until:)`.
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/gql.ts';
import type { PastEventsSubscription } from '../generated/graphql.ts';
import { randomToken, tokensEnv } from '../helpers/access.ts';
import { createTestApp, expectArgumentError } from '../helpers/app.ts';
import { readSubscription } from '../helpers/collect-subscription.ts';
import { EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const History = graphql(`
  query EventsHistory($since: DateTime!, $until: DateTime, $filter: EventFilter, $first: Int) {
    eventsHistory(since: $since, until: $until, filter: $filter, first: $first) {
      truncated
      since
      until
      events { type action time actor { id attributes { name value } } }
    }
  }
`);

const PastEvents = graphql(`
  subscription PastEvents($since: DateTime, $until: DateTime, $filter: EventFilter) {
    events(since: $since, until: $until, filter: $filter) {
      kind
      event { action actor { attributes { name value } } }
    }
  }
`);

const fixtures = new EngineFixtures();
const RUN_FILTER = `${TEST_LABEL}=${fixtures.run}`;
const limitedToken = randomToken();
const env = tokensEnv([
  {
    id: 'web',
    role: 'viewer',
    token: limitedToken,
    labels: { [TEST_LABEL]: fixtures.run, team: 'web' },
  },
]);

/** An event as `action name`, e.g. "create dg-a-1234". */
function described(event: {
  action: string;
  actor: { attributes: readonly { name: string; value: string }[] };
}): string {
  const name = event.actor.attributes.find((attribute) => attribute.name === 'name')?.value;
  return `${event.action} ${name ?? '?'}`;
}

describe('eventsHistory', () => {
  const admin = createTestApp();
  const limited = createTestApp(env, { token: limitedToken });
  const bounded = createTestApp({ DOCKERGRAPH_EVENTS_HISTORY_MAX: '3' });
  const web = fixtures.name('hist-web');
  const db = fixtures.name('hist-db');
  let since = '';
  let until = '';

  beforeAll(async () => {
    // Engine times are the engine's clock, the same host's as this one.
    since = new Date(Date.now() - 1).toISOString();
    const webId = await fixtures.createContainer(web, { Labels: { team: 'web' } });
    const dbId = await fixtures.createContainer(db, { Labels: { team: 'db' } });
    for (const id of [webId, dbId]) {
      await fixtures.send(
        { method: 'DELETE', path: `/containers/${id}`, query: { force: true } },
        `remove ${id}`,
      );
    }
    // Until the engine holds the last destroy: then the range is complete.
    await waitFor(
      async () => {
        const data = await admin.query(History, {
          since,
          filter: { labels: [RUN_FILTER], actions: ['destroy'] },
        });
        return data.eventsHistory.events.length === 2;
      },
      { timeoutMs: 10_000, what: 'both destroy events' },
    );
    until = new Date().toISOString();
  });

  afterAll(async () => {
    await fixtures.cleanup();
    await Promise.all([admin.close(), limited.close(), bounded.close()]);
  });

  it('answers the events between two times, filtered, oldest first, and ends', async () => {
    const data = await admin.query(History, {
      since,
      until,
      filter: { types: ['CONTAINER'], labels: [RUN_FILTER] },
    });
    expect(data.eventsHistory.events.map(described)).toEqual([
      `create ${web}`,
      `create ${db}`,
      `destroy ${web}`,
      `destroy ${db}`,
    ]);
    expect(data.eventsHistory.truncated).toBe(false);
    expect(data.eventsHistory.until).toBe(until);
    const times = data.eventsHistory.events.map((event) => Date.parse(event.time));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('answers nothing for a range before the events', async () => {
    const data = await admin.query(History, {
      since: new Date(Date.parse(since) - 60_000).toISOString(),
      until: new Date(Date.parse(since) - 30_000).toISOString(),
      filter: { labels: [RUN_FILTER] },
    });
    expect(data.eventsHistory.events).toEqual([]);
  });

  it('stops at `first` and says there were more', async () => {
    const data = await admin.query(History, {
      since,
      until,
      filter: { types: ['CONTAINER'], labels: [RUN_FILTER] },
      first: 1,
    });
    expect(data.eventsHistory.events.map(described)).toEqual([`create ${web}`]);
    expect(data.eventsHistory.truncated).toBe(true);
  });

  it('shows a label-limited token only the events of its objects, whatever the filter asks', async () => {
    const data = await limited.query(History, { since, until, filter: { types: ['CONTAINER'] } });
    expect(data.eventsHistory.events.map(described)).toEqual([`create ${web}`, `destroy ${web}`]);
    const asked = await limited.query(History, {
      since,
      until,
      filter: { labels: ['team=db'] },
    });
    expect(asked.eventsHistory.events).toEqual([]);
  });

  it('refuses a range that ends before it starts, and a `first` past the bound', async () => {
    expectArgumentError(await admin.execute(History, { since: until, until: since }), 'since');
    expectArgumentError(await bounded.execute(History, { since, first: 4 }), 'first');
    expectArgumentError(await admin.execute(History, { since, first: 0 }), 'first');
  });

  it('reads at most DOCKERGRAPH_EVENTS_HISTORY_MAX events of the range, and says so', async () => {
    // Four events of this run in the range: the read stops after three lines of the engine.
    const data = await bounded.query(History, {
      since,
      until,
      filter: { types: ['CONTAINER'], labels: [RUN_FILTER] },
      first: 3,
    });
    expect(data.eventsHistory.truncated).toBe(true);
    expect(data.eventsHistory.events.length).toBeLessThanOrEqual(3);
  });

  describe('the events subscription with a past `until`', () => {
    let server: LiveServer;

    beforeAll(async () => {
      server = await startLiveServer();
    });

    afterAll(async () => {
      await server.close();
    });

    it('sends the events of the range and completes', async () => {
      const { messages, errors } = await readSubscription(
        'events',
        server.client.iterate<PastEventsSubscription>({
          query: print(PastEvents),
          variables: { since, until, filter: { types: ['CONTAINER'], labels: [RUN_FILTER] } },
        }),
      );
      expect(errors).toEqual([]);
      expect(
        messages.map((message) => (message.event ? described(message.event) : message.kind)),
      ).toEqual([`create ${web}`, `create ${db}`, `destroy ${web}`, `destroy ${db}`]);
    });

    it('completes a live stream at `until`', async () => {
      const soon = new Date(Date.now() + 1_500).toISOString();
      const { messages, errors } = await readSubscription(
        'events',
        server.client.iterate<PastEventsSubscription>({
          query: print(PastEvents),
          variables: { until: soon, filter: { labels: [RUN_FILTER] } },
        }),
        30_000,
      );
      expect(errors).toEqual([]);
      expect(messages).toEqual([]);
    });

    it('refuses a past `until` without `since`', async () => {
      const { errors } = await readSubscription(
        'events',
        server.client.iterate<PastEventsSubscription>({
          query: print(PastEvents),
          variables: { until },
        }),
      );
      expect(JSON.stringify(errors)).toContain('Invalid argument \\"until\\"');
    });
  });
});
