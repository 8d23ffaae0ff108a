import { isIP, isIPv4, isIPv6 } from 'node:net';
import { InvalidInputError } from './errors.ts';
import type { Maybe, NameValueSpec } from './spec-input.ts';

/**
 * What `docker run` users configure, checked and turned into the bodies of
 * `POST /containers/create` and `POST /containers/{id}/update`. Every problem
 * is an {@link InvalidInputError} naming the input path (e.g.
 * `input.portBindings[1].hostPort`), raised before any engine call.
 */

/** An optional input: absent and null both mean "not given" (GraphQL gives either). */
export type PortProtocol = 'tcp' | 'udp' | 'sctp';
export type MountKind = 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'cluster';
export type RestartPolicyName = 'no' | 'always' | 'unless-stopped' | 'on-failure';

export interface ExposedPortSpec {
  readonly port: number;
  readonly protocol?: Maybe<PortProtocol>;
}

export interface PortBindingSpec {
  readonly containerPort: number;
  readonly protocol?: Maybe<PortProtocol>;
  readonly hostIp?: Maybe<string>;
  /** Absent: the engine picks a free port. */
  readonly hostPort?: Maybe<number>;
}

export interface MountSpec {
  readonly type: MountKind;
  readonly source?: Maybe<string>;
  readonly target: string;
  readonly readOnly?: Maybe<boolean>;
  readonly volumeNoCopy?: Maybe<boolean>;
  readonly volumeLabels?: Maybe<readonly NameValueSpec[]>;
  readonly tmpfsSizeBytes?: Maybe<number>;
  readonly tmpfsMode?: Maybe<number>;
}

export interface NetworkSpec {
  readonly name: string;
  readonly aliases?: Maybe<readonly string[]>;
  readonly ipv4Address?: Maybe<string>;
  readonly ipv6Address?: Maybe<string>;
}

export interface VolumesFromSpec {
  readonly container: string;
  readonly readOnly?: Maybe<boolean>;
}

export interface DeviceSpec {
  readonly pathOnHost: string;
  readonly pathInContainer?: Maybe<string>;
  readonly cgroupPermissions?: Maybe<string>;
}

export interface UlimitSpec {
  readonly name: string;
  readonly soft: number;
  readonly hard: number;
}

export interface LogConfigSpec {
  readonly driver: string;
  readonly options?: Maybe<readonly NameValueSpec[]>;
}

export interface RestartPolicySpec {
  readonly name: RestartPolicyName;
  readonly maximumRetryCount?: Maybe<number>;
}

export interface ResourcesSpec {
  readonly memoryBytes?: Maybe<number>;
  readonly memoryReservationBytes?: Maybe<number>;
  readonly memorySwapBytes?: Maybe<number>;
  readonly cpus?: Maybe<number>;
  readonly cpuShares?: Maybe<number>;
  readonly pidsLimit?: Maybe<number>;
}

export interface HealthcheckSpec {
  readonly test: readonly string[];
  readonly intervalSeconds?: Maybe<number>;
  readonly timeoutSeconds?: Maybe<number>;
  readonly startPeriodSeconds?: Maybe<number>;
  readonly retries?: Maybe<number>;
}

/** A container to create, as `docker run` options describe it. */
export interface ContainerSpec {
  readonly image: string;
  readonly name?: Maybe<string>;
  readonly cmd?: Maybe<readonly string[]>;
  readonly entrypoint?: Maybe<readonly string[]>;
  readonly env?: Maybe<readonly NameValueSpec[]>;
  readonly labels?: Maybe<readonly NameValueSpec[]>;
  readonly workingDir?: Maybe<string>;
  readonly user?: Maybe<string>;
  readonly hostname?: Maybe<string>;
  readonly domainname?: Maybe<string>;
  readonly tty?: Maybe<boolean>;
  readonly openStdin?: Maybe<boolean>;
  readonly exposedPorts?: Maybe<readonly ExposedPortSpec[]>;
  readonly portBindings?: Maybe<readonly PortBindingSpec[]>;
  readonly publishAllPorts?: Maybe<boolean>;
  readonly mounts?: Maybe<readonly MountSpec[]>;
  readonly networkMode?: Maybe<string>;
  readonly network?: Maybe<NetworkSpec>;
  readonly networks?: Maybe<readonly NetworkSpec[]>;
  readonly restartPolicy?: Maybe<RestartPolicySpec>;
  readonly resources?: Maybe<ResourcesSpec>;
  readonly autoRemove?: Maybe<boolean>;
  readonly stopSignal?: Maybe<string>;
  readonly stopTimeout?: Maybe<number>;
  readonly healthcheck?: Maybe<HealthcheckSpec>;
  readonly init?: Maybe<boolean>;
  readonly capAdd?: Maybe<readonly string[]>;
  readonly capDrop?: Maybe<readonly string[]>;
  readonly noNewPrivileges?: Maybe<boolean>;
  readonly privileged?: Maybe<boolean>;
  readonly readonlyRootfs?: Maybe<boolean>;
  readonly dns?: Maybe<readonly string[]>;
  readonly dnsSearch?: Maybe<readonly string[]>;
  readonly dnsOptions?: Maybe<readonly string[]>;
  readonly extraHosts?: Maybe<readonly string[]>;
  readonly volumesFrom?: Maybe<readonly VolumesFromSpec[]>;
  readonly devices?: Maybe<readonly DeviceSpec[]>;
  readonly deviceCgroupRules?: Maybe<readonly string[]>;
  readonly ulimits?: Maybe<readonly UlimitSpec[]>;
  readonly logConfig?: Maybe<LogConfigSpec>;
  readonly securityOptions?: Maybe<readonly string[]>;
  readonly shmSizeBytes?: Maybe<number>;
  readonly sysctls?: Maybe<readonly NameValueSpec[]>;
}

