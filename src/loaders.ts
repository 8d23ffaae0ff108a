import DataLoader from 'dataloader';
import { compareText } from './compare-text.ts';
import type { DockerClient } from './docker/client.ts';
import {
  type ContainerFilters,
  type EngineContainerInspect,
  type EngineContainerSummary,
  inspectContainer,
  listContainers,
} from './docker/containers.ts';
import {
  credentialsKey,
  DistributionCache,
  distributionCall,
  type EngineDistributionInspect,
} from './docker/distribution.ts';
import { isPodman } from './docker/engine-kind.ts';
import { EngineError } from './docker/errors.ts';
import {
  type EngineImageHistoryItem,
  type EngineImageInspect,
  type EngineImageSummary,
  type ImageFilters,
  inspectImage,
  listImages,
  readImageHistory,
} from './docker/images.ts';
import {
  type EngineNetwork,
  inspectNetwork,
  listNetworks,
  type NetworkFilters,
} from './docker/networks.ts';
import type { ReadModel } from './docker/read-model.ts';
import type { RegistryCredentials } from './docker/registry-auth.ts';
import { type EngineStats, readContainerStats } from './docker/stats.ts';
import {
  type EngineNode,
  type EngineSwarm,
  inspectSwarm,
  listNodes,
  type NodeFilters,
} from './docker/swarm.ts';
import {
  type EngineSwarmBlob,
  inspectSwarmBlob,
  listSwarmBlobs,
  type SwarmBlobFilters,
  type SwarmBlobKind,
} from './docker/swarm-secrets.ts';
import {
  type EngineService,
  type EngineTask,
  inspectService,
  listServices,
  listTasks,
  type ServiceFilters,
  type TaskFilters,
} from './docker/swarm-services.ts';
import {
  type EngineDiskUsage,
  type EngineInfo,
  type EngineVersion,
  readDiskUsage,
  readEngineInfo,
  readEngineVersion,
} from './docker/system.ts';
import {
  type EngineVolume,
  inspectVolume,
  listVolumes,
  type VolumeFilters,
} from './docker/volumes.ts';
import {
  carriesLabels,
  findVisible,
  findVisibleImageByPrefix,
  isFullId,
  isImageVisible,
  isNetworkVisible,
  isVolumeVisible,
  type LabelLimit,
  limitOf,
  type Named,
  namedContainer,
  namedNetwork,
  namedSwarmObject,
  objectsUsedBy,
  SWARM_ID_CHARACTERS,
  type UsedObjects,
  withLimitFilters,
} from './security/label-scope.ts';

/** Sizes the engine computes only when asked (`size=1`). */
export interface ContainerSize {
  readonly rw: number | null;
  readonly rootFs: number | null;
}

/**
 * The first containers of a list in the engine's order (newest first by creation time to
 * the nanosecond), or of its part after one container (see `Loaders.containers.newest`).
 */
export interface ContainerPrefix {
  /** The containers, in the engine's order. */
  readonly containers: EngineContainerSummary[];
  /** Whether that is the whole list (then any cursor is found, or not, in it). */
  readonly whole: boolean;
  /** Whether `containers` are those right after the container asked for (the engine knew it). */
  readonly afterFound: boolean;
}

/**
 * The engine calls one GraphQL request may make, batched and de-duplicated.
 * Lists are read once per request and serve every lookup by id; inspect calls
 * are made only for fields the lists lack, once per object. For a principal
 * limited to labels, every one of them answers only what it may see (see
 * {@link createLoaders}).
 */
