import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The project's script that runs a private dockerd in its own network namespace. */
export const ENGINE_SCRIPT = fileURLToPath(new URL('../../scripts/engine.sh', import.meta.url));

/** A private engine started (or found running) by `scripts/engine.sh`. */
export interface EmbeddedEngine {
  /** `unix://` address of its socket. */
  readonly dockerHost: string;
  /** Whether this call started it (and so should stop it). */
  readonly startedHere: boolean;
  stop(): Promise<void>;
}

async function isRunning(): Promise<boolean> {
  try {
    await run('bash', [ENGINE_SCRIPT, 'status']);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts the private engine unless it already runs, and returns its address.
 * Needs root (dockerd, network namespaces); the script installs what is missing.
 */
export async function startEmbeddedEngine(): Promise<EmbeddedEngine> {
  const wasRunning = await isRunning();
  let stdout: string;
  try {
    ({ stdout } = await run('bash', [ENGINE_SCRIPT, 'start'], { maxBuffer: 16 * 1024 * 1024 }));
  } catch (error) {
    const stderr =
      typeof error === 'object' && error && 'stderr' in error ? String(error.stderr) : '';
    throw new Error(
      `could not start the private Docker engine (it needs root and the Debian packages docker.io busybox-static iptables docker-registry): ${stderr.trim().split('\n').slice(-5).join(' | ')}`,
    );
  }
  const match = /DOCKER_HOST=(\S+)/.exec(stdout);
  if (!match?.[1])
    throw new Error(`scripts/engine.sh start printed no DOCKER_HOST: ${stdout.trim()}`);
  return {
    dockerHost: match[1],
    startedHere: !wasRunning,
    async stop() {
      if (!wasRunning) await run('bash', [ENGINE_SCRIPT, 'stop']);
    },
  };
}
