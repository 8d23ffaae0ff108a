import { createAdmissionGate } from './docker/admission-gate.ts';
import { type DockerClient, EngineCallBudget } from './docker/client.ts';
import type { EngineRegistry, RegisteredEngine } from './docker/engine-registry.ts';
import { EngineNotFoundError, InvalidInputError } from './docker/errors.ts';
import type { EventHub } from './docker/event-hub.ts';
import type { StatsHub } from './docker/stats-hub.ts';
import { createLoaders, type Loaders } from './loaders.ts';
import type { AdmissionSettings } from './security/admission.ts';
import { describePrincipal, type Principal } from './security/principal.ts';

/** The server-wide rules an operation runs under, besides its principal's permissions. */
export interface AccessPolicy {
  /** Every mutation is refused. */
  readonly readOnly: boolean;
  /** What the admission policy allows below the `privileged` level. */
  readonly admission: AdmissionSettings;
}

/** Limits that resolvers apply to their arguments. */
export interface OperationLimits {
  /** Most global IDs one `nodes(ids:)` may ask for (DOCKERGRAPH_MAX_NODE_IDS). */
  readonly maxNodeIds: number;
  /** Most engine events one history read takes in (DOCKERGRAPH_EVENTS_HISTORY_MAX). */
  readonly maxEventsHistory: number;
}

/**
 * What resolvers of one engine's objects share: that engine's request-bound client,
 * loaders and live streams. The engine-binding plugin (`src/schema/engine-binding-plugin.ts`)
 * gives each field of an object the binding of the object's engine.
 */
export interface EngineBinding {
  /** The engine client, bound to the request's abort signal. */
  readonly docker: DockerClient;
  /** Batched, de-duplicated engine reads for this operation only. */
  readonly loaders: Loaders;
  /** Name of the engine, carried inside global IDs. */
  readonly engineName: string;
  /** The engine's event stream, shared by every subscription. */
  readonly events: EventHub;
  /** The engine's stats streams, one per container, shared by every subscription. */
  readonly stats: StatsHub;
  /**
   * Aborts when the engine leaves the configuration (removed, or changed by a reload): a
   * stream the operation follows on it alone (logs) ends then, as the shared ones do, so
   * that a token the reload no longer lets see the engine stops receiving from it.
   */
  readonly retired: AbortSignal;
}

/** The engines an operation may use: those its principal may see, by name or selector. */
export interface FleetView {
  /** Whether the principal sees one engine only (then every field is bound to it). */
  readonly single: boolean;
  /** The engines the principal may see, in name order. */
  visible(): readonly RegisteredEngine[];
  /** A visible engine by name; null for one that does not exist or the principal may not see. */
  find(name: string): RegisteredEngine | null;
  /**
   * The visible engines a list's `engines` argument selects: names, or label selectors
   * (`env=prod`); all visible engines when `selectors` is null or undefined. An unknown
   * name is an InvalidInputError naming `argument`, as a hidden one is.
   */
  select(selectors: readonly string[] | null | undefined, argument: string): RegisteredEngine[];
  /** The engine fields of engine `name` for this operation; NotFound when not visible. */
  binding(name: string): EngineBinding;
  /**
   * `context` bound to engine `name` (see {@link bindEngine}): made once per engine and
   * operation, on top of the first context it was asked for.
   */
  bind(context: GraphQLContext, name: string): GraphQLContext;
  /** Engine calls this operation made, all engines together. */
  callCount(): number;
  /** Engine reads this operation joined, sent for another request (`shared-reads.ts`). */
  joinedReadCount(): number;
  /** The engines this operation has used so far, in name order (audit lines name them). */
  touched(): string[];
}

/** What every resolver of one GraphQL operation shares. */
export interface GraphQLContext extends EngineBinding {
  /** Every engine the operation may use; root fields that span engines read them here. */
  readonly fleet: FleetView;
  /** Who runs the operation: role, permissions, label limit. */
  readonly principal: Principal;
  readonly policy: AccessPolicy;
  readonly limits: OperationLimits;
  /** Aborts when the server shuts down: streams a subscription alone owns end with it. */
  readonly shutdown: AbortSignal;
  /** Logs a failure a live stream cannot hand to its subscriber (it only ends the stream). */
  readonly reportLiveError: (what: string, error: unknown) => void;
  /**
   * Errors of engines that did not answer a list spanning engines: the others' data is
   * answered, and these join the response's `errors` (src/plugins/use-partial-errors.ts).
   */
  readonly partialErrors: PartialError[];
  /**
   * Replaces `loaders` with fresh ones and gives the engine-call budget back. A
   * subscription keeps one context for all its events, which are executed one after
   * the other: each must read the engine anew, and is an operation of its own.
   */
  renewLoaders(): void;
}

