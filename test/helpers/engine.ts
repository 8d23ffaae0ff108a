// Typed wrappers around scripts/engine.sh, the private Docker engine used by the tests.
// The script does the work (netns, dockerd, base image, registry); this only runs it.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ENGINE_SCRIPT = fileURLToPath(new URL('../../scripts/engine.sh', import.meta.url));

export const INSTALL_HINT =
  'apt-get install -y docker.io busybox-static iptables docker-registry (run as root; ' +
  'scripts/engine.sh installs them itself when it runs as root)';

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

interface ScriptResult {
  code: number;
  stdout: string;
  stderr: string;
}

// Cold start on a fresh machine may include apt-get install, hence the generous budget.
const START_TIMEOUT_MS = 10 * 60_000;
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

function runScript(
  args: readonly string[],
  timeoutMs: number,
  instance?: EngineInstance,
): Promise<ScriptResult> {
  const env = instance
    ? {
        ...process.env,
        DOCKERGRAPH_ENGINE_DIR: instance.dir,
        DOCKERGRAPH_ENGINE_NETNS: instance.netns,
        ...(instance.tlsDir ? { DOCKERGRAPH_ENGINE_TLS_DIR: instance.tlsDir } : {}),
        ...(instance.tlsAddress ? { DOCKERGRAPH_ENGINE_TLS_ADDRESS: instance.tlsAddress } : {}),
        ...(instance.tlsHostAddress
          ? { DOCKERGRAPH_ENGINE_TLS_HOST_ADDRESS: instance.tlsHostAddress }
          : {}),
      }
    : process.env;
  return new Promise((resolve) => {
    execFile(
      'bash',
      [ENGINE_SCRIPT, ...args],
      { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env },
      (error, stdout, stderr) => {
        if (!error) {
          resolve({ code: 0, stdout, stderr });
          return;
        }
        const code = typeof error.code === 'number' ? error.code : -1;
        const how = error.killed
          ? `\n(killed after ${timeoutMs} ms${error.signal ? ` with ${error.signal}` : ''})`
          : code === -1
            ? `\n(${error.message})`
            : '';
        resolve({ code, stdout, stderr: `${stderr}${how}` });
      },
    );
  });
}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function scriptError(action: string, result: ScriptResult, hint: boolean): Error {
  const parts = [
    `Could not ${action} the private Docker engine: \`bash scripts/engine.sh ${action}\` exited with ${result.code}.`,
  ];
  if (hint) {
    parts.push(`It needs root and these Debian packages: ${INSTALL_HINT}.`);
  }
  parts.push(`--- last lines of its stderr ---\n${tail(result.stderr) || '(empty)'}`);
  return new Error(parts.join('\n'));
}

function parseDockerHost(stdout: string): string {
  const match = /^export DOCKER_HOST=(unix:\/\/\S+)$/m.exec(stdout);
  if (!match?.[1]) {
    throw new Error(`scripts/engine.sh printed no DOCKER_HOST line; stdout was:\n${stdout}`);
  }
  return match[1];
}

/** Path of the unix socket in a `unix://` DOCKER_HOST. */
export function dockerSocketPath(dockerHost: string): string {
  if (!dockerHost.startsWith('unix://')) {
    throw new Error(`expected a unix:// DOCKER_HOST, got ${dockerHost}`);
  }
  return dockerHost.slice('unix://'.length);
}

export async function engineStatus(instance?: EngineInstance): Promise<EngineStatus> {
  const result = await runScript(['status'], QUICK_TIMEOUT_MS, instance);
  if (result.code === 0) {
    return 'running';
  }
  if (result.code === 1) {
    return 'stopped';
  }
  throw scriptError('status', result, false);
}

/** DOCKER_HOST of the private engine, whether or not it is running. */
export async function engineDockerHost(): Promise<string> {
  const result = await runScript(['env'], QUICK_TIMEOUT_MS);
  if (result.code !== 0) {
    throw scriptError('env', result, false);
  }
  return parseDockerHost(result.stdout);
}

/**
 * Starts the private engine, or reuses the one already running, and makes sure the base image
 * exists. Throws (never skips) when it cannot, saying what to install.
 */
export async function startEngine(instance?: EngineInstance): Promise<EngineHandle> {
  const wasRunning = (await engineStatus(instance)) === 'running';
  const result = await runScript(['start'], START_TIMEOUT_MS, instance);
  if (result.code !== 0) {
    throw scriptError('start', result, true);
  }
  const tlsHost = /^export DOCKERGRAPH_ENGINE_TLS_HOST=(tcp:\/\/\S+)$/m.exec(result.stdout)?.[1];
  return {
    dockerHost: parseDockerHost(result.stdout),
    startedByUs: !wasRunning,
    ...(tlsHost ? { tlsHost } : {}),
  };
}

/** Stops the engine (and the registry) and removes its netns; a no-op when already stopped. */
export async function stopEngine(instance?: EngineInstance): Promise<void> {
  const result = await runScript(['stop'], STOP_TIMEOUT_MS, instance);
  if (result.code !== 0) {
    throw scriptError('stop', result, false);
  }
}

/**
 * Starts the local registry the engine reaches as 127.0.0.1:5000 (plain http, no auth); reuses
 * a running one. Returns the registry address to prefix image names with.
 */
export async function startRegistry(): Promise<string> {
  const result = await runScript(['registry-start'], START_TIMEOUT_MS);
  if (result.code !== 0) {
    throw scriptError('registry-start', result, true);
  }
  const address = result.stdout.trim().split('\n').at(-1);
  return address && address.length > 0 ? address : REGISTRY_ADDRESS;
}

export async function stopRegistry(): Promise<void> {
  const result = await runScript(['registry-stop'], STOP_TIMEOUT_MS);
  if (result.code !== 0) {
    throw scriptError('registry-stop', result, false);
  }
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
export async function startAuthRegistry(): Promise<AuthRegistry> {
  const result = await runScript(['auth-registry-start'], START_TIMEOUT_MS);
  if (result.code !== 0) {
    throw scriptError('auth-registry-start', result, true);
  }
  const fields = new Map(
    result.stdout
      .trim()
      .split('\n')
      .map((line) => {
        const equals = line.indexOf('=');
        return [line.slice(0, equals), line.slice(equals + 1)] as const;
      }),
  );
  const address = fields.get('address');
  const username = fields.get('username');
  const password = fields.get('password');
  if (!address || !username || !password) {
    throw new Error(
      'scripts/engine.sh auth-registry-start printed no address, username and password',
    );
  }
  return { address, username, password };
}

export async function stopAuthRegistry(): Promise<void> {
  const result = await runScript(['auth-registry-stop'], STOP_TIMEOUT_MS);
  if (result.code !== 0) {
    throw scriptError('auth-registry-stop', result, false);
  }
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
