import { isIPv4 } from 'node:net';
import type { GraphQLContext } from '../context.ts';
import {
  type EngineContainerSummary,
  type EngineEndpointSettings,
  inspectContainer,
} from '../docker/containers.ts';
import { EngineNotFoundError, InvalidInputError } from '../docker/errors.ts';
import { givenFields } from '../docker/given-fields.ts';
import { ipFamily, toNetworkSpec } from '../docker/network-spec.ts';
import {
  connectContainerToNetwork,
  createNetwork,
  disconnectContainerFromNetwork,
  inspectNetwork,
  type NetworkFilters,
  pruneNetworks,
  removeNetwork,
} from '../docker/networks.ts';
import { builder } from './builder.ts';
import { labelFilterField, pruneLabelFilters, toLabelFilter } from './filter-inputs.ts';
import { engineArgs, enginesArgs, listAcrossEngines } from './fleet.ts';
import { concealNameClash, labelsForCreate } from './label-access.ts';
import { mutationErrors } from './mutation-errors.ts';
import { encodeNodeId, engineReferenceOf, lookupKeyOf, toNodeKey } from './node-id.ts';
import { paginate } from './pagination.ts';
import {
  type ContainerRecord,
  ContainerRef,
  type NetworkRecord,
  NetworkRef,
  toContainerRecord,
} from './refs.ts';
import { lookupOf } from './scope-rules.ts';
import {
  KeyValueInput,
  labelFields,
  OptionRef,
  parseEngineTime,
  shortenId,
  toKeyValues,
} from './shared.ts';

const IpamPoolRef = builder
  .objectRef<{
    Subnet?: string;
    IPRange?: string;
    Gateway?: string;
    AuxiliaryAddresses?: Record<string, string> | null;
  }>('IpamPool')
  .implement({
    description: 'An address pool of a network.',
    fields: (t) => ({
      subnet: t.string({
        nullable: true,
        description: 'Subnet in CIDR form, e.g. "172.20.0.0/16".',
        resolve: (pool) => pool.Subnet || null,
      }),
      ipRange: t.string({
        nullable: true,
        description: 'Part of the subnet containers get addresses from.',
        resolve: (pool) => pool.IPRange || null,
      }),
      gateway: t.string({
        nullable: true,
        description: 'Gateway address.',
        resolve: (pool) => pool.Gateway || null,
      }),
      auxiliaryAddresses: t.field({
        type: [OptionRef],
        description: 'Addresses reserved for other uses, by host name.',
        resolve: (pool) => toKeyValues(pool.AuxiliaryAddresses),
      }),
    }),
  });

const IpamRef = builder.objectRef<NetworkRecord['network']['IPAM']>('Ipam').implement({
  description: 'IP address management of a network.',
  fields: (t) => ({
    driver: t.string({
      description: 'IPAM driver, e.g. "default".',
      resolve: (ipam) => ipam.Driver,
    }),
    config: t.field({
      type: [IpamPoolRef],
      description: 'Address pools.',
      resolve: (ipam) => ipam.Config ?? [],
    }),
    options: t.field({
      type: [OptionRef],
      description: 'IPAM driver options.',
      resolve: (ipam) => toKeyValues(ipam.Options),
    }),
  }),
});

interface EndpointShape {
  container: EngineContainerSummary;
  engine: string;
  settings: EngineEndpointSettings;
}

const NetworkEndpointRef = builder.objectRef<EndpointShape>('NetworkEndpoint').implement({
  description: "A container's endpoint on a network.",
  fields: (t) => ({
    container: t.field({
      type: ContainerRef,
      description: 'The attached container.',
      resolve: (e) => toContainerRecord(e.engine, e.container),
    }),
    endpointId: t.string({
      nullable: true,
      description: 'Id of the endpoint.',
      resolve: (e) => e.settings.EndpointID || null,
    }),
    ipv4Address: t.string({
      nullable: true,
      description: 'IPv4 address in CIDR form, e.g. "172.20.0.2/16".',
      resolve: (e) =>
        e.settings.IPAddress ? `${e.settings.IPAddress}/${e.settings.IPPrefixLen ?? 32}` : null,
    }),
    ipv6Address: t.string({
      nullable: true,
      description: 'IPv6 address in CIDR form.',
      resolve: (e) =>
        e.settings.GlobalIPv6Address
          ? `${e.settings.GlobalIPv6Address}/${e.settings.GlobalIPv6PrefixLen ?? 128}`
          : null,
    }),
    macAddress: t.string({
      nullable: true,
      description: 'MAC address.',
      resolve: (e) => e.settings.MacAddress || null,
    }),
  }),
});

