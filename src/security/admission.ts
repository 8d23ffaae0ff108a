import { posix } from 'node:path';
import {
  type IpPrefix,
  parseIpAddress,
  parseIpPrefix,
  prefixCovers,
  prefixHolds,
} from './ip-prefix.ts';

/**
 * The admission policy: what an engine write may ask of the host, by level, in
 * the spirit of Kubernetes' Pod Security Standards. It reviews the final engine
 * request (`POST /containers/create`, `POST /volumes/create`, …), not GraphQL
 * inputs, so it stays right whatever input maps onto an engine field; and it
 * denies what it does not recognise (an engine field, a driver option or a
 * write route without a rule here), so a new input is refused until a rule
 * names it.
 *
 * Levels, from most to least confined:
 * - `restricted`: `baseline`, and the container runs as a numeric non-zero
 *   uid, with every capability dropped (NET_BIND_SERVICE may be added back)
 *   and `no-new-privileges`; no host paths at all.
 * - `baseline`: no privilege, host namespaces, devices, added capabilities
 *   beyond Docker's defaults, relaxed security options or unmasked /proc; host
 *   paths only inside the bind allow-list (read-only unless the entry is marked
 *   writable); volumes only of the local driver without host paths (or tmpfs),
 *   or of drivers the administrator lists; networks (made or joined) of the
 *   bridge and overlay drivers without host interfaces; explicit addresses only
 *   inside the administrator's pools; registries only those listed.
 * - `privileged`: anything the engine accepts (the `dangerous` permission).
 *
 * Everything here is pure: what needs the engine (a named volume's driver, the
 * container whose namespaces a new one joins, a network it joins, an image's
 * user) comes through {@link AdmissionLookups}. What a review looked up by name
 * is pinned: the admitted request names it by the id the review inspected
 * (`admitContainerCreate`, `admitNetworkConnect`), since the engine resolves
 * names again when it acts, and a rename in between would swap the object.
 *
 * @module
 */

export const ADMISSION_LEVELS = ['restricted', 'baseline', 'privileged'] as const;

export type AdmissionLevel = (typeof ADMISSION_LEVELS)[number];

/** Whether `value` names an admission level. */
export function isAdmissionLevel(value: string): value is AdmissionLevel {
  return (ADMISSION_LEVELS as readonly string[]).includes(value);
}

/** One folder of the bind allow-list. */
export interface BindAllowEntry {
  /** Absolute, normalised host folder. */
  readonly path: string;
  /**
   * Whether containers may write to it. A writable folder is host-equivalent for
   * whoever may bind it: a container can plant a symbolic link there that a later
   * bind follows on the host.
   */
  readonly writable: boolean;
}

/** The server settings the policy depends on. */
export interface AdmissionSettings {
  readonly bindAllowList: readonly BindAllowEntry[];
  /** Volume drivers other than `local` that the administrator allows, options and all. */
  readonly volumeDrivers: readonly string[];
  /**
   * Where explicit addresses may lie: network subnets, ranges, gateways and auxiliary
   * addresses, and containers' fixed addresses. None: the engine picks every address from
   * its own pools.
   */
  readonly networkPools: readonly IpPrefix[];
  /** Registries pulls, pushes and logins may reach, as {@link canonicalRegistry} writes them. */
  readonly registries: readonly string[];
}

/** What the policy reads from the engine. Each answers null for an object that does not exist. */
export interface AdmissionLookups {
  /** A volume's driver and driver options (`GET /volumes/{name}`). */
  volume(name: string): Promise<{ driver: string; options: Record<string, string> } | null>;
  /**
   * An existing container's full id and settings, as a create body would carry
   * them (`GET /containers/{id}/json`; its networks as `NetworkingConfig`), for
   * the containers a new one joins or takes volumes from.
   */
  container(idOrName: string): Promise<{ id: string; config: ContainerCreateShape } | null>;
  /** An existing network (`GET /networks/{id}`), for the networks a container joins. */
  network(idOrName: string): Promise<AdmissionNetwork | null>;
  /** The user an image runs as (`Config.User`), '' for root by default. */
  imageUser(reference: string): Promise<string | null>;
}

/** What the policy reads of an existing network. */
export interface AdmissionNetwork {
  /** Full id. */
  readonly id: string;
  readonly name: string;
  readonly driver: string;
  readonly options: Readonly<Record<string, string>>;
  readonly ipamDriver: string;
  readonly ipamOptions: Readonly<Record<string, string>>;
  /** The config-only network it takes its driver options from (`--config-from`); '' for none. */
  readonly configFrom: string;
}

/** The parts of a `POST /containers/create` body the policy reads. */
export interface ContainerCreateShape {
  readonly [key: string]: unknown;
  readonly HostConfig?: unknown;
}

/** One thing a level does not allow, named by its path in the engine request. */
export interface AdmissionFinding {
  /** The control of {@link ADMISSION_CONTROLS} that refuses it. */
  readonly control: AdmissionControl;
  readonly message: string;
}

/**
 * The controls of the policy and what each level allows: the table the README's
 * policy section shows. A control not listed here cannot be refused.
 */
export const ADMISSION_CONTROLS = {
  'unrecognised-field': {
    title: 'Fields and routes the policy has no rule for',
    baseline: 'refused',
    restricted: 'refused',
  },
  privileged: { title: 'Privileged containers', baseline: 'refused', restricted: 'refused' },
  'host-namespaces': {
    title: 'Host network, PID, IPC, UTS, user and cgroup namespaces',
    baseline: 'refused',
    restricted: 'refused',
  },
  'shared-namespaces': {
    title: "Another container's namespaces (`container:<x>`), `volumesFrom`, links",
    baseline:
      'only of a container this level would admit itself; the request names it by the id reviewed',
    restricted: 'as baseline',
  },
  capabilities: {
    title: 'Added capabilities',
    baseline: "Docker's default set only (adding them changes nothing)",
    restricted: 'NET_BIND_SERVICE only, and `capDrop: ["ALL"]` is required',
  },
  devices: {
    title: 'Host devices, device requests, device cgroup rules',
    baseline: 'refused',
    restricted: 'refused',
  },
  'security-options': {
    title: 'Security options (seccomp, AppArmor, SELinux labels), masked and read-only /proc paths',
    baseline: '`no-new-privileges` (true or false) and `apparmor=docker-default` only',
    restricted: '`no-new-privileges` required (`noNewPrivileges: true`)',
  },
  'host-paths': {
    title: 'Host paths (bind mounts, local volumes over a host path or device)',
    baseline: 'inside the bind allow-list; read-only unless the entry is writable',
    restricted: 'refused',
  },
  'volume-drivers': {
    title: 'Volume drivers and their options',
    baseline:
      '`local` without options, local tmpfs (size, mode, uid, gid), drivers the administrator lists',
    restricted: 'as baseline',
  },
  'network-drivers': {
    title: 'Network drivers and options, of networks created and of networks containers join',
    baseline:
      '`bridge` and `overlay` with their common options; no host interface (macvlan, ipvlan), no existing host bridge; joined networks are named by the id reviewed',
    restricted: 'as baseline',
  },
  'network-addresses': {
    title:
      'Explicit addresses: network subnets, IP ranges, gateways, auxiliary addresses, fixed container addresses',
    baseline: 'inside `DOCKERGRAPH_NETWORK_POOLS` only (without pools the engine picks them)',
    restricted: 'as baseline',
  },
  registries: {
    title:
      'Registries reached by pulls (also `createContainer`’s), pushes, logins and distribution inspects (update checks)',
    baseline: '`DOCKERGRAPH_REGISTRIES` only (default Docker Hub)',
    restricted: 'as baseline',
  },
  sysctls: {
    title: 'Kernel parameters (sysctls)',
    baseline:
      'the namespaced ones only: `net.*` in a network namespace of its own, `kernel.shm*`, `kernel.msg*`, `kernel.sem`, `fs.mqueue.*` in an IPC namespace of its own',
    restricted: 'as baseline',
  },
  'shm-size': {
    title: 'Size of `/dev/shm` (`shmSizeBytes`)',
    baseline: "at most the memory limit, or the engine's default 64 MiB",
    restricted: 'as baseline',
  },
  'engine-settings': {
    title:
      'Cgroup parent, runtime, log drivers that send elsewhere, real-time priority (`rtprio` ulimit)',
    baseline: 'defaults only (log drivers json-file, local, none; `rtprio` 0)',
    restricted: 'as baseline',
  },
  'run-as-root': {
    title: 'Running as root',
    baseline: 'allowed',
    restricted:
      'refused: a numeric non-zero uid, given (`user: "1000"` or `"1000:1000"`) or from the image; a user name may be root',
  },
  'host-side-effects': {
    title: 'Builds, imports, loads, copies into containers and engine plugins',
    baseline: 'refused (they need the `dangerous` permission)',
    restricted: 'refused',
  },
} as const satisfies Record<string, { title: string; baseline: string; restricted: string }>;

