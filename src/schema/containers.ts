import type { GraphQLContext } from '../context.ts';
import {
  type ContainerFilters,
  type EngineContainerInspect,
  type EngineContainerSummary,
  type EngineEndpointSettings,
  type EngineHealth,
  type EngineHostConfig,
  type EngineMountPoint,
  listContainerChanges,
  listContainerProcesses,
  readContainerLogs,
} from '../docker/containers.ts';
import type { DecodedLogs } from '../docker/demux.ts';
import type { ContainerStateName } from '../docker/engine-shapes.ts';
import { givenFields } from '../docker/given-fields.ts';
import { computeStatsFigures } from '../docker/stats.ts';
import { can, describePrincipal } from '../security/principal.ts';
import { forbiddenError } from './access.ts';
import { builder } from './builder.ts';
import { MountTypeEnum, PortProtocolEnum, RestartPolicyEnum } from './container-enums.ts';
import { invalidArgument } from './errors.ts';
import { engineArgs, enginesArgs, readAcrossEngines } from './fleet.ts';
import { newestFirstKey, paginate, selectsField } from './pagination.ts';
import {
  ContainerConfigRef,
  type ContainerRecord,
  ContainerRef,
  ContainerStatsRef,
  EnvironmentVariableRef,
  ImageRef,
  LogLineRef,
  NetworkRef,
  parseEnv,
  toContainerRecord,
  toImageRecord,
  VolumeRef,
} from './refs.ts';
import {
  checkLabelFilters,
  checkNonEmpty,
  type KeyValue,
  LabelRef,
  labelValue,
  OptionRef,
  parseEngineTime,
  shortenId,
  toKeyValues,
  toLogOptions,
} from './shared.ts';

// ---------------------------------------------------------------------------
// Reading a container from whichever engine answer is at hand

function loadInspect(container: ContainerRecord, context: GraphQLContext) {
  return container.inspect
    ? Promise.resolve(container.inspect)
    : context.loaders.containers.inspect.load(container.id);
}

function loadSummary(container: ContainerRecord, context: GraphQLContext) {
  return container.summary
    ? Promise.resolve(container.summary)
    : context.loaders.containers.summaryById.load(container.id);
}

function currentState(container: ContainerRecord): ContainerStateName | undefined {
  return container.summary?.State ?? container.inspect?.State.Status;
}

/** Whether the container runs now; answered without an engine call when the record knows. */
async function isRunning(container: ContainerRecord, context: GraphQLContext): Promise<boolean> {
  const state = currentState(container) ?? (await loadInspect(container, context))?.State.Status;
  return state === 'running' || state === 'paused' || state === 'restarting';
}

// ---------------------------------------------------------------------------
// Enums

const containerStates = [
  'created',
  'running',
  'paused',
  'restarting',
  'removing',
  'exited',
  'dead',
] as const;

const ContainerStateEnum = builder.enumType('ContainerState', {
  description: 'Lifecycle state of a container.',
  values: {
    CREATED: { value: 'created', description: 'Created and never started.' },
    RUNNING: { value: 'running', description: 'Its main process runs.' },
    PAUSED: { value: 'paused', description: 'Its processes are frozen.' },
    RESTARTING: { value: 'restarting', description: 'Being restarted by its restart policy.' },
    REMOVING: { value: 'removing', description: 'Being removed.' },
    EXITED: { value: 'exited', description: 'Its main process ended.' },
    DEAD: {
      value: 'dead',
      description: 'The engine failed to stop or remove it; only removal is possible.',
    },
  } as const satisfies Record<
    string,
    { value: (typeof containerStates)[number]; description: string }
  >,
});

const HealthStatusEnum = builder.enumType('HealthStatus', {
  description: 'Result of a container healthcheck.',
  values: {
    NONE: { value: 'none', description: 'The container has no healthcheck.' },
    STARTING: { value: 'starting', description: 'Within the start period, not yet healthy.' },
    HEALTHY: { value: 'healthy', description: 'The last checks passed.' },
    UNHEALTHY: {
      value: 'unhealthy',
      description: 'The check failed as many times in a row as allowed.',
    },
  } as const,
});

const FilesystemChangeKindEnum = builder.enumType('FilesystemChangeKind', {
  description: 'How a path differs from the image the container was created from.',
  values: {
    MODIFIED: { value: 0, description: 'Changed.' },
    ADDED: { value: 1, description: 'Created by the container.' },
    DELETED: { value: 2, description: 'Removed by the container.' },
  } as const,
});

const LogStreamEnum = builder.enumType('LogStream', {
  description: 'Which output stream a log line was written to.',
  values: {
    STDOUT: {
      value: 'stdout',
      description: 'Standard output; all output of a container with a TTY.',
    },
    STDERR: { value: 'stderr', description: 'Standard error.' },
  } as const,
});

// ---------------------------------------------------------------------------
// Value types

interface PortShape {
  privatePort: number;
  protocol: string;
  publicPort: number | null;
  hostIp: string | null;
}

function protocolOf(value: string): 'tcp' | 'udp' | 'sctp' {
  return value === 'udp' || value === 'sctp' ? value : 'tcp';
}

const ContainerPortRef = builder.objectRef<PortShape>('ContainerPort').implement({
  description: 'A port of a container, and the host address it is published on if any.',
  fields: (t) => ({
    privatePort: t.exposeInt('privatePort', { description: 'Port inside the container.' }),
    protocol: t.field({
      type: PortProtocolEnum,
      description: 'Transport protocol.',
      resolve: (p) => protocolOf(p.protocol),
    }),
    publicPort: t.exposeInt('publicPort', {
      nullable: true,
      description: 'Host port it is published on; null when not published.',
    }),
    hostIp: t.exposeString('hostIp', {
      nullable: true,
      description: 'Host address it is published on, e.g. "0.0.0.0" or "::".',
    }),
  }),
});

function portsFromSummary(summary: EngineContainerSummary): PortShape[] {
  return summary.Ports.map((port) => ({
    privatePort: port.PrivatePort,
    protocol: port.Type,
    publicPort: port.PublicPort ?? null,
    hostIp: port.IP ?? null,
  }));
}

function splitPortKey(key: string): { port: number; protocol: string } {
  const [port, protocol] = key.split('/');
  return { port: Number(port), protocol: protocol ?? 'tcp' };
}

function portsFromInspect(inspect: EngineContainerInspect): PortShape[] {
  return Object.entries(inspect.NetworkSettings.Ports ?? {}).flatMap(([key, bindings]) => {
    const { port, protocol } = splitPortKey(key);
    if (!bindings || bindings.length === 0)
      return [{ privatePort: port, protocol, publicPort: null, hostIp: null }];
    return bindings.map((binding) => ({
      privatePort: port,
      protocol,
      publicPort: binding.HostPort ? Number(binding.HostPort) : null,
      hostIp: binding.HostIp || null,
    }));
  });
}

