// The three private engines of the "fleet" project (issue 11: several engines in one graph):
// where each lives, derived from one prefix so that several runs on a machine never share one.
import { BASE_IMAGE as ENGINE_BASE_IMAGE } from './engine.ts';

/** Names the fleet's engines carry in tests and in engines files. */
export const FLEET_ENGINE_NAMES = ['fleet-a', 'fleet-b', 'fleet-c'] as const;

/** The base image `scripts/engine.sh start` imports into every engine it starts. */
export const FLEET_BASE_IMAGE = ENGINE_BASE_IMAGE;

/** One engine of the fleet, as the global setup provides it (`inject('fleetEngines')`). */
export interface FleetEngine {
  /** `fleet-a`, `fleet-b` or `fleet-c`. */
  readonly name: string;
  /** `unix:///…/docker.sock`; the same path across stop and start. */
  readonly dockerHost: string;
  /** State folder (`DOCKERGRAPH_ENGINE_DIR`). */
  readonly dir: string;
  /** Network namespace (`DOCKERGRAPH_ENGINE_NETNS`). */
  readonly netns: string;
}

/** Where an engine of the fleet lives, before it is started. */
export interface FleetEnginePlace {
  readonly name: string;
  readonly dir: string;
  readonly netns: string;
}

/**
 * `DOCKERGRAPH_FLEET_PREFIX` (default `dgfleet`) names the fleet's namespaces `<prefix>-a`… and
 * folders `/tmp/<prefix>-a`…; it must differ from the integration project's `dockergraph`.
 * Kept short: the unix sockets below the folders are limited to 107 bytes.
 */
export function planFleet(
  prefix = process.env.DOCKERGRAPH_FLEET_PREFIX ?? 'dgfleet',
): FleetEnginePlace[] {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,20}$/.test(prefix)) {
    throw new Error(
      `DOCKERGRAPH_FLEET_PREFIX must be 1-21 letters, digits, "_", "." or "-", got "${prefix}"`,
    );
  }
  return FLEET_ENGINE_NAMES.map((name) => {
    const suffix = name.slice('fleet-'.length);
    return { name, dir: `/tmp/${prefix}-${suffix}`, netns: `${prefix}-${suffix}` };
  });
}
