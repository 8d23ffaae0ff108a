import DataLoader from 'dataloader';
import type { DockerClient } from './docker/client.ts';
import {
  type ContainerFilters,
  type EngineContainerInspect,
  type EngineContainerSummary,
  inspectContainer,
  listContainers,
} from './docker/containers.ts';
import {
  type EngineImageHistoryItem,
  type EngineImageInspect,
  type EngineImageSummary,
  type ImageFilters,
  inspectImage,
  listImages,
  readImageHistory,
} from './docker/images.ts';
import { type EngineNetwork, listNetworks, type NetworkFilters } from './docker/networks.ts';
import { type EngineStats, readContainerStats } from './docker/stats.ts';
import {
  type EngineDiskUsage,
  type EngineInfo,
  type EngineVersion,
  readDiskUsage,
  readEngineInfo,
  readEngineVersion,
} from './docker/system.ts';
import { type EngineVolume, listVolumes, type VolumeFilters } from './docker/volumes.ts';

/** Sizes the engine computes only when asked (`size=1`). */
export interface ContainerSize {
  readonly rw: number | null;
  readonly rootFs: number | null;
}

/**
 * The engine calls one GraphQL request may make, batched and de-duplicated.
 * Lists are read once per request and serve every lookup by id; inspect calls
 * are made only for fields the lists lack, once per object.
 */
export interface Loaders {
  readonly containers: {
    /** `GET /containers/json?all=1`, once. */
    all(): Promise<EngineContainerSummary[]>;
    /** The list matching `filters`, once per distinct filter. */
    list(filters: ContainerFilters): Promise<EngineContainerSummary[]>;
    /** Summaries by full id, from {@link all}. */
    summaryById: DataLoader<string, EngineContainerSummary | null>;
    inspect: DataLoader<string, EngineContainerInspect | null>;
    /** One `size=1` list call for every container asked for. */
    size: DataLoader<string, ContainerSize | null>;
    stats: DataLoader<string, EngineStats>;
  };
  readonly images: {
    all(): Promise<EngineImageSummary[]>;
    /** The list matching `filters`, once per distinct filter. */
    list(filters: ImageFilters): Promise<EngineImageSummary[]>;
    /** Summaries by full id from {@link all}; images missing there (intermediate, dangling) are inspected. */
    byId: DataLoader<string, EngineImageSummary | EngineImageInspect | null>;
    inspect: DataLoader<string, EngineImageInspect | null>;
    history: DataLoader<string, EngineImageHistoryItem[]>;
  };
  readonly volumes: {
    all(): Promise<EngineVolume[]>;
    /** The list matching `filters`, once per distinct filter. */
    list(filters: VolumeFilters): Promise<EngineVolume[]>;
    /** Volumes by name from {@link all}. */
    byName: DataLoader<string, EngineVolume | null>;
  };
  readonly networks: {
    all(): Promise<EngineNetwork[]>;
    /** The list matching `filters`, once per distinct filter. */
    list(filters: NetworkFilters): Promise<EngineNetwork[]>;
    /** Networks by full id from {@link all}. */
    byId: DataLoader<string, EngineNetwork | null>;
  };
  readonly system: {
    version(): Promise<EngineVersion>;
    info(): Promise<EngineInfo>;
    /** `GET /system/df`: slow, shared by disk usage and volume usage fields. */
    diskUsage(): Promise<EngineDiskUsage>;
  };
}

/** Memoises a call for the lifetime of one request. */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= load();
    return pending;
  };
}

/**
 * Memoises a filtered list call per distinct filter for the lifetime of one
 * request; no filter at all reads the shared unfiltered list.
 */