const ContainerMountRef = builder
  .objectRef<{ mount: EngineMountPoint; engine: string }>('ContainerMount')
  .implement({
    description: 'A filesystem mounted into a container.',
    fields: (t) => ({
      type: t.field({
        type: MountTypeEnum,
        description: 'What is mounted.',
        resolve: ({ mount }) =>
          (mount.Type as 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'cluster' | undefined) ?? 'volume',
      }),
      name: t.string({
        nullable: true,
        description: 'Volume name, for volume mounts.',
        resolve: ({ mount }) => mount.Name || null,
      }),
      source: t.string({
        nullable: true,
        description: 'Host path of a bind mount, or where a volume lives on the host.',
        resolve: ({ mount }) => mount.Source || null,
      }),
      destination: t.string({
        description: 'Path inside the container.',
        resolve: ({ mount }) => mount.Destination,
      }),
      driver: t.string({
        nullable: true,
        description: 'Volume driver, for volume mounts.',
        resolve: ({ mount }) => mount.Driver || null,
      }),
      mode: t.string({
        nullable: true,
        description: 'Mount options as given, e.g. "z" or "ro".',
        resolve: ({ mount }) => mount.Mode || null,
      }),
      readWrite: t.boolean({
        description: 'Whether the container may write to it.',
        resolve: ({ mount }) => mount.RW ?? true,
      }),
      propagation: t.string({
        nullable: true,
        description: 'Bind propagation, e.g. "rprivate".',
        resolve: ({ mount }) => mount.Propagation || null,
      }),
      volume: t.field({
        type: VolumeRef,
        nullable: true,
        description: 'The mounted volume; null for other mounts or when it no longer exists.',
        resolve: async ({ mount, engine }, _args, context) => {
          if (mount.Type !== 'volume' || !mount.Name) return null;
          const volume = await context.loaders.volumes.byName.load(mount.Name);
          return volume ? { engine, volume } : null;
        },
      }),
    }),
  });

interface AttachmentShape {
  readonly container: ContainerRecord;
  readonly networkName: string;
  readonly settings: EngineEndpointSettings;
  /** Whether `settings` came from inspect, which alone lists aliases. */
  readonly fromInspect: boolean;
}

const NetworkAttachmentRef = builder.objectRef<AttachmentShape>('NetworkAttachment').implement({
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
      resolve: async ({ container, networkName, settings, fromInspect }, _args, context) => {
        if (fromInspect) return settings.Aliases ?? [];
        const inspect = await loadInspect(container, context);
        return inspect?.NetworkSettings.Networks?.[networkName]?.Aliases ?? [];
      },
    }),
  }),
});

const ContainerHealthRef = builder.objectRef<EngineHealth>('ContainerHealth').implement({
  description: "State of a container's healthcheck.",
  fields: (t) => ({
    status: t.field({
      type: HealthStatusEnum,
      description: 'Current result.',
      resolve: (health) => health.Status,
    }),
    failingStreak: t.exposeInt('FailingStreak', { description: 'Checks failed in a row.' }),
    log: t.field({
      type: [HealthcheckResultRef],
      description: 'The last checks, oldest first (the engine keeps five).',
      resolve: (health) => health.Log ?? [],
    }),
  }),
});

const HealthcheckResultRef = builder
  .objectRef<{ Start: string; End: string; ExitCode: number; Output: string }>('HealthcheckResult')
  .implement({
    description: 'One run of a healthcheck.',
    fields: (t) => ({
      start: t.field({
        type: 'DateTime',
        nullable: true,
        description: 'When it started.',
        resolve: (r) => parseEngineTime(r.Start),
      }),
      end: t.field({
        type: 'DateTime',
        nullable: true,
        description: 'When it ended.',
        resolve: (r) => parseEngineTime(r.End),
      }),
      exitCode: t.exposeInt('ExitCode', {
        description: '0 healthy, 1 unhealthy, other values are errors.',
      }),
      output: t.exposeString('Output', {
        nullable: true,
        description:
          'What the check printed (the engine keeps the first 4 KiB). Needs the `logs` permission, as the container’s own output does.',
      }),
    }),
  });

/** `ps` columns that name each process's program but show neither its arguments nor its environment. */
const SAFE_PS_ARGS = '-eo pid,ppid,user,stime,time,comm';

const ExposedPortRef = builder
  .objectRef<{ port: number; protocol: string }>('ExposedPort')
  .implement({
    description: 'A port a container listens on, as declared by EXPOSE or the create request.',
    fields: (t) => ({
      port: t.exposeInt('port', { description: 'Port number.' }),
      protocol: t.field({
        type: PortProtocolEnum,
        description: 'Transport protocol.',
        resolve: (p) => protocolOf(p.protocol),
      }),
    }),
  });

const HealthcheckConfigRef = builder
  .objectRef<NonNullable<import('../docker/containers.ts').EngineContainerConfig['Healthcheck']>>(
    'HealthcheckConfig',
  )
  .implement({
    description: 'How a container checks its own health.',
    fields: (t) => ({
      test: t.stringList({
        description: 'The check: ["NONE"], ["CMD", args...] or ["CMD-SHELL", command].',
        resolve: (h) => h.Test ?? [],
      }),
      intervalNanoseconds: t.field({
        type: 'SafeInt',
        nullable: true,
        description: 'Time between checks.',
        resolve: (h) => h.Interval || null,
      }),
      timeoutNanoseconds: t.field({
        type: 'SafeInt',
        nullable: true,
        description: 'Time a check may take.',
        resolve: (h) => h.Timeout || null,
      }),
      retries: t.int({
        nullable: true,
        description: 'Failures in a row before unhealthy.',
        resolve: (h) => h.Retries || null,
      }),
      startPeriodNanoseconds: t.field({
        type: 'SafeInt',
        nullable: true,
        description: 'Grace period after start during which failures do not count.',
        resolve: (h) => h.StartPeriod || null,
      }),
    }),
  });