NetworkRef.implement({
  description: 'A Docker network.',
  fields: (t) => ({
    dockerId: t.string({
      description: "The engine's id: 64 hexadecimal digits.",
      resolve: ({ network }) => network.Id,
    }),
    shortId: t.string({
      description: 'The first 12 digits of the id.',
      resolve: ({ network }) => shortenId(network.Id),
    }),
    name: t.string({ description: 'Its name.', resolve: ({ network }) => network.Name }),
    driver: t.string({
      description: 'Network driver, e.g. "bridge", "host", "overlay".',
      resolve: ({ network }) => network.Driver,
    }),
    scope: t.string({
      description: 'Where it is visible: "local", "swarm" or "global".',
      resolve: ({ network }) => network.Scope,
    }),
    created: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it was created.',
      resolve: ({ network }) => parseEngineTime(network.Created),
    }),
    internal: t.boolean({
      description: 'Whether it is cut off from outside networks.',
      resolve: ({ network }) => network.Internal,
    }),
    attachable: t.boolean({
      description: 'Whether standalone containers may join (swarm networks).',
      resolve: ({ network }) => network.Attachable,
    }),
    ingress: t.boolean({
      description: 'Whether it is the swarm routing-mesh network.',
      resolve: ({ network }) => network.Ingress,
    }),
    enableIpv6: t.boolean({
      description: 'Whether IPv6 is on.',
      resolve: ({ network }) => network.EnableIPv6,
    }),
    ipam: t.field({
      type: IpamRef,
      description: 'Address management.',
      resolve: ({ network }) => network.IPAM,
    }),
    ...labelFields(t, ({ network }) => network.Labels),
    options: t.field({
      type: [OptionRef],
      description: 'Driver options.',
      resolve: ({ network }) => toKeyValues(network.Options),
    }),
    containers: t.field({
      type: [NetworkEndpointRef],
      description: 'Containers attached to it, with their endpoints, newest first.',
      resolve: async ({ engine, network }, _args, context) => {
        const containers = await context.loaders.containers.all();
        return containers.flatMap((container) =>
          Object.values(container.NetworkSettings?.Networks ?? {})
            .filter((settings) => settings.NetworkID === network.Id)
            .map((settings) => ({ container, engine, settings })),
        );
      },
    }),
  }),
});

const NetworkScopeEnum = builder.enumType('NetworkScope', {
  description: 'Where a network is visible.',
  values: {
    LOCAL: { value: 'local', description: 'On this engine only.' },
    SWARM: { value: 'swarm', description: 'Across the swarm.' },
    GLOBAL: { value: 'global', description: 'On every engine of the cluster.' },
  } as const,
});

const NetworkTypeEnum = builder.enumType('NetworkType', {
  description: 'Who made a network.',
  values: {
    CUSTOM: { value: 'custom', description: 'Created by a user.' },
    BUILTIN: { value: 'builtin', description: 'Made by the engine (bridge, host, none).' },
  } as const,
});

const NetworkFilterInput = builder.inputType('NetworkFilter', {
  description: 'Which networks to list. Conditions of different fields must all hold.',
  fields: (t) => ({
    ids: t.stringList({ required: false, description: 'Ids or id prefixes.' }),
    names: t.stringList({ required: false, description: 'Parts of the name.' }),
    drivers: t.stringList({ required: false, description: 'Network drivers.' }),
    labels: labelFilterField(t),
    scopes: t.field({ type: [NetworkScopeEnum], required: false, description: 'Scopes.' }),
    types: t.field({
      type: [NetworkTypeEnum],
      required: false,
      description: 'User-made or built in.',
    }),
    dangling: t.boolean({ required: false, description: 'true: only networks no container uses.' }),
  }),
});

