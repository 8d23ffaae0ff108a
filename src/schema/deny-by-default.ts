import SchemaBuilder, {
  BasePlugin,
  type PothosOutputFieldConfig,
  type SchemaTypes,
} from '@pothos/core';
import { permissionsFor } from './access-rules.ts';
import { withTableRule } from './table-rule.ts';

/**
 * A Pothos plugin that gives fields the rule of `access-rules.ts` as their
 * scope-auth `authScopes`, and denies every root field (query, mutation,
 * subscription) that has no rule: a field added without one is not reachable.
 */
export class DenyByDefaultPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override onOutputFieldConfig(
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): PothosOutputFieldConfig<Types> {
    const permissions = permissionsFor(fieldConfig.parentType, fieldConfig.name);
    const root =
      fieldConfig.kind === 'Query' ||
      fieldConfig.kind === 'Mutation' ||
      fieldConfig.kind === 'Subscription';
    if (permissions === undefined && !root) return fieldConfig;
    const authScopes =
      permissions === undefined
        ? () => false
        : { $all: Object.fromEntries(permissions.map((permission) => [permission, true])) };
    return withTableRule(fieldConfig, 'authScopes', 'src/schema/access-rules.ts', authScopes);
  }
}

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      denyByDefault: DenyByDefaultPlugin<Types>;
    }
  }
}

SchemaBuilder.registerPlugin('denyByDefault', DenyByDefaultPlugin);