ContainerConfigRef.implement({
  description:
    'Configuration of a container, or the defaults an image gives the containers made from it.',
  fields: (t) => ({
    cmd: t.stringList({
      nullable: true,
      description: 'Command (arguments to the entrypoint).',
      resolve: (c) => c.Cmd ?? null,
    }),
    entrypoint: t.stringList({
      nullable: true,
      description: 'Entrypoint.',
      resolve: (c) => c.Entrypoint ?? null,
    }),
    env: t.field({
      type: [EnvironmentVariableRef],
      description: 'Environment variables, in order.',
      resolve: (c) => parseEnv(c.Env),
    }),
    workingDir: t.string({
      nullable: true,
      description: 'Working directory of the process.',
      resolve: (c) => c.WorkingDir || null,
    }),
    user: t.string({
      nullable: true,
      description: 'User (and group) the process runs as.',
      resolve: (c) => c.User || null,
    }),
    hostname: t.string({
      nullable: true,
      description: 'Hostname inside the container.',
      resolve: (c) => c.Hostname || null,
    }),
    domainname: t.string({
      nullable: true,
      description: 'Domain name inside the container.',
      resolve: (c) => c.Domainname || null,
    }),
    tty: t.boolean({
      description: 'Whether a pseudo-terminal is attached.',
      resolve: (c) => c.Tty ?? false,
    }),
    openStdin: t.boolean({
      description: 'Whether standard input stays open.',
      resolve: (c) => c.OpenStdin ?? false,
    }),
    exposedPorts: t.field({
      type: [ExposedPortRef],
      description: 'Ports it listens on.',
      resolve: (c) =>
        Object.keys(c.ExposedPorts ?? {})
          .map(splitPortKey)
          .sort((a, b) => a.port - b.port),
    }),
    image: t.string({
      nullable: true,
      description: 'Image reference it was created from.',
      resolve: (c) => c.Image || null,
    }),
    volumes: t.stringList({
      description: 'Paths declared as volumes.',
      resolve: (c) => Object.keys(c.Volumes ?? {}).sort(),
    }),
    stopSignal: t.string({
      nullable: true,
      description: 'Signal that stops it, e.g. "SIGTERM".',
      resolve: (c) => c.StopSignal || null,
    }),
    stopTimeout: t.int({
      nullable: true,
      description: 'Seconds to wait after the stop signal before killing it.',
      resolve: (c) => c.StopTimeout ?? null,
    }),
    healthcheck: t.field({
      type: HealthcheckConfigRef,
      nullable: true,
      description: 'Its healthcheck; null when none is configured.',
      resolve: (c) => c.Healthcheck ?? null,
    }),
    labels: t.field({
      type: [LabelRef],
      description: 'Labels.',
      resolve: (c) => toKeyValues(c.Labels),
    }),
  }),
});

const RestartPolicyRef = builder
  .objectRef<NonNullable<EngineHostConfig['RestartPolicy']>>('RestartPolicy')
  .implement({
    description: 'When the engine restarts the container.',
    fields: (t) => ({
      name: t.field({
        type: RestartPolicyEnum,
        description: 'The policy.',
        resolve: (p) =>
          p.Name === 'always' || p.Name === 'unless-stopped' || p.Name === 'on-failure'
            ? p.Name
            : 'no',
      }),
      maximumRetryCount: t.int({
        description: 'Retries allowed by ON_FAILURE; 0 for no limit.',
        resolve: (p) => p.MaximumRetryCount ?? 0,
      }),
    }),
  });

const PortBindingRef = builder
  .objectRef<{
    containerPort: number;
    protocol: string;
    hostIp: string | null;
    hostPort: number | null;
  }>('PortBinding')
  .implement({
    description: 'A container port to publish and the host address asked for.',
    fields: (t) => ({
      containerPort: t.exposeInt('containerPort', { description: 'Port inside the container.' }),
      protocol: t.field({
        type: PortProtocolEnum,
        description: 'Transport protocol.',
        resolve: (p) => protocolOf(p.protocol),
      }),
      hostIp: t.exposeString('hostIp', {
        nullable: true,
        description: 'Host address; null for all addresses.',
      }),
      hostPort: t.exposeInt('hostPort', {
        nullable: true,
        description: 'Host port; null when the engine picks one.',
      }),
    }),
  });

const nonZero = (value: number | null | undefined) => (value ? value : null);

const DeviceMappingRef = builder
  .objectRef<NonNullable<EngineHostConfig['Devices']>[number]>('DeviceMapping')
  .implement({
    description: 'A host device given to a container (`--device`).',
    fields: (t) => ({
      pathOnHost: t.string({
        description: 'Path of the device on the host.',
        resolve: (d) => d.PathOnHost ?? '',
      }),
      pathInContainer: t.string({
        description: 'Path of the device inside the container.',
        resolve: (d) => d.PathInContainer ?? '',
      }),
      cgroupPermissions: t.string({
        description: 'What the container may do with it: "r", "w", "m" (mknod) combined.',
        resolve: (d) => d.CgroupPermissions ?? '',
      }),
    }),
  });

const UlimitRef = builder
  .objectRef<NonNullable<EngineHostConfig['Ulimits']>[number]>('Ulimit')
  .implement({
    description: 'A resource limit of a container’s processes (`--ulimit`).',
    fields: (t) => ({
      name: t.string({ description: 'The limit, e.g. "nofile".', resolve: (u) => u.Name ?? '' }),
      soft: t.field({
        type: 'SafeInt',
        description: 'Soft limit; -1 for unlimited.',
        resolve: (u) => u.Soft ?? 0,
      }),
      hard: t.field({
        type: 'SafeInt',
        description: 'Hard limit; -1 for unlimited.',
        resolve: (u) => u.Hard ?? 0,
      }),
    }),
  });

const KernelParameterRef = builder.objectRef<KeyValue>('KernelParameter').implement({
  description: 'A kernel parameter set in a container’s namespaces (`--sysctl`).',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Its name, e.g. "net.ipv4.ip_forward".' }),
    value: t.exposeString('value', { description: 'Its value.' }),
  }),
});