/** Networks the engine makes itself; like the engine, never counted as dangling. */
const builtinNetworkNames = new Set(['bridge', 'host', 'none']);

function toNetworkFilters(
  filter: typeof NetworkFilterInput.$inferInput | null | undefined,
): NetworkFilters {
  return toLabelFilter(filter);
}

/** How `network(…)` names its object: from the label-scope table. */
const NETWORK_LOOKUP = lookupOf('network');

builder.queryFields((t) => ({
  networks: t.connection(
    {
      type: NetworkRef,
      description:
        'Networks of every engine asked, sorted by name, then by engine name, then by id.',
      args: {
        ...enginesArgs,
        filter: t.arg({
          type: NetworkFilterInput,
          required: false,
          description: 'Which networks to list.',
        }),
      },
      resolve: async (_root, args, context, info) => {
        // The engine's own `dangling` filter (20.10) counts no network as used, because it
        // runs before attached containers are looked up: apply it here instead.
        const { dangling, ...filters } = toNetworkFilters(args.filter);
        const networks = await listAcrossEngines(context, info, args.engines, async (bound) => {
          let found = await bound.loaders.networks.list(filters);
          if (dangling !== undefined) {
            const used = new Set(
              (await bound.loaders.containers.all()).flatMap((container) =>
                Object.values(container.NetworkSettings?.Networks ?? {}).map((s) => s.NetworkID),
              ),
            );
            found = found.filter(
              (network) =>
                (builtinNetworkNames.has(network.Name) || used.has(network.Id)) !== dangling,
            );
          }
          return found.map((network) => ({ engine: bound.engineName, network }));
        });
        return paginate(
          networks,
          args,
          ({ engine, network }) => `${network.Name}\u0000${engine}\u0000${network.Id}`,
        );
      },
    },
    { name: 'NetworkConnection', description: 'A page of networks.' },
    { name: 'NetworkEdge', description: 'A network and its cursor.' },
  ),
  network: t.field({
    type: NetworkRef,
    nullable: true,
    description: 'One network by id, unique id prefix, name or global ID; null when there is none.',
    args: {
      ...engineArgs,
      idOrName: t.arg.string({
        required: true,
        description:
          'Id, unique id prefix, name, or global ID (the `id` of a Network, which also names its engine).',
      }),
    },
    resolve: async (_root, { idOrName }, context) => {
      const key = lookupKeyOf(() => context.engineName, NETWORK_LOOKUP, idOrName);
      // Through the loader: a network the principal may not see is answered as missing.
      const network = await context.loaders.networks.inspect.load(key);
      return network ? { engine: context.engineName, network } : null;
    },
  }),
}));

// ---------------------------------------------------------------------------
// Mutations

const IpamPoolInput = builder.inputType('NetworkIpamPoolInput', {
  description: 'An address pool of a network to create.',
  fields: (t) => ({
    subnet: t.string({
      required: true,
      description: 'Subnet in CIDR form, IPv4 or IPv6, e.g. "172.20.0.0/16" or "fd00:20::/64".',
    }),
    ipRange: t.string({
      required: false,
      description:
        'Part of the subnet, in CIDR form, that containers get addresses from; the whole subnet when omitted.',
    }),
    gateway: t.string({
      required: false,
      description: 'Gateway address inside the subnet; the IPAM driver picks one when omitted.',
    }),
    auxiliaryAddresses: t.field({
      type: [KeyValueInput],
      required: false,
      description:
        'Addresses of the subnet the driver must not hand out, by host name (`name` = host, `value` = address).',
    }),
  }),
});

const IpamInput = builder.inputType('NetworkIpamInput', {
  description: 'IP address management of a network to create.',
  fields: (t) => ({
    driver: t.string({
      required: false,
      defaultValue: 'default',
      description: 'IPAM driver; "default" when omitted.',
    }),
    config: t.field({
      type: [IpamPoolInput],
      required: false,
      description: 'Address pools; the engine picks a free IPv4 subnet when none is given.',
    }),
    options: t.field({
      type: [KeyValueInput],
      required: false,
      description: 'IPAM driver options.',
    }),
  }),
});

