import type { DockerClient } from './client.ts';
import { isPodman } from './engine-kind.ts';
import {
  EngineConflictError,
  EngineError,
  EngineNotFoundError,
  InvalidInputError,
} from './errors.ts';
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

/** The networks every Docker engine has from the start; Podman lists its default one as "bridge". */
const BUILTIN_NETWORK_NAMES: ReadonlySet<string> = new Set(['bridge', 'host', 'none']);

/**
 * Whether `network` passes the `type` and `scope` filters, as Docker applies them: builtin
 * networks are the predefined ones (bridge, host, none), custom the others.
 */
function matchesTypeAndScope(network: EngineNetwork, filters: NetworkFilters): boolean {
  const type = BUILTIN_NETWORK_NAMES.has(network.Name) ? 'builtin' : 'custom';
  if (filters.types && !filters.types.includes(type)) return false;
  if (filters.scopes && !filters.scopes.some((scope) => scope === network.Scope)) return false;
  return true;
}

/** `GET /networks`: every network matching the filters, without attached containers. */
export async function listNetworks(
  client: DockerClient,
  options: { filters?: NetworkFilters } = {},
): Promise<EngineNetwork[]> {
  const { filters } = options;
  // Podman's network list refuses the `type` and `scope` filters (HTTP 500, "invalid
  // filter"): they are applied here to what it lists with the others.
  const local = filters && (filters.types || filters.scopes) && (await isPodman(client));
  let sent = filters;
  if (local) {
    const { types: _types, scopes: _scopes, ...others } = filters;
    sent = others;
  }
  const networks = await client.json<EngineNetwork[]>(
    { path: '/networks', query: { filters: encodeFilters(toEngineFilters(sent)) } },
    'list networks',
  );
  return local ? networks.filter((network) => matchesTypeAndScope(network, filters)) : networks;
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

// ---------------------------------------------------------------------------
// Writes

/** One address pool of a network to create. */
export interface IpamPoolSpec {
  readonly subnet?: string;
  readonly ipRange?: string;
  readonly gateway?: string;
  /** Addresses the IPAM driver must not hand out, by host name. */
  readonly auxiliaryAddresses?: Readonly<Record<string, string>>;
}

/** What `POST /networks/create` takes. */
export interface NetworkSpec {
  readonly name: string;
  readonly driver?: string;
  readonly internal?: boolean;
  readonly attachable?: boolean;
  readonly enableIpv6?: boolean;
  readonly ipam?: {
    readonly driver?: string;
    readonly config?: readonly IpamPoolSpec[];
    readonly options?: Readonly<Record<string, string>>;
  };
  readonly labels?: Readonly<Record<string, string>>;
  /** Driver options. */
  readonly options?: Readonly<Record<string, string>>;
  /** Refuse a name in use (409); without it the engine creates a second network of that name. */
  readonly checkDuplicate: boolean;
}

/** What the engine answers a created network with. */
export interface CreatedNetwork {
  readonly id: string;
  /** E.g. that the name is in use already (with `checkDuplicate` off); `null` when none. */
  readonly warning: string | null;
}

/**
 * libnetwork reports clashes with existing state as "forbidden" (403) or, for
 * exhausted default pools, "not found" (404), which the status alone would type
 * as engine failures or missing objects: these answers become conflicts.
 */
function reclassifyConflicts(
  error: unknown,
  rules: readonly { readonly status: number; readonly message: RegExp }[],
): unknown {
  if (!(error instanceof EngineError)) return error;
  const matches = rules.some(
    (rule) => rule.status === error.status && rule.message.test(error.message),
  );
  return matches
    ? new EngineConflictError('CONFLICT', error.message, error.status, { cause: error })
    : error;
}

/**
 * `POST /networks/create`. A name in use (with `checkDuplicate`), a subnet that
 * overlaps another network's, or no free default pool are conflicts.
 */
export async function createNetwork(
  client: DockerClient,
  spec: NetworkSpec,
): Promise<CreatedNetwork> {
  const body = {
    Name: spec.name,
    CheckDuplicate: spec.checkDuplicate,
    Driver: spec.driver,
    Internal: spec.internal,
    Attachable: spec.attachable,
    EnableIPv6: spec.enableIpv6,
    IPAM: spec.ipam && {
      Driver: spec.ipam.driver,
      Config: spec.ipam.config?.map((pool) => ({
        Subnet: pool.subnet,
        IPRange: pool.ipRange,
        Gateway: pool.gateway,
        AuxiliaryAddresses: pool.auxiliaryAddresses,
      })),
      Options: spec.ipam.options,
    },
    Options: spec.options,
    Labels: spec.labels,
  };
  try {
    const created = await client.json<{ Id: string; Warning?: string }>(
      {
        method: 'POST',
        path: '/networks/create',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      },
      `create network "${spec.name}"`,
    );
    return { id: created.Id, warning: created.Warning || null };
  } catch (error) {
    throw reclassifyConflicts(error, [
      { status: 403, message: /Pool overlaps/i },
      { status: 404, message: /could not find an available, non-overlapping/i },
    ]);
  }
}

/** How a container joins a network. */
export interface EndpointSpec {
  /** DNS names of the container on this network, besides its name. */
  readonly aliases?: readonly string[];
  /** Fixed addresses; the network must have a subnet configured by its creator. */
  readonly ipv4Address?: string;
  readonly ipv6Address?: string;
}

/**
 * `POST /networks/{id}/connect`. A container connected already, or an address
 * in use, is a conflict; an address outside the network's subnets is invalid input.
 */
export async function connectContainerToNetwork(
  client: DockerClient,
  network: string,
  container: string,
  endpoint: EndpointSpec = {},
): Promise<void> {
  const ipamConfig =
    endpoint.ipv4Address || endpoint.ipv6Address
      ? { IPv4Address: endpoint.ipv4Address, IPv6Address: endpoint.ipv6Address }
      : undefined;
  const what = `connect container "${container}" to network "${network}"`;
  try {
    const response = await client.request(
      {
        method: 'POST',
        path: `/networks/${encodePathSegment(network)}/connect`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          Container: container,
          EndpointConfig: { Aliases: endpoint.aliases, IPAMConfig: ipamConfig },
        }),
      },
      what,
    );
    await response.body.dump();
  } catch (error) {
    // The engine reports a fixed address outside every subnet as a 500.
    if (
      error instanceof EngineError &&
      error.status === 500 &&
      /does not belong to any of this network's subnets/i.test(error.message)
    ) {
      throw new InvalidInputError(null, error.message, { cause: error });
    }
    throw reclassifyConflicts(error, [
      { status: 403, message: /already exists in network/i },
      { status: 403, message: /address already in use/i },
    ]);
  }
}