const HostConfigRef = builder.objectRef<EngineHostConfig>('HostConfig').implement({
  description:
    'How the host runs a container: resources, restart policy, networking and privileges.',
  fields: (t) => ({
    restartPolicy: t.field({
      type: RestartPolicyRef,
      description: 'Restart policy.',
      resolve: (h) => h.RestartPolicy ?? { Name: 'no' },
    }),
    memoryBytes: t.field({
      type: 'SafeInt',
      nullable: true,
      description: 'Memory limit; null for none.',
      resolve: (h) => nonZero(h.Memory),
    }),
    memoryReservationBytes: t.field({
      type: 'SafeInt',
      nullable: true,
      description: 'Memory soft limit; null for none.',
      resolve: (h) => nonZero(h.MemoryReservation),
    }),
    memorySwapBytes: t.field({
      type: 'SafeInt',
      nullable: true,
      description: 'Memory plus swap limit; -1 for unlimited swap, null when unset.',
      resolve: (h) => nonZero(h.MemorySwap),
    }),
    cpus: t.float({
      nullable: true,
      description: 'CPU limit in CPUs (NanoCpus / 1e9); null for none.',
      resolve: (h) => (h.NanoCpus ? h.NanoCpus / 1e9 : null),
    }),
    cpuShares: t.int({
      nullable: true,
      description: 'Relative CPU weight; null for the default.',
      resolve: (h) => nonZero(h.CpuShares),
    }),
    cpuQuota: t.field({
      type: 'SafeInt',
      nullable: true,
      description: 'CPU microseconds per period; null for none.',
      resolve: (h) => nonZero(h.CpuQuota),
    }),
    cpuPeriod: t.field({
      type: 'SafeInt',
      nullable: true,
      description: 'CFS period in microseconds; null for the default.',
      resolve: (h) => nonZero(h.CpuPeriod),
    }),
    cpusetCpus: t.string({
      nullable: true,
      description: 'CPUs it may run on, e.g. "0-3".',
      resolve: (h) => h.CpusetCpus || null,
    }),
    pidsLimit: t.field({
      type: 'SafeInt',
      nullable: true,
      description: 'Most processes allowed; null for no limit.',
      resolve: (h) => (h.PidsLimit && h.PidsLimit > 0 ? h.PidsLimit : null),
    }),
    privileged: t.boolean({
      description: 'Whether it has all host devices and capabilities.',
      resolve: (h) => h.Privileged ?? false,
    }),
    readonlyRootfs: t.boolean({
      description: 'Whether its root filesystem is read-only.',
      resolve: (h) => h.ReadonlyRootfs ?? false,
    }),
    publishAllPorts: t.boolean({
      description: 'Whether every exposed port is published on a random host port.',
      resolve: (h) => h.PublishAllPorts ?? false,
    }),
    autoRemove: t.boolean({
      description: 'Whether the engine removes it when it exits.',
      resolve: (h) => h.AutoRemove ?? false,
    }),
    init: t.boolean({
      description: 'Whether an init process reaps zombies inside it.',
      resolve: (h) => h.Init ?? false,
    }),
    binds: t.stringList({
      description: 'Bind and volume mounts in "source:destination[:options]" form.',
      resolve: (h) => h.Binds ?? [],
    }),
    networkMode: t.string({
      nullable: true,
      description: 'Network mode: "bridge", "host", "none", "container:<id>" or a network name.',
      resolve: (h) => h.NetworkMode || null,
    }),
    portBindings: t.field({
      type: [PortBindingRef],
      description: 'Ports to publish, as asked for at creation.',
      resolve: (h) =>
        Object.entries(h.PortBindings ?? {}).flatMap(([key, bindings]) => {
          const { port, protocol } = splitPortKey(key);
          return (bindings ?? []).map((binding) => ({
            containerPort: port,
            protocol,
            hostIp: binding.HostIp || null,
            hostPort: binding.HostPort ? Number(binding.HostPort) : null,
          }));
        }),
    }),
    capAdd: t.stringList({ description: 'Capabilities added.', resolve: (h) => h.CapAdd ?? [] }),
    capDrop: t.stringList({
      description: 'Capabilities dropped.',
      resolve: (h) => h.CapDrop ?? [],
    }),
    dns: t.stringList({ description: 'DNS servers.', resolve: (h) => h.Dns ?? [] }),
    extraHosts: t.stringList({
      description: 'Extra /etc/hosts entries ("host:ip").',
      resolve: (h) => h.ExtraHosts ?? [],
    }),
    pidMode: t.string({
      nullable: true,
      description: 'PID namespace: empty, "host" or "container:<id>".',
      resolve: (h) => h.PidMode || null,
    }),
    ipcMode: t.string({
      nullable: true,
      description: 'IPC namespace mode.',
      resolve: (h) => h.IpcMode || null,
    }),
    logDriver: t.string({
      nullable: true,
      description: 'Logging driver, e.g. "json-file".',
      resolve: (h) => h.LogConfig?.Type || null,
    }),
    logOptions: t.field({
      type: [OptionRef],
      description: 'Options of the logging driver, e.g. max-size.',
      resolve: (h) => toKeyValues(h.LogConfig?.Config),
    }),
    dnsSearch: t.stringList({
      description: 'DNS search domains.',
      resolve: (h) => h.DnsSearch ?? [],
    }),
    dnsOptions: t.stringList({
      description: 'Resolver options, e.g. "ndots:2".',
      resolve: (h) => h.DnsOptions ?? [],
    }),
    volumesFrom: t.stringList({
      description: 'Containers whose volumes it mounts, as "container[:ro|rw]".',
      resolve: (h) => h.VolumesFrom ?? [],
    }),
    devices: t.field({
      type: [DeviceMappingRef],
      description: 'Host devices it was given.',
      resolve: (h) => h.Devices ?? [],
    }),
    deviceCgroupRules: t.stringList({
      description: 'Device cgroup rules, e.g. "c 1:3 rwm".',
      resolve: (h) => h.DeviceCgroupRules ?? [],
    }),
    ulimits: t.field({
      type: [UlimitRef],
      description: 'Resource limits set on its processes; the engine’s defaults apply to others.',
      resolve: (h) => h.Ulimits ?? [],
    }),
    securityOptions: t.stringList({
      description: 'Security options, e.g. "no-new-privileges", "apparmor=docker-default".',
      resolve: (h) => h.SecurityOpt ?? [],
    }),
    shmSizeBytes: t.field({
      type: 'SafeInt',
      nullable: true,
      description: 'Size of /dev/shm; null when the engine did not set one.',
      resolve: (h) => nonZero(h.ShmSize),
    }),
    sysctls: t.field({
      type: [KernelParameterRef],
      description: 'Kernel parameters set in its namespaces.',
      resolve: (h) => toKeyValues(h.Sysctls),
    }),
  }),
});

interface ComposeShape {
  project: string;
  labels: Readonly<Record<string, string>>;
}

const ComposeInfoRef = builder.objectRef<ComposeShape>('ComposeInfo').implement({
  description: 'Docker Compose facts, read from the labels Compose sets.',
  fields: (t) => ({
    project: t.exposeString('project', { description: 'Compose project name.' }),
    service: t.string({
      nullable: true,
      description: 'Service name.',
      resolve: (c) => c.labels['com.docker.compose.service'] ?? null,
    }),
    containerNumber: t.int({
      nullable: true,
      description: 'Replica number within the service.',
      resolve: (c) => {
        const number = Number(c.labels['com.docker.compose.container-number']);
        return Number.isInteger(number) ? number : null;
      },
    }),
    oneOff: t.boolean({
      description: 'Whether it was made by `compose run`.',
      resolve: (c) => c.labels['com.docker.compose.oneoff'] === 'True',
    }),
    workingDir: t.string({
      nullable: true,
      description: 'Folder the project was started from.',
      resolve: (c) => c.labels['com.docker.compose.project.working_dir'] ?? null,
    }),
    configFiles: t.stringList({
      description: 'Compose files of the project.',
      resolve: (c) =>
        c.labels['com.docker.compose.project.config_files']?.split(',').filter(Boolean) ?? [],
    }),
  }),
});

