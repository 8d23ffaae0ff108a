// The audit log: one JSON line per mutation and per subscription start, over HTTP, SSE and
// WebSocket, naming the token (never the token itself), the role, the operation, its variables
// with secrets redacted, and how it ended.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient as createSseClient } from 'graphql-sse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/plugins/audit-log.ts';
import { REDACTED } from '../../src/security/redact.ts';
import { graphql } from '../generated/gql.ts';
import { tokensEnv } from '../helpers/access.ts';
import { createTestApp, postOperation } from '../helpers/app.ts';
import { auditRecordsIn } from '../helpers/audit-lines.ts';
import { EngineFixtures } from '../helpers/docker-fixtures.ts';
import { clientWithToken, closeAfterConnectionInit, firstAnswer } from '../helpers/graphql-ws.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const CreateVolumeMutation = graphql(`
  mutation AuditCreateVolume($input: CreateVolumeInput!) {
    createVolume(input: $input) {
      __typename
      ... on VolumePayload { volume { name } }
      ... on MutationError { message }
    }
  }
`);

// No __typename: the audit line must know the error type without the client asking for it.
const RemoveContainerMutation = graphql(`
  mutation AuditRemoveMissing($id: String!) {
    removeContainer(id: $id) {
      ... on MutationError { message }
    }
  }
`);

const CreateContainerMutation = graphql(`
  mutation AuditCreateContainer($input: CreateContainerInput!) {
    createContainer(input: $input) {
      __typename
      ... on MutationError { message }
    }
  }
`);

const VolumesQuery = graphql(`
  query AuditVolumes($name: String!) {
    volume(name: $name) { name }
  }
`);

const EventsSubscription = graphql(`
  subscription AuditEvents($filter: EventFilter) {
    events(filter: $filter) { kind }
  }
`);

const LogsSubscription = graphql(`
  subscription AuditLogs($id: String!) {
    containerLogs(id: $id) { line { message } }
  }
