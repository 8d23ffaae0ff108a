import type { ContainerAnswers, ContainerPort } from '../accessors/container.ts';
import type { ImageAnswers } from '../accessors/image.ts';
import { bindEngine, type GraphQLContext } from '../context.ts';
import { EngineCallBudgetError } from '../docker/client.ts';
import type {
  EngineContainerConfig,
  EngineContainerSummary,
  EngineEndpointSettings,
  EngineHealth,
  EngineHostConfig,
  EngineMountPoint,
} from '../docker/containers.ts';
import type { DecodedLogs, LogLine } from '../docker/demux.ts';
import type { EngineImageInspect, EngineImageSummary } from '../docker/images.ts';
import type { EngineNetwork } from '../docker/networks.ts';
import type { ContainerStatsFigures } from '../docker/stats.ts';
import type { EngineNode } from '../docker/swarm.ts';
import type { EngineSwarmBlob, SwarmBlobKind } from '../docker/swarm-secrets.ts';
import type { DecodedSwarmLogs, EngineService, EngineTask } from '../docker/swarm-services.ts';
import type { EngineVolume } from '../docker/volumes.ts';
import { can } from '../security/principal.ts';
import { builder } from './builder.ts';
import { toNodeKey } from './node-id.ts';

/**
 * The object types every domain refers to, declared here so that domain files
 * link to each other's types without importing each other.
 */

/** An engine dockergraph serves, by name: its fields are bound to it (engine-binding-plugin.ts). */
export interface EngineRecord {
  readonly engine: string;
}

/** An engine of the fleet (implemented in system.ts). */
export const EngineRef = builder.objectRef<EngineRecord>('Engine');

/** A container as read from the list, from inspect, or both (read through `readContainer`). */
export interface ContainerRecord extends ContainerAnswers {
  readonly engine: string;
}

/** An image as read from the list or from inspect (read through `readImage`). */
export interface ImageRecord extends ImageAnswers {
  readonly engine: string;
}

/** A volume as the engine describes it. */
export interface VolumeRecord {
  readonly engine: string;
  readonly volume: EngineVolume;
}

/** A network as the engine describes it. */
export interface NetworkRecord {
  readonly engine: string;
  readonly network: EngineNetwork;
}

/**
 * The objects a node lookup found: missing ones (null) are left out and answer null;
 * a spent engine-call budget fails the lookup, so that the client is told, not given nulls.
 */
function foundObjects<T>(results: readonly (T | null | undefined | Error)[]): T[] {
  const spent = results.find((result) => result instanceof EngineCallBudgetError);
  if (spent) throw spent;
  return results.flatMap((result) =>
    result === null || result === undefined || result instanceof Error ? [] : [result],
  );
}

/**
 * Loads node keys (`engine:objectId`) engine by engine, all engines at once, each
 * with the context bound to its engine; keys of engines the principal may not see
 * find nothing, as keys of objects that do not exist.
 */
async function loadPerEngine<T>(
  context: GraphQLContext,
  keys: readonly string[],
  load: (bound: GraphQLContext, ids: string[]) => Promise<T[]>,
): Promise<T[]> {
  const byEngine = new Map<string, string[]>();
  for (const key of keys) {
    const separator = key.indexOf(':');
    if (separator <= 0) continue;
    const engine = key.slice(0, separator);
    if (!context.fleet.find(engine)) continue;
    const ids = byEngine.get(engine) ?? [];
    ids.push(key.slice(separator + 1));
    byEngine.set(engine, ids);
  }
  const found = await Promise.all(
    [...byEngine].map(([engine, ids]) => load(bindEngine(context, engine), ids)),
  );
  return found.flat();
}