/** A container's resource limits as `POST /containers/create` and `/update` take them. */
export interface EngineResources {
  Memory?: number;
  MemoryReservation?: number;
  MemorySwap?: number;
  NanoCpus?: number;
  CpuShares?: number;
  PidsLimit?: number;
}

export interface EngineRestartPolicy {
  Name: RestartPolicyName;
  MaximumRetryCount?: number;
}

/** An entry of `HostConfig.Mounts`. */
export interface EngineMountSpec {
  Type: MountKind;
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string> };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

/** The body of `POST /containers/create`. */
export interface EngineContainerCreateBody {
  Image: string;
  Cmd?: string[];
  Entrypoint?: string[];
  Env?: string[];
  Labels?: Record<string, string>;
  WorkingDir?: string;
  User?: string;
  Hostname?: string;
  Domainname?: string;
  Tty?: boolean;
  OpenStdin?: boolean;
  ExposedPorts?: Record<string, Record<string, never>>;
  StopSignal?: string;
  StopTimeout?: number;
  Healthcheck?: {
    Test: string[];
    Interval?: number;
    Timeout?: number;
    StartPeriod?: number;
    Retries?: number;
  };
  HostConfig: EngineResources & {
    PortBindings?: Record<string, { HostIp: string; HostPort: string }[]>;
    PublishAllPorts?: boolean;
    Mounts?: EngineMountSpec[];
    NetworkMode?: string;
    RestartPolicy?: EngineRestartPolicy;
    AutoRemove?: boolean;
    Init?: boolean;
    CapAdd?: string[];
    CapDrop?: string[];
    SecurityOpt?: string[];
    Privileged?: boolean;
    ReadonlyRootfs?: boolean;
    Dns?: string[];
    DnsSearch?: string[];
    DnsOptions?: string[];
    ExtraHosts?: string[];
    VolumesFrom?: string[];
    Devices?: EngineDeviceMapping[];
    DeviceCgroupRules?: string[];
    Ulimits?: EngineUlimit[];
    LogConfig?: { Type: string; Config?: Record<string, string> };
    ShmSize?: number;
    Sysctls?: Record<string, string>;
  };
  NetworkingConfig?: { EndpointsConfig: Record<string, EngineEndpointConfig> };
}

/** One entry of `NetworkingConfig.EndpointsConfig`, or a connect's `EndpointConfig`. */
export interface EngineEndpointConfig {
  Aliases?: string[];
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string };
}

/** An entry of `HostConfig.Devices`. */
export interface EngineDeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

/** An entry of `HostConfig.Ulimits`. */
export interface EngineUlimit {
  Name: string;
  Soft: number;
  Hard: number;
}

/** The body of `POST /containers/{id}/update`. */
export type EngineContainerUpdateBody = EngineResources & { RestartPolicy?: EngineRestartPolicy };

/** The engine's smallest memory limit and reservation (`linuxMinMemory`). */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;

const containerNamePattern = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const volumeNamePattern = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Signal names the Linux engine knows (without "SIG"), as its signal table lists them. */
const signalNames = new Set([
  'ABRT',
  'ALRM',
  'BUS',
  'CHLD',
  'CLD',
  'CONT',
  'FPE',
  'HUP',
  'ILL',
  'INT',
  'IO',
  'IOT',
  'KILL',
  'PIPE',
  'POLL',
  'PROF',
  'PWR',
  'QUIT',
  'SEGV',
  'STKFLT',
  'STOP',
  'SYS',
  'TERM',
  'TRAP',
  'TSTP',
  'TTIN',
  'TTOU',
  'URG',
  'USR1',
  'USR2',
  'VTALRM',
  'WINCH',
  'XCPU',
  'XFSZ',
  'RTMIN',
  'RTMAX',
  ...Array.from({ length: 15 }, (_, index) => `RTMIN+${index + 1}`),
  ...Array.from({ length: 14 }, (_, index) => `RTMAX-${index + 1}`),
]);

/**
 * A signal as the engine takes it: a name with or without "SIG" in any case
 * ("SIGTERM", "term"), or a number from 1 to 64. Names come back as "SIGTERM",
 * numbers as they are.
 */
export function normalizeSignal(field: string, signal: string): string {
  const text = signal.trim();
  if (/^\d+$/.test(text)) {
    const number = Number(text);
    if (number < 1 || number > 64) {
      throw new InvalidInputError(field, `signal number ${text} is not between 1 and 64`);
    }
    return String(number);
  }
  const name = text.toUpperCase().replace(/^SIG/, '');
  if (!signalNames.has(name)) {
    throw new InvalidInputError(
      field,
      `"${signal}" is not a signal: give a name such as "SIGTERM" or "TERM", or a number from 1 to 64`,
    );
  }
  return `SIG${name}`;
}

/** A container name without its optional leading slash, refused unless the engine would take it. */
export function checkContainerName(field: string, name: string): string {
  if (!containerNamePattern.test(name)) {
    throw new InvalidInputError(
      field,
      `"${name}" is not a container name: at least two of letters, digits, "_", "." and "-", starting with a letter or digit`,
    );
  }
  return name.replace(/^\//, '');
}

function given<T>(value: Maybe<T>): value is T {
  return value !== null && value !== undefined;
}

function checkPort(field: string, port: number) {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidInputError(field, `${port} is not a port number (1 to 65535)`);
  }
}

