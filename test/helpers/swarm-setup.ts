// globalSetup of the "swarm" project: a real swarm of three private engines for the whole run
// (scripts/swarm.sh), reused when one is already running, stopped at the end if started here.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `unix:///…/docker.sock` of every node, the manager first. */
    swarmNodes: string[];
  }
}

const SWARM_SCRIPT = fileURLToPath(new URL('../../scripts/swarm.sh', import.meta.url));

// A cold start imports the base image into three engines on a shared machine.
const START_TIMEOUT_MS = 10 * 60_000;

function runSwarmScript(
  command: string,
  timeoutMs: number,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      [SWARM_SCRIPT, command],
      { encoding: 'utf8', timeout: timeoutMs },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const running = (await runSwarmScript('status', 60_000)).code === 0;
  const started = await runSwarmScript('start', START_TIMEOUT_MS);
  if (started.code !== 0) {
    throw new Error(`scripts/swarm.sh start failed (run as root on Linux):\n${started.stderr}`);
  }
  const nodes = /^export DOCKERGRAPH_SWARM_NODES=(\S+)$/m.exec(started.stdout)?.[1]?.split(',');
  if (!nodes || nodes.length < 3)
    throw new Error(`scripts/swarm.sh printed no nodes:\n${started.stdout}`);
  project.provide('swarmNodes', nodes);
  // createTestApp talks to `dockerHost`: the manager.
  project.provide('dockerHost', nodes[0] ?? '');
  return async () => {
    if (!running) await runSwarmScript('stop', 5 * 60_000);
  };
}
