import { posix } from 'node:path';

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
 * - `restricted`: `baseline`, and the container runs as a non-root user, with
 *   every capability dropped (NET_BIND_SERVICE may be added back) and
 *   `no-new-privileges`; no host paths at all.
 * - `baseline`: no privilege, host namespaces, devices, added capabilities
 *   beyond Docker's defaults, relaxed security options or unmasked /proc; host
 *   paths only inside the bind allow-list (read-only unless the entry is marked
 *   writable); volumes only of the local driver without host paths (or tmpfs),
 *   or of drivers the administrator lists.
 * - `privileged`: anything the engine accepts (the `dangerous` permission).
 *
 * Everything here is pure: what needs the engine (a named volume's driver, the
 * container whose namespaces a new one joins, an image's user) comes through
 * {@link AdmissionLookups}.
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
}

/** What the policy reads from the engine. Each answers null for an object that does not exist. */
export interface AdmissionLookups {
  /** A volume's driver and driver options (`GET /volumes/{name}`). */
  volume(name: string): Promise<{ driver: string; options: Record<string, string> } | null>;
  /**
   * An existing container's settings, as a create body would carry them
   * (`GET /containers/{id}/json`), for the containers a new one joins or takes
   * volumes from; null as well for one the caller may not see.
   */
  container(idOrName: string): Promise<ContainerCreateShape | null>;
  /** The user an image runs as (`Config.User`), '' for root by default. */
  imageUser(reference: string): Promise<string | null>;
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
    title: "Another container's namespaces (`container:<x>`), `volumesFrom`",
    baseline: 'only of a container this level would admit itself',
    restricted: 'only of a container this level would admit itself',
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
    baseline: '`no-new-privileges` only',
    restricted: '`no-new-privileges` required',
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
    title: 'Network drivers and options',
    baseline:
      '`bridge` and `overlay` with their common options; no host interface (macvlan, ipvlan), no existing host bridge',
    restricted: 'as baseline',
  },
  sysctls: {
    title: 'Kernel parameters (sysctls)',
    baseline: 'the namespaced safe set only',
    restricted: 'as baseline',
  },
  'engine-settings': {
    title: 'Cgroup parent, runtime, log drivers that send elsewhere',
    baseline: 'defaults only (log drivers json-file, local, none)',
    restricted: 'as baseline',
  },
  'run-as-root': {
    title: 'Running as root',
    baseline: 'allowed',
    restricted: 'refused: a non-root user, given or from the image',
  },
  'host-side-effects': {
    title: 'Builds, imports, loads and copies into containers',
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

/** Namespaced sysctls Kubernetes counts safe: they cannot reach the host's settings. */
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
]);

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
  'Ulimits',
  'ShmSize',
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
}

/** How deep `container:<x>` and `volumesFrom` chains are followed before they are refused. */
const MAX_CONTAINER_CHAIN = 4;