function checkNonEmptyList(field: string, values: readonly string[]) {
  values.forEach((value, index) => {
    if (value.trim() === '') throw new InvalidInputError(`${field}[${index}]`, 'must not be empty');
  });
}

function checkAbsolutePath(field: string, path: string) {
  if (!path.startsWith('/')) {
    throw new InvalidInputError(field, `"${path}" is not an absolute path`);
  }
}

/** Name/value pairs as an engine string map (labels, options), refusing empty and repeated names. */
export function toEngineMap(
  field: string,
  entries: readonly NameValueSpec[],
): Record<string, string> {
  const map: Record<string, string> = {};
  entries.forEach((entry, index) => {
    if (entry.name.trim() === '') {
      throw new InvalidInputError(`${field}[${index}].name`, 'must not be empty');
    }
    if (Object.hasOwn(map, entry.name)) {
      throw new InvalidInputError(`${field}[${index}].name`, `"${entry.name}" is given twice`);
    }
    map[entry.name] = entry.value;
  });
  return map;
}

/**
 * Environment variables as the engine takes them, "NAME=value" in the order given
 * (`docker run -e`, `docker exec -e`), refusing empty, repeated and unusable names.
 */
export function toEnvList(field: string, entries: readonly NameValueSpec[]): string[] {
  toEngineMap(field, entries);
  return entries.map((entry, index) => {
    if (/[=\0]/.test(entry.name)) {
      throw new InvalidInputError(
        `${field}[${index}].name`,
        `"${entry.name}" is not a variable name: it must not contain "=" or NUL`,
      );
    }
    if (entry.value.includes('\0')) {
      throw new InvalidInputError(`${field}[${index}].value`, 'must not contain NUL');
    }
    return `${entry.name}=${entry.value}`;
  });
}

function checkMemory(field: string, bytes: number) {
  if (bytes < MIN_MEMORY_BYTES) {
    throw new InvalidInputError(
      field,
      `${bytes} bytes is below the engine's minimum of 6 MiB (${MIN_MEMORY_BYTES} bytes)`,
    );
  }
}

/**
 * Resource limits as the engine takes them. `creating` holds a new container
 * to the rules that need every limit at hand (a swap limit needs a memory
 * limit); an update may lean on the limits the container has.
 */
export function toEngineResources(
  field: string,
  resources: ResourcesSpec,
  creating: boolean,
): EngineResources {
  const body: EngineResources = {};
  const { memoryBytes, memoryReservationBytes, memorySwapBytes, cpus, cpuShares, pidsLimit } =
    resources;
  if (given(memoryBytes)) {
    checkMemory(`${field}.memoryBytes`, memoryBytes);
    body.Memory = memoryBytes;
  }
  if (given(memoryReservationBytes)) {
    checkMemory(`${field}.memoryReservationBytes`, memoryReservationBytes);
    if (given(memoryBytes) && memoryReservationBytes > memoryBytes) {
      throw new InvalidInputError(
        `${field}.memoryReservationBytes`,
        `the reservation (${memoryReservationBytes} bytes) exceeds the memory limit (${memoryBytes} bytes)`,
      );
    }
    body.MemoryReservation = memoryReservationBytes;
  }
  if (given(memorySwapBytes)) {
    const swapField = `${field}.memorySwapBytes`;
    if (memorySwapBytes !== -1 && memorySwapBytes <= 0) {
      throw new InvalidInputError(
        swapField,
        'must be positive (memory plus swap), or -1 for unlimited swap',
      );
    }
    if (creating && !given(memoryBytes)) {
      throw new InvalidInputError(swapField, 'a swap limit needs memoryBytes as well');
    }
    if (given(memoryBytes) && memorySwapBytes !== -1 && memorySwapBytes < memoryBytes) {
      throw new InvalidInputError(
        swapField,
        `memory plus swap (${memorySwapBytes} bytes) is less than the memory limit (${memoryBytes} bytes)`,
      );
    }
    body.MemorySwap = memorySwapBytes;
  }
  if (given(cpus)) {
    if (!Number.isFinite(cpus) || cpus <= 0) {
      throw new InvalidInputError(`${field}.cpus`, `${cpus} is not a positive number of CPUs`);
    }
    body.NanoCpus = Math.round(cpus * 1e9);
  }
  if (given(cpuShares)) {
    if (cpuShares <= 0) throw new InvalidInputError(`${field}.cpuShares`, 'must be positive');
    body.CpuShares = cpuShares;
  }
  if (given(pidsLimit)) {
    if (pidsLimit < -1) {
      throw new InvalidInputError(
        `${field}.pidsLimit`,
        'must be positive, or 0 or -1 for no limit',
      );
    }
    body.PidsLimit = pidsLimit;
  }
  return body;
}

/** A restart policy as the engine takes it; a retry count only goes with ON_FAILURE. */
export function toEngineRestartPolicy(
  field: string,
  policy: RestartPolicySpec,
): EngineRestartPolicy {
  const { name, maximumRetryCount } = policy;
  if (!given(maximumRetryCount)) return { Name: name };
  if (name !== 'on-failure') {
    throw new InvalidInputError(
      `${field}.maximumRetryCount`,
      'only the ON_FAILURE policy takes a retry count',
    );
  }
  if (maximumRetryCount < 0) {
    throw new InvalidInputError(`${field}.maximumRetryCount`, 'must not be negative');
  }
  return { Name: name, MaximumRetryCount: maximumRetryCount };
}

