import type { DockerClient, EngineCall } from './client.ts';
import type { EngineContainerCreateBody, EngineContainerUpdateBody } from './container-spec.ts';
import { collectLogLines, type DecodedLogs } from './demux.ts';
import type { definitions } from './engine-api.ts';
import { isPodman, notSupportedByPodman } from './engine-kind.ts';
import {
  type ContainerStateName,
  checkContainerInspectShape,
  checkContainerListShape,
  type HealthStatusName,
} from './engine-shapes.ts';
import {
  EngineConflictError,
  EngineError,
  errorFromTransport,
  InvalidInputError,
} from './errors.ts';
import { type EngineFilters, encodeFilters, encodePathSegment } from './filters.ts';
import { connectContainerToNetwork, inspectNetwork } from './networks.ts';
import { compareApiVersions } from './version.ts';

/** A container's attachment to one network (`EndpointSettings`). */
export interface EngineEndpointSettings
  extends Pick<
    definitions['EndpointSettings'],
    | 'NetworkID'
    | 'EndpointID'
    | 'Gateway'
    | 'IPAddress'
    | 'IPPrefixLen'
    | 'IPv6Gateway'
    | 'GlobalIPv6Address'
    | 'GlobalIPv6PrefixLen'
    | 'MacAddress'
  > {
  Aliases?: string[] | null;
  Links?: string[] | null;
  DNSNames?: string[] | null;
}

/** A mount as the engine reports it on a container (`MountPoint`). */
export interface EngineMountPoint {
  Type?: string;
  Name?: string;
  Source?: string;
  Destination: string;
  Driver?: string;
  Mode?: string;
  RW?: boolean;
  Propagation?: string;
}

/** A published or exposed port in the container list. */
export interface EnginePort {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

/** One entry of `GET /containers/json`. */
export interface EngineContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  /** Unix seconds. */
  Created: number;
  Ports: EnginePort[];
  SizeRw?: number;
  SizeRootFs?: number;
  Labels: Record<string, string> | null;
  State: ContainerStateName;
  Status: string;
  HostConfig?: { NetworkMode?: string };
  NetworkSettings?: { Networks?: Record<string, EngineEndpointSettings> | null };
  Mounts: EngineMountPoint[];
}

/** A healthcheck's state on a running container. */
export interface EngineHealth {
  Status: HealthStatusName;
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[] | null;
}

/** The `Config` of a container or image. */
export interface EngineContainerConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  Tty?: boolean;
  OpenStdin?: boolean;
  ExposedPorts?: Record<string, object> | null;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  Image?: string;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  StopTimeout?: number;
  Volumes?: Record<string, object> | null;
  Healthcheck?: definitions['HealthConfig'];
}

/** A host port a container port is published on. */
export interface EnginePortBinding {
  HostIp?: string;
  HostPort?: string;
}

/** The `HostConfig` of a container. */
export interface EngineHostConfig {
  Binds?: string[] | null;
  NetworkMode?: string;
  PortBindings?: Record<string, EnginePortBinding[] | null> | null;
  RestartPolicy?: { Name?: string; MaximumRetryCount?: number };
  AutoRemove?: boolean;
  Privileged?: boolean;
  PublishAllPorts?: boolean;
  ReadonlyRootfs?: boolean;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  Dns?: string[] | null;
  ExtraHosts?: string[] | null;
  Memory?: number;
  MemoryReservation?: number;
  MemorySwap?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  PidsLimit?: number | null;
  PidMode?: string;
  IpcMode?: string;
  Init?: boolean | null;
  LogConfig?: { Type?: string; Config?: Record<string, string> | null };
  DnsSearch?: string[] | null;
  DnsOptions?: string[] | null;
  VolumesFrom?: string[] | null;
  Devices?: { PathOnHost?: string; PathInContainer?: string; CgroupPermissions?: string }[] | null;
  DeviceCgroupRules?: string[] | null;
  Ulimits?: { Name?: string; Soft?: number; Hard?: number }[] | null;
  SecurityOpt?: string[] | null;
  ShmSize?: number;
  Sysctls?: Record<string, string> | null;
}

