// The admission policy on container and volume creation: a role with write but not dangerous
// is held to the "baseline" level, whose refusals name the caller, the level and every finding
// (FORBIDDEN, HTTP 403, `admissionLevel`, `admissionFindings`), and leave the engine unchanged:
// the review may read (lookups), never write. Host binds must sit inside the allow-list, and are
// read-only unless the entry is marked ":rw"; admin (the privileged level) may do all of it.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/gql.ts';
import type { CreateContainerInput, CreateVolumeInput } from '../generated/graphql.ts';
import { makeRoleTokens } from '../helpers/access.ts';
import { CreateVolumeWithOptions, expectBaselineRefusal } from '../helpers/admission-operations.ts';
import { createTestApp, withoutEngineWrites } from '../helpers/app.ts';
import { BASE_IMAGE, EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { expectType } from '../helpers/mutations.ts';

const CreateContainerAsRole = graphql(`
  mutation CreateContainerAsRole($input: CreateContainerInput!) {
    createContainer(input: $input) {
      __typename
      ... on ContainerPayload {
        container {
          name
          mounts { type source destination readWrite }
          hostConfig { privileged capAdd networkMode }
        }
      }
      ... on MutationError { message }
    }
  }
`);

/** What the refusal of a baseline token says, as the client reads it. */
function refusal(action: string, findings: readonly string[]): string {
  return `token "deployer" (role "deployer") may not ${action}: the "baseline" admission level refuses ${findings.join('; ')}. Only the "privileged" level (the "dangerous" permission) allows it`;
}

describe('admission of container and volume creation', () => {
  const fixtures = new EngineFixtures();
  const runLabel = { name: TEST_LABEL, value: fixtures.run };
  // Host folders the engine can bind (it runs on this machine): one allow-listed read-only,
  // one allow-listed writable (":rw"), and one left out.
  const readOnlyFolder = mkdtempSync(join(tmpdir(), 'dg-bind-ro-'));
  const writableFolder = mkdtempSync(join(tmpdir(), 'dg-bind-rw-'));
  mkdirSync(join(readOnlyFolder, 'data'));
  const { tokens, env } = makeRoleTokens();
  const settings = {
    ...env,
    DOCKERGRAPH_BIND_ALLOWLIST: `${readOnlyFolder},${writableFolder}:rw`,
  };
  const deployer = createTestApp(settings, { token: tokens.deployer });
  const admin = createTestApp(settings, { token: tokens.admin });
  // The same custom role where nothing is allow-listed (the default).
  const deployerWithoutAllowList = createTestApp(env, { token: tokens.deployer });

  afterAll(async () => {
    await fixtures.cleanup();
    await Promise.all([deployer.close(), admin.close(), deployerWithoutAllowList.close()]);
    rmSync(readOnlyFolder, { recursive: true, force: true });
    rmSync(writableFolder, { recursive: true, force: true });
  });

  const everythingDangerous = (name: string): CreateContainerInput => ({
    image: BASE_IMAGE,
    name: fixtures.name(name),
    labels: [runLabel],
    privileged: true,
    capAdd: ['NET_ADMIN'],
    networkMode: 'host',
    mounts: [
      { type: 'BIND', source: '/etc', target: '/host-etc', readOnly: true },
      { type: 'BIND', source: `${readOnlyFolder}/../..`, target: '/escape', readOnly: true },
    ],
  });

  it('refuses a container with every dangerous input to a role with write, naming each', async () => {
    const input = everythingDangerous('all-refused');
    const error = await expectBaselineRefusal(deployer, () =>
      deployer.execute(CreateContainerAsRole, { input }),
    );
    const findings = [
      { control: 'privileged', message: 'HostConfig.Privileged' },
      { control: 'host-namespaces', message: 'HostConfig.NetworkMode "host"' },
      { control: 'capabilities', message: 'HostConfig.CapAdd ["NET_ADMIN"] adds capabilities' },
      {
        control: 'host-paths',
        message: 'HostConfig.Mounts[0] host path "/etc" is outside the bind allow-list',
      },
      {
        control: 'host-paths',
        message: `HostConfig.Mounts[1] host path "${readOnlyFolder}/../.." is not absolute and normalised`,
      },
    ];
    expect(error?.message).toBe(
      refusal(
        'create this container',
        findings.map((finding) => finding.message),
      ),
    );
    expect(error?.extensions?.admissionFindings).toEqual(findings);
    expect(await fixtures.exists(`/containers/${input.name ?? ''}/json`)).toBe(false);
  });

  it('answers HTTP 403 to the refusal', async () => {
    const answer = await withoutEngineWrites(deployer, () =>
      deployer.post({
        query:
          'mutation ($input: CreateContainerInput!) { createContainer(input: $input) { __typename } }',
        variables: { input: { image: BASE_IMAGE, privileged: true } },
      }),
    );
    expect(answer.status).toBe(403);
    expect(answer.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('refuses each dangerous input on its own', async () => {
    const alone: [string, string, Partial<CreateContainerInput>][] = [
      ['privileged', 'HostConfig.Privileged', { privileged: true }],
      [
        'capabilities',
        'HostConfig.CapAdd ["SYS_ADMIN"] adds capabilities',
        { capAdd: ['SYS_ADMIN'] },
      ],
      ['host-namespaces', 'HostConfig.NetworkMode "host"', { networkMode: 'host' }],
      ['host-namespaces', 'HostConfig.NetworkMode "host"', { network: { name: 'host' } }],
      [
        'host-paths',
        'HostConfig.Mounts[0] host path "/" is outside the bind allow-list',
        { mounts: [{ type: 'BIND', source: '/', target: '/host', readOnly: true }] },
      ],
    ];
    for (const [control, message, input] of alone) {
      const error = await expectBaselineRefusal(deployer, () =>
        deployer.execute(CreateContainerAsRole, { input: { image: BASE_IMAGE, ...input } }),
      );
      expect(error?.message).toBe(refusal('create this container', [message]));
      expect(error?.extensions?.admissionFindings).toEqual([{ control, message }]);
    }
  });

  it('lets the same role bind a plain allow-list entry read-only, but not writable', async () => {
    const source = join(readOnlyFolder, 'data');
    const error = await expectBaselineRefusal(deployer, () =>
      deployer.execute(CreateContainerAsRole, {
        input: {
          image: BASE_IMAGE,
          name: fixtures.name('writable-bind'),
          labels: [runLabel],
          mounts: [{ type: 'BIND', source, target: '/data' }],
        },
      }),
    );
    expect(error?.extensions?.admissionFindings).toEqual([
      {
        control: 'host-paths',
        message: `HostConfig.Mounts[0] host path "${source}" is allow-listed read-only: mount it read-only`,
      },
    ]);
    expect(await fixtures.exists(`/containers/${fixtures.name('writable-bind')}/json`)).toBe(false);

    const { createContainer } = await deployer.query(CreateContainerAsRole, {
      input: {
        image: BASE_IMAGE,
        name: fixtures.name('allowed-bind'),
        labels: [runLabel],
        capDrop: ['ALL'],
        mounts: [{ type: 'BIND', source, target: '/data', readOnly: true }],
      },
    });
    const { container } = expectType(createContainer, 'ContainerPayload');
    expect(container?.mounts).toEqual([
      expect.objectContaining({ type: 'BIND', source, destination: '/data', readWrite: false }),
    ]);
    expect(container?.hostConfig?.privileged).toBe(false);
  });

  it('lets the same role bind a ":rw" allow-list entry writable', async () => {
    const { createContainer } = await deployer.query(CreateContainerAsRole, {
      input: {
        image: BASE_IMAGE,
        name: fixtures.name('rw-bind'),
        labels: [runLabel],
        mounts: [{ type: 'BIND', source: writableFolder, target: '/scratch' }],
      },
    });
    const { container } = expectType(createContainer, 'ContainerPayload');
    expect(container?.mounts).toEqual([
      expect.objectContaining({ type: 'BIND', source: writableFolder, readWrite: true }),
    ]);
  });

  it('refuses every host bind when no folder is allow-listed', async () => {
    const error = await expectBaselineRefusal(deployerWithoutAllowList, () =>
      deployerWithoutAllowList.execute(CreateContainerAsRole, {
        input: {
          image: BASE_IMAGE,
          mounts: [{ type: 'BIND', source: readOnlyFolder, target: '/data', readOnly: true }],
        },
      }),
    );
    expect(error?.extensions?.admissionFindings).toEqual([
      {
        control: 'host-paths',
        message: `HostConfig.Mounts[0] host path "${readOnlyFolder}" is outside the bind allow-list`,
      },
    ]);
  });

  it('refuses a local volume over a host path unless a writable entry holds it', async () => {
    const name = fixtures.name('bind-volume');
    const bindTo = (device: string): CreateVolumeInput => ({
      name,
      labels: [runLabel],
      driverOptions: [
        { name: 'type', value: 'none' },
        { name: 'o', value: 'bind' },
        { name: 'device', value: device },
      ],
    });
    const outside = await expectBaselineRefusal(deployer, () =>
      deployer.execute(CreateVolumeWithOptions, { input: bindTo('/etc') }),
    );
    expect(outside?.message).toBe(
      refusal('create this volume', [
        'DriverOpts device host path "/etc" is outside the bind allow-list',
      ]),
    );
    expect(outside?.extensions?.admissionFindings).toEqual([
      {
        control: 'host-paths',
        message: 'DriverOpts device host path "/etc" is outside the bind allow-list',
      },
    ]);
    // A volume is mounted read-write: a read-only entry does not hold one.
    const readOnly = await expectBaselineRefusal(deployer, () =>
      deployer.execute(CreateVolumeWithOptions, { input: bindTo(readOnlyFolder) }),
    );
    expect(readOnly?.extensions?.admissionFindings).toEqual([
      {
        control: 'host-paths',
        message: `DriverOpts device host path "${readOnlyFolder}" is allow-listed read-only: mount it read-only`,
      },
    ]);
    const volumes = await fixtures.engine.json<{ Volumes: { Name: string }[] | null }>(
      { path: '/volumes', query: { filters: JSON.stringify({ name: [name] }) } },
      'list volumes',
    );
    expect(volumes.Volumes ?? []).toEqual([]);

    const { createVolume } = await deployer.query(CreateVolumeWithOptions, {
      input: bindTo(writableFolder),
    });
    expect(expectType(createVolume, 'VolumePayload').volume.name).toBe(name);
  });

  it('lets admin use every dangerous input', async () => {
    const { createContainer } = await admin.query(CreateContainerAsRole, {
      input: everythingDangerous('all-admin'),
    });
    const { container } = expectType(createContainer, 'ContainerPayload');
    expect(container?.hostConfig).toEqual({
      privileged: true,
      capAdd: ['NET_ADMIN'],
      networkMode: 'host',
    });
    expect(container?.mounts.map((mount) => mount.source).sort()).toEqual(['/', '/etc']);
    const { createVolume } = await admin.query(CreateVolumeWithOptions, {
      input: {
        name: fixtures.name('admin-bind-volume'),
        labels: [runLabel],
        driverOptions: [
          { name: 'type', value: 'none' },
          { name: 'o', value: 'bind' },
          { name: 'device', value: '/etc' },
        ],
      },
    });
    expectType(createVolume, 'VolumePayload');
  });
});
