import type { ResultOf } from '@graphql-typed-document-node/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/gql.ts';
import { useAppWithFixtures } from '../helpers/app-with-fixtures.ts';

const EngineQuery = graphql(`
  query EngineFacts {
    engine {
      name
      ping { apiVersion negotiatedApiVersion osType experimental kind podmanApiVersion builderVersion }
      version {
        version apiVersion minApiVersion negotiatedApiVersion gitCommit goVersion os arch kernelVersion
        components { name version details { name value } }
      }
      info {
        id name serverVersion images driver dockerRootDir cpus memoryBytes operatingSystem osType
        architecture kernelVersion cgroupVersion loggingDriver defaultRuntime warnings
        containers { total running paused stopped }
        swarm { localNodeState nodeId controlAvailable }
      }
    }
  }
`);

const DiskUsageQuery = graphql(`
  query EngineDiskUsage {
    engine {
      diskUsage {
        layersSizeBytes
        images { count active sizeBytes reclaimableBytes }
        containers { count active sizeBytes reclaimableBytes }
        volumes { count active sizeBytes reclaimableBytes }
        buildCache { count active sizeBytes reclaimableBytes }
      }
    }
  }
`);

describe('engine', () => {
  const { app, fixtures } = useAppWithFixtures();

  beforeAll(async () => {
    await fixtures.runContainer(fixtures.name('df-running'));
    await fixtures.createVolume(fixtures.name('df-unused'));
  });

  it('reports versions, the negotiated API version, ping and system facts', async () => {
    const { engine } = await app.query(EngineQuery);
    expect(engine.name).toBe('local');
    expect(engine.ping).toMatchObject({
      apiVersion: '1.41',
      negotiatedApiVersion: '1.41',
      osType: 'linux',
      kind: 'DOCKER',
      podmanApiVersion: null,
    });
    expect(engine.version).toMatchObject({
      apiVersion: '1.41',
      negotiatedApiVersion: '1.41',
      os: 'linux',
      minApiVersion: '1.12',
    });
    expect(engine.version.version).toMatch(/^20\.10\./);
    expect(engine.version.components.map((c) => c.name)).toContain('containerd');
    expect(engine.info.containers.running).toBeGreaterThanOrEqual(1);
    expect(engine.info.containers.total).toBe(
      engine.info.containers.running +
        engine.info.containers.paused +
        engine.info.containers.stopped,
    );
    expect(engine.info.cpus).toBeGreaterThan(0);
    expect(engine.info.memoryBytes).toBeGreaterThan(1024 * 1024 * 1024);
    expect(engine.info.swarm.localNodeState).toBe('INACTIVE');
    expect(engine.info.serverVersion).toBe(engine.version.version);
  });

  it('computes disk usage only when asked, in one engine call', async () => {
    const calls = await app.callsDuring(() => app.query(EngineQuery));
    expect(calls).not.toContain('GET /system/df');
    let usage: ResultOf<typeof DiskUsageQuery> | undefined;
    const dfCalls = await app.callsDuring(async () => {
      usage = await app.query(DiskUsageQuery);
    });
    expect(dfCalls).toEqual(['GET /system/df']);
    const diskUsage = usage?.engine.diskUsage;
    if (!diskUsage) throw new Error('no disk usage');
    expect(diskUsage.images.count).toBeGreaterThanOrEqual(1);
    expect(diskUsage.images.sizeBytes).toBeGreaterThan(0);
    expect(diskUsage.containers.active).toBeGreaterThanOrEqual(1);
    expect(diskUsage.volumes.count - diskUsage.volumes.active).toBeGreaterThanOrEqual(1);
  });
});
