// The fleet harness itself: three private engines that are really three, apart, and restartable
// one at a time (the ground the tests of several engines in one graph stand on).
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DockerClient } from '../../src/docker/client.ts';
import { createContainer, inspectContainer } from '../../src/docker/containers.ts';
import { readEngineInfo, readEngineVersion } from '../../src/docker/system.ts';
import {
  FLEET_BASE_IMAGE,
  FLEET_ENGINE_NAMES,
  fleetEngineClient,
  fleetEngines,
  runDockerCli,
  startFleetEngine,
  stopFleetEngine,
  writeEnginesFile,
} from '../helpers/fleet.ts';

const run = randomUUID().slice(0, 8);
const made: { engine: string; id: string }[] = [];
const clients: DockerClient[] = [];

function client(name: string): DockerClient {
  const engine = fleetEngineClient(name);
  clients.push(engine);
  return engine;
}

async function createIdle(name: string, label: string): Promise<string> {
  const { Id } = await createContainer(
    client(name),
    {
      Image: FLEET_BASE_IMAGE,
      Cmd: ['sleep', '600'],
      HostConfig: {},
      Labels: { 'dockergraph.fleet-test': run },
    },
    `dg-fleet-${label}-${run}`,
  );
  made.push({ engine: name, id: Id });
  return Id;
}

afterAll(async () => {
  for (const { engine, id } of made) {
    const response = await client(engine).request(
      { method: 'DELETE', path: `/containers/${id}`, query: { force: true }, acceptStatus: [404] },
      `remove container ${id}`,
    );
    await response.body.dump();
  }
  await Promise.all(clients.map((each) => each.close()));
});

describe('the fleet of private engines', () => {
  it('runs three engines on three sockets, each with its own engine ID', async () => {
    const engines = fleetEngines();
    expect(engines.map((engine) => engine.name)).toEqual([...FLEET_ENGINE_NAMES]);
    expect(new Set(engines.map((engine) => engine.dockerHost)).size).toBe(3);
    expect(new Set(engines.map((engine) => engine.netns)).size).toBe(3);
    expect(engines.map((engine) => engine.netns)).not.toContain('dockergraph');

    const answers = await Promise.all(
      FLEET_ENGINE_NAMES.map(async (name) => {
        const engine = client(name);
        const ping = await engine.ping();
        const version = await readEngineVersion(engine);
        const info = await readEngineInfo(engine);
        return { ping, version, info };
      }),
    );
    for (const { ping, version } of answers) {
      expect(ping.apiVersion).toMatch(/^1\.\d+$/);
      expect(version.ApiVersion).toBe(ping.apiVersion);
    }
    const ids = answers.map(({ info }) => info.ID);
    expect(ids.every((id) => id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(3);
  });

  it('keeps a container made on one engine off the others, through the API and the CLI', async () => {
    const onA = await createIdle('fleet-a', 'api');
    const { stdout } = await runDockerCli('fleet-b', [
      'create',
      '--name',
      `dg-fleet-cli-${run}`,
      '--label',
      `dockergraph.fleet-test=${run}`,
      FLEET_BASE_IMAGE,
      'sleep',
      '600',
    ]);
    const onB = stdout.trim();
    made.push({ engine: 'fleet-b', id: onB });

    expect((await inspectContainer(client('fleet-a'), onA))?.Id).toBe(onA);
    expect(await inspectContainer(client('fleet-b'), onA)).toBeNull();
    expect(await inspectContainer(client('fleet-c'), onA)).toBeNull();

    expect((await inspectContainer(client('fleet-b'), onB))?.Name).toBe(`/dg-fleet-cli-${run}`);
    expect(await inspectContainer(client('fleet-a'), onB)).toBeNull();
    expect(await inspectContainer(client('fleet-c'), onB)).toBeNull();

    const listed = await runDockerCli('fleet-a', [
      'ps',
      '--all',
      '--filter',
      `label=dockergraph.fleet-test=${run}`,
      '--format',
      '{{.ID}}',
    ]);
    expect(listed.stdout.trim().split('\n')).toEqual([onA.slice(0, 12)]);
  });

  it('stops and starts one engine on the same socket while the others keep answering', async () => {
    const before = await readEngineInfo(client('fleet-c'));
    const kept = await createIdle('fleet-c', 'kept');
    const onA = await createIdle('fleet-a', 'beside');

    await stopFleetEngine('fleet-c');
    try {
      await expect(client('fleet-c').ping(2_000)).rejects.toThrow();
      await expect(client('fleet-a').ping()).resolves.toMatchObject({
        apiVersion: expect.any(String),
      });
      await expect(client('fleet-b').ping()).resolves.toMatchObject({
        apiVersion: expect.any(String),
      });
      expect((await inspectContainer(client('fleet-a'), onA))?.Id).toBe(onA);
    } finally {
      // The next files and the teardown need it back whatever the assertions above said.
      await startFleetEngine('fleet-c');
    }
    const after = client('fleet-c');
    await expect(after.ping()).resolves.toMatchObject({ apiVersion: expect.any(String) });
    expect((await readEngineInfo(after)).ID).toBe(before.ID);
    expect((await inspectContainer(after, kept))?.Id).toBe(kept);
    expect(await inspectContainer(client('fleet-b'), kept)).toBeNull();
  });

  it('writes engines files in JSON and YAML with the same keys', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dg-fleet-files-'));
    try {
      const engines = fleetEngines().map((engine, index) => ({
        name: engine.name,
        host: engine.dockerHost,
        labels: { env: index === 0 ? 'prod' : 'yes' },
      }));
      const jsonPath = await writeEnginesFile(dir, engines, 'json');
      expect(JSON.parse(await readFile(jsonPath, 'utf8'))).toEqual({ engines });

      const yamlPath = await writeEnginesFile(dir, engines.slice(0, 2), 'yaml');
      const [a, b] = fleetEngines();
      expect(await readFile(yamlPath, 'utf8')).toBe(
        [
          'engines:',
          `  - name: "fleet-a"`,
          `    host: "${a?.dockerHost}"`,
          '    labels:',
          '      "env": "prod"',
          `  - name: "fleet-b"`,
          `    host: "${b?.dockerHost}"`,
          '    labels:',
          '      "env": "yes"',
          '',
        ].join('\n'),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
