import { normalizeSignal } from '../docker/container-spec.ts';
import type { EngineObjectType, LookupArgument } from './node-id.ts';

/**
 * How a token limited to labels (see `src/security/label-scope.ts`) is held to
 * what it may see, in one table: every root field and every kind of engine
 * event has a rule here. The label-scope plugin (`label-scope-plugin.ts`)
 * enforces the `targets` of a field before its resolver runs, and refuses a
 * root field without a rule to every limited token; a unit test
 * (`test/unit/scope-rules.test.ts`) fails the build for a root field or an
 * event kind of the built schema without a rule, and for a rule naming what
 * does not exist.
 *
 * The rules:
 *
 * - `filtered-list`: the loaders read lists with the limit (container lists
 *   carry it as engine label filters; images, volumes and networks are kept by
 *   their labels and what visible containers use).
 * - `filtered-lookup`: a lookup by id, id prefix, name or global ID resolves
 *   inside the visible objects; the rest answers null, as a missing object. Its
 *   `lookup` names the argument that may hold a global ID: the field is bound to
 *   the engine the ID names, as for a target.
 * - `engine-wide-recomputed`: figures about the whole engine (object counts,
 *   disk usage) are recomputed from the visible objects.
 * - `visible-target`: the objects the `targets` arguments name must be
 *   visible, and the engine is sent their full id (so an id prefix or a name
 *   cannot reach another object); otherwise the field answers exactly as for a
 *   missing object, before any engine call.
 * - `labels-created`: what the field creates gets the limit's labels (a
 *   request setting one of them otherwise is refused); a name in use answers
 *   one message whether the clashing object is visible or not; `targets`, when
 *   given, are checked as for `visible-target`.
 * - `narrowed-prune`: the prune carries the limit as engine label filters.
 * - `visible-events`: the stream passes through the event rules below.
 * - `unscoped-with-reason`: names no object of the engine a limit covers;
 *   `reason` says why.
 * - `unlimited-only`: acts on what no label covers (the swarm itself, its
 *   nodes): refused to every limited token; `reason` says what it acts on.
 * - `in-resolver`: a Swarm field whose resolver applies the limit itself
 *   (`swarm-access.ts`: services carrying the labels, their tasks and nodes,
 *   secrets and configs carrying them or used by visible services; what it
 *   creates gets them); `reason` says how.
 *
 * @module
 */

/** The rules of {@link FieldScope}. */
export type ScopeRuleKind =
  | 'filtered-list'
  | 'filtered-lookup'
  | 'engine-wide-recomputed'
  | 'visible-target'
  | 'labels-created'
  | 'narrowed-prune'
  | 'visible-events'
  | 'unscoped-with-reason'
  | 'unlimited-only'
  | 'in-resolver';

/**
 * An argument naming an engine object that must be visible to a limited
 * token: a string, or a list of strings.
 */
export interface ScopeTarget {
  readonly argument: string;
  readonly type: EngineObjectType;
  /**
   * The NotFoundError message for an object it may not see: the very words the
   * field answers for a missing object (e.g. `stop container "x": No such
   * container: x`), so that the two read alike. `keys` holds the engine keys of
   * every target argument, by argument.
   */
  readonly notFound: (key: string, args: Readonly<Record<string, unknown>>, keys: Keys) => string;
  /**
   * Whether the resolver gets the object's full engine id in place of what was
   * given (containers and networks); images keep their reference (removing by
   * name and by id differ), volumes their name.
   */
  readonly replace: boolean;
}

/** Engine keys of the target arguments, by argument name. */
export type Keys = Readonly<Record<string, string | undefined>>;

/** The label-scope rule of one root field. */
export interface FieldScope {
  readonly rule: ScopeRuleKind;
  readonly targets?: readonly ScopeTarget[];
  /**
   * For `filtered-lookup`: the argument naming the object looked up, by the engine's id,
   * id prefix or name or by global ID of `type` (whose engine the field is then bound to).
   */
  readonly lookup?: LookupArgument;
  /** Why, for `unscoped-with-reason`; where it is applied, for what the plugin cannot apply. */
  readonly reason?: string;
}

/** The engine's own words for an object it does not have. */
export function missingWords(type: EngineObjectType, key: string): string {
  switch (type) {
    case 'Container':
      return `No such container: ${key}`;
    case 'Image':
      return `No such image: ${key}`;
    case 'Volume':
      return `get ${key}: no such volume`;
    case 'Network':
      return `network ${key} not found`;
  }
}

const replaced: Readonly<Record<EngineObjectType, boolean>> = {
  Container: true,
  Network: true,
  Image: false,
  Volume: false,
};

