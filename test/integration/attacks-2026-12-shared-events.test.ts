// Attacks on the results the server shares among subscribers of one event
// (src/plugins/use-shared-subscription-results.ts): tokens of one role with other label
// limits, a custom role that lacks only `secrets`, a viewer, each sending the documents an
// admin sent first, written with fragments, aliases, @include, several operations, other
// variables, over WebSocket and SSE. Each must receive only what its own token allows,
// and a subscriber that leaves must not stop the others' events.
import { describe, expect, it } from 'vitest';
import { ADMIN_WITHOUT_SECRETS, randomToken, tokensEnv } from '../helpers/access.ts';
import {
  type CollectedSubscription,
  collectSubscription,
} from '../helpers/collect-subscription.ts';
import { EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { type Transport, useLiveServer } from '../helpers/live-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const fixtures = new EngineFixtures();
const SECRET = `envsecret-${fixtures.run}`;
const tokens = {
  root: randomToken(),
  nosecrets: randomToken(),
  viewer: randomToken(),
  teamA: randomToken(),
  teamB: randomToken(),
};
const env = tokensEnv(
  [
    { id: 'root', role: 'admin', token: tokens.root },
    { id: 'nosecrets', role: 'nosecrets', token: tokens.nosecrets },
    { id: 'viewer', role: 'viewer', token: tokens.viewer },
    { id: 'team-a', role: 'admin', token: tokens.teamA, labels: { team: 'a' } },
    { id: 'team-b', role: 'admin', token: tokens.teamB, labels: { team: 'b' } },
  ],
  { nosecrets: ADMIN_WITHOUT_SECRETS },
);

const FILTER = `filter: { types: [CONTAINER], actions: ["start"], labels: $labels }`;
const CONTAINER_FIELDS = 'name config { env { name value redacted } } logs(tail: 1) { truncated }';

/** One operation, written in several ways that select the same fields. */
interface Variant {
  readonly name: string;
  readonly query: string;
  readonly key: string;
  readonly operationName?: string;
  readonly variables: (labels: string[]) => Record<string, unknown>;
}

const VARIANTS: readonly Variant[] = [
  {
    name: 'plain',
    key: 'events',
    query: `subscription Plain($labels: [String!]) {
      events(${FILTER}) { kind event { action actor { id } container { ${CONTAINER_FIELDS} } } }
    }`,
    variables: (labels) => ({ labels }),
  },
  {
    name: 'fragments',
    key: 'events',
    query: `subscription Fragments($labels: [String!]) { events(${FILTER}) { ...Message } }
      fragment Message on EngineEventMessage {
        kind event { action actor { id } container { ...Fields } }
      }
      fragment Fields on Container { ${CONTAINER_FIELDS} }`,
    variables: (labels) => ({ labels }),
  },
  {
    name: 'aliases and @include',
    key: 'e',
    query: `subscription Aliased($labels: [String!], $withLogs: Boolean!, $skipEnv: Boolean!) {
      e: events(${FILTER}) {
        kind event { action actor { id } c: container {
          n: name
          config @skip(if: $skipEnv) { v: env { name value redacted } }
          l: logs(tail: 1) @include(if: $withLogs) { truncated }
        } }
      }
    }`,
    variables: (labels) => ({ labels, withLogs: true, skipEnv: false }),
  },
  {
    name: 'second of two operations, other variable order, an undeclared null variable',
    key: 'events',
    operationName: 'Second',
    query: `subscription First($labels: [String!]) { events(${FILTER}) { kind } }
      subscription Second($labels: [String!]) {
        events(${FILTER}) { kind event { action actor { id } container { ${CONTAINER_FIELDS} } } }
      }`,
    variables: (labels) => ({ unused: null, labels }),
  },
];

const live = useLiveServer({ env: { ...env, DOCKERGRAPH_RATE_LIMIT: '0' } }, () =>
  fixtures.cleanup(),
);

interface Subscriber {
  readonly token: keyof typeof tokens;
  readonly transport: Transport;
  readonly variant: Variant;
  readonly collected: CollectedSubscription<unknown>;
}

function subscribe(token: keyof typeof tokens, transport: Transport, variant: Variant): Subscriber {
  const request = {
    query: variant.query,
    variables: variant.variables([`${TEST_LABEL}=${fixtures.run}`]),
    ...(variant.operationName ? { operationName: variant.operationName } : {}),
  };
  const iterator = live().iterateWithToken<Record<string, unknown>>(
    transport,
    tokens[token],
    request,
  );
  return { token, transport, variant, collected: collectSubscription(variant.key, iterator) };
}

const mentions = (id: string) => (messages: readonly unknown[]) =>
  messages.find((message) => JSON.stringify(message).includes(id));

describe('results shared among subscribers: attacks', () => {
  it('hands each token only what it may read, whatever the document or transport', async () => {
    const subscribers: Subscriber[] = [];
    // The admin first, so that its executions are those shared, if any are.
    for (const variant of VARIANTS) {
      for (const token of ['root', 'nosecrets', 'viewer', 'teamA', 'teamB'] as const) {
        for (const transport of ['websocket', 'sse'] as const) {
          subscribers.push(subscribe(token, transport, variant));
        }
      }
    }
    // A subscriber that leaves at once: its stream ends, nobody else's.
    const leaver = subscribe('root', 'websocket', VARIANTS[0] as Variant);
    await waitFor(
      () => {
        const failed = [...subscribers, leaver].filter((each) => each.collected.errors.length);
        if (failed.length > 0) {
          const [first] = failed;
          throw new Error(
            `${failed.length} failed, e.g. ${first?.token} over ${first?.transport} (${first?.variant.name}): ${JSON.stringify(first?.collected.errors)}`,
          );
        }
        return live().server.events.subscriberCount === subscribers.length + 1;
      },
      { timeoutMs: 30_000, what: 'every subscriber on the event hub' },
    );
    await leaver.collected.stop();

    const environment = { Env: [`API_TOKEN=${SECRET}`] };
    const aId = await fixtures.createContainer(fixtures.name('att-a'), {
      ...environment,
      Labels: { team: 'a' },
    });
    const bId = await fixtures.createContainer(fixtures.name('att-b'), {
      ...environment,
      Labels: { team: 'b' },
    });
    const otherId = await fixtures.createContainer(fixtures.name('att-other'), environment);
    // In this order: a stream that would show a later start shows the earlier ones first.
    await fixtures.startContainer(aId);
    await fixtures.startContainer(bId);
    await fixtures.startContainer(otherId);

    for (const subscriber of subscribers) {
      const { collected, token, transport, variant } = subscriber;
      const what = `${token} over ${transport} (${variant.name})`;
      const own = token === 'teamA' ? aId : token === 'teamB' ? bId : otherId;
      await collected.until(mentions(own), 60_000, `${what}: the start of ${own}`);
      const text = JSON.stringify(collected.messages);
      if (token === 'teamA' || token === 'teamB') {
        // The start of the other team's container, and of the unlabelled one, never reach it.
        const foreign = [aId, bId, otherId].filter((id) => id !== own);
        for (const id of foreign) expect(text, `${what} saw ${id}`).not.toContain(id);
      }
      if (token === 'root' || token === 'teamA' || token === 'teamB') {
        // Admins read the secret: the test would see it if it leaked.
        expect(text, what).toContain(SECRET);
        expect(collected.errors, what).toEqual([]);
      } else {
        // Without `secrets` the value is redacted, though the admin's result held it.
        expect(text, `${what} read the secret`).not.toContain(SECRET);
      }
      if (token === 'viewer') {
        // `logs` is refused to a viewer every time, though an admin's result had it.
        expect(text, `${what} read logs`).not.toMatch(/"truncated"/);
        expect(JSON.stringify(collected.errors), what).toMatch(/logs/);
      }
    }
    expect(leaver.collected.ended).toBe(true);
    for (const subscriber of subscribers) await subscriber.collected.stop();
  });

  it('refuses a subscription with two root fields, aliased or not, before any sharing', async () => {
    for (const token of ['root', 'viewer'] as const) {
      const collected = collectSubscription(
        'a',
        live().iterateWithToken<Record<string, unknown>>('websocket', tokens[token], {
          query: `subscription Two { a: events { kind } b: events { kind event { container { config { env { value } } } } } }`,
        }),
      );
      await collected.untilEnded(30_000);
      expect(collected.messages).toEqual([]);
      expect(JSON.stringify(collected.errors)).toMatch(/only one top level field/);
    }
  });
});
