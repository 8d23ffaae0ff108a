// Helpers for tests of the "fleet" project: the three private engines of test/helpers/fleet-setup.ts.
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inject } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import type { DockerClient } from '../../src/docker/client.ts';
import { EngineRegistry } from '../../src/docker/engine-registry.ts';
import { createLogger } from '../../src/logger.ts';
import { type RunningServer, startServer } from '../../src/server.ts';
import { runDockerCliAt } from './docker-cli.ts';
import { startEngine, stopEngine } from './engine.ts';
import { createEngineClient } from './engine-client.ts';
import { FLEET_BASE_IMAGE, FLEET_ENGINE_NAMES, type FleetEngine } from './fleet-engines.ts';

export { FLEET_BASE_IMAGE, FLEET_ENGINE_NAMES, type FleetEngine } from './fleet-engines.ts';

const CLI_TIMEOUT_MS = 120_000;

/** The fleet's engines, as the global setup started them. */
export function fleetEngines(): FleetEngine[] {
  return inject('fleetEngines');
}

/** One engine of the fleet by name (`fleet-a`, `fleet-b`, `fleet-c`). */
export function fleetEngine(name: string): FleetEngine {
  const engine = fleetEngines().find((candidate) => candidate.name === name);
  if (!engine) {
    throw new Error(
      `no fleet engine "${name}"; the fleet has ${fleetEngines()
        .map((candidate) => candidate.name)
        .join(', ')}`,
    );
  }
  return engine;
}

/** A raw Engine API client of one engine (close it when done). */
export function fleetEngineClient(name: string): DockerClient {
  return createEngineClient(fleetEngine(name).dockerHost);
}

/**
 * Stops one engine (its containers are killed, its netns removed); its data stays, so
 * {@link startFleetEngine} brings back the same engine ID, images and containers.
 */
export async function stopFleetEngine(name: string): Promise<void> {
  const { dir, netns } = fleetEngine(name);
  await stopEngine({ dir, netns });
}

/**
 * Starts a stopped engine again on the same socket path and returns once it answers `/_ping`
 * (scripts/engine.sh waits for it) and has the base image.
 */
export async function startFleetEngine(name: string): Promise<void> {
  const { dir, netns, dockerHost } = fleetEngine(name);
  const started = await startEngine({ dir, netns });
  if (started.dockerHost !== dockerHost) {
    throw new Error(`${name} came back on ${started.dockerHost}, not ${dockerHost}`);
  }
}

/**
 * Stops engine `name`, as if it went down, runs `whileDown`, then starts it again whatever
 * `whileDown` did: the next tests and files need all three engines.
 */
export async function whileFleetEngineDown(
  name: string,
  whileDown: () => Promise<void>,
): Promise<void> {
  await stopFleetEngine(name);
  try {
    await whileDown();
  } finally {
    await startFleetEngine(name);
  }
}

/** One engine in an engines file. */
export interface EnginesFileEntry {
  readonly name: string;
  /** `unix://…` or `tcp://…`. */
  readonly host: string;
  readonly labels?: Readonly<Record<string, string>>;
}

// JSON strings are valid YAML double-quoted scalars, so every value is written as JSON: names,
// hosts and labels keep their exact text (no YAML type guessing of "yes", "1.0" or "null").
// Written by hand because the project has no YAML library and the shape is fixed.
function toYaml(engines: readonly EnginesFileEntry[]): string {
  const lines = ['engines:'];
  for (const engine of engines) {
    lines.push(`  - name: ${JSON.stringify(engine.name)}`);
    lines.push(`    host: ${JSON.stringify(engine.host)}`);
    if (engine.labels) {
      const labels = Object.entries(engine.labels);
      if (labels.length === 0) lines.push('    labels: {}');
      else {
        lines.push('    labels:');
        for (const [key, value] of labels) {
          lines.push(`      ${JSON.stringify(key)}: ${JSON.stringify(value)}`);
        }
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Writes `{"engines": [{"name", "host", "labels"}]}` as `engines.json` or `engines.yaml` (the
 * same keys) in `dir`, making `dir` if needed, and returns the file's path.
 */
export async function writeEnginesFile(
  dir: string,
  engines: readonly EnginesFileEntry[],
  format: 'json' | 'yaml',
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `engines.${format}`);
  const text = format === 'json' ? `${JSON.stringify({ engines }, null, 2)}\n` : toYaml(engines);
  await writeFile(path, text);
  return path;
}

/**
 * Runs the docker CLI against one engine, e.g. to change objects behind the server's back;
 * resolves with its output, rejects with its stderr when it exits non-zero. The CLI reads no
 * user configuration or context (a config folder of the engine's own).
 */
export function runDockerCli(
  name: string,
  args: readonly string[],
): Promise<{ stdout: string; stderr: string }> {
  const { dockerHost, dir } = fleetEngine(name);
  return runDockerCliAt(dockerHost, join(dir, 'cli-config'), args, {
    what: name,
    timeoutMs: CLI_TIMEOUT_MS,
  });
}

/** Runs `sleep 600` from the base image on one engine as `name`, labelled; answers its id. */
async function runIdleContainer(engine: string, name: string, label: string): Promise<string> {
  const { stdout } = await runDockerCli(engine, [
    'run',
    '-d',
    '--name',
    name,
    '--label',
    label,
    FLEET_BASE_IMAGE,
    'sleep',
    '600',
  ]);
  return stdout.trim();
}

/** One run of a fleet test file: its id and the label that marks its containers. */
export interface FleetTestRun {
  readonly run: string;
  /** `dockergraph.fleet-<file>=<run>`, by which the file finds and removes its containers. */
  readonly label: string;
  /** Runs `sleep 600` from the base image on `engine` as `name`, with the label; answers its id. */
  runIdleContainer(engine: string, name: string): Promise<string>;
}

/** A fresh run of test file `file`. */
export function fleetTestRun(file: string): FleetTestRun {
  const run = randomUUID().slice(0, 8);
  const label = `dockergraph.fleet-${file}=${run}`;
  return { run, label, runIdleContainer: (engine, name) => runIdleContainer(engine, name, label) };
}

/**
 * Starts a server on a free loopback port over the three fleet engines, configured by `env`
 * (tokens …), each engine with its `labels`; `onClient` sees each engine's client (to
 * observe its calls).
 */
export function startFleetServer(
  env: Readonly<Record<string, string>>,
  labels: Readonly<Record<string, Readonly<Record<string, string>>>> = {},
  onClient: (name: string, client: DockerClient) => void = () => {},
): Promise<RunningServer> {
  const config = loadConfig({
    HOME: '/nonexistent',
    HOST: '127.0.0.1',
    PORT: '0',
    DOCKERGRAPH_AUDIT: 'off',
    ...env,
  });
  const engines = new EngineRegistry(
    FLEET_ENGINE_NAMES.map((name) => {
      const client = fleetEngineClient(name);
      onClient(name, client);
      return { name, labels: labels[name] ?? {}, client };
    }),
    () => {},
  );
  return startServer(config, engines, createLogger('silent'));
}
