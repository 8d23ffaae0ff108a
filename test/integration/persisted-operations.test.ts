// Persisted-operations mode: non-admin tokens run registered operations only, by hash, over HTTP
// and WebSocket; admins may still send documents.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { print } from 'graphql';
import { afterAll, describe, expect, it } from 'vitest';
import { persistedOperationsOf } from '../../scripts/persisted-operations.ts';
import { ConfigError } from '../../src/config.ts';
import { operationHash, PersistedOperations } from '../../src/plugins/persisted-operations.ts';
import { graphql } from '../generated/gql.ts';
import { tokensEnv } from '../helpers/access.ts';
import { createTestApp, withoutEngineCalls } from '../helpers/app.ts';
import { clientWithToken, finalAnswer } from '../helpers/graphql-ws.ts';
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
  ...tokensEnv([
    { id: 'dash', role: 'viewer', token: 'dash-secret' },
    { id: 'ops', role: 'operator', token: 'ops-secret' },
    { id: 'root', role: 'admin', token: 'root-secret' },
  ]),
};

const byHash = (hash: string) => ({
  extensions: { persistedQuery: { version: 1, sha256Hash: hash } },
});

afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('persisted-operations mode over HTTP', () => {
  const app = createTestApp(env);
  afterAll(() => app.close());
  const post = (token: string, payload: Record<string, unknown>) => app.post(payload, { token });

  it('refuses a document from a non-admin token, before the engine', async () => {
    for (const [token, id, role] of [
      ['dash-secret', 'dash', 'viewer'],
      ['ops-secret', 'ops', 'operator'],
    ] as const) {
      const answer = await withoutEngineCalls(app, () => post(token, { query: unregistered }));
      expect(answer.status).toBe(403);
      expect(answer.body.errors).toEqual([
        expect.objectContaining({
          message: `token "${id}" (role "${role}") may run registered operations only: send the SHA-256 of one (extensions.persistedQuery.sha256Hash, or documentId) instead of a document (DOCKERGRAPH_PERSISTED_OPERATIONS_FILE)`,
          extensions: { code: 'PERSISTED_QUERY_ONLY' },
        }),
      ]);
    }
    // Sending the registered document itself is still sending a document.
    expect((await post('dash-secret', { query: registered })).status).toBe(403);
  });

  it('runs a registered operation by its hash, as Apollo or as documentId', async () => {
    for (const payload of [byHash(registeredHash), { documentId: registeredHash }]) {
      const answer = await post('dash-secret', payload);
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
    const answer = await withoutEngineCalls(app, () => post('dash-secret', byHash(unknown)));
    expect(answer.body.errors).toEqual([
      expect.objectContaining({
        message: `no registered operation has the hash "${unknown}" (DOCKERGRAPH_PERSISTED_OPERATIONS_FILE)`,
        extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' },
      }),
    ]);
    const none = await post('dash-secret', { variables: {} });
    expect(none.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ID_REQUIRED');
  });

  it('lets admin tokens send documents of their own, and hashes too', async () => {
    const own = await post('root-secret', { query: unregistered });
    expect(own.body.errors).toBeUndefined();
    expect(own.body.data).toMatchObject({ engine: { info: { name: expect.any(String) } } });
    expect((await post('root-secret', byHash(registeredHash))).body.errors).toBeUndefined();
  });
});

describe('persisted-operations mode over WebSocket', () => {
  it('runs registered operations by hash and refuses documents from non-admins', async () => {
    const live = await startLiveServer(undefined, { env, token: 'dash-secret' });
    const root = clientWithToken(live.server.url, 'root-secret');
    try {
      // graphql-ws requires a query string: an empty one, and the hash in the extensions.
      const hashed = await finalAnswer(live.client, { query: '', ...byHash(registeredHash) });
      expect(hashed.errors).toBeUndefined();
      expect(hashed.data).toMatchObject({ engine: { version: { version: expect.any(String) } } });
      const refused = await withoutEngineCalls(live, () =>
        finalAnswer(live.client, { query: unregistered }),
      );
      expect(refused.errors?.[0]?.message).toMatch(
        /^token "dash" \(role "viewer"\) may run registered operations only/,
      );
      expect((await finalAnswer(root, { query: unregistered })).errors).toBeUndefined();
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
