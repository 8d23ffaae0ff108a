// Objects on the private test engine, made through the Engine API itself and
// labelled so that each test file removes exactly what it made.
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { DockerClient } from '../../src/docker/client.ts';
import { resolveDockerEndpoint } from '../../src/docker/docker-host.ts';

export const BASE_IMAGE = 'dockergraph/busybox:latest';

/** The label every fixture carries: `dockergraph.test=<run id>`. */
export const TEST_LABEL = 'dockergraph.test';

/** A raw Engine API client and helpers that create, wait for and clean up test objects. */
export class EngineFixtures {
  readonly run = randomUUID().slice(0, 8);
  readonly engine: DockerClient;

  constructor() {
    this.engine = DockerClient.create(
      resolveDockerEndpoint({
        dockerHost: inject('dockerHost'),
        tlsVerify: false,
        configDir: '/nonexistent',
      }),
      {
        connectTimeoutMs: 5_000,
        requestTimeoutMs: 120_000,
      },
    );
  }

  /** A name unique to this run, e.g. `dg-web-1a2b3c4d`. */
  name(base: string): string {
    return `dg-${base}-${this.run}`;
  }

  /** Labels fixtures carry: the run label plus `extra`. */
  labels(extra: Record<string, string> = {}): Record<string, string> {
    return { [TEST_LABEL]: this.run, ...extra };
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
    const response = await this.engine.request(
      { method: 'POST', path: `/containers/${id}/start`, acceptStatus: [304] },
      `start ${id}`,
    );
    await response.body.dump();
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
    const response = await this.engine.request(
      {
        method: 'POST',
        path: `/networks/${network}/connect`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ Container: container, EndpointConfig: endpoint }),
      },
      `connect ${container} to ${network}`,
    );
    await response.body.dump();
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

  /** Removes every container, volume, network and image this run labelled. */
  async cleanup(): Promise<void> {
    const filters = JSON.stringify({ label: [`${TEST_LABEL}=${this.run}`] });
    const containers = await this.engine.json<{ Id: string }[]>(
      { path: '/containers/json', query: { all: true, filters } },
      'list test containers',
    );
    for (const container of containers) {
      const response = await this.engine.request(
        {
          method: 'DELETE',
          path: `/containers/${container.Id}`,
          query: { force: true, v: true },
          acceptStatus: [404],
        },
        'remove test container',
      );
      await response.body.dump();
    }
    const networks = await this.engine.json<{ Id: string }[]>(
      { path: '/networks', query: { filters } },
      'list test networks',
    );
    for (const network of networks) {
      const response = await this.engine.request(
        { method: 'DELETE', path: `/networks/${network.Id}`, acceptStatus: [404] },
        'remove test network',
      );
      await response.body.dump();
    }
    const volumes = await this.engine.json<{ Volumes: { Name: string }[] | null }>(
      { path: '/volumes', query: { filters } },
      'list test volumes',
    );
    for (const volume of volumes.Volumes ?? []) {
      const response = await this.engine.request(
        {
          method: 'DELETE',
          path: `/volumes/${volume.Name}`,
          query: { force: true },
          acceptStatus: [404],
        },
        'remove test volume',
      );
      await response.body.dump();
    }
    const images = await this.engine.json<{ Id: string }[]>(
      { path: '/images/json', query: { filters } },
      'list test images',
    );
    for (const image of images) {
      const response = await this.engine.request(
        {
          method: 'DELETE',
          path: `/images/${image.Id}`,
          query: { force: true },
          acceptStatus: [404, 409],
        },
        'remove test image',
      );
      await response.body.dump();
    }
    await this.engine.close();
  }
}

/** A ustar archive of small text files, enough for a build context. */
export function createTar(files: Record<string, string>): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.from(content, 'utf8');
    const header = Buffer.alloc(512);
    header.write(name, 0, 100, 'utf8');
    header.write('0000644\0', 100, 8, 'ascii');
    header.write('0000000\0', 108, 8, 'ascii');
    header.write('0000000\0', 116, 8, 'ascii');
    header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 12, 'ascii');
    header.write(
      `${Math.floor(Date.now() / 1000)
        .toString(8)
        .padStart(11, '0')}\0`,
      136,
      12,
      'ascii',
    );
    header.write('        ', 148, 8, 'ascii');
    header.write('0', 156, 1, 'ascii');
    header.write('ustar\0', 257, 6, 'ascii');
    header.write('00', 263, 2, 'ascii');
    let checksum = 0;
    for (const byte of header) checksum += byte;
    header.write(`${checksum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
