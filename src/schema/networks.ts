import type { EngineContainerSummary, EngineEndpointSettings } from '../docker/containers.ts';
import { inspectNetwork, type NetworkFilters } from '../docker/networks.ts';
import { builder } from './builder.ts';
import { invalidArgument } from './errors.ts';
import { paginate } from './pagination.ts';
import { ContainerRef, type NetworkRecord, NetworkRef, toContainerRecord } from './refs.ts';
import {
  checkLabelFilters,
  givenFields,
  LabelRef,
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
    labels: t.field({
      type: [LabelRef],
      description: 'Labels, sorted by name.',
      resolve: ({ network }) => toKeyValues(network.Labels),
    }),
    label: t.string({
      nullable: true,
      description: 'The value of one label; null when it is not set.',
      args: { name: t.arg.string({ required: true, description: 'Label key.' }) },
      resolve: ({ network: { Labels } }, { name }) =>
        Labels && Object.hasOwn(Labels, name) ? (Labels[name] ?? null) : null,
    }),
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
    labels: t.stringList({
      required: false,
      description: 'Labels as `key` or `key=value`; all must match.',
    }),
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
  if (!filter) return {};
  const given = givenFields(filter);
  checkLabelFilters('filter.labels', given.labels);
  return given;
}

builder.queryFields((t) => ({
  networks: t.connection(
    {
      type: NetworkRef,
      description: 'Networks, sorted by name.',
      args: {
        filter: t.arg({
          type: NetworkFilterInput,
          required: false,
          description: 'Which networks to list.',
        }),
      },
      resolve: async (_root, args, context) => {
        // The engine's own `dangling` filter (20.10) counts no network as used, because it
        // runs before attached containers are looked up: apply it here instead.
        const { dangling, ...filters } = toNetworkFilters(args.filter);
        let networks = await context.loaders.networks.list(filters);
        if (dangling !== undefined) {
          const used = new Set(
            (await context.loaders.containers.all()).flatMap((container) =>
              Object.values(container.NetworkSettings?.Networks ?? {}).map((s) => s.NetworkID),
            ),
          );
          networks = networks.filter(
            (network) =>
              (builtinNetworkNames.has(network.Name) || used.has(network.Id)) !== dangling,
          );
        }
        return paginate(
          networks.map((network) => ({ engine: context.engineName, network })),
          args,
          ({ network }) => `${network.Name}\u0000${network.Id}`,
        );
      },
    },
    { name: 'NetworkConnection', description: 'A page of networks.' },
    { name: 'NetworkEdge', description: 'A network and its cursor.' },
  ),
  network: t.field({
    type: NetworkRef,
    nullable: true,
    description: 'One network by id, unique id prefix or name; null when there is none.',
    args: {
      idOrName: t.arg.string({ required: true, description: 'Id, unique id prefix, or name.' }),
    },
    resolve: async (_root, { idOrName }, context) => {
      if (idOrName.trim() === '' || idOrName.includes('/')) {
        throw invalidArgument('idOrName', `"${idOrName}" is not a network id or name`);
      }
      const network = await inspectNetwork(context.docker, idOrName);
      return network ? { engine: context.engineName, network } : null;
    },
  }),
}));
