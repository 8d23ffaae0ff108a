import type { DockerClient } from './client.ts';
import type { EngineContainerConfig } from './containers.ts';
import { type EngineFilters, encodeFilters, encodePathSegment } from './filters.ts';
import { type ProgressEvent, readProgress } from './progress.ts';
import { encodeRegistryAuth, type RegistryCredentials, registryOf } from './registry-auth.ts';

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

/** `GET /images/json`: top-level images (not intermediate layers). */
export function listImages(
  client: DockerClient,
  options: { filters?: ImageFilters } = {},
): Promise<EngineImageSummary[]> {
  return client.json<EngineImageSummary[]>(
    { path: '/images/json', query: { filters: encodeFilters(toEngineFilters(options.filters)) } },
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
 * stream to its end (the engine stops pulling if it is not read) and throwing
 * the failure it reports.
 */
export async function pullImage(client: DockerClient, options: PullOptions): Promise<void> {
  const what = `pull image "${options.reference}"`;
  const response = await client.request(
    {
      method: 'POST',
      path: '/images/create',
      query: { fromImage: options.reference, platform: options.platform },
      headers: { 'x-registry-auth': encodeRegistryAuth(options.credentials) },
      timeoutMs: 600_000,
      bodyTimeoutMs: 600_000,
    },
    what,
  );
  await readProgress(response.body, what, {
    registry: registryOf(options.reference),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  });
}