function toEngineMounts(field: string, mounts: readonly MountSpec[]): EngineMountSpec[] {
  const targets = new Map<string, number>();
  return mounts.map((mount, index) => {
    const at = `${field}[${index}]`;
    checkAbsolutePath(`${at}.target`, mount.target);
    const earlier = targets.get(mount.target);
    if (earlier !== undefined) {
      throw new InvalidInputError(
        `${at}.target`,
        `"${mount.target}" is also the target of ${field}[${earlier}]`,
      );
    }
    targets.set(mount.target, index);
    const volumeOptions = given(mount.volumeNoCopy) || given(mount.volumeLabels);
    const tmpfsOptions = given(mount.tmpfsSizeBytes) || given(mount.tmpfsMode);
    if (volumeOptions && mount.type !== 'volume') {
      throw new InvalidInputError(
        `${at}.${given(mount.volumeNoCopy) ? 'volumeNoCopy' : 'volumeLabels'}`,
        'only VOLUME mounts take volume options',
      );
    }
    if (tmpfsOptions && mount.type !== 'tmpfs') {
      throw new InvalidInputError(
        `${at}.${given(mount.tmpfsSizeBytes) ? 'tmpfsSizeBytes' : 'tmpfsMode'}`,
        'only TMPFS mounts take tmpfs options',
      );
    }
    const body: EngineMountSpec = { Type: mount.type, Target: mount.target };
    if (given(mount.readOnly)) body.ReadOnly = mount.readOnly;
    switch (mount.type) {
      case 'bind':
        if (!given(mount.source) || mount.source === '') {
          throw new InvalidInputError(`${at}.source`, 'a BIND mount needs the host path');
        }
        checkAbsolutePath(`${at}.source`, mount.source);
        body.Source = mount.source;
        break;
      case 'volume':
        if (given(mount.source) && mount.source !== '') {
          if (!volumeNamePattern.test(mount.source)) {
            throw new InvalidInputError(
              `${at}.source`,
              `"${mount.source}" is not a volume name: at least two of letters, digits, "_", "." and "-", starting with a letter or digit`,
            );
          }
          body.Source = mount.source;
        }
        if (volumeOptions) {
          body.VolumeOptions = {
            ...(given(mount.volumeNoCopy) ? { NoCopy: mount.volumeNoCopy } : {}),
            ...(given(mount.volumeLabels)
              ? { Labels: toEngineMap(`${at}.volumeLabels`, mount.volumeLabels) }
              : {}),
          };
        }
        break;
      case 'tmpfs':
        if (given(mount.source) && mount.source !== '') {
          throw new InvalidInputError(`${at}.source`, 'a TMPFS mount has no source');
        }
        if (given(mount.tmpfsSizeBytes) && mount.tmpfsSizeBytes <= 0) {
          throw new InvalidInputError(`${at}.tmpfsSizeBytes`, 'must be positive');
        }
        if (given(mount.tmpfsMode) && (mount.tmpfsMode < 0 || mount.tmpfsMode > 0o7777)) {
          throw new InvalidInputError(
            `${at}.tmpfsMode`,
            'must be a file mode from 0 to 4095 (0o7777)',
          );
        }
        if (tmpfsOptions) {
          body.TmpfsOptions = {
            ...(given(mount.tmpfsSizeBytes) ? { SizeBytes: mount.tmpfsSizeBytes } : {}),
            ...(given(mount.tmpfsMode) ? { Mode: mount.tmpfsMode } : {}),
          };
        }
        break;
      default:
        throw new InvalidInputError(
          `${at}.type`,
          'only BIND, VOLUME and TMPFS mounts can be created on a Linux engine',
        );
    }
    return body;
  });
}

/** Seconds as the engine's nanoseconds; 0 keeps the default, else at least 1 ms. */
function toHealthcheckDuration(field: string, seconds: Maybe<number>): number | undefined {
  if (!given(seconds)) return undefined;
  if (!Number.isFinite(seconds) || (seconds !== 0 && seconds < 0.001)) {
    throw new InvalidInputError(field, 'must be 0 (the default) or at least 0.001 seconds');
  }
  return Math.round(seconds * 1e9);
}

function toEngineHealthcheck(
  field: string,
  healthcheck: HealthcheckSpec,
): NonNullable<EngineContainerCreateBody['Healthcheck']> {
  const [kind, ...args] = healthcheck.test;
  const testField = `${field}.test`;
  if (kind === 'NONE') {
    if (args.length > 0) {
      throw new InvalidInputError(testField, '["NONE"] takes nothing after it');
    }
  } else if (kind === 'CMD') {
    if (args.length === 0) {
      throw new InvalidInputError(testField, '["CMD", ...] needs the program and its arguments');
    }
  } else if (kind === 'CMD-SHELL') {
    if (args.length !== 1) {
      throw new InvalidInputError(testField, '["CMD-SHELL", command] takes exactly one command');
    }
  } else {
    throw new InvalidInputError(
      testField,
      'must start with "CMD" (program and arguments), "CMD-SHELL" (a shell command) or be ["NONE"] (no healthcheck)',
    );
  }
  const interval = toHealthcheckDuration(`${field}.intervalSeconds`, healthcheck.intervalSeconds);
  const timeout = toHealthcheckDuration(`${field}.timeoutSeconds`, healthcheck.timeoutSeconds);
  const startPeriod = toHealthcheckDuration(
    `${field}.startPeriodSeconds`,
    healthcheck.startPeriodSeconds,
  );
  if (given(healthcheck.retries) && healthcheck.retries < 0) {
    throw new InvalidInputError(`${field}.retries`, 'must not be negative');
  }
  return {
    Test: [...healthcheck.test],
    ...(interval !== undefined ? { Interval: interval } : {}),
    ...(timeout !== undefined ? { Timeout: timeout } : {}),
    ...(startPeriod !== undefined ? { StartPeriod: startPeriod } : {}),
    ...(given(healthcheck.retries) ? { Retries: healthcheck.retries } : {}),
  };
}

