import type { DockerClient } from './client.ts';
import { type EngineFilters, encodeFilters, encodePathSegment } from './filters.ts';

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
