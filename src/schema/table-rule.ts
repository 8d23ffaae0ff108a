import type { PothosOutputFieldConfig, SchemaTypes } from '@pothos/core';

/**
 * `fieldConfig` with the Pothos option `option` set to `value`, the field's
 * rule from the table in `table` (a path, for the error). A field that sets
 * the option itself stops the schema build, so that the table stays the one
 * place where such rules are made.
 */
export function withTableRule<Types extends SchemaTypes>(
  fieldConfig: PothosOutputFieldConfig<Types>,
  option: string,
  table: string,
  value: unknown,
): PothosOutputFieldConfig<Types> {
  if (option in fieldConfig.pothosOptions) {
    throw new Error(
      `${fieldConfig.parentType}.${fieldConfig.name} sets ${option}: give it a rule in ${table} instead`,
    );
  }
  const pothosOptions = { ...fieldConfig.pothosOptions, [option]: value };
  return { ...fieldConfig, pothosOptions } as PothosOutputFieldConfig<Types>;
}
