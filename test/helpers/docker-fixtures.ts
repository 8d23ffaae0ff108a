// Objects on the private test engine, made through the Engine API itself and
// labelled so that each test file removes exactly what it made.
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import type { DockerClient, EngineCall } from '../../src/docker/client.ts';
import { createTar } from '../../src/docker/tar.ts';
import { createEngineClient } from './engine-client.ts';

export { createTar };

export const BASE_IMAGE = 'dockergraph/busybox:latest';

/** The label every fixture carries: `dockergraph.test=<run id>`. */
export const TEST_LABEL = 'dockergraph.test';

/** A raw Engine API client and helpers that create, wait for and clean up test objects. */
export class EngineFixtures {
  readonly run = randomUUID().slice(0, 8);
  readonly engine: DockerClient;

  constructor() {
    this.engine = createEngineClient(inject('dockerHost'));
  }

  /** A name unique to this run, e.g. `dg-web-1a2b3c4d`. */
  name(base: string): string {
    return `dg-${base}-${this.run}`;
  }

  /** Labels fixtures carry: the run label plus `extra`. */
  labels(extra: Record<string, string> = {}): Record<string, string> {
    return { [TEST_LABEL]: this.run, ...extra };
  }

  /** Makes an engine call whose answer is only its status, and reads that answer to its end. */
  async send(call: EngineCall, what: string): Promise<void> {
    const response = await this.engine.request(call, what);
    await response.body.dump();
  }

  /** Whether the engine has an object at `path` (e.g. `/containers/NAME/json`, `/volumes/NAME`). */
  async exists(path: string): Promise<boolean> {
    const response = await this.engine.request({ path, acceptStatus: [404] }, `inspect ${path}`);
    await response.body.dump();
    return response.status === 200;
  }

  /** `POST /containers/create` with the base image and the run label; returns the id. */
  async createContainer(name: string, config: Record<string, unknown> = {}): Promise<string> {
    const { Labels, ...rest } = config as { Labels?: Record<string, string> };
    const created = await this.engine.json<{ Id: string }>(
      {
        method: 'POST',
        path: '/containers/create',
        query: { name },
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          Image: BASE_IMAGE,
          Cmd: ['sleep', '3600'],
          ...rest,
          Labels: this.labels(Labels),
        }),
      },
      `create ${name}`,
    );
    return created.Id;
  }

  async startContainer(id: string): Promise<void> {
    await this.send(
      { method: 'POST', path: `/containers/${id}/start`, acceptStatus: [304] },
      `start ${id}`,
    );
  }

  /** Waits until the container's process exits; returns its exit code. */
  async waitContainer(id: string): Promise<number> {
    const answer = await this.engine.json<{ StatusCode: number }>(
      { method: 'POST', path: `/containers/${id}/wait`, timeoutMs: 120_000 },
      `wait ${id}`,
    );
    return answer.StatusCode;
  }

  /** Creates, starts and (for a process that ends) waits for a container. */
  async runContainer(
    name: string,
    config: Record<string, unknown> = {},
    wait = false,
  ): Promise<string> {
    const id = await this.createContainer(name, config);
    await this.startContainer(id);
    if (wait) await this.waitContainer(id);
    return id;
  }

  async createVolume(name: string, config: Record<string, unknown> = {}): Promise<void> {
    const { Labels, ...rest } = config as { Labels?: Record<string, string> };
    await this.engine.json(
      {
        method: 'POST',
        path: '/volumes/create',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ Name: name, ...rest, Labels: this.labels(Labels) }),
      },
      `create volume ${name}`,
    );
  }

  /** `POST /networks/create`; returns the id. */
  async createNetwork(name: string, config: Record<string, unknown> = {}): Promise<string> {
    const { Labels, ...rest } = config as { Labels?: Record<string, string> };
    const created = await this.engine.json<{ Id: string }>(
      {
        method: 'POST',
        path: '/networks/create',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          Name: name,
          CheckDuplicate: true,
          ...rest,
          Labels: this.labels(Labels),
        }),
      },
      `create network ${name}`,
    );
    return created.Id;
  }

  async connectNetwork(
    network: string,
    container: string,
    endpoint: Record<string, unknown> = {},
  ): Promise<void> {
    await this.send(
      {
        method: 'POST',
        path: `/networks/${network}/connect`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ Container: container, EndpointConfig: endpoint }),
      },
      `connect ${container} to ${network}`,
    );
  }

  /**
   * `POST /build` from an inline Dockerfile (FROM the base image works offline);
   * returns the image id. Build failures (reported inside a 200 answer) throw.
   */
  async buildImage(
    tag: string,
    dockerfile: string,
    labels: Record<string, string> = {},
  ): Promise<string> {
    const tar = createTar({ Dockerfile: dockerfile });
    const response = await this.engine.request(
      {
        method: 'POST',
        path: '/build',
        query: { t: tag, rm: true, forcerm: true, labels: JSON.stringify(this.labels(labels)) },
        headers: { 'content-type': 'application/x-tar' },
        body: tar,
        timeoutMs: 120_000,
      },
      `build ${tag}`,
    );
    const output = await response.body.text();
    const error = /"error":"([^"]*)"/.exec(output);
    if (error) throw new Error(`build of ${tag} failed: ${error[1]}`);
    const image = await this.engine.json<{ Id: string }>(
      { path: `/images/${tag}/json` },
      `inspect ${tag}`,
    );
    return image.Id;
  }

  /** Removes image `reference` (forced); one already gone (404) or still in use (409) is no failure. */
  async removeImage(reference: string): Promise<void> {
    await this.send(
      {
        method: 'DELETE',
        path: `/images/${reference}`,
        query: { force: true },
        acceptStatus: [404, 409],
      },
      `remove ${reference}`,
    );
  }

  /** Removes every container, volume, network and image this run labelled. */
  async cleanup(): Promise<void> {
    const filters = JSON.stringify({ label: [`${TEST_LABEL}=${this.run}`] });
    // Containers first: they hold on to the networks, volumes and images.
    await this.removeLabelled<{ Id: string }[]>(
      'container',
      { path: '/containers/json', query: { all: true, filters } },
      (containers) => containers.map((container) => container.Id),
      (id) => ({ path: `/containers/${id}`, query: { force: true, v: true } }),
    );
    await this.removeLabelled<{ Id: string }[]>(
      'network',
      { path: '/networks', query: { filters } },
      (networks) => networks.map((network) => network.Id),
      (id) => ({ path: `/networks/${id}` }),
    );
    await this.removeLabelled<{ Volumes: { Name: string }[] | null }>(
      'volume',
      { path: '/volumes', query: { filters } },
      (answer) => (answer.Volumes ?? []).map((volume) => volume.Name),
      (name) => ({ path: `/volumes/${name}`, query: { force: true } }),
    );
    await this.removeLabelled<{ Id: string }[]>(
      'image',
      { path: '/images/json', query: { filters } },
      (images) => images.map((image) => image.Id),
      (id) => ({ path: `/images/${id}`, query: { force: true }, acceptStatus: [404, 409] }),
    );
    await this.engine.close();
  }

  /** Lists objects of one kind and removes each; one already gone (404) is no failure. */
  private async removeLabelled<T>(
    what: string,
    list: EngineCall,
    ids: (answer: T) => string[],
    remove: (id: string) => Omit<EngineCall, 'method'>,
  ): Promise<void> {
    const answer = await this.engine.json<T>(list, `list test ${what}s`);
    for (const id of ids(answer)) {
      await this.send(
        { method: 'DELETE', acceptStatus: [404], ...remove(id) },
        `remove test ${what}`,
      );
    }
  }
}
