import type { IncomingHttpHeaders } from 'node:http';

/**
 * The newest Engine API version dockergraph speaks. Requests use
 * `min(engine's version, this)`, as the docker CLI negotiates.
 */
export const MAX_API_VERSION = '1.51';

/**
 * The version assumed when an engine's `/_ping` has no `Api-Version` header,
 * as the docker CLI assumes (engines older than 1.25 did not send it).
 */
export const FALLBACK_API_VERSION = '1.24';

/** What `HEAD /_ping` tells about the engine before any versioned call. */
export interface PingResult {
  /** The highest API version the engine serves (`Api-Version`). */
  readonly apiVersion: string;
  /** Operating system the engine runs containers for (`OSType`). */
  readonly osType: string | null;
  /** Whether experimental features are on (`Docker-Experimental`). */
  readonly experimental: boolean;
  /** Default builder (`Builder-Version`): "1" classic, "2" BuildKit. */
  readonly builderVersion: string | null;
  /** Swarm node state and role, e.g. "inactive" or "active/manager" (`Swarm`, API 1.42+). */
  readonly swarm: string | null;
  /** Podman's own API version (`Libpod-Api-Version`) when the engine is Podman. */
  readonly podmanApiVersion: string | null;
}

function header(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name];
  if (Array.isArray(value)) return value[0] ?? null;
  return value ?? null;
}

/** Reads the headers of a `HEAD /_ping` answer. */
export function parsePingHeaders(headers: IncomingHttpHeaders): PingResult {
  return {
    apiVersion: header(headers, 'api-version') ?? FALLBACK_API_VERSION,
    osType: header(headers, 'ostype'),
    experimental: header(headers, 'docker-experimental') === 'true',
    builderVersion: header(headers, 'builder-version'),
    swarm: header(headers, 'swarm'),
    podmanApiVersion: header(headers, 'libpod-api-version'),
  };
}

function parseVersion(version: string): [number, number] {
  const match = /^(\d+)\.(\d+)/.exec(version);
  if (!match) return [0, 0];
  return [Number(match[1]), Number(match[2])];
}

/** Compares two "major.minor" API versions: negative, zero or positive. */
export function compareApiVersions(a: string, b: string): number {
  const [aMajor, aMinor] = parseVersion(a);
  const [bMajor, bMinor] = parseVersion(b);
  return aMajor === bMajor ? aMinor - bMinor : aMajor - bMajor;
}

/** The version requests use: the lower of the engine's and ours. */
export function negotiateApiVersion(engineVersion: string, ours: string = MAX_API_VERSION): string {
  return compareApiVersions(engineVersion, ours) < 0 ? engineVersion : ours;
}
