// Hostile cursors against `containers(first:, after:)`, whose page after a cursor is pushed
// down to the engine as its `before` filter. A label-limited token must learn nothing about
// the containers it may not see from a cursor: every hand-made cursor below gets the very
// answer a cursor naming no container gets (same group), with no word of a hidden container.
// The engine resolves `before` by its own rules (exact id, then any container's name, then a
// unique id prefix among all containers), so only a full id may reach it: a name or prefix
// is matched against hidden containers too (an ambiguous prefix fails the whole list call,
// a hidden container named like a visible one's id prefix moves the page).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newestFirstGroup, positionCursor } from '../../src/schema/pagination.ts';
import { adminAndLimitedTokens } from '../helpers/access.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { waitFor } from '../helpers/wait-for.ts';

const fixtures = new EngineFixtures();
const RUN_FILTER = `${TEST_LABEL}=${fixtures.run}`;
const {
  adminToken,
  limitedToken,
  env: tokens,
} = adminAndLimitedTokens({ [TEST_LABEL]: fixtures.run, team: 'payments' }, 'viewer');
// The tables below run about a thousand operations.
const env = { ...tokens, DOCKERGRAPH_RATE_LIMIT: '0' };
const admin = createTestApp(env, { token: adminToken });
const limited = createTestApp(env, { token: limitedToken });
/** The same token served from the read model, which reads whole lists and never `before`. */
const modelled = createTestApp({ ...env, DOCKERGRAPH_READ_MODEL: 'on' }, { token: limitedToken });

/** Few visible containers and many hidden ones: hidden ids share short prefixes. */
const VISIBLE = 4;
const HIDDEN = 40;

interface Node {
  dockerId: string;
  name: string;
  created: string;
}

interface Answer {
  data?: { containers: unknown } | null;
  errors?: { message: string; extensions?: { code?: string; argument?: unknown } }[];
}

/** Every container of the engine as the admin sees it (not only this run's). */
async function everyContainer(): Promise<Node[]> {
  const answer = await admin.post<{ data?: { containers: { edges: { node: Node }[] } } }>({
    query: '{ containers { edges { node { dockerId name created } } } }',
  });
  return answer.body.data?.containers.edges.map((edge) => edge.node) ?? [];
}

/** The limited token's `containers` page for `args`, as sent back (data and errors). */
async function ask(
  args: string,
  variables: Record<string, unknown> = {},
  app: TestApp = limited,
): Promise<Answer> {
  const answer = await app.post<Answer>({
    // `$after` declared only when used: an unused variable fails validation.
    query: `query ($labels: [String!]!, ${args.includes('$after') ? '$after: String, ' : ''}$ids: [String!], $since: String) {
      containers(filter: { labels: $labels, ids: $ids, createdSince: $since }, ${args}) {
        edges { cursor node { dockerId name created } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }`,
    variables: { labels: [RUN_FILTER], ...variables },
  });
  return answer.body;
}

const engineName = () => limited.engines.list()[0]?.name ?? '';
const secondOf = (created: string) => Math.floor(Date.parse(created) / 1000);

let visible: Node[] = [];
let hidden: Node[] = [];
/** Hidden, and named by the first characters of a visible container's id. */
let hexNamed: Node | undefined;
/** A prefix of at least two containers' ids, none of them visible. */
let sharedPrefix = '';
/** A prefix of one visible container's id only, and of at least one hidden container's. */
let mixedPrefix = '';