/** An engine's failure inside an answer that still carries the other engines' data. */
export interface PartialError {
  readonly message: string;
  /** Path of the field whose list lacks the engine's objects. */
  readonly path: readonly (string | number)[];
  readonly code: string;
  readonly engine: string;
}

/** What one operation's context is made from. */
export interface ContextSources {
  /** The engines the server serves now (a reload may change them between operations). */
  readonly engines: EngineRegistry;
  /** Aborts the operation's engine calls when its client goes away. */
  readonly signal: AbortSignal | undefined;
  /** Aborts when the server shuts down. */
  readonly shutdown: AbortSignal;
  /** Logs a failure inside a live stream, which its subscriber sees only as the end. */
  readonly reportLiveError: (what: string, error: unknown) => void;
  readonly principal: Principal;
  readonly policy: AccessPolicy;
  readonly limits: OperationLimits;
  /** Most engine calls the operation may make (DOCKERGRAPH_MAX_ENGINE_CALLS). */
  readonly maxEngineCalls: number;
}

/** An engine the principal may not see answers exactly like one that does not exist. */
function noSuchEngine(name: string): EngineNotFoundError {
  return new EngineNotFoundError('NOT_FOUND', `no engine named "${name}"`, 404);
}

/**
 * The binding of a root field that did not choose an engine while several are served:
 * its first use of the engine fails, naming how to choose one.
 */
export function unboundEngine(count: number): EngineBinding {
  const refuse = (): never => {
    throw new InvalidInputError(
      'engine',
      `engine: ${count} engines are served; name one with the \`engine\` argument or a global ID`,
    );
  };
  return {
    get docker() {
      return refuse();
    },
    get loaders() {
      return refuse();
    },
    get engineName() {
      return refuse();
    },
    get events() {
      return refuse();
    },
    get stats() {
      return refuse();
    },
    get retired() {
      return refuse();
    },
  };
}

/**
 * `base` with the engine fields of `binding`, read through so that an unbound
 * binding refuses on use, not when the context is made. Everything else is
 * `base`'s (the transport's context keeps its own properties).
 */
export function withBinding(base: GraphQLContext, binding: EngineBinding): GraphQLContext {
  return Object.create(base, {
    docker: { get: () => binding.docker },
    loaders: { get: () => binding.loaders },
    engineName: { get: () => binding.engineName },
    events: { get: () => binding.events },
    stats: { get: () => binding.stats },
    retired: { get: () => binding.retired },
  }) as GraphQLContext;
}

/** `context` bound to engine `name`: its fields read and write that engine. */
export function bindEngine(context: GraphQLContext, name: string): GraphQLContext {
  return context.fleet.bind(context, name);
}

/**
 * Builds the context of one operation: per engine it touches, a request-scoped
 * client view and fresh loaders, made on first use. Engines are seen through the
 * principal's engine limit: one it may not see answers like one that does not exist.
 * With one visible engine the context is bound to it; with several, root fields
 * choose (src/schema/engine-binding-plugin.ts).
 */
