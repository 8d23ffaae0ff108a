// globalSetup of the "fleet" project: three private engines at once, each in its own network
// namespace and state folder (scripts/engine.sh), for tests of several engines in one graph.
import { existsSync } from 'node:fs';
import { readFile, readlink, rm } from 'node:fs/promises';
import type { TestProject } from 'vitest/node';
import { startEngine, stopEngine } from './engine.ts';
import { type FleetEngine, type FleetEnginePlace, planFleet } from './fleet-engines.ts';
import { listProcesses } from './processes.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The fleet's engines, `fleet-a`, `fleet-b`, `fleet-c` in that order. */
    fleetEngines: FleetEngine[];
  }
}

interface Started extends FleetEngine {
  /** This setup started the engine (so it stops it); false when one was already running. */
  readonly startedHere: boolean;
  /** The state folder did not exist before (so the setup removes it after stopping). */
  readonly dirMadeHere: boolean;
}

async function startFleetEngineOnce(place: FleetEnginePlace): Promise<Started> {
  const dirMadeHere = !existsSync(place.dir);
  // `start` waits for /_ping and imports the base image, as for the integration engine.
  const { dockerHost, startedByUs } = await startEngine({ dir: place.dir, netns: place.netns });
  return { ...place, dockerHost, startedHere: startedByUs, dirMadeHere };
}

/** Mount points at or below `dir`, as this process's mount table lists them. */
async function mountsUnder(dir: string): Promise<string[]> {
  const table = await readFile('/proc/self/mountinfo', 'utf8');
  return table
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point === dir || point.startsWith(`${dir}/`));
}

async function netnsExists(netns: string): Promise<boolean> {
  try {
    await readlink(`/var/run/netns/${netns}`);
    return true;
  } catch (error) {
    // A netns file is a bind mount, not a link: EINVAL means it is there.
    return (error as NodeJS.ErrnoException).code === 'EINVAL';
  }
}

/** Stops an engine this setup started, checks nothing of it is left, and removes its folder. */
async function stopAndClear(engine: Started): Promise<string[]> {
  if (!engine.startedHere) return [];
  await stopEngine({ dir: engine.dir, netns: engine.netns });
  const left: string[] = [];
  if (await netnsExists(engine.netns)) left.push(`netns ${engine.netns}`);
  for (const point of await mountsUnder(engine.dir)) left.push(`mount ${point}`);
  // Processes whose command line names the folder (dockerd, containerd, shims, registries).
  for (const { pid, argv } of await listProcesses()) {
    const cmdline = argv.join(' ');
    if (cmdline.includes(`${engine.dir}/`)) left.push(`process ${pid} (${cmdline.slice(0, 120)})`);
  }
  // Never delete below a live mount (an overlay's lower layers are the image's files).
  if (left.length === 0 && engine.dirMadeHere) {
    await rm(engine.dir, { recursive: true, force: true });
  }
  return left.map((what) => `${engine.name}: ${what}`);
}

async function stopAll(engines: readonly Started[]): Promise<void> {
  const results = await Promise.allSettled(engines.map(stopAndClear));
  const problems = results.flatMap((result) =>
    result.status === 'fulfilled' ? result.value : [String(result.reason)],
  );
  if (problems.length > 0) {
    throw new Error(`the fleet's engines left things behind:\n${problems.join('\n')}`);
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const begun = performance.now();
  const results = await Promise.allSettled(planFleet().map(startFleetEngineOnce));
  const started = results.flatMap((result) =>
    result.status === 'fulfilled' ? [result.value] : [],
  );
  const failures = results.flatMap((result) =>
    result.status === 'rejected' ? [String(result.reason)] : [],
  );
  if (failures.length > 0) {
    await stopAll(started);
    throw new Error(`could not start the fleet's engines:\n${failures.join('\n')}`);
  }
  process.stderr.write(
    `fleet: ${started.length} engines ready in ${Math.round(performance.now() - begun)} ms (${started
      .map((engine) => `${engine.name}${engine.startedHere ? '' : ' reused'}`)
      .join(', ')})\n`,
  );
  project.provide(
    'fleetEngines',
    started.map(({ name, dockerHost, dir, netns }) => ({ name, dockerHost, dir, netns })),
  );
  return () => stopAll(started);
}