export const ContainerRef = builder.loadableNodeRef<ContainerRecord>('Container', {
  id: { resolve: (container) => toNodeKey(container.engine, container.id) },
  // Node lookups by global ID read the container list once, whatever their number.
  load: (keys: string[], root) =>
    loadPerEngine(root, keys, async (context, ids) => {
      const summaries = await context.loaders.containers.summaryById.loadMany(ids);
      return foundObjects(summaries).map(
        (summary) =>
          ({
            engine: context.engineName,
            id: summary.Id,
            summary,
            inspect: null,
          }) satisfies ContainerRecord,
      );
    }),
  sort: (container) => toNodeKey(container.engine, container.id),
});

export const ImageRef = builder.loadableNodeRef<ImageRecord>('Image', {
  id: { resolve: (image) => toNodeKey(image.engine, image.id) },
  load: (keys: string[], root) =>
    loadPerEngine(root, keys, async (context, ids) => {
      const images = await context.loaders.images.byId.loadMany(ids);
      return foundObjects(images).map((image) => toImageRecord(context.engineName, image));
    }),
  sort: (image) => toNodeKey(image.engine, image.id),
});

export const VolumeRef = builder.loadableNodeRef<VolumeRecord>('Volume', {
  id: { resolve: (volume) => toNodeKey(volume.engine, volume.volume.Name) },
  load: (keys: string[], root) =>
    loadPerEngine(root, keys, async (context, ids) => {
      const names = ids;
      const volumes = await context.loaders.volumes.byName.loadMany(names);
      return foundObjects(volumes).map(
        (volume) => ({ engine: context.engineName, volume }) satisfies VolumeRecord,
      );
    }),
  sort: (volume) => toNodeKey(volume.engine, volume.volume.Name),
});

export const NetworkRef = builder.loadableNodeRef<NetworkRecord>('Network', {
  id: { resolve: (network) => toNodeKey(network.engine, network.network.Id) },
  load: (keys: string[], root) =>
    loadPerEngine(root, keys, async (context, ids) => {
      const networks = await context.loaders.networks.byId.loadMany(ids);
      return foundObjects(networks).map(
        (network) => ({ engine: context.engineName, network }) satisfies NetworkRecord,
      );
    }),
  sort: (network) => toNodeKey(network.engine, network.network.Id),
});

/** A swarm service as the engine describes it. */
export interface ServiceRecord {
  readonly engine: string;
  readonly service: EngineService;
}

/** A swarm task as the engine describes it. */
export interface TaskRecord {
  readonly engine: string;
  readonly task: EngineTask;
}

/** A swarm node as the engine describes it. */
export interface SwarmNodeRecord {
  readonly engine: string;
  readonly node: EngineNode;
}

/** A swarm secret or config. */
export interface SwarmBlobRecord {
  readonly engine: string;
  readonly kind: SwarmBlobKind;
  readonly blob: EngineSwarmBlob;
}

/** A stack: the services, networks, secrets and configs of one `com.docker.stack.namespace`. */
export interface StackRecord {
  readonly engine: string;
  readonly name: string;
}

/** The label `docker stack deploy` puts on everything of a stack. */
export const STACK_NAMESPACE_LABEL = 'com.docker.stack.namespace';

export const ServiceRef = builder.loadableNodeRef<ServiceRecord>('Service', {
  id: { resolve: (record) => toNodeKey(record.engine, record.service.ID) },
  // Lookups by global ID read the service list once, whatever their number.
  load: (keys: string[], root) =>
    loadPerEngine(root, keys, async (context, ids) => {
      const services = await context.loaders.swarm.serviceById.loadMany(ids);
      return services.flatMap((service) =>
        service && !(service instanceof Error) ? [{ engine: context.engineName, service }] : [],
      );
    }),
  sort: (record) => toNodeKey(record.engine, record.service.ID),
});