export interface Loaders {
  readonly containers: {
    /** `GET /containers/json?all=1`, once. */
    all(): Promise<EngineContainerSummary[]>;
    /** The list matching `filters`, once per distinct filter. */
    list(filters: ContainerFilters): Promise<EngineContainerSummary[]>;
    /**
     * The first `count` + 1 containers of the list matching `filters` in the engine's
     * order, or of its part after the container `after` (a full id): one engine call, with
     * `limit` (and the engine's `before` filter). The whole list instead when the read
     * model answers, on Podman (whose order within a second is not the same with and
     * without `limit`), and when `after` cannot be pushed down: filtered by ids or names
     * (the engine then walks only those), by `createdBefore` (one `before` only), or
     * unknown to the engine or not visible to the principal (both answered the same), or
     * not a full id (a name or prefix the engine would resolve among hidden containers).
     * Once per distinct filter, count and `after`.
     */
    newest(filters: ContainerFilters, count: number, after?: string): Promise<ContainerPrefix>;
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
    /** `GET /volumes/{name}`, once per name. */
    inspect: DataLoader<string, EngineVolume | null>;
  };
  readonly networks: {
    all(): Promise<EngineNetwork[]>;
    /** The list matching `filters`, once per distinct filter. */
    list(filters: NetworkFilters): Promise<EngineNetwork[]>;
    /** Networks by full id from {@link all}. */
    byId: DataLoader<string, EngineNetwork | null>;
    /** `GET /networks/{idOrName}`, once per id, id prefix or name. */
    inspect: DataLoader<string, EngineNetwork | null>;
  };
  readonly system: {
    version(): Promise<EngineVersion>;
    info(): Promise<EngineInfo>;
    /** `GET /system/df`: slow, shared by disk usage and volume usage fields. */
    diskUsage(): Promise<EngineDiskUsage>;
  };
  readonly scope: ScopeLoaders;
  readonly swarm: SwarmLoaders;
  /**
   * `GET /distribution/{name}/json`: one call per distinct reference and credentials in
   * the operation, each admitted for the principal (the registry allow-list) before the
   * answer is read from the cross-request cache or asked of the registry.
   */
  readonly distribution: DataLoader<DistributionKey, EngineDistributionInspect, string>;
}

/** A reference to ask its registry about, with the credentials to ask with. */
export interface DistributionKey {
  readonly reference: string;
  readonly credentials?: RegistryCredentials;
}

/** A cache that keeps nothing: every operation asks the registry. */
const UNCACHED_DISTRIBUTION = new DistributionCache(0);

/**
 * Whether a label filter list (`key` or `key=value`, as the engine reads it: split at the
 * first `=`, the value compared exactly) holds for `labels`.
 */
export function matchesLabelFilters(
  labels: Readonly<Record<string, string>> | null | undefined,
  filters: readonly string[] | undefined,
): boolean {
  return (filters ?? []).every((filter) => {
    const equals = filter.indexOf('=');
    const key = equals === -1 ? filter : filter.slice(0, equals);
    if (!labels || !Object.hasOwn(labels, key)) return false;
    return equals === -1 || labels[key] === filter.slice(equals + 1);
  });
}

/**
 * The label filters of `filters` when they are its only filter, which the read model
 * applies in memory exactly as the engine does; null when another filter is set (the
 * engine answers those).
 */
function labelsOnly(filters: object): readonly string[] | null {
  const set = Object.entries(filters).filter(
    ([, value]) => value !== undefined && !(Array.isArray(value) && value.length === 0),
  );
  if (set.some(([name]) => name !== 'labels')) return null;
  const labels = set.find(([name]) => name === 'labels')?.[1];
  return Array.isArray(labels) ? labels.filter((label) => typeof label === 'string') : [];
}

/**
 * A list from the read model, kept to the items carrying `labels` (filters as the engine
 * reads them); null when the model does not answer or `labels` is null.
 */
async function fromModel<T>(
  read: (() => Promise<T[] | null>) | undefined,
  labels: readonly string[] | null,
  labelsOf: (item: T) => Readonly<Record<string, string>> | null | undefined,
): Promise<T[] | null> {
  if (!read || labels === null) return null;
  const kept = await read();
  if (!kept) return null;
  return labels.length === 0
    ? kept
    : kept.filter((item) => matchesLabelFilters(labelsOf(item), labels));
}

/** Memoises a call for the lifetime of one request. */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= load();
    return pending;
  };
}

