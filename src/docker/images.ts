import type { DockerClient, EngineCall } from './client.ts';
import type { EngineContainerConfig } from './containers.ts';
import { isPodman } from './engine-kind.ts';
import { type EngineFilters, encodeFilters, encodePathSegment } from './filters.ts';
import { registryOf, withDefaultTag } from './image-reference.ts';
import { type ProgressEvent, readProgress, registryFailure } from './progress.ts';
import { encodeRegistryAuth, type RegistryCredentials } from './registry-auth.ts';

/** One entry of `GET /images/json`. */
export interface EngineImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  /** Unix seconds. */
  Created: number;
  Size: number;
  SharedSize: number;
  VirtualSize?: number;
  Labels: Record<string, string> | null;
  /** -1 unless the engine was asked to count. */
  Containers: number;
}

/** `GET /images/{name}/json`. */
export interface EngineImageInspect {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Parent: string;
  Comment: string;
  /** RFC 3339. */
  Created: string;
  DockerVersion?: string;
  Author: string;
  Config: EngineContainerConfig | null;
  Architecture: string;
  Variant?: string;
  Os: string;
  OsVersion?: string;
  Size: number;
  VirtualSize?: number;
  RootFS?: { Type: string; Layers?: string[] };
}

/** One layer of `GET /images/{name}/history`. */
export interface EngineImageHistoryItem {
  Id: string;
  /** Unix seconds. */
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

/** Typed filters of the image list. */
export interface ImageFilters {
  readonly dangling?: boolean;
  /** `key` or `key=value`. */
  readonly labels?: readonly string[];
  /** Reference patterns such as `busybox` or `registry/*:1.*`. */
  readonly references?: readonly string[];
  /** Images created before this image (name or id). */
  readonly before?: string;
  /** Images created after this image (name or id). */
  readonly since?: string;
  /** Intermediate images (layers of builds) as well (`all`). */
  readonly all?: boolean;
}

function toEngineFilters(filters: ImageFilters | undefined): EngineFilters | undefined {
  if (!filters) return undefined;
  return {
    dangling: filters.dangling === undefined ? undefined : [String(filters.dangling)],
    label: filters.labels,
    reference: filters.references,
    before: filters.before === undefined ? undefined : [filters.before],
    since: filters.since === undefined ? undefined : [filters.since],
  };
}

/** `GET /images/json`: top-level images, and intermediate ones too with `filters.all`. */
export function listImages(
  client: DockerClient,
  options: { filters?: ImageFilters } = {},
): Promise<EngineImageSummary[]> {
  return client.json<EngineImageSummary[]>(
    {
      path: '/images/json',
      query: {
        ...(options.filters?.all ? { all: true } : {}),
        filters: encodeFilters(toEngineFilters(options.filters)),
      },
    },
    'list images',
  );
}

/** `GET /images/{name}/json`: one image by id, reference or digest; `null` when missing. */
export function inspectImage(
  client: DockerClient,
  reference: string,
): Promise<EngineImageInspect | null> {
  return client.jsonOrNull<EngineImageInspect>(
    { path: `/images/${encodePathSegment(reference, true)}/json` },
    `inspect image "${reference}"`,
  );
}

/** `GET /images/{name}/history`: the layers of an image, newest first. */
export function readImageHistory(
  client: DockerClient,
  reference: string,
): Promise<EngineImageHistoryItem[]> {
  return client.json<EngineImageHistoryItem[]>(
    { path: `/images/${encodePathSegment(reference, true)}/history` },
    `read history of image "${reference}"`,
  );
}

/** Options of a pull (`docker pull`). */
export interface PullOptions {
  /** Image reference; a tag-less one pulls `latest`. */
  readonly reference: string;
  /** `os/arch[/variant]`, e.g. "linux/arm64". */
  readonly platform?: string;
  readonly credentials?: RegistryCredentials;
  readonly onEvent?: (event: ProgressEvent) => void;
}

/**
 * `POST /images/create?fromImage=…`: pulls an image, reading the progress
 * stream to its end and throwing the failure it reports (see
 * {@link registryTransfer}). A reference without tag or digest pulls `latest`.
 */
export async function pullImage(client: DockerClient, options: PullOptions): Promise<void> {
  const reference = withDefaultTag(options.reference);
  await registryTransfer(
    client,
    { path: '/images/create', query: { fromImage: reference, platform: options.platform } },
    `pull image "${reference}"`,
    registryOf(reference),
    options.credentials,
    options.onEvent,
  );
}

/**
 * A pull or a push: a call to a registry through the engine whose progress stream is
 * read to its end (the engine stops if it is not read), throwing the failure the stream
 * reports. Registry failures the engine answers before the stream starts (HTTP 500)
 * are classified as those in the stream are.
 */
async function registryTransfer(
  client: DockerClient,
  call: Pick<EngineCall, 'path' | 'query'>,
  what: string,
  registry: string,
  credentials: RegistryCredentials | undefined,
  onEvent: ((event: ProgressEvent) => void) | undefined,
): Promise<void> {
  const response = await client
    .request(
      {
        method: 'POST',
        ...call,
        // The engine refuses a push without this header, even for a registry that needs no credentials.
        headers: { 'x-registry-auth': encodeRegistryAuth(credentials) },
        timeoutMs: 600_000,
        bodyTimeoutMs: 600_000,
      },
      what,
    )
    .catch((error: unknown) => {
      throw registryFailure(error, what, registry);
    });
  await readProgress(response.body, what, { registry, ...(onEvent ? { onEvent } : {}) });
}

/** `POST /images/{name}/tag`: gives the image `source` (reference or id) the name `repository:tag`. */
export async function tagImage(
  client: DockerClient,
  source: string,
  repository: string,
  tag: string,
): Promise<void> {
  const response = await client.request(
    {
      method: 'POST',
      path: `/images/${encodePathSegment(source, true)}/tag`,
      query: { repo: repository, tag },
    },
    `tag image "${source}" as "${repository}:${tag}"`,
  );
  await response.body.dump();
}

/** Options of a push (`docker push`). */
export interface PushOptions {
  /** Repository name, with its registry, without tag. */
  readonly repository: string;
  readonly tag: string;
  readonly credentials?: RegistryCredentials;
  readonly onEvent?: (event: ProgressEvent) => void;
}

/**
 * `POST /images/{name}/push`: pushes one tag, reading the progress stream to its
 * end and throwing the failure it reports. Returns the manifest digest the
 * registry stored, from the stream's `aux` line; null when it sent none.
 */
export async function pushImage(
  client: DockerClient,
  options: PushOptions,
): Promise<string | null> {
  let digest: string | null = null;
  await registryTransfer(
    client,
    {
      path: `/images/${encodePathSegment(options.repository, true)}/push`,
      query: { tag: options.tag },
    },
    `push image "${options.repository}:${options.tag}"`,
    registryOf(options.repository),
    options.credentials,
    (event) => {
      if (event.aux?.Digest && (event.aux.Tag === undefined || event.aux.Tag === options.tag)) {
        digest = event.aux.Digest;
      }
      options.onEvent?.(event);
    },
  );
  return digest;
}

/** What removing an image did: the names untagged and the image ids deleted, in the engine's order. */
export interface ImageRemoval {
  readonly untagged: string[];
  readonly deleted: string[];
}

function toImageRemoval(items: readonly { Untagged?: string; Deleted?: string }[] | null) {
  const removal: ImageRemoval = { untagged: [], deleted: [] };
  for (const item of items ?? []) {
    if (item.Untagged) removal.untagged.push(item.Untagged);
    if (item.Deleted) removal.deleted.push(item.Deleted);
  }
  return removal;
}

/**
 * `DELETE /images/{name}`: untags `reference` and deletes the image (and its
 * untagged parents unless `noPrune`) when no other name refers to it. An image
 * a container uses, or one named by an id with several tags, is a conflict
 * unless `force`.
 */
export async function removeImage(
  client: DockerClient,
  reference: string,
  options: { readonly force?: boolean; readonly noPrune?: boolean } = {},
): Promise<ImageRemoval> {
  const items = await client.json<{ Untagged?: string; Deleted?: string }[] | null>(
    {
      method: 'DELETE',
      path: `/images/${encodePathSegment(reference, true)}`,
      query: { force: options.force, noprune: options.noPrune },
    },
    `remove image "${reference}"`,
  );
  return toImageRemoval(items);
}

/** Which images a prune removes. */
export interface ImagePruneFilters {
  /** true (the default): only dangling images; false: every image no container uses. */
  readonly dangling?: boolean;
  /** `key`, `key=value`, `key!=value`: all must hold. */
  readonly labels?: readonly string[];
  /** Only images created before this time. */
  readonly until?: Date;
}

/** What an image prune did. */
export interface ImagePruneReport extends ImageRemoval {
  readonly spaceReclaimed: number;
}

/**
 * `POST /images/prune`: removes dangling images, or all unused ones (`docker image prune -a`).
 * Podman's Docker-compatible prune removes dangling images only, and refuses `dangling=false`:
 * for all unused ones it is asked through its own `POST /libpod/images/prune?all=true`, which
 * names the images deleted but not the tags removed with them.
 */
export async function pruneImages(
  client: DockerClient,
  filters: ImagePruneFilters = {},
): Promise<ImagePruneReport> {
  const label = filters.labels;
  const until =
    filters.until === undefined ? undefined : [String(Math.floor(filters.until.getTime() / 1000))];
  if (filters.dangling === false && (await isPodman(client))) {
    return prunePodmanImages(client, encodeFilters({ label, until }));
  }
  const answer = await client.json<{
    ImagesDeleted: { Untagged?: string; Deleted?: string }[] | null;
    SpaceReclaimed: number;
  }>(
    {
      method: 'POST',
      path: '/images/prune',
      query: {
        filters: encodeFilters({
          dangling: filters.dangling === undefined ? undefined : [String(filters.dangling)],
          label,
          until,
        }),
      },
      timeoutMs: 300_000,
    },
    'prune images',
  );
  return { ...toImageRemoval(answer.ImagesDeleted), spaceReclaimed: answer.SpaceReclaimed };
}

/** `POST /libpod/images/prune?all=true` (Podman): every unused image the filters match. */
async function prunePodmanImages(
  client: DockerClient,
  filters: string | undefined,
): Promise<ImagePruneReport> {
  const reports = await client.json<{ Id: string; Size?: number; Err?: string | null }[] | null>(
    {
      method: 'POST',
      path: '/libpod/images/prune',
      query: { all: true, filters },
      timeoutMs: 300_000,
    },
    'prune images',
  );
  // An image that could not be removed (e.g. a container uses it) stays, as with Docker.
  const deleted = (reports ?? []).filter((report) => !report.Err);
  return {
    untagged: [],
    deleted: deleted.map((report) => `sha256:${report.Id.replace(/^sha256:/, '')}`),
    spaceReclaimed: deleted.reduce((total, report) => total + Math.max(0, report.Size ?? 0), 0),
  };
}

/** Options of a commit (`docker commit`). */
export interface CommitOptions {
  /** Container id or name. */
  readonly container: string;
  readonly repository?: string;
  readonly tag?: string;
  readonly comment?: string;
  readonly author?: string;
  /** Dockerfile instructions applied to the image's config, e.g. `CMD ["sh"]`. */
  readonly changes?: readonly string[];
  /** Pause the container while its filesystem is copied (the engine's default). */
  readonly pause?: boolean;
}

/** `POST /commit`: makes an image from a container's filesystem and config; returns the image id. */
export async function commitContainer(
  client: DockerClient,
  options: CommitOptions,
): Promise<string> {
  // The body is the new image's container config, optional for Docker; Podman decodes it
  // always and fails on an empty body ("Decode(): EOF"): it gets an empty config, which
  // changes nothing.
  const podman = await isPodman(client);
  const answer = await client.json<{ Id: string }>(
    {
      method: 'POST',
      path: '/commit',
      ...(podman ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {}),
      query: {
        container: options.container,
        repo: options.repository,
        tag: options.tag,
        comment: options.comment,
        author: options.author,
        pause: options.pause,
        // The engine parses its `changes` values joined by newlines, as one Dockerfile.
        changes: options.changes?.length ? options.changes.join('\n') : undefined,
      },
      timeoutMs: 300_000,
    },
    `commit container "${options.container}"`,
  );
  return answer.Id;
}

/** One entry of `GET /images/search`. */
export interface EngineImageSearchResult {
  name: string;
  description: string;
  star_count: number;
  is_official: boolean;
  is_automated: boolean;
}

/**
 * `GET /images/search`: searches Docker Hub through the engine. Without a way to the
 * registry the engine answers HTTP 500, thrown as a `RegistryUnreachableError`.
 */
export async function searchImages(
  client: DockerClient,
  term: string,
  limit?: number,
): Promise<EngineImageSearchResult[]> {
  const what = `search images for "${term}"`;
  return client
    .json<EngineImageSearchResult[]>(
      { path: '/images/search', query: { term, limit }, timeoutMs: 60_000 },
      what,
    )
    .catch((error: unknown) => {
      throw registryFailure(error, what, registryOf(term));
    });
}

/** Which build cache a prune removes (`docker builder prune`). */
export interface BuildCachePruneOptions {
  /** Remove all unused cache, not only dangling entries (`--all`). */
  readonly all?: boolean;
  /** Keep this many bytes of cache (`--keep-storage`). */
  readonly keepStorageBytes?: number;
  /** Only cache unused for at least this many seconds (the `until` filter, a duration). */
  readonly unusedForSeconds?: number;
}

/** What a build cache prune removed. */
export interface BuildCachePruneReport {
  /** Ids of the cache records removed. */
  readonly deleted: string[];
  readonly spaceReclaimed: number;
}

/** `POST /build/prune`: removes build cache, of every build of the engine. */
export async function pruneBuildCache(
  client: DockerClient,
  options: BuildCachePruneOptions = {},
): Promise<BuildCachePruneReport> {
  const answer = await client.json<{ CachesDeleted: string[] | null; SpaceReclaimed: number }>(
    {
      method: 'POST',
      path: '/build/prune',
      query: {
        all: options.all,
        'keep-storage': options.keepStorageBytes,
        filters: encodeFilters({
          until:
            options.unusedForSeconds === undefined ? undefined : [`${options.unusedForSeconds}s`],
        }),
      },
      timeoutMs: 300_000,
    },
    'prune build cache',
  );
  return { deleted: answer.CachesDeleted ?? [], spaceReclaimed: answer.SpaceReclaimed };
}