/** `GET /containers/{id}/json`. */
export interface EngineContainerInspect {
  Id: string;
  /** RFC 3339. */
  Created: string;
  Path: string;
  Args: string[];
  Name: string;
  Image: string;
  RestartCount: number;
  Driver?: string;
  Platform?: string;
  SizeRw?: number;
  SizeRootFs?: number;
  State: {
    Status: ContainerStateName;
    Running: boolean;
    Paused: boolean;
    Restarting: boolean;
    OOMKilled: boolean;
    Dead: boolean;
    Pid: number;
    ExitCode: number;
    Error: string;
    StartedAt: string;
    FinishedAt: string;
    Health?: EngineHealth;
  };
  Config: EngineContainerConfig;
  HostConfig: EngineHostConfig;
  Mounts: EngineMountPoint[];
  NetworkSettings: {
    Ports?: Record<string, EnginePortBinding[] | null> | null;
    Networks?: Record<string, EngineEndpointSettings> | null;
  };
}

/** `GET /containers/{id}/top`. */
export interface EngineTop {
  Titles: string[];
  Processes: string[][] | null;
}

/** One entry of `GET /containers/{id}/changes`: 0 modified, 1 added, 2 deleted. */
export interface EngineFilesystemChange {
  Path: string;
  Kind: 0 | 1 | 2;
}

/** Typed filters of the container list; each becomes one engine filter. */
export interface ContainerFilters {
  readonly ids?: readonly string[];
  readonly names?: readonly string[];
  readonly states?: readonly ContainerStateName[];
  /** `key` or `key=value`. */
  readonly labels?: readonly string[];
  /** Image name, reference or id the containers were created from (or a descendant of). */
  readonly ancestors?: readonly string[];
  readonly networks?: readonly string[];
  readonly volumes?: readonly string[];
  readonly health?: readonly EngineHealth['Status'][];
  readonly exitCodes?: readonly number[];
  /** Containers created before this one (full id: the schema resolves names first). */
  readonly createdBefore?: string;
  /** Containers created after this one (full id). */
  readonly createdSince?: string;
  /** Exposed ports, "port[/protocol]" or "start-end[/protocol]". */
  readonly exposedPorts?: readonly string[];
  /** Published ports, in the same form. */
  readonly publishedPorts?: readonly string[];
  /** true: only swarm task containers; false: only the others. */
  readonly isTask?: boolean;
}

function toEngineFilters(filters: ContainerFilters | undefined): EngineFilters | undefined {
  if (!filters) return undefined;
  return {
    id: filters.ids,
    name: filters.names,
    status: filters.states,
    label: filters.labels,
    ancestor: filters.ancestors,
    network: filters.networks,
    volume: filters.volumes,
    health: filters.health,
    exited: filters.exitCodes?.map(String),
    before: filters.createdBefore === undefined ? undefined : [filters.createdBefore],
    since: filters.createdSince === undefined ? undefined : [filters.createdSince],
    expose: filters.exposedPorts,
    publish: filters.publishedPorts,
    'is-task': filters.isTask === undefined ? undefined : [String(filters.isTask)],
  };
}

/**
 * `GET /containers/json`: containers, newest first (the engine orders them by
 * creation time to the nanosecond). `size` makes the engine compute sizes
 * (slow). `limit` keeps the first that many of those matching the filters;
 * `before` (a full id) starts the list right after that container, in the
 * engine's order: together they read a list in pages.
 */
export async function listContainers(
  client: DockerClient,
  options: {
    all?: boolean;
    size?: boolean;
    filters?: ContainerFilters;
    limit?: number;
    before?: string;
  } = {},
): Promise<EngineContainerSummary[]> {
  const engineFilters = toEngineFilters(options.filters);
  const answer = await client.json<EngineContainerSummary[]>(
    {
      path: '/containers/json',
      query: {
        all: options.all ?? true,
        size: options.size,
        limit: options.limit,
        filters: encodeFilters(
          options.before === undefined
            ? engineFilters
            : { ...engineFilters, before: [options.before] },
        ),
      },
      ...(options.size ? { timeoutMs: 120_000 } : {}),
    },
    'list containers',
  );
  const containers = checkContainerListShape(answer, 'list containers');
  if (await isPodman(client)) await withPodmanNetworkIds(client, containers);
  return containers;
}

/** A network id as Docker writes it in an endpoint's `NetworkID`. */
const NETWORK_ID = /^[0-9a-f]{64}$/;