`);

const ADMIN_TOKEN = `dg-admin-${randomUUID()}`;
const VIEWER_TOKEN = `dg-viewer-${randomUUID()}`;
const WRONG_TOKEN = `dg-wrong-${randomUUID()}`;

describe('audit log', () => {
  const fixtures = new EngineFixtures();
  let folder = '';
  let auditPath = '';
  let live: LiveServer;
  const startedAt = new Date();

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'dg-audit-'));
    auditPath = join(folder, 'audit.log');
    live = await startLiveServer(undefined, {
      env: {
        DOCKERGRAPH_AUDIT: auditPath,
        ...tokensEnv([
          { id: 'audit-admin', role: 'admin', token: ADMIN_TOKEN },
          { id: 'audit-viewer', role: 'viewer', token: VIEWER_TOKEN },
        ]),
      },
    });
  });

  afterAll(async () => {
    await live?.close();
    await fixtures.cleanup();
    rmSync(folder, { recursive: true, force: true });
  });

  function records(path = auditPath): AuditRecord[] {
    return auditRecordsIn(readFileSync(path, 'utf8'));
  }

  function recordOf(match: (record: AuditRecord) => boolean, what: string): Promise<AuditRecord> {
    return waitFor(() => records().find(match), {
      timeoutMs: 10_000,
      what: `audit line of ${what}`,
    });
  }

  const post = <TData, TVariables>(
    token: string,
    document: TypedDocumentNode<TData, TVariables>,
    variables: TVariables,
  ) => postOperation(live.server.url, token, document, variables);

  function expectTime(record: AuditRecord) {
    expect(record.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(record.time)).toBeGreaterThanOrEqual(startedAt.getTime());
    expect(Date.parse(record.time)).toBeLessThanOrEqual(Date.now());
  }

  it('writes a mutation that succeeds: token id, role, operation, variables, outcome ok', async () => {
    const name = fixtures.name('audit-ok');
    const input = {
      name,
      labels: Object.entries(fixtures.labels()).map(([n, value]) => ({ name: n, value })),
    };
    const { body } = await post(ADMIN_TOKEN, CreateVolumeMutation, { input });
    expect(body.data?.createVolume.__typename).toBe('VolumePayload');

    const record = await recordOf((r) => r.operationName === 'AuditCreateVolume', 'createVolume');
    expectTime(record);
    expect(record).toEqual({
      time: record.time,
      tokenId: 'audit-admin',
      role: 'admin',
      operationType: 'mutation',
      operationName: 'AuditCreateVolume',
      fields: ['createVolume'],
      // The engines the operation called: the test engine, served as "local".
      engines: ['local'],
      variables: { input },
      outcome: 'ok',
      transport: 'http',
      clientAddress: '127.0.0.1',
      durationMs: expect.any(Number),
    });
  });

  it('writes a mutation that answers a typed error as an error, with its type and message', async () => {
    const id = fixtures.name('audit-missing');
    const { body } = await post(ADMIN_TOKEN, RemoveContainerMutation, { id });
    expect(body.data?.removeContainer).toEqual({ message: expect.stringContaining(id) });

    const record = await recordOf(
      (r) => r.operationName === 'AuditRemoveMissing',
      'removeContainer',
    );
    expect(record).toMatchObject({
      tokenId: 'audit-admin',
      role: 'admin',
      operationType: 'mutation',
      fields: ['removeContainer'],
      variables: { id },
      outcome: 'error',
      errors: [
        {
          field: 'removeContainer',
          code: 'NotFoundError',
          message: body.data?.removeContainer.message,
        },
      ],
    });
  });

  it('writes a mutation the role may not run as denied, and the engine is left untouched', async () => {
    const name = fixtures.name('audit-denied');
    const { body } = await post(VIEWER_TOKEN, CreateVolumeMutation, { input: { name } });
    expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const record = await recordOf(
      (r) => r.operationName === 'AuditCreateVolume' && r.tokenId === 'audit-viewer',
      'the denied createVolume',
    );
    expect(record).toMatchObject({
      role: 'viewer',
      operationType: 'mutation',
      fields: ['createVolume'],
      variables: { input: { name } },
      outcome: 'denied',
      errors: [{ field: 'createVolume', code: 'FORBIDDEN', message: body.errors?.[0]?.message }],
    });
    const volume = await post(ADMIN_TOKEN, VolumesQuery, { name });
    expect(volume.body.data?.volume).toBeNull();
  });

  it('redacts environment values in the variables it writes', async () => {
    const secret = `s3cret-${randomUUID()}`;
    const input = {
      image: `dg-no-such-image-${fixtures.run}`,
      name: fixtures.name('audit-env'),
      env: [{ name: 'API_KEY', value: secret }],
      labels: Object.entries(fixtures.labels()).map(([n, value]) => ({ name: n, value })),
    };
    const { body } = await post(ADMIN_TOKEN, CreateContainerMutation, { input });
    expect(body.data?.createContainer.__typename).toBe('NotFoundError');

    const record = await recordOf(
      (r) => r.operationName === 'AuditCreateContainer',
      'createContainer',
    );
    expect(record).toMatchObject({
      outcome: 'error',
      variables: { input: { ...input, env: [{ name: 'API_KEY', value: REDACTED }] } },
      errors: [{ field: 'createContainer', code: 'NotFoundError' }],
    });
    expect(readFileSync(auditPath, 'utf8')).not.toContain(secret);
  });

  it('does not write queries', async () => {
    await post(ADMIN_TOKEN, VolumesQuery, { name: fixtures.name('audit-query') });
    expect(records().filter((r) => r.operationName === 'AuditVolumes')).toEqual([]);
  });

  it('writes subscription starts over WebSocket, allowed and denied', async () => {
    const admin = clientWithToken(live.server.url, ADMIN_TOKEN);
    const viewer = clientWithToken(live.server.url, VIEWER_TOKEN);
    try {
      const filter = { labels: [`dockergraph.test=${fixtures.run}`] };
      const stop = admin.subscribe(
        { query: print(EventsSubscription), variables: { filter } },
        { next: () => {}, error: () => {}, complete: () => {} },
      );
      const started = await recordOf(
        (r) => r.operationName === 'AuditEvents' && r.transport === 'websocket',
        'the events subscription over WebSocket',
      );
      stop();
      expectTime(started);
      expect(started).toMatchObject({
        tokenId: 'audit-admin',
        role: 'admin',
        operationType: 'subscription',
        fields: ['events'],
        variables: { filter },
        outcome: 'ok',
        clientAddress: '127.0.0.1',
      });

      // A subscription refused when it starts answers one result with the error, then completes.
      const { errors } = await firstAnswer(viewer, {
        query: print(LogsSubscription),
        variables: { id: 'anything' },
      });
      expect(errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const denied = await recordOf(
        (r) => r.operationName === 'AuditLogs',
        'the denied containerLogs subscription',
      );
      expect(denied).toMatchObject({
        tokenId: 'audit-viewer',
        role: 'viewer',
        operationType: 'subscription',
        fields: ['containerLogs'],
        variables: { id: 'anything' },
        outcome: 'denied',
        transport: 'websocket',
        errors: [{ field: 'containerLogs', code: 'FORBIDDEN', message: errors?.[0]?.message }],
      });
    } finally {
      await admin.dispose();
      await viewer.dispose();
    }
  });

  it('writes subscription starts over SSE', async () => {
    const client = createSseClient({
      url: `${live.server.url}/graphql`,
      retryAttempts: 0,
      headers: { authorization: `Bearer ${VIEWER_TOKEN}` },
    });
    try {
      const filter = { labels: [`dockergraph.test=${fixtures.run}`, 'sse'] };
      const stop = client.subscribe(
        { query: print(EventsSubscription), variables: { filter } },
        { next: () => {}, error: () => {}, complete: () => {} },
      );
      const started = await recordOf(
        (r) => r.operationName === 'AuditEvents' && r.transport === 'sse',
        'the events subscription over SSE',
      );
      stop();
      expect(started).toMatchObject({
        tokenId: 'audit-viewer',
        role: 'viewer',
        operationType: 'subscription',
        fields: ['events'],
        variables: { filter },
        outcome: 'ok',
      });
    } finally {
      client.dispose();
    }
  });

  it('writes refused authentications, over HTTP and WebSocket, without the token', async () => {
    const before = records().length;
    const { status } = await post(WRONG_TOKEN, CreateVolumeMutation, {
      input: { name: fixtures.name('audit-401') },
    });
    expect(status).toBe(401);
    const http = await recordOf(
      (r) => r.transport === 'http' && r.errors?.[0]?.code === 'UNAUTHENTICATED',
      'the refused HTTP request',
    );
    expect(http).toEqual({
      time: http.time,
      tokenId: null,
      role: null,
      operationType: null,
      operationName: null,
      fields: [],
      variables: null,
      outcome: 'denied',
      errors: [{ field: null, code: 'UNAUTHENTICATED', message: 'the token is not valid' }],
      transport: 'http',
      clientAddress: '127.0.0.1',
    });

    const closed = await closeAfterConnectionInit(live.server.url, { authorization: WRONG_TOKEN });
    expect(closed.code).toBe(4403);
    const webSocket = await recordOf(
      (r) => r.transport === 'websocket' && r.errors?.[0]?.code === 'UNAUTHENTICATED',
      'the refused WebSocket connection',
    );
    expect(webSocket).toMatchObject({
      tokenId: null,
      role: null,
      operationType: null,
      outcome: 'denied',
    });
    expect(records().length).toBe(before + 2);
    expect(readFileSync(auditPath, 'utf8')).not.toContain(WRONG_TOKEN);
    expect(readFileSync(auditPath, 'utf8')).not.toContain(ADMIN_TOKEN);
    expect(readFileSync(auditPath, 'utf8')).not.toContain(VIEWER_TOKEN);
  });

  it('writes a mutation refused by the rate limit before it was parsed as denied', async () => {
    const path = join(folder, 'rate-limited.log');
    const app = createTestApp(
      {
        DOCKERGRAPH_AUDIT: path,
        DOCKERGRAPH_RATE_LIMIT: '1',
        ...tokensEnv([{ id: 'audit-limited', role: 'admin', token: ADMIN_TOKEN }]),
      },
      { token: ADMIN_TOKEN },
    );
    try {
      const first = fixtures.name('audit-rate-1');
      const second = fixtures.name('audit-rate-2');
      await app.execute(RemoveContainerMutation, { id: first });
      const refused = await app.execute(RemoveContainerMutation, { id: second });
      expect(refused.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
      expect(records(path)).toEqual([
        expect.objectContaining({ variables: { id: first }, outcome: 'error' }),
        expect.objectContaining({
          tokenId: 'audit-limited',
          role: 'admin',
          operationType: 'mutation',
          operationName: 'AuditRemoveMissing',
          fields: ['removeContainer'],
          variables: { id: second },
          outcome: 'denied',
          errors: [{ field: null, code: 'RATE_LIMITED', message: refused.errors?.[0]?.message }],
        }),
      ]);
    } finally {
      await app.app.dispose();
      await app.close();
    }
  });

  it('names no token for the local admin when no authentication is configured', async () => {
    const path = join(folder, 'local-admin.log');
    const app = createTestApp({ DOCKERGRAPH_AUDIT: path });
    try {
      const id = fixtures.name('audit-local');
      await app.execute(RemoveContainerMutation, { id });
      expect(records(path)).toEqual([
        expect.objectContaining({
          tokenId: null,
          role: 'admin',
          operationName: 'AuditRemoveMissing',
          variables: { id },
          outcome: 'error',
        }),
      ]);
    } finally {
      await app.app.dispose();
      await app.close();
    }
  });
});
