// The private Docker engine used by the tests, through the one wrapper around scripts/engine.sh
// (src/docker/embedded-engine.ts). The script does the work (netns, dockerd, base image, registry).
import { execFile } from 'node:child_process';
import { runEngineScript } from '../../src/docker/embedded-engine.ts';

/** Address of the local registry, as seen by the private engine (inside its netns). */
export const REGISTRY_ADDRESS = '127.0.0.1:5000';

/** Address of the local registry that asks for credentials (inside the engine's netns). */
export const AUTH_REGISTRY_ADDRESS = '127.0.0.1:5001';

/** The engine's network namespace: published ports and the registry live there. */
export const ENGINE_NETNS = process.env.DOCKERGRAPH_ENGINE_NETNS ?? 'dockergraph';

/** Name of the image every start of the engine guarantees. */
export const BASE_IMAGE = 'dockergraph/busybox:latest';

export type EngineStatus = 'running' | 'stopped';

export interface EngineHandle {
  /** `unix:///…/docker.sock` of the private engine. */
  dockerHost: string;
  /** True when the engine was not running before this call (so the caller should stop it). */
  startedByUs: boolean;
  /** `tcp://<address>:2376`, where an instance started with `tlsDir` answers mutual TLS. */
  tlsHost?: string;
}

const STOP_TIMEOUT_MS = 2 * 60_000;
const QUICK_TIMEOUT_MS = 30_000;

/**
 * Another private engine beside the default one: its own state folder and network
 * namespace, for tests that must stop an engine without disturbing the others.
 */
export interface EngineInstance {
  readonly dir: string;
  readonly netns: string;
  /**
   * A folder holding ca.pem, server-cert.pem and server-key.pem: the instance also listens
   * with `--tlsverify` on an address the host reaches through a veth pair (scripts/engine.sh,
   * DOCKERGRAPH_ENGINE_TLS_DIR). Stopping the instance removes the veth pair.
   */
  readonly tlsDir?: string;
  /** Where the TLS listener is, inside the netns (scripts/engine.sh's default 10.231.0.2). */
  readonly tlsAddress?: string;
  /** The host's end of the veth pair (scripts/engine.sh's default 10.231.0.1). */
  readonly tlsHostAddress?: string;
}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Path of the unix socket in a `unix://` DOCKER_HOST. */
export function dockerSocketPath(dockerHost: string): string {
  if (!dockerHost.startsWith('unix://')) {
    throw new Error(`expected a unix:// DOCKER_HOST, got ${dockerHost}`);
  }
  return dockerHost.slice('unix://'.length);
}

export async function engineStatus(instance?: EngineInstance): Promise<EngineStatus> {
  const { running } = await runEngineScript('status', { ...instance, timeoutMs: QUICK_TIMEOUT_MS });
  return running ? 'running' : 'stopped';
}

/** DOCKER_HOST of the private engine, whether or not it is running. */
export async function engineDockerHost(): Promise<string> {
  return (await runEngineScript('env', { timeoutMs: QUICK_TIMEOUT_MS })).dockerHost;
}

/**
 * Starts the private engine, or reuses the one already running, and makes sure the base image
 * exists. Throws (never skips) when it cannot, saying what to install.
 */
export async function startEngine(instance?: EngineInstance): Promise<EngineHandle> {
  const { dockerHost, started, tlsHost } = await runEngineScript('start', { ...instance });
  return { dockerHost, startedByUs: started, ...(tlsHost ? { tlsHost } : {}) };
}

/** Stops the engine (and the registry) and removes its netns; a no-op when already stopped. */
export async function stopEngine(instance?: EngineInstance): Promise<void> {
  await runEngineScript('stop', { ...instance, timeoutMs: STOP_TIMEOUT_MS });
}

/**
 * Starts the local registry the engine reaches as 127.0.0.1:5000 (plain http, no auth); reuses
 * a running one. Returns the registry address to prefix image names with.
 */
export async function startRegistry(): Promise<string> {
  return (await runEngineScript('registry-start')).address;
}

export async function stopRegistry(): Promise<void> {
  await runEngineScript('registry-stop', { timeoutMs: STOP_TIMEOUT_MS });
}

/** A registry that asks for credentials, as scripts/engine.sh `auth-registry-start` reports it. */
export interface AuthRegistry {
  /** `127.0.0.1:5001`, reachable by the engine only (inside its netns). */
  readonly address: string;
  readonly username: string;
  /** Made when the registry started; the same for everyone using that registry. */
  readonly password: string;
}

/**
 * Starts the registry the engine reaches as 127.0.0.1:5001 (plain http, htpasswd auth), or
 * reuses a running one, and returns its address and credentials.
 */
export function startAuthRegistry(): Promise<AuthRegistry> {
  return runEngineScript('auth-registry-start');
}

export async function stopAuthRegistry(): Promise<void> {
  await runEngineScript('auth-registry-stop', { timeoutMs: STOP_TIMEOUT_MS });
}

/**
 * Runs a program inside the engine's network namespace. Published ports (127.0.0.1:<HostPort>)
 * and the registry (127.0.0.1:5000) are only reachable there, not from the test process, e.g.
 * `await execInEngineNetns('curl', ['-fsS', `http://127.0.0.1:${port}/`])`.
 */
export function execInEngineNetns(
  file: string,
  args: readonly string[],
  timeoutMs = QUICK_TIMEOUT_MS,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      'nsenter',
      [`--net=/var/run/netns/${ENGINE_NETNS}`, file, ...args],
      { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(
            new Error(
              `${file} ${args.join(' ')} in netns ${ENGINE_NETNS} failed: ${error.message}\n${tail(stderr)}`,
            ),
          );
          return;
        }
        resolve({ stdout, stderr });
      },
    );
  });
}

/**
 * Deletes manifest `digest` of `repository` (its path below the registry) from the registry at
 * `address`, as the engine reaches it; `credentials` (`user:password`) where the registry asks.
 */
export async function deleteRegistryManifest(
  address: string,
  repository: string,
  digest: string,
  credentials?: string,
): Promise<void> {
  await execInEngineNetns('curl', [
    '-fsS',
    '-o',
    '/dev/null',
    ...(credentials ? ['-u', credentials] : []),
    '-X',
    'DELETE',
    `http://${address}/v2/${repository}/manifests/${digest}`,
  ]);
}