const ContainerSizeRef = builder
  .objectRef<{ rw: number | null; rootFs: number | null }>('ContainerSize')
  .implement({
    description: 'Disk space of a container.',
    fields: (t) => ({
      writableBytes: t.field({
        type: 'SafeInt',
        nullable: true,
        description: 'Size of the files it created or changed.',
        resolve: (s) => s.rw,
      }),
      rootFsBytes: t.field({
        type: 'SafeInt',
        nullable: true,
        description: 'Size of its whole filesystem, image included.',
        resolve: (s) => s.rootFs,
      }),
    }),
  });

interface ProcessShape {
  titles: readonly string[];
  values: readonly string[];
}

function column(process: ProcessShape, ...names: string[]): string | null {
  const index = process.titles.findIndex((title) => names.includes(title));
  return index === -1 ? null : (process.values[index] ?? null);
}

const ContainerProcessRef = builder.objectRef<ProcessShape>('ContainerProcess').implement({
  description: 'A process running in a container, as `ps` on the host shows it.',
  fields: (t) => ({
    pid: t.int({
      nullable: true,
      description: 'Process id in the host PID namespace.',
      resolve: (p) => {
        const pid = Number(column(p, 'PID'));
        return Number.isInteger(pid) ? pid : null;
      },
    }),
    user: t.string({
      nullable: true,
      description: 'User running it.',
      resolve: (p) => column(p, 'UID', 'USER'),
    }),
    command: t.string({
      nullable: true,
      description: 'Command line.',
      resolve: (p) => column(p, 'CMD', 'COMMAND'),
    }),
    values: t.stringList({
      description: 'Every column, in the order of `titles`.',
      resolve: (p) => [...p.values],
    }),
  }),
});

const ContainerProcessesRef = builder
  .objectRef<{ Titles: string[]; Processes: string[][] | null }>('ContainerProcesses')
  .implement({
    description: 'The processes of a running container (`docker top`).',
    fields: (t) => ({
      titles: t.exposeStringList('Titles', {
        description: 'Column titles of `ps`, e.g. UID, PID, CMD.',
      }),
      processes: t.field({
        type: [ContainerProcessRef],
        description: 'One entry per process.',
        resolve: (top) => (top.Processes ?? []).map((values) => ({ titles: top.Titles, values })),
      }),
    }),
  });

const FilesystemChangeRef = builder
  .objectRef<{ Path: string; Kind: 0 | 1 | 2 }>('FilesystemChange')
  .implement({
    description: 'A path that differs from the image (`docker diff`).',
    fields: (t) => ({
      path: t.exposeString('Path', { description: 'Absolute path inside the container.' }),
      kind: t.field({
        type: FilesystemChangeKindEnum,
        description: 'How it changed.',
        resolve: (c) => c.Kind,
      }),
    }),
  });

ContainerStatsRef.implement({
  description: 'Resource use of a running container, computed as `docker stats` does.',
  fields: (t) => ({
    read: t.field({
      type: 'DateTime',
      description: 'When the engine took the sample.',
      resolve: (s) => new Date(s.read),
    }),
    cpuPercent: t.exposeFloat('cpuPercent', { description: 'CPU use; 100 per fully used CPU.' }),
    onlineCpus: t.exposeInt('onlineCpus', { description: 'CPUs available to it.' }),
    memoryUsageBytes: t.field({
      type: 'SafeInt',
      description: 'Memory in use, page cache excluded.',
      resolve: (s) => s.memoryUsage,
    }),
    memoryLimitBytes: t.field({
      type: 'SafeInt',
      description: 'Memory it may use (the host memory when unlimited).',
      resolve: (s) => s.memoryLimit,
    }),
    memoryPercent: t.exposeFloat('memoryPercent', {
      description: 'Memory in use as a share of the limit.',
    }),
    networkRxBytes: t.field({
      type: 'SafeInt',
      description: 'Bytes received on all its networks.',
      resolve: (s) => s.networkRxBytes,
    }),
    networkTxBytes: t.field({
      type: 'SafeInt',
      description: 'Bytes sent on all its networks.',
      resolve: (s) => s.networkTxBytes,
    }),
    blockReadBytes: t.field({
      type: 'SafeInt',
      description: 'Bytes read from block devices.',
      resolve: (s) => s.blockReadBytes,
    }),
    blockWriteBytes: t.field({
      type: 'SafeInt',
      description: 'Bytes written to block devices.',
      resolve: (s) => s.blockWriteBytes,
    }),
    pids: t.exposeInt('pids', { description: 'Processes and threads running.' }),
  }),
});

/** Most lines and bytes one `logs` field returns, whatever the client asks. */
const LOG_LIMITS = { maxLines: 10_000, maxBytes: 8 * 1024 * 1024 };

LogLineRef.implement({
  description: 'One line a container wrote.',
  fields: (t) => ({
    stream: t.field({
      type: LogStreamEnum,
      description: 'Where it was written.',
      resolve: (line) => (line.stream === 'stderr' ? 'stderr' : 'stdout'),
    }),
    time: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it was written; null when timestamps were not asked for.',
      resolve: (line) => (line.timestamp ? new Date(line.timestamp) : null),
    }),
    timestamp: t.exposeString('timestamp', {
      nullable: true,
      description:
        "The engine's RFC 3339 timestamp with nanoseconds, for ordering lines written in the same millisecond.",
    }),
    message: t.exposeString('message', { description: 'The text, without its line break.' }),
  }),
});

const ContainerLogsRef = builder.objectRef<DecodedLogs>('ContainerLogs').implement({
  description: 'Lines a container wrote, oldest first.',
  fields: (t) => ({
    lines: t.field({
      type: [LogLineRef],
      description: 'The lines.',
      resolve: (logs) => logs.lines,
    }),
    truncated: t.exposeBoolean('truncated', {
      description: `Whether more output was left unread because the answer reached its limit (${LOG_LIMITS.maxLines} lines or 8 MiB); ask for less with tail, since or until.`,
    }),
  }),
});

/** The command line as the engine's container list shows it: arguments with a space in quotes. */
function engineCommandLine(path: string, args: readonly string[]): string {
  return [path, ...args.map((arg) => (arg.includes(' ') ? `'${arg}'` : arg))].join(' ');
}

// ---------------------------------------------------------------------------
// The container