/**
 * Podman writes the network's name in an endpoint's `NetworkID` (`"podman"` for its
 * default network), where Docker writes the network's id. Each name is looked up once
 * (`GET /networks/{name}`) and replaced by the id, in place; a network gone meanwhile
 * keeps its name.
 */
async function withPodmanNetworkIds(
  client: DockerClient,
  containers: readonly {
    NetworkSettings?: { Networks?: Record<string, EngineEndpointSettings> | null } | null;
  }[],
): Promise<void> {
  const endpoints = containers.flatMap((container) =>
    Object.values(container.NetworkSettings?.Networks ?? {}),
  );
  const names = new Set(
    endpoints.flatMap((endpoint) =>
      endpoint.NetworkID && !NETWORK_ID.test(endpoint.NetworkID) ? [endpoint.NetworkID] : [],
    ),
  );
  const ids = new Map(
    await Promise.all(
      [...names].map(async (name) => [name, (await inspectNetwork(client, name))?.Id] as const),
    ),
  );
  for (const endpoint of endpoints) {
    const id = endpoint.NetworkID ? ids.get(endpoint.NetworkID) : undefined;
    if (id) endpoint.NetworkID = id;
  }
}

/** `GET /containers/{id}/json`: one container by id, id prefix or name; `null` when missing. */
export async function inspectContainer(
  client: DockerClient,
  idOrName: string,
): Promise<EngineContainerInspect | null> {
  const what = `inspect container "${idOrName}"`;
  const answer = await client.jsonOrNull<EngineContainerInspect>(
    { path: `/containers/${encodePathSegment(idOrName)}/json` },
    what,
  );
  if (answer === null) return null;
  const container = checkContainerInspectShape(answer, what);
  if (await isPodman(client)) await withPodmanNetworkIds(client, [container]);
  return container;
}

/**
 * The columns of `ps -ef` as Podman's descriptors: what Docker shows without `ps_args`.
 * Titles USER PID PPID %CPU STIME TTY TIME COMMAND.
 */
const PODMAN_DEFAULT_DESCRIPTORS = 'user,pid,ppid,pcpu,stime,tty,time,args';

/**
 * Podman's `ps_args`: it reads them as its own format descriptors (`pid,ppid,comm`, read
 * from /proc by Podman), and only when those fail runs `ps` inside the container with
 * them, whose output it cannot split into columns (or, when that `ps` fails, answers 200
 * with an empty body). Docker's `-ef` default and `-eo <columns>` are given as descriptors.
 */
function podmanPsArgs(psArgs: string | undefined): string {
  const args = psArgs?.trim() ?? '';
  if (args === '' || args === '-ef' || args === '-e' || args === 'ef') {
    return PODMAN_DEFAULT_DESCRIPTORS;
  }
  const columns = /^-e?o\s+(\S+)$/.exec(args)?.[1];
  return columns ?? args;
}

/** `GET /containers/{id}/top`: the container's processes (it must be running). */
export async function listContainerProcesses(
  client: DockerClient,
  id: string,
  psArgs: string | undefined,
): Promise<EngineTop> {
  const what = `list processes of container "${id}"`;
  const podman = await isPodman(client);
  const response = await client.request(
    {
      path: `/containers/${encodePathSegment(id)}/top`,
      query: { ps_args: podman ? podmanPsArgs(psArgs) : psArgs },
    },
    what,
  );
  const text = await response.body.text().catch((error: unknown) => {
    throw errorFromTransport(error, what);
  });
  // Podman answers 200 with an empty body when `ps` in the container failed on the arguments.
  if (text.trim() === '') {
    throw new EngineError(
      'ENGINE_ERROR',
      `${what}: the engine answered no process list${psArgs ? ` for ps arguments "${psArgs}"` : ''}`,
      response.status,
    );
  }
  try {
    return JSON.parse(text) as EngineTop;
  } catch (error) {
    throw errorFromTransport(error, what);
  }
}

/** `GET /containers/{id}/changes`: files added, modified or deleted since the container was made. */
export async function listContainerChanges(
  client: DockerClient,
  id: string,
): Promise<EngineFilesystemChange[]> {
  const changes = await client.json<EngineFilesystemChange[] | null>(
    { path: `/containers/${encodePathSegment(id)}/changes` },
    `list filesystem changes of container "${id}"`,
  );
  return changes ?? [];
}