/** The same text for the same filters, whatever their order; null when none is set. */
function filtersKey(filters: object): string | null {
  const defined = Object.entries(filters).filter(([, value]) => value !== undefined);
  return defined.length === 0
    ? null
    : JSON.stringify(defined.sort(([a], [b]) => compareText(a, b)));
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
    const key = filtersKey(filters);
    if (key === null) return all();
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

/** Who may see what: the label limit of the request's principal, and what its containers use. */
export interface ScopeLoaders {
  /** The labels every object read must carry (or belong to a container that does); null for all. */
  readonly limit: LabelLimit | null;
  /**
   * The images, volumes and networks the visible containers use (one container
   * list call, shared with `containers.all`); everything for an unlimited principal
   * is visible without asking.
   */
  used(): Promise<UsedObjects>;
}

/**
 * Creates the loaders of one GraphQL request; `docker` should carry the
 * request's abort signal.
 *
 * With `labels` (a token limited to labels, see `src/security/label-scope.ts`)
 * every read answers only what the principal may see: container lists carry
 * the limit as engine `label` filters, so the engine filters them; images,
 * volumes and networks lists are read whole and filtered here by their labels
 * and by what the visible containers use (the container list, read once);
 * lookups by id or name (inspect, `byId`, `byName`) answer null for what is
 * not visible, exactly as for what does not exist. The engine calls stay a
 * constant number per request whatever the number of objects. Engine info
 * counts and disk usage are recomputed from the visible objects. Without
 * `labels` nothing is filtered and no call is added.
 */
export function createLoaders(
  docker: DockerClient,
  labels: Readonly<Record<string, string>> | null = null,
  distributionCache: DistributionCache = UNCACHED_DISTRIBUTION,
  readModel: ReadModel | null = null,
): Loaders {
  const limit = limitOf(labels);
  const scoped = <F extends { readonly labels?: readonly string[] }>(filters: F): F =>
    limit ? { ...filters, labels: withLimitFilters(filters.labels, limit) } : filters;
  /**
   * The read model, once it has caught up with the engine for this request (one catch-up per
   * request, made when it first reads a list: see `ReadModel.catchUp`); null when off
   * or when it cannot be exact now, and every list is then read from the engine.
   */
  const caughtUp = once(async () => ((await readModel?.catchUp(docker)) ? readModel : null));
  const fromKept =
    <T>(read: (kept: ReadModel) => Promise<T[] | null>) =>
    async (): Promise<T[] | null> => {
      const kept = await caughtUp();
      return kept ? read(kept) : null;
    };
  const model = readModel
    ? {
        containers: fromKept((kept) => kept.containers()),
        images: fromKept((kept) => kept.images()),
        volumes: fromKept((kept) => kept.volumes()),
        networks: fromKept((kept) => kept.networks()),
      }
    : undefined;
  /**
   * The one place container lists are read: the read model when it is warm and the
   * filters are label filters only (the label limit is one), the engine otherwise.
   */
  const readContainers = async (filters: ContainerFilters): Promise<EngineContainerSummary[]> => {
    const engineFilters = scoped(filters);
    const kept = await fromModel(
      model?.containers,
      labelsOnly(engineFilters),
      (container) => container.Labels,
    );
    return kept ?? listContainers(docker, { all: true, filters: engineFilters });
  };
  /** The same for images, volumes and networks (before the label limit, applied after). */
  const readImages = async (filters: ImageFilters = {}) =>
    (await fromModel(model?.images, labelsOnly(filters), (image) => image.Labels)) ??
    listImages(docker, { filters });
  const readVolumes = async (filters: VolumeFilters = {}) =>
    (await fromModel(model?.volumes, labelsOnly(filters), (volume) => volume.Labels)) ??
    listVolumes(docker, { filters });
  const readNetworks = async (filters: NetworkFilters = {}) =>
    (await fromModel(model?.networks, labelsOnly(filters), (network) => network.Labels)) ??
    listNetworks(docker, { filters });
  const allContainers = once(() => readContainers({}));
  const used = once(async () => objectsUsedBy(await allContainers()));
  /** Keeps the items `visible` admits; everything when unlimited, without an engine call. */
  const keepVisible =
    <T>(visible: (item: T, limit: LabelLimit, used: UsedObjects) => boolean) =>
    async (items: T[]): Promise<T[]> => {
      if (!limit) return items;
      const usedObjects = await used();
      return items.filter((item) => visible(item, limit, usedObjects));
    };
  /** Answers null for an item `visible` does not admit. */
  const nullUnlessVisible =
    <T>(visible: (item: T, limit: LabelLimit, used: UsedObjects) => boolean) =>
    async (item: T | null): Promise<T | null> => {
      if (!limit || item === null) return item;
      return visible(item, limit, await used()) ? item : null;
    };
  const imageSummaryVisible = (image: EngineImageSummary, scope: LabelLimit, uses: UsedObjects) =>
    isImageVisible({ Id: image.Id, labels: image.Labels }, scope, uses);
  const imageInspectVisible = (image: EngineImageInspect, scope: LabelLimit, uses: UsedObjects) =>
    isImageVisible({ Id: image.Id, labels: image.Config?.Labels }, scope, uses);
  const visibleImages = keepVisible(imageSummaryVisible);
  const visibleVolumes = keepVisible<EngineVolume>(isVolumeVisible);
  const visibleNetworks = keepVisible<EngineNetwork>(isNetworkVisible);

  const allImages = once(async () => visibleImages(await readImages()));
  const allVolumes = once(async () => visibleVolumes(await readVolumes()));
  const allNetworks = once(async () => visibleNetworks(await readNetworks()));
  const imageInspect = eachLoader(async (reference) => {
    // A limited principal's id prefix is matched among the images it sees.
    const byPrefix = limit ? findVisibleImageByPrefix(await allImages(), reference) : undefined;
    if (byPrefix === null) return null;
    return nullUnlessVisible(imageInspectVisible)(
      await inspectImage(docker, byPrefix ?? reference),
    );
  });
  /**
   * The full id of the visible object `key` (an id, id prefix or name) names,
   * matched in the list read for this request, then in a list read anew (the
   * object may have been created since); null when none, or several, match.
   */
  const resolveVisible =
    <T>(list: () => Promise<T[]>, fresh: () => Promise<T[]>, namedOf: (item: T) => Named) =>
    async (key: string): Promise<string | null> => {
      if (isFullId(key)) return key;
      const found =
        findVisible(await list(), key, namedOf) ?? findVisible(await fresh(), key, namedOf);
      return found ? namedOf(found).id : null;
    };
  const visibleContainerId = resolveVisible(
    allContainers,
    () => readContainers({}),
    namedContainer,
  );
  const visibleNetworkId = resolveVisible(
    allNetworks,
    async () => visibleNetworks(await readNetworks()),
    namedNetwork,
  );
  const imagesById = indexLoader(allImages, (image) => image.Id);
  const engineInfo = once(() => readEngineInfo(docker));
  const diskUsage = once(() => readDiskUsage(docker));

  const containerInspect = eachLoader(async (idOrName) => {
    if (!limit) return inspectContainer(docker, idOrName);
    // A limited principal's id prefix or name is matched among the containers it sees.
    const id = await visibleContainerId(idOrName);
    const container = id === null ? null : await inspectContainer(docker, id);
    if (!container) return null;
    return carriesLabels(container.Config.Labels, limit) ? container : null;
  });

  const containerList = filteredOnce(allContainers, readContainers);
  const prefixes = new Map<string, Promise<ContainerPrefix>>();
  /** See `Loaders.containers.newest`. */
  const readNewest = async (
    filters: ContainerFilters,
    count: number,
    after: string | undefined,
  ): Promise<ContainerPrefix> => {
    const engineFilters = scoped(filters);
    const whole = async (): Promise<ContainerPrefix> => ({
      containers: await containerList(filters),
      whole: true,
      afterFound: false,
    });
    // A warm read model holds the whole list: no page of it is cheaper.
    if (readModel?.warm === true && labelsOnly(engineFilters) !== null) return whole();
    if (await isPodman(docker)) return whole();
    // The engine resolves `before` among the containers its id and name filters leave (an
    // empty answer when the cursor's is not one of them), and takes one `before` only.
    const narrowed =
      (filters.ids?.length ?? 0) > 0 ||
      (filters.names?.length ?? 0) > 0 ||
      filters.createdBefore !== undefined;
    if (after !== undefined && narrowed) return whole();
    // Only a full id may reach `before`: the engine resolves anything else among all of its
    // containers (a name, then a unique id prefix), hidden ones too, so a hand-made cursor
    // holding a prefix or a name would tell a limited principal of containers it may not
    // see (an ambiguous prefix fails the call; a hidden container named like a visible
    // one's id prefix moves the page). This connection's cursors always hold full ids.
    if (after !== undefined && !isFullId(after)) return whole();
    // Every filter, the label limit's too, is applied before `limit` (moby's
    // includeContainerInList); `before` skips the containers up to and including that one
    // in the engine's order, whatever its labels: the engine knows any container by id.
    const page = listContainers(docker, {
      all: true,
      filters: engineFilters,
      limit: count + 1,
      ...(after === undefined ? {} : { before: after }),
    });
    if (after === undefined) {
      const containers = await page;
      return { containers, whole: containers.length <= count, afterFound: false };
    }
    // A limited principal's cursor naming a container it may not see is answered exactly
    // as one naming no container: checked beside the list call, whose answer it discards.
    // The very container the cursor names: a container merely named by that string is not it.
    const known = () =>
      containerInspect
        .load(after)
        .then((container) => container !== null && container.Id === after);
    const [answer, visible] = await Promise.allSettled([
      page,
      limit ? known() : Promise.resolve(true),
    ]);
    if (visible.status === 'rejected') throw visible.reason;
    if (answer.status === 'rejected') {
      // The engine answers a `before` it does not know with 404, or 500 (20.10: "no such
      // container"): asked whether the container exists rather than read from the message.
      const error: unknown = answer.reason;
      const unknown =
        error instanceof EngineError &&
        (error.status === 404 || error.status === 500) &&
        !(await known());
      if (unknown) return whole();
      throw error;
    }
    if (!visible.value) return whole();
    const listed = answer.value;
    return { containers: listed, whole: false, afterFound: true };
  };

  return {
    containers: {
      all: allContainers,
      list: containerList,
      newest: (filters, count, after) => {
        const key = `${count}:${after ?? ''}:${filtersKey(filters) ?? ''}`;
        let prefix = prefixes.get(key);
        if (!prefix) {
          prefix = readNewest(filters, count, after);
          prefixes.set(key, prefix);
        }
        return prefix;
      },
      summaryById: indexLoader(allContainers, (container) => container.Id),
      inspect: containerInspect,
      size: new DataLoader(async (ids) => {
        const sized = await listContainers(docker, {
          all: true,
          size: true,
          filters: scoped<ContainerFilters>({ ids }),
        });
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
      list: filteredOnce(allImages, async (filters: ImageFilters) =>
        visibleImages(await readImages(filters)),
      ),
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
      list: filteredOnce(allVolumes, async (filters: VolumeFilters) =>
        visibleVolumes(await readVolumes(filters)),
      ),
      byName: indexLoader(allVolumes, (volume) => volume.Name),
      inspect: eachLoader(async (name) =>
        nullUnlessVisible<EngineVolume>(isVolumeVisible)(await inspectVolume(docker, name)),
      ),
    },
    networks: {
      all: allNetworks,
      list: filteredOnce(allNetworks, async (filters: NetworkFilters) =>
        visibleNetworks(await readNetworks(filters)),
      ),
      byId: indexLoader(allNetworks, (network) => network.Id),
      inspect: eachLoader(async (idOrName) => {
        if (!limit) return inspectNetwork(docker, idOrName);
        // A limited principal's id prefix or name is matched among the networks it sees.
        const id = await visibleNetworkId(idOrName);
        const network = id === null ? null : await inspectNetwork(docker, id);
        return nullUnlessVisible<EngineNetwork>(isNetworkVisible)(network);
      }),
    },
    system: {
      version: once(() => readEngineVersion(docker)),
      info: limit
        ? once(async () => {
            const [info, containers, images] = await Promise.all([
              engineInfo(),
              allContainers(),
              allImages(),
            ]);
            return visibleInfo(info, containers, images);
          })
        : engineInfo,
      diskUsage: limit
        ? once(async () => {
            const [usage, containers, uses] = await Promise.all([
              diskUsage(),
              allContainers(),
              used(),
            ]);
            return visibleDiskUsage(usage, limit, containers, uses);
          })
        : diskUsage,
    },
    scope: {
      limit,
      used: limit ? used : () => Promise.resolve(EVERYTHING_USED),
    },
    swarm: createSwarmLoaders(docker, limit, engineInfo),
    distribution: new DataLoader(
      (keys) =>
        Promise.all(
          keys.map(async ({ reference, credentials }) => {
            try {
              // The gate reviews the registry for this principal before a cached answer is used.
              await docker.admit(distributionCall(reference, credentials));
              return await distributionCache.read(docker, reference, credentials);
            } catch (error) {
              return error instanceof Error ? error : new Error(String(error));
            }
          }),
        ),
      { cacheKeyFn: (key) => `${key.reference}\n${credentialsKey(key.credentials)}` },
    ),
  };
}

/** What an unlimited principal's scope answers: it needs no uses to see everything. */
const EVERYTHING_USED: UsedObjects = {
  imageIds: new Set(),
  volumeNames: new Set(),
  networkIds: new Set(),
  networkNames: new Set(),
};

/** Engine info whose object counts are those of the visible containers and images. */
function visibleInfo(
  info: EngineInfo,
  containers: readonly EngineContainerSummary[],
  images: readonly EngineImageSummary[],
): EngineInfo {
  const running = containers.filter((container) => container.State === 'running').length;
  const paused = containers.filter((container) => container.State === 'paused').length;
  return {
    ...info,
    Containers: containers.length,
    ContainersRunning: running,
    ContainersPaused: paused,
    ContainersStopped: containers.length - running - paused,
    Images: images.length,
  };
}

/**
 * Disk usage of the visible objects only: their images, containers and volumes,
 * with use counts of the visible containers. The build cache belongs to no one
 * and is left out; layers are summed per visible image, so layers they share
 * count once per image.
 */
function visibleDiskUsage(
  usage: EngineDiskUsage,
  limit: LabelLimit,
  containers: readonly EngineContainerSummary[],
  uses: UsedObjects,
): EngineDiskUsage {
  const visibleContainers = new Set(containers.map((container) => container.Id));
  const usesOf = (predicate: (container: EngineContainerSummary) => boolean) =>
    containers.filter(predicate).length;
  const images = (usage.Images ?? [])
    .filter((image) => isImageVisible({ Id: image.Id, labels: image.Labels }, limit, uses))
    .map((image) => ({
      ...image,
      Containers: usesOf((container) => container.ImageID === image.Id),
    }));
  return {
    LayersSize: images.reduce((total, image) => total + Math.max(0, image.Size), 0),
    Images: images,
    Containers: (usage.Containers ?? []).filter((container) => visibleContainers.has(container.Id)),
    Volumes: (usage.Volumes ?? [])
      .filter((volume) => isVolumeVisible(volume, limit, uses))
      .map((volume) => {
        const usageData = volume.UsageData;
        if (!usageData || usageData.RefCount < 0) return volume;
        const refCount = usesOf((container) =>
          container.Mounts.some((mount) => mount.Type === 'volume' && mount.Name === volume.Name),
        );
        return { ...volume, UsageData: { Size: usageData.Size, RefCount: refCount } };
      }),
    BuildCache: [],
  };
}

// ---------------------------------------------------------------------------
// Swarm

/** The secrets or configs of one request. */
export interface SwarmBlobLoaders {
  all(): Promise<EngineSwarmBlob[]>;
  list(filters: SwarmBlobFilters): Promise<EngineSwarmBlob[]>;
  /** By full id, from {@link all}. */
  byId: DataLoader<string, EngineSwarmBlob | null>;
  /**
   * `GET /secrets/{idOrName}` (or configs), once per key; for a principal limited to labels,
   * the key resolved among {@link all} as the engine resolves it, so that a prefix a hidden
   * one shares answers no "ambiguous" (findVisible).
   */
  inspect: DataLoader<string, EngineSwarmBlob | null>;
}

/**
 * The swarm reads of one request (on a manager): each list is read once and
 * serves every lookup, so services with their tasks, nodes and containers cost
 * a constant number of engine calls. For a principal limited to labels, a
 * service is visible when it carries the labels (the engine filters the list),
 * a task when its service is visible, a node, secret or config when it carries
 * the labels or a visible task runs on it / a visible service uses it.
 */
export interface SwarmLoaders {
  /** `GET /swarm`; null when the engine is no manager. */
  swarm(): Promise<EngineSwarm | null>;
  /** The swarm node id of this engine, from `GET /info`; null outside a swarm. */
  localNodeId(): Promise<string | null>;
  nodes(): Promise<EngineNode[]>;
  nodeList(filters: NodeFilters): Promise<EngineNode[]>;
  nodeById: DataLoader<string, EngineNode | null>;
  services(): Promise<EngineService[]>;
  serviceList(filters: ServiceFilters): Promise<EngineService[]>;
  serviceById: DataLoader<string, EngineService | null>;
  /**
   * `GET /services/{idOrName}`, once per key; for a principal limited to labels, the key
   * resolved among {@link services} as the engine resolves it, so that a prefix a hidden one
   * shares answers no "ambiguous" (findVisible).
   */
  serviceInspect: DataLoader<string, EngineService | null>;
  tasks(): Promise<EngineTask[]>;
  taskList(filters: TaskFilters): Promise<EngineTask[]>;
  taskById: DataLoader<string, EngineTask | null>;
  tasksByService: DataLoader<string, EngineTask[]>;
  tasksByNode: DataLoader<string, EngineTask[]>;
  secrets: SwarmBlobLoaders;
  configs: SwarmBlobLoaders;
}

/** A loader of the items of a list read once, grouped by a key. */
function groupLoader<T>(
  list: () => Promise<T[]>,
  keyOf: (item: T) => string | undefined,
): DataLoader<string, T[]> {
  return new DataLoader(async (keys) => {
    const groups = new Map<string, T[]>();
    for (const item of await list()) {
      const key = keyOf(item);
      if (key === undefined) continue;
      const group = groups.get(key);
      if (group) group.push(item);
      else groups.set(key, [item]);
    }
    return keys.map((key) => groups.get(key) ?? []);
  });
}

function createSwarmLoaders(
  docker: DockerClient,
  limit: LabelLimit | null,
  engineInfo: () => Promise<EngineInfo>,
): SwarmLoaders {
  const scopedServiceFilters = (filters: ServiceFilters): ServiceFilters =>
    limit ? { ...filters, labels: withLimitFilters(filters.labels, limit) } : filters;
  const services = once(() =>
    listServices(docker, limit ? { filters: scopedServiceFilters({}) } : {}),
  );
  const visibleServiceIds = once(async () => new Set((await services()).map((s) => s.ID)));
  const keepVisibleTasks = async (tasks: EngineTask[]) => {
    if (!limit) return tasks;
    const ids = await visibleServiceIds();
    return tasks.filter((task) => ids.has(task.ServiceID));
  };
  const tasks = once(async () => keepVisibleTasks(await listTasks(docker)));
  const keepVisibleNodes = async (nodes: EngineNode[]) => {
    if (!limit) return nodes;
    const used = new Set((await tasks()).flatMap((task) => (task.NodeID ? [task.NodeID] : [])));
    return nodes.filter((node) => used.has(node.ID) || carriesLabels(node.Spec.Labels, limit));
  };
  const nodes = once(async () => keepVisibleNodes(await listNodes(docker)));
  const blobLoaders = (kind: SwarmBlobKind): SwarmBlobLoaders => {
    const keepVisible = async (blobs: EngineSwarmBlob[]) => {
      if (!limit) return blobs;
      const used = new Set(
        (await services()).flatMap((service) => {
          const container = service.Spec.TaskTemplate.ContainerSpec;
          return kind === 'secret'
            ? (container?.Secrets ?? []).map((secret) => secret.SecretID)
            : (container?.Configs ?? []).map((config) => config.ConfigID);
        }),
      );
      return blobs.filter((blob) => used.has(blob.ID) || carriesLabels(blob.Spec.Labels, limit));
    };
    const all = once(async () => keepVisible(await listSwarmBlobs(docker, kind)));
    return {
      all,
      list: filteredOnce(all, async (filters: SwarmBlobFilters) =>
        keepVisible(await listSwarmBlobs(docker, kind, filters)),
      ),
      byId: indexLoader(all, (blob) => blob.ID),
      inspect: eachLoader(async (key) =>
        limit
          ? findVisible(await all(), key, namedSwarmObject, SWARM_ID_CHARACTERS)
          : inspectSwarmBlob(docker, kind, key),
      ),
    };
  };
  return {
    swarm: once(() => inspectSwarm(docker)),
    localNodeId: once(async () => (await engineInfo()).Swarm?.NodeID || null),
    nodes,
    nodeList: filteredOnce(nodes, async (filters: NodeFilters) =>
      keepVisibleNodes(await listNodes(docker, { filters })),
    ),
    nodeById: indexLoader(nodes, (node) => node.ID),
    services,
    serviceList: filteredOnce(services, (filters: ServiceFilters) =>
      listServices(docker, { filters: scopedServiceFilters(filters) }),
    ),
    serviceById: indexLoader(services, (service) => service.ID),
    serviceInspect: eachLoader(async (key) =>
      limit
        ? findVisible(await services(), key, namedSwarmObject, SWARM_ID_CHARACTERS)
        : inspectService(docker, key),
    ),
    tasks,
    taskList: filteredOnce(tasks, async (filters: TaskFilters) =>
      keepVisibleTasks(await listTasks(docker, { filters })),
    ),
    taskById: indexLoader(tasks, (task) => task.ID),
    tasksByService: groupLoader(tasks, (task) => task.ServiceID),
    tasksByNode: groupLoader(tasks, (task) => task.NodeID),
    secrets: blobLoaders('secret'),
    configs: blobLoaders('config'),
  };
}
