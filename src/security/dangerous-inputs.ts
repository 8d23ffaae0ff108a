import { posix } from 'node:path';

/**
 * What in an engine request body gives a container power over its host:
 * privilege, host bind mounts outside the allow-list, host namespaces, added
 * capabilities, devices, relaxed security options. These need the `dangerous`
 * permission whatever the permission of the mutation that sends them.
 *
 * The checks read the engine bodies (`POST /containers/create`,
 * `POST /containers/{id}/update`, `POST /volumes/create`) rather than the
 * GraphQL inputs, so that they stay right when an input gains a field that
 * maps onto one of these engine fields. Each finding names the input path it
 * comes from, e.g. `input.mounts[0].source "/etc" is outside the bind allow-list`.
 */

/** The server settings the checks depend on. */
export interface DangerousInputPolicy {
  /** Absolute host folders that bind mounts may use without the `dangerous` permission. */
  readonly bindAllowList: readonly string[];
}

/** HostConfig fields whose value "host" shares a namespace of the host. */
const namespaceModes = [
  'NetworkMode',
  'PidMode',
  'IpcMode',
  'UTSMode',
  'UsernsMode',
  'CgroupnsMode',
] as const;

/** Resource fields that hand host devices to the container. */
const deviceFields = ['Devices', 'DeviceRequests', 'DeviceCgroupRules'] as const;

/** File system types of the local volume driver that mount a remote share, not a host path. */
const networkFileSystems = new Set(['nfs', 'nfs4', 'cifs', 'smb3', 'tmpfs']);

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

function stringMapOf(value: unknown): Readonly<Record<string, string>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  const map: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry === 'string') map[key] = entry;
  }
  return map;
}

/** The input name of an engine field: its name with a lowercase start ("UTSMode" → "utsMode"). */
function inputNameOf(engineField: string): string {
  const leadingCapitals = /^[A-Z]+(?=[A-Z][a-z]|$)/.exec(engineField)?.[0] ?? engineField[0] ?? '';
  return `${leadingCapitals.toLowerCase()}${engineField.slice(leadingCapitals.length)}`;
}

/** Whether an absolute host path lies inside one of the allow-listed folders, by path segments. */
export function isInsideBindAllowList(hostPath: string, allowList: readonly string[]): boolean {
  // `..` is resolved first: "/srv/data/../../etc" is "/etc".
  const path = posix.resolve('/', hostPath);
  return allowList.some((folder) => {
    const allowed = posix.resolve('/', folder);
    return allowed === '/' || path === allowed || path.startsWith(`${allowed}/`);
  });
}

/** The finding `describe` makes for a host path, or none when the allow-list holds it. */
function hostPathFinding(
  hostPath: string,
  policy: DangerousInputPolicy,
  describe: (quotedPath: string) => string,
): string[] {
  if (isInsideBindAllowList(hostPath, policy.bindAllowList)) return [];
  return [describe(JSON.stringify(hostPath))];
}

/**
 * The host path a `local` volume driver's options mount, if they mount one:
 * a bind mount (`o=bind`, or `type=none`) of `device`, or a device file system
 * (`type=ext4`, `device=/dev/sdb1`). Remote shares (NFS, CIFS) and tmpfs mount none.
 */
function localVolumeHostPath(
  driver: string | undefined,
  options: Readonly<Record<string, string>>,
): string | undefined {
  if (driver !== undefined && driver !== '' && driver !== 'local') return undefined;
  const device = options.device;
  if (device === undefined || device === '') return undefined;
  const mountOptions = (options.o ?? '').split(',').map((option) => option.trim());
  const bind = mountOptions.includes('bind') || mountOptions.includes('rbind');
  const type = options.type ?? '';
  if (bind || type === 'none') return device;
  if (networkFileSystems.has(type)) return undefined;
  // "//server/share" is a remote share; "/dev/sdb1" or "/srv/disk.img" is on the host.
  return device.startsWith('/') && !device.startsWith('//') ? device : undefined;
}

function volumeDriverFindings(
  field: string,
  driver: string | undefined,
  options: Readonly<Record<string, string>>,
  policy: DangerousInputPolicy,
): string[] {
  const hostPath = localVolumeHostPath(driver, options);
  if (hostPath === undefined) return [];
  return hostPathFinding(
    hostPath,
    policy,
    (path) => `${field} mount host path ${path}, outside the bind allow-list`,
  );
}

/** `HostConfig.Binds` entries: "source:target[:options]"; a source without "/" names a volume. */
function bindsFindings(field: string, binds: unknown, policy: DangerousInputPolicy): string[] {
  return arrayOf(binds).flatMap((entry, index) => {
    const bind = stringOf(entry);
    if (bind === undefined) return [];
    const source = bind.split(':')[0] ?? '';
    if (!source.startsWith('/')) return [];
    return hostPathFinding(
      source,
      policy,
      (path) => `${field}[${index}] binds host path ${path}, outside the bind allow-list`,
    );
  });
}