const CreateNetworkInput = builder.inputType('CreateNetworkInput', {
  description: 'A network to create (`docker network create`).',
  fields: (t) => ({
    name: t.string({
      required: true,
      description: 'Its name: letters, digits, "_", "." and "-", starting with a letter or digit.',
    }),
    driver: t.string({
      required: false,
      defaultValue: 'bridge',
      description: 'Network driver, e.g. "bridge", "macvlan"; "bridge" when omitted.',
    }),
    internal: t.boolean({
      required: false,
      defaultValue: false,
      description: 'Cut it off from outside networks: no gateway to the host or beyond.',
    }),
    attachable: t.boolean({
      required: false,
      defaultValue: false,
      description: 'Let standalone containers join (for swarm-scoped networks).',
    }),
    enableIpv6: t.boolean({
      required: false,
      defaultValue: false,
      description:
        'Turn IPv6 on; required for IPv6 subnets. Without an IPv6 subnet the engine needs a default IPv6 pool.',
    }),
    ipam: t.field({
      type: IpamInput,
      required: false,
      description: 'Address management: subnets, ranges, gateways.',
    }),
    labels: t.field({ type: [KeyValueInput], required: false, description: 'Labels to set.' }),
    options: t.field({
      type: [KeyValueInput],
      required: false,
      description: 'Driver options, e.g. com.docker.network.bridge.name=br-test for "bridge".',
    }),
    checkDuplicate: t.boolean({
      required: false,
      defaultValue: true,
      description:
        'Refuse a name in use (a conflict). When false the engine creates a second network of that name and warns.',
    }),
  }),
});

/**
 * The engine's network and container a connect or disconnect names (for a
 * principal limited to labels, the label-scope plugin has checked both visible
 * and passes their full ids).
 */
function connectionOf(
  context: GraphQLContext,
  args: { readonly network: string; readonly container: string },
): { network: string; container: string } {
  return {
    network: engineReferenceOf(context.engineName, 'Network', 'network', args.network),
    container: engineReferenceOf(context.engineName, 'Container', 'container', args.container),
  };
}

interface ConnectionShape {
  readonly network: NetworkRecord;
  readonly container: ContainerRecord;
}

/** Reads a network and a container back after a connect or disconnect. */
async function readConnection(
  context: GraphQLContext,
  network: string,
  container: string,
): Promise<ConnectionShape> {
  const [networkInspect, containerInspect] = await Promise.all([
    inspectNetwork(context.docker, network),
    inspectContainer(context.docker, container),
  ]);
  if (!networkInspect) {
    throw new EngineNotFoundError('NOT_FOUND', `network "${network}" no longer exists`, 404);
  }
  if (!containerInspect) {
    throw new EngineNotFoundError('NOT_FOUND', `container "${container}" no longer exists`, 404);
  }
  return {
    network: { engine: context.engineName, network: networkInspect },
    container: {
      engine: context.engineName,
      id: containerInspect.Id,
      summary: null,
      inspect: containerInspect,
    },
  };
}

/**
 * Names the address argument the engine refused: it reports an address outside
 * the network's subnets, or a fixed address on a network without configured
 * subnets, without saying which input it was.
 */
function nameRefusedAddress(
  error: unknown,
  addresses: {
    readonly ipv4Address?: string | null | undefined;
    readonly ipv6Address?: string | null | undefined;
  },
): unknown {
  if (!(error instanceof InvalidInputError) || error.field !== null) return error;
  const { ipv4Address, ipv6Address } = addresses;
  const mentioned =
    ipv4Address && error.message.includes(ipv4Address)
      ? 'ipv4Address'
      : ipv6Address && error.message.includes(ipv6Address)
        ? 'ipv6Address'
        : null;
  const field =
    mentioned ??
    (/IP address/i.test(error.message)
      ? ipv4Address
        ? 'ipv4Address'
        : ipv6Address
          ? 'ipv6Address'
          : null
      : null);
  return field === null ? error : new InvalidInputError(field, error.message, { cause: error });
}

