import { splitPortKey } from '../accessors/container.ts';
import type { EngineHostConfig } from '../docker/containers.ts';
import { builder } from './builder.ts';
import { PortProtocolEnum, protocolOf, RestartPolicyEnum } from './container-enums.ts';
import { HostConfigRef } from './refs.ts';
import { type KeyValue, OptionRef, toKeyValues } from './shared.ts';

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

HostConfigRef.implement({
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