/** A target argument whose refusal reads `<verb> <type> "<key>": <the engine's words>`. */
function target(argument: string, type: EngineObjectType, verb: string): ScopeTarget {
  return {
    argument,
    type,
    notFound: (key) => `${verb} ${type.toLowerCase()} "${key}": ${missingWords(type, key)}`,
    replace: replaced[type],
  };
}

/** A container of a subscription, whose refusal is the bare "No such container: x". */
function subscribed(argument: string): ScopeTarget {
  return {
    argument,
    type: 'Container',
    notFound: (key) => missingWords('Container', key),
    replace: true,
  };
}

/** The network and container of a connect or disconnect, described as the engine describes the call. */
function connection(action: 'connect' | 'disconnect'): ScopeTarget[] {
  const what = (keys: Keys) =>
    `${action} container "${keys.container}" ${action === 'connect' ? 'to' : 'from'} network "${keys.network}"`;
  return [
    {
      argument: 'network',
      type: 'Network',
      notFound: (key, _args, keys) => `${what(keys)}: ${missingWords('Network', key)}`,
      replace: true,
    },
    {
      argument: 'container',
      type: 'Container',
      notFound: (key, _args, keys) => `${what(keys)}: ${missingWords('Container', key)}`,
      replace: true,
    },
  ];
}

const visibleTarget = (...targets: ScopeTarget[]): FieldScope => ({
  rule: 'visible-target',
  targets,
});

const filteredList: FieldScope = { rule: 'filtered-list' };
const filteredLookup: FieldScope = { rule: 'filtered-lookup' };
/** A lookup of one `type` by `argument`, which may be a global ID. */
const lookupBy = (argument: string, type: EngineObjectType): FieldScope => ({
  rule: 'filtered-lookup',
  lookup: { argument, type },
});
const narrowedPrune: FieldScope = { rule: 'narrowed-prune' };

/** Why pulling by name is not scoped: registries name images, not this engine. */
const PULL_REASON =
  'pulls a reference from a registry: image names are engine-wide, and the pulled image carries the labels its registry gave it (visible once a visible container uses it)';

const unlimitedOnly = (reason: string): FieldScope => ({ rule: 'unlimited-only', reason });
const inResolver = (reason: string): FieldScope => ({ rule: 'in-resolver', reason });

/** Why plugins are shown to unlimited tokens only. */
const PLUGINS_REASON = 'engine plugins serve every object, of every label';
const SWARM_WIDE = 'changes the swarm itself, which belongs to no label';
const VISIBLE_SERVICES = 'lists the services carrying the labels (swarm-access.ts)';
const VISIBLE_SERVICE =
  'acts only on a service carrying the labels; another answers as missing (visibleService)';
const VISIBLE_BLOB =
  'acts only on a secret or config carrying the labels or used by a visible service (visibleSwarmBlob)';
const CREATED_BLOB = 'what it creates gets the labels (labelsForCreate)';