export function createContext({
  engines,
  signal,
  shutdown,
  reportLiveError,
  principal,
  policy,
  limits,
  maxEngineCalls,
}: ContextSources): GraphQLContext {
  const budget = new EngineCallBudget(maxEngineCalls);
  // Taken once: a reload during the operation does not change what it sees.
  const visible = enginesVisibleTo(principal, engines);
  const byName = new Map(visible.map((engine) => [engine.name, engine]));
  const bindings = new Map<string, EngineBinding>();
  const contexts = new Map<string, GraphQLContext>();
  const sole = visible.length === 1 ? visible[0] : undefined;
  const renewals: (() => void)[] = [];

  function binding(name: string): EngineBinding {
    let found = bindings.get(name);
    if (!found) {
      const engine = byName.get(name);
      if (!engine) throw noSuchEngine(name);
      // The gate's own lookups count against the operation's budget too.
      const viewed = engine.client.withSignal(signal).withBudget(budget);
      // Every write of the operation passes the principal's admission level, whoever sends it.
      const scoped = viewed.withGate(
        createAdmissionGate(viewed, {
          level: principal.admission,
          settings: policy.admission,
          who: describePrincipal(principal),
        }),
      );
      const made = lazyLoaders(() =>
        createLoaders(scoped, principal.labels, engine.distribution, engine.readModel),
      );
      renewals.push(made.renew);
      found = {
        docker: scoped,
        loaders: made.loaders,
        engineName: engine.name,
        events: engine.events,
        stats: engine.stats,
        retired: engine.retired,
      };
      bindings.set(name, found);
    }
    return found;
  }

  const fleet: FleetView = {
    single: visible.length === 1,
    visible: () => visible,
    find: (name) => byName.get(name) ?? null,
    select(selectors, argument) {
      if (selectors === null || selectors === undefined) return [...visible];
      if (selectors.length === 0) {
        throw new InvalidInputError(
          argument,
          `${argument}: names no engine; leave it out to ask every engine`,
        );
      }
      const chosen = new Set<RegisteredEngine>();
      for (const [index, selector] of selectors.entries()) {
        const matched = matchEngines(visible, selector);
        if (matched === null) {
          throw new InvalidInputError(
            `${argument}[${index}]`,
            `${argument}[${index}]: "${selector}" is neither an engine name nor a label selector such as env=prod`,
          );
        }
        if (matched.length === 0 && !selector.includes('=')) {
          throw new InvalidInputError(
            `${argument}[${index}]`,
            `${argument}[${index}]: no engine named "${selector}"`,
          );
        }
        for (const engine of matched) chosen.add(engine);
      }
      return visible.filter((engine) => chosen.has(engine));
    },
    binding,
    bind(context, name) {
      // One visible engine: the context holds its binding already, as plain properties.
      if (sole?.name === name) return context;
      let bound = contexts.get(name);
      if (!bound) {
        bound = withBinding(context, binding(name));
        contexts.set(name, bound);
      }
      return bound;
    },
    touched: () => [...bindings.keys()].sort(),
    callCount: () => [...bindings.values()].reduce((sum, each) => sum + each.docker.callCount, 0),
    joinedReadCount: () =>
      [...bindings.values()].reduce((sum, each) => sum + each.docker.joinedReadCount, 0),
  };

  const base = {
    fleet,
    principal,
    policy,
    limits,
    shutdown,
    reportLiveError,
    partialErrors: [],
    renewLoaders() {
      budget.renew();
      for (const renew of renewals) renew();
    },
  };
  // One visible engine: every field is bound to it, as plain properties (envelop copies the
  // context's own properties, reading getters, into the one resolvers get).
  if (sole) return { ...base, ...binding(sole.name) };
  // Several: no engine fields here; the engine-binding plugin hands every resolver a context
  // bound to its engine, or one whose engine fields refuse naming the `engine` argument.
  return base as unknown as GraphQLContext;
}

/**
 * Loaders made on first use and again on first use after `renew()`. Most operations read
 * through a few of them, and most events of a subscription through none (its context
 * renews them for every event): making them all each time was a large share of the
 * work of delivering one event to many subscribers. The object keeps its identity
 * across renewals, as envelop copies the context's properties into the one resolvers get
 * (and `system.ts` keys its once-per-operation probe by it).
 */
function lazyLoaders(make: () => Loaders): { readonly loaders: Loaders; renew(): void } {
  let current: Loaders | null = null;
  const made = (): Loaders => {
    current ??= make();
    return current;
  };
  const loaders = new Proxy({} as Loaders, {
    get: (_target, key) => Reflect.get(made(), key),
    has: (_target, key) => Reflect.has(made(), key),
    ownKeys: () => Reflect.ownKeys(made()),
    getOwnPropertyDescriptor: (_target, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(made(), key);
      // The proxy's target is empty: what it reports must be configurable.
      return descriptor ? { ...descriptor, configurable: true } : undefined;
    },
  });
  return {
    loaders,
    renew() {
      current = null;
    },
  };
}

/**
 * Engines one selector picks: the engine of that name, or those whose labels hold
 * `key=value`; null for text that is neither.
 */
export function matchEngines(
  engines: readonly RegisteredEngine[],
  selector: string,
): RegisteredEngine[] | null {
  const separator = selector.indexOf('=');
  if (separator === -1) {
    if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(selector)) return null;
    return engines.filter((engine) => engine.name === selector);
  }
  const key = selector.slice(0, separator);
  const value = selector.slice(separator + 1);
  if (key === '') return null;
  return engines.filter((engine) => engine.labels[key] === value);
}

/** The engines of `engines` the principal's engine limit lets it see, as they stand now. */
export function enginesVisibleTo(
  principal: Principal,
  engines: EngineRegistry,
): RegisteredEngine[] {
  return engines.list().filter((engine) => mayUseEngine(principal, engine));
}

/** Whether the principal's engine limit (names or label selectors) lets it see `engine`. */
export function mayUseEngine(principal: Principal, engine: RegisteredEngine): boolean {
  if (principal.engines === null) return true;
  return principal.engines.some((selector) => (matchEngines([engine], selector) ?? []).length > 0);
}