function filteredOnce<F extends object, T>(
  all: () => Promise<T[]>,
  load: (filters: F) => Promise<T[]>,
): (filters: F) => Promise<T[]> {
  const pending = new Map<string, Promise<T[]>>();
  return (filters) => {
    const defined = Object.entries(filters).filter(([, value]) => value !== undefined);
    if (defined.length === 0) return all();
    const key = JSON.stringify(defined.sort(([a], [b]) => (a < b ? -1 : 1)));
    let list = pending.get(key);
    if (!list) {
      list = load(filters);
      pending.set(key, list);
    }
    return list;
  };
}

/** A loader whose keys are looked up in a list read once. */
function indexLoader<T, K extends string>(
  list: () => Promise<T[]>,
  keyOf: (item: T) => K,
): DataLoader<string, T | null> {
  return new DataLoader(async (keys) => {
    const index = new Map((await list()).map((item) => [keyOf(item), item]));
    return keys.map((key) => index.get(key as K) ?? null);
  });
}

/** A loader for an endpoint without a batch form: one call per distinct key, in parallel. */
function eachLoader<T>(load: (key: string) => Promise<T>): DataLoader<string, T> {
  return new DataLoader((keys) =>
    Promise.all(keys.map((key) => load(key).catch((error: unknown) => toError(error)))),
  );
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** Creates the loaders of one GraphQL request; `docker` should carry the request's abort signal. */
export function createLoaders(
  docker: DockerClient,
  /** Labels every object read must carry (or belong to a container that does); null for all. */
  _labels: Readonly<Record<string, string>> | null = null,
): Loaders {
  const allContainers = once(() => listContainers(docker, { all: true }));
  const allImages = once(() => listImages(docker));
  const allVolumes = once(() => listVolumes(docker));
  const allNetworks = once(() => listNetworks(docker));
  const imageInspect = eachLoader((reference) => inspectImage(docker, reference));
  const imagesById = indexLoader(allImages, (image) => image.Id);

  return {
    containers: {
      all: allContainers,
      list: filteredOnce(allContainers, (filters: ContainerFilters) =>
        listContainers(docker, { all: true, filters }),
      ),
      summaryById: indexLoader(allContainers, (container) => container.Id),
      inspect: eachLoader((id) => inspectContainer(docker, id)),
      size: new DataLoader(async (ids) => {
        const sized = await listContainers(docker, { all: true, size: true, filters: { ids } });
        const byId = new Map(sized.map((container) => [container.Id, container]));
        return ids.map((id) => {
          const container = byId.get(id);
          // The engine omits sizes that are 0 (Go's omitempty), e.g. SizeRw of a container
          // that wrote nothing: asked with size=1, an absent size is 0, not unknown.
          return container
            ? { rw: container.SizeRw ?? 0, rootFs: container.SizeRootFs ?? 0 }
            : null;
        });
      }),
      stats: eachLoader((id) => readContainerStats(docker, id)),
    },
    images: {
      all: allImages,
      list: filteredOnce(allImages, (filters: ImageFilters) => listImages(docker, { filters })),
      byId: new DataLoader(async (ids) => {
        const listed = await imagesById.loadMany(ids);
        return Promise.all(
          listed.map((image, index) => {
            if (image instanceof Error) return image;
            return image ?? imageInspect.load(ids[index] ?? '');
          }),
        );
      }),
      inspect: imageInspect,
      history: eachLoader((reference) => readImageHistory(docker, reference)),
    },
    volumes: {
      all: allVolumes,
      list: filteredOnce(allVolumes, (filters: VolumeFilters) => listVolumes(docker, { filters })),
      byName: indexLoader(allVolumes, (volume) => volume.Name),
    },
    networks: {
      all: allNetworks,
      list: filteredOnce(allNetworks, (filters: NetworkFilters) =>
        listNetworks(docker, { filters }),
      ),
      byId: indexLoader(allNetworks, (network) => network.Id),
    },
    system: {
      version: once(() => readEngineVersion(docker)),
      info: once(() => readEngineInfo(docker)),
      diskUsage: once(() => readDiskUsage(docker)),
    },
  };
}