beforeAll(async () => {
  await Promise.all([
    ...Array.from({ length: VISIBLE }, (_, index) =>
      fixtures.createContainer(fixtures.name(`cursor-mine-${index}`), {
        Labels: { team: 'payments' },
      }),
    ),
    ...Array.from({ length: HIDDEN }, (_, index) =>
      fixtures.createContainer(fixtures.name(`cursor-theirs-${index}`), {
        Labels: { team: 'other' },
      }),
    ),
  ]);
  const mine = (await everyContainer()).filter((node) => node.name.includes('-cursor-mine-'));
  const target = mine[0]?.dockerId ?? '';
  await fixtures.createContainer(target.slice(0, 10), { Labels: { team: 'other' } });
  const all = await everyContainer();
  visible = all.filter((node) => node.name.includes('-cursor-mine-'));
  hexNamed = all.find((node) => node.name === target.slice(0, 10));
  // The hex-named one last: `hidden[0]` is an ordinary hidden container.
  hidden = all.filter((node) => node.name.includes('-cursor-theirs-'));
  if (hexNamed) hidden.push(hexNamed);
  for (let length = 1; length <= 6 && sharedPrefix === ''; length++) {
    for (const node of hidden) {
      const prefix = node.dockerId.slice(0, length);
      const sharing = all.filter((each) => each.dockerId.startsWith(prefix));
      if (sharing.length >= 2 && !visible.some((each) => each.dockerId.startsWith(prefix))) {
        sharedPrefix = prefix;
        break;
      }
    }
  }
  for (let length = 1; length <= 6 && mixedPrefix === ''; length++) {
    for (const node of visible) {
      const prefix = node.dockerId.slice(0, length);
      const mine = visible.filter((each) => each.dockerId.startsWith(prefix));
      if (mine.length === 1 && hidden.some((each) => each.dockerId.startsWith(prefix))) {
        mixedPrefix = prefix;
        break;
      }
    }
  }
  // The first operation of an app negotiates the API version.
  await ask('first: 1');
  const model = modelled.engines.list()[0]?.readModel;
  if (!model) throw new Error('the read model is off');
  const last = hexNamed?.dockerId;
  await waitFor(
    async () => model.warm && ((await model.containers()) ?? []).some((each) => each.Id === last),
    { timeoutMs: 30_000, what: 'the read model to hold every container' },
  );
});

afterAll(async () => {
  await fixtures.cleanup();
  await admin.close();
  await limited.close();
  await modelled.close();
});

/** Fails when `text` holds any hidden container's id or name. */
function expectNoHidden(text: string): void {
  for (const node of hidden) {
    expect(text).not.toContain(node.dockerId.slice(0, 12));
    // That one's name is a visible container's id prefix.
    if (node !== hexNamed) expect(text).not.toContain(node.name);
  }
}