/** Options of `GET /containers/{id}/logs`; times are Unix seconds (fractions allowed). */
export interface LogOptions {
  readonly tail?: number | undefined;
  readonly since?: number | undefined;
  readonly until?: number | undefined;
  readonly timestamps: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
}

/** The query of a logs request (of a container, service or task) for these options; the whole log unless `tail` is given. */
export function toLogQuery(options: Omit<LogOptions, 'until'>) {
  return {
    stdout: options.stdout,
    stderr: options.stderr,
    timestamps: options.timestamps,
    tail: options.tail === undefined ? 'all' : options.tail,
    since: options.since,
  };
}

/** Caps on how much of a log one call reads. */
export interface LogLimits {
  readonly maxLines: number;
  readonly maxBytes: number;
}

/**
 * `GET /containers/{id}/logs` without following, decoded into lines:
 * demultiplexed unless the container has a TTY. Reading stops at the limits,
 * and `truncated` says when more output was left unread.
 */
export async function readContainerLogs(
  client: DockerClient,
  id: string,
  options: LogOptions & { readonly tty: boolean },
  limits: LogLimits,
): Promise<DecodedLogs> {
  const what = `read logs of container "${id}"`;
  const response = await client.request(
    {
      path: `/containers/${encodePathSegment(id)}/logs`,
      query: {
        follow: false,
        ...toLogQuery(options),
        until: options.until,
      },
    },
    what,
  );
  try {
    return await collectLogLines(response.body, {
      tty: options.tty,
      timestamps: options.timestamps,
      maxLines: limits.maxLines,
      maxBytes: limits.maxBytes,
    });
  } catch (error) {
    throw errorFromTransport(error, what);
  } finally {
    // Stopping at a limit leaves the rest of the body unread: drop the connection.
    if (!response.body.readableEnded) response.body.destroy();
  }
}

// ---------------------------------------------------------------------------
// Writes

/** What `POST /containers/create` answers. */
export interface EngineContainerCreated {
  Id: string;
  Warnings: string[] | null;
}

/**
 * `POST /containers/create`: creates a container from `body` (see
 * `toContainerCreateBody`). A name in use is a conflict (409), a missing image
 * not found (404).
 */
export async function createContainer(
  client: DockerClient,
  body: EngineContainerCreateBody,
  name: string | undefined,
): Promise<EngineContainerCreated> {
  const what = `create container${name ? ` "${name}"` : ''} from image "${body.Image}"`;
  const endpoints = Object.entries(body.NetworkingConfig?.EndpointsConfig ?? {});
  const { apiVersion } = await client.connection();
  // Engines before API 1.44 take one network at create ("Container cannot be connected to
  // network endpoints"): as the docker CLI does, the container is created on the first and
  // connected to the others before anything starts it.
  if (endpoints.length <= 1 || compareApiVersions(apiVersion, MULTIPLE_NETWORKS_API) >= 0) {
    return client.json<EngineContainerCreated>(containerCreateCall(body, name), what);
  }
  const [first, ...others] = endpoints;
  const created = await client.json<EngineContainerCreated>(
    containerCreateCall(
      { ...body, NetworkingConfig: { EndpointsConfig: Object.fromEntries(first ? [first] : []) } },
      name,
    ),
    what,
  );
  try {
    for (const [network, endpoint] of others) {
      await connectContainerToNetwork(client, network, created.Id, {
        ...(endpoint.Aliases ? { aliases: endpoint.Aliases } : {}),
        ...(endpoint.IPAMConfig?.IPv4Address
          ? { ipv4Address: endpoint.IPAMConfig.IPv4Address }
          : {}),
        ...(endpoint.IPAMConfig?.IPv6Address
          ? { ipv6Address: endpoint.IPAMConfig.IPv6Address }
          : {}),
      });
    }
  } catch (error) {
    // A container on some of its networks only is not what was asked for: it goes, also when
    // the client went away.
    const note = await removeContainer(client.withSignal(undefined), created.Id, {
      force: true,
      volumes: true,
    }).then(
      () => 'was removed',
      (removal: unknown) =>
        `could not be removed (${removal instanceof Error ? removal.message : String(removal)}): remove it yourself`,
    );
    if (error instanceof Error) {
      error.message = `${error.message}; the container created for it (${created.Id}) ${note}`;
    }
    throw error;
  }
  return created;
}