function isRootUser(user: string): boolean {
  const name = user.split(':')[0] ?? '';
  // The engine reads a numeric user with Go's Atoi: "00", "+0" and "-0" are uid 0 too.
  return name === '' || name === 'root' || /^[+-]?0+$/.test(name);
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
  const relaxing = list.filter((option) => !noNewPrivileges(option));
  const findings: AdmissionFinding[] = [];
  if (relaxing.length > 0) {
    findings.push(
      finding('security-options', `${at} ${JSON.stringify(relaxing)} relaxes confinement`),
    );
  }
  if (level === 'restricted' && !list.some(noNewPrivileges)) {
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
  const inner = await reviewContainerConfig(
    target,
    { ...scope, seen: new Set([...scope.seen, name]) },
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
  const unsafeSysctls = keysOf(fieldOf(hostConfig, 'Sysctls')).filter(
    (key) => !SAFE_SYSCTLS.has(key),
  );
  if (unsafeSysctls.length > 0) {
    findings.push(
      finding(
        'sysctls',
        `HostConfig.Sysctls ${JSON.stringify(unsafeSysctls)} are not in the safe set`,
      ),
    );
  }
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
  const endpoints = fieldOf(body.NetworkingConfig, 'EndpointsConfig');
  if (
    keysOf(endpoints).includes('host') &&
    stringOf(fieldOf(body.HostConfig, 'NetworkMode')) !== 'host'
  ) {
    findings.push(finding('host-namespaces', 'NetworkingConfig.EndpointsConfig "host"'));
  }
  if (scope.level === 'restricted') {
    const given = stringOf(body.User);
    const image = stringOf(body.Image);
    const user =
      given !== undefined && given !== ''
        ? given
        : image
          ? await scope.lookups.imageUser(image)
          : null;
    if (user === null || isRootUser(user)) {
      findings.push(
        finding(
          'run-as-root',
          given
            ? `User ${JSON.stringify(given)} is root`
            : `runs as root: image ${JSON.stringify(image ?? '')} sets no non-root user; give "user"`,
        ),
      );
    }
  }
  return findings;
}

/** Reviews a `POST /containers/create` body at `level`. */
export async function reviewContainerCreate(
  body: ContainerCreateShape,
  level: AdmissionLevel,
  settings: AdmissionSettings,
  lookups: AdmissionLookups,
): Promise<AdmissionFinding[]> {
  if (level === 'privileged') return [];
  return reviewContainerConfig(body, { level, settings, lookups, seen: new Set() }, true);
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

/** Reviews a `POST /networks/create` body. */
export function reviewNetworkCreate(body: unknown, level: AdmissionLevel): AdmissionFinding[] {
  if (level === 'privileged') return [];
  const findings: AdmissionFinding[] = [];
  for (const key of keysOf(body)) {
    if (!NETWORK_FIELDS.has(key) && !isUnset(fieldOf(body, key))) {
      findings.push(
        finding('unrecognised-field', `${key} is not recognised by the admission policy`),
      );
    }
  }
  const driver = stringOf(fieldOf(body, 'Driver')) ?? '';
  if (!['', 'bridge', 'overlay'].includes(driver)) {
    findings.push(
      finding('network-drivers', `Driver ${JSON.stringify(driver)} is not bridge or overlay`),
    );
  }
  const unknown = keysOf(fieldOf(body, 'Options')).filter((key) => !NETWORK_OPTIONS.has(key));
  if (unknown.length > 0) {
    findings.push(
      finding('network-drivers', `Options ${JSON.stringify(unknown)} are not recognised`),
    );
  }
  const ipam = fieldOf(body, 'IPAM');
  const ipamDriver = stringOf(fieldOf(ipam, 'Driver')) ?? '';
  if (!['', 'default'].includes(ipamDriver) || !isUnset(fieldOf(ipam, 'Options'))) {
    findings.push(finding('network-drivers', 'IPAM other than the default driver without options'));
  }
  return findings;
}

/** Reviews a `POST /containers/{id}/exec` body. */
export function reviewExecCreate(body: unknown, level: AdmissionLevel): AdmissionFinding[] {
  if (level === 'privileged') return [];
  const findings: AdmissionFinding[] = [];
  if (fieldOf(body, 'Privileged') === true) findings.push(finding('privileged', 'Privileged'));
  if (level === 'restricted' && isRootUser(stringOf(fieldOf(body, 'User')) ?? 'root')) {
    // An empty User runs as the container's user, which restricted made non-root at create.
    if ((stringOf(fieldOf(body, 'User')) ?? '') !== '')
      findings.push(finding('run-as-root', 'User is root'));
  }
  return findings;
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
        | 'exec-create';
    }
  | { readonly review: 'privileged-only'; readonly reason: string }
  | { readonly review: 'none'; readonly reason: string };

/**
 * Every engine write dockergraph sends, and how it is admitted. A write whose
 * route is not here is refused below the privileged level.
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
  {
    method: 'POST',
    path: /^\/containers\/[^/]+\/(?:start|stop|restart|kill|pause|unpause|wait|rename|resize)$/,
    rule: { review: 'none', reason: 'acts on a container that was admitted when it was created' },
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
    path: /^\/(?:containers|images|volumes|networks)\/.+$/,
    rule: { review: 'none', reason: 'removes an object' },
  },
  {
    method: 'POST',
    path: /^\/networks\/[^/]+\/(?:connect|disconnect)$/,
    rule: {
      review: 'none',
      reason: 'joins an admitted network; the network was reviewed at create',
    },
  },
  {
    method: 'POST',
    path: /^\/images\/.+\/(?:tag|push)$/,
    rule: { review: 'none', reason: 'names or sends an image; runs nothing' },
  },
  {
    method: 'POST',
    path: /^\/commit$/,
    rule: {
      review: 'none',
      reason:
        'makes an image; the field needs the secrets permission, since the image keeps the container’s configuration',
    },
  },
  {
    method: 'POST',
    path: /^\/auth$/,
    rule: { review: 'none', reason: 'checks registry credentials' },
  },
  {
    method: 'POST',
    path: /^\/images\/create$/,
    rule: {
      review: 'none',
      reason:
        'pulls an image (imports, which make the engine read a URL or an upload, are privileged-only: see below)',
    },
  },
  {
    method: 'POST',
    path: /^\/build$/,
    rule: {
      review: 'privileged-only',
      reason: 'build steps run commands with options this policy does not review',
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
