import type { GraphQLContext } from '../context.ts';
import { EngineNotFoundError } from '../docker/errors.ts';
import type { EngineDiskUsage, EngineInfo, EngineVersion } from '../docker/system.ts';
import type { PingResult } from '../docker/version.ts';
import { builder } from './builder.ts';
import { invalidArgument } from './errors.ts';
import {
  ConfigRef,
  ContainerRef,
  EngineRef,
  ImageRef,
  NetworkRef,
  SecretRef,
  ServiceRef,
  StackRef,
  SwarmNodeRef,
  TaskRef,
  VolumeRef,
} from './refs.ts';
import { type KeyValue, LabelRef, OptionRef, toKeyValues } from './shared.ts';

const EngineKindEnum = builder.enumType('EngineKind', {
  description: 'Which implementation of the Docker Engine API answers.',
  values: {
    DOCKER: { value: 'docker', description: 'Docker Engine (moby).' },
    PODMAN: { value: 'podman', description: "Podman's Docker-compatible API." },
  } as const,
});

const EnginePingRef = builder
  .objectRef<PingResult & { negotiatedApiVersion: string }>('EnginePing')
  .implement({
    description: 'What the engine says in answer to `HEAD /_ping`.',
    fields: (t) => ({
      apiVersion: t.exposeString('apiVersion', {
        description: 'Highest API version the engine serves.',
      }),
      negotiatedApiVersion: t.exposeString('negotiatedApiVersion', {
        description: 'API version dockergraph uses with it: the lower of the engine’s and its own.',
      }),
      osType: t.exposeString('osType', {
        nullable: true,
        description: 'Operating system of its containers: "linux" or "windows".',
      }),
      experimental: t.exposeBoolean('experimental', {
        description: 'Whether experimental features are on.',
      }),
      builderVersion: t.exposeString('builderVersion', {
        nullable: true,
        description: 'Default builder: "1" classic, "2" BuildKit.',
      }),
      swarm: t.exposeString('swarm', {
        nullable: true,
        description: 'Swarm state and role, e.g. "inactive" (API 1.42+).',
      }),
      kind: t.field({
        type: EngineKindEnum,
        description: 'Docker or Podman.',
        resolve: (ping) => (ping.podmanApiVersion ? 'podman' : 'docker'),
      }),
      podmanApiVersion: t.exposeString('podmanApiVersion', {
        nullable: true,
        description: "Podman's own API version, when it is Podman.",
      }),
    }),
  });

const EngineComponentRef = builder
  .objectRef<NonNullable<EngineVersion['Components']>[number]>('EngineComponent')
  .implement({
    description: 'A component of the engine (containerd, runc, docker-init, ...).',
    fields: (t) => ({
      name: t.exposeString('Name', { description: 'Component name.' }),
      version: t.exposeString('Version', { description: 'Its version.' }),
      details: t.field({
        type: [OptionRef],
        description: 'Extra facts, e.g. GitCommit.',
        resolve: (component) => toKeyValues(component.Details),
      }),
    }),
  });

