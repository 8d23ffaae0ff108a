// Persisted-operations mode: non-admin tokens run registered operations only, by hash, over HTTP
// and WebSocket; admins may still send documents.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { print } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { persistedOperationsOf } from '../../scripts/persisted-operations.ts';
import { ConfigError } from '../../src/config.ts';
import { operationHash, PersistedOperations } from '../../src/plugins/use-persisted-operations.ts';
import { hashToken } from '../../src/security/principal.ts';
import { graphql } from '../generated/gql.ts';
import { createTestApp, type GraphQLResponse, type TestApp } from '../helpers/app.ts';
import { startLiveServer } from '../helpers/live-server.ts';

const RegisteredQuery = graphql(`
  query PersistedEngineVersion {
    engine { version { version } }
  }
`);

const ENDPOINT = 'http://dockergraph.test/graphql';
const registered = print(RegisteredQuery);
const registeredHash = operationHash(registered);
const unregistered = '{ engine { info { name } } }';

const folder = mkdtempSync(join(tmpdir(), 'dockergraph-persisted-'));
const operationsFile = join(folder, 'operations.json');
writeFileSync(operationsFile, JSON.stringify({ [registeredHash]: registered }));

const env = {
  DOCKERGRAPH_PERSISTED_OPERATIONS_FILE: operationsFile,
  DOCKERGRAPH_TOKENS: JSON.stringify({
    tokens: [
      { id: 'dash', role: 'viewer', sha256: hashToken('dash-secret') },
      { id: 'ops', role: 'operator', sha256: hashToken('ops-secret') },
      { id: 'root', role: 'admin', sha256: hashToken('root-secret') },
    ],
  }),
};

const byHash = (hash: string) => ({
  extensions: { persistedQuery: { version: 1, sha256Hash: hash } },
});

async function post(
  app: TestApp,
  token: string,
  payload: Record<string, unknown>,
): Promise<{ status: number; body: GraphQLResponse<unknown> }> {
  const response = await app.app.fetch(ENDPOINT, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify(payload),
  });
  return { status: response.status, body: (await response.json()) as GraphQLResponse<unknown> };
}

afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('persisted-operations mode over HTTP', () => {
  const app = createTestApp(env);
  afterAll(() => app.close());

  it('refuses a document from a non-admin token, before the engine', async () => {
    for (const [token, id, role] of [
      ['dash-secret', 'dash', 'viewer'],
      ['ops-secret', 'ops', 'operator'],
    ] as const) {
      let answer: Awaited<ReturnType<typeof post>> | undefined;
      const calls = await app.callsDuring(async () => {
        answer = await post(app, token, { query: unregistered });
      });
      expect(calls).toEqual([]);
      expect(answer?.status).toBe(403);
      expect(answer?.body.errors).toEqual([
        expect.objectContaining({
          message: `token "${id}" (role "${role}") may run registered operations only: send the SHA-256 of one (extensions.persistedQuery.sha256Hash, or documentId) instead of a document (DOCKERGRAPH_PERSISTED_OPERATIONS_FILE)`,
          extensions: { code: 'PERSISTED_QUERY_ONLY' },
        }),
      ]);
    }
    // Sending the registered document itself is still sending a document.
    expect((await post(app, 'dash-secret', { query: registered })).status).toBe(403);
  });

  it('runs a registered operation by its hash, as Apollo or as documentId', async () => {
    for (const payload of [byHash(registeredHash), { documentId: registeredHash }]) {
      const answer = await post(app, 'dash-secret', payload);
      expect(answer.status).toBe(200);
      expect(answer.body.data).toMatchObject({
        engine: { version: { version: expect.any(String) } },
      });
    }
    const get = await app.app.fetch(
      `${ENDPOINT}?extensions=${encodeURIComponent(JSON.stringify(byHash(registeredHash).extensions))}`,
      { headers: { authorization: 'Bearer dash-secret', 'x-graphql-yoga-csrf': 'get' } },
    );
    expect(get.status).toBe(200);
  });

  it('says so when a hash is not registered, or none is given', async () => {
    const unknown = 'f'.repeat(64);
    let answer: Awaited<ReturnType<typeof post>> | undefined;
    const calls = await app.callsDuring(async () => {
      answer = await post(app, 'dash-secret', byHash(unknown));
    });
    expect(calls).toEqual([]);
    expect(answer?.body.errors).toEqual([
      expect.objectContaining({
        message: `no registered operation has the hash "${unknown}" (DOCKERGRAPH_PERSISTED_OPERATIONS_FILE)`,
        extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' },
      }),
    ]);
    const none = await post(app, 'dash-secret', { variables: {} });
    expect(none.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ID_REQUIRED');
  });

  it('lets admin tokens send documents of their own, and hashes too', async () => {
    const own = await post(app, 'root-secret', { query: unregistered });
    expect(own.body.errors).toBeUndefined();
    expect(own.body.data).toMatchObject({ engine: { info: { name: expect.any(String) } } });
    expect((await post(app, 'root-secret', byHash(registeredHash))).body.errors).toBeUndefined();
  });
});

/** Runs one operation over graphql-ws: its result, or the errors of an `error` message. */
function runOver(client: Client, payload: Parameters<Client['subscribe']>[0]) {
  return new Promise<GraphQLResponse<unknown>>((resolve, reject) => {
    let result: GraphQLResponse<unknown> = {};
    client.subscribe(payload, {
      next: (value) => {
        result = value as GraphQLResponse<unknown>;
      },
      error: (error) =>
        Array.isArray(error)
          ? resolve({ errors: error as NonNullable<GraphQLResponse<unknown>['errors']> })
          : reject(error),
      complete: () => resolve(result),
    });
  });
}

describe('persisted-operations mode over WebSocket', () => {
  it('runs registered operations by hash and refuses documents from non-admins', async () => {
    const live = await startLiveServer(undefined, { env, token: 'dash-secret' });
    const root = createClient({
      url: `${live.server.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: 'Bearer root-secret' },
    });
    try {
      // graphql-ws requires a query string: an empty one, and the hash in the extensions.
      const hashed = await runOver(live.client, { query: '', ...byHash(registeredHash) });
      expect(hashed.errors).toBeUndefined();
      expect(hashed.data).toMatchObject({ engine: { version: { version: expect.any(String) } } });
      const calls: string[] = [];
      const stop = live.docker.observe((call) => calls.push(call.path));
      const refused = await runOver(live.client, { query: unregistered });
      stop();
      expect(calls).toEqual([]);
      expect(refused.errors?.[0]?.message).toMatch(
        /^token "dash" \(role "viewer"\) may run registered operations only/,
      );
      expect((await runOver(root, { query: unregistered })).errors).toBeUndefined();
    } finally {
      await root.dispose();
      await live.close();
    }
  });
});

describe('the persisted-operations file', () => {
  it('is refused at start when a key is not the hash of its document', () => {
    const wrong = join(folder, 'wrong.json');
    writeFileSync(wrong, JSON.stringify({ ['0'.repeat(64)]: registered }));
    expect(() => createTestApp({ ...env, DOCKERGRAPH_PERSISTED_OPERATIONS_FILE: wrong })).toThrow(
      ConfigError,
    );
    expect(() => PersistedOperations.load(wrong)).toThrow(
      `DOCKERGRAPH_PERSISTED_OPERATIONS_FILE (${wrong}): "${'0'.repeat(64)}" is not the SHA-256 of its document (it is ${registeredHash}); "npm run persisted-operations" writes the file`,
    );
    expect(() => PersistedOperations.load(join(folder, 'missing.json'))).toThrow(
      /^DOCKERGRAPH_PERSISTED_OPERATIONS_FILE: cannot read /,
    );
  });

  it('is what `npm run persisted-operations` writes from examples/', () => {
    const examples = fileURLToPath(new URL('../../examples/', import.meta.url));
    const files = readdirSync(examples)
      .filter((name) => name.endsWith('.graphql'))
      .map((name) => join(examples, name));
    const written = persistedOperationsOf(files);
    const operations = PersistedOperations.parse(JSON.stringify(written), 'examples');
    expect(operations.size).toBe(files.length);
    for (const [hash, document] of Object.entries(written)) {
      expect(operations.get(hash)).toBe(document);
    }
  });
});
