// DOCKERGRAPH_READ_ONLY turns every mutation off, for admin too, before any engine call;
// queries and the subscriptions that only read keep working.
import { randomUUID } from 'node:crypto';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permissionFor } from '../../src/schema/access-rules.ts';
import { schema } from '../../src/schema/index.ts';
import { graphql } from '../generated/gql.ts';
import {
  harmlessOperation,
  harmlessSamples,
  makeRoleTokens,
  rootFieldNames,
  sendOperation,
} from '../helpers/access.ts';
import { createTestApp, withoutEngineCalls } from '../helpers/app.ts';
import { EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { firstAnswer } from '../helpers/graphql-ws.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';

const ReadOnlyOverview = graphql(`
  query ReadOnlyOverview($name: String!) {
    engine { version { apiVersion } }
    containers(filter: { names: [$name] }) { totalCount edges { node { name state } } }
  }
`);

const ReadOnlyLogs = graphql(`
  subscription ReadOnlyLogs($id: String!) {
    containerLogs(id: $id, timestamps: false) { line { stream message } }
  }
`);

const ReadOnlyEvents = graphql(`
  subscription ReadOnlyEvents($filter: EventFilter, $since: DateTime) {
    events(filter: $filter, since: $since) { event { type action actor { id } } }
  }
`);

/** The write permissions the read-only switch turns off (every mutation has one of them). */
const writePermissions = new Set(['lifecycle', 'write', 'dangerous']);

const samples = harmlessSamples(randomUUID().slice(0, 8));

describe('read-only switch', () => {
  const fixtures = new EngineFixtures();
  const { tokens, env } = makeRoleTokens();
  const readOnly = { ...env, DOCKERGRAPH_READ_ONLY: 'true' };
  const app = createTestApp(readOnly, { token: tokens.admin });
  const name = fixtures.name('read-only');
  let live: LiveServer;
  let containerId = '';
  let createdAt: Date;

  beforeAll(async () => {
    createdAt = new Date(Date.now() - 1_000);
    containerId = await fixtures.runContainer(
      name,
      { Cmd: ['sh', '-c', 'echo still readable; sleep 3600'] },
      false,
    );
    live = await startLiveServer(undefined, { env: readOnly, token: tokens.admin });
  });

  afterAll(async () => {
    await live?.close();
    await fixtures.cleanup();
    await app.close();
  });

  it.each(rootFieldNames(schema, 'Mutation'))(
    'refuses %s to admin without an engine call',
    async (field) => {
      expect(writePermissions).toContain(permissionFor('Mutation', field));
      const operation = harmlessOperation(schema, samples, 'Mutation', field);
      const sent = await withoutEngineCalls(app, () => sendOperation(app, tokens.admin, operation));
      expect(sent.status).toBe(403);
      expect(sent.answer.errors).toEqual([
        expect.objectContaining({
          message: `Mutation.${field} is turned off: the server is read-only (DOCKERGRAPH_READ_ONLY)`,
          extensions: expect.objectContaining({ code: 'FORBIDDEN' }),
        }),
      ]);
    },
  );

  it('answers queries', async () => {
    const data = await app.query(ReadOnlyOverview, { name });
    expect(data.engine.version.apiVersion).toMatch(/^\d+\.\d+$/);
    expect(data.containers.edges.map((edge) => edge.node)).toEqual([{ name, state: 'RUNNING' }]);
  });

  it('refuses the subscriptions that write, when they start', async () => {
    const writing = rootFieldNames(schema, 'Subscription').filter((field) =>
      writePermissions.has(permissionFor('Subscription', field) ?? ''),
    );
    expect(writing).toEqual(expect.arrayContaining(['pullImageProgress', 'buildImageProgress']));
    for (const field of writing) {
      const operation = harmlessOperation(schema, samples, 'Subscription', field);
      expect((await firstAnswer(live.client, operation)).errors).toEqual([
        expect.objectContaining({
          message: `Subscription.${field} is turned off: the server is read-only (DOCKERGRAPH_READ_ONLY)`,
        }),
      ]);
    }
  });

  it('streams logs and events', async () => {
    const logs = await firstAnswer(live.client, {
      query: print(ReadOnlyLogs),
      variables: { id: containerId },
    });
    expect(logs).toEqual({
      data: { containerLogs: { line: { stream: 'STDOUT', message: 'still readable' } } },
    });
    // Events since before the container was made are replayed at once.
    const events = await firstAnswer(live.client, {
      query: print(ReadOnlyEvents),
      variables: {
        filter: { labels: [`${TEST_LABEL}=${fixtures.run}`], types: ['CONTAINER'] },
        since: createdAt.toISOString(),
      },
    });
    expect(events).toEqual({
      data: {
        events: { event: { type: 'CONTAINER', action: 'create', actor: { id: containerId } } },
      },
    });
  });
});