export const TaskRef = builder.loadableNodeRef<TaskRecord>('Task', {
  id: { resolve: (record) => toNodeKey(record.engine, record.task.ID) },
  load: (keys: string[], root) =>
    loadPerEngine(root, keys, async (context, ids) => {
      const tasks = await context.loaders.swarm.taskById.loadMany(ids);
      return tasks.flatMap((task) =>
        task && !(task instanceof Error) ? [{ engine: context.engineName, task }] : [],
      );
    }),
  sort: (record) => toNodeKey(record.engine, record.task.ID),
});

export const SwarmNodeRef = builder.loadableNodeRef<SwarmNodeRecord>('SwarmNode', {
  id: { resolve: (record) => toNodeKey(record.engine, record.node.ID) },
  load: (keys: string[], root) =>
    loadPerEngine(root, keys, async (context, ids) => {
      const nodes = await context.loaders.swarm.nodeById.loadMany(ids);
      return nodes.flatMap((node) =>
        node && !(node instanceof Error) ? [{ engine: context.engineName, node }] : [],
      );
    }),
  sort: (record) => toNodeKey(record.engine, record.node.ID),
});

export const SecretRef = builder.loadableNodeRef<SwarmBlobRecord>('Secret', {
  id: { resolve: (record) => toNodeKey(record.engine, record.blob.ID) },
  load: (keys: string[], root) =>
    loadPerEngine(root, keys, async (context, ids) => {
      const blobs = await context.loaders.swarm.secrets.byId.loadMany(ids);
      return blobs.flatMap((blob) =>
        blob && !(blob instanceof Error)
          ? [{ engine: context.engineName, kind: 'secret' as const, blob }]
          : [],
      );
    }),
  sort: (record) => toNodeKey(record.engine, record.blob.ID),
});

export const ConfigRef = builder.loadableNodeRef<SwarmBlobRecord>('Config', {
  id: { resolve: (record) => toNodeKey(record.engine, record.blob.ID) },
  load: (keys: string[], root) =>
    loadPerEngine(root, keys, async (context, ids) => {
      const blobs = await context.loaders.swarm.configs.byId.loadMany(ids);
      return blobs.flatMap((blob) =>
        blob && !(blob instanceof Error)
          ? [{ engine: context.engineName, kind: 'config' as const, blob }]
          : [],
      );
    }),
  sort: (record) => toNodeKey(record.engine, record.blob.ID),
});

export const StackRef = builder.loadableNodeRef<StackRecord>('Stack', {
  id: { resolve: (record) => toNodeKey(record.engine, record.name) },
  load: (keys: string[], root) =>
    loadPerEngine(root, keys, async (context, ids) => {
      const names = new Set(ids);
      const services = await context.loaders.swarm.services();
      const found = new Set(
        services.flatMap((service) => {
          const name = service.Spec.Labels?.[STACK_NAMESPACE_LABEL];
          return name !== undefined && names.has(name) ? [name] : [];
        }),
      );
      return [...found].map((name) => ({ engine: context.engineName, name }));
    }),
  sort: (record) => toNodeKey(record.engine, record.name),
});

/** Lines of a service or task log (implemented in services.ts). */
export const SwarmLogsRef = builder.objectRef<DecodedSwarmLogs>('SwarmLogs');

/** The configuration of a container, or the defaults an image gives its containers. */
export const ContainerConfigRef = builder.objectRef<EngineContainerConfig>('ContainerConfig');

/** A port of a container (implemented in container-ports.ts). */
export const ContainerPortRef = builder.objectRef<ContainerPort>('ContainerPort');

/** A mount of a container (implemented in container-mounts.ts). */
export const ContainerMountRef = builder.objectRef<{
  readonly mount: EngineMountPoint;
  readonly engine: string;
}>('ContainerMount');

/** A container's endpoint on one network (implemented in container-networks.ts). */
export interface NetworkAttachmentShape {
  readonly container: ContainerRecord;
  readonly networkName: string;
  readonly settings: EngineEndpointSettings;
  /** Whether `settings` came from inspect, which alone lists aliases. */
  readonly fromInspect: boolean;
}
export const NetworkAttachmentRef = builder.objectRef<NetworkAttachmentShape>('NetworkAttachment');