const NetworkPayloadRef = builder
  .objectRef<NetworkRecord & { readonly warning: string | null }>('NetworkPayload')
  .implement({
    description: 'A network, read back after the change.',
    fields: (t) => ({
      network: t.field({
        type: NetworkRef,
        description: 'The network.',
        resolve: ({ engine, network }) => ({ engine, network }),
      }),
      warning: t.string({
        nullable: true,
        description:
          'What the engine warned about, e.g. another network of the same name (with `checkDuplicate: false`); null when nothing.',
        resolve: (payload) => payload.warning,
      }),
    }),
  });

const NetworkConnectionPayloadRef = builder
  .objectRef<ConnectionShape>('NetworkConnectionPayload')
  .implement({
    description: 'A network and a container, both read back after connecting or disconnecting.',
    fields: (t) => ({
      network: t.field({
        type: NetworkRef,
        description: 'The network, with the containers now attached.',
        resolve: (payload) => payload.network,
      }),
      container: t.field({
        type: ContainerRef,
        description: 'The container, with the networks it is now attached to.',
        resolve: (payload) => payload.container,
      }),
    }),
  });

const RemoveNetworkPayloadRef = builder
  .objectRef<{ readonly engine: string; readonly id: string; readonly name: string }>(
    'RemoveNetworkPayload',
  )
  .implement({
    description: 'A removed network.',
    fields: (t) => ({
      id: t.id({
        description: 'Global ID the network had, to drop it from client caches.',
        resolve: ({ engine, id }) => encodeNodeId('Network', toNodeKey(engine, id)),
      }),
      dockerId: t.exposeString('id', { description: "The engine's id of the removed network." }),
      name: t.exposeString('name', { description: 'Name of the removed network.' }),
    }),
  });

const PruneNetworksPayloadRef = builder
  .objectRef<{ readonly deleted: string[] }>('PruneNetworksPayload')
  .implement({
    description: 'What a network prune removed.',
    fields: (t) => ({
      networksDeleted: t.exposeStringList('deleted', {
        description: 'Names of the networks removed.',
      }),
    }),
  });

const networkArgumentDescription = 'The network: global ID, engine id, unique id prefix or name.';
const containerArgumentDescription =
  'The container: global ID, engine id, unique id prefix or name.';

