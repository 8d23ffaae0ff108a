import { EngineCallBudgetError } from '../docker/client.ts';
import type {
  EngineContainerConfig,
  EngineContainerInspect,
  EngineContainerSummary,
} from '../docker/containers.ts';
import type { LogLine } from '../docker/demux.ts';
import type { EngineImageInspect, EngineImageSummary } from '../docker/images.ts';
import type { EngineNetwork } from '../docker/networks.ts';
import type { ContainerStatsFigures } from '../docker/stats.ts';
import type { EngineVolume } from '../docker/volumes.ts';
import { builder } from './builder.ts';
import { fromNodeKey, toNodeKey } from './node-id.ts';

/**
 * The object types every domain refers to, declared here so that domain files
 * link to each other's types without importing each other.
 */

/** A container as read from the list, from inspect, or both. */
export interface ContainerRecord {
  readonly engine: string;
  readonly id: string;
  readonly summary: EngineContainerSummary | null;
  readonly inspect: EngineContainerInspect | null;
}

/** An image as read from the list or from inspect. */
export interface ImageRecord {
  readonly engine: string;
  readonly id: string;
  readonly summary: EngineImageSummary | null;
  readonly inspect: EngineImageInspect | null;
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

/** Object ids of the keys that name this engine; keys of other engines are dropped. */
function localIds(engine: string, keys: readonly string[]): string[] {
  return keys.flatMap((key) => {
    const id = fromNodeKey(engine, key);
    return id === null ? [] : [id];
  });
}

export const ContainerRef = builder.loadableNodeRef<ContainerRecord>('Container', {
  id: { resolve: (container) => toNodeKey(container.engine, container.id) },
  // Node lookups by global ID read the container list once, whatever their number.
  load: async (keys: string[], context) => {
    const ids = localIds(context.engineName, keys);
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
  },
  sort: (container) => toNodeKey(container.engine, container.id),
});

export const ImageRef = builder.loadableNodeRef<ImageRecord>('Image', {
  id: { resolve: (image) => toNodeKey(image.engine, image.id) },
  load: async (keys: string[], context) => {
    const ids = localIds(context.engineName, keys);
    const images = await context.loaders.images.byId.loadMany(ids);
    return foundObjects(images).map((image) => toImageRecord(context.engineName, image));
  },
  sort: (image) => toNodeKey(image.engine, image.id),
});

export const VolumeRef = builder.loadableNodeRef<VolumeRecord>('Volume', {
  id: { resolve: (volume) => toNodeKey(volume.engine, volume.volume.Name) },
  load: async (keys: string[], context) => {
    const names = localIds(context.engineName, keys);
    const volumes = await context.loaders.volumes.byName.loadMany(names);
    return foundObjects(volumes).map(
      (volume) => ({ engine: context.engineName, volume }) satisfies VolumeRecord,
    );
  },
  sort: (volume) => toNodeKey(volume.engine, volume.volume.Name),
});

export const NetworkRef = builder.loadableNodeRef<NetworkRecord>('Network', {
  id: { resolve: (network) => toNodeKey(network.engine, network.network.Id) },
  load: async (keys: string[], context) => {
    const ids = localIds(context.engineName, keys);
    const networks = await context.loaders.networks.byId.loadMany(ids);
    return foundObjects(networks).map(
      (network) => ({ engine: context.engineName, network }) satisfies NetworkRecord,
    );
  },
  sort: (network) => toNodeKey(network.engine, network.network.Id),
});

/** The configuration of a container, or the defaults an image gives its containers. */
export const ContainerConfigRef = builder.objectRef<EngineContainerConfig>('ContainerConfig');

/** Resource use of a container, computed as `docker stats` does (implemented in containers.ts). */
export const ContainerStatsRef = builder.objectRef<ContainerStatsFigures>('ContainerStats');

/** One line a container wrote (implemented in containers.ts). */
export const LogLineRef = builder.objectRef<LogLine>('LogLine');

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
