import { readContainer } from '../accessors/container.ts';
import { NetworkAttachmentRef, NetworkRef } from './refs.ts';

NetworkAttachmentRef.implement({
  description: "A container's endpoint on one network.",
  fields: (t) => ({
    networkName: t.exposeString('networkName', { description: 'Name of the network.' }),
    network: t.field({
      type: NetworkRef,
      nullable: true,
      description: 'The network; null when it no longer exists.',
      resolve: async ({ container, networkName, settings }, _args, context) => {
        // A container that never started has no NetworkID yet: find its network by name.
        const network = settings.NetworkID
          ? await context.loaders.networks.byId.load(settings.NetworkID)
          : ((await context.loaders.networks.all()).find((n) => n.Name === networkName) ?? null);
        return network ? { engine: container.engine, network } : null;
      },
    }),
    endpointId: t.string({
      nullable: true,
      description: 'Id of the endpoint.',
      resolve: ({ settings }) => settings.EndpointID || null,
    }),
    ipAddress: t.string({
      nullable: true,
      description: 'IPv4 address.',
      resolve: ({ settings }) => settings.IPAddress || null,
    }),
    ipPrefixLength: t.int({
      nullable: true,
      description: 'IPv4 prefix length of the subnet.',
      resolve: ({ settings }) => settings.IPPrefixLen || null,
    }),
    gateway: t.string({
      nullable: true,
      description: 'IPv4 gateway.',
      resolve: ({ settings }) => settings.Gateway || null,
    }),
    ipv6Address: t.string({
      nullable: true,
      description: 'Global IPv6 address.',
      resolve: ({ settings }) => settings.GlobalIPv6Address || null,
    }),
    ipv6Gateway: t.string({
      nullable: true,
      description: 'IPv6 gateway.',
      resolve: ({ settings }) => settings.IPv6Gateway || null,
    }),
    macAddress: t.string({
      nullable: true,
      description: 'MAC address.',
      resolve: ({ settings }) => settings.MacAddress || null,
    }),
    aliases: t.stringList({
      description:
        'DNS names of the container on this network besides its name (the engine adds its short id on user networks).',
      resolve: ({ container, networkName, settings, fromInspect }, _args, context) =>
        fromInspect
          ? (settings.Aliases ?? [])
          : readContainer(container, context.loaders).aliases(networkName),
    }),
  }),
});