builder.mutationFields((t) => ({
  createNetwork: t.field({
    type: NetworkPayloadRef,
    description:
      'Creates a network (`docker network create`). A name in use or a subnet overlapping another network is a conflict.',
    errors: {
      types: [...mutationErrors],
      union: { description: 'The created network, or why it was not created.' },
    },
    args: {
      input: t.arg({ type: CreateNetworkInput, required: true, description: 'The network.' }),
    },
    resolve: async (_root, { input }, context) => {
      const spec = toNetworkSpec(input);
      // A token limited to labels gives them to what it creates.
      const labels = labelsForCreate(context, 'input.labels', spec.labels);
      const created = await createNetwork(context.docker, {
        ...spec,
        ...(labels ? { labels } : {}),
      }).catch((error: unknown) => {
        throw concealNameClash(context, error, 'network', input.name);
      });
      const network = await inspectNetwork(context.docker, created.id);
      if (!network) {
        throw new EngineNotFoundError(
          'NOT_FOUND',
          `network "${input.name}" was removed right after it was created`,
          404,
        );
      }
      return { engine: context.engineName, network, warning: created.warning };
    },
  }),
  connectContainerToNetwork: t.field({
    type: NetworkConnectionPayloadRef,
    description:
      'Connects a container to a network (`docker network connect`). A container connected already, or a fixed address in use, is a conflict.',
    errors: {
      types: [...mutationErrors],
      union: {
        description: 'The network and container after connecting, or why they were not connected.',
      },
    },
    args: {
      network: t.arg.string({ required: true, description: networkArgumentDescription }),
      container: t.arg.string({ required: true, description: containerArgumentDescription }),
      aliases: t.arg.stringList({
        required: false,
        description: 'DNS names the container gets on this network besides its name.',
      }),
      ipv4Address: t.arg.string({
        required: false,
        description:
          'Fixed IPv4 address, e.g. "172.20.0.10"; only on networks created with a subnet.',
      }),
      ipv6Address: t.arg.string({
        required: false,
        description: 'Fixed IPv6 address; only on networks created with an IPv6 subnet.',
      }),
    },
    resolve: async (_root, args, context) => {
      const { network, container } = connectionOf(context, args);
      args.aliases?.forEach((alias, index) => {
        if (!/^\S+$/.test(alias)) {
          throw new InvalidInputError(
            `aliases[${index}]`,
            `"${alias}" is not a DNS name: it must be non-empty without spaces`,
          );
        }
      });
      if (
        args.ipv4Address !== null &&
        args.ipv4Address !== undefined &&
        !isIPv4(args.ipv4Address)
      ) {
        throw new InvalidInputError('ipv4Address', `"${args.ipv4Address}" is not an IPv4 address`);
      }
      if (
        args.ipv6Address !== null &&
        args.ipv6Address !== undefined &&
        ipFamily(args.ipv6Address) !== 'ipv6'
      ) {
        throw new InvalidInputError('ipv6Address', `"${args.ipv6Address}" is not an IPv6 address`);
      }
      try {
        await connectContainerToNetwork(
          context.docker,
          network,
          container,
          givenFields({
            aliases: args.aliases,
            ipv4Address: args.ipv4Address,
            ipv6Address: args.ipv6Address,
          }),
        );
      } catch (error) {
        throw nameRefusedAddress(error, args);
      }
      return readConnection(context, network, container);
    },
  }),
  disconnectContainerFromNetwork: t.field({
    type: NetworkConnectionPayloadRef,
    description:
      'Disconnects a container from a network (`docker network disconnect`). A container that is not connected is a conflict.',
    errors: {
      types: [...mutationErrors],
      union: {
        description:
          'The network and container after disconnecting, or why they were not disconnected.',
      },
    },
    args: {
      network: t.arg.string({ required: true, description: networkArgumentDescription }),
      container: t.arg.string({ required: true, description: containerArgumentDescription }),
      force: t.arg.boolean({
        required: false,
        defaultValue: false,
        description: 'Disconnect it even when the network driver cannot be reached.',
      }),
    },
    resolve: async (_root, args, context) => {
      const { network, container } = connectionOf(context, args);
      await disconnectContainerFromNetwork(context.docker, network, container, args.force ?? false);
      return readConnection(context, network, container);
    },
  }),
  removeNetwork: t.field({
    type: RemoveNetworkPayloadRef,
    description:
      'Removes a network (`docker network rm`). A network with containers attached is a conflict; the builtin networks (bridge, host, none) cannot be removed: the engine forbids it (EngineFailureError, code FORBIDDEN).',
    errors: {
      types: [...mutationErrors],
      union: { description: 'The removed network, or why it was not removed.' },
    },
    args: {
      id: t.arg.string({ required: true, description: networkArgumentDescription }),
    },
    resolve: async (_root, args, context) => {
      const reference = engineReferenceOf(context.engineName, 'Network', 'id', args.id);
      // Inspect first: the payload reports the name, and removing by full id cannot hit a
      // network of the same name created meanwhile.
      // Through the loader: a network the principal may not see is answered as missing.
      const network = await context.loaders.networks.inspect.load(reference);
      if (!network) {
        throw new EngineNotFoundError(
          'NOT_FOUND',
          `remove network "${reference}": no such network`,
          404,
        );
      }
      await removeNetwork(context.docker, network.Id);
      return { engine: context.engineName, id: network.Id, name: network.Name };
    },
  }),
  pruneNetworks: t.field({
    type: PruneNetworksPayloadRef,
    description:
      'Removes the networks no container uses (`docker network prune`); the builtin ones stay. Without `labels` every unused network goes.',
    errors: {
      types: [...mutationErrors],
      union: { description: 'What the prune removed, or why it failed.' },
    },
    args: {
      labels: t.arg.stringList({
        required: false,
        description: 'Only networks with all these labels (`key` or `key=value`).',
      }),
      until: t.arg({
        type: 'DateTime',
        required: false,
        description: 'Only networks created before this time.',
      }),
    },
    resolve: async (_root, { labels, until }, context) => {
      const scopedLabels = pruneLabelFilters(context, 'labels', labels);
      const deleted = await pruneNetworks(
        context.docker,
        givenFields({ labels: scopedLabels, until }),
      );
      return { deleted };
    },
  }),
}));
