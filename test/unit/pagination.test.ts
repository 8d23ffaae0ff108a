import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  decodePosition,
  engineOfNewestFirstGroup,
  newestFirstGroup,
  newestFirstKey,
  paginate,
  paginateOrdered,
  positionCursor,
} from '../../src/schema/pagination.ts';

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

describe('paginateOrdered', () => {
  // Groups "1" and "2"; within a group the order given (as the engine lists), not by id.
  const items = [
    { group: '1', id: 'z' },
    { group: '2', id: 'c' },
    { group: '1', id: 'a' },
    { group: '2', id: 'b' },
    { group: '1', id: 'm' },
  ];
  const ids = (page: { edges: { node: { id: string } }[] }) =>
    page.edges.map((edge) => edge.node.id);

  it('orders by group, keeping the given order within a group', () => {
    expect(ids(paginateOrdered(items, {}, (item) => item))).toEqual(['z', 'a', 'm', 'c', 'b']);
  });

  it('starts right after the cursor item, and pages back before it', () => {
    const first = paginateOrdered(items, { first: 2 }, (item) => item);
    expect(ids(first)).toEqual(['z', 'a']);
    const second = paginateOrdered(
      items,
      { first: 2, after: first.pageInfo.endCursor },
      (item) => item,
    );
    expect(ids(second)).toEqual(['m', 'c']);
    expect(second.pageInfo.hasPreviousPage).toBe(true);
    expect(second.pageInfo.hasNextPage).toBe(true);
    const back = paginateOrdered(
      items,
      { last: 2, before: second.pageInfo.endCursor },
      (item) => item,
    );
    expect(ids(back)).toEqual(['a', 'm']);
  });

  it('resumes at the first item of the group of a cursor item gone: repeats, never skips', () => {
    const cursor = positionCursor({ group: '1', id: 'a' });
    const without = items.filter((item) => item.id !== 'a');
    expect(ids(paginateOrdered(without, { first: 3, after: cursor }, (item) => item))).toEqual([
      'z',
      'm',
      'c',
    ]);
    expect(ids(paginateOrdered(without, { before: cursor }, (item) => item))).toEqual(['z', 'm']);
    // A group with nothing left: the next one.
    const gone = positionCursor({ group: '1', id: 'q' });
    const later = items.filter((item) => item.group === '2');
    expect(ids(paginateOrdered(later, { after: gone }, (item) => item))).toEqual(['c', 'b']);
  });

  it('names its engine and second in newest-first groups; refuses what is no cursor', () => {
    const group = newestFirstGroup(1_700_000_000, 'prod:1');
    expect(engineOfNewestFirstGroup(group)).toBe('prod:1');
    expect(newestFirstGroup(1_700_000_001, 'a') < newestFirstGroup(1_700_000_000, 'a')).toBe(true);
    expect(newestFirstGroup(1_700_000_000, 'a') < newestFirstGroup(1_700_000_000, 'b')).toBe(true);
    expect(decodePosition('after', positionCursor({ group, id: 'abc' }))).toEqual({
      group,
      id: 'abc',
    });
    // The cursors of `newestFirstKey` name the same position.
    expect(
      decodePosition(
        'after',
        paginate([1], {}, () => newestFirstKey(1_700_000_000, 'a:abc')).edges[0]?.cursor ?? '',
      ),
    ).toEqual({ group: newestFirstGroup(1_700_000_000, 'a'), id: 'abc' });
    expect(() => paginateOrdered(items, { after: 'bm9wZQ' }, (item) => item)).toThrow(
      /Invalid argument "after"/,
    );
  });
});
