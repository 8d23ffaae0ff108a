import { type GraphQLResolveInfo, Kind, type SelectionSetNode } from 'graphql';
import { compareText } from '../compare-text.ts';
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
    .sort((a, b) => compareText(a.key, b.key));
  const after = args.after ? decodeCursor('after', args.after) : undefined;
  const before = args.before ? decodeCursor('before', args.before) : undefined;
  let start = after === undefined ? 0 : keyed.findIndex((entry) => entry.key > after);
  if (start === -1) start = keyed.length;
  let end = before === undefined ? keyed.length : keyed.findIndex((entry) => entry.key >= before);
  if (end === -1) end = keyed.length;
  return pageOf(keyed, { start, end, first, last }, (entry) => encodeCursor(entry.key));
}

/**
 * The page of `ordered` between `start` and `end` (exclusive), cut to the `first` of them
 * or the `last`, each entry with its cursor.
 */
function pageOf<T, E extends { readonly node: T }>(
  ordered: readonly E[],
  range: { start: number; end: number; first?: number | undefined; last?: number | undefined },
  cursorOf: (entry: E) => string,
): Page<T> {
  const { start, first, last } = range;
  const end = Math.max(range.end, start);
  let sliceStart = start;
  let sliceEnd = end;
  if (first !== undefined) sliceEnd = Math.min(sliceEnd, sliceStart + first);
  if (last !== undefined) sliceStart = Math.max(sliceStart, sliceEnd - last);
  const edges = ordered
    .slice(sliceStart, sliceEnd)
    .map((entry) => ({ cursor: cursorOf(entry), node: entry.node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: sliceEnd < ordered.length,
      hasPreviousPage: sliceStart > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: ordered.length,
  };
}

/**
 * Where an item stands in a list kept in a fixed order: its group (groups ascending, in
 * string order) and its id, unique in the list. The order within a group is the list's
 * own (e.g. the engine's), which no key can restore: a cursor names its item.
 */
export interface Position {
  readonly group: string;
  readonly id: string;
}

/** The position a cursor of {@link paginateOrdered} names (its group and id). */
export function decodePosition(argument: string, cursor: string): Position {
  const text = decodeCursor(argument, cursor);
  const colon = text.lastIndexOf(':');
  if (colon <= 0 || colon === text.length - 1) {
    throw invalidArgument(argument, 'not a cursor returned by this connection');
  }
  return { group: text.slice(0, colon), id: text.slice(colon + 1) };
}

/** The cursor of the item at `position` (ids hold no ":"). */
export function positionCursor(position: Position): string {
  return encodeCursor(`${position.group}:${position.id}`);
}

/**
 * Paginates a list whose order within a group only its source knows (the engine's order
 * of containers): `items` are put in group order, keeping their given order within a group
 * (a stable sort, which also merges the lists of several engines). A cursor names its item:
 * the page after it starts right after it; when it is no longer in the list (removed, or
 * never visible to the caller) the page starts at the first item of its group, and a page
 * before it ends after the last item of its group. Such a page may repeat items of that
 * group already seen, never skip one (a Relay client's connection handler dedupes by id).
 */
export function paginateOrdered<T>(
  items: readonly T[],
  args: ConnectionArgs,
  positionOf: (item: T) => Position,
): Page<T> {
  const first = checkCount('first', args.first);
  const last = checkCount('last', args.last);
  const ordered = items
    .map((item) => ({ position: positionOf(item), node: item }))
    .sort((a, b) => compareText(a.position.group, b.position.group));
  const indexOf = (position: Position) =>
    ordered.findIndex(
      (entry) => entry.position.id === position.id && entry.position.group === position.group,
    );
  const firstIndex = (found: number) => (found === -1 ? ordered.length : found);
  let start = 0;
  if (args.after) {
    const after = decodePosition('after', args.after);
    const at = indexOf(after);
    start =
      at === -1
        ? firstIndex(ordered.findIndex((entry) => entry.position.group >= after.group))
        : at + 1;
  }
  let end = ordered.length;
  if (args.before) {
    const before = decodePosition('before', args.before);
    const at = indexOf(before);
    end =
      at === -1
        ? firstIndex(ordered.findIndex((entry) => entry.position.group > before.group))
        : at;
  }
  return pageOf(ordered, { start, end, first, last }, (entry) => positionCursor(entry.position));
}

/**
 * The group of {@link paginateOrdered} putting newer objects first: Unix seconds
 * descending, then the engine's name ({@link newestFirstKey} with the engine in place of an id).
 */
export function newestFirstGroup(createdSeconds: number, engine: string): string {
  return newestFirstKey(createdSeconds, engine);
}

/** The engine a {@link newestFirstGroup} names; null when `group` is not one. */
export function engineOfNewestFirstGroup(group: string): string | null {
  return /^\d{10}:/.test(group) ? group.slice(11) : null;
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
