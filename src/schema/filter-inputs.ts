/**
 * Pieces of the `filter` inputs of list fields, alike across domains: their `labels`
 * field, and the checks a given filter (or a prune's labels) passes before the engine sees it.
 *
 * @module
 */

import type { GraphQLContext } from '../context.ts';
import { type GivenFields, givenFields } from '../docker/given-fields.ts';
import type { BuilderTypes } from './builder.ts';
import { scopedLabelFilters } from './label-access.ts';
import { checkLabelFilters, invalidInput } from './shared.ts';

/** The `labels` field of a filter input: every label given must match. */
export function labelFilterField(
  t: PothosSchemaTypes.InputFieldBuilder<BuilderTypes, 'InputObject'>,
) {
  return t.stringList({
    required: false,
    description: 'Labels as `key` or `key=value`; all must match.',
  });
}

/** The given fields of a `filter` argument, its `labels` checked; none when it is omitted. */
export function toLabelFilter<
  Filter extends { readonly labels?: readonly string[] | null | undefined },
>(filter: Filter | null | undefined): GivenFields<Filter> {
  if (!filter) return {};
  const given = givenFields(filter);
  checkLabelFilters('filter.labels', given.labels);
  return given;
}

/**
 * Label filters of a prune: those asked for (in `argument`), checked, plus the principal's
 * limit, since a token limited to labels prunes only objects carrying them.
 */
export function pruneLabelFilters(
  context: GraphQLContext,
  argument: string,
  labels: readonly string[] | null | undefined,
): readonly string[] | undefined {
  checkLabelFilters(argument, labels, invalidInput);
  return scopedLabelFilters(context, labels);
}