ContainerRef.implement({
  description: 'A Docker container.',
  fields: (t) => ({
    dockerId: t.exposeString('id', { description: "The engine's id: 64 hexadecimal digits." }),
    shortId: t.string({
      description: 'The first 12 digits of the id, as the docker CLI shows it.',
      resolve: (c) => shortenId(c.id),
    }),
    name: t.string({
      description: 'Its name, without the leading slash.',
      resolve: async (c, _args, context) => {
        const name =
          c.summary?.Names[0] ?? c.inspect?.Name ?? (await loadInspect(c, context))?.Name ?? c.id;
        return name.replace(/^\//, '');
      },
    }),
    names: t.stringList({
      description: 'Every name it answers to, without leading slashes (legacy links add more).',
      resolve: async (c, _args, context) => {
        const summary = await loadSummary(c, context);
        const names = summary?.Names ?? (c.inspect ? [c.inspect.Name] : []);
        return names.map((name) => name.replace(/^\//, ''));
      },
    }),
    image: t.field({
      type: ImageRef,
      nullable: true,
      description: 'The image it was created from; null when that image was removed.',
      resolve: async (c, _args, context) => {
        const imageId =
          c.summary?.ImageID ?? c.inspect?.Image ?? (await loadInspect(c, context))?.Image;
        if (!imageId) return null;
        const image = await context.loaders.images.byId.load(imageId);
        return image ? toImageRecord(c.engine, image) : null;
      },
    }),
    imageReference: t.string({
      description: 'The image reference it was created with, e.g. "nginx:1.27" (or an id).',
      resolve: async (c, _args, context) =>
        c.summary?.Image ??
        c.inspect?.Config.Image ??
        (await loadInspect(c, context))?.Config.Image ??
        '',
    }),
    command: t.string({
      description: 'Command line it runs, entrypoint and arguments joined.',
      resolve: async (c, _args, context) => {
        if (c.summary) return c.summary.Command;
        const inspect = await loadInspect(c, context);
        // Written as the engine's list writes it, so both ways of reading agree.
        return inspect ? engineCommandLine(inspect.Path, inspect.Args) : '';
      },
    }),
    created: t.field({
      type: 'DateTime',
      description: 'When it was created.',
      resolve: async (c, _args, context) => {
        if (c.summary) return new Date(c.summary.Created * 1000);
        // Whole seconds, as the list gives them, so that both ways of reading agree.
        const created = parseEngineTime((await loadInspect(c, context))?.Created)?.getTime() ?? 0;
        return new Date(Math.floor(created / 1000) * 1000);
      },
    }),
    state: t.field({
      type: ContainerStateEnum,
      description: 'Lifecycle state.',
      resolve: async (c, _args, context) =>
        currentState(c) ?? (await loadInspect(c, context))?.State.Status ?? 'dead',
    }),
    status: t.string({
      description:
        'Human-readable status, e.g. "Up 5 minutes (healthy)" or "Exited (0) 2 hours ago".',
      resolve: async (c, _args, context) => (await loadSummary(c, context))?.Status ?? '',
    }),
    health: t.field({
      type: ContainerHealthRef,
      nullable: true,
      description: 'Healthcheck state; null when it has no healthcheck.',
      resolve: async (c, _args, context) => (await loadInspect(c, context))?.State.Health ?? null,
    }),
    exitCode: t.int({
      nullable: true,
      description: 'Exit code of its last run; null while it has never stopped.',
      resolve: async (c, _args, context) => {
        const inspect = await loadInspect(c, context);
        if (!inspect) return null;
        const state = inspect.State;
        return parseEngineTime(state.FinishedAt) ||
          state.Status === 'exited' ||
          state.Status === 'dead'
          ? state.ExitCode
          : null;
      },
    }),
    oomKilled: t.boolean({
      description: 'Whether its last run was killed for lack of memory.',
      resolve: async (c, _args, context) =>
        (await loadInspect(c, context))?.State.OOMKilled ?? false,
    }),
    error: t.string({
      nullable: true,
      description: 'Why the engine could not start or run it, if it failed.',
      resolve: async (c, _args, context) => (await loadInspect(c, context))?.State.Error || null,
    }),
    pid: t.int({
      nullable: true,
      description: 'Host process id of its main process while it runs.',
      resolve: async (c, _args, context) => (await loadInspect(c, context))?.State.Pid || null,
    }),
    startedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it last started; null if never.',
      resolve: async (c, _args, context) =>
        parseEngineTime((await loadInspect(c, context))?.State.StartedAt),
    }),
    finishedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it last stopped; null if never.',
      resolve: async (c, _args, context) =>
        parseEngineTime((await loadInspect(c, context))?.State.FinishedAt),
    }),
    restartCount: t.int({
      description: 'How often its restart policy restarted it.',
      resolve: async (c, _args, context) => (await loadInspect(c, context))?.RestartCount ?? 0,
    }),
    platform: t.string({
      nullable: true,
      description: 'Operating system it runs on, e.g. "linux".',
      resolve: async (c, _args, context) => (await loadInspect(c, context))?.Platform || null,
    }),
    ports: t.field({
      type: [ContainerPortRef],
      description: 'Exposed ports and where they are published.',
      resolve: async (c, _args, context) => {
        if (c.summary) return portsFromSummary(c.summary);
        const inspect = await loadInspect(c, context);
        return inspect ? portsFromInspect(inspect) : [];
      },
    }),
    labels: t.field({
      type: [LabelRef],
      description: 'Labels, sorted by name.',
      resolve: async (c, _args, context) =>
        toKeyValues(
          c.summary?.Labels ??
            c.inspect?.Config.Labels ??
            (await loadInspect(c, context))?.Config.Labels,
        ),
    }),
    label: t.string({
      nullable: true,
      description: 'The value of one label; null when it is not set.',
      args: { name: t.arg.string({ required: true, description: 'Label key.' }) },
      resolve: async (c, { name }, context) => {
        const labels =
          c.summary?.Labels ??
          c.inspect?.Config.Labels ??
          (await loadInspect(c, context))?.Config.Labels;
        return labelValue(labels, name);
      },
    }),
    mounts: t.field({
      type: [ContainerMountRef],
      description: 'Volumes, bind mounts and tmpfs mounted into it.',
      resolve: async (c, _args, context) => {
        const mounts =
          c.summary?.Mounts ?? c.inspect?.Mounts ?? (await loadInspect(c, context))?.Mounts ?? [];
        return mounts.map((mount) => ({ mount, engine: c.engine }));
      },
    }),
    networks: t.field({
      type: [NetworkAttachmentRef],
      description: 'Networks it is attached to, with its address on each.',
      resolve: async (c, _args, context) => {
        const fromInspect = c.summary === null;
        const networks = fromInspect
          ? (c.inspect ?? (await loadInspect(c, context)))?.NetworkSettings.Networks
          : c.summary.NetworkSettings?.Networks;
        return Object.entries(networks ?? {})
          .map(([networkName, settings]) => ({ container: c, networkName, settings, fromInspect }))
          .sort((a, b) => (a.networkName < b.networkName ? -1 : 1));
      },
    }),
    config: t.field({
      type: ContainerConfigRef,
      nullable: true,
      description: 'How it was configured at creation; null when it no longer exists.',
      resolve: async (c, _args, context) => (await loadInspect(c, context))?.Config ?? null,
    }),
    hostConfig: t.field({
      type: HostConfigRef,
      nullable: true,
      description:
        'Resources, restart policy, networking and privileges; null when it no longer exists.',
      resolve: async (c, _args, context) => (await loadInspect(c, context))?.HostConfig ?? null,
    }),
    compose: t.field({
      type: ComposeInfoRef,
      nullable: true,
      description: 'Compose project and service; null when Compose did not create it.',
      resolve: async (c, _args, context) => {
        const labels =
          c.summary?.Labels ??
          c.inspect?.Config.Labels ??
          (await loadInspect(c, context))?.Config.Labels ??
          {};
        const project = labels['com.docker.compose.project'];
        return project ? { project, labels } : null;
      },
    }),
    size: t.field({
      type: ContainerSizeRef,
      nullable: true,
      description:
        'Disk space it uses. Slow: the engine walks its files; one engine call serves every container asked.',
      resolve: (c, _args, context) => context.loaders.containers.size.load(c.id),
    }),
    top: t.field({
      type: ContainerProcessesRef,
      nullable: true,
      description: `Its processes (\`docker top\`); null when it is not running. Command lines and environments can hold secrets: without the \`secrets\` permission the columns are fixed (\`ps ${SAFE_PS_ARGS}\`: the program name, not its arguments) and \`psArgs\` is refused.`,
      args: {
        psArgs: t.arg.string({
          required: false,
          description:
            'Arguments to `ps`, e.g. "aux"; the default is "-ef". Needs the `secrets` permission: `ps` can print environments ("e") and command lines. Podman reads them as its own format descriptors, e.g. "pid,user,args" ("-ef" and "-eo <columns>" are translated); other arguments make it run the container’s `ps`, whose output it gives as one column.',
        }),
      },
      resolve: async (c, { psArgs }, context) => {
        const given = psArgs !== null && psArgs !== undefined;
        if (given && !can(context.principal, 'secrets')) {
          throw forbiddenError(
            `${describePrincipal(context.principal)} may not give Container.top psArgs: ps arguments can show environments and command lines, which needs the "secrets" permission`,
          );
        }
        if (given && !/^[A-Za-z0-9 ,=-]*$/.test(psArgs)) {
          throw invalidArgument(
            'psArgs',
            'may hold only letters, digits, spaces, "-", "," and "="',
          );
        }
        if (!(await isRunning(c, context))) return null;
        const args = given ? psArgs : can(context.principal, 'secrets') ? undefined : SAFE_PS_ARGS;
        return listContainerProcesses(context.docker, c.id, args);
      },
    }),
    changes: t.field({
      type: [FilesystemChangeRef],
      description: 'Paths that differ from its image (`docker diff`).',
      resolve: (c, _args, context) => listContainerChanges(context.docker, c.id),
    }),
    logs: t.field({
      type: ContainerLogsRef,
      description:
        'Its output so far (`docker logs`), demultiplexed into lines; TTY output is all STDOUT.',
      args: {
        tail: t.arg.int({
          required: false,
          description: 'Only the last this many lines; all when omitted.',
        }),
        since: t.arg({
          type: 'DateTime',
          required: false,
          description: 'Only lines written at or after this time.',
        }),
        until: t.arg({
          type: 'DateTime',
          required: false,
          description: 'Only lines written before this time.',
        }),
        timestamps: t.arg.boolean({
          required: false,
          defaultValue: true,
          description: 'Ask the engine for the time of each line.',
        }),
        stdout: t.arg.boolean({
          required: false,
          defaultValue: true,
          description: 'Include standard output.',
        }),
        stderr: t.arg.boolean({
          required: false,
          defaultValue: true,
          description: 'Include standard error.',
        }),
      },
      resolve: async (c, args, context) => {
        const options = toLogOptions(args);
        const inspect = await loadInspect(c, context);
        if (!inspect) return { lines: [], truncated: false, incomplete: false };
        return readContainerLogs(
          context.docker,
          c.id,
          { ...options, tty: inspect.Config.Tty ?? false },
          LOG_LIMITS,
        );
      },
    }),
    stats: t.field({
      type: ContainerStatsRef,
      nullable: true,
      description:
        'One sample of its resource use; null when it is not running. Takes about two seconds: the engine samples CPU twice.',
      resolve: async (c, _args, context) => {
        if (!(await isRunning(c, context))) return null;
        return computeStatsFigures(await context.loaders.containers.stats.load(c.id));
      },
    }),
  }),
});

