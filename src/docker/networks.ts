import type { DockerClient } from './client.ts';
import { type EngineFilters, encodeFilters, encodePathSegment } from './filters.ts';

/** One IPAM pool of a network. */
export interface EngineIpamConfig {
  Subnet?: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses?: Record<string, string> | null;
}

/** A network as `GET /networks` and `GET /networks/{id}` describe it. */
export interface EngineNetwork {
  Name: string;
  Id: string;
  /** RFC 3339. */
  Created: string;
  Scope: string;
  Driver: string;
  EnableIPv6: boolean;
  IPAM: {
    Driver: string;
    Config: EngineIpamConfig[] | null;
    Options: Record<string, string> | null;
  };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  Options: Record<string, string> | null;
  Labels: Record<string, string> | null;
  /** Only filled by inspect: the list leaves it out. */
  Containers?: Record<
    string,
    {
      Name: string;
      EndpointID: string;
      MacAddress: string;
      IPv4Address: string;
      IPv6Address: string;
    }
  > | null;
}

/** Typed filters of the network list. */
export interface NetworkFilters {
  readonly drivers?: readonly string[];
  readonly ids?: readonly string[];
  /** `key` or `key=value`. */
  readonly labels?: readonly string[];
  /** Substrings of the name. */
  readonly names?: readonly string[];
  readonly scopes?: readonly ('local' | 'swarm' | 'global')[];
  /** `custom` (user-defined) or `builtin`. */
  readonly types?: readonly ('custom' | 'builtin')[];
  /** Networks no container is attached to. */
  readonly dangling?: boolean;
}

function toEngineFilters(filters: NetworkFilters | undefined): EngineFilters | undefined {
  if (!filters) return undefined;
  return {
    driver: filters.drivers,
    id: filters.ids,
    label: filters.labels,
    name: filters.names,
    scope: filters.scopes,
    type: filters.types,
    dangling: filters.dangling === undefined ? undefined : [String(filters.dangling)],
  };
}

/** `GET /networks`: every network matching the filters, without attached containers. */
export function listNetworks(
  client: DockerClient,
  options: { filters?: NetworkFilters } = {},
): Promise<EngineNetwork[]> {
  return client.json<EngineNetwork[]>(
    { path: '/networks', query: { filters: encodeFilters(toEngineFilters(options.filters)) } },
    'list networks',
  );
}

/** `GET /networks/{id}`: one network by id, id prefix or name; `null` when missing. */
export function inspectNetwork(
  client: DockerClient,
  idOrName: string,
): Promise<EngineNetwork | null> {
  return client.jsonOrNull<EngineNetwork>(
    { path: `/networks/${encodePathSegment(idOrName)}` },
    `inspect network "${idOrName}"`,
  );
}