/** `HostConfig.Mounts`: bind mounts, and volume mounts whose driver options bind a host path. */
function mountsFindings(field: string, mounts: unknown, policy: DangerousInputPolicy): string[] {
  return arrayOf(mounts).flatMap((mount, index) => {
    const at = `${field}[${index}]`;
    const type = stringOf(fieldOf(mount, 'Type'));
    if (type === 'bind') {
      const source = stringOf(fieldOf(mount, 'Source')) ?? '';
      return hostPathFinding(
        source,
        policy,
        (path) => `${at}.source ${path} is outside the bind allow-list`,
      );
    }
    if (type === 'volume') {
      const driverConfig = fieldOf(fieldOf(mount, 'VolumeOptions'), 'DriverConfig');
      return volumeDriverFindings(
        `${at}.volumeOptions.driverConfig`,
        stringOf(fieldOf(driverConfig, 'Name')),
        stringMapOf(fieldOf(driverConfig, 'Options')),
        policy,
      );
    }
    return [];
  });
}

function listFinding(field: string, value: unknown): string[] {
  const entries = arrayOf(value);
  return entries.length > 0 ? [`${field} ${JSON.stringify(entries)}`] : [];
}

/** Security options that relax confinement; only `no-new-privileges` tightens it. */
function securityOptFindings(field: string, value: unknown): string[] {
  const relaxing = arrayOf(value).filter(
    (option) =>
      !(typeof option === 'string' && /^no-new-privileges(?:[:=]true)?$/.test(option.trim())),
  );
  return relaxing.length > 0 ? [`${field} ${JSON.stringify(relaxing)}`] : [];
}

/** Devices of a Resources object (HostConfig at create, the body itself at update). */
function deviceFindings(field: (name: string) => string, resources: unknown): string[] {
  return deviceFields.flatMap((name) => {
    const entries = arrayOf(fieldOf(resources, name));
    return entries.length > 0 ? [`${field(name)} (host devices)`] : [];
  });
}

/**
 * The dangerous inputs of a `POST /containers/create` body (as
 * `toContainerCreateBody` makes it), each naming its input path under `field`;
 * empty when there are none.
 */
export function dangerousContainerCreateInputs(
  field: string,
  body: object,
  policy: DangerousInputPolicy,
): string[] {
  const hostConfig = fieldOf(body, 'HostConfig');
  const at = (engineField: string) => `${field}.${inputNameOf(engineField)}`;
  const findings: string[] = [];
  if (fieldOf(hostConfig, 'Privileged') === true) findings.push(at('Privileged'));
  findings.push(...bindsFindings(at('Binds'), fieldOf(hostConfig, 'Binds'), policy));
  findings.push(...mountsFindings(at('Mounts'), fieldOf(hostConfig, 'Mounts'), policy));
  const endpoints = fieldOf(fieldOf(body, 'NetworkingConfig'), 'EndpointsConfig');
  for (const mode of namespaceModes) {
    if (stringOf(fieldOf(hostConfig, mode)) !== 'host') continue;
    // A network given with its endpoint settings (`input.network`) becomes NetworkMode too.
    const viaNetwork = mode === 'NetworkMode' && fieldOf(endpoints, 'host') !== undefined;
    findings.push(`${viaNetwork ? `${field}.network.name` : at(mode)} "host"`);
  }
  findings.push(...listFinding(at('CapAdd'), fieldOf(hostConfig, 'CapAdd')));
  findings.push(...deviceFindings(at, hostConfig));
  findings.push(...securityOptFindings(at('SecurityOpt'), fieldOf(hostConfig, 'SecurityOpt')));
  // Setting these replaces the engine's defaults, which hide host kernel files under /proc.
  for (const paths of ['MaskedPaths', 'ReadonlyPaths']) {
    if (fieldOf(hostConfig, paths) !== undefined) findings.push(`${at(paths)} (unmasks /proc)`);
  }
  return findings;
}

/**
 * The dangerous inputs of a `POST /containers/{id}/update` body (resources and
 * restart policy at its top level), named under `field`'s `resources`.
 */
export function dangerousContainerUpdateInputs(field: string, body: object): string[] {
  return deviceFindings((name) => `${field}.resources.${inputNameOf(name)}`, body);
}

/** The dangerous inputs of a `POST /volumes/create` body: a local volume over a host path. */
export function dangerousVolumeCreateInputs(
  field: string,
  body: object,
  policy: DangerousInputPolicy,
): string[] {
  return volumeDriverFindings(
    `${field}.driverOptions`,
    stringOf(fieldOf(body, 'Driver')),
    stringMapOf(fieldOf(body, 'DriverOpts')),
    policy,
  );
}
