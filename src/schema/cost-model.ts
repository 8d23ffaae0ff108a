import SchemaBuilder, {
  BasePlugin,
  type PothosOutputFieldConfig,
  type PothosOutputFieldType,
  type SchemaTypes,
} from '@pothos/core';
import { costRuleFor, defaultCost } from './cost-rules.ts';
import { withTableRule } from './table-rule.ts';

function isLeaf(type: PothosOutputFieldType<SchemaTypes>): boolean {
  if (type.kind === 'List') return isLeaf(type.type);
  return type.kind === 'Scalar' || type.kind === 'Enum';
}

/**
 * A Pothos plugin that gives every field its cost from `cost-rules.ts` as its
 * complexity-plugin `complexity` (so it must run before that plugin). Fields
 * must not set `complexity` themselves: the cost model stays in one table.
 */
export class CostModelPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override onOutputFieldConfig(
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): PothosOutputFieldConfig<Types> {
    const rule = costRuleFor(fieldConfig.parentType, fieldConfig.name);
    const type = fieldConfig.type as PothosOutputFieldType<SchemaTypes>;
    const complexity =
      typeof rule === 'function'
        ? (args: Record<string, unknown>) => rule(args)
        : (rule ?? defaultCost({ list: type.kind === 'List', leaf: isLeaf(type) }));
    return withTableRule(fieldConfig, 'complexity', 'src/schema/cost-rules.ts', complexity);
  }
}

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      costModel: CostModelPlugin<Types>;
    }
  }
}

SchemaBuilder.registerPlugin('costModel', CostModelPlugin);