/** The first API version whose create joins several networks (`NetworkingConfig.EndpointsConfig`). */
const MULTIPLE_NETWORKS_API = '1.44';

/** The `POST /containers/create` call {@link createContainer} sends, for the admission gate to see first. */
export function containerCreateCall(
  body: EngineContainerCreateBody,
  name: string | undefined,
): EngineCall {
  return {
    method: 'POST',
    path: '/containers/create',
    query: { name },
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  };
}

/** Sends a call whose answer is only its status; true unless the engine said 304 (no change). */
async function sendStateChange(client: DockerClient, call: EngineCall, what: string) {
  const response = await client.request({ method: 'POST', ...call }, what);
  await response.body.dump();
  return response.status !== 304;
}

/**
 * A failure to start is the container's, not the request's: the engine answers
 * 400 when its command cannot run, which is no input of the start to correct.
 */
function asStartFailure(error: unknown): unknown {
  return error instanceof InvalidInputError && error.field === null
    ? new EngineError('BAD_REQUEST', error.message, 400, { cause: error })
    : error;
}

/** `POST /containers/{id}/start`: true when it started, false when it already ran (304). */
export async function startContainer(client: DockerClient, id: string): Promise<boolean> {
  try {
    return await sendStateChange(
      client,
      { path: `/containers/${encodePathSegment(id)}/start`, acceptStatus: [304] },
      `start container "${id}"`,
    );
  } catch (error) {
    throw asStartFailure(error);
  }
}

/**
 * How long to wait for the engine to stop a container: it answers once the
 * process exited, up to the grace period and then the SIGKILL it sends.
 */
function stopAnswerTimeoutMs(gracePeriodSeconds: number): number {
  return gracePeriodSeconds * 1000 + 30_000;
}

/**
 * `POST /containers/{id}/stop`: sends the stop signal, then SIGKILL after
 * `timeoutSeconds` (the container's stop timeout when undefined, given as
 * `gracePeriodSeconds`). True when it stopped, false when it was not running (304).
 */
export function stopContainer(
  client: DockerClient,
  id: string,
  timeoutSeconds: number | undefined,
  gracePeriodSeconds: number,
): Promise<boolean> {
  return sendStateChange(
    client,
    {
      path: `/containers/${encodePathSegment(id)}/stop`,
      query: { t: timeoutSeconds },
      acceptStatus: [304],
      timeoutMs: stopAnswerTimeoutMs(timeoutSeconds ?? gracePeriodSeconds),
    },
    `stop container "${id}"`,
  );
}

/**
 * `POST /containers/{id}/restart`: stops it (as {@link stopContainer}) if it
 * runs, then starts it.
 */
export async function restartContainer(
  client: DockerClient,
  id: string,
  timeoutSeconds: number | undefined,
  gracePeriodSeconds: number,
): Promise<void> {
  try {
    await sendStateChange(
      client,
      {
        path: `/containers/${encodePathSegment(id)}/restart`,
        query: { t: timeoutSeconds },
        timeoutMs: stopAnswerTimeoutMs(timeoutSeconds ?? gracePeriodSeconds),
      },
      `restart container "${id}"`,
    );
  } catch (error) {
    throw asStartFailure(error);
  }
}

/** `POST /containers/{id}/kill`: sends a signal; a container that is not running is a conflict (409). */
export async function killContainer(
  client: DockerClient,
  id: string,
  signal: string,
): Promise<void> {
  await sendStateChange(
    client,
    { path: `/containers/${encodePathSegment(id)}/kill`, query: { signal } },
    `kill container "${id}" with ${signal}`,
  );
}

/** `POST /containers/{id}/pause`: freezes its processes; not running or already paused is a conflict (409). */
export async function pauseContainer(client: DockerClient, id: string): Promise<void> {
  await sendStateChange(
    client,
    { path: `/containers/${encodePathSegment(id)}/pause` },
    `pause container "${id}"`,
  );
}

/**
 * `POST /containers/{id}/unpause`: thaws its processes. The engine answers a
 * container that is not paused with a plain 500; that is a state conflict like
 * pausing a paused one (409), and is reported as one.
 */
