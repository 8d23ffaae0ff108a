// globalSetup of the "integration" project: one private Docker engine for the whole run.
import type { TestProject } from 'vitest/node';
import { startEngine, stopEngine } from './engine.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `unix:///…/docker.sock` of the private engine (see scripts/engine.sh). */
    dockerHost: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Reuses an engine that is already running (e.g. `npm run engine start` during development);
  // throws with install instructions when none can be started.
  const { dockerHost, startedByUs } = await startEngine();
  project.provide('dockerHost', dockerHost);
  return async () => {
    if (startedByUs) {
      await stopEngine();
    }
  };
}