function toExtraHosts(field: string, entries: readonly string[]): string[] {
  return entries.map((entry, index) => {
    // The engine splits at the first colon: IPv6 addresses keep theirs.
    const separator = entry.indexOf(':');
    const host = separator > 0 ? entry.slice(0, separator) : '';
    const address = separator > 0 ? entry.slice(separator + 1) : '';
    if (host.trim() === '' || /\s/.test(host) || (address !== 'host-gateway' && !isIP(address))) {
      throw new InvalidInputError(
        `${field}[${index}]`,
        `"${entry}" is not "host:ip" (the ip may be "host-gateway")`,
      );
    }
    return entry;
  });
}

/** Network modes that are no network to join with others: the host's, none, another container's. */
function isExclusiveNetworkMode(name: string): boolean {
  return name === 'host' || name === 'none' || name.startsWith('container:');
}

function toEndpointConfig(at: string, network: NetworkSpec): EngineEndpointConfig {
  if (network.name.trim() === '') throw new InvalidInputError(`${at}.name`, 'must not be empty');
  const endpoint: EngineEndpointConfig = {};
  if (given(network.aliases)) {
    checkNonEmptyList(`${at}.aliases`, network.aliases);
    endpoint.Aliases = [...network.aliases];
  }
  if (given(network.ipv4Address) && !isIPv4(network.ipv4Address)) {
    throw new InvalidInputError(
      `${at}.ipv4Address`,
      `"${network.ipv4Address}" is not an IPv4 address`,
    );
  }
  if (given(network.ipv6Address) && !isIPv6(network.ipv6Address)) {
    throw new InvalidInputError(
      `${at}.ipv6Address`,
      `"${network.ipv6Address}" is not an IPv6 address`,
    );
  }
  if (given(network.ipv4Address) || given(network.ipv6Address)) {
    endpoint.IPAMConfig = {
      ...(given(network.ipv4Address) ? { IPv4Address: network.ipv4Address } : {}),
      ...(given(network.ipv6Address) ? { IPv6Address: network.ipv6Address } : {}),
    };
  }
  return endpoint;
}

/** The networks of a spec with the input path of each: `network`, or the entries of `networks`. */
function networksOf(
  field: string,
  spec: Pick<ContainerSpec, 'network' | 'networks'>,
): { at: string; network: NetworkSpec }[] {
  if (given(spec.network) && given(spec.networks)) {
    throw new InvalidInputError(`${field}.networks`, 'give either network or networks, not both');
  }
  if (given(spec.network)) return [{ at: `${field}.network`, network: spec.network }];
  return (spec.networks ?? []).map((network, index) => ({
    at: `${field}.networks[${index}]`,
    network,
  }));
}

/**
 * The input path naming each network a create body joins, in the order of its
 * `NetworkingConfig.EndpointsConfig` (the first is its `NetworkMode`); `networkMode`
 * when it names the only one.
 */
export function networkFieldsOf(
  field: string,
  spec: Pick<ContainerSpec, 'network' | 'networks'>,
): string[] {
  const networks = networksOf(field, spec);
  return networks.length > 0
    ? networks.map((entry) => `${entry.at}.name`)
    : [`${field}.networkMode`];
}

function toEngineNetwork(
  field: string,
  spec: Pick<ContainerSpec, 'networkMode' | 'network' | 'networks'>,
): Pick<EngineContainerCreateBody, 'NetworkingConfig'> & { NetworkMode?: string } {
  const { networkMode } = spec;
  if (given(networkMode) && networkMode.trim() === '') {
    throw new InvalidInputError(`${field}.networkMode`, 'must not be empty');
  }
  const networks = networksOf(field, spec);
  if (given(spec.networks) && networks.length === 0) {
    throw new InvalidInputError(`${field}.networks`, 'must name at least one network');
  }
  const [first] = networks;
  if (!first) return given(networkMode) ? { NetworkMode: networkMode } : {};
  if (given(networkMode) && networkMode !== first.network.name) {
    throw new InvalidInputError(
      `${first.at}.name`,
      `"${first.network.name}" differs from networkMode "${networkMode}": give the network in one of them`,
    );
  }
  const endpoints: Record<string, EngineEndpointConfig> = {};
  for (const { at, network } of networks) {
    const endpoint = toEndpointConfig(at, network);
    if (Object.hasOwn(endpoints, network.name)) {
      throw new InvalidInputError(`${at}.name`, `"${network.name}" is given twice`);
    }
    if (networks.length > 1 && isExclusiveNetworkMode(network.name)) {
      throw new InvalidInputError(
        `${at}.name`,
        `"${network.name}" cannot be joined together with other networks`,
      );
    }
    endpoints[network.name] = endpoint;
  }
  return { NetworkMode: first.network.name, NetworkingConfig: { EndpointsConfig: endpoints } };
}