const EngineVersionRef = builder
  .objectRef<EngineVersion & { negotiatedApiVersion: string }>('EngineVersion')
  .implement({
    description: 'Versions of the engine and its components (`GET /version`).',
    fields: (t) => ({
      version: t.exposeString('Version', { description: 'Engine version, e.g. "20.10.24".' }),
      apiVersion: t.exposeString('ApiVersion', { description: 'Highest API version it serves.' }),
      minApiVersion: t.string({
        nullable: true,
        description: 'Lowest API version it serves.',
        resolve: (v) => v.MinAPIVersion ?? null,
      }),
      negotiatedApiVersion: t.exposeString('negotiatedApiVersion', {
        description: 'API version dockergraph uses with it.',
      }),
      platform: t.string({
        nullable: true,
        description: 'Product name, e.g. "Docker Engine - Community".',
        resolve: (v) => v.Platform?.Name || null,
      }),
      gitCommit: t.exposeString('GitCommit', { description: 'Commit it was built from.' }),
      goVersion: t.exposeString('GoVersion', { description: 'Go version it was built with.' }),
      os: t.exposeString('Os', { description: 'Operating system, e.g. "linux".' }),
      arch: t.exposeString('Arch', { description: 'CPU architecture, e.g. "amd64".' }),
      kernelVersion: t.exposeString('KernelVersion', { description: 'Kernel of the host.' }),
      experimental: t.boolean({
        description: 'Whether experimental features are on.',
        resolve: (v) => v.Experimental ?? false,
      }),
      buildTime: t.string({
        nullable: true,
        description: 'When it was built, as the engine reports it.',
        resolve: (v) => v.BuildTime || null,
      }),
      components: t.field({
        type: [EngineComponentRef],
        description: 'Components and their versions.',
        resolve: (v) => v.Components ?? [],
      }),
    }),
  });

const ContainerCountsRef = builder.objectRef<EngineInfo>('ContainerCounts').implement({
  description: 'How many containers the engine has, by state.',
  fields: (t) => ({
    total: t.exposeInt('Containers', { description: 'All containers.' }),
    running: t.exposeInt('ContainersRunning', { description: 'Running.' }),
    paused: t.exposeInt('ContainersPaused', { description: 'Paused.' }),
    stopped: t.exposeInt('ContainersStopped', { description: 'Neither running nor paused.' }),
  }),
});

const SwarmNodeStateEnum = builder.enumType('SwarmNodeState', {
  description: "This engine's membership of a swarm.",
  values: {
    INACTIVE: { value: 'inactive', description: 'Not part of a swarm.' },
    PENDING: { value: 'pending', description: 'Joining.' },
    ACTIVE: { value: 'active', description: 'A member.' },
    ERROR: { value: 'error', description: 'Membership failed.' },
    LOCKED: { value: 'locked', description: 'The swarm is locked and must be unlocked.' },
  } as const,
});

const SwarmStateRef = builder.objectRef<NonNullable<EngineInfo['Swarm']>>('SwarmState').implement({
  description: "This engine's place in a swarm.",
  fields: (t) => ({
    localNodeState: t.field({
      type: SwarmNodeStateEnum,
      description: 'Membership state.',
      resolve: (swarm) => {
        const state = swarm.LocalNodeState;
        return state === 'pending' || state === 'active' || state === 'error' || state === 'locked'
          ? state
          : 'inactive';
      },
    }),
    nodeId: t.string({
      nullable: true,
      description: 'Its node id, when a member.',
      resolve: (swarm) => swarm.NodeID || null,
    }),
    controlAvailable: t.boolean({
      description: 'Whether it is a manager.',
      resolve: (swarm) => swarm.ControlAvailable ?? false,
    }),
  }),
});

function toLabelPairs(labels: readonly string[] | null | undefined): KeyValue[] {
  return (labels ?? []).map((label) => {
    const separator = label.indexOf('=');
    return separator === -1
      ? { name: label, value: '' }
      : { name: label.slice(0, separator), value: label.slice(separator + 1) };
  });
}

