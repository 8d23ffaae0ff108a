import { type GraphQLResolveInfo, Kind, type SelectionSetNode } from 'graphql';
import { invalidArgument } from './errors.ts';

/** Relay connection arguments as Pothos passes them. */
export interface ConnectionArgs {
  readonly first?: number | null | undefined;
  readonly last?: number | null | undefined;
  readonly after?: string | null | undefined;
  readonly before?: string | null | undefined;
}

/** A page of a list in the shape Pothos' Relay connections resolve. */
export interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
  totalCount: number | Promise<number>;
}

const cursorPrefix = 'k1:';

function encodeCursor(key: string): string {
  return Buffer.from(cursorPrefix + key, 'utf8').toString('base64url');
}

function decodeCursor(argument: string, cursor: string): string {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!decoded.startsWith(cursorPrefix)) {
    throw invalidArgument(argument, 'not a cursor returned by this connection');
  }
  return decoded.slice(cursorPrefix.length);
}

function checkCount(argument: string, value: number | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (value < 0) throw invalidArgument(argument, `must not be negative, got ${value}`);
  return value;
}

/**
 * Paginates a list read whole from the engine. Cursors carry the sort key of
 * their object rather than an offset, so a page stays where it was when
 * objects are created or removed between two requests, even when the object
 * under the cursor itself is gone.
 */
export function paginate<T>(
  items: readonly T[],
  args: ConnectionArgs,
  sortKey: (item: T) => string,
): Page<T> {
  const first = checkCount('first', args.first);
  const last = checkCount('last', args.last);
  const keyed = items
    .map((item) => ({ key: sortKey(item), node: item }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const after = args.after ? decodeCursor('after', args.after) : undefined;
  const before = args.before ? decodeCursor('before', args.before) : undefined;
  let start = after === undefined ? 0 : keyed.findIndex((entry) => entry.key > after);
  if (start === -1) start = keyed.length;
  let end = before === undefined ? keyed.length : keyed.findIndex((entry) => entry.key >= before);
  if (end === -1) end = keyed.length;
  if (end < start) end = start;
  let sliceStart = start;
  let sliceEnd = end;
  if (first !== undefined) sliceEnd = Math.min(sliceEnd, sliceStart + first);
  if (last !== undefined) sliceStart = Math.max(sliceStart, sliceEnd - last);
  const edges = keyed
    .slice(sliceStart, sliceEnd)
    .map((entry) => ({ cursor: encodeCursor(entry.key), node: entry.node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: sliceEnd < keyed.length,
      hasPreviousPage: sliceStart > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: keyed.length,
  };
}

/** Sort key putting newer objects first: Unix seconds descending, then id. */
export function newestFirstKey(createdSeconds: number, id: string): string {
  return `${String(9_999_999_999 - Math.floor(createdSeconds)).padStart(10, '0')}:${id}`;
}

/**
 * Whether the field being resolved selects `name` directly (through fragments
 * too): lets a connection skip what only that field needs. Answers true when
 * in doubt (an unknown fragment).
 */
export function selectsField(info: GraphQLResolveInfo, name: string): boolean {
  const seen = new Set<string>();
  const inSet = (set: SelectionSetNode | undefined): boolean =>
    (set?.selections ?? []).some((selection) => {
      if (selection.kind === Kind.FIELD) return selection.name.value === name;
      if (selection.kind === Kind.INLINE_FRAGMENT) return inSet(selection.selectionSet);
      const fragmentName = selection.name.value;
      if (seen.has(fragmentName)) return false;
      seen.add(fragmentName);
      const fragment = info.fragments[fragmentName];
      return fragment ? inSet(fragment.selectionSet) : true;
    });
  return info.fieldNodes.some((node) => inSet(node.selectionSet));
}
