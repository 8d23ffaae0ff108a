import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { newestFirstKey, paginate } from '../../src/schema/pagination.ts';

const letters = ['a', 'b', 'c', 'd', 'e'];
const key = (item: string) => item;
const nodes = (page: { edges: { node: string }[] }) => page.edges.map((edge) => edge.node);

describe('paginate', () => {
  it('returns everything, sorted, when no argument is given', () => {
    const page = paginate(['c', 'a', 'b'], {}, key);
    expect(nodes(page)).toEqual(['a', 'b', 'c']);
    expect(page.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
    expect(page.totalCount).toBe(3);
  });

  it('walks forward with first/after and backward with last/before', () => {
    const first = paginate(letters, { first: 2 }, key);
    expect(nodes(first)).toEqual(['a', 'b']);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = paginate(letters, { first: 2, after: first.pageInfo.endCursor }, key);
    expect(nodes(second)).toEqual(['c', 'd']);
    expect(second.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    const last = paginate(letters, { last: 2, before: second.pageInfo.endCursor }, key);
    expect(nodes(last)).toEqual(['b', 'c']);
    expect(paginate(letters, { last: 1 }, key).edges.map((edge) => edge.node)).toEqual(['e']);
    expect(paginate(letters, { first: 0 }, key).edges).toEqual([]);
  });

  it('keeps its place when the object under the cursor was removed', () => {
    const page = paginate(letters, { first: 2 }, key);
    const next = paginate(['a', 'c', 'd', 'e'], { first: 2, after: page.pageInfo.endCursor }, key);
    expect(nodes(next)).toEqual(['c', 'd']);
    const inserted = paginate(
      ['a', 'b', 'bb', 'c', 'd', 'e'],
      { first: 2, after: page.pageInfo.endCursor },
      key,
    );
    expect(nodes(inserted)).toEqual(['bb', 'c']);
  });

  it('names the argument that is wrong', () => {
    expect(() => paginate(letters, { first: -1 }, key)).toThrow(
      new GraphQLError('Invalid argument "first": must not be negative, got -1', {
        extensions: { code: 'BAD_USER_INPUT', argument: 'first' },
      }),
    );
    expect(() => paginate(letters, { after: 'not-a-cursor' }, key)).toThrow(
      /Invalid argument "after"/,
    );
    expect(() => paginate(letters, { before: 'bm9wZQ' }, key)).toThrow(/Invalid argument "before"/);
  });

  it('sorts newest first with newestFirstKey, ties broken by id', () => {
    const items = [
      { id: 'b', created: 100 },
      { id: 'a', created: 200 },
      { id: 'c', created: 100 },
    ];
    const page = paginate(items, {}, (item) => newestFirstKey(item.created, item.id));
    expect(page.edges.map((edge) => edge.node.id)).toEqual(['a', 'b', 'c']);
  });
});
