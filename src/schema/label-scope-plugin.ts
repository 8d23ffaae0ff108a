import SchemaBuilder, {
  BasePlugin,
  type PothosOutputFieldConfig,
  type SchemaTypes,
} from '@pothos/core';
import type { GraphQLFieldResolver } from 'graphql';
import type { GraphQLContext } from '../context.ts';
import { EngineNotFoundError } from '../docker/errors.ts';
import { forbiddenError } from './access.ts';
import { labelLimitOf, visibleKey } from './label-access.ts';
import { engineReferenceOf } from './node-id.ts';
import { type FieldScope, type Keys, type ScopeTarget, scopeRuleFor } from './scope-rules.ts';

/**
 * A Pothos plugin that holds every root field to its rule of `scope-rules.ts`
 * for a principal limited to labels: before the resolver (or the subscription)
 * runs, the objects its target arguments name must be visible, and the
 * resolver gets their full engine id; a hidden object answers the field's own
 * NotFoundError for a missing one, and the engine is never asked to act on it.
 * A root field without a rule is refused to every limited principal. An
 * unlimited principal passes through without an engine call.
 */
export class LabelScopePlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(
    resolver: GraphQLFieldResolver<unknown, Types['Context'], object>,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types['Context'], object> {
    // A subscription's resolve maps each event; its scope is applied when it starts.
    if (fieldConfig.kind !== 'Query' && fieldConfig.kind !== 'Mutation') return resolver;
    const scope = scopeRuleFor(fieldConfig.parentType, fieldConfig.name);
    if (scope && !scope.targets && scope.rule !== 'unlimited-only') return resolver;
    return async (parent, args, context, info) =>
      resolver(
        parent,
        await scopedArguments(asContext(context), fieldConfig, scope, args),
        context,
        info,
      );
  }

  override wrapSubscribe(
    subscribe: GraphQLFieldResolver<unknown, Types['Context'], object> | undefined,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types['Context'], object> | undefined {
    if (!subscribe || fieldConfig.kind !== 'Subscription') return subscribe;
    const scope = scopeRuleFor(fieldConfig.parentType, fieldConfig.name);
    if (scope && !scope.targets && scope.rule !== 'unlimited-only') return subscribe;
    return async (parent, args, context, info) =>
      subscribe(
        parent,
        await scopedArguments(asContext(context), fieldConfig, scope, args),
        context,
        info,
      );
  }
}

/** The one builder this plugin serves (`builder.ts`) has GraphQLContext as its context. */
function asContext(context: unknown): GraphQLContext {
  return context as GraphQLContext;
}

/**
 * The arguments a limited principal's call of a root field runs with: the
 * target objects checked to be visible, containers and networks named by
 * their full id. Without a limit, `args` as given.
 */
async function scopedArguments<Types extends SchemaTypes>(
  context: GraphQLContext,
  fieldConfig: PothosOutputFieldConfig<Types>,
  scope: FieldScope | undefined,
  args: object,
): Promise<object> {
  if (!labelLimitOf(context)) return args;
  const field = `${fieldConfig.parentType}.${fieldConfig.name}`;
  if (!scope) {
    throw forbiddenError(
      `${field} has no label-scope rule (src/schema/scope-rules.ts) and is denied to tokens limited to labels`,
    );
  }
  if (scope.rule === 'unlimited-only') {
    throw forbiddenError(
      `${field} is denied to tokens limited to labels: it ${scope.reason ?? 'acts on what no label covers'}`,
    );
  }
  const given = args as Readonly<Record<string, unknown>>;
  const targets = scope.targets ?? [];
  // Blank values are left to the resolver, which names what is wrong with them.
  const keys: Keys = Object.fromEntries(
    targets.flatMap((each) => {
      const value = given[each.argument];
      return typeof value === 'string' && value.trim() !== ''
        ? [[each.argument, engineReferenceOf(context.engineName, each.type, each.argument, value)]]
        : [];
    }),
  );
  const scoped: Record<string, unknown> = { ...given };
  await Promise.all(
    targets.map(async (each) => {
      const value = given[each.argument];
      if (Array.isArray(value)) {
        scoped[each.argument] = await Promise.all(
          value.map((item: unknown, index) =>
            typeof item === 'string'
              ? visibleValue(context, each, `${each.argument}[${index}]`, item, given, keys)
              : item,
          ),
        );
      } else if (typeof value === 'string') {
        scoped[each.argument] = await visibleValue(
          context,
          each,
          each.argument,
          value,
          given,
          keys,
        );
      }
    }),
  );
  return scoped;
}

/** One target value, checked visible: its full id when the target replaces, else as given. */
async function visibleValue(
  context: GraphQLContext,
  target: ScopeTarget,
  argument: string,
  value: string,
  args: Readonly<Record<string, unknown>>,
  keys: Keys,
): Promise<string> {
  if (value.trim() === '') return value;
  const key = engineReferenceOf(context.engineName, target.type, argument, value);
  const visible = await visibleKey(context, target.type, key);
  if (visible === null) {
    throw new EngineNotFoundError('NOT_FOUND', target.notFound(key, args, keys), 404);
  }
  return target.replace ? visible : value;
}

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      labelScope: LabelScopePlugin<Types>;
    }
  }
}

SchemaBuilder.registerPlugin('labelScope', LabelScopePlugin);
