import SchemaBuilder, {
  BasePlugin,
  type PothosOutputFieldConfig,
  type SchemaTypes,
} from '@pothos/core';
import { defaultFieldResolver, type GraphQLFieldResolver } from 'graphql';
import { bindEngine, type GraphQLContext, unboundEngine, withBinding } from '../context.ts';
import { InvalidInputError } from '../docker/errors.ts';
import { decodeNodeId } from './node-id.ts';
import { scopeRuleFor } from './scope-rules.ts';

/**
 * A Pothos plugin that gives every field the context of its engine, as Keystone
 * checks access per item: `context.docker`, `context.loaders` and the live streams
 * of a field are those of the engine its object came from.
 *
 * - A field of an object that carries `engine` (every record of `refs.ts`) is bound
 *   to that engine; the objects it answers (value types, payloads) inherit the binding.
 * - A root field is bound to the engine its `engine` argument names, else to the engine
 *   of the global IDs its target arguments (`scope-rules.ts`) hold, else, with one visible
 *   engine, to that one. Otherwise it is unbound: its first use of an engine fails naming
 *   the `engine` argument. Root fields that span engines (the lists, `engines`, `events`)
 *   read `context.fleet` themselves.
 *
 * With one visible engine every context is bound to it already and the plugin only
 * passes through.
 */
export class EngineBindingPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  /** Every root field that acts on one engine gets the `engine` argument choosing it. */
  override onOutputFieldConfig(
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): PothosOutputFieldConfig<Types> {
    if (!isRootField(fieldConfig) || fieldConfig.args.engine) return fieldConfig;
    if (fleetFields[fieldConfig.parentType]?.[fieldConfig.name] !== undefined) return fieldConfig;
    return {
      ...fieldConfig,
      args: {
        ...fieldConfig.args,
        engine: {
          kind: 'Arg',
          graphqlKind: 'Arg',
          name: 'engine',
          parentField: fieldConfig.name,
          parentType: fieldConfig.parentType,
          type: { kind: 'Scalar', ref: 'String', required: false },
          pothosOptions: { type: 'String', required: false },
          description: ENGINE_ARGUMENT_DESCRIPTION,
          extensions: {},
        },
      },
    };
  }

  override wrapResolve(
    resolver: GraphQLFieldResolver<unknown, Types['Context'], object>,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types['Context'], object> {
    if (isRootField(fieldConfig)) {
      const targets = targetArgumentsOf(fieldConfig);
      return (parent, args, context, info) => {
        const given = asContext(context);
        // With one visible engine the context is bound already; a named engine is still checked.
        if (given.fleet.single && !namesEngine(args)) return resolver(parent, args, context, info);
        const bound = bindRoot(given, targets, args as Readonly<Record<string, unknown>>);
        const result = resolver(parent, args, bound, info);
        return bound === given ? result : inherit(result, bound);
      };
    }
    // A property read answering a scalar or enum uses no context and answers no object to
    // mark: decided here, once, instead of per field per object.
    if (resolver === defaultFieldResolver && answersLeaf(fieldConfig)) return resolver;
    return (parent, args, context, info) => {
      const given = asContext(context);
      if (given.fleet.single) return resolver(parent, args, context, info);
      const bound = bindObject(given, parent);
      return inherit(resolver(parent, args, bound, info), bound);
    };
  }

  override wrapSubscribe(
    subscribe: GraphQLFieldResolver<unknown, Types['Context'], object> | undefined,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types['Context'], object> | undefined {
    if (!subscribe || fieldConfig.kind !== 'Subscription') return subscribe;
    const targets = targetArgumentsOf(fieldConfig);
    return (parent, args, context, info) => {
      const given = asContext(context);
      if (given.fleet.single && !namesEngine(args)) return subscribe(parent, args, context, info);
      const bound = bindRoot(given, targets, args as Readonly<Record<string, unknown>>);
      return subscribe(parent, args, bound, info);
    };
  }
}

/** What the `engine` argument of a root field that acts on one engine says. */
export const ENGINE_ARGUMENT_DESCRIPTION =
  'The engine to act on, by name. May be left out when a global ID argument names the object (it carries its engine) or when the token sees one engine only.';

/**
 * Root fields that do not act on one engine, and so get no `engine` argument: they
 * span engines (their `engines` argument selects), name engines otherwise, or use none.
 */
const fleetFields: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  Query: {
    containers: 'spans engines',
    images: 'spans engines',
    volumes: 'spans engines',
    networks: 'spans engines',
    engines: 'lists engines',
    engine: 'names its engine by `name`',
    node: 'global IDs carry their engine',
    nodes: 'global IDs carry their engine',
    viewer: 'describes the token, no engine',
  },
  Subscription: {
    events: 'spans engines',
    containerUpdated: 'spans engines',
  },
};

/** The one builder this plugin serves (`builder.ts`) has GraphQLContext as its context. */
function asContext(context: unknown): GraphQLContext {
  return context as GraphQLContext;
}