function toVolumesFrom(field: string, entries: readonly VolumesFromSpec[]): string[] {
  return entries.map((entry, index) => {
    const at = `${field}[${index}].container`;
    const container = entry.container.trim();
    // The engine splits "container[:ro|rw]" at the colon; no container reference holds one.
    if (container === '' || container.includes(':') || /\s/.test(container)) {
      throw new InvalidInputError(at, `"${entry.container}" is not a container name or id`);
    }
    return given(entry.readOnly) ? `${container}:${entry.readOnly ? 'ro' : 'rw'}` : container;
  });
}

function toDevices(field: string, devices: readonly DeviceSpec[]): EngineDeviceMapping[] {
  return devices.map((device, index) => {
    const at = `${field}[${index}]`;
    checkAbsolutePath(`${at}.pathOnHost`, device.pathOnHost);
    const inContainer = device.pathInContainer ?? device.pathOnHost;
    checkAbsolutePath(`${at}.pathInContainer`, inContainer);
    const permissions = device.cgroupPermissions ?? 'rwm';
    if (!/^[rwm]{1,3}$/.test(permissions) || new Set(permissions).size !== permissions.length) {
      throw new InvalidInputError(
        `${at}.cgroupPermissions`,
        `"${permissions}" is not a combination of "r" (read), "w" (write) and "m" (mknod)`,
      );
    }
    return {
      PathOnHost: device.pathOnHost,
      PathInContainer: inContainer,
      CgroupPermissions: permissions,
    };
  });
}

/** `--device-cgroup-rule`: "type major:minor access", as the engine's own pattern reads it. */
const DEVICE_CGROUP_RULE = /^[acb] (?:[0-9]+|\*):(?:[0-9]+|\*) [rwm]{1,3}$/;

function toDeviceCgroupRules(field: string, rules: readonly string[]): string[] {
  return rules.map((rule, index) => {
    if (!DEVICE_CGROUP_RULE.test(rule)) {
      throw new InvalidInputError(
        `${field}[${index}]`,
        `"${rule}" is not a device cgroup rule such as "c 1:3 rwm" (type a, b or c; major and minor numbers or "*"; access of r, w, m)`,
      );
    }
    return rule;
  });
}

/** Resource limits the engine takes by name (`docker run --ulimit`), as setrlimit(2) lists them. */
const ULIMIT_NAMES = new Set([
  'core',
  'cpu',
  'data',
  'fsize',
  'locks',
  'memlock',
  'msgqueue',
  'nice',
  'nofile',
  'nproc',
  'rss',
  'rtprio',
  'rttime',
  'sigpending',
  'stack',
]);

function toUlimits(field: string, ulimits: readonly UlimitSpec[]): EngineUlimit[] {
  const seen = new Set<string>();
  return ulimits.map((ulimit, index) => {
    const at = `${field}[${index}]`;
    if (!ULIMIT_NAMES.has(ulimit.name)) {
      throw new InvalidInputError(
        `${at}.name`,
        `"${ulimit.name}" is not a ulimit: one of ${[...ULIMIT_NAMES].join(', ')}`,
      );
    }
    if (seen.has(ulimit.name)) {
      throw new InvalidInputError(`${at}.name`, `"${ulimit.name}" is given twice`);
    }
    seen.add(ulimit.name);
    for (const key of ['soft', 'hard'] as const) {
      const value = ulimit[key];
      if (!Number.isSafeInteger(value) || value < -1) {
        throw new InvalidInputError(`${at}.${key}`, 'must be a whole number, or -1 for unlimited');
      }
    }
    // -1 is unlimited: the largest value of all.
    const rank = (value: number) => (value === -1 ? Number.POSITIVE_INFINITY : value);
    if (rank(ulimit.soft) > rank(ulimit.hard)) {
      throw new InvalidInputError(
        `${at}.soft`,
        `the soft limit (${ulimit.soft}) exceeds the hard limit (${ulimit.hard})`,
      );
    }
    return { Name: ulimit.name, Soft: ulimit.soft, Hard: ulimit.hard };
  });
}

function toLogConfig(
  field: string,
  logConfig: LogConfigSpec,
): NonNullable<EngineContainerCreateBody['HostConfig']['LogConfig']> {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.:/-]*$/.test(logConfig.driver)) {
    throw new InvalidInputError(
      `${field}.driver`,
      `"${logConfig.driver}" is not a log driver name, e.g. "json-file" or "local"`,
    );
  }
  return {
    Type: logConfig.driver,
    ...(given(logConfig.options)
      ? { Config: toEngineMap(`${field}.options`, logConfig.options) }
      : {}),
  };
}

/**
 * `--security-opt` entries: "name=value" (or the older "name:value"), of the
 * options the engine knows; a seccomp profile is "unconfined" or its JSON.
 */
