// `containers(first: N)` with no cursor and no `totalCount` is answered with the engine's
// `limit`: the engine calls carry it, and every page is the same as the one read from the
// whole list (ties within a creation second, filters, label-limited tokens and cursors too).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomToken, tokensEnv } from '../helpers/access.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';

const fixtures = new EngineFixtures();
const RUN_FILTER = `${TEST_LABEL}=${fixtures.run}`;
const limitedToken = randomToken();
const adminToken = randomToken();
const env = tokensEnv([
  {
    id: 'payments',
    role: 'viewer',
    token: limitedToken,
    labels: { [TEST_LABEL]: fixtures.run, team: 'payments' },
  },
  { id: 'root', role: 'admin', token: adminToken },
]);
const admin = createTestApp(env, { token: adminToken });
const limited = createTestApp(env, { token: limitedToken });

/** Containers made, most of them within the same few seconds: ties at a page's edge. */
const COUNT = 36;
const PAYMENTS = 22;

interface Page {
  edges: { cursor: string; node: { dockerId: string; name: string } }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
  totalCount?: number;
}

async function page(
  app: TestApp,
  args: string,
  options: { totalCount?: boolean; labels?: string[] } = {},
): Promise<Page> {
  const query = `query Page($labels: [String!]!) {
    containers(filter: { labels: $labels }${args ? `, ${args}` : ''}) {
      ${options.totalCount ? 'totalCount' : ''}
      edges { cursor node { dockerId name } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
  }`;
  const answer = await app.post<{ data?: { containers: Page }; errors?: unknown }>({
    query,
    variables: { labels: options.labels ?? [RUN_FILTER] },
  });
  expect(answer.body.errors).toBeUndefined();
  const data = answer.body.data;
  if (!data) throw new Error('no data');
  return data.containers;
}

/** The container list calls made while `run` ran, with their query strings. */
async function listCalls(app: TestApp, run: () => Promise<unknown>): Promise<string[]> {
  const before = app.calls.length;
  await run();
  return app.calls
    .slice(before)
    .filter((call) => call.path === '/containers/json')
    .map((call) => decodeURIComponent(call.query));
}

beforeAll(async () => {
  await Promise.all(
    Array.from({ length: COUNT }, (_, index) =>
      fixtures.createContainer(fixtures.name(`pushdown-${index}`), {
        Labels: { team: index < PAYMENTS ? 'payments' : 'other' },
      }),
    ),
  );
  // The first operation of an app negotiates the API version.
  await page(admin, 'first: 1');
  await page(limited, 'first: 1');
});

afterAll(async () => {
  await fixtures.cleanup();
  await admin.close();
  await limited.close();
});

describe('containers(first:) pushdown', () => {
  it('passes the page size to the engine as limit', async () => {
    const calls = await listCalls(admin, () => page(admin, 'first: 5'));
    // More than one only while the containers at the page's edge share a creation second
    // (they do here: made all at once): the next ones are read after the last, with limit.
    expect(calls.length).toBeGreaterThanOrEqual(1);
    expect(calls.length).toBeLessThanOrEqual(4);
    for (const call of calls) {
      expect(call).toMatch(/(^|&)limit=\d+(&|$)/);
      expect(call).toContain(RUN_FILTER);
    }
    expect(calls.slice(1).every((call) => call.includes('"before"'))).toBe(true);
  });

  it('reads the whole list, once and without limit, when totalCount is asked', async () => {
    const calls = await listCalls(admin, async () => {
      const answer = await page(admin, 'first: 5', { totalCount: true });
      expect(answer.totalCount).toBe(COUNT);
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]).not.toMatch(/(^|&)limit=/);
  });

  it('does not push down a page after a cursor, nor the last N', async () => {
    const first = await page(admin, 'first: 3');
    const after = await listCalls(admin, () =>
      page(admin, `first: 3, after: ${JSON.stringify(first.pageInfo.endCursor)}`),
    );
    const last = await listCalls(admin, () => page(admin, 'last: 3'));
    for (const calls of [after, last]) {
      expect(calls).toHaveLength(1);
      expect(calls[0]).not.toMatch(/(^|&)limit=/);
    }
  });

  it('answers the same pages with and without pushdown', async () => {
    for (const first of [0, 1, 2, 5, 13, COUNT - 1, COUNT, COUNT + 4]) {
      const pushed = await page(admin, `first: ${first}`);
      const whole = await page(admin, `first: ${first}`, { totalCount: true });
      const { totalCount, ...withoutCount } = whole;
      expect(totalCount).toBe(COUNT);
      expect(pushed).toEqual(withoutCount);
      expect(pushed.edges).toHaveLength(Math.min(first, COUNT));
      expect(pushed.pageInfo.hasNextPage).toBe(first < COUNT);
    }
  });

  it('answers the same pages under engine-side filters', async () => {
    const labels = [RUN_FILTER, 'team=other'];
    for (const first of [1, 4, COUNT - PAYMENTS, 20]) {
      const pushed = await page(admin, `first: ${first}`, { labels });
      const { totalCount, ...whole } = await page(admin, `first: ${first}`, {
        labels,
        totalCount: true,
      });
      expect(totalCount).toBe(COUNT - PAYMENTS);
      expect(pushed).toEqual(whole);
    }
  });

  it('walks the same list page by page as read whole', async () => {
    const whole = await page(admin, '', { totalCount: true });
    const walked: string[] = [];
    let cursor: string | null = null;
    for (;;) {
      const next: Page = await page(
        admin,
        cursor === null ? 'first: 7' : `first: 7, after: ${JSON.stringify(cursor)}`,
      );
      walked.push(...next.edges.map((edge) => edge.node.dockerId));
      if (!next.pageInfo.hasNextPage) break;
      cursor = next.pageInfo.endCursor;
    }
    expect(walked).toEqual(whole.edges.map((edge) => edge.node.dockerId));
  });

  it('gives a label-limited token the same pages, of its containers only, with limit', async () => {
    const calls = await listCalls(limited, () => page(limited, 'first: 3'));
    expect(calls.length).toBeGreaterThanOrEqual(1);
    expect(calls.length).toBeLessThanOrEqual(4);
    for (const call of calls) {
      expect(call).toMatch(/(^|&)limit=\d+(&|$)/);
      expect(call).toContain('team=payments');
    }
    for (const first of [1, 3, 10, PAYMENTS - 1, PAYMENTS, PAYMENTS + 3]) {
      const pushed = await page(limited, `first: ${first}`);
      const { totalCount, ...whole } = await page(limited, `first: ${first}`, { totalCount: true });
      expect(totalCount).toBe(PAYMENTS);
      expect(pushed).toEqual(whole);
    }
    const all = await page(limited, `first: ${COUNT}`);
    expect(all.edges).toHaveLength(PAYMENTS);
    const adminView = await page(admin, '', { labels: [RUN_FILTER, 'team=payments'] });
    expect(all.edges.map((edge) => edge.node.dockerId)).toEqual(
      adminView.edges.map((edge) => edge.node.dockerId),
    );
  });
});
