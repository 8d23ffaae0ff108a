// The accessors answer a list field from the list entry without asking the loaders (no
// inspect call), and read the same facts alike from an inspect answer. The engine-call counts
// of test/integration/batching.test.ts hold this against a real engine; this names the field.
import { describe, expect, it } from 'vitest';
import { readContainer } from '../../src/accessors/container.ts';
import { readImage } from '../../src/accessors/image.ts';
import type {
  EngineContainerInspect,
  EngineContainerSummary,
} from '../../src/docker/containers.ts';
import type { EngineImageSummary } from '../../src/docker/images.ts';
import type { Loaders } from '../../src/loaders.ts';

/** Loaders that fail the test when anything of them is touched. */
const untouchable = new Proxy(
  {},
  {
    get(_target, property) {
      throw new Error(`the accessor asked the loaders for ${String(property)}`);
    },
  },
) as Loaders;

const summary: EngineContainerSummary = {
  Id: 'a'.repeat(64),
  Names: ['/web', '/other/link'],
  Image: 'dockergraph/busybox:latest',
  ImageID: `sha256:${'b'.repeat(64)}`,
  Command: "sh -c 'sleep 1'",
  Created: 1_700_000_000,
  Ports: [{ PrivatePort: 80, PublicPort: 8080, Type: 'tcp', IP: '0.0.0.0' }],
  Labels: { team: 'web' },
  State: 'running',
  Status: 'Up 5 minutes',
  NetworkSettings: { Networks: { bridge: { IPAddress: '172.17.0.2' } } },
  Mounts: [{ Type: 'volume', Name: 'data', Destination: '/data' }],
};

describe('readContainer', () => {
  it('answers every list field from the list entry, without the loaders', async () => {
    const read = readContainer({ id: summary.Id, summary, inspect: null }, untouchable);
    expect({
      name: await read.name(),
      names: await read.names(),
      imageId: await read.imageId(),
      imageReference: await read.imageReference(),
      command: await read.command(),
      created: (await read.created()).toISOString(),
      state: await read.state(),
      running: await read.isRunning(),
      status: await read.status(),
      ports: await read.ports(),
      labels: await read.labels(),
      mounts: (await read.mounts()).map((mount) => mount.Name),
      endpoints: await read.endpoints(),
    }).toEqual({
      name: 'web',
      names: ['web', 'other/link'],
      imageId: summary.ImageID,
      imageReference: 'dockergraph/busybox:latest',
      command: "sh -c 'sleep 1'",
      created: '2023-11-14T22:13:20.000Z',
      state: 'running',
      running: true,
      status: 'Up 5 minutes',
      ports: [{ privatePort: 80, protocol: 'tcp', publicPort: 8080, hostIp: '0.0.0.0' }],
      labels: { team: 'web' },
      mounts: ['data'],
      endpoints: { endpoints: { bridge: { IPAddress: '172.17.0.2' } }, complete: false },
    });
  });

  it('reads the same facts from an inspect answer as the list writes them', async () => {
    const inspect = {
      Id: summary.Id,
      Name: '/web',
      Image: summary.ImageID,
      Path: 'sh',
      Args: ['-c', 'sleep 1'],
      Created: '2023-11-14T22:13:20.123456789Z',
      State: { Status: 'running' },
      Config: { Image: 'dockergraph/busybox:latest', Labels: { team: 'web' } },
      NetworkSettings: {
        Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] },
        Networks: { bridge: { IPAddress: '172.17.0.2', Aliases: ['web'] } },
      },
      Mounts: summary.Mounts,
    } as unknown as EngineContainerInspect;
    const read = readContainer({ id: summary.Id, summary: null, inspect }, untouchable);
    expect({
      name: await read.name(),
      command: await read.command(),
      created: (await read.created()).toISOString(),
      ports: await read.ports(),
      aliases: await read.aliases('bridge'),
    }).toEqual({
      name: 'web',
      command: "sh -c 'sleep 1'",
      created: '2023-11-14T22:13:20.000Z',
      ports: [{ privatePort: 80, protocol: 'tcp', publicPort: 8080, hostIp: '0.0.0.0' }],
      aliases: ['web'],
    });
  });
});

describe('readImage', () => {
  it('answers tags, digests, labels, dates and sizes from the list entry, without the loaders', async () => {
    const image: EngineImageSummary = {
      Id: `sha256:${'c'.repeat(64)}`,
      ParentId: '',
      RepoTags: ['app:1', '<none>:<none>'],
      RepoDigests: ['<none>@<none>'],
      Created: 1_700_000_000,
      Size: 4_000_000,
      SharedSize: -1,
      Labels: null,
      Containers: -1,
    };
    const read = readImage({ id: image.Id, summary: image, inspect: null }, untouchable);
    expect({
      tags: await read.tags(),
      digests: await read.digests(),
      labels: await read.labels(),
      created: read.created().toISOString(),
      size: read.size(),
      sharedSize: read.sharedSize(),
      parentId: read.parentId(),
    }).toEqual({
      tags: ['app:1'],
      digests: [],
      labels: null,
      created: '2023-11-14T22:13:20.000Z',
      size: 4_000_000,
      sharedSize: null,
      parentId: null,
    });
  });
});
