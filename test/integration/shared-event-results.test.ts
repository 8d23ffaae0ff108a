// The server executes an event once for the subscribers of one token that send the same
// operation, and hands them the result (src/plugins/use-shared-subscription-results.ts).
// Attacks: subscribers with other tokens send the very same document and variables over
// WebSocket and SSE, after a more privileged token subscribed, and must still receive only
// what their own token allows: no event of a container outside their label limit, no
// field their role lacks.
import { describe, expect, it } from 'vitest';
import { randomToken, tokensEnv } from '../helpers/access.ts';
import {
  type CollectedSubscription,
  collectSubscription,
} from '../helpers/collect-subscription.ts';
import { EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { type Transport, useLiveServer } from '../helpers/live-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const fixtures = new EngineFixtures();
const rootToken = randomToken();
const teamToken = randomToken();
const viewerToken = randomToken();
const operatorToken = randomToken();
const env = tokensEnv([
  { id: 'root', role: 'admin', token: rootToken },
  { id: 'team', role: 'admin', token: teamToken, labels: { team: 'a' } },
  { id: 'viewer', role: 'viewer', token: viewerToken },
  { id: 'operator', role: 'operator', token: operatorToken },
]);

/** One document for every subscriber: `logs` needs the "logs" permission, which viewers lack. */
const QUERY = `subscription SharedEvents($labels: [String!]) {
  events(filter: { types: [CONTAINER], actions: ["start"], labels: $labels }) {
    kind
    event { action actor { id } container { name logs(tail: 1) { truncated } } }
  }
}`;
const variables = { labels: [`${TEST_LABEL}=${fixtures.run}`] };

interface Message {
  readonly kind: string;
  readonly event: {
    readonly action: string;
    readonly actor: { readonly id: string };
    readonly container: { readonly name: string; readonly logs: { truncated: boolean } } | null;
  } | null;
}

type Collected = CollectedSubscription<Message>;

const live = useLiveServer({ env: { ...env, DOCKERGRAPH_RATE_LIMIT: '0' } }, () =>
  fixtures.cleanup(),
);

function over(transport: Transport, token: string): Collected {
  return collectSubscription(
    'events',
    live().iterateWithToken<{ events: Message }>(transport, token, { query: QUERY, variables }),
  );
}

const startOf = (id: string) => (messages: readonly Message[]) =>
  messages.find((message) => message.event?.action === 'start' && message.event.actor.id === id);

describe('results shared among subscribers of one event', () => {
  it('never hands a token what another token may see, over WebSocket and SSE', async () => {
    // The most privileged subscribe first, so that theirs are the first executions of each event.
    const root = over('websocket', rootToken);
    const rootAgain = over('websocket', rootToken);
    const rootSse = over('sse', rootToken);
    const operator = over('websocket', operatorToken);
    const team = over('websocket', teamToken);
    const teamSse = over('sse', teamToken);
    const viewer = over('websocket', viewerToken);
    const viewerSse = over('sse', viewerToken);
    const all = [root, rootAgain, rootSse, operator, team, teamSse, viewer, viewerSse];
    await waitFor(() => live().server.events.subscriberCount === all.length, {
      timeoutMs: 20_000,
      what: `${all.length} subscribers of the event hub`,
    });

    // Started first: a later event of the same stream comes after it, to every subscriber.
    const otherId = await fixtures.createContainer(fixtures.name('shared-other'));
    await fixtures.startContainer(otherId);
    const teamId = await fixtures.createContainer(fixtures.name('shared-team'), {
      Labels: { team: 'a' },
    });
    await fixtures.startContainer(teamId);

    for (const unlimited of [root, rootAgain, rootSse, operator]) {
      await unlimited.until(startOf(otherId), 30_000, 'the start of the unlabelled container');
      const last = await unlimited.until(
        startOf(teamId),
        30_000,
        'the start of the team container',
      );
      expect(last.event?.container?.logs).toEqual({ truncated: false });
      expect(unlimited.errors).toEqual([]);
    }
    for (const limited of [team, teamSse]) {
      const own = await limited.until(startOf(teamId), 30_000, 'the start of its container');
      expect(own.event?.container?.name).toBe(fixtures.name('shared-team'));
      // In order: the other container's start would have come before.
      expect(limited.messages.some((message) => message.event?.actor.id === otherId)).toBe(false);
      expect(limited.errors).toEqual([]);
    }
    for (const denied of [viewer, viewerSse]) {
      await denied.until(startOf(otherId), 30_000, 'the start of the unlabelled container');
      await denied.until(startOf(teamId), 30_000, 'the start of the team container');
      // The field it may not read is refused each time, though an operator's result had it.
      for (const message of denied.messages) expect(message.event?.container ?? null).toBeNull();
      expect(JSON.stringify(denied.errors)).toMatch(/logs/);
    }

    for (const each of all) await each.stop();
  });
});