const EngineInfoRef = builder.objectRef<EngineInfo>('EngineInfo').implement({
  description: 'System-wide facts about the engine and its host (`GET /info`).',
  fields: (t) => ({
    id: t.exposeString('ID', { description: 'Unique id of this engine.' }),
    name: t.exposeString('Name', { description: 'Host name.' }),
    serverVersion: t.exposeString('ServerVersion', { description: 'Engine version.' }),
    containers: t.field({
      type: ContainerCountsRef,
      description: 'Containers by state.',
      resolve: (info) => info,
    }),
    images: t.exposeInt('Images', { description: 'Number of images, layers included.' }),
    driver: t.exposeString('Driver', { description: 'Storage driver, e.g. "overlay2".' }),
    driverStatus: t.field({
      type: [OptionRef],
      description: 'Facts reported by the storage driver.',
      resolve: (info) => (info.DriverStatus ?? []).map(([name, value]) => ({ name, value })),
    }),
    dockerRootDir: t.exposeString('DockerRootDir', {
      description: 'Where the engine keeps its data.',
    }),
    cpus: t.exposeInt('NCPU', { description: 'CPUs of the host.' }),
    memoryBytes: t.field({
      type: 'SafeInt',
      description: 'Memory of the host.',
      resolve: (info) => info.MemTotal,
    }),
    operatingSystem: t.exposeString('OperatingSystem', {
      description: 'Host operating system, e.g. "Debian GNU/Linux 12".',
    }),
    osType: t.exposeString('OSType', { description: '"linux" or "windows".' }),
    osVersion: t.string({
      nullable: true,
      description: 'Host operating system version.',
      resolve: (info) => info.OSVersion || null,
    }),
    architecture: t.exposeString('Architecture', {
      description: 'Host architecture, e.g. "x86_64".',
    }),
    kernelVersion: t.exposeString('KernelVersion', { description: 'Host kernel.' }),
    cgroupDriver: t.string({
      nullable: true,
      description: 'Cgroup driver: "cgroupfs" or "systemd".',
      resolve: (info) => info.CgroupDriver || null,
    }),
    cgroupVersion: t.string({
      nullable: true,
      description: 'Cgroup version: "1" or "2".',
      resolve: (info) => info.CgroupVersion || null,
    }),
    loggingDriver: t.string({
      nullable: true,
      description: 'Default logging driver.',
      resolve: (info) => info.LoggingDriver || null,
    }),
    defaultRuntime: t.string({
      nullable: true,
      description: 'Default OCI runtime, e.g. "runc".',
      resolve: (info) => info.DefaultRuntime || null,
    }),
    liveRestoreEnabled: t.boolean({
      description: 'Whether containers keep running while the engine restarts.',
      resolve: (info) => info.LiveRestoreEnabled ?? false,
    }),
    labels: t.field({
      type: [LabelRef],
      description: 'Labels of the engine.',
      resolve: (info) => toLabelPairs(info.Labels),
    }),
    securityOptions: t.stringList({
      description: 'Security features on, e.g. "name=seccomp,profile=default".',
      resolve: (info) => info.SecurityOptions ?? [],
    }),
    swarm: t.field({
      type: SwarmStateRef,
      description: 'Swarm membership.',
      resolve: (info) => info.Swarm ?? {},
    }),
    warnings: t.stringList({
      description: 'Warnings about the configuration of the engine or host.',
      resolve: (info) => info.Warnings ?? [],
    }),
  }),
});

interface DiskUsageCategory {
  count: number;
  active: number;
  sizeBytes: number;
  reclaimableBytes: number;
}

const DiskUsageCategoryRef = builder.objectRef<DiskUsageCategory>('DiskUsageCategory').implement({
  description: 'Disk use of one kind of object, as `docker system df` sums it.',
  fields: (t) => ({
    count: t.exposeInt('count', { description: 'Number of objects.' }),
    active: t.exposeInt('active', { description: 'Objects in use (by a container, or running).' }),
    sizeBytes: t.field({
      type: 'SafeInt',
      description: 'Bytes they use.',
      resolve: (c) => c.sizeBytes,
    }),
    reclaimableBytes: t.field({
      type: 'SafeInt',
      description: 'Bytes a prune would free.',
      resolve: (c) => c.reclaimableBytes,
    }),
  }),
});

function sum<T>(items: readonly T[], value: (item: T) => number): number {
  return items.reduce((total, item) => total + Math.max(0, value(item)), 0);
}