function isRootField<Types extends SchemaTypes>(fieldConfig: PothosOutputFieldConfig<Types>) {
  return (
    fieldConfig.kind === 'Query' ||
    fieldConfig.kind === 'Mutation' ||
    fieldConfig.kind === 'Subscription'
  );
}

/** Whether a field answers a scalar or an enum, or a list of them: values no field runs on. */
function answersLeaf<Types extends SchemaTypes>(fieldConfig: PothosOutputFieldConfig<Types>) {
  const type = fieldConfig.type.kind === 'List' ? fieldConfig.type.type : fieldConfig.type;
  return type.kind === 'Scalar' || type.kind === 'Enum';
}

/** Whether the arguments name an engine (`engine: "…"`). */
function namesEngine(args: object): boolean {
  const { engine } = args as { engine?: unknown };
  return typeof engine === 'string' && engine !== '';
}

/** The arguments of a root field that name engine objects (from its label-scope rule). */
function targetArgumentsOf<Types extends SchemaTypes>(
  fieldConfig: PothosOutputFieldConfig<Types>,
): readonly string[] {
  const scope = scopeRuleFor(fieldConfig.parentType, fieldConfig.name);
  const targets = (scope?.targets ?? []).map((target) => target.argument);
  return scope?.lookup ? [...targets, scope.lookup.argument] : targets;
}

/** The engine a global ID names; null for what is not one of ours. */
function engineOfGlobalId(value: string): string | null {
  const decoded = decodeNodeId(value);
  if (decoded.typename === 'Invalid' || !/^[A-Z][A-Za-z]+$/.test(decoded.typename)) return null;
  const separator = decoded.id.indexOf(':');
  return separator > 0 ? decoded.id.slice(0, separator) : null;
}

/** Unbound contexts, one per operation: made once, like the bound ones. */
const unboundContexts = new WeakMap<object, GraphQLContext>();

function unbound(context: GraphQLContext): GraphQLContext {
  let found = unboundContexts.get(context.fleet);
  if (!found) {
    found = withBinding(context, unboundEngine(context.fleet.visible().length));
    unboundContexts.set(context.fleet, found);
  }
  return found;
}

/** The context a root field runs with, from its `engine` argument or its targets' global IDs. */
function bindRoot(
  context: GraphQLContext,
  targets: readonly string[],
  args: Readonly<Record<string, unknown>>,
): GraphQLContext {
  const named = args.engine;
  const engines = new Set<string>();
  for (const argument of targets) {
    const value = args[argument];
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item !== 'string') continue;
      const engine = engineOfGlobalId(item);
      if (engine !== null) engines.add(engine);
    }
  }
  if (typeof named === 'string' && named !== '') {
    const other = [...engines].find((engine) => engine !== named);
    if (other !== undefined) {
      throw new InvalidInputError(
        'engine',
        `engine: names engine "${named}" while a global ID argument names an object on engine "${other}"`,
      );
    }
    return bindEngine(context, named);
  }
  if (engines.size > 1) {
    throw new InvalidInputError(
      'engine',
      `engine: the arguments name objects on several engines (${[...engines].sort().join(', ')}): one operation acts on one engine`,
    );
  }
  const [engine] = engines;
  return engine === undefined ? unbound(context) : bindEngine(context, engine);
}

/** The engine each answered object belongs to, per operation, for objects that do not say. */
const inheritedEngines = new WeakMap<object, WeakMap<object, string>>();

function inheritedOf(context: GraphQLContext): WeakMap<object, string> {
  let found = inheritedEngines.get(context.fleet);
  if (!found) {
    found = new WeakMap();
    inheritedEngines.set(context.fleet, found);
  }
  return found;
}

function engineOfParent(context: GraphQLContext, parent: unknown): string | undefined {
  if (typeof parent !== 'object' || parent === null) return undefined;
  const own = (parent as { engine?: unknown }).engine;
  if (typeof own === 'string') return own;
  return inheritedOf(context).get(parent);
}

/** The context a field of `parent` runs with: that of the parent's engine. */
function bindObject(context: GraphQLContext, parent: unknown): GraphQLContext {
  const engine = engineOfParent(context, parent);
  return engine === undefined ? unbound(context) : bindEngine(context, engine);
}

/** Marks the objects of `result` as belonging to the engine `bound` is bound to. */
function inherit(result: unknown, bound: GraphQLContext): unknown {
  let engine: string;
  try {
    engine = bound.engineName;
  } catch {
    // An unbound root field (a list spanning engines): its objects say their engine.
    return result;
  }
  const inherited = inheritedOf(bound);
  const mark = (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    if (value instanceof Promise) return value.then(mark);
    if (Array.isArray(value)) {
      for (const item of value) mark(item);
      return value;
    }
    if (typeof (value as { engine?: unknown }).engine !== 'string') inherited.set(value, engine);
    return value;
  };
  return mark(result);
}

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      engineBinding: EngineBindingPlugin<Types>;
    }
  }
}

SchemaBuilder.registerPlugin('engineBinding', EngineBindingPlugin);
