// Objects on the test swarm, made through the Engine API itself and labelled with the run, so
// that each test file removes exactly what it made (services first: they hold secrets and configs).
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import type { DockerClient } from '../../src/docker/client.ts';
import { listNodes } from '../../src/docker/swarm.ts';
import { listSwarmBlobs, removeSwarmBlob } from '../../src/docker/swarm-secrets.ts';
import {
  type EngineTask,
  listServices,
  listTasks,
  removeService,
} from '../../src/docker/swarm-services.ts';
import { createEngineClient } from './engine-client.ts';
import { waitFor } from './wait-for.ts';

export const BASE_IMAGE = 'dockergraph/busybox:latest';
/** The second tag scripts/swarm.sh gives the base image on every node, for rolling updates. */
export const UPDATE_IMAGE = 'dockergraph/busybox:v2';

/** The label every swarm fixture carries: `dockergraph.test=<run id>`. */
export const TEST_LABEL = 'dockergraph.test';

const clientOf = (dockerHost: string): DockerClient => createEngineClient(dockerHost);

/** Raw clients of the swarm's engines and cleanup of what a test file made. */
export class SwarmFixtures {
  readonly run = randomUUID().slice(0, 8);
  /** The manager's engine. */
  readonly manager: DockerClient;
  /** Every node's engine, the manager first. */
  readonly nodes: DockerClient[];

  constructor() {
    const hosts = inject('swarmNodes');
    this.nodes = hosts.map(clientOf);
    const [manager] = this.nodes;
    if (!manager) throw new Error('no swarm nodes provided');
    this.manager = manager;
  }

  /** A name unique to this run, e.g. `dg-web-1a2b3c4d`. */
  name(base: string): string {
    return `dg-${base}-${this.run}`;
  }

  /** The run label as a filter, `dockergraph.test=<run>`. */
  get filter(): string {
    return `${TEST_LABEL}=${this.run}`;
  }

  /** Labels fixtures carry: the run label plus `extra`. */
  labels(extra: Record<string, string> = {}): Record<string, string> {
    return { [TEST_LABEL]: this.run, ...extra };
  }

  /** Tasks of a service the swarm wants running. */
  async runningTasks(service: string): Promise<EngineTask[]> {
    const tasks = await listTasks(this.manager, {
      filters: { services: [service], desiredStates: ['running'] },
    });
    return tasks;
  }

  /** Waits until `count` tasks of the service run (and no more are wanted), answering them. */
  async convergedTasks(service: string, count: number, timeoutMs = 90_000): Promise<EngineTask[]> {
    return waitFor(
      async () => {
        const tasks = await this.runningTasks(service);
        const running = tasks.filter((task) => task.Status.State === 'running');
        return tasks.length === count && running.length === count ? running : false;
      },
      { timeoutMs, intervalMs: 250, what: `${count} running tasks of service ${service}` },
    );
  }

  /** Node ids by host name. */
  async nodeIds(): Promise<Map<string, string>> {
    const nodes = await listNodes(this.manager);
    return new Map(nodes.map((node) => [node.Description?.Hostname ?? node.ID, node.ID]));
  }

  /** Removes the services, secrets and configs of this run, and waits for their tasks to go. */
  async cleanup(): Promise<void> {
    const services = await listServices(this.manager, { filters: { labels: [this.filter] } });
    for (const service of services)
      await removeService(this.manager, service.ID).catch(() => undefined);
    await waitFor(
      async () => {
        const tasks = await listTasks(this.manager);
        return !tasks.some((task) => services.some((service) => service.ID === task.ServiceID));
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'the tasks of removed services to go' },
    );
    for (const kind of ['secret', 'config'] as const) {
      const blobs = await listSwarmBlobs(this.manager, kind, { labels: [this.filter] });
      for (const blob of blobs)
        await removeSwarmBlob(this.manager, kind, blob.ID).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.close()));
  }
}
