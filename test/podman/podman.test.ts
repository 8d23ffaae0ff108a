// Podman 4.3 serving the Docker-compatible API, as a GraphQL user sees it: each test is one
// place where Podman's answers differ from Docker's (issue 13), against a real private Podman
// (test/helpers/podman-setup.ts). The fixtures are made through the Engine API itself.
import { parse } from 'graphql';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.ts';
import { randomToken, tokensEnv } from '../helpers/access.ts';
import { createTestApp, dataOf, type GraphQLResponse, type TestApp } from '../helpers/app.ts';
import { collectSubscription } from '../helpers/collect-subscription.ts';
import { BASE_IMAGE, createTar, EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** Runs one operation written as a string; the answer as the client receives it. */
async function run<TData>(
  app: TestApp,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<GraphQLResponse<TData>> {
  return (await app.post<GraphQLResponse<TData>>({ query, variables })).body;
}

/** Like {@link run}, failing the test when the answer has errors. */
async function data<TData>(
  app: TestApp,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<TData> {
  return dataOf(await run<TData>(app, query, variables));
}

interface MutationAnswer {
  readonly __typename: string;
  readonly message?: string;
  readonly engine?: string;
  readonly image?: { readonly tags: string[] };
}

const MUTATION_ERROR_FIELDS = `
  __typename
  ... on MutationError { message }
  ... on NotSupportedError { engine }
`;

describe('Podman as the engine', () => {
  const fixtures = new EngineFixtures();
  const viewerToken = randomToken();
  let app: TestApp;
  let viewer: TestApp;
  let live: LiveServer | undefined;
  let running: RunningServer;
  let client: Client;

  beforeAll(async () => {
    app = createTestApp();
    viewer = createTestApp(tokensEnv([{ id: 'viewer', role: 'viewer', token: viewerToken }]), {
      token: viewerToken,
    });
    live = await startLiveServer();
    ({ server: running, client } = live);
  });

  afterAll(async () => {
    try {
      await live?.close();
      await Promise.all([app?.close(), viewer?.close()]);
    } finally {
      await fixtures.cleanup();
    }
  });

  async function untilSubscribers(count: number): Promise<void> {
    await waitFor(() => running.events.subscriberCount === count, {
      timeoutMs: 10_000,
      what: `${count} subscribers of the event hub`,
    });
  }

  it('is recognised as Podman', async () => {
    const answer = await data<{ engine: { ping: { kind: string } } }>(
      app,
      '{ engine { ping { kind } } }',
    );
    expect(answer.engine.ping.kind).toBe('PODMAN');
  });

  it('reads lists from Podman itself with the read model on (exact): its events cannot make the model exact', async () => {
    const modelled = createTestApp({ DOCKERGRAPH_READ_MODEL: 'on' });
    try {
      const model = modelled.engines.list()[0]?.readModel;
      if (!model) throw new Error('the read model is off');
      const name = fixtures.name('podman-model');
      await fixtures.createContainer(name);
      const engine = modelled.engines.list()[0];
      // The model checks the engine's kind before its first whole read, then stops following
      // the engine's events (it was their one subscriber).
      await waitFor(() => engine?.events.subscriberCount === 0, {
        timeoutMs: 10_000,
        what: 'the model to stop following Podman',
      });
      expect(model.counters.resyncs).toBe(0);
      const answer = await data<{ containers: { edges: { node: { name: string } }[] } }>(
        modelled,
        'query ($labels: [String!]) { containers(filter: { labels: $labels }) { edges { node { name } } } }',
        { labels: [`${TEST_LABEL}=${fixtures.run}`] },
      );
      expect(answer.containers.edges.map((edge) => edge.node.name)).toContain(name);
      expect(model.counters.served).toBe(0);
      expect(model.warm).toBe(false);
    } finally {
      await modelled.close();
    }
  });

  it('1. answers null health for a container without a healthcheck, as for Docker', async () => {
    const name = fixtures.name('nohealth');
    await fixtures.runContainer(name);
    const answer = await run<{ container: { state: string; health: unknown } }>(
      app,
      'query ($name: String!) { container(idOrName: $name) { state health { status failingStreak log { exitCode } } } }',
      { name },
    );
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.container).toEqual({ state: 'RUNNING', health: null });
  });

  it('2. lists processes with the default ps arguments, for a viewer and with the secrets permission', async () => {
    const name = fixtures.name('top');
    await fixtures.runContainer(name);
    const query = `query ($name: String!) {
      container(idOrName: $name) { top { titles processes { pid command } } }
    }`;
    type Top = {
      container: {
        top: { titles: string[]; processes: { pid: number | null; command: string | null }[] };
      };
    };
    // Without `secrets` the columns are fixed: PID PPID USER STIME TIME COMMAND.
    const fixed = await data<Top>(viewer, query, { name });
    expect(fixed.container.top.titles).toEqual(['PID', 'PPID', 'USER', 'STIME', 'TIME', 'COMMAND']);
    expect(fixed.container.top.processes).toEqual([{ pid: 1, command: 'sleep' }]);
    // With `secrets` and no psArgs: what `ps -ef` shows, the whole command line.
    const full = await data<Top>(app, query, { name });
    expect(full.container.top.titles).toContain('PID');
    expect(full.container.top.processes).toEqual([{ pid: 1, command: 'sleep 3600' }]);
  });

  it('3. links a container to its networks and a network to its containers', async () => {
    const networkName = fixtures.name('links');
    const networkId = await fixtures.createNetwork(networkName);
    const name = fixtures.name('linked');
    await fixtures.runContainer(name, { HostConfig: { NetworkMode: networkName } });
    const answer = await data<{
      container: {
        dockerId: string;
        networks: { networkName: string; network: { dockerId: string; name: string } | null }[];
      };
      network: { containers: { container: { name: string } }[] };
    }>(
      app,
      `query ($name: String!, $network: String!) {
        container(idOrName: $name) { dockerId networks { networkName network { dockerId name } } }
        network(idOrName: $network) { containers { container { name } } }
      }`,
      { name, network: networkId },
    );
    expect(answer.container.networks).toEqual([
      { networkName, network: { dockerId: networkId, name: networkName } },
    ]);
    expect(answer.network.containers).toEqual([{ container: { name } }]);
  });

  it('4. sends REMOVED on containerUpdated when a container is removed', async () => {
    const name = fixtures.name('updated');
    const collected = collectSubscription(
      'containerUpdated',
      client.iterate<{
        containerUpdated: { kind: string; action: string; containerId: string | null };
      }>({
        query: `subscription ($filter: ContainerUpdateFilter) {
          containerUpdated(filter: $filter) { kind action containerId }
        }`,
        variables: { filter: { names: [name] } },
      }),
    );
    try {
      await untilSubscribers(1);
      const id = await fixtures.createContainer(name);
      await collected.until(
        (messages) => messages.find((m) => m.kind === 'UPDATED'),
        10_000,
        'the UPDATED message of the create',
      );
      await fixtures.send({ method: 'DELETE', path: `/containers/${id}` }, 'remove container');
      const removed = await collected.until(
        (messages) => messages.find((m) => m.kind === 'REMOVED'),
        10_000,
        'the REMOVED message',
      );
      expect(removed).toEqual({ kind: 'REMOVED', action: 'destroy', containerId: id });
      expect(collected.errors).toEqual([]);
    } finally {
      await collected.stop();
    }
    await untilSubscribers(0);
  });

  it('5. replays the events since a time before the subscription', async () => {
    const name = fixtures.name('since');
    // Podman stamps events with its own clock, read with the one of this process: a second of
    // margin keeps the create inside the window whatever the clocks' rounding.
    const since = new Date(Date.now() - 1_000);
    const id = await fixtures.createContainer(name);
    const collected = collectSubscription(
      'events',
      client.iterate<{
        events: { kind: string; event: { action: string; actor: { id: string } } | null };
      }>({
        query: `subscription ($filter: EventFilter, $since: DateTime) {
          events(filter: $filter, since: $since) { kind event { action actor { id } } }
        }`,
        variables: { filter: { containers: [id] }, since: since.toISOString() },
      }),
    );
    try {
      const created = await collected.until(
        (messages) => messages.find((m) => m.event?.action === 'create'),
        10_000,
        'the replayed create event',
      );
      expect(created).toEqual({ kind: 'EVENT', event: { action: 'create', actor: { id } } });
      expect(collected.errors).toEqual([]);
    } finally {
      await collected.stop();
    }
  });

  it('6. commits a container into a tagged image', async () => {
    const name = fixtures.name('commit');
    await fixtures.runContainer(name);
    const repository = `dg-commit-${fixtures.run}`;
    const answer = await data<{ commitContainer: MutationAnswer }>(
      app,
      `mutation ($container: String!, $repository: String!) {
        commitContainer(container: $container, repository: $repository, tag: "v1", changes: ["LABEL ${TEST_LABEL}=${fixtures.run}"]) {
          ${MUTATION_ERROR_FIELDS}
          ... on ImagePayload { image { tags } }
        }
      }`,
      { container: name, repository },
    );
    expect(answer.commitContainer.__typename).toBe('ImagePayload');
    expect(answer.commitContainer.image?.tags).toContainEqual(
      expect.stringMatching(new RegExp(`(^|/)${repository}:v1$`)),
    );
  });

  it('7. answers NotSupportedError naming Podman for updateContainer, changing nothing', async () => {
    const name = fixtures.name('update');
    await fixtures.runContainer(name);
    const answer = await data<{ updateContainer: MutationAnswer }>(
      app,
      `mutation ($id: String!) {
        updateContainer(id: $id, input: { restartPolicy: { name: ON_FAILURE, maximumRetryCount: 2 } }) {
          ${MUTATION_ERROR_FIELDS}
        }
      }`,
      { id: name },
    );
    expect(answer.updateContainer).toEqual({
      __typename: 'NotSupportedError',
      engine: 'podman',
      message: expect.stringContaining('not supported by Podman'),
    });
  });

  it('8. refuses to remove a network by id while a running container is attached', async () => {
    const networkName = fixtures.name('inuse');
    const networkId = await fixtures.createNetwork(networkName);
    await fixtures.runContainer(fixtures.name('inuse'), {
      HostConfig: { NetworkMode: networkName },
    });
    const answer = await data<{ removeNetwork: MutationAnswer }>(
      app,
      `mutation ($id: String!) { removeNetwork(id: $id) { ${MUTATION_ERROR_FIELDS} } }`,
      { id: networkId },
    );
    expect(answer.removeNetwork.__typename).toBe('ConflictError');
    const still = await data<{ network: { name: string } | null }>(
      app,
      'query ($id: String!) { network(idOrName: $id) { name } }',
      { id: networkId },
    );
    expect(still.network).toEqual({ name: networkName });
  });

  it('9. filters networks by type and scope', async () => {
    const networkName = fixtures.name('types');
    await fixtures.createNetwork(networkName);
    type Names = { networks: { edges: { node: { name: string } }[] } };
    const query = `query ($filter: NetworkFilter) { networks(filter: $filter) { edges { node { name } } } }`;
    const names = (answer: Names) => answer.networks.edges.map((edge) => edge.node.name);
    const custom = names(
      await data<Names>(app, query, { filter: { types: ['CUSTOM'], scopes: ['LOCAL'] } }),
    );
    expect(custom).toContain(networkName);
    expect(custom).not.toContain('bridge');
    const builtin = names(await data<Names>(app, query, { filter: { types: ['BUILTIN'] } }));
    expect(builtin).toContain('bridge');
    expect(builtin).not.toContain(networkName);
    const swarm = names(await data<Names>(app, query, { filter: { scopes: ['SWARM'] } }));
    expect(swarm).toEqual([]);
  });

  it('10. answers ConflictError where Podman answers 500 for a conflict', async () => {
    const name = fixtures.name('conflict');
    await fixtures.runContainer(name);
    const created = await data<{ createContainer: MutationAnswer }>(
      app,
      `mutation ($name: String!, $image: String!) {
        createContainer(input: { name: $name, image: $image, cmd: ["true"] }) { ${MUTATION_ERROR_FIELDS} }
      }`,
      { name, image: BASE_IMAGE },
    );
    expect(created.createContainer.__typename).toBe('ConflictError');
    const removed = await data<{ removeContainer: MutationAnswer }>(
      app,
      `mutation ($id: String!) { removeContainer(id: $id) { ${MUTATION_ERROR_FIELDS} } }`,
      { id: name },
    );
    expect(removed.removeContainer.__typename).toBe('ConflictError');
  });

  it('11. tags an imported image with the given repository and tag', async () => {
    const repository = `dg-import-${fixtures.run}`;
    const archive = createTar({ 'hello.txt': 'hello from podman\n' });
    const document = parse(`
      mutation ($archive: File!, $repository: String!, $changes: [String!]) {
        importImage(archive: $archive, repository: $repository, tag: "v2", changes: $changes) {
          ${MUTATION_ERROR_FIELDS}
          ... on ImportImagePayload { image { tags } }
        }
      }
    `);
    const answer = await app.upload<
      { importImage: MutationAnswer },
      { archive: null; repository: string; changes: string[] }
    >(document, { repository, changes: [`LABEL ${TEST_LABEL}=${fixtures.run}`] }, archive);
    expect(answer.importImage.__typename).toBe('ImportImagePayload');
    expect(answer.importImage.image?.tags).toContainEqual(
      expect.stringMatching(new RegExp(`(^|/)${repository}:v2$`)),
    );
  });
});
