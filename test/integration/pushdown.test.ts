// `containers(first: N)`, from the start or after a cursor, with no `totalCount`, is answered
// with one engine call: the engine's `limit` (and its `before` filter for the cursor), and
// every page is the same as the one cut from the whole list, in the engine's own order
// (ties within a creation second, filters, label-limited tokens and cursors too). A cursor
// whose container is gone, or hidden from a label-limited token, resumes at the first
// container of its second: repeats allowed, never a skip, and no word of a hidden container.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newestFirstGroup, positionCursor } from '../../src/schema/pagination.ts';
import { adminAndLimitedTokens } from '../helpers/access.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';

const fixtures = new EngineFixtures();
const RUN_FILTER = `${TEST_LABEL}=${fixtures.run}`;
const { adminToken, limitedToken, env } = adminAndLimitedTokens(
  { [TEST_LABEL]: fixtures.run, team: 'payments' },
  'viewer',
);
const admin = createTestApp(env, { token: adminToken });
const limited = createTestApp(env, { token: limitedToken });

/** Containers made at once, many within the same second: ties at a page's edge. */
const COUNT = 64;
const PAYMENTS = 22;

interface Page {
  edges: { cursor: string; node: { dockerId: string; name: string; created: string } }[];
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
      edges { cursor node { dockerId name created } }
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

/** `first: N` after `cursor` (from the start when null). */
function firstAfter(count: number, cursor: string | null): string {
  return cursor === null ? `first: ${count}` : `first: ${count}, after: ${JSON.stringify(cursor)}`;
}

/** Every page of `first: size`, walked with `after`, and what to do between two pages. */
async function walk(
  app: TestApp,
  size: number,
  between: (page: Page, index: number) => Promise<void> = async () => {},
): Promise<Page[]> {
  const pages: Page[] = [];
  let cursor: string | null = null;
  for (;;) {
    const next: Page = await page(app, firstAfter(size, cursor));
    pages.push(next);
    if (!next.pageInfo.hasNextPage) return pages;
    await between(next, pages.length - 1);
    cursor = next.pageInfo.endCursor;
  }
}

/** A cursor of this connection's format naming container `id` created at `created`. */
function handMadeCursor(app: TestApp, created: string, id: string): string {
  const engine = app.engines.list()[0]?.name ?? '';
  return positionCursor({
    group: newestFirstGroup(Math.floor(Date.parse(created) / 1000), engine),
    id,
  });
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
  it('passes the page size to the engine as limit + 1, in one call, ties or not', async () => {
    // Made all at once: many share their creation second, so the page's edge falls in one.
    const all = await page(admin, '', { totalCount: true });
    const seconds = new Set(
      all.edges.map((edge) => Math.floor(Date.parse(edge.node.created) / 1000)),
    );
    expect(seconds.size).toBeLessThan(COUNT / 2);
    for (const first of [5, 50]) {
      let calls: string[] = [];
      const every = await admin.callsDuring(async () => {
        calls = await listCalls(admin, () => page(admin, `first: ${first}`));
      });
      expect(every).toEqual(['GET /containers/json']);
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatch(new RegExp(`(^|&)limit=${first + 1}(&|$)`));
      expect(calls[0]).toContain(RUN_FILTER);
    }
  });

  it('reads the whole list, once and without limit, when totalCount is asked', async () => {
    const calls = await listCalls(admin, async () => {
      const answer = await page(admin, 'first: 5', { totalCount: true });
      expect(answer.totalCount).toBe(COUNT);
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]).not.toMatch(/(^|&)limit=/);
  });

  it("pushes a page after a cursor down as the engine's before filter; not the last N", async () => {
    const first = await page(admin, 'first: 3');
    const cursorId = first.edges.at(-1)?.node.dockerId ?? '';
    const after = await listCalls(admin, () =>
      page(admin, `first: 3, after: ${JSON.stringify(first.pageInfo.endCursor)}`),
    );
    expect(after).toHaveLength(1);
    expect(after[0]).toMatch(/(^|&)limit=4(&|$)/);
    expect(after[0]).toContain(`"before":["${cursorId}"]`);
    const last = await listCalls(admin, () => page(admin, 'last: 3'));
    expect(last).toHaveLength(1);
    expect(last[0]).not.toMatch(/(^|&)limit=/);
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

  it('walks the same list page by page as read whole, each container once', async () => {
    const whole = await page(admin, '', { totalCount: true });
    for (const size of [1, 7, 50]) {
      const walked = (await walk(admin, size)).flatMap((each) =>
        each.edges.map((edge) => edge.node.dockerId),
      );
      expect(walked).toEqual(whole.edges.map((edge) => edge.node.dockerId));
    }
    // The same pages with and without pushdown, cursors included.
    let cursor: string | null = null;
    for (;;) {
      const pushed: Page = await page(admin, firstAfter(9, cursor));
      const { totalCount, ...cut } = await page(admin, firstAfter(9, cursor), { totalCount: true });
      expect(totalCount).toBe(COUNT);
      expect(pushed).toEqual(cut);
      if (!pushed.pageInfo.hasNextPage) break;
      cursor = pushed.pageInfo.endCursor;
    }
  });

  it('never skips a container when the one under the cursor is removed between pages', async () => {
    const extra = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        fixtures.createContainer(fixtures.name(`pushdown-gone-${index}`), {
          Labels: { gone: 'test' },
        }),
      ),
    );
    const labels = [RUN_FILTER, 'gone=test'];
    const before = await page(admin, '', { labels });
    expect(before.edges).toHaveLength(extra.length);
    const secondOf = (created: string) => Math.floor(Date.parse(created) / 1000);
    const removed: string[] = [];
    const walked: Page['edges'] = [];
    let cursor: string | null = null;
    let cursorRemoved = false;
    for (;;) {
      let next: Page | undefined;
      const calls = await listCalls(admin, async () => {
        next = await page(admin, firstAfter(3, cursor), { labels });
      });
      if (!next) throw new Error('no page');
      // After a removed cursor container: the pushed-down read failed, the whole list was read.
      if (cursorRemoved) expect(calls.at(-1)).not.toMatch(/(^|&)limit=/);
      cursorRemoved = false;
      walked.push(...next.edges);
      if (!next.pageInfo.hasNextPage) break;
      const last = next.edges.at(-1);
      if (!last) throw new Error('an empty page with a next one');
      // The container the cursor names is gone before the next page is asked for.
      if (removed.length < 2) {
        await fixtures.send(
          { method: 'DELETE', path: `/containers/${last.node.dockerId}`, query: { force: true } },
          'remove the cursor container',
        );
        removed.push(last.node.dockerId);
        cursorRemoved = true;
      }
      cursor = next.pageInfo.endCursor;
    }
    const ids = walked.map((edge) => edge.node.dockerId);
    // Every container is there, in the engine's order once repeats are dropped.
    expect([...new Set(ids)]).toEqual(before.edges.map((edge) => edge.node.dockerId));
    // Repeats only of the second of a removed cursor container.
    const removedSeconds = new Set(
      before.edges
        .filter((edge) => removed.includes(edge.node.dockerId))
        .map((edge) => secondOf(edge.node.created)),
    );
    const seen = new Set<string>();
    for (const edge of walked) {
      if (seen.has(edge.node.dockerId)) {
        expect(removedSeconds.has(secondOf(edge.node.created))).toBe(true);
      }
      seen.add(edge.node.dockerId);
    }
  });

  it('gives a label-limited token the same pages, of its containers only, with limit', async () => {
    const calls = await listCalls(limited, () => page(limited, 'first: 3'));
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatch(/(^|&)limit=4(&|$)/);
    expect(calls[0]).toContain('team=payments');
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

  it('answers a cursor naming a container hidden from the token as one naming none', async () => {
    const hidden = (await page(admin, '', { labels: [RUN_FILTER, 'team=other'] })).edges[0]?.node;
    if (!hidden) throw new Error('no hidden container');
    const nowhere = randomBytes(32).toString('hex');
    const ask = (id: string) =>
      limited.post<{ data?: { containers: Page } | null; errors?: unknown }>({
        query: `query ($labels: [String!]!, $after: String!) {
          containers(filter: { labels: $labels }, first: 5, after: $after) {
            edges { cursor node { dockerId name created } }
            pageInfo { hasNextPage hasPreviousPage endCursor }
          }
        }`,
        variables: { labels: [RUN_FILTER], after: handMadeCursor(limited, hidden.created, id) },
      });
    const fromHidden = await ask(hidden.dockerId);
    const fromNowhere = await ask(nowhere);
    expect(fromHidden.body.errors).toBeUndefined();
    expect(fromHidden.body).toEqual(fromNowhere.body);
    const text = JSON.stringify(fromHidden.body);
    expect(text).not.toContain(hidden.dockerId);
    expect(text).not.toContain(hidden.name);
    // Its own containers only, and the page is not empty: the cursor was used, not refused.
    const own = new Set((await page(limited, '')).edges.map((edge) => edge.node.dockerId));
    const got = fromHidden.body.data?.containers.edges ?? [];
    expect(got.length).toBeGreaterThan(0);
    for (const edge of got) expect(own.has(edge.node.dockerId)).toBe(true);
  });
});