/**
 * `POST /networks/{id}/disconnect`. A container that is not connected is a conflict.
 * `force` disconnects it even from a network whose driver is unreachable.
 */
export async function disconnectContainerFromNetwork(
  client: DockerClient,
  network: string,
  container: string,
  force: boolean,
): Promise<void> {
  const what = `disconnect container "${container}" from network "${network}"`;
  try {
    const response = await client.request(
      {
        method: 'POST',
        path: `/networks/${encodePathSegment(network)}/disconnect`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ Container: container, Force: force }),
      },
      what,
    );
    await response.body.dump();
  } catch (error) {
    if (
      !(error instanceof EngineError) ||
      error.status !== 500 ||
      !/is not connected to (the )?network/i.test(error.message)
    ) {
      throw error;
    }
    // The engine (20.10) answers "not connected" for a network that does not exist either.
    if ((await inspectNetwork(client, network)) === null) {
      throw new EngineNotFoundError('NOT_FOUND', `${what}: network "${network}" not found`, 404, {
        cause: error,
      });
    }
    throw new EngineConflictError('CONFLICT', error.message, error.status, { cause: error });
  }
}

/**
 * `DELETE /networks/{id}`. A network with containers attached is a conflict; the
 * builtin networks (bridge, host, none) stay a forbidden engine failure.
 */
export async function removeNetwork(client: DockerClient, id: string): Promise<void> {
  const what = `remove network "${id}"`;
  try {
    // Podman checks for attached containers only when the network is named by its name: by
    // id it removes a network that running containers use. Send it the name.
    const target = (await isPodman(client)) ? await podmanNetworkName(client, id, what) : id;
    const response = await client.request(
      { method: 'DELETE', path: `/networks/${encodePathSegment(target)}` },
      what,
    );
    await response.body.dump();
  } catch (error) {
    throw reclassifyConflicts(error, [{ status: 403, message: /has active endpoints/i }]);
  }
}

/** The name of the network `idOrName` names, for Podman; its 404 when there is none. */
async function podmanNetworkName(
  client: DockerClient,
  idOrName: string,
  what: string,
): Promise<string> {
  const network = await inspectNetwork(client, idOrName);
  if (!network) throw new EngineNotFoundError('NOT_FOUND', `${what}: no such network`, 404);
  return network.Name;
}

/** Which unused networks a prune removes. */
export interface NetworkPruneFilters {
  /** `key` or `key=value`; all must match. */
  readonly labels?: readonly string[];
  /** Only networks created before this time. */
  readonly until?: Date;
}

/** `POST /networks/prune`: removes the networks no container uses; returns their names. */
export async function pruneNetworks(
  client: DockerClient,
  filters: NetworkPruneFilters = {},
): Promise<string[]> {
  const answer = await client.json<{ NetworksDeleted: string[] | null }>(
    {
      method: 'POST',
      path: '/networks/prune',
      query: {
        filters: encodeFilters({
          label: filters.labels,
          until: filters.until && [filters.until.toISOString()],
        }),
      },
      timeoutMs: 300_000,
    },
    'prune networks',
  );
  return answer.NetworksDeleted ?? [];
}