/** A container's healthcheck state (implemented in container-health.ts). */
export const ContainerHealthRef = builder.objectRef<EngineHealth>('ContainerHealth');

/** How the host runs a container (implemented in container-host-config.ts). */
export const HostConfigRef = builder.objectRef<EngineHostConfig>('HostConfig');

/** Compose facts of a container, from its labels (implemented in container-compose.ts). */
export interface ComposeShape {
  readonly project: string;
  readonly labels: Readonly<Record<string, string>>;
}
export const ComposeInfoRef = builder.objectRef<ComposeShape>('ComposeInfo');

/** Disk space of a container (implemented in container-filesystem.ts). */
export const ContainerSizeRef = builder.objectRef<{ rw: number | null; rootFs: number | null }>(
  'ContainerSize',
);

/** A path that differs from the image (implemented in container-filesystem.ts). */
export const FilesystemChangeRef = builder.objectRef<{ Path: string; Kind: 0 | 1 | 2 }>(
  'FilesystemChange',
);

/** The processes of a running container (implemented in container-processes.ts). */
export const ContainerProcessesRef = builder.objectRef<{
  Titles: string[];
  Processes: string[][] | null;
}>('ContainerProcesses');

/** Most lines and bytes one `logs` field returns, whatever the client asks. */
export const CONTAINER_LOG_LIMITS = { maxLines: 10_000, maxBytes: 8 * 1024 * 1024 };

/** Lines a container wrote (implemented in container-logs.ts). */
export const ContainerLogsRef = builder.objectRef<DecodedLogs>('ContainerLogs');

/** Resource use of a container, computed as `docker stats` does (implemented in container-stats.ts). */
export const ContainerStatsRef = builder.objectRef<ContainerStatsFigures>('ContainerStats');

/** One line a container wrote (implemented in container-logs.ts). */
export const LogLineRef = builder.objectRef<LogLine>('LogLine');

/** A `NAME=value` entry of an environment list, split. */
export interface EnvShape {
  name: string;
  value: string | null;
}

/** An environment variable; its value only for principals with the `secrets` permission. */
export const EnvironmentVariableRef = builder.objectRef<EnvShape>('EnvironmentVariable').implement({
  description: 'An environment variable of a container, image or service.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Variable name.' }),
    value: t.string({
      nullable: true,
      description:
        'Its value; null when the entry has no "=" (the variable is taken from the engine environment), or when it is redacted (see `redacted`).',
      resolve: (variable, _args, context) =>
        can(context.principal, 'secrets') ? variable.value : null,
    }),
    redacted: t.boolean({
      description:
        'Whether `value` is withheld: values may hold passwords and keys, and only tokens with the "secrets" permission (admin) see them.',
      resolve: (variable, _args, context) =>
        variable.value !== null && !can(context.principal, 'secrets'),
    }),
  }),
});

/** Splits `NAME=value` entries; an entry without "=" has no value. */
export function parseEnv(entries: readonly string[] | null | undefined): EnvShape[] {
  return (entries ?? []).map((entry) => {
    const separator = entry.indexOf('=');
    return separator === -1
      ? { name: entry, value: null }
      : { name: entry.slice(0, separator), value: entry.slice(separator + 1) };
  });
}

/** Wraps an image list entry or inspect answer. */
export function toImageRecord(
  engine: string,
  image: EngineImageSummary | EngineImageInspect,
): ImageRecord {
  return 'ParentId' in image
    ? { engine, id: image.Id, summary: image, inspect: null }
    : { engine, id: image.Id, summary: null, inspect: image };
}

/** Wraps a container list entry. */
export function toContainerRecord(
  engine: string,
  summary: EngineContainerSummary,
): ContainerRecord {
  return { engine, id: summary.Id, summary, inspect: null };
}
