import DataLoader from 'dataloader';
import type { DockerClient } from './docker/client.ts';
import {
  type EngineContainerInspect,
  type EngineContainerSummary,
  inspectContainer,
  listContainers,
} from './docker/containers.ts';
import {
  type EngineImageHistoryItem,
  type EngineImageInspect,
  type EngineImageSummary,
  inspectImage,
  listImages,
  readImageHistory,
} from './docker/images.ts';
import { type EngineNetwork, listNetworks } from './docker/networks.ts';
import { type EngineStats, readContainerStats } from './docker/stats.ts';
import {
  type EngineDiskUsage,
  type EngineInfo,
  type EngineVersion,
  readDiskUsage,
  readEngineInfo,
  readEngineVersion,
} from './docker/system.ts';
import { type EngineVolume, listVolumes } from './docker/volumes.ts';

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
    /** Summaries by full id, from {@link all}. */
    summaryById: DataLoader<string, EngineContainerSummary | null>;
    inspect: DataLoader<string, EngineContainerInspect | null>;
    /** One `size=1` list call for every container asked for. */
    size: DataLoader<string, ContainerSize | null>;
    stats: DataLoader<string, EngineStats>;
  };
  readonly images: {
    all(): Promise<EngineImageSummary[]>;
    /** Summaries by full id from {@link all}; images missing there (intermediate, dangling) are inspected. */
    byId: DataLoader<string, EngineImageSummary | EngineImageInspect | null>;
    inspect: DataLoader<string, EngineImageInspect | null>;
    history: DataLoader<string, EngineImageHistoryItem[]>;
  };
  readonly volumes: {
    all(): Promise<EngineVolume[]>;
    /** Volumes by name from {@link all}. */
    byName: DataLoader<string, EngineVolume | null>;
  };
  readonly networks: {
    all(): Promise<EngineNetwork[]>;
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
export function createLoaders(docker: DockerClient): Loaders {
  const allContainers = once(() => listContainers(docker, { all: true }));
  const allImages = once(() => listImages(docker));
  const allVolumes = once(() => listVolumes(docker));
  const allNetworks = once(() => listNetworks(docker));
  const imageInspect = eachLoader((reference) => inspectImage(docker, reference));
  const imagesById = indexLoader(allImages, (image) => image.Id);

  return {
    containers: {
      all: allContainers,
      summaryById: indexLoader(allContainers, (container) => container.Id),
      inspect: eachLoader((id) => inspectContainer(docker, id)),
      size: new DataLoader(async (ids) => {
        const sized = await listContainers(docker, { all: true, size: true, filters: { ids } });
        const byId = new Map(sized.map((container) => [container.Id, container]));
        return ids.map((id) => {
          const container = byId.get(id);
          return container
            ? { rw: container.SizeRw ?? null, rootFs: container.SizeRootFs ?? null }
            : null;
        });
      }),
      stats: eachLoader((id) => readContainerStats(docker, id)),
    },
    images: {
      all: allImages,
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
      byName: indexLoader(allVolumes, (volume) => volume.Name),
    },
    networks: {
      all: allNetworks,
      byId: indexLoader(allNetworks, (network) => network.Id),
    },
    system: {
      version: once(() => readEngineVersion(docker)),
      info: once(() => readEngineInfo(docker)),
      diskUsage: once(() => readDiskUsage(docker)),
    },
  };
}
