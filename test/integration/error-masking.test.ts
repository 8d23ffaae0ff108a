// Errors of subscriptions as clients see them, over every transport: the fault proxy garbles
// the engine's answers. Each result's errors and the error a stream fails with pass the
// server's masking (src/plugins/use-masked-results.ts), which gives an engine's failure its
// code and hides what was not meant for clients; unforeseen errors are tested in
// test/unit/masked-results.test.ts.
import { print } from 'graphql';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/gql.ts';
import type { MaskedEventsSubscription } from '../generated/graphql.ts';
import { collectSubscription } from '../helpers/collect-subscription.ts';
import { EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.ts';
import { type LiveServer, startLiveServer, type Transport } from '../helpers/live-server.ts';
import { captureLog } from '../helpers/log-capture.ts';
import { waitFor } from '../helpers/wait-for.ts';

const MaskedEvents = graphql(`
  subscription MaskedEvents($filter: EventFilter) {
    events(filter: $filter) {
      kind
      event { action container { name } }
    }
  }
`);

const MaskedHistory = graphql(`
  subscription MaskedHistory($since: DateTime!, $until: DateTime!) {
    events(since: $since, until: $until) { kind }
  }
`);

/** Every engine call about containers: lists and inspections. */
const CONTAINER_READS = /^GET \/v[\d.]+\/containers\//;

/** A garbled answer is an engine that does not answer as the Engine API says. */
const UNAVAILABLE = { code: 'ENGINE_UNAVAILABLE' };

/** Words of the cause (JSON.parse's SyntaxError) that must not reach a client. */
const CAUSE = /JSON|token|position|SyntaxError|JsonLines/i;

describe('errors the server did not foresee', () => {
  const fixtures = new EngineFixtures();
  const log = captureLog('debug');
  let proxy: FaultProxy;
  let live: LiveServer;

  beforeAll(async () => {
    proxy = await startFaultProxy();
    live = await startLiveServer(proxy.dockerHost, {
      logger: log.logger,
      // One place for every request (no tokens): a stream that fails must give it back.
      env: { DOCKERGRAPH_MAX_SUBSCRIPTIONS_PER_TOKEN: '1' },
    });
  });

  afterEach(() => {
    proxy.setMode({ kind: 'pass' });
  });

  afterAll(async () => {
    await live?.close();
    await proxy?.close();
    await fixtures.cleanup();
  });

  it.each<Transport>(['websocket', 'sse'])(
    'masks the error of one event of a subscription over %s, and goes on',
    async (transport) => {
      const scenario = `masked-${transport}`;
      const received = collectSubscription(
        'events',
        live.iterateWithToken<{ events: MaskedEventsSubscription['events'] }>(transport, 'none', {
          query: print(MaskedEvents),
          variables: {
            filter: {
              types: ['CONTAINER'],
              actions: ['create', 'destroy'],
              labels: [`${TEST_LABEL}=${fixtures.run}`, `dg.masked=${scenario}`],
            },
          },
        }),
      );
      await waitFor(() => live.server.events.subscriberCount === 1, {
        timeoutMs: 10_000,
        what: 'the subscriber of the event hub',
      });
      proxy.setMode({ kind: 'garble', pattern: CONTAINER_READS });
      const id = await fixtures.createContainer(fixtures.name(scenario), {
        Labels: { 'dg.masked': scenario },
      });
      await received.untilCount(1, 10_000);
      expect(received.messages[0]).toEqual({
        kind: 'EVENT',
        event: { action: 'create', container: null },
      });
      expect(received.errors).toEqual([
        [
          {
            message: 'list containers: the Docker engine is unavailable',
            path: ['events', 'event', 'container'],
            locations: [{ line: 6, column: 7 }],
            extensions: UNAVAILABLE,
          },
        ],
      ]);
      // The stream goes on: the next event, read without the fault, arrives whole.
      proxy.setMode({ kind: 'pass' });
      await fixtures.send({ method: 'DELETE', path: `/containers/${id}` }, 'remove test container');
      await received.untilCount(2, 10_000);
      expect(received.messages[1]).toEqual({
        kind: 'EVENT',
        event: { action: 'destroy', container: null },
      });
      expect(received.errors).toHaveLength(1);
      await received.stop();
      await waitFor(() => live.server.events.subscriberCount === 0, {
        timeoutMs: 10_000,
        what: 'the subscriber to leave',
      });
    },
  );

  it.each<Transport>(['websocket', 'sse'])(
    'ends a stream that fails with its error and code over %s, and gives its place back',
    async (transport) => {
      // A range that holds an event, so that the engine's answer has a body to garble (an
      // empty range answers none, and the stream would end without fault).
      const since = new Date(Date.now() - 1);
      await fixtures.createContainer(fixtures.name(`masked-history-${transport}`));
      const until = new Date();
      const history = () =>
        collectSubscription(
          'events',
          live.iterateWithToken<{ events: { kind: string } }>(transport, 'none', {
            query: print(MaskedHistory),
            variables: { since: since.toISOString(), until: until.toISOString() },
          }),
        );
      proxy.setMode({ kind: 'garble', pattern: /^GET \/v[\d.]+\/events\?/ });
      const failed = history();
      await failed.untilEnded(10_000);
      // The engine's failure, thrown by the stream rather than located in a result, keeps its
      // code (it was answered "Unexpected error." and logged as a fault of the server).
      expect(failed.errors).toEqual([
        [
          expect.objectContaining({
            message: 'stream engine events: the Docker engine is unavailable',
            extensions: UNAVAILABLE,
          }),
        ],
      ]);
      expect(JSON.stringify(failed.errors)).not.toMatch(CAUSE);
      expect(log.entries.filter((line) => line.level === 'error')).toEqual([]);
      // The only place (DOCKERGRAPH_MAX_SUBSCRIPTIONS_PER_TOKEN=1) is free again.
      proxy.setMode({ kind: 'pass' });
      const next = history();
      await next.untilEnded(10_000);
      expect(next.errors).toEqual([]);
    },
  );
});