export const scopeRules: Readonly<Record<string, Readonly<Record<string, FieldScope>>>> = {
  Query: {
    container: lookupBy('idOrName', 'Container'),
    containers: filteredList,
    // Answers null for an exec whose container the limit hides, as for an unknown exec.
    exec: filteredLookup,
    engine: {
      rule: 'engine-wide-recomputed',
      reason:
        'object counts and disk usage are recomputed from the visible objects; version and host facts are shown as they are',
    },
    engines: {
      rule: 'engine-wide-recomputed',
      reason:
        'the engines the token may see (its engine limit); on each, object counts and disk usage are recomputed from the visible objects',
    },
    distribution: {
      rule: 'unscoped-with-reason',
      reason: 'asks a registry about a reference: it names no object of this engine',
    },
    eventsHistory: { rule: 'visible-events' },
    plugin: unlimitedOnly(PLUGINS_REASON),
    plugins: unlimitedOnly(PLUGINS_REASON),
    pluginPrivileges: unlimitedOnly(PLUGINS_REASON),
    image: lookupBy('reference', 'Image'),
    images: filteredList,
    network: lookupBy('idOrName', 'Network'),
    networks: filteredList,
    node: filteredLookup,
    nodes: filteredLookup,
    searchImages: {
      rule: 'unscoped-with-reason',
      reason: 'searches Docker Hub: it names no object of this engine',
    },
    swarm: {
      rule: 'unscoped-with-reason',
      reason:
        'the cluster’s own settings; its join tokens and unlock key need the dangerous permission',
    },
    swarmNodes: inResolver('lists the nodes that run tasks of visible services'),
    services: inResolver(VISIBLE_SERVICES),
    service: inResolver(VISIBLE_SERVICE),
    tasks: inResolver('lists the tasks of visible services'),
    secrets: inResolver(VISIBLE_BLOB),
    configs: inResolver(VISIBLE_BLOB),
    stacks: inResolver('groups the visible services, networks, secrets and configs'),
    viewer: {
      rule: 'unscoped-with-reason',
      reason:
        'describes the token itself (its role, permissions and label limit), no engine object',
    },
    volume: lookupBy('name', 'Volume'),
    volumes: filteredList,
  },
  Mutation: {
    startContainer: visibleTarget(target('id', 'Container', 'start')),
    stopContainer: visibleTarget(target('id', 'Container', 'stop')),
    restartContainer: visibleTarget(target('id', 'Container', 'restart')),
    killContainer: visibleTarget({
      argument: 'id',
      type: 'Container',
      // The engine's own words for a missing container.
      notFound: (key, args) => {
        const signal = normalizeSignal('signal', String(args.signal ?? 'SIGKILL'));
        return `kill container "${key}" with ${signal}: Cannot kill container: ${key}: ${missingWords('Container', key)}`;
      },
      replace: true,
    }),
    pauseContainer: visibleTarget(target('id', 'Container', 'pause')),
    unpauseContainer: visibleTarget(target('id', 'Container', 'unpause')),
    waitContainer: visibleTarget(target('id', 'Container', 'wait for')),
    createContainer: {
      rule: 'labels-created',
      reason:
        'the containers, networks and volumes its input names must be visible: limitContainerCreate (label-access.ts)',
    },
    updateContainer: visibleTarget(target('id', 'Container', 'update')),
    renameContainer: {
      rule: 'visible-target',
      targets: [target('id', 'Container', 'rename')],
      reason: 'a new name in use answers one message whether its container is visible or not',
    },
    removeContainer: visibleTarget(target('id', 'Container', 'remove')),
    pruneContainers: narrowedPrune,
    connectContainerToNetwork: visibleTarget(...connection('connect')),
    disconnectContainerFromNetwork: visibleTarget(...connection('disconnect')),
    commitContainer: {
      rule: 'labels-created',
      targets: [target('container', 'Container', 'commit')],
    },
    pullImage: { rule: 'unscoped-with-reason', reason: PULL_REASON },
    checkRegistryLogin: {
      rule: 'unscoped-with-reason',
      reason: 'asks a registry about credentials: it names no object of this engine',
    },
    pushImage: visibleTarget({
      argument: 'reference',
      type: 'Image',
      // The engine's words name the repository, without the tag.
      notFound: (key) =>
        `push image "${key}": An image does not exist locally with the tag: ${key.replace(/:[^:/]*$/, '')}`,
      replace: false,
    }),
    tagImage: visibleTarget({
      argument: 'source',
      type: 'Image',
      notFound: (key, args) =>
        `tag image "${key}" as "${String(args.repository)}:${String(args.tag ?? 'latest')}": ${missingWords('Image', key)}`,
      replace: false,
    }),
    removeImage: visibleTarget(target('reference', 'Image', 'remove')),
    pruneImages: narrowedPrune,
    createVolume: { rule: 'labels-created' },
    removeVolume: visibleTarget(target('name', 'Volume', 'remove')),
    updateVolume: visibleTarget(target('name', 'Volume', 'update')),
    pruneVolumes: narrowedPrune,
    createNetwork: { rule: 'labels-created' },
    removeNetwork: visibleTarget({
      argument: 'id',
      type: 'Network',
      notFound: (key) => `remove network "${key}": no such network`,
      replace: true,
    }),
    pruneNetworks: narrowedPrune,
    execInContainer: visibleTarget(target('id', 'Container', 'create exec in')),
    execDetached: visibleTarget(target('id', 'Container', 'create exec in')),
    copyToContainer: visibleTarget({
      argument: 'id',
      type: 'Container',
      notFound: (key, args) =>
        `copy an archive to "${String(args.path)}" in container "${key}": ${missingWords('Container', key)}`,
      replace: true,
    }),
    buildImage: { rule: 'labels-created' },
    pruneBuildCache: unlimitedOnly(
      'build cache carries no labels: a prune would remove the cache of every build',
    ),
    importImage: { rule: 'labels-created' },
    initSwarm: unlimitedOnly(SWARM_WIDE),
    joinSwarm: unlimitedOnly(SWARM_WIDE),
    leaveSwarm: unlimitedOnly(SWARM_WIDE),
    updateSwarm: unlimitedOnly(SWARM_WIDE),
    unlockSwarm: unlimitedOnly(SWARM_WIDE),
    updateSwarmNode: unlimitedOnly('changes a node, which runs the tasks of every label'),
    installPlugin: unlimitedOnly(PLUGINS_REASON),
    enablePlugin: unlimitedOnly(PLUGINS_REASON),
    disablePlugin: unlimitedOnly(PLUGINS_REASON),
    configurePlugin: unlimitedOnly(PLUGINS_REASON),
    upgradePlugin: unlimitedOnly(PLUGINS_REASON),
    removePlugin: unlimitedOnly(PLUGINS_REASON),
    removeSwarmNode: unlimitedOnly('removes a node, which runs the tasks of every label'),
    createService: inResolver(
      'what it creates gets the labels (the service, the volumes its tasks make); the secrets, configs, networks and volumes it names must be visible (limitServiceCreate, label-access.ts)',
    ),
    updateService: inResolver(VISIBLE_SERVICE),
    scaleService: inResolver(VISIBLE_SERVICE),
    rollbackService: inResolver(VISIBLE_SERVICE),
    removeService: inResolver(VISIBLE_SERVICE),
    createSecret: inResolver(CREATED_BLOB),
    removeSecret: inResolver(VISIBLE_BLOB),
    rotateSecret: inResolver(VISIBLE_BLOB),
    createConfig: inResolver(CREATED_BLOB),
    removeConfig: inResolver(VISIBLE_BLOB),
    rotateConfig: inResolver(VISIBLE_BLOB),
    loadImages: {
      rule: 'unscoped-with-reason',
      reason:
        'loads the images an archive holds, with the names and labels the archive gives them (image names are engine-wide)',
    },
  },
  Subscription: {
    events: { rule: 'visible-events' },
    containerUpdated: { rule: 'visible-events' },
    containerStats: visibleTarget(subscribed('ids')),
    containerLogs: visibleTarget(subscribed('id')),
    pullImageProgress: { rule: 'unscoped-with-reason', reason: PULL_REASON },
    buildImageProgress: { rule: 'labels-created' },
    serviceUpdated: inResolver('follows the services carrying the labels'),
    serviceLogs: inResolver(VISIBLE_SERVICE),
  },
};