function toSecurityOptions(field: string, options: readonly string[]): string[] {
  return options.map((option, index) => {
    const at = `${field}[${index}]`;
    const match = /^([a-z-]+)(?:[=:](.*))?$/s.exec(option);
    const name = match?.[1] ?? '';
    const value = match?.[2];
    switch (name) {
      case 'no-new-privileges':
        if (value !== undefined && value !== 'true' && value !== 'false') {
          throw new InvalidInputError(at, 'no-new-privileges takes "true" or "false"');
        }
        return option;
      case 'apparmor':
        if (!value || /\s/.test(value)) {
          throw new InvalidInputError(
            at,
            'apparmor takes a profile name, e.g. "apparmor=unconfined"',
          );
        }
        return option;
      case 'seccomp':
        if (value === 'unconfined') return option;
        try {
          const profile: unknown = JSON.parse(value ?? '');
          if (typeof profile !== 'object' || profile === null || Array.isArray(profile)) {
            throw new Error('not an object');
          }
        } catch {
          throw new InvalidInputError(
            at,
            'seccomp takes "unconfined" or a profile as JSON ("seccomp={...}"), not a file path',
          );
        }
        return option;
      case 'label':
        if (!value || !/^(?:disable|(?:user|role|type|level):\S+)$/.test(value)) {
          throw new InvalidInputError(
            at,
            'label takes "disable" or "user:", "role:", "type:", "level:" and a value',
          );
        }
        return option;
      case 'systempaths':
        if (value !== 'unconfined') {
          throw new InvalidInputError(at, 'systempaths takes only "unconfined"');
        }
        return option;
      default:
        throw new InvalidInputError(
          at,
          `"${option}" is not a security option: no-new-privileges, apparmor=, seccomp=, label= or systempaths=`,
        );
    }
  });
}

/** A sysctl name: dotted words, as the kernel's /proc/sys tree names them. */
const SYSCTL_NAME = /^[a-zA-Z0-9_-]+(?:\.[a-zA-Z0-9_*-]+)+$/;

function toSysctls(field: string, sysctls: readonly NameValueSpec[]): Record<string, string> {
  const map = toEngineMap(field, sysctls);
  sysctls.forEach((entry, index) => {
    if (!SYSCTL_NAME.test(entry.name)) {
      throw new InvalidInputError(
        `${field}[${index}].name`,
        `"${entry.name}" is not a sysctl name such as "net.ipv4.ip_forward"`,
      );
    }
    if (entry.value.trim() === '') {
      throw new InvalidInputError(`${field}[${index}].value`, 'must not be empty');
    }
  });
  return map;
}

/** A DNS search domain as resolv.conf takes it ("." for none). */
const SEARCH_DOMAIN =
  /^(?:\.|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*\.?)$/;

function toDnsSearch(field: string, domains: readonly string[]): string[] {
  return domains.map((domain, index) => {
    if (!SEARCH_DOMAIN.test(domain) || domain.length > 253) {
      throw new InvalidInputError(`${field}[${index}]`, `"${domain}" is not a domain name`);
    }
    return domain;
  });
}

function toDnsOptions(field: string, options: readonly string[]): string[] {
  return options.map((option, index) => {
    // One resolv.conf option, e.g. "ndots:2" or "edns0": a word without spaces.
    if (!/^[a-zA-Z0-9_-]+(?::[0-9]+)?$/.test(option)) {
      throw new InvalidInputError(
        `${field}[${index}]`,
        `"${option}" is not a resolver option such as "ndots:2" or "edns0"`,
      );
    }
    return option;
  });
}

/**
 * Checks a container spec and builds the body of `POST /containers/create`.
 * `field` is the path of the spec in the caller's input, e.g. "input".
 */
