// The tests every Relay connection and every Node type must pass, written once
// for the lists (images, volumes, networks) that share them. Call them inside a
// `describe` whose fixtures they use; they register `it`s there.
import { expect, it } from 'vitest';
import { graphql } from '../generated/gql.ts';
import type { RefetchedNodeFragment } from '../generated/graphql.ts';
import { dataOf, expectArgumentError, type GraphQLResponse, type TestApp } from './app.ts';
import { must } from './must.ts';

/** Relay connection arguments, as the operations under test take them. */
export interface PageArgs {
  first?: number;
  after?: string;
  last?: number;
  before?: string;
}

/** What the checks read of a connection. */
export interface ConnectionPage<TNode> {
  totalCount: number;
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
  edges: { cursor: string; node: TNode }[];
}

export interface PagingOptions<TData, TNode> {
  /** What the list holds, for the test names: "images". */
  things: string;
  /** How the list is ordered, for the test names: "newest first", "by name". */
  order: string;
  /** Runs the operation under test, filtered to exactly five objects, with these arguments. */
  execute(args: PageArgs): Promise<GraphQLResponse<TData>>;
  /** The connection in an answer. */
  connection(data: TData): ConnectionPage<TNode>;
  /** What names a node: the key `remove` takes and `expectedOrder` gives. */
  key(node: TNode): string;
  /** The five keys in the order the list must give them, given the nodes of the whole list. */
  expectedOrder(nodes: TNode[]): string[];
  /** Removes the object with this key through the engine. */
  remove(key: string): Promise<void>;
}

/**
 * Forward and backward paging with counts and page info, cursors that stay valid
 * when the objects before them (and under them) are removed, and errors naming
 * the argument for garbage cursors and negative counts. The removal test takes
 * two of the five objects away: later tests see three.
 */
export function pagingTests<TData, TNode>(options: PagingOptions<TData, TNode>): void {
  const { things, order, execute, connection, key } = options;

  async function page(args: PageArgs = {}): Promise<ConnectionPage<TNode>> {
    return connection(dataOf(await execute(args)));
  }

  async function expectedOrder(): Promise<string[]> {
    const keys = options.expectedOrder((await page()).edges.map((edge) => edge.node));
    expect(keys).toHaveLength(5);
    return keys;
  }

  function expectPage(
    actual: ConnectionPage<TNode>,
    keys: string[],
    totalCount: number,
    more: { hasNextPage: boolean; hasPreviousPage: boolean },
  ): void {
    expect(actual.edges.map((edge) => key(edge.node))).toEqual(keys);
    expect(actual.totalCount).toBe(totalCount);
    expect(actual.pageInfo).toEqual({
      ...more,
      startCursor: actual.edges[0]?.cursor ?? null,
      endCursor: actual.edges.at(-1)?.cursor ?? null,
    });
  }

  const startCursor = (of: ConnectionPage<TNode>) => must(of.pageInfo.startCursor, 'startCursor');
  const endCursor = (of: ConnectionPage<TNode>) => must(of.pageInfo.endCursor, 'endCursor');

  it(`pages forward and backward, ${order}, and counts the whole list`, async () => {
    const keys = await expectedOrder();
    expectPage(await page(), keys, 5, { hasNextPage: false, hasPreviousPage: false });

    const first = await page({ first: 2 });
    expectPage(first, keys.slice(0, 2), 5, { hasNextPage: true, hasPreviousPage: false });
    const second = await page({ first: 2, after: endCursor(first) });
    expectPage(second, keys.slice(2, 4), 5, { hasNextPage: true, hasPreviousPage: true });
    const third = await page({ first: 2, after: endCursor(second) });
    expectPage(third, keys.slice(4), 5, { hasNextPage: false, hasPreviousPage: true });

    const last = await page({ last: 2 });
    expectPage(last, keys.slice(3), 5, { hasNextPage: false, hasPreviousPage: true });
    const before = await page({ last: 2, before: startCursor(last) });
    expectPage(before, keys.slice(1, 3), 5, { hasNextPage: true, hasPreviousPage: true });
  });

  it(`keeps cursors valid when ${things} before them are removed`, async () => {
    const keys = await expectedOrder();
    const first = await page({ first: 2 });
    const last = await page({ last: 2 });
    const underCursor = must(first.edges[1]?.cursor, 'second cursor');
    expectPage(await page({ last: 1, before: underCursor }), keys.slice(0, 1), 5, {
      hasNextPage: true,
      hasPreviousPage: false,
    });
    // Remove the object under the cursor and the one before it.
    await options.remove(must(keys[0], 'first key'));
    await options.remove(must(keys[1], 'second key'));
    const next = await page({ first: 2, after: endCursor(first) });
    expectPage(next, keys.slice(2, 4), 3, { hasNextPage: true, hasPreviousPage: false });
    // Back from a cursor taken before the removal, and from one taken after it.
    for (const before of [startCursor(last), endCursor(next)]) {
      expectPage(await page({ last: 5, before }), keys.slice(2, 3), 3, {
        hasNextPage: true,
        hasPreviousPage: false,
      });
    }
  });

  it('rejects garbage cursors and negative counts, naming the argument', async () => {
    const cases: [PageArgs, string][] = [
      [{ after: 'garbage' }, 'after'],
      // Base64 of "not-a-cursor": decodes, but is no cursor of this connection.
      [{ before: 'bm90LWEtY3Vyc29y' }, 'before'],
      [{ first: -1 }, 'first'],
      [{ last: -1 }, 'last'],
      [{ last: -2 }, 'last'],
      [{ last: -3 }, 'last'],
    ];
    for (const [args, argument] of cases) {
      const result = await execute(args);
      expect(result.data, JSON.stringify(args)).toBeNull();
      expectArgumentError(result, argument);
    }
  });
}