const DiskUsageRef = builder.objectRef<EngineDiskUsage>('DiskUsage').implement({
  description: 'Disk use of the engine (`GET /system/df`).',
  fields: (t) => ({
    layersSizeBytes: t.field({
      type: 'SafeInt',
      description:
        "Bytes used by all image layers; for a token limited to labels, the sizes of the images it sees, summed (layers they share count once per image). Podman reports no layer total: there too, its images' sizes summed.",
      resolve: (df) => df.LayersSize,
    }),
    images: t.field({
      type: DiskUsageCategoryRef,
      description: 'Images.',
      resolve: (df) => {
        const images = df.Images ?? [];
        const unused = images.filter((image) => image.Containers === 0);
        return {
          count: images.length,
          active: images.length - unused.length,
          sizeBytes: df.LayersSize,
          reclaimableBytes: sum(unused, (image) =>
            image.SharedSize >= 0 ? image.Size - image.SharedSize : image.Size,
          ),
        };
      },
    }),
    containers: t.field({
      type: DiskUsageCategoryRef,
      description: 'Containers (their writable layers).',
      resolve: (df) => {
        const containers = df.Containers ?? [];
        const stopped = containers.filter(
          (container) => container.State !== 'running' && container.State !== 'paused',
        );
        return {
          count: containers.length,
          active: containers.length - stopped.length,
          sizeBytes: sum(containers, (container) => container.SizeRw ?? 0),
          reclaimableBytes: sum(stopped, (container) => container.SizeRw ?? 0),
        };
      },
    }),
    volumes: t.field({
      type: DiskUsageCategoryRef,
      description: 'Local volumes.',
      resolve: (df) => {
        const volumes = df.Volumes ?? [];
        const unused = volumes.filter((volume) => (volume.UsageData?.RefCount ?? 0) === 0);
        return {
          count: volumes.length,
          active: volumes.length - unused.length,
          sizeBytes: sum(volumes, (volume) => volume.UsageData?.Size ?? 0),
          reclaimableBytes: sum(unused, (volume) => volume.UsageData?.Size ?? 0),
        };
      },
    }),
    buildCache: t.field({
      type: DiskUsageCategoryRef,
      description: 'Build cache records.',
      resolve: (df) => {
        const records = df.BuildCache ?? [];
        const idle = records.filter((record) => !record.InUse && !record.Shared);
        return {
          count: records.length,
          active: records.filter((record) => record.InUse).length,
          sizeBytes: sum(
            records.filter((record) => !record.Shared),
            (record) => record.Size,
          ),
          reclaimableBytes: sum(idle, (record) => record.Size),
        };
      },
    }),
  }),
});

/** Each engine's answer to `HEAD /_ping` within one operation, asked once however often read. */
const probes = new WeakMap<object, Promise<boolean>>();

/** Asks the engine once per operation whether it answers; its health then says why not. */
function probeOnce(context: GraphQLContext): Promise<boolean> {
  const engine = context.fleet.find(context.engineName);
  if (!engine) return Promise.resolve(false);
  // The loaders are made per engine and operation: one probe for each.
  const asked = probes.get(context.loaders);
  if (asked) return asked;
  const probe = engine.probe(PROBE_TIMEOUT_MS);
  probes.set(context.loaders, probe);
  return probe;
}

/** How long `reachable` waits for an engine's ping, at most (its own connect timeout may be shorter). */
const PROBE_TIMEOUT_MS = 5_000;

