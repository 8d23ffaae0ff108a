/**
 * Which engine answers: Docker, or Podman serving its Docker-compatible API. The engine
 * functions (src/docker/*) ask this where the two differ, so that resolvers see one API.
 *
 * @module
 */
import type { DockerClient } from './client.ts';
import { EngineNotSupportedError } from './errors.ts';

/** The kinds of engine dockergraph speaks to. */
export type EngineKind = 'docker' | 'podman';

/** The kind of engine `client` talks to, from its (remembered) `/_ping` answer. */
export async function engineKind(client: DockerClient): Promise<EngineKind> {
  const { ping } = await client.connection();
  // Podman answers every request with `Libpod-Api-Version`; Docker never sends it.
  return ping.podmanApiVersion ? 'podman' : 'docker';
}

/** True when `client` talks to Podman. */
export async function isPodman(client: DockerClient): Promise<boolean> {
  return (await engineKind(client)) === 'podman';
}

/**
 * True when `client` talks to a Podman older than `major`.`minor` (from the `Libpod-Api-Version`
 * it answers with, which is its own version).
 */
export async function podmanVersionBefore(
  client: DockerClient,
  major: number,
  minor: number,
): Promise<boolean> {
  const { ping } = await client.connection();
  const version = /^(\d+)\.(\d+)/.exec(ping.podmanApiVersion ?? '');
  if (!version) return false;
  const [have, haveMinor] = [Number(version[1]), Number(version[2])];
  return have < major || (have === major && haveMinor < minor);
}

/** An {@link EngineNotSupportedError} saying that Podman cannot do `what`, and why. */
export function notSupportedByPodman(what: string, reason: string): EngineNotSupportedError {
  return new EngineNotSupportedError('podman', `${what}: not supported by Podman (${reason})`);
}