/**
 * The argument of the `Query` lookup `field` that may hold a global ID, and its type, from
 * the table: the resolver decodes with these, so the table is what binds and what decodes.
 * Throws for a field without one, when the schema is built.
 */
export function lookupOf(field: string): LookupArgument {
  const lookup = scopeRules.Query?.[field]?.lookup;
  if (!lookup) throw new Error(`Query.${field} has no lookup in the label-scope table`);
  return lookup;
}

/** The label-scope rule of a root field, or undefined when the table has none. */
export function scopeRuleFor(typeName: string, fieldName: string): FieldScope | undefined {
  return scopeRules[typeName]?.[fieldName];
}

/**
 * How events of one kind reach a limited token:
 *
 * - `carries-labels`: the event's attributes hold the object's labels; it
 *   passes when they hold the limit's.
 * - `visible-object`: it passes when the object is visible (now, when the
 *   subscription started, or at an earlier event, so that its `destroy`
 *   arrives); `containerAttributes` are removed when the container they
 *   describe (the `container` attribute) is not visible.
 * - `swarm-object`: a service, node, secret or config event passes when the
 *   object is visible now (services carrying the labels, nodes running their
 *   tasks, secrets and configs carrying the labels or used by their services),
 *   or was at an earlier event, so that its `remove` still arrives.
 * - `withheld`: never delivered; `reason` says why.
 */
export type EventScopeRule =
  | { readonly rule: 'carries-labels' }
  | { readonly rule: 'swarm-object' }
  | { readonly rule: 'visible-object'; readonly containerAttributes: readonly string[] }
  | { readonly rule: 'withheld'; readonly reason: string };

export const eventScopeRules: Readonly<Record<string, EventScopeRule>> = {
  container: { rule: 'carries-labels' },
  image: { rule: 'visible-object', containerAttributes: [] },
  // `mount` and `unmount` describe the container's mount of the volume.
  volume: {
    rule: 'visible-object',
    containerAttributes: ['container', 'destination', 'propagation', 'read/write'],
  },
  // `connect` and `disconnect` name the container.
  network: { rule: 'visible-object', containerAttributes: ['container'] },
  daemon: {
    rule: 'withheld',
    reason: 'the engine itself: its configuration reloads concern every object',
  },
  builder: { rule: 'withheld', reason: 'the build cache belongs to no one' },
  plugin: { rule: 'withheld', reason: 'engine plugins serve every object' },
  service: { rule: 'swarm-object' },
  node: { rule: 'swarm-object' },
  secret: { rule: 'swarm-object' },
  config: { rule: 'swarm-object' },
};

/** The rule of an event kind; a kind the table does not know is withheld. */
export function eventScopeRuleFor(type: string): EventScopeRule {
  return eventScopeRules[type] ?? { rule: 'withheld', reason: 'a kind of event without a rule' };
}