EngineRef.implement({
  description:
    'A Docker engine dockergraph serves. Its fields read that engine; several engines may be served at once (see `engines`).',
  fields: (t) => ({
    name: t.string({
      description: 'Name dockergraph gives this engine (part of every global ID of its objects).',
      resolve: (engine) => engine.engine,
    }),
    labels: t.field({
      type: [LabelRef],
      description:
        'Labels of the engine itself from the engines file (e.g. `env=prod`), by which lists and tokens select engines; not the daemon labels (see `info.labels`).',
      resolve: (engine, _args, context) =>
        toKeyValues(context.fleet.find(engine.engine)?.labels ?? {}),
    }),
    reachable: t.boolean({
      description:
        'Whether the engine answers `HEAD /_ping` now, within its connect timeout. Asked once per operation.',
      resolve: (_engine, _args, context) => probeOnce(context),
    }),
    lastError: t.string({
      nullable: true,
      description:
        'Why the engine did not answer its last ping (asked by this operation, or earlier by `/readyz` or another operation); null when it answered.',
      resolve: async (engine, _args, context) => {
        await probeOnce(context);
        return context.fleet.find(engine.engine)?.health().lastError ?? null;
      },
    }),
    ping: t.field({
      type: EnginePingRef,
      description: 'Pings the engine: reachability and API version.',
      resolve: async (_engine, _args, context) => {
        const ping = await context.docker.ping();
        const { apiVersion } = await context.docker.connection();
        return { ...ping, negotiatedApiVersion: apiVersion };
      },
    }),
    version: t.field({
      type: EngineVersionRef,
      description: 'Versions of the engine and its components.',
      resolve: async (_engine, _args, context) => {
        const [version, connection] = await Promise.all([
          context.loaders.system.version(),
          context.docker.connection(),
        ]);
        return { ...version, negotiatedApiVersion: connection.apiVersion };
      },
    }),
    info: t.field({
      type: EngineInfoRef,
      description:
        'System-wide facts and object counts; for a token limited to labels, the counts are of the containers and images it sees.',
      resolve: (_engine, _args, context) => context.loaders.system.info(),
    }),
    diskUsage: t.field({
      type: DiskUsageRef,
      description:
        'Disk use by images, containers, volumes and build cache. Slow: the engine walks every layer. For a token limited to labels: only the images, containers and volumes it sees, with the use counts of its containers, and no build cache (it belongs to no one).',
      resolve: (_engine, _args, context) => context.loaders.system.diskUsage(),
    }),
  }),
});

builder.queryFields((t) => ({
  engine: t.field({
    type: EngineRef,
    description:
      'One engine: by `name`, or, left out, the only engine the token sees. An engine the token may not see answers like one that does not exist.',
    args: {
      name: t.arg.string({
        required: false,
        description: "The engine's name; may be left out when the token sees one engine only.",
      }),
    },
    resolve: (_root, { name }, context) => {
      if (name !== null && name !== undefined) {
        if (!context.fleet.find(name)) {
          throw new EngineNotFoundError('NOT_FOUND', `no engine named "${name}"`, 404);
        }
        return { engine: name };
      }
      const visible = context.fleet.visible();
      const [only] = visible;
      if (visible.length !== 1 || !only) {
        throw invalidArgument(
          'name',
          `${visible.length} engines are served: name one (see \`engines\`)`,
        );
      }
      return { engine: only.name };
    },
  }),
  engines: t.field({
    type: [EngineRef],
    description:
      'The engines the token may see, in name order, whether they answer or not (see `reachable`).',
    args: {
      selectors: t.arg.stringList({
        required: false,
        description:
          'Engine names or label selectors such as `env=prod`; every engine when left out.',
      }),
    },
    resolve: (_root, { selectors }, context) =>
      context.fleet.select(selectors, 'selectors').map((engine) => ({ engine: engine.name })),
  }),
}));

/** The `engine` field every object of an engine has. */
for (const ref of [
  ContainerRef,
  ImageRef,
  VolumeRef,
  NetworkRef,
  ServiceRef,
  TaskRef,
  SwarmNodeRef,
  SecretRef,
  ConfigRef,
  StackRef,
] as const) {
  builder.objectField(ref, 'engine', (t) =>
    t.field({
      type: EngineRef,
      description: 'The engine this object is on.',
      resolve: (record: { readonly engine: string }) => ({ engine: record.engine }),
    }),
  );
}