export function toContainerCreateBody(
  field: string,
  spec: ContainerSpec,
): EngineContainerCreateBody {
  const at = (name: string) => `${field}.${name}`;
  if (spec.image.trim() === '' || /\s/.test(spec.image)) {
    throw new InvalidInputError(at('image'), `"${spec.image}" is not an image reference`);
  }
  if (given(spec.name)) checkContainerName(at('name'), spec.name);
  if (given(spec.workingDir) && spec.workingDir !== '') {
    checkAbsolutePath(at('workingDir'), spec.workingDir);
  }
  if (given(spec.stopTimeout) && spec.stopTimeout < 0) {
    throw new InvalidInputError(at('stopTimeout'), 'must not be negative');
  }

  const exposedPorts: Record<string, Record<string, never>> = {};
  spec.exposedPorts?.forEach((port, index) => {
    checkPort(`${at('exposedPorts')}[${index}].port`, port.port);
    exposedPorts[`${port.port}/${port.protocol ?? 'tcp'}`] = {};
  });
  const portBindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  spec.portBindings?.forEach((binding, index) => {
    const bindingField = `${at('portBindings')}[${index}]`;
    checkPort(`${bindingField}.containerPort`, binding.containerPort);
    if (given(binding.hostPort)) checkPort(`${bindingField}.hostPort`, binding.hostPort);
    if (given(binding.hostIp) && !isIP(binding.hostIp)) {
      throw new InvalidInputError(
        `${bindingField}.hostIp`,
        `"${binding.hostIp}" is not an IP address`,
      );
    }
    const key = `${binding.containerPort}/${binding.protocol ?? 'tcp'}`;
    const bindings = portBindings[key] ?? [];
    // An empty HostPort lets the engine pick a free port.
    bindings.push({
      HostIp: binding.hostIp ?? '',
      HostPort: given(binding.hostPort) ? String(binding.hostPort) : '',
    });
    portBindings[key] = bindings;
    // The engine publishes only exposed ports (the docker CLI exposes what `-p` names).
    exposedPorts[key] = {};
  });

  const restartPolicy = given(spec.restartPolicy)
    ? toEngineRestartPolicy(at('restartPolicy'), spec.restartPolicy)
    : undefined;
  if (spec.autoRemove && restartPolicy && restartPolicy.Name !== 'no') {
    throw new InvalidInputError(
      at('restartPolicy.name'),
      'a container that removes itself when it exits (autoRemove) cannot be restarted',
    );
  }
  if (given(spec.dns)) {
    spec.dns.forEach((server, index) => {
      if (!isIP(server)) {
        throw new InvalidInputError(`${at('dns')}[${index}]`, `"${server}" is not an IP address`);
      }
    });
  }
  if (given(spec.capAdd)) checkNonEmptyList(at('capAdd'), spec.capAdd);
  if (given(spec.capDrop)) checkNonEmptyList(at('capDrop'), spec.capDrop);
  const { NetworkMode, NetworkingConfig } = toEngineNetwork(field, spec);
  if (
    given(spec.shmSizeBytes) &&
    (!Number.isSafeInteger(spec.shmSizeBytes) || spec.shmSizeBytes <= 0)
  ) {
    throw new InvalidInputError(at('shmSizeBytes'), 'must be a positive number of bytes');
  }
  const securityOptions = [
    // The kernel's no_new_privs bit: setuid binaries and file capabilities grant nothing.
    ...(spec.noNewPrivileges ? ['no-new-privileges'] : []),
    ...(given(spec.securityOptions)
      ? toSecurityOptions(at('securityOptions'), spec.securityOptions)
      : []),
  ];
  spec.securityOptions?.forEach((option, index) => {
    if (given(spec.noNewPrivileges) && option.startsWith('no-new-privileges')) {
      throw new InvalidInputError(
        `${at('securityOptions')}[${index}]`,
        'no-new-privileges is given by noNewPrivileges already: give it in one of them',
      );
    }
  });

  const body: EngineContainerCreateBody = {
    Image: spec.image,
    HostConfig: {
      ...(given(spec.resources) ? toEngineResources(at('resources'), spec.resources, true) : {}),
      ...(spec.portBindings ? { PortBindings: portBindings } : {}),
      ...(given(spec.publishAllPorts) ? { PublishAllPorts: spec.publishAllPorts } : {}),
      ...(given(spec.mounts) ? { Mounts: toEngineMounts(at('mounts'), spec.mounts) } : {}),
      ...(NetworkMode !== undefined ? { NetworkMode } : {}),
      ...(restartPolicy ? { RestartPolicy: restartPolicy } : {}),
      ...(given(spec.autoRemove) ? { AutoRemove: spec.autoRemove } : {}),
      ...(given(spec.init) ? { Init: spec.init } : {}),
      ...(given(spec.capAdd) ? { CapAdd: [...spec.capAdd] } : {}),
      ...(given(spec.capDrop) ? { CapDrop: [...spec.capDrop] } : {}),
      ...(securityOptions.length > 0 ? { SecurityOpt: securityOptions } : {}),
      ...(given(spec.privileged) ? { Privileged: spec.privileged } : {}),
      ...(given(spec.readonlyRootfs) ? { ReadonlyRootfs: spec.readonlyRootfs } : {}),
      ...(given(spec.dns) ? { Dns: [...spec.dns] } : {}),
      ...(given(spec.dnsSearch) ? { DnsSearch: toDnsSearch(at('dnsSearch'), spec.dnsSearch) } : {}),
      ...(given(spec.dnsOptions)
        ? { DnsOptions: toDnsOptions(at('dnsOptions'), spec.dnsOptions) }
        : {}),
      ...(given(spec.extraHosts)
        ? { ExtraHosts: toExtraHosts(at('extraHosts'), spec.extraHosts) }
        : {}),
      ...(given(spec.volumesFrom)
        ? { VolumesFrom: toVolumesFrom(at('volumesFrom'), spec.volumesFrom) }
        : {}),
      ...(given(spec.devices) ? { Devices: toDevices(at('devices'), spec.devices) } : {}),
      ...(given(spec.deviceCgroupRules)
        ? {
            DeviceCgroupRules: toDeviceCgroupRules(at('deviceCgroupRules'), spec.deviceCgroupRules),
          }
        : {}),
      ...(given(spec.ulimits) ? { Ulimits: toUlimits(at('ulimits'), spec.ulimits) } : {}),
      ...(given(spec.logConfig) ? { LogConfig: toLogConfig(at('logConfig'), spec.logConfig) } : {}),
      ...(given(spec.shmSizeBytes) ? { ShmSize: spec.shmSizeBytes } : {}),
      ...(given(spec.sysctls) ? { Sysctls: toSysctls(at('sysctls'), spec.sysctls) } : {}),
    },
  };
  if (given(spec.cmd)) body.Cmd = [...spec.cmd];
  if (given(spec.entrypoint)) body.Entrypoint = [...spec.entrypoint];
  if (given(spec.env)) body.Env = toEnvList(at('env'), spec.env);
  if (given(spec.labels)) body.Labels = toEngineMap(at('labels'), spec.labels);
  if (given(spec.workingDir)) body.WorkingDir = spec.workingDir;
  if (given(spec.user)) body.User = spec.user;
  if (given(spec.hostname)) body.Hostname = spec.hostname;
  if (given(spec.domainname)) body.Domainname = spec.domainname;
  if (given(spec.tty)) body.Tty = spec.tty;
  if (given(spec.openStdin)) body.OpenStdin = spec.openStdin;
  if (spec.exposedPorts || spec.portBindings) body.ExposedPorts = exposedPorts;
  if (given(spec.stopSignal)) body.StopSignal = normalizeSignal(at('stopSignal'), spec.stopSignal);
  if (given(spec.stopTimeout)) body.StopTimeout = spec.stopTimeout;
  if (given(spec.healthcheck)) {
    body.Healthcheck = toEngineHealthcheck(at('healthcheck'), spec.healthcheck);
  }
  if (NetworkingConfig) body.NetworkingConfig = NetworkingConfig;
  return body;
}