describe('hostile cursors for a label-limited token', () => {
  it('finds what the attacks need', () => {
    expect(visible).toHaveLength(VISIBLE);
    expect(hidden).toHaveLength(HIDDEN + 1);
    expect(hexNamed).toBeDefined();
    expect(sharedPrefix).not.toBe('');
    expect(mixedPrefix).not.toBe('');
  });

  it('answers every cursor naming a hidden container as one naming no container', async () => {
    const target = hidden[0];
    if (!target || !hexNamed) throw new Error('no hidden container');
    const engine = engineName();
    const groups = [
      newestFirstGroup(secondOf(target.created), engine),
      newestFirstGroup(secondOf(hexNamed.created), engine),
      newestFirstGroup(9_999_999_999, engine),
      newestFirstGroup(0, engine),
      newestFirstGroup(-5, engine),
      newestFirstGroup(1e15, engine),
      newestFirstGroup(secondOf(target.created), 'nowhere'),
      '0000000000:',
      'garbage',
    ];
    const ids: Record<string, string> = {
      'full id': target.dockerId,
      'id prefix': target.dockerId.slice(0, 12),
      'short id prefix': target.dockerId.slice(0, 3),
      'prefix shared by hidden containers only': sharedPrefix,
      'prefix of one visible id, and of hidden ones': mixedPrefix,
      'that prefix and more': `${mixedPrefix}zz`,
      name: target.name,
      '/name': `/${target.name}`,
      'hidden name equal to a visible id prefix': hexNamed.name,
      'upper-case id': target.dockerId.toUpperCase(),
      'id with a trailing space': `${target.dockerId} `,
      'path traversal': '../../info',
      'odd characters': `a b%2F'"\\名前`,
    };
    const filters: Record<string, Record<string, unknown>> = {
      labels: {},
      ids: { ids: visible.map((node) => node.dockerId) },
      createdSince: { since: visible.at(-1)?.dockerId },
    };
    for (const group of groups) {
      const nowhere = positionCursor({ group, id: randomBytes(32).toString('hex') });
      for (const [filterName, filter] of Object.entries(filters)) {
        for (const first of [0, 2]) {
          const expected = await ask(`first: ${first}, after: $after`, {
            ...filter,
            after: nowhere,
          });
          expect(expected.errors, `${group} ${filterName}`).toBeUndefined();
          for (const [what, id] of Object.entries(ids)) {
            const after = positionCursor({ group, id });
            const got = await ask(`first: ${first}, after: $after`, { ...filter, after });
            expect
              .soft(got, `${what} in ${group}, ${filterName}, first: ${first}`)
              .toEqual(expected);
            expectNoHidden(JSON.stringify(got));
          }
        }
      }
    }
  });

  it('makes the same engine calls for a hidden container as for none (the call budget counts them)', async () => {
    const target = hidden[0];
    if (!target) throw new Error('no hidden container');
    const group = newestFirstGroup(secondOf(target.created), engineName());
    const callsFor = async (id: string) => {
      const calls = await limited.callsDuring(() =>
        ask('first: 2, after: $after', { after: positionCursor({ group, id }) }),
      );
      // Sorted: the list call and the inspect beside it run at once.
      return calls.map((call) => call.replace(id, '<id>')).sort();
    };
    const forNone = await callsFor(randomBytes(32).toString('hex'));
    expect(forNone).toContain('GET /containers/<id>/json');
    expect(await callsFor(target.dockerId)).toEqual(forNone);
  });

  it('answers a cursor with last, before or totalCount as one naming no container', async () => {
    const target = hidden[0];
    if (!target) throw new Error('no hidden container');
    const group = newestFirstGroup(secondOf(target.created), engineName());
    const nowhere = positionCursor({ group, id: randomBytes(32).toString('hex') });
    const cursors = [target.dockerId, target.dockerId.slice(0, 12), target.name, mixedPrefix];
    for (const args of [
      'first: 2, after: $after, last: 1',
      'after: $after, before: $after',
      'last: 2, before: $after',
      'after: $after',
    ]) {
      const expected = await ask(args, { after: nowhere });
      expect(expected.errors).toBeUndefined();
      for (const id of cursors) {
        const got = await ask(args, { after: positionCursor({ group, id }) });
        expect(got, `${args} with ${id}`).toEqual(expected);
        expectNoHidden(JSON.stringify(got));
      }
    }
  });

  it('answers the same from the read model, hostile cursors or real ones', async () => {
    const target = hidden[0];
    if (!target || !hexNamed) throw new Error('no hidden container');
    const engine = engineName();
    const own = (await ask('first: 50')).data?.containers as
      | { edges: { cursor: string }[] }
      | undefined;
    const real = own?.edges.map((edge) => edge.cursor) ?? [];
    expect(real).toHaveLength(VISIBLE);
    const group = newestFirstGroup(secondOf(target.created), engine);
    const cursors = [
      ...real,
      positionCursor({ group, id: randomBytes(32).toString('hex') }),
      ...[target.dockerId, target.name, mixedPrefix, hexNamed.name, sharedPrefix].map((id) =>
        positionCursor({ group, id }),
      ),
    ];
    for (const after of cursors) {
      for (const args of ['first: 1, after: $after', 'first: 3, after: $after', 'after: $after']) {
        const fromEngine = await ask(args, { after });
        const fromModel = await ask(args, { after }, modelled);
        expect(fromEngine.errors).toBeUndefined();
        expect(fromModel, `${args} ${after}`).toEqual(fromEngine);
        expectNoHidden(JSON.stringify(fromModel));
      }
    }
  });

  it('refuses a malformed cursor with an error naming the argument', async () => {
    for (const after of [
      '%%%',
      'bm90IGEgY3Vyc29y',
      Buffer.from('no colon at all').toString('base64url'),
      '',
    ]) {
      for (const argument of ['after', 'before']) {
        const answer = await ask(`first: 2, ${argument}: $after`, { after });
        if (after === '') {
          // An empty cursor is no cursor: the first page.
          expect(answer.errors).toBeUndefined();
          continue;
        }
        expect(answer.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
        expect(answer.errors?.[0]?.message).toContain(argument);
        expectNoHidden(JSON.stringify(answer));
      }
    }
  });
});
