// The GraphQL clients frontends use, each on its default settings (only the token added when
// tokens are configured), against a live server with and without tokens: queries, a mutation,
// and a subscription's events. urql sends its queries as GET; Apollo Client POSTs JSON;
// graphql-sse POSTs and reads server-sent events; EventSource GETs them; graphql-ws is a
// WebSocket. Browsers are in test/browser/.
import { ApolloClient, gql, HttpLink, InMemoryCache } from '@apollo/client';
import { fetchExchange, Client as UrqlClient } from '@urql/core';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import { EventSource } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { randomToken, tokensEnv } from '../helpers/access.ts';
import { EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { webSocketUrl } from '../helpers/graphql-ws.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';

const QUERY = 'query Version { engine { version { apiVersion } } }';
const MUTATION = `mutation Create($name: String!, $labels: [KeyValueInput!]) {
  createVolume(input: { name: $name, labels: $labels }) {
    __typename
    ... on VolumePayload { volume { name } }
  }
}`;
// With \`since\`, events the engine had before the subscription began are replayed: the
// volume can be created right away, whether or not the subscription is in place yet.
const SUBSCRIPTION = `subscription Watch($name: String!, $since: DateTime) {
  events(filter: { volumes: [$name] }, since: $since) { kind event { action actor { id } } }
}`;

interface EventMessage {
  readonly events: { readonly kind: string; readonly event: { readonly action: string } | null };
}

const fixtures = new EngineFixtures();
afterAll(() => fixtures.cleanup());

/** A minute ago: replaying from then covers a creation made as the subscription starts. */
function sinceNow(): string {
  return new Date(Date.now() - 60_000).toISOString();
}

/** Creates a volume named `name` through the engine, with the run label. */
function createVolume(name: string): Promise<void> {
  return fixtures.createVolume(name);
}

/** The first "create" event a subscription delivers; `start` subscribes and returns its stop. */
function firstCreateEvent(
  start: (
    onMessage: (message: EventMessage) => void,
    onError: (error: unknown) => void,
  ) => () => void,
  trigger: () => Promise<void>,
): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let stop: () => void = () => undefined;
    stop = start(
      (message) => {
        if (message.events.event?.action === 'create') {
          stop();
          resolve(message.events.event.action);
        }
      },
      (error) => {
        stop();
        reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
      },
    );
    void trigger().catch(reject);
  });
}

for (const withTokens of [false, true]) {
  describe(withTokens ? 'with tokens' : 'without tokens', () => {
    const token = randomToken();
    const headers: Record<string, string> = withTokens ? { authorization: `Bearer ${token}` } : {};
    let live: LiveServer;
    let url: string;
    beforeAll(async () => {
      live = await startLiveServer(undefined, {
        env: withTokens ? tokensEnv([{ id: 'frontend', role: 'admin', token }]) : {},
      });
      url = `${live.server.url}/graphql`;
    });
    afterAll(() => live.close());

    it('urql (queries over GET by default), a query and a mutation', async () => {
      const client = new UrqlClient({
        url,
        exchanges: [fetchExchange],
        ...(withTokens ? { fetchOptions: { headers } } : {}),
      });
      // The methods urql chose, seen through the fetch it calls (its settings stay untouched).
      const methods: string[] = [];
      const realFetch = globalThis.fetch;
      globalThis.fetch = (input, init) => {
        methods.push(init?.method ?? 'GET');
        return realFetch(input, init);
      };
      try {
        const query = await client.query(QUERY, {}).toPromise();
        expect(query.error).toBeUndefined();
        expect(query.data).toEqual({ engine: { version: { apiVersion: '1.41' } } });
      } finally {
        globalThis.fetch = realFetch;
      }
      expect(methods).toEqual(['GET']);
      const name = fixtures.name(`urql-${withTokens ? 't' : 'n'}`);
      const mutation = await client
        .mutation(MUTATION, { name, labels: [{ name: TEST_LABEL, value: fixtures.run }] })
        .toPromise();
      expect(mutation.error).toBeUndefined();
      expect(mutation.data).toEqual({
        createVolume: { __typename: 'VolumePayload', volume: { name } },
      });
    });

    it('Apollo Client, a query and a mutation', async () => {
      const client = new ApolloClient({
        link: new HttpLink({ uri: url, headers }),
        cache: new InMemoryCache(),
      });
      const query = await client.query({ query: gql(QUERY) });
      expect(query.data).toMatchObject({ engine: { version: { apiVersion: '1.41' } } });
      const name = fixtures.name(`apollo-${withTokens ? 't' : 'n'}`);
      const mutation = await client.mutate({
        mutation: gql(MUTATION),
        variables: { name, labels: [{ name: TEST_LABEL, value: fixtures.run }] },
      });
      expect(mutation.data).toMatchObject({
        createVolume: { __typename: 'VolumePayload', volume: { name } },
      });
      client.stop();
    });

    // graphql-ws over a WebSocket, graphql-sse over server-sent events: the same calls.
    const subscriptionClients = [
      {
        library: 'graphql-ws',
        prefix: 'ws',
        connect: () =>
          createWsClient({
            url: webSocketUrl(live.server.url),
            webSocketImpl: WebSocket,
            ...(withTokens ? { connectionParams: { authorization: `Bearer ${token}` } } : {}),
          }),
      },
      { library: 'graphql-sse', prefix: 'sse', connect: () => createSseClient({ url, headers }) },
    ];
    for (const { library, prefix, connect } of subscriptionClients) {
      it(`${library}, a query and a subscription`, async () => {
        const client = connect();
        try {
          const query = await client.iterate({ query: QUERY }).next();
          expect(query.value).toEqual({ data: { engine: { version: { apiVersion: '1.41' } } } });
          const name = fixtures.name(`${prefix}-${withTokens ? 't' : 'n'}`);
          const action = await firstCreateEvent(
            (onMessage, onError) =>
              client.subscribe<EventMessage>(
                { query: SUBSCRIPTION, variables: { name, since: sinceNow() } },
                {
                  next: (result) => (result.data ? onMessage(result.data) : onError(result.errors)),
                  error: onError,
                  complete: () => undefined,
                },
              ),
            () => createVolume(name),
          );
          expect(action).toBe('create');
        } finally {
          await client.dispose();
        }
      });
    }

    if (!withTokens) {
      // EventSource cannot send an Authorization header: with tokens, use graphql-sse or fetch.
      it('a plain EventSource (GET), a subscription', async () => {
        const name = fixtures.name('es');
        const query = new URLSearchParams({
          query: SUBSCRIPTION,
          variables: JSON.stringify({ name, since: sinceNow() }),
        });
        const source = new EventSource(`${url}?${query}`);
        try {
          const action = await firstCreateEvent(
            (onMessage, onError) => {
              source.addEventListener('next', (event) => {
                const result = JSON.parse((event as MessageEvent<string>).data) as {
                  data?: EventMessage;
                  errors?: unknown;
                };
                if (result.data) onMessage(result.data);
                else onError(result.errors);
              });
              source.onerror = () => onError(new Error('EventSource failed'));
              return () => source.close();
            },
            () => createVolume(name),
          );
          expect(action).toBe('create');
        } finally {
          source.close();
        }
      });
    }
  });
}
