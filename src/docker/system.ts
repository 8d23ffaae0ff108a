import type { DockerClient } from './client.ts';
import type { EngineContainerSummary } from './containers.ts';
import { isPodman } from './engine-kind.ts';
import type { EngineImageSummary } from './images.ts';
import type { EngineVolume } from './volumes.ts';

/** `GET /version`. */
export interface EngineVersion {
  Platform?: { Name: string };
  Components?: { Name: string; Version: string; Details?: Record<string, string> | null }[];
  Version: string;
  ApiVersion: string;
  MinAPIVersion?: string;
  GitCommit: string;
  GoVersion: string;
  Os: string;
  Arch: string;
  KernelVersion: string;
  Experimental?: boolean;
  BuildTime?: string;
}

/** `GET /info` (the fields dockergraph reads). */
export interface EngineInfo {
  ID: string;
  Name: string;
  Containers: number;
  ContainersRunning: number;
  ContainersPaused: number;
  ContainersStopped: number;
  Images: number;
  Driver: string;
  DriverStatus?: [string, string][] | null;
  DockerRootDir: string;
  MemTotal: number;
  NCPU: number;
  ServerVersion: string;
  OperatingSystem: string;
  OSType: string;
  OSVersion?: string;
  Architecture: string;
  KernelVersion: string;
  CgroupDriver?: string;
  CgroupVersion?: string;
  LoggingDriver?: string;
  DefaultRuntime?: string;
  LiveRestoreEnabled?: boolean;
  Labels?: string[] | null;
  SecurityOptions?: string[] | null;
  Swarm?: { LocalNodeState?: string; NodeID?: string; ControlAvailable?: boolean };
  Warnings?: string[] | null;
  /** The engine's clock when it answered (RFC 3339, with nanoseconds). */
  SystemTime?: string;
}

/** `GET /system/df`. */
export interface EngineDiskUsage {
  LayersSize: number;
  Images: EngineImageSummary[] | null;
  Containers: EngineContainerSummary[] | null;
  Volumes: EngineVolume[] | null;
  BuildCache?: { ID: string; Type: string; Size: number; InUse: boolean; Shared: boolean }[] | null;
}

/** `GET /version`: engine, API and component versions. */
export function readEngineVersion(client: DockerClient): Promise<EngineVersion> {
  return client.json<EngineVersion>({ path: '/version' }, 'read engine version');
}

/** `GET /info`: system-wide facts and object counts. */
export function readEngineInfo(client: DockerClient): Promise<EngineInfo> {
  return client.json<EngineInfo>({ path: '/info' }, 'read engine info');
}

/**
 * `GET /system/df`: disk use of images, containers, volumes and build cache. Slow: it walks every
 * layer. Podman 4 answers `LayersSize` 0 and no shared sizes: its layers' size is then the sum of
 * its images' sizes (a layer two images share counts twice).
 */
export async function readDiskUsage(client: DockerClient): Promise<EngineDiskUsage> {
  const usage = await client.json<EngineDiskUsage>(
    { path: '/system/df', timeoutMs: 300_000 },
    'read disk usage',
  );
  if (usage.LayersSize > 0 || !(await isPodman(client))) return usage;
  const LayersSize = (usage.Images ?? []).reduce(
    (total, image) => total + Math.max(0, image.Size),
    0,
  );
  return { ...usage, LayersSize };
}
