// Dangerous inputs (privileged, host binds outside the allow-list, host namespaces, added
// capabilities, local volumes over host paths) need the "dangerous" permission even where the
// mutation needs only "write": a custom role with write but not dangerous is refused, before
// any engine call, with every dangerous input named; admin may do all of it.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/security/principal.ts';
import { graphql } from '../generated/gql.ts';
import type { CreateContainerInput } from '../generated/graphql.ts';
import { makeRoleTokens, randomToken } from '../helpers/access.ts';
import {
  createTestApp,
  type GraphQLResponse,
  type TestApp,
  withoutEngineCalls,
} from '../helpers/app.ts';
import { BASE_IMAGE, EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { expectType } from '../helpers/mutations.ts';

const CreateContainerAsRole = graphql(`
  mutation CreateContainerAsRole($input: CreateContainerInput!) {
    createContainer(input: $input) {
      __typename
      ... on ContainerPayload {
        container {
          name
          mounts { type source destination }
          hostConfig { privileged capAdd networkMode }
        }
      }
      ... on MutationError { message }
    }
  }
`);

const CreateVolumeAsRole = graphql(`
  mutation CreateVolumeAsRole($input: CreateVolumeInput!) {
    createVolume(input: $input) {
      __typename
      ... on VolumePayload { volume { name options { name value } } }
      ... on MutationError { message }
    }
  }
`);

describe('dangerous inputs', () => {
  const fixtures = new EngineFixtures();
  const runLabel = { name: TEST_LABEL, value: fixtures.run };
  // A host folder the engine can bind (it runs on this machine), allow-listed for these apps.
  const allowed = mkdtempSync(join(tmpdir(), 'dg-bind-allowed-'));
  mkdirSync(join(allowed, 'data'));
  const { tokens, env } = makeRoleTokens();
  const settings = { ...env, DOCKERGRAPH_BIND_ALLOWLIST: allowed };
  const deployer = createTestApp(settings, { token: tokens.deployer });
  const admin = createTestApp(settings, { token: tokens.admin });
  // The same custom role where nothing is allow-listed (the default).
  const deployerWithoutAllowList = createTestApp(env, { token: tokens.deployer });

  afterAll(async () => {
    await fixtures.cleanup();
    await Promise.all([deployer.close(), admin.close(), deployerWithoutAllowList.close()]);
    rmSync(allowed, { recursive: true, force: true });
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
      { type: 'BIND', source: `${allowed}/../..`, target: '/escape' },
    ],
  });

  /** Sends a mutation, expecting a refusal with no engine call; returns the error. */
  async function expectRefused(
    app: TestApp,
    send: (app: TestApp) => Promise<GraphQLResponse<unknown>>,
  ) {
    const { data, errors } = await withoutEngineCalls(app, () => send(app));
    expect(data).toBeNull();
    expect(errors).toHaveLength(1);
    expect(errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    return errors?.[0];
  }

  it('refuses a container with every dangerous input to a role with write, naming each', async () => {
    const error = await expectRefused(deployer, (app) =>
      app.execute(CreateContainerAsRole, { input: everythingDangerous('all-refused') }),
    );
    const dangerous = [
      'input.privileged',
      'input.mounts[0].source "/etc" is outside the bind allow-list',
      `input.mounts[1].source "${allowed}/../.." is outside the bind allow-list`,
      'input.networkMode "host"',
      'input.capAdd ["NET_ADMIN"]',
    ];
    expect(error?.message).toBe(
      `token "deployer" (role "deployer") may not use Mutation.createContainer with these inputs: ${dangerous.join('; ')}. They need the "dangerous" permission (role "admin")`,
    );
    expect(error?.extensions?.dangerousInputs).toEqual(dangerous);
  });

  it('answers HTTP 403 to the refusal', async () => {
    const answer = await deployer.post({
      query:
        'mutation ($input: CreateContainerInput!) { createContainer(input: $input) { __typename } }',
      variables: { input: { image: BASE_IMAGE, privileged: true } },
    });
    expect(answer.status).toBe(403);
  });

  it('refuses each dangerous input on its own', async () => {
    const alone: [string, Partial<CreateContainerInput>][] = [
      ['input.privileged', { privileged: true }],
      ['input.capAdd ["SYS_ADMIN"]', { capAdd: ['SYS_ADMIN'] }],
      ['input.networkMode "host"', { networkMode: 'host' }],
      ['input.network.name "host"', { network: { name: 'host' } }],
      [
        'input.mounts[0].source "/" is outside the bind allow-list',
        { mounts: [{ type: 'BIND', source: '/', target: '/host' }] },
      ],
    ];
    for (const [finding, input] of alone) {
      const error = await expectRefused(deployer, (app) =>
        app.execute(CreateContainerAsRole, { input: { image: BASE_IMAGE, ...input } }),
      );
      expect(error?.message).toContain(`with these inputs: ${finding}. They need`);
    }
  });

  it('lets the same role bind an allow-listed folder, and drop capabilities', async () => {
    const { createContainer } = await deployer.query(CreateContainerAsRole, {
      input: {
        image: BASE_IMAGE,
        name: fixtures.name('allowed-bind'),
        labels: [runLabel],
        capDrop: ['ALL'],
        mounts: [{ type: 'BIND', source: join(allowed, 'data'), target: '/data' }],
      },
    });
    const { container } = expectType(createContainer, 'ContainerPayload');
    expect(container?.mounts).toEqual([
      expect.objectContaining({
        type: 'BIND',
        source: join(allowed, 'data'),
        destination: '/data',
      }),
    ]);
    expect(container?.hostConfig?.privileged).toBe(false);
  });

  it('refuses every host bind when no folder is allow-listed', async () => {
    const error = await expectRefused(deployerWithoutAllowList, (app) =>
      app.execute(CreateContainerAsRole, {
        input: { image: BASE_IMAGE, mounts: [{ type: 'BIND', source: allowed, target: '/data' }] },
      }),
    );
    expect(error?.message).toContain(
      `input.mounts[0].source "${allowed}" is outside the bind allow-list`,
    );
  });

  it('refuses a local volume over a host path outside the allow-list, accepts one inside', async () => {
    const name = fixtures.name('bind-volume');
    const bindTo = (device: string) => ({
      name,
      labels: [runLabel],
      driverOptions: [
        { name: 'type', value: 'none' },
        { name: 'o', value: 'bind' },
        { name: 'device', value: device },
      ],
    });
    const error = await expectRefused(deployer, (app) =>
      app.execute(CreateVolumeAsRole, { input: bindTo('/etc') }),
    );
    expect(error?.message).toBe(
      'token "deployer" (role "deployer") may not use Mutation.createVolume with these inputs: input.driverOptions mount host path "/etc", outside the bind allow-list. They need the "dangerous" permission (role "admin")',
    );
    const { createVolume } = await deployer.query(CreateVolumeAsRole, { input: bindTo(allowed) });
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
    const { createVolume } = await admin.query(CreateVolumeAsRole, {
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

describe('the restricted level', () => {
  const fixtures = new EngineFixtures();
  const runLabel = { name: TEST_LABEL, value: fixtures.run };
  const token = randomToken();
  const confined = createTestApp(
    {
      DOCKERGRAPH_TOKENS: JSON.stringify({
        roles: {
          confined: {
            permissions: ['read', 'logs', 'lifecycle', 'write'],
            admission: 'restricted',
          },
        },
        tokens: [{ id: 'confined', role: 'confined', sha256: hashToken(token) }],
      }),
    },
    { token },
  );

  afterAll(async () => {
    await fixtures.cleanup();
    await confined.close();
  });

  const run = (input: Record<string, unknown>) =>
    confined.post<GraphQLResponse<Record<string, unknown>>>({
      query: `mutation ($input: CreateContainerInput!) { createContainer(input: $input, start: true) {
        __typename ... on ContainerPayload { container { dockerId } } ... on MutationError { message } } }`,
      variables: { input },
    });

  it('creates and runs a container as a numeric uid, without capabilities or new privileges', async () => {
    const answer = await run({
      image: BASE_IMAGE,
      labels: [runLabel],
      user: '1000',
      capDrop: ['ALL'],
      noNewPrivileges: true,
      cmd: ['sh', '-c', 'id -u; grep -E "^(NoNewPrivs|CapEff)" /proc/self/status'],
    });
    expect(answer.body.errors).toBeUndefined();
    const payload = answer.body.data?.createContainer as
      | { container?: { dockerId: string } }
      | undefined;
    const id = payload?.container?.dockerId;
    expect(id).toBeDefined();
    await fixtures.waitContainer(id as string);
    const logs = await confined.post<GraphQLResponse<Record<string, unknown>>>({
      query: `query ($id: String!) { container(idOrName: $id) { logs(timestamps: false) { lines { message } } } }`,
      variables: { id },
    });
    const container = logs.body.data?.container as { logs: { lines: { message: string }[] } };
    const output = container.logs.lines.map((line) => line.message).join('\n');
    expect(output).toMatch(/^1000\s+CapEff:\s+0{16}\s+NoNewPrivs:\s+1\s*$/);
  });

  it('refuses the same container without noNewPrivileges, or as a user name', async () => {
    const base = { image: BASE_IMAGE, labels: [runLabel], capDrop: ['ALL'], cmd: ['true'] };
    const without = await run({ ...base, user: '1000' });
    expect(without.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(without.body.errors?.[0]?.message).toContain('must hold "no-new-privileges"');
    const named = await run({ ...base, user: 'nobody', noNewPrivileges: true });
    expect(named.body.errors?.[0]?.message).toContain('User "nobody" is not a numeric uid');
  });
});
