import type { DockerClient } from './client.ts';
import { engineKind } from './engine-kind.ts';
import { EngineNotSupportedError, InvalidInputError } from './errors.ts';
import { type EngineFilters, encodeFilters, encodePathSegment } from './filters.ts';
import { compareApiVersions } from './version.ts';

/** A volume as `GET /volumes` and `GET /volumes/{name}` describe it. */
export interface EngineVolume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  /** RFC 3339; missing on some drivers. */
  CreatedAt?: string;
  Status?: Record<string, unknown> | null;
  Labels: Record<string, string> | null;
  Scope: 'local' | 'global';
  Options: Record<string, string> | null;
  /** Only filled by `GET /system/df`. */
  UsageData?: { Size: number; RefCount: number } | null;
}

/** Typed filters of the volume list. */
export interface VolumeFilters {
  readonly dangling?: boolean;
  readonly drivers?: readonly string[];
  /** `key` or `key=value`. */
  readonly labels?: readonly string[];
  /** Substrings of the name. */
  readonly names?: readonly string[];
}

function toEngineFilters(filters: VolumeFilters | undefined): EngineFilters | undefined {
  if (!filters) return undefined;
  return {
    dangling: filters.dangling === undefined ? undefined : [String(filters.dangling)],
    driver: filters.drivers,
    label: filters.labels,
    name: filters.names,
  };
}

/** `GET /volumes`: every volume matching the filters. */
export async function listVolumes(
  client: DockerClient,
  options: { filters?: VolumeFilters } = {},
): Promise<EngineVolume[]> {
  const answer = await client.json<{ Volumes: EngineVolume[] | null }>(
    { path: '/volumes', query: { filters: encodeFilters(toEngineFilters(options.filters)) } },
    'list volumes',
  );
  return answer.Volumes ?? [];
}

/** `GET /volumes/{name}`: one volume; `null` when missing. */
export function inspectVolume(client: DockerClient, name: string): Promise<EngineVolume | null> {
  return client.jsonOrNull<EngineVolume>(
    { path: `/volumes/${encodePathSegment(name)}` },
    `inspect volume "${name}"`,
  );
}

/** What `POST /volumes/create` takes. */
export interface VolumeSpec {
  readonly name?: string;
  readonly driver?: string;
  readonly driverOptions?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
}

/** `POST /volumes/create`: creates a volume (a name in use answers the existing one). */
export function createVolume(client: DockerClient, spec: VolumeSpec): Promise<EngineVolume> {
  return client.json<EngineVolume>(
    {
      method: 'POST',
      path: '/volumes/create',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        Name: spec.name,
        Driver: spec.driver,
        DriverOpts: spec.driverOptions,
        Labels: spec.labels,
      }),
    },
    `create volume${spec.name ? ` "${spec.name}"` : ''}`,
  );
}

/** `DELETE /volumes/{name}`: removes a volume; 409 while a container uses it unless `force`. */
export async function removeVolume(
  client: DockerClient,
  name: string,
  force: boolean,
): Promise<void> {
  const response = await client.request(
    { method: 'DELETE', path: `/volumes/${encodePathSegment(name)}`, query: { force } },
    `remove volume "${name}"`,
  );
  await response.body.dump();
}

/** What a prune removed. */
export interface PruneReport {
  readonly deleted: string[];
  readonly spaceReclaimed: number;
}

/** `POST /volumes/prune`: removes local volumes no container uses. */
export async function pruneVolumes(
  client: DockerClient,
  filters: { labels?: readonly string[] } = {},
): Promise<PruneReport> {
  const answer = await client.json<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>(
    {
      method: 'POST',
      path: '/volumes/prune',
      query: { filters: encodeFilters({ label: filters.labels }) },
      timeoutMs: 300_000,
    },
    'prune volumes',
  );
  return { deleted: answer.VolumesDeleted ?? [], spaceReclaimed: answer.SpaceReclaimed };
}

/** Whether tasks may use a swarm cluster volume: `ClusterVolumeSpec.AccessMode.Availability`. */
export type ClusterVolumeAvailability = 'active' | 'pause' | 'drain';

/** The first Engine API version with `PUT /volumes/{name}` (swarm cluster volumes). */
export const VOLUME_UPDATE_API_VERSION = '1.42';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `PUT /volumes/{name}?version=…`: changes the availability of a swarm cluster volume, the
 * one field of its spec the engine lets change. The body repeats the rest of the spec as
 * inspected, and `version` is the inspected version, so a change made in between is refused
 * rather than overwritten. An engine that negotiates an API before 1.42 has no such call
 * (EngineNotSupportedError naming the version); a volume that is not a cluster volume is
 * refused as input.
 */
export async function updateVolumeAvailability(
  client: DockerClient,
  name: string,
  availability: ClusterVolumeAvailability,
): Promise<void> {
  const what = `update volume "${name}"`;
  // The volume is read first (GET /volumes/{name} exists in every version), so a missing
  // volume is NotFound on any engine, and only an existing one meets the version check.
  const volume = await client.json<{ ClusterVolume?: unknown }>(
    { path: `/volumes/${encodePathSegment(name)}` },
    what,
  );
  const { apiVersion } = await client.connection();
  if (compareApiVersions(apiVersion, VOLUME_UPDATE_API_VERSION) < 0) {
    throw new EngineNotSupportedError(
      await engineKind(client),
      `${what}: volume updates (cluster volumes) need Engine API ${VOLUME_UPDATE_API_VERSION}; this engine speaks ${apiVersion}`,
    );
  }
  const cluster = volume.ClusterVolume;
  const version = isRecord(cluster) && isRecord(cluster.Version) ? cluster.Version.Index : null;
  if (!isRecord(cluster) || typeof version !== 'number') {
    throw new InvalidInputError(
      'name',
      `volume "${name}" is not a cluster volume: only swarm cluster volumes can be updated`,
    );
  }
  const spec = isRecord(cluster.Spec) ? cluster.Spec : {};
  const accessMode = isRecord(spec.AccessMode) ? spec.AccessMode : {};
  const response = await client.request(
    {
      method: 'PUT',
      path: `/volumes/${encodePathSegment(name)}`,
      query: { version },
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        Spec: { ...spec, AccessMode: { ...accessMode, Availability: availability } },
      }),
    },
    what,
  );
  await response.body.dump();
}