export type AdmissionControl = keyof typeof ADMISSION_CONTROLS;

/** Raised when an engine request is refused: every finding is named. */
export class AdmissionDeniedError extends Error {
  override readonly name = 'AdmissionDeniedError';

  constructor(
    message: string,
    readonly level: AdmissionLevel,
    readonly findings: readonly AdmissionFinding[],
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------
// Reading untyped engine bodies

function fieldOf(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function arrayOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

function keysOf(value: unknown): string[] {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? Object.keys(value)
    : [];
}

function stringMapOf(value: unknown): Record<string, string> {
  const map: Record<string, string> = {};
  for (const key of keysOf(value)) {
    const entry = fieldOf(value, key);
    map[key] = typeof entry === 'string' ? entry : JSON.stringify(entry);
  }
  return map;
}

/** Whether an engine field holds nothing: absent, null, false, 0, '' or an empty list or map. */
function isUnset(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') {
    return true;
  }
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.keys(value).length === 0;
}

const finding = (control: AdmissionControl, message: string): AdmissionFinding => ({
  control,
  message,
});

// ---------------------------------------------------------------------------
// Host paths

/** Whether `path` is absolute and written in its normal form (no `.`, `..`, `//` or trailing `/`). */
export function isNormalAbsolutePath(path: string): boolean {
  return (
    path.startsWith('/') && posix.normalize(path) === path && (path === '/' || !path.endsWith('/'))
  );
}

/** The allow-list entry holding `hostPath`, by path segments; none for a path not in normal form. */
export function allowListEntryOf(
  hostPath: string,
  allowList: readonly BindAllowEntry[],
): BindAllowEntry | undefined {
  if (!isNormalAbsolutePath(hostPath)) return undefined;
  return allowList.find(
    (entry) =>
      entry.path === '/' || hostPath === entry.path || hostPath.startsWith(`${entry.path}/`),
  );
}

function hostPathFindings(
  at: string,
  hostPath: string,
  writable: boolean,
  level: AdmissionLevel,
  settings: AdmissionSettings,
): AdmissionFinding[] {
  const quoted = JSON.stringify(hostPath);
  if (level === 'restricted') {
    return [finding('host-paths', `${at} mounts host path ${quoted}`)];
  }
  if (!isNormalAbsolutePath(hostPath)) {
    return [finding('host-paths', `${at} host path ${quoted} is not absolute and normalised`)];
  }
  const entry = allowListEntryOf(hostPath, settings.bindAllowList);
  if (!entry)
    return [finding('host-paths', `${at} host path ${quoted} is outside the bind allow-list`)];
  if (writable && !entry.writable) {
    return [
      finding(
        'host-paths',
        `${at} host path ${quoted} is allow-listed read-only: mount it read-only`,
      ),
    ];
  }
  return [];
}

// ---------------------------------------------------------------------------
// Volumes

/** Options of a local tmpfs volume that only size and own it. */
const TMPFS_MOUNT_OPTIONS = /^(?:size|mode|uid|gid|nr_inodes|nr_blocks)=[\w.%]+$/;

/** Mount options a local bind volume may carry. */
const BIND_MOUNT_OPTIONS = new Set(['bind', 'rbind', 'ro', 'rw']);

/**
 * A volume's driver and options: `local` without options, local tmpfs, a local
 * bind of an allow-listed folder (writable entries only, since a volume is
 * mounted read-write unless each mount says otherwise), or a listed driver.
 */
export function volumeDriverFindings(
  at: string,
  driver: string | undefined,
  options: Readonly<Record<string, string>>,
  level: AdmissionLevel,
  settings: AdmissionSettings,
): AdmissionFinding[] {
  if (driver !== undefined && driver !== '' && driver !== 'local') {
    return settings.volumeDrivers.includes(driver)
      ? []
      : [
          finding(
            'volume-drivers',
            `${at} volume driver ${JSON.stringify(driver)} is not in DOCKERGRAPH_VOLUME_DRIVERS`,
          ),
        ];
  }
  const keys = Object.keys(options);
  if (keys.length === 0) return [];
  const unknown = keys.filter((key) => !['type', 'o', 'device'].includes(key));
  if (unknown.length > 0) {
    return [
      finding(
        'volume-drivers',
        `${at} local volume options ${JSON.stringify(unknown)} are not recognised`,
      ),
    ];
  }
  const type = options.type ?? '';
  const mountOptions = (options.o ?? '').split(',').filter((option) => option !== '');
  if (type === 'tmpfs') {
    const others = mountOptions.filter((option) => !TMPFS_MOUNT_OPTIONS.test(option));
    const device = options.device ?? 'tmpfs';
    if (others.length === 0 && device === 'tmpfs') return [];
    return [
      finding(
        'volume-drivers',
        `${at} tmpfs volume takes only size, mode, uid, gid and nr_inodes options and device "tmpfs"`,
      ),
    ];
  }
  const isBind = mountOptions.includes('bind') || mountOptions.includes('rbind');
  if (type === 'none' && isBind && mountOptions.every((option) => BIND_MOUNT_OPTIONS.has(option))) {
    return hostPathFindings(`${at} device`, options.device ?? '', true, level, settings);
  }
  return [
    finding(
      'volume-drivers',
      `${at} local volume of type ${JSON.stringify(type)} with options ${JSON.stringify(options.o ?? '')} mounts what this level does not allow (allowed: no options, tmpfs, or a bind of a writable allow-listed folder)`,
    ),
  ];
}

// ---------------------------------------------------------------------------
// Containers

/** Capabilities Docker grants by default: adding them back changes nothing. */
const DEFAULT_CAPABILITIES = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'NET_RAW',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);

/**
 * Sysctls the kernel keeps per IPC namespace (the engine's own list of namespaced
 * ones): set in a container's own namespace, they cannot reach the host's settings.
 */
const IPC_SYSCTLS = /^(?:kernel\.shm[a-z_]+|kernel\.msg[a-z_]+|kernel\.sem|fs\.mqueue\.[a-z_]+)$/;

/** The size of `/dev/shm` the engine gives when none is asked for (`DefaultShmSize`). */
const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

/** Whether a namespace mode shares another's namespace instead of having one of its own. */
function sharesNamespace(mode: string): boolean {
  return mode === 'host' || mode.startsWith('container:');
}

/**
 * `HostConfig.Sysctls`: only those of namespaces the container has of its own.
 * `net.*` in the host's or another container's network namespace would change
 * theirs; the same for the IPC ones.
 */
function sysctlFindings(hostConfig: unknown): AdmissionFinding[] {
  const networkMode = stringOf(fieldOf(hostConfig, 'NetworkMode')) ?? '';
  const ipcMode = stringOf(fieldOf(hostConfig, 'IpcMode')) ?? '';
  const refused = keysOf(fieldOf(hostConfig, 'Sysctls')).filter((key) => {
    if (key.startsWith('net.')) return sharesNamespace(networkMode);
    if (IPC_SYSCTLS.test(key)) return sharesNamespace(ipcMode);
    return true;
  });
  return refused.length === 0
    ? []
    : [
        finding(
          'sysctls',
          `HostConfig.Sysctls ${JSON.stringify(refused)} are not kernel parameters of the container's own namespaces`,
        ),
      ];
}

/**
 * `HostConfig.ShmSize`: /dev/shm is a tmpfs charged to the container's memory;
 * beyond the memory limit (or, without one, the engine's default) it would hold
 * host memory that no limit of the container bounds.
 */
function shmSizeFindings(hostConfig: unknown): AdmissionFinding[] {
  const size = fieldOf(hostConfig, 'ShmSize');
  if (isUnset(size)) return [];
  const memory = fieldOf(hostConfig, 'Memory');
  const bound = Math.max(DEFAULT_SHM_SIZE, typeof memory === 'number' ? memory : 0);
  return typeof size === 'number' && size > 0 && size <= bound
    ? []
    : [
        finding(
          'shm-size',
          `HostConfig.ShmSize ${JSON.stringify(size)} exceeds ${bound} bytes (the memory limit, or 64 MiB without one)`,
        ),
      ];
}

/**
 * `HostConfig.Ulimits`: limits only, except `rtprio`, which lets the container's
 * processes take real-time scheduling, ahead of every process of the host.
 */
function ulimitFindings(hostConfig: unknown): AdmissionFinding[] {
  return arrayOf(fieldOf(hostConfig, 'Ulimits')).flatMap((ulimit, index) => {
    if (fieldOf(ulimit, 'Name') !== 'rtprio') return [];
    const soft = fieldOf(ulimit, 'Soft');
    const hard = fieldOf(ulimit, 'Hard');
    return isUnset(soft) && isUnset(hard)
      ? []
      : [
          finding(
            'engine-settings',
            `HostConfig.Ulimits[${index}] "rtprio" grants real-time scheduling priority`,
          ),
        ];
  });
}

/** Log drivers that keep logs with the engine, and the options they take. */
const LOCAL_LOG_DRIVERS = new Set(['', 'json-file', 'local', 'none']);
const LOCAL_LOG_OPTIONS = new Set([
  'max-size',
  'max-file',
  'compress',
  'mode',
  'max-buffer-size',
  'labels',
  'labels-regex',
  'env',
  'env-regex',
  'tag',
]);

/** HostConfig fields of namespaces that "host" shares with the host. */
const NAMESPACE_MODES = [
  'NetworkMode',
  'PidMode',
  'IpcMode',
  'UTSMode',
  'UsernsMode',
  'CgroupnsMode',
];

/** Top-level fields of a create body that hold nothing the host cares about. */
const PLAIN_CONFIG_FIELDS = new Set([
  'Image',
  'Cmd',
  'Entrypoint',
  'Env',
  'Labels',
  'WorkingDir',
  'User',
  'Hostname',
  'Domainname',
  'Tty',
  'OpenStdin',
  'StdinOnce',
  'AttachStdin',
  'AttachStdout',
  'AttachStderr',
  'ExposedPorts',
  'StopSignal',
  'StopTimeout',
  'Healthcheck',
  'ArgsEscaped',
  'Volumes',
  'MacAddress',
  'NetworkDisabled',
  'HostConfig',
  'NetworkingConfig',
]);

/** HostConfig fields that limit the container or publish its ports, and need no review. */
const PLAIN_HOST_CONFIG_FIELDS = new Set([
  'Memory',
  'MemoryReservation',
  'MemorySwap',
  'MemorySwappiness',
  'NanoCpus',
  'CpuShares',
  'CpuPeriod',
  'CpuQuota',
  'CpuRealtimePeriod',
  'CpuRealtimeRuntime',
  'CpusetCpus',
  'CpusetMems',
  'BlkioWeight',
  'PidsLimit',
  'OomKillDisable',
  'OomScoreAdj',
  'KernelMemory',
  'KernelMemoryTCP',
  'PortBindings',
  'PublishAllPorts',
  'RestartPolicy',
  'AutoRemove',
  'Init',
  'ReadonlyRootfs',
  'Dns',
  'DnsOptions',
  'DnsSearch',
  'ExtraHosts',
  'GroupAdd',
  'ConsoleSize',
  'Isolation',
  'Tmpfs',
  'ContainerIDFile',
]);

/** HostConfig fields the review below reads. */
const REVIEWED_HOST_CONFIG_FIELDS = new Set([
  'Privileged',
  ...NAMESPACE_MODES,
  'CapAdd',
  'CapDrop',
  'Devices',
  'DeviceRequests',
  'DeviceCgroupRules',
  'SecurityOpt',
  'MaskedPaths',
  'ReadonlyPaths',
  'Binds',
  'Mounts',
  'VolumesFrom',
  'VolumeDriver',
  'Sysctls',
  'ShmSize',
  'Ulimits',
  'CgroupParent',
  'Runtime',
  'LogConfig',
  'Links',
]);

/** What one review needs besides the body. */
interface ReviewScope {
  readonly level: AdmissionLevel;
  readonly settings: AdmissionSettings;
  readonly lookups: AdmissionLookups;
  /** Containers already being reviewed, against loops of `container:` modes. */
  readonly seen: ReadonlySet<string>;
  /** Where the request's own references record the ids they resolved to; none in nested reviews. */
  readonly pins: Pins | undefined;
}

/** The ids a review resolved the request's names to, by the reference as written. */
interface Pins {
  readonly containers: Map<string, string>;
  readonly networks: Map<string, string>;
}

/** How deep `container:<x>` and `volumesFrom` chains are followed before they are refused. */
const MAX_CONTAINER_CHAIN = 4;

/**
 * Why `user` ("uid[:gid]", "name[:group]") may run as root, or null for a numeric
 * non-zero uid. As Kubernetes' runAsNonRoot, only a number proves it: a user name
 * is looked up in the container's /etc/passwd, where any name may be uid 0. The
 * engine reads a numeric user with Go's Atoi, so "00" and "+0" are uid 0 too:
 * only plain digits count, up to the largest uid the kernel takes.
 */
function rootUserProblem(user: string): string | null {
  const uid = user.split(':')[0] ?? '';
  if (!/^[0-9]{1,10}$/.test(uid)) {
    return uid === '' || uid === 'root'
      ? 'is root'
      : 'is not a numeric uid (a user name may be uid 0 in the image)';
  }
  const value = Number(uid);
  if (value === 0) return 'is uid 0';
  return value > 4_294_967_294 ? 'is no valid uid' : null;
}

function capabilityName(value: unknown): string {
  return String(value).toUpperCase().replace(/^CAP_/, '');
}

function securityOptionFindings(
  at: string,
  options: unknown,
  level: AdmissionLevel,
): AdmissionFinding[] {
  const list = arrayOf(options).map(String);
  const noNewPrivileges = (option: string) =>
    /^no-new-privileges(?:[:=]true)?$/.test(option.trim());
  // Turning the bit off, or naming the engine's default AppArmor profile, is what a container
  // has anyway.
  const unchanged = (option: string) =>
    /^(?:no-new-privileges[:=]false|apparmor[:=]docker-default)$/.test(option.trim());
  const relaxing = list.filter((option) => !noNewPrivileges(option) && !unchanged(option));
  const findings: AdmissionFinding[] = [];
  if (relaxing.length > 0) {
    findings.push(
      finding('security-options', `${at} ${JSON.stringify(relaxing)} relaxes confinement`),
    );
  }
  // The engine reads the entries in order: the last no-new-privileges one decides.
  const lastNoNewPrivileges = list
    .filter((option) => option.trim().startsWith('no-new-privileges'))
    .at(-1);
  if (
    level === 'restricted' &&
    !(lastNoNewPrivileges !== undefined && noNewPrivileges(lastNoNewPrivileges))
  ) {
    findings.push(finding('security-options', `${at} must hold "no-new-privileges"`));
  }
  return findings;
}

function capabilityFindings(hostConfig: unknown, level: AdmissionLevel): AdmissionFinding[] {
  const added = arrayOf(fieldOf(hostConfig, 'CapAdd')).map(capabilityName);
  const allowed =
    level === 'restricted'
      ? (name: string) => name === 'NET_BIND_SERVICE'
      : (name: string) => DEFAULT_CAPABILITIES.has(name);
  const refused = added.filter((name) => !allowed(name));
  const findings: AdmissionFinding[] = [];
  if (refused.length > 0) {
    findings.push(
      finding('capabilities', `HostConfig.CapAdd ${JSON.stringify(refused)} adds capabilities`),
    );
  }
  if (level === 'restricted') {
    const dropped = arrayOf(fieldOf(hostConfig, 'CapDrop')).map(capabilityName);
    if (!dropped.includes('ALL')) {
      findings.push(finding('capabilities', 'HostConfig.CapDrop must hold "ALL"'));
    }
  }
  return findings;
}

function logConfigFindings(logConfig: unknown): AdmissionFinding[] {
  if (isUnset(logConfig)) return [];
  const type = stringOf(fieldOf(logConfig, 'Type')) ?? '';
  if (!LOCAL_LOG_DRIVERS.has(type)) {
    return [
      finding(
        'engine-settings',
        `HostConfig.LogConfig.Type ${JSON.stringify(type)} sends logs off the engine`,
      ),
    ];
  }
  const unknown = keysOf(fieldOf(logConfig, 'Config')).filter((key) => !LOCAL_LOG_OPTIONS.has(key));
  return unknown.length > 0
    ? [
        finding(
          'engine-settings',
          `HostConfig.LogConfig.Config ${JSON.stringify(unknown)} are not recognised`,
        ),
      ]
    : [];
}

async function namedVolumeFindings(
  at: string,
  name: string,
  scope: ReviewScope,
): Promise<AdmissionFinding[]> {
  const volume = await scope.lookups.volume(name);
  // A volume that does not exist yet is made by the engine with the default driver.
  if (!volume) return [];
  return volumeDriverFindings(
    `${at} (volume ${JSON.stringify(name)})`,
    volume.driver,
    volume.options,
    scope.level,
    scope.settings,
  );
}

/** `HostConfig.Binds`: "source:target[:options]"; a source without "/" names a volume. */
async function bindsFindings(binds: unknown, scope: ReviewScope): Promise<AdmissionFinding[]> {
  const findings: AdmissionFinding[] = [];
  for (const [index, entry] of arrayOf(binds).entries()) {
    const bind = String(entry);
    const [source = '', , options = ''] = bind.split(':');
    const at = `HostConfig.Binds[${index}]`;
    const readOnly = options.split(',').includes('ro');
    if (source.startsWith('/') || source.startsWith('.')) {
      findings.push(...hostPathFindings(at, source, !readOnly, scope.level, scope.settings));
    } else if (source !== '') {
      findings.push(...(await namedVolumeFindings(at, source, scope)));
    }
  }
  return findings;
}

/** `HostConfig.Mounts`: binds, volumes (existing ones looked up, new ones by their driver options) and tmpfs. */
async function mountsFindings(mounts: unknown, scope: ReviewScope): Promise<AdmissionFinding[]> {
  const findings: AdmissionFinding[] = [];
  for (const [index, mount] of arrayOf(mounts).entries()) {
    const at = `HostConfig.Mounts[${index}]`;
    const type = stringOf(fieldOf(mount, 'Type')) ?? '';
    const source = stringOf(fieldOf(mount, 'Source')) ?? '';
    if (type === 'bind') {
      const readOnly = fieldOf(mount, 'ReadOnly') === true;
      findings.push(...hostPathFindings(at, source, !readOnly, scope.level, scope.settings));
      const propagation = stringOf(fieldOf(fieldOf(mount, 'BindOptions'), 'Propagation')) ?? '';
      if (!['', 'private', 'rprivate'].includes(propagation)) {
        findings.push(
          finding(
            'host-paths',
            `${at}.BindOptions.Propagation ${JSON.stringify(propagation)} shares mounts with the host`,
          ),
        );
      }
    } else if (type === 'volume') {
      const driverConfig = fieldOf(fieldOf(mount, 'VolumeOptions'), 'DriverConfig');
      if (!isUnset(driverConfig)) {
        findings.push(
          ...volumeDriverFindings(
            `${at}.VolumeOptions.DriverConfig`,
            stringOf(fieldOf(driverConfig, 'Name')),
            stringMapOf(fieldOf(driverConfig, 'Options')),
            scope.level,
            scope.settings,
          ),
        );
      }
      if (source !== '') findings.push(...(await namedVolumeFindings(at, source, scope)));
    } else if (type !== 'tmpfs') {
      findings.push(
        finding('unrecognised-field', `${at}.Type ${JSON.stringify(type)} is not recognised`),
      );
    }
  }
  return findings;
}

/** A container whose namespaces or volumes a new one takes: it must pass this level itself. */
async function sharedContainerFindings(
  at: string,
  reference: string,
  scope: ReviewScope,
): Promise<AdmissionFinding[]> {
  const name = reference.trim();
  if (scope.seen.has(name) || scope.seen.size >= MAX_CONTAINER_CHAIN) {
    return [finding('shared-namespaces', `${at} chains containers too deep`)];
  }
  const target = await scope.lookups.container(name);
  if (!target)
    return [finding('shared-namespaces', `${at}: no such container ${JSON.stringify(name)}`)];
  // The engine looks the name up again when it starts the container: it gets the id reviewed.
  scope.pins?.containers.set(reference, target.id);
  const inner = await reviewContainerConfig(
    target.config,
    { ...scope, pins: undefined, seen: new Set([...scope.seen, name, target.id]) },
    false,
  );
  return inner.length === 0
    ? []
    : [
        finding(
          'shared-namespaces',
          `${at} takes from container ${JSON.stringify(name)}, which this level would refuse (${inner.map((item) => item.message).join('; ')})`,
        ),
      ];
}

async function hostConfigFindings(
  hostConfig: unknown,
  scope: ReviewScope,
  isNew: boolean,
): Promise<AdmissionFinding[]> {
  const { level } = scope;
  const findings: AdmissionFinding[] = [];
  for (const key of isNew ? keysOf(hostConfig) : []) {
    if (PLAIN_HOST_CONFIG_FIELDS.has(key) || REVIEWED_HOST_CONFIG_FIELDS.has(key)) continue;
    if (isUnset(fieldOf(hostConfig, key))) continue;
    findings.push(
      finding('unrecognised-field', `HostConfig.${key} is not recognised by the admission policy`),
    );
  }
  if (fieldOf(hostConfig, 'Privileged') === true) {
    findings.push(finding('privileged', 'HostConfig.Privileged'));
  }
  for (const mode of NAMESPACE_MODES) {
    const value = stringOf(fieldOf(hostConfig, mode)) ?? '';
    if (value === 'host') {
      findings.push(finding('host-namespaces', `HostConfig.${mode} "host"`));
    } else if (mode === 'NetworkMode' && value !== '' && !value.startsWith('container:')) {
      findings.push(
        ...(await networkJoinFindings(`HostConfig.NetworkMode`, value, scope)).findings,
      );
    } else if (value.startsWith('container:')) {
      findings.push(
        ...(await sharedContainerFindings(
          `HostConfig.${mode} ${JSON.stringify(value)}`,
          value.slice('container:'.length),
          scope,
        )),
      );
    }
  }
  findings.push(...capabilityFindings(hostConfig, level));
  for (const devices of ['Devices', 'DeviceRequests', 'DeviceCgroupRules']) {
    if (!isUnset(fieldOf(hostConfig, devices))) {
      findings.push(
        finding('devices', `HostConfig.${devices} hands host devices to the container`),
      );
    }
  }
  findings.push(
    ...securityOptionFindings('HostConfig.SecurityOpt', fieldOf(hostConfig, 'SecurityOpt'), level),
  );
  for (const paths of ['MaskedPaths', 'ReadonlyPaths']) {
    // Setting these replaces the engine's defaults, which hide host kernel files under /proc.
    if (fieldOf(hostConfig, paths) !== undefined && fieldOf(hostConfig, paths) !== null) {
      findings.push(finding('security-options', `HostConfig.${paths} unmasks /proc`));
    }
  }
  findings.push(...(await bindsFindings(fieldOf(hostConfig, 'Binds'), scope)));
  findings.push(...(await mountsFindings(fieldOf(hostConfig, 'Mounts'), scope)));
  for (const [index, entry] of arrayOf(fieldOf(hostConfig, 'VolumesFrom')).entries()) {
    const [container = ''] = String(entry).split(':');
    findings.push(
      ...(await sharedContainerFindings(`HostConfig.VolumesFrom[${index}]`, container, scope)),
    );
  }
  // Legacy links copy the environment of the linked container into the new one.
  for (const [index, entry] of arrayOf(fieldOf(hostConfig, 'Links')).entries()) {
    const [container = ''] = String(entry).split(':');
    findings.push(
      ...(await sharedContainerFindings(`HostConfig.Links[${index}]`, container, scope)),
    );
  }
  const volumeDriver = stringOf(fieldOf(hostConfig, 'VolumeDriver')) ?? '';
  if (volumeDriver !== '') {
    findings.push(
      ...volumeDriverFindings('HostConfig.VolumeDriver', volumeDriver, {}, level, scope.settings),
    );
  }
  findings.push(...sysctlFindings(hostConfig));
  findings.push(...shmSizeFindings(hostConfig));
  findings.push(...ulimitFindings(hostConfig));
  if (!isUnset(fieldOf(hostConfig, 'CgroupParent'))) {
    findings.push(
      finding('engine-settings', 'HostConfig.CgroupParent places the container in another cgroup'),
    );
  }
  const runtime = stringOf(fieldOf(hostConfig, 'Runtime')) ?? '';
  if (runtime !== '' && runtime !== 'runc') {
    findings.push(
      finding(
        'engine-settings',
        `HostConfig.Runtime ${JSON.stringify(runtime)} is not the default runtime`,
      ),
    );
  }
  findings.push(...logConfigFindings(fieldOf(hostConfig, 'LogConfig')));
  return findings;
}

/**
 * The findings of a container configuration: a create body, or (`isNew` false)
 * an existing container's settings, whose identity fields are not reviewed.
 */
async function reviewContainerConfig(
  body: ContainerCreateShape,
  scope: ReviewScope,
  isNew: boolean,
): Promise<AdmissionFinding[]> {
  const findings: AdmissionFinding[] = [];
  if (isNew) {
    for (const key of Object.keys(body)) {
      if (!PLAIN_CONFIG_FIELDS.has(key) && !isUnset(body[key])) {
        findings.push(
          finding('unrecognised-field', `${key} is not recognised by the admission policy`),
        );
      }
    }
  }
  findings.push(...(await hostConfigFindings(body.HostConfig, scope, isNew)));
  findings.push(...(await networkingConfigFindings(body, scope, isNew)));
  if (scope.level === 'restricted') {
    const given = stringOf(body.User);
    const image = stringOf(body.Image);
    if (given !== undefined && given !== '') {
      const problem = rootUserProblem(given);
      if (problem)
        findings.push(finding('run-as-root', `User ${JSON.stringify(given)} ${problem}`));
    } else {
      const user = image ? await scope.lookups.imageUser(image) : null;
      const problem = user === null ? 'is unknown' : rootUserProblem(user);
      if (problem) {
        findings.push(
          finding(
            'run-as-root',
            `the user of image ${JSON.stringify(image ?? '')} (${JSON.stringify(user ?? '')}) ${problem}; give "user" as a numeric non-zero uid`,
          ),
        );
      }
    }
  }
  return findings;
}

/** Network names the engine reserves for its own networks (and "default", its bridge). */
const PREDEFINED_NETWORKS = new Set(['bridge', 'default', 'none']);

/**
 * A network a container joins (`NetworkMode`, an `EndpointsConfig` key, a
 * connect): it must pass the driver rules of a network this level would
 * create. Its id is pinned, and answered for the endpoint's `NetworkID`.
 */
async function networkJoinFindings(
  at: string,
  reference: string,
  scope: ReviewScope,
): Promise<{ findings: AdmissionFinding[]; id: string | undefined; missing?: true }> {
  if (PREDEFINED_NETWORKS.has(reference)) return { findings: [], id: undefined };
  if (reference === 'host') {
    return { findings: [finding('host-namespaces', `${at} "host"`)], id: undefined };
  }
  const network = await scope.lookups.network(reference);
  if (!network) {
    return {
      findings: [finding('network-drivers', `${at}: no such network ${JSON.stringify(reference)}`)],
      id: undefined,
      missing: true,
    };
  }
  if (network.name === 'host') {
    return { findings: [finding('host-namespaces', `${at} "host"`)], id: network.id };
  }
  // The engine's own bridge and "none" network, named by id: no user network can take their
  // names, and their options (the docker0 bridge) are the engine's.
  if (network.name === 'bridge' || network.name === 'none') {
    return { findings: [], id: network.id };
  }
  scope.pins?.networks.set(reference, network.id);
  const described = `${at} (network ${JSON.stringify(network.name)})`;
  const findings = networkDriverFindings(described, network.driver, optionsGiven(network), {
    driver: network.ipamDriver,
    options: network.ipamOptions,
  });
  if (network.configFrom !== '') {
    findings.push(
      finding(
        'network-drivers',
        `${described} takes its options from config-only network ${JSON.stringify(network.configFrom)}, which the policy does not review`,
      ),
    );
  }
  return { findings, id: network.id };
}

/**
 * Options the swarm writes on every overlay network it makes: the VXLAN id it allocated
 * (`com.docker.network.driver.overlay.vxlanid_list`). Given at a network's creation, the
 * same option would pick another network's id and share its traffic, so creation reviews
 * it as any option; on a network joined, it is the swarm's own choice.
 */
const OVERLAY_OPTIONS_SET_BY_THE_SWARM = new Set([
  'com.docker.network.driver.overlay.vxlanid_list',
]);

/** The driver options of a joined network, less those the swarm set on it itself. */
function optionsGiven(network: {
  readonly driver: string;
  readonly options: Readonly<Record<string, string>>;
}): Readonly<Record<string, string>> {
  if (network.driver !== 'overlay') return network.options;
  return Object.fromEntries(
    Object.entries(network.options).filter(([key]) => !OVERLAY_OPTIONS_SET_BY_THE_SWARM.has(key)),
  );
}

/** Fields of an endpoint's settings a request may give. */
const ENDPOINT_FIELDS = new Set(['IPAMConfig', 'Aliases', 'Links', 'MacAddress', 'NetworkID']);

/**
 * The settings of one endpoint (`EndpointsConfig` entry, a connect's
 * `EndpointConfig`). `NetworkID` is the network the engine really joins when it
 * starts the container, whatever the key says: it may only repeat the network
 * reviewed (`networkId`; none for the engine's own networks).
 */
function endpointFindings(
  at: string,
  endpoint: unknown,
  networkId: string | undefined,
  settings: AdmissionSettings,
): AdmissionFinding[] {
  const findings: AdmissionFinding[] = [];
  for (const key of keysOf(endpoint)) {
    if (!ENDPOINT_FIELDS.has(key) && !isUnset(fieldOf(endpoint, key))) {
      findings.push(
        finding('unrecognised-field', `${at}.${key} is not recognised by the admission policy`),
      );
    }
  }
  const networkIdGiven = stringOf(fieldOf(endpoint, 'NetworkID')) ?? '';
  if (!isUnset(fieldOf(endpoint, 'NetworkID')) && networkIdGiven !== networkId) {
    findings.push(
      finding(
        'network-drivers',
        `${at}.NetworkID ${JSON.stringify(networkIdGiven)} is not the network the entry names`,
      ),
    );
  }
  const ipam = fieldOf(endpoint, 'IPAMConfig');
  for (const key of keysOf(ipam)) {
    const value = fieldOf(ipam, key);
    if (key === 'IPv4Address' || key === 'IPv6Address') {
      if (!isUnset(value)) {
        findings.push(
          ...addressFindings(`${at}.IPAMConfig.${key}`, String(value), false, settings),
        );
      }
    } else if (key === 'LinkLocalIPs') {
      for (const [index, address] of arrayOf(value).entries()) {
        findings.push(
          ...addressFindings(
            `${at}.IPAMConfig.LinkLocalIPs[${index}]`,
            String(address),
            false,
            settings,
          ),
        );
      }
    } else if (!isUnset(value)) {
      findings.push(
        finding(
          'unrecognised-field',
          `${at}.IPAMConfig.${key} is not recognised by the admission policy`,
        ),
      );
    }
  }
  return findings;
}

/** `NetworkingConfig`: every network the container joins, and its endpoint settings when new. */
async function networkingConfigFindings(
  body: ContainerCreateShape,
  scope: ReviewScope,
  isNew: boolean,
): Promise<AdmissionFinding[]> {
  const findings: AdmissionFinding[] = [];
  const networking = body.NetworkingConfig;
  for (const key of isNew ? keysOf(networking) : []) {
    if (key !== 'EndpointsConfig' && !isUnset(fieldOf(networking, key))) {
      findings.push(
        finding(
          'unrecognised-field',
          `NetworkingConfig.${key} is not recognised by the admission policy`,
        ),
      );
    }
  }
  const endpoints = fieldOf(networking, 'EndpointsConfig');
  const networkMode = stringOf(fieldOf(body.HostConfig, 'NetworkMode')) ?? '';
  for (const key of keysOf(endpoints)) {
    const at = `NetworkingConfig.EndpointsConfig[${JSON.stringify(key)}]`;
    // Reported once, by the NetworkMode review, when both name the host network.
    if (key === 'host' && networkMode === 'host') continue;
    const joined = await networkJoinFindings(at, key, scope);
    findings.push(...joined.findings);
    if (isNew) {
      findings.push(...endpointFindings(at, fieldOf(endpoints, key), joined.id, scope.settings));
    }
  }
  return findings;
}

/**
 * An explicit address (`prefix`: a subnet or range) a request gives: inside
 * one of the administrator's pools, or the engine must pick it. An address
 * outside them can take over host routes (a subnet over a public resolver's
 * address sends the host's own traffic into the bridge) or squat another's.
 */
function addressFindings(
  at: string,
  text: string,
  prefix: boolean,
  settings: AdmissionSettings,
): AdmissionFinding[] {
  const quoted = JSON.stringify(text);
  const parsed = prefix ? parseIpPrefix(text) : parseIpAddress(text);
  if (!parsed) {
    return [
      finding('network-addresses', `${at} ${quoted} is not an IP ${prefix ? 'prefix' : 'address'}`),
    ];
  }
  const inside = settings.networkPools.some((pool) =>
    'length' in parsed ? prefixCovers(pool, parsed) : prefixHolds(pool, parsed),
  );
  if (inside) return [];
  return [
    finding(
      'network-addresses',
      settings.networkPools.length === 0
        ? `${at} ${quoted} is explicit, and DOCKERGRAPH_NETWORK_POOLS lists no pools: leave it to the engine`
        : `${at} ${quoted} is outside DOCKERGRAPH_NETWORK_POOLS`,
    ),
  ];
}

/** A create body naming what its review resolved by the ids it resolved them to. */
function pinContainerCreate(body: ContainerCreateShape, pins: Pins): ContainerCreateShape {
  const container = (reference: string) => pins.containers.get(reference) ?? reference;
  const network = (reference: string) => pins.networks.get(reference) ?? reference;
  const hostConfig = body.HostConfig;
  if (pins.containers.size === 0 && pins.networks.size === 0) return body;
  if (typeof hostConfig !== 'object' || hostConfig === null || Array.isArray(hostConfig)) {
    return body;
  }
  const pinned: Record<string, unknown> = { ...hostConfig };
  for (const mode of NAMESPACE_MODES) {
    const value = stringOf(fieldOf(hostConfig, mode));
    if (value === undefined) continue;
    if (value.startsWith('container:')) {
      pinned[mode] = `container:${container(value.slice('container:'.length))}`;
    } else if (mode === 'NetworkMode') {
      pinned[mode] = network(value);
    }
  }
  // "container[:ro|rw]": the mode stays.
  if (Array.isArray(fieldOf(hostConfig, 'VolumesFrom'))) {
    pinned.VolumesFrom = arrayOf(fieldOf(hostConfig, 'VolumesFrom')).map((entry) => {
      const [name = '', ...mode] = String(entry).split(':');
      return [container(name), ...mode].join(':');
    });
  }
  // "container[:alias]": the alias defaults to the name the request gave.
  if (Array.isArray(fieldOf(hostConfig, 'Links'))) {
    pinned.Links = arrayOf(fieldOf(hostConfig, 'Links')).map((entry) => {
      const [name = '', alias] = String(entry).split(':');
      return `${container(name)}:${alias ?? name}`;
    });
  }
  const result: Record<string, unknown> = { ...body, HostConfig: pinned };
  const endpoints = fieldOf(body.NetworkingConfig, 'EndpointsConfig');
  if (keysOf(endpoints).length > 0) {
    const pinnedEndpoints: Record<string, unknown> = {};
    for (const key of keysOf(endpoints)) {
      const id = pins.networks.get(key);
      const endpoint = fieldOf(endpoints, key);
      // The engine joins the endpoint's NetworkID when set, whatever the key names.
      pinnedEndpoints[id ?? key] =
        id === undefined ? endpoint : { ...(endpoint as object | null), NetworkID: id };
    }
    result.NetworkingConfig = {
      ...(body.NetworkingConfig as object),
      EndpointsConfig: pinnedEndpoints,
    };
  }
  return result;
}

/**
 * Reviews a `POST /containers/create` body at `level`; the body to send names
 * the containers and networks it takes from by the ids the review inspected.
 */
export async function admitContainerCreate(
  body: ContainerCreateShape,
  level: AdmissionLevel,
  settings: AdmissionSettings,
  lookups: AdmissionLookups,
): Promise<{ findings: AdmissionFinding[]; body: ContainerCreateShape }> {
  if (level === 'privileged') return { findings: [], body };
  const pins: Pins = { containers: new Map(), networks: new Map() };
  const findings = await reviewContainerConfig(
    body,
    { level, settings, lookups, seen: new Set(), pins },
    true,
  );
  return { findings, body: pinContainerCreate(body, pins) };
}

/** The findings of a `POST /containers/create` body at `level` (see {@link admitContainerCreate}). */
export async function reviewContainerCreate(
  body: ContainerCreateShape,
  level: AdmissionLevel,
  settings: AdmissionSettings,
  lookups: AdmissionLookups,
): Promise<AdmissionFinding[]> {
  return (await admitContainerCreate(body, level, settings, lookups)).findings;
}

/** Fields of a `POST /networks/{id}/connect` body. */
const CONNECT_FIELDS = new Set(['Container', 'EndpointConfig']);

/**
 * Reviews a `POST /networks/{id}/connect` of network `reference`: the network
 * as a create would be, and the endpoint's settings. Answers the network's id
 * to send the connect to, and the body with `NetworkID` pinned to it.
 */
export async function admitNetworkConnect(
  reference: string,
  body: unknown,
  level: AdmissionLevel,
  settings: AdmissionSettings,
  lookups: AdmissionLookups,
): Promise<{ findings: AdmissionFinding[]; network: string; body: unknown; missing: boolean }> {
  if (level === 'privileged') return { findings: [], network: reference, body, missing: false };
  const findings: AdmissionFinding[] = [];
  for (const key of keysOf(body)) {
    if (!CONNECT_FIELDS.has(key) && !isUnset(fieldOf(body, key))) {
      findings.push(
        finding('unrecognised-field', `${key} is not recognised by the admission policy`),
      );
    }
  }
  const pins: Pins = { containers: new Map(), networks: new Map() };
  const scope: ReviewScope = { level, settings, lookups, seen: new Set(), pins };
  const joined = await networkJoinFindings('network', reference, scope);
  // A missing network is answered as the engine would answer it (`missing`), not refused.
  if (!joined.missing) findings.push(...joined.findings);
  const endpoint = fieldOf(body, 'EndpointConfig');
  findings.push(...endpointFindings('EndpointConfig', endpoint, joined.id, settings));
  const missing = joined.missing === true;
  const id = pins.networks.get(reference);
  if (id === undefined) return { findings, network: reference, body, missing };
  // For a stopped container the engine keeps the endpoint and joins its NetworkID at start.
  const pinnedBody = {
    ...(body as object),
    EndpointConfig: { ...(endpoint as object | null), NetworkID: id },
  };
  return { findings, network: id, body: pinnedBody, missing };
}

/** Fields of `POST /containers/{id}/update` that only limit the container. */
const UPDATE_FIELDS = new Set([...PLAIN_HOST_CONFIG_FIELDS, 'RestartPolicy']);

/** Reviews a `POST /containers/{id}/update` body (resources and restart policy). */
export function reviewContainerUpdate(body: unknown, level: AdmissionLevel): AdmissionFinding[] {
  if (level === 'privileged') return [];
  return keysOf(body).flatMap((key) => {
    if (UPDATE_FIELDS.has(key) || isUnset(fieldOf(body, key))) return [];
    return ['Devices', 'DeviceRequests', 'DeviceCgroupRules'].includes(key)
      ? [finding('devices', `${key} hands host devices to the container`)]
      : [finding('unrecognised-field', `${key} is not recognised by the admission policy`)];
  });
}

/** Reviews a `POST /volumes/create` body. */
export function reviewVolumeCreate(
  body: unknown,
  level: AdmissionLevel,
  settings: AdmissionSettings,
): AdmissionFinding[] {
  if (level === 'privileged') return [];
  return volumeDriverFindings(
    'DriverOpts',
    stringOf(fieldOf(body, 'Driver')),
    stringMapOf(fieldOf(body, 'DriverOpts')),
    level,
    settings,
  );
}

/** Options of the bridge and overlay drivers that change only the network itself. */
const NETWORK_OPTIONS = new Set([
  'com.docker.network.bridge.enable_icc',
  'com.docker.network.bridge.enable_ip_masquerade',
  'com.docker.network.bridge.host_binding_ipv4',
  'com.docker.network.driver.mtu',
  'com.docker.network.container_iface_prefix',
  'encrypted',
]);

const NETWORK_FIELDS = new Set([
  'Name',
  'CheckDuplicate',
  'Driver',
  'Internal',
  'Attachable',
  'EnableIPv6',
  'Options',
  'Labels',
  'IPAM',
  'Scope',
]);

/**
 * The driver, driver options and IPAM driver of a network, made or joined:
 * bridge and overlay with the options of {@link NETWORK_OPTIONS}, the default
 * IPAM driver without options.
 */
function networkDriverFindings(
  at: string,
  driver: string,
  options: unknown,
  ipam: { driver: string; options: unknown },
): AdmissionFinding[] {
  const findings: AdmissionFinding[] = [];
  const prefix = at === '' ? '' : `${at} `;
  if (!['', 'bridge', 'overlay'].includes(driver)) {
    findings.push(
      finding(
        'network-drivers',
        `${prefix}Driver ${JSON.stringify(driver)} is not bridge or overlay`,
      ),
    );
  }
  const unknown = keysOf(options).filter((key) => !NETWORK_OPTIONS.has(key));
  if (unknown.length > 0) {
    findings.push(
      finding('network-drivers', `${prefix}Options ${JSON.stringify(unknown)} are not recognised`),
    );
  }
  if (!['', 'default'].includes(ipam.driver) || !isUnset(ipam.options)) {
    findings.push(
      finding('network-drivers', `${prefix}IPAM other than the default driver without options`),
    );
  }
  return findings;
}

/** Fields of one `IPAM.Config` entry: each address in it is explicit. */
const IPAM_CONFIG_FIELDS = new Set(['Subnet', 'IPRange', 'Gateway', 'AuxiliaryAddresses']);

/** Reviews a `POST /networks/create` body. */
export function reviewNetworkCreate(
  body: unknown,
  level: AdmissionLevel,
  settings: AdmissionSettings,
): AdmissionFinding[] {
  if (level === 'privileged') return [];
  const findings: AdmissionFinding[] = [];
  for (const key of keysOf(body)) {
    if (!NETWORK_FIELDS.has(key) && !isUnset(fieldOf(body, key))) {
      findings.push(
        finding('unrecognised-field', `${key} is not recognised by the admission policy`),
      );
    }
  }
  const ipam = fieldOf(body, 'IPAM');
  findings.push(
    ...networkDriverFindings(
      '',
      stringOf(fieldOf(body, 'Driver')) ?? '',
      fieldOf(body, 'Options'),
      { driver: stringOf(fieldOf(ipam, 'Driver')) ?? '', options: fieldOf(ipam, 'Options') },
    ),
  );
  for (const key of keysOf(ipam)) {
    if (!['Driver', 'Config', 'Options'].includes(key) && !isUnset(fieldOf(ipam, key))) {
      findings.push(
        finding('unrecognised-field', `IPAM.${key} is not recognised by the admission policy`),
      );
    }
  }
  for (const [index, config] of arrayOf(fieldOf(ipam, 'Config')).entries()) {
    const at = `IPAM.Config[${index}]`;
    for (const key of keysOf(config)) {
      const value = fieldOf(config, key);
      if (isUnset(value)) continue;
      if (!IPAM_CONFIG_FIELDS.has(key)) {
        findings.push(
          finding('unrecognised-field', `${at}.${key} is not recognised by the admission policy`),
        );
      } else if (key === 'AuxiliaryAddresses') {
        for (const name of keysOf(value)) {
          findings.push(
            ...addressFindings(
              `${at}.AuxiliaryAddresses[${JSON.stringify(name)}]`,
              String(fieldOf(value, name)),
              false,
              settings,
            ),
          );
        }
      } else {
        findings.push(
          ...addressFindings(`${at}.${key}`, String(value), key !== 'Gateway', settings),
        );
      }
    }
  }
  return findings;
}

/** Reviews a `POST /containers/{id}/exec` body. */
export function reviewExecCreate(body: unknown, level: AdmissionLevel): AdmissionFinding[] {
  if (level === 'privileged') return [];
  const findings: AdmissionFinding[] = [];
  if (fieldOf(body, 'Privileged') === true) findings.push(finding('privileged', 'Privileged'));
  // An empty User runs as the container's user, which restricted made non-root at create.
  const user = stringOf(fieldOf(body, 'User')) ?? '';
  const problem = level === 'restricted' && user !== '' ? rootUserProblem(user) : null;
  if (problem) findings.push(finding('run-as-root', `User ${JSON.stringify(user)} ${problem}`));
  return findings;
}

// ---------------------------------------------------------------------------
// Registries

/** The names of Docker Hub's registry: the engine sends all of them to the same place. */
const DOCKER_HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** A registry host[:port] as settings and reviews compare them: lowercase, Docker Hub as `docker.io`. */
export function canonicalRegistry(host: string): string {
  const lower = host.toLowerCase();
  return DOCKER_HUB_HOSTS.has(lower) ? 'docker.io' : lower;
}

/**
 * A registry the engine is to connect to (a pull, a push, a login), as image
 * references name it: only those listed. Any other host:port would make the
 * engine reach whatever it names, from the engine's network (an internal
 * service, a cloud metadata address).
 */
export function reviewRegistry(
  at: string,
  registry: string,
  level: AdmissionLevel,
  settings: AdmissionSettings,
): AdmissionFinding[] {
  if (level === 'privileged' || settings.registries.includes(canonicalRegistry(registry))) {
    return [];
  }
  return [
    finding(
      'registries',
      `${at} registry ${JSON.stringify(registry)} is not in DOCKERGRAPH_REGISTRIES`,
    ),
  ];
}

/**
 * The registry host of a `POST /auth` `serveraddress`, as the engine reads it
 * (`ConvertToHostname`): without "http://" or "https://" and any path; Docker
 * Hub when empty.
 */
export function loginRegistryOf(serverAddress: string): string {
  if (serverAddress === '') return 'docker.io';
  const stripped = serverAddress.replace(/^https?:\/\//, '');
  return stripped.split('/')[0] ?? '';
}

// ---------------------------------------------------------------------------
// Routes

/** How the policy treats one kind of engine write. */
export type RouteRule =
  | {
      readonly review:
        | 'container-create'
        | 'container-update'
        | 'volume-create'
        | 'network-create'
        | 'network-connect'
        | 'exec-create'
        | 'image-pull'
        | 'image-push'
        | 'registry-login'
        | 'registry-read'
        | 'service-spec';
    }
  | { readonly review: 'privileged-only'; readonly reason: string }
  | { readonly review: 'none'; readonly reason: string };

/**
 * Every engine write dockergraph sends, and how it is admitted. A write whose
 * route is not here is refused below the privileged level. Reads are let
 * through, except those listed here (a distribution inspect reaches a registry).
 */
export const WRITE_ROUTES: readonly {
  readonly method: string;
  readonly path: RegExp;
  readonly rule: RouteRule;
}[] = [
  { method: 'POST', path: /^\/containers\/create$/, rule: { review: 'container-create' } },
  { method: 'POST', path: /^\/containers\/[^/]+\/update$/, rule: { review: 'container-update' } },
  { method: 'POST', path: /^\/volumes\/create$/, rule: { review: 'volume-create' } },
  { method: 'POST', path: /^\/networks\/create$/, rule: { review: 'network-create' } },
  { method: 'POST', path: /^\/containers\/[^/]+\/exec$/, rule: { review: 'exec-create' } },
  // Each task of a service is a container on some node (src/security/service-admission.ts).
  { method: 'POST', path: /^\/services\/create$/, rule: { review: 'service-spec' } },
  { method: 'POST', path: /^\/services\/[^/]+\/update$/, rule: { review: 'service-spec' } },
  {
    method: 'POST',
    path: /^\/(?:secrets|configs)\/(?:create|[^/]+\/update)$/,
    rule: { review: 'none', reason: 'stores data in the swarm; runs nothing' },
  },
  {
    method: 'POST',
    path: /^\/nodes\/[^/]+\/update$/,
    rule: {
      review: 'none',
      reason: 'sets a node’s availability, role and labels; runs nothing',
    },
  },
  {
    method: 'POST',
    path: /^\/swarm\/(?:init|join|leave|update|unlock)$/,
    rule: {
      review: 'privileged-only',
      reason: 'makes, joins, leaves or reconfigures a swarm: the engine’s own membership',
    },
  },
  {
    method: 'POST',
    path: /^\/containers\/[^/]+\/(?:start|stop|restart|kill|pause|unpause|wait|rename|resize)$/,
    rule: { review: 'none', reason: 'acts on a container that was admitted when it was created' },
  },
  {
    method: 'POST',
    path: /^\/containers\/[^/]+\/attach$/,
    rule: {
      review: 'none',
      reason: 'reads and writes the streams of a container admitted when it was created',
    },
  },
  {
    method: 'POST',
    path: /^\/exec\/[^/]+\/(?:start|resize)$/,
    rule: { review: 'none', reason: 'runs an exec admitted when it was created' },
  },
  {
    method: 'POST',
    path: /^\/(?:containers|images|volumes|networks|build)\/prune$/,
    rule: { review: 'none', reason: 'removes unused objects' },
  },
  {
    method: 'DELETE',
    path: /^\/(?:containers|images|volumes|networks|services|secrets|configs|nodes)\/.+$/,
    rule: { review: 'none', reason: 'removes an object' },
  },
  { method: 'POST', path: /^\/networks\/[^/]+\/connect$/, rule: { review: 'network-connect' } },
  {
    method: 'PUT',
    path: /^\/volumes\/[^/]+$/,
    rule: {
      review: 'none',
      reason: 'changes whether swarm tasks may use a cluster volume; runs nothing',
    },
  },
  {
    method: 'POST',
    path: /^\/networks\/[^/]+\/disconnect$/,
    rule: { review: 'none', reason: 'leaves a network' },
  },
  {
    method: 'POST',
    path: /^\/images\/.+\/tag$/,
    rule: { review: 'none', reason: 'names an image; runs nothing, reaches no registry' },
  },
  { method: 'POST', path: /^\/images\/.+\/push$/, rule: { review: 'image-push' } },
  {
    method: 'POST',
    path: /^\/commit$/,
    rule: {
      review: 'none',
      reason:
        'makes an image; the field needs the secrets permission, since the image keeps the container’s configuration',
    },
  },
  { method: 'POST', path: /^\/auth$/, rule: { review: 'registry-login' } },
  // A read, but one that makes the engine reach a registry: reviewed as a pull's registry is.
  { method: 'GET', path: /^\/distribution\/.+\/json$/, rule: { review: 'registry-read' } },
  // Pulls; imports (`fromSrc`), which make the engine read a URL or an upload, are
  // privileged-only: see routeRuleOf.
  { method: 'POST', path: /^\/images\/create$/, rule: { review: 'image-pull' } },
  {
    method: 'POST',
    path: /^\/build$/,
    rule: {
      review: 'privileged-only',
      reason:
        'build steps run commands with options this policy does not review; a remote context makes the engine fetch a URL',
    },
  },
  {
    method: 'POST',
    path: /^\/images\/load$/,
    rule: { review: 'privileged-only', reason: 'loads arbitrary image content' },
  },
  {
    method: 'PUT',
    path: /^\/containers\/[^/]+\/archive$/,
    rule: { review: 'privileged-only', reason: 'writes files into a container, through its links' },
  },
  {
    method: 'POST',
    path: /^\/plugins\/(?:pull|[^/]+(?:\/[^/]+)*\/(?:enable|disable|upgrade|set))$/,
    rule: {
      review: 'privileged-only',
      reason:
        'a plugin runs as root with the privileges it asks for (host network, mounts, devices, capabilities)',
    },
  },
  {
    method: 'DELETE',
    path: /^\/plugins\/.+$/,
    rule: { review: 'privileged-only', reason: 'removes a plugin other objects may depend on' },
  },
  // A read, but one that makes the engine contact any registry.
  {
    method: 'GET',
    path: /^\/plugins\/privileges$/,
    rule: { review: 'privileged-only', reason: 'makes the engine contact any registry' },
  },
];

/** The rule of one engine write; `fromSrc` imports are privileged-only. */
export function routeRuleOf(
  method: string,
  path: string,
  query: URLSearchParams,
): RouteRule | undefined {
  if (method === 'POST' && path === '/images/create' && query.has('fromSrc')) {
    return { review: 'privileged-only', reason: 'imports make the engine read a URL or an upload' };
  }
  return WRITE_ROUTES.find((route) => route.method === method && route.path.test(path))?.rule;
}