// ---------------------------------------------------------------------------
// Queries

const ContainerFilterInput = builder.inputType('ContainerFilter', {
  description:
    'Which containers to list. Conditions of different fields must all hold; values within one field are alternatives.',
  fields: (t) => ({
    ids: t.stringList({ required: false, description: 'Ids or id prefixes.' }),
    names: t.stringList({
      required: false,
      description: 'Names, matched as regular expressions on any of its names.',
    }),
    states: t.field({
      type: [ContainerStateEnum],
      required: false,
      description: 'Lifecycle states.',
    }),
    labels: t.stringList({
      required: false,
      description: 'Labels as `key` (set to anything) or `key=value`; all must match.',
    }),
    ancestors: t.stringList({
      required: false,
      description: 'Images (name, name:tag, or id) it was created from or from a descendant of.',
    }),
    networks: t.stringList({
      required: false,
      description: 'Networks (name or id) it is attached to.',
    }),
    volumes: t.stringList({
      required: false,
      description: 'Volumes (name) or mount destinations it has.',
    }),
    health: t.field({
      type: [HealthStatusEnum],
      required: false,
      description: 'Healthcheck results.',
    }),
    exitCodes: t.intList({ required: false, description: 'Exit codes of stopped containers.' }),
    createdBefore: t.string({
      required: false,
      description: 'Only containers created before this one (id, id prefix or name).',
    }),
    createdSince: t.string({
      required: false,
      description: 'Only containers created after this one (id, id prefix or name).',
    }),
    exposedPorts: t.stringList({
      required: false,
      description:
        'Ports it exposes, as "port[/protocol]" or a range "start-end[/protocol]", e.g. "80", "53/udp", "8000-8080/tcp".',
    }),
    publishedPorts: t.stringList({
      required: false,
      description:
        'Host ports it publishes a port on (the host side of `-p`), in the form of `exposedPorts`. Exposed and published ports match running containers only.',
    }),
    isTask: t.boolean({
      required: false,
      description: 'true: only containers running swarm service tasks; false: only the others.',
    }),
    composeProject: t.string({ required: false, description: 'Compose project name.' }),
    composeService: t.string({ required: false, description: 'Compose service name.' }),
  }),
});

