// Replicas behind one load balancer share one Redis (DOCKERGRAPH_REDIS_URL): one rate-limit
// budget per token, and one registry of operations that changes without a restart. Two apps
// over the same engine play two replicas; the Redis is a real redis-server.
import { parse, print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerInRedis } from '../../scripts/persisted-operations.ts';
import { operationHash } from '../../src/plugins/persisted-operations.ts';
import { randomToken, tokensEnv } from '../helpers/access.ts';
import { createTestApp, type GraphQLResponse, type TestApp } from '../helpers/app.ts';
import { clientWithToken, firstAnswer } from '../helpers/graphql-ws.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const PING = '{ engine { ping { apiVersion } } }';
type Answer = GraphQLResponse<Record<string, unknown>>;

describe('a rate limit shared by replicas through Redis', () => {
  let redis: RedisServer;
  const viewer = randomToken();
  const replicas: TestApp[] = [];
  let live: LiveServer | undefined;

  beforeAll(async () => {
    redis = await startRedisServer();
    const env = {
      ...tokensEnv([{ id: 'dash', role: 'viewer', token: viewer }]),
      DOCKERGRAPH_REDIS_URL: redis.url,
      DOCKERGRAPH_REDIS_PREFIX: 'dg-test:',
      DOCKERGRAPH_RATE_LIMIT: '4',
      DOCKERGRAPH_RATE_LIMIT_WINDOW_SECONDS: '3600',
    };
    replicas.push(createTestApp(env, { token: viewer }), createTestApp(env, { token: viewer }));
    live = await startLiveServer(undefined, { env });
  });

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.close()));
    await live?.close();
    await redis?.close();
  });

  it('counts the operations of one token on every replica and transport against one budget', async () => {
    const [a, b] = replicas;
    if (!a || !b || !live) throw new Error('no replicas');
    expect((await a.post<Answer>({ query: PING })).body.errors).toBeUndefined();
    expect((await b.post<Answer>({ query: PING })).body.errors).toBeUndefined();
    expect((await a.post<Answer>({ query: PING })).body.errors).toBeUndefined();
    // The fourth, over WebSocket on a third replica.
    const client = clientWithToken(live.server.url, viewer);
    try {
      const overWebSocket = (await firstAnswer(client, { query: PING })) as Answer;
      expect(overWebSocket.errors).toBeUndefined();
      const fifth = (await firstAnswer(client, { query: PING })) as Answer;
      expect(fifth.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    } finally {
      await client.dispose();
    }
    const refused = await b.post<Answer>({ query: PING });
    expect(refused.status).toBe(429);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.body.errors?.[0]?.message).toMatch(
      /^rate limit exceeded: token "dash" may run 4 operations per 3600 s/,
    );
    // The bucket is in Redis under the configured prefix, with an expiry.
    // (Less than one operation left: the bucket refills continuously.)
    expect(Number(await redis.client.hget('dg-test:rate:token:dash', 'tokens'))).toBeLessThan(1);
    expect(await redis.client.pttl('dg-test:rate:token:dash')).toBeGreaterThan(0);
  });

  it('refuses rather than lets through while Redis is down, and recovers when it is back', async () => {
    const [a] = replicas;
    if (!a) throw new Error('no replica');
    await redis.stop();
    const refused = await a.post<Answer>({ query: PING });
    expect(refused.status).toBe(503);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMIT_UNAVAILABLE');
    expect(refused.body.errors?.[0]?.message).toBe(
      'the rate limit cannot be checked: its store (DOCKERGRAPH_REDIS_URL) does not answer; retry shortly',
    );
    // Back, empty: a fresh budget.
    await redis.start();
    const answered = await waitForAnswer(a);
    expect(answered.errors).toBeUndefined();
  });
});

/** Posts PING until the replica has reconnected to Redis and answers it. */
async function waitForAnswer(app: TestApp): Promise<Answer> {
  return waitFor(
    async () => {
      const answer = await app.post<Answer>({ query: PING });
      return answer.status === 200 ? answer.body : undefined;
    },
    { timeoutMs: 30_000, what: 'the replica to use Redis again' },
  );
}

describe('registered operations in Redis', () => {
  let redis: RedisServer;
  const viewer = randomToken();
  const admin = randomToken();
  const key = 'dg-test:operations';
  let replica: TestApp;
  let adminApp: TestApp;

  beforeAll(async () => {
    redis = await startRedisServer();
    const env = {
      ...tokensEnv([
        { id: 'dash', role: 'viewer', token: viewer },
        { id: 'root', role: 'admin', token: admin },
      ]),
      DOCKERGRAPH_REDIS_URL: redis.url,
      DOCKERGRAPH_PERSISTED_OPERATIONS_REDIS_KEY: key,
    };
    replica = createTestApp(env, { token: viewer });
    adminApp = createTestApp(env, { token: admin });
  });

  afterAll(async () => {
    await Promise.all([replica?.close(), adminApp?.close()]);
    await redis?.close();
  });

  it('runs an operation registered while the server runs, by its hash, and only by it', async () => {
    const document = print(parse(PING));
    const hash = operationHash(document);
    const before = await replica.post<Answer>({ documentId: hash });
    expect(before.body.errors?.[0]).toMatchObject({
      message: `no registered operation has the hash "${hash}" (DOCKERGRAPH_PERSISTED_OPERATIONS_REDIS_KEY (${key}))`,
      extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' },
    });
    // Registered with the project's tool, as an operator would, without restarting anything.
    expect(await registerInRedis(redis.url, key, { [hash]: document })).toBe(1);
    const after = await replica.post<Answer>({
      extensions: { persistedQuery: { version: 1, sha256Hash: hash } },
    });
    expect(after.body).toEqual({ data: { engine: { ping: { apiVersion: expect.any(String) } } } });
    // A document of its own is still refused to the viewer, and allowed to the admin.
    const own = await replica.post<Answer>({ query: PING });
    expect(own.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ONLY');
    expect((await adminApp.post<Answer>({ query: PING })).body.errors).toBeUndefined();
  });

  it('does not run an entry whose hash is not that of its document', async () => {
    const harmless = print(parse(PING));
    const other = '{ containers(first: 1) { totalCount } }';
    // Someone with write access to Redis swaps the document under a registered hash.
    await redis.client.hset(key, operationHash(harmless), other);
    const answer = await replica.post<Answer>({ documentId: operationHash(harmless) });
    expect(answer.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(answer.body.data ?? null).toBeNull();
  });
});
