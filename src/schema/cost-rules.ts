import type { FieldComplexityValue } from '@pothos/plugin-complexity';
import { GraphQLError } from 'graphql';

/**
 * The cost model, in one table: what each field adds to an operation's cost,
 * which DOCKERGRAPH_MAX_COST bounds. The cost-model plugin (`cost-model.ts`)
 * gives every field its rule from here, or the default of its type:
 *
 * - a scalar or enum field costs 0: it is read from an object already fetched;
 * - an object field costs 1, and a list of objects 1 with its selection counted
 *   {@link LIST_SIZE} times;
 * - a connection counts its selection `first` (or `last`) times, or
 *   {@link UNPAGED_LIST_SIZE} times when neither is given (the whole list);
 * - fields that make the engine work hard cost more: sizes and `docker diff`
 *   walk files, stats sample for two seconds, `/system/df` walks everything,
 *   image search asks Docker Hub.
 *
 * A field's cost is counted once per object it is read on, so slow fields of
 * a long list add up even where one engine call serves the whole list.
 */

/** How many objects an unpaged connection (no `first` nor `last`) is costed as. */
export const UNPAGED_LIST_SIZE = 100;

/** How many items a plain list of objects (ports, mounts, labels…) is costed as. */
export const LIST_SIZE = 5;

/** How many containers a nested list of containers (of an image, volume, network) is costed as. */
export const NESTED_CONTAINERS_SIZE = 20;

/** Relay connection arguments, as the complexity plugin passes them. */
interface PageArguments {
  readonly first?: unknown;
  readonly last?: unknown;
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? Math.max(0, value) : undefined;
}

/** The cost of a connection: its page size times its selection. */
function connection(args: PageArguments): FieldComplexityValue {
  return { field: 1, multiplier: count(args.first) ?? count(args.last) ?? UNPAGED_LIST_SIZE };
}

/** A connection's `edges`: the page size is already counted on the connection field. */
const edges: FieldComplexityValue = { field: 1, multiplier: 1 };

/** A field's cost rule: a value, or a function of its arguments. */
export type CostRule =
  | FieldComplexityValue
  | ((args: Record<string, unknown>) => FieldComplexityValue);

export const costRules: Readonly<Record<string, Readonly<Record<string, CostRule>>>> = {
  Query: {
    // Who the token is and what it may do: no engine call.
    viewer: 0,
    containers: connection,
    images: connection,
    volumes: connection,
    networks: connection,
    swarmNodes: connection,
    services: connection,
    tasks: connection,
    secrets: connection,
    configs: connection,
    stacks: connection,
    // Each ID is looked up on its own: one engine call per ID, and its selection.
    nodes: (args) => {
      const ids = Array.isArray(args.ids) ? args.ids.length : UNPAGED_LIST_SIZE;
      return { field: Math.max(1, ids), multiplier: ids };
    },
    // A round trip to a registry.
    distribution: 50,
    // A bounded read of the engine's past events; each event may link objects, read anew.
    eventsHistory: (args) => ({ field: 10, multiplier: count(args.first) ?? 100 }),
    // A round trip to Docker Hub; the engine answers 25 results unless told otherwise.
    searchImages: (args) => ({ field: 50, multiplier: count(args.limit) ?? 25 }),
    // A round trip to the plugin's registry.
    pluginPrivileges: 50,
  },
  ContainerConnection: { edges },
  ImageConnection: { edges },
  VolumeConnection: { edges },
  NetworkConnection: { edges },
  SwarmNodeConnection: { edges },
  ServiceConnection: { edges },
  TaskConnection: { edges },
  SecretConnection: { edges },
  ConfigConnection: { edges },
  StackConnection: { edges },
  Service: {
    // The manager gathers the lines from every node running a task.
    logs: 20,
    tasks: { field: 1, multiplier: NESTED_CONTAINERS_SIZE },
  },
  Task: {
    logs: 10,
  },
  SwarmNode: {
    tasks: { field: 1, multiplier: NESTED_CONTAINERS_SIZE },
    containers: { field: 1, multiplier: NESTED_CONTAINERS_SIZE },
  },
  Stack: {
    services: { field: 1, multiplier: NESTED_CONTAINERS_SIZE },
  },
  Container: {
    // The engine walks the container's files.
    size: 20,
    changes: { field: 20, multiplier: LIST_SIZE },
    // The engine samples CPU twice, a second apart.
    stats: 25,
    logs: 10,
    top: 10,
    file: 5,
    // Capabilities are worked out from the token's role: no engine call.
    viewerCan: 0,
    // A round trip to a registry (cached across operations, once per tag in one).
    imageUpdateAvailable: 20,
    imageUpdateCheck: 20,
  },
  Image: {
    viewerCan: 0,
    // A round trip to a registry per tag (cached across operations, once per tag in one).
    updateAvailable: 20,
    updateChecks: { field: 20, multiplier: 1 },
    history: { field: 10, multiplier: 10 },
    containers: { field: 1, multiplier: NESTED_CONTAINERS_SIZE },
  },
  Volume: {
    viewerCan: 0,
    containers: { field: 1, multiplier: NESTED_CONTAINERS_SIZE },
    // Read from `/system/df`, which walks every volume.
    usage: 10,
  },
  Network: {
    viewerCan: 0,
    containers: { field: 1, multiplier: NESTED_CONTAINERS_SIZE },
  },
  Engine: {
    // `/system/df` walks every image layer, container and volume.
    diskUsage: 100,
  },
  Subscription: {
    containerStats: (args) => ({
      field: 25,
      multiplier: Array.isArray(args.ids) ? args.ids.length : UNPAGED_LIST_SIZE,
    }),
    containerLogs: 10,
    serviceLogs: 20,
  },
};

/** What a field's type is made of, as far as its default cost goes. */
export interface FieldShape {
  readonly list: boolean;
  /** A scalar or enum: nothing to select below it. */
  readonly leaf: boolean;
}

/** The cost of a field without a rule of its own. */
export function defaultCost({ list, leaf }: FieldShape): FieldComplexityValue {
  if (leaf) return 0;
  return list ? { field: 1, multiplier: LIST_SIZE } : 1;
}

/** The rule of a field, or undefined when the table has none for it. */
export function costRuleFor(typeName: string, fieldName: string): CostRule | undefined {
  return costRules[typeName]?.[fieldName];
}

/** Which limit an operation went over. */
export type ComplexityLimit = 'depth' | 'cost';

/**
 * The error an operation over its depth or cost limit answers: the measure,
 * its value, the limit and the setting that changes it.
 */
export function operationTooComplex(
  limit: ComplexityLimit,
  value: number,
  max: number,
): GraphQLError {
  const [what, setting] =
    limit === 'depth' ? ['deep', 'DOCKERGRAPH_MAX_DEPTH'] : ['costly', 'DOCKERGRAPH_MAX_COST'];
  return new GraphQLError(
    `the operation is too ${what}: its ${limit} is ${value}, the limit is ${max} (${setting})`,
    { extensions: { code: 'QUERY_TOO_COMPLEX', http: { status: 400 } } },
  );
}