// Spread into the operations below; codegen adds its definition to each of them.
graphql(`
  fragment RefetchedNode on Node {
    __typename
    id
    ... on Image { dockerId tags }
    ... on Volume { name driver }
    ... on Network { name dockerId }
  }
`);

const RefetchNode = graphql(`
  query RefetchNode($id: ID!) {
    node(id: $id) { ...RefetchedNode }
  }
`);

const RefetchNodes = graphql(`
  query RefetchNodes($ids: [ID!]!) {
    nodes(ids: $ids) { ...RefetchedNode }
  }
`);

/** A node as `node(id)` and `nodes(ids)` give it. */
export type RefetchedNode = RefetchedNodeFragment;

export interface GlobalIdOptions {
  app: TestApp;
  /** What the objects are, for the test names: "image", "images". */
  thing: string;
  things: string;
  /** Two or more objects that exist, as `node(id)` must give them. */
  present(): Promise<RefetchedNode[]>;
  /** Creates an object, removes it again and returns the global id it had. */
  removed(): Promise<string>;
}

/**
 * Refetching through `node` and `nodes` (null for a removed object, in its place
 * among the others), and errors naming the argument for ids that are not global ids.
 */
export function globalIdTests(options: GlobalIdOptions): void {
  const { app, thing, things } = options;

  async function present(): Promise<[RefetchedNode, ...RefetchedNode[]]> {
    const [head, ...rest] = await options.present();
    expect(rest.length).toBeGreaterThan(0);
    return [must(head, `a present ${thing}`), ...rest];
  }

  it(`refetches ${things} through node and nodes; a removed ${thing} gives null`, async () => {
    const [head, ...rest] = await present();
    for (const object of [head, ...rest]) {
      const { node } = await app.query(RefetchNode, { id: object.id });
      expect(node).toEqual(object);
    }
    const goneId = await options.removed();
    expect(await app.execute(RefetchNode, { id: goneId })).toEqual({ data: { node: null } });

    const { nodes } = await app.query(RefetchNodes, {
      ids: [...rest.map((object) => object.id), goneId, head.id],
    });
    expect(nodes).toEqual([...rest, null, head]);
  });

  it('rejects an id that is not a global id, naming the argument', async () => {
    const result = await app.execute(RefetchNode, { id: 'garbage' });
    expect(result.data?.node).toBeNull();
    expectArgumentError(result, 'id');
    const [head] = await present();
    const many = await app.execute(RefetchNodes, { ids: [head.id, 'garbage'] });
    expect(many.data).toBeNull();
    expectArgumentError(many, 'ids[1]');
  });
}