type ContainerFilterValue = typeof ContainerFilterInput.$inferInput;

/** Turns the GraphQL filter into engine filters, rejecting what the engine would misread. */
function toContainerFilters(filter: ContainerFilterValue | null | undefined): ContainerFilters {
  if (!filter) return {};
  const { composeProject, composeService, ...given } = givenFields(filter);
  checkLabelFilters('filter.labels', given.labels);
  const labels = [...(given.labels ?? [])];
  for (const [name, label, value] of [
    ['composeProject', 'project', composeProject],
    ['composeService', 'service', composeService],
  ] as const) {
    if (value === undefined) continue;
    if (value.trim() === '' || value.includes('='))
      throw invalidArgument(`filter.${name}`, 'must be a non-empty name without "="');
    labels.push(`com.docker.compose.${label}=${value}`);
  }
  given.exitCodes?.forEach((code, index) => {
    if (code < 0 || code > 255)
      throw invalidArgument(`filter.exitCodes[${index}]`, `must be from 0 to 255, got ${code}`);
  });
  for (const name of ['ids', 'names', 'ancestors', 'networks', 'volumes'] as const) {
    checkNonEmpty(`filter.${name}`, given[name]);
  }
  for (const name of ['exposedPorts', 'publishedPorts'] as const) {
    for (const [index, port] of (given[name] ?? []).entries()) {
      checkPortFilter(`filter.${name}[${index}]`, port);
    }
  }
  for (const name of ['createdBefore', 'createdSince'] as const) {
    const reference = given[name];
    if (reference !== undefined && (reference.trim() === '' || /[\s/]/.test(reference.trim())))
      throw invalidArgument(`filter.${name}`, `"${reference}" is not a container id or name`);
  }
  return labels.length > 0 ? { ...given, labels } : given;
}

/** A port filter as the engine reads it: "port[/protocol]" or "start-end[/protocol]". */
function checkPortFilter(argument: string, text: string) {
  const match = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp|sctp))?$/.exec(text);
  const start = Number(match?.[1]);
  const end = match?.[2] === undefined ? start : Number(match[2]);
  if (!match || start < 1 || end > 65535 || start > end) {
    throw invalidArgument(
      argument,
      `"${text}" is not a port or range of ports (1 to 65535) with an optional /tcp, /udp or /sctp`,
    );
  }
}

/**
 * The containers `createdBefore`/`createdSince` name, resolved to full ids among
 * those the principal sees (the engine would resolve a name it may not see, and its
 * answer would tell that the container exists); one it may not see is answered as
 * a missing one.
 */
async function resolveCreatedFilters(
  context: GraphQLContext,
  filters: ContainerFilters,
): Promise<ContainerFilters> {
  const resolved: { createdBefore?: string; createdSince?: string } = {};
  for (const name of ['createdBefore', 'createdSince'] as const) {
    const reference = filters[name];
    if (reference === undefined) continue;
    const inspect = await context.loaders.containers.inspect.load(
      reference.trim().replace(/^\//, ''),
    );
    if (!inspect) {
      throw invalidArgument(
        `filter.${name}`,
        `there is no container "${reference}" on engine "${context.engineName}"`,
      );
    }
    resolved[name] = inspect.Id;
  }
  return { ...filters, ...resolved };
}

builder.queryFields((t) => ({
  containers: t.connection(
    {
      type: ContainerRef,
      description:
        'Containers, running or not, of every engine asked: newest first (by creation second), then by engine name, then by id.',
      args: {
        ...enginesArgs,
        filter: t.arg({
          type: ContainerFilterInput,
          required: false,
          description: 'Which containers to list.',
        }),
      },
      resolve: async (_root, args, context, info) => {
        const given = toContainerFilters(args.filter);
        const { first } = args;
        // The first N with no cursor, and no count of the whole list asked for: the engine's
        // `limit` answers it (every filter, label limits included, is applied by the engine);
        // across engines, the first N of each engine hold the first N of all.
        const pushdown =
          typeof first === 'number' &&
          first >= 0 &&
          !args.after &&
          !args.before &&
          (args.last === null || args.last === undefined) &&
          !selectsField(info, 'totalCount');
        const answers = await readAcrossEngines(context, info, args.engines, async (bound) => {
          // A container named by `createdBefore`/`createdSince` must be on every engine asked.
          const filters = await resolveCreatedFilters(bound, given);
          const { containers: summaries, whole } = pushdown
            ? await bound.loaders.containers.newest(filters, first)
            : { containers: await bound.loaders.containers.list(filters), whole: true };
          for (const summary of summaries)
            bound.loaders.containers.summaryById.prime(summary.Id, summary);
          return {
            records: summaries.map((summary) => toContainerRecord(bound.engineName, summary)),
            whole,
            count: () => bound.loaders.containers.list(filters).then((all) => all.length),
          };
        });
        const page = paginate(
          answers.flatMap((answer) => answer.value.records),
          args,
          (c) => newestFirstKey(c.summary?.Created ?? 0, `${c.engine}:${c.id}`),
        );
        if (answers.every((answer) => answer.value.whole)) return page;
        // Not selected (checked above); read the whole lists should it be asked for after all.
        const { edges, pageInfo } = page;
        return {
          edges,
          pageInfo,
          get totalCount() {
            return Promise.all(answers.map((answer) => answer.value.count())).then((counts) =>
              counts.reduce((sum, count) => sum + count, 0),
            );
          },
        };
      },
    },
    { name: 'ContainerConnection', description: 'A page of containers.' },
    { name: 'ContainerEdge', description: 'A container and its cursor.' },
  ),
  container: t.field({
    type: ContainerRef,
    nullable: true,
    description: 'One container by id, unique id prefix or name; null when there is none.',
    args: {
      ...engineArgs,
      idOrName: t.arg.string({
        required: true,
        description: 'Id, unique id prefix, or name (with or without the leading slash).',
      }),
    },
    resolve: async (_root, { idOrName }, context) => {
      // The engine answers "/name" in a path with a redirect: ask for "name".
      const key = idOrName.trim().replace(/^\//, '');
      if (key === '') throw invalidArgument('idOrName', 'must not be empty');
      if (key.includes('/'))
        throw invalidArgument('idOrName', `"${idOrName}" is not a container id or name`);
      // Through the loader: a container the principal may not see is answered as missing.
      const inspect = await context.loaders.containers.inspect.load(key);
      if (!inspect) return null;
      context.loaders.containers.inspect.prime(inspect.Id, inspect);
      return { engine: context.engineName, id: inspect.Id, summary: null, inspect };
    },
  }),
}));