export async function unpauseContainer(client: DockerClient, id: string): Promise<void> {
  try {
    await sendStateChange(
      client,
      { path: `/containers/${encodePathSegment(id)}/unpause` },
      `unpause container "${id}"`,
    );
  } catch (error) {
    if (
      error instanceof EngineError &&
      error.status === 500 &&
      /is not paused/.test(error.message)
    ) {
      throw new EngineConflictError('CONFLICT', error.message, 409, { cause: error });
    }
    throw error;
  }
}

/** What `POST /containers/{id}/wait` waits for. */
export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

/** What `POST /containers/{id}/wait` answers once the condition is met. */
export interface EngineWaitResult {
  StatusCode: number;
  Error?: { Message?: string } | null;
}

/**
 * `POST /containers/{id}/wait`: blocks until the condition is met. The engine
 * answers headers as soon as it watches the container and the body when the
 * condition is met, which may take any time: the body has no time limit, and
 * only the caller's abort signal (a client going away) ends the wait early.
 */
export function waitContainer(
  client: DockerClient,
  id: string,
  condition: WaitCondition,
): Promise<EngineWaitResult> {
  return client.json<EngineWaitResult>(
    {
      method: 'POST',
      path: `/containers/${encodePathSegment(id)}/wait`,
      query: { condition },
      bodyTimeoutMs: 0,
    },
    `wait for container "${id}"`,
  );
}

/** `POST /containers/{id}/rename`: a name in use is a conflict (409). */
export async function renameContainer(
  client: DockerClient,
  id: string,
  name: string,
): Promise<void> {
  await sendStateChange(
    client,
    { path: `/containers/${encodePathSegment(id)}/rename`, query: { name } },
    `rename container "${id}" to "${name}"`,
  );
}

/** `POST /containers/{id}/update`: changes resource limits and restart policy; answers warnings. */
export async function updateContainer(
  client: DockerClient,
  id: string,
  body: EngineContainerUpdateBody,
): Promise<string[]> {
  // Podman 4.3's Docker-compatible API has no `/containers/{id}/update` route (it answers
  // 404 as for a missing container), and its own update cannot change a restart policy.
  if (await isPodman(client)) {
    throw notSupportedByPodman(
      `update container "${id}"`,
      'its Docker-compatible API has no container update',
    );
  }
  const answer = await client.json<{ Warnings?: string[] | null }>(
    {
      method: 'POST',
      path: `/containers/${encodePathSegment(id)}/update`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    },
    `update container "${id}"`,
  );
  return answer.Warnings ?? [];
}

/**
 * `DELETE /containers/{id}`: removes a container; a running one is a conflict
 * (409) unless `force` kills it first. `volumes` removes its anonymous volumes.
 */
export async function removeContainer(
  client: DockerClient,
  id: string,
  options: { readonly force: boolean; readonly volumes: boolean },
): Promise<void> {
  const response = await client.request(
    {
      method: 'DELETE',
      path: `/containers/${encodePathSegment(id)}`,
      query: { force: options.force, v: options.volumes },
      // Forcing kills a running container first, and the engine answers after it is gone.
      timeoutMs: 120_000,
    },
    `remove container "${id}"`,
  );
  await response.body.dump();
}

/** What a container prune removed. */
export interface ContainerPruneReport {
  /** Ids of the containers removed. */
  readonly deleted: string[];
  readonly spaceReclaimed: number;
}

/** `POST /containers/prune`: removes stopped containers (with the labels, created before `until`). */
export async function pruneContainers(
  client: DockerClient,
  filters: { readonly labels?: readonly string[]; readonly until?: Date } = {},
): Promise<ContainerPruneReport> {
  const answer = await client.json<{
    ContainersDeleted: string[] | null;
    SpaceReclaimed: number;
  }>(
    {
      method: 'POST',
      path: '/containers/prune',
      query: {
        filters: encodeFilters({
          label: filters.labels,
          // Unix seconds: the engine reads a bare number as a timestamp.
          until: filters.until ? [String(Math.floor(filters.until.getTime() / 1000))] : undefined,
        }),
      },
      timeoutMs: 300_000,
    },
    'prune containers',
  );
  return { deleted: answer.ContainersDeleted ?? [], spaceReclaimed: answer.SpaceReclaimed };
}
