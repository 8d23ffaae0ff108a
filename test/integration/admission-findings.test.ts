// Attacks on the host or on secrets by tokens without the "dangerous" or "secrets" permission,
// each tried against the real engine: reading environments through `top`, joining the network
// of a host-network container (directly or through a chain), mounting an admin's volume over the
// host root by name, volumes of other filesystem types, symbolic links planted through a bind,
// committing a container's configuration into an image, reading health check output, pointing
// the engine at another registry or another endpoint, and secrets written as literals reaching
// the audit log. Each is refused with the engine unchanged; what is allowed still works.
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/gql.ts';
import type { CreateContainerInput } from '../generated/graphql.ts';
import { randomToken, tokensEnv } from '../helpers/access.ts';
import { CreateVolumeWithOptions, expectBaselineRefusal } from '../helpers/admission-operations.ts';
import {
  createTestApp,
  expectArgumentError,
  type GraphQLResponse,
  withoutEngineCalls,
} from '../helpers/app.ts';
import { auditRecordsIn } from '../helpers/audit-lines.ts';
import { BASE_IMAGE, EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { expectType } from '../helpers/mutations.ts';
import { waitFor } from '../helpers/wait-for.ts';

const CreateContainerAttack = graphql(`
  mutation AttackCreateContainer($input: CreateContainerInput!, $start: Boolean) {
    createContainer(input: $input, start: $start) {
      __typename
      ... on ContainerPayload { container { dockerId name hostConfig { networkMode } } }
      ... on MutationError { message }
    }
  }
`);

const TopQuery = graphql(`
  query AttackTop($id: String!, $psArgs: String) {
    container(idOrName: $id) {
      top(psArgs: $psArgs) { titles processes { pid command values } }
    }
  }
`);

const CommitAttack = graphql(`
  mutation AttackCommit($container: String!, $repository: String) {
    commitContainer(container: $container, repository: $repository) {
      __typename
      ... on ImagePayload { image { dockerId } }
      ... on MutationError { message }
    }
  }
`);

const HealthOutputQuery = graphql(`
  query AttackHealthOutput($id: String!) {
    container(idOrName: $id) {
      health { status log { exitCode output } }
    }
  }
`);

const ContainerExitQuery = graphql(`
  query AttackContainerExit($id: String!) {
    container(idOrName: $id) { state exitCode }
  }
`);

const SearchQuery = graphql(`
  query AttackSearch($term: String!) {
    searchImages(term: $term) { name }
  }
`);

const ImageQuery = graphql(`
  query AttackImage($reference: String!) {
    image(reference: $reference) { dockerId }
  }
`);

type Answer = GraphQLResponse<unknown>;

/** A custom role with writes but neither `dangerous` nor `secrets`: the baseline level. */
const BUILDER = ['read', 'logs', 'lifecycle', 'write'] as const;

describe('attacks by tokens without the dangerous permission', () => {
  const fixtures = new EngineFixtures();
  const runLabel = { name: TEST_LABEL, value: fixtures.run };
  const secret = randomBytes(12).toString('hex');
  const tokens = {
    builder: randomToken(),
    builderA: randomToken(),
    viewer: randomToken(),
    operator: randomToken(),
    admin: randomToken(),
  };
  // Host folders the engine binds (it runs on this machine, so the host path is local).
  const readOnlyFolder = mkdtempSync(join(tmpdir(), 'dg-attack-ro-'));
  const writableFolder = mkdtempSync(join(tmpdir(), 'dg-attack-rw-'));
  const auditFolder = mkdtempSync(join(tmpdir(), 'dg-attack-audit-'));
  const auditPath = join(auditFolder, 'audit.log');
  const env = {
    ...tokensEnv(
      [
        { id: 'builder', role: 'builder', token: tokens.builder },
        { id: 'builder-a', role: 'builder', token: tokens.builderA, labels: { team: 'a' } },
        { id: 'viewer', role: 'viewer', token: tokens.viewer },
        { id: 'operator', role: 'operator', token: tokens.operator },
        { id: 'admin', role: 'admin', token: tokens.admin },
      ],
      { builder: BUILDER },
    ),
    DOCKERGRAPH_BIND_ALLOWLIST: `${readOnlyFolder},${writableFolder}:rw`,
  };
  const builder = createTestApp(
    { ...env, DOCKERGRAPH_AUDIT: auditPath },
    { token: tokens.builder },
  );
  const builderA = createTestApp(env, { token: tokens.builderA });
  const viewer = createTestApp(env, { token: tokens.viewer });
  const operator = createTestApp(env, { token: tokens.operator });
  const admin = createTestApp(env, { token: tokens.admin });

  // Made by an administrator (the fixtures), as the attacks would find them.
  const names = {
    secretHolder: fixtures.name('secret-holder'),
    hostNet: fixtures.name('hostnet'),
    chained: fixtures.name('chained'),
    plain: fixtures.name('plain'),
    rootVolume: fixtures.name('root-volume'),
    healthy: fixtures.name('healthy'),
  };

  beforeAll(async () => {
    await fixtures.runContainer(names.secretHolder, {
      Env: [`SECRET_TOKEN=${secret}`],
      // The secret on the command line as well: `ps -ef` would print it.
      Cmd: ['sh', '-c', 'sleep 3600; echo "$0"', secret],
    });
    await fixtures.createContainer(names.hostNet, {
      HostConfig: { NetworkMode: 'host' },
      Labels: { team: 'a' },
    });
    await fixtures.createContainer(names.chained, {
      HostConfig: { NetworkMode: `container:${names.hostNet}` },
      Labels: { team: 'a' },
    });
    await fixtures.runContainer(names.plain, { Labels: { team: 'a' } });
    await fixtures.createVolume(names.rootVolume, {
      Driver: 'local',
      DriverOpts: { type: 'none', o: 'bind', device: '/' },
    });
    await fixtures.runContainer(names.healthy, {
      Healthcheck: {
        Test: ['CMD-SHELL', `echo health-output-${fixtures.run}`],
        Interval: 500_000_000,
        Timeout: 5_000_000_000,
        Retries: 3,
      },
    });
  });

  afterAll(async () => {
    await fixtures.cleanup();
    await Promise.all([builder, builderA, viewer, operator, admin].map((app) => app.close()));
    for (const folder of [readOnlyFolder, writableFolder, auditFolder]) {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  describe('top', () => {
    it('shows the environment to a token with secrets given "e": what viewers must not do', async () => {
      const answer = await admin.query(TopQuery, { id: names.secretHolder, psArgs: '-ef e' });
      expect(JSON.stringify(answer)).toContain(secret);
    });

    it('refuses psArgs to a viewer, naming the secrets permission, before ps runs', async () => {
      let answer: Answer = {};
      const calls = await viewer.callsDuring(async () => {
        answer = await viewer.execute(TopQuery, { id: names.secretHolder, psArgs: '-ef e' });
      });
      // Finding the container is a read; `docker top` is never asked.
      expect(calls.filter((call) => call.endsWith('/top'))).toEqual([]);
      expect(answer.errors).toHaveLength(1);
      expect(answer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(answer.errors?.[0]?.message).toBe(
        'token "viewer" (role "viewer") may not give Container.top psArgs: ps arguments can show environments and command lines, which needs the "secrets" permission',
      );
      expect(JSON.stringify(answer)).not.toContain(secret);
    });

    it('answers a viewer fixed columns without the environment or the command line', async () => {
      const answer = await viewer.execute(TopQuery, { id: names.secretHolder });
      expect(answer.errors).toBeUndefined();
      const top = answer.data?.container?.top;
      expect(top?.processes.length).toBeGreaterThan(0);
      expect(top?.processes.map((process) => process.command)).toContain('sleep');
      expect(JSON.stringify(answer)).not.toContain(secret);
    });
  });

  describe('container:<x> network mode', () => {
    const joining = (target: string, name: string): CreateContainerInput => ({
      image: BASE_IMAGE,
      name: fixtures.name(name),
      labels: [runLabel],
      networkMode: `container:${target}`,
    });

    it('refuses joining a host-network container', async () => {
      const input = joining(names.hostNet, 'join-hostnet');
      const error = await expectBaselineRefusal(builder, () =>
        builder.execute(CreateContainerAttack, { input }),
      );
      expect(error?.extensions?.admissionFindings).toEqual([
        {
          control: 'shared-namespaces',
          message: `HostConfig.NetworkMode "container:${names.hostNet}" takes from container "${names.hostNet}", which this level would refuse (HostConfig.NetworkMode "host")`,
        },
      ]);
      expect(error?.message).toMatch(
        /^token "builder" \(role "builder"\) may not create this container: the "baseline" admission level refuses /,
      );
      expect(await fixtures.exists(`/containers/${input.name ?? ''}/json`)).toBe(false);
    });

    it('refuses it to a label-limited token through a container of its own label', async () => {
      const input = joining(names.hostNet, 'join-hostnet-a');
      const error = await expectBaselineRefusal(builderA, () =>
        builderA.execute(CreateContainerAttack, { input }),
      );
      expect(error?.extensions?.admissionFindings).toEqual([
        expect.objectContaining({ control: 'shared-namespaces' }),
      ]);
      expect(await fixtures.exists(`/containers/${input.name ?? ''}/json`)).toBe(false);
    });

    it('refuses a chain: a container that itself joined the host-network one', async () => {
      for (const app of [builder, builderA]) {
        const input = joining(names.chained, 'join-chained');
        const error = await expectBaselineRefusal(app, () =>
          app.execute(CreateContainerAttack, { input }),
        );
        const [found] = (error?.extensions?.admissionFindings ?? []) as {
          control: string;
          message: string;
        }[];
        expect(found?.control).toBe('shared-namespaces');
        expect(found?.message).toContain(`takes from container "${names.chained}"`);
        expect(found?.message).toContain('HostConfig.NetworkMode "host"');
        expect(await fixtures.exists(`/containers/${input.name ?? ''}/json`)).toBe(false);
      }
    });

    it('allows joining an ordinary container', async () => {
      const { createContainer } = await builder.query(CreateContainerAttack, {
        input: joining(names.plain, 'join-plain'),
      });
      const { container } = expectType(createContainer, 'ContainerPayload');
      expect(container?.hostConfig?.networkMode).toMatch(/^container:/);
    });
  });

  it("refuses mounting by name an admin's volume bound over the host root", async () => {
    const input: CreateContainerInput = {
      image: BASE_IMAGE,
      name: fixtures.name('root-volume-user'),
      labels: [runLabel],
      mounts: [{ type: 'VOLUME', source: names.rootVolume, target: '/host' }],
    };
    const error = await expectBaselineRefusal(builder, () =>
      builder.execute(CreateContainerAttack, { input }),
    );
    expect(error?.extensions?.admissionFindings).toEqual([
      {
        control: 'host-paths',
        message: `HostConfig.Mounts[0] (volume "${names.rootVolume}") device host path "/" is outside the bind allow-list`,
      },
    ]);
    expect(await fixtures.exists(`/containers/${input.name ?? ''}/json`)).toBe(false);
  });

  describe('volumes of other filesystems', () => {
    const volume = (name: string, options: Record<string, string>) => ({
      input: {
        name: fixtures.name(name),
        labels: [runLabel],
        driverOptions: Object.entries(options).map(([key, value]) => ({ name: key, value })),
      },
    });

    it('refuses an overlay of host folders', async () => {
      const variables = volume('overlay', {
        type: 'overlay',
        device: 'overlay',
        o: 'ro,lowerdir=/etc:/root',
      });
      const error = await expectBaselineRefusal(builder, () =>
        builder.execute(CreateVolumeWithOptions, variables),
      );
      expect(error?.extensions?.admissionFindings).toEqual([
        expect.objectContaining({ control: 'volume-drivers' }),
      ]);
      expect(await fixtures.exists(`/volumes/${variables.input.name}`)).toBe(false);
    });

    it('refuses a block device given by a relative path', async () => {
      const variables = volume('ext4', { type: 'ext4', device: '../../../dev/vda' });
      const error = await expectBaselineRefusal(builder, () =>
        builder.execute(CreateVolumeWithOptions, variables),
      );
      expect(error?.extensions?.admissionFindings).toEqual([
        expect.objectContaining({ control: 'volume-drivers' }),
      ]);
      expect(await fixtures.exists(`/volumes/${variables.input.name}`)).toBe(false);
    });

    it('allows a tmpfs volume with a size', async () => {
      const variables = volume('tmpfs', { type: 'tmpfs', device: 'tmpfs', o: 'size=16m' });
      const { createVolume } = await builder.query(CreateVolumeWithOptions, variables);
      expect(expectType(createVolume, 'VolumePayload').volume.name).toBe(variables.input.name);
    });
  });

  describe('symbolic links through an allow-listed bind', () => {
    it('refuses binding a read-only entry writable', async () => {
      const input: CreateContainerInput = {
        image: BASE_IMAGE,
        name: fixtures.name('plant-writable'),
        labels: [runLabel],
        cmd: ['ln', '-s', '/', '/data/planted'],
        mounts: [{ type: 'BIND', source: readOnlyFolder, target: '/data' }],
      };
      const error = await expectBaselineRefusal(builder, () =>
        builder.execute(CreateContainerAttack, { input, start: true }),
      );
      expect(error?.extensions?.admissionFindings).toEqual([
        {
          control: 'host-paths',
          message: `HostConfig.Mounts[0] host path "${readOnlyFolder}" is allow-listed read-only: mount it read-only`,
        },
      ]);
      expect(await fixtures.exists(`/containers/${input.name ?? ''}/json`)).toBe(false);
      expect(existsSync(join(readOnlyFolder, 'planted'))).toBe(false);
    });

    it('allows it read-only, where planting a link fails and the host folder stays clean', async () => {
      const { createContainer } = await builder.query(CreateContainerAttack, {
        start: true,
        input: {
          image: BASE_IMAGE,
          name: fixtures.name('plant-readonly'),
          labels: [runLabel],
          cmd: ['ln', '-s', '/', '/data/planted'],
          mounts: [{ type: 'BIND', source: readOnlyFolder, target: '/data', readOnly: true }],
        },
      });
      const id = expectType(createContainer, 'ContainerPayload').container?.dockerId ?? '';
      const exited = await waitFor(
        async () => {
          const { container } = await builder.query(ContainerExitQuery, { id });
          return container?.state === 'EXITED' ? container : undefined;
        },
        { timeoutMs: 30_000, what: 'the planting container to exit' },
      );
      expect(exited.exitCode).not.toBe(0);
      expect(() => lstatSync(join(readOnlyFolder, 'planted'))).toThrow(/ENOENT/);
    });

    it('allows a ":rw" entry writable: whoever binds it is host-equivalent, as documented', async () => {
      const { createContainer } = await builder.query(CreateContainerAttack, {
        input: {
          image: BASE_IMAGE,
          name: fixtures.name('rw-entry'),
          labels: [runLabel],
          mounts: [{ type: 'BIND', source: writableFolder, target: '/data' }],
        },
      });
      expectType(createContainer, 'ContainerPayload');
    });
  });

  it('refuses commitContainer without secrets, and makes no image', async () => {
    const repository = `dg-attack-commit-${fixtures.run}`;
    const { data, errors } = await withoutEngineCalls(builder, () =>
      builder.execute(CommitAttack, { container: names.secretHolder, repository }),
    );
    expect(data ?? null).toBeNull();
    expect(errors).toHaveLength(1);
    expect(errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(errors?.[0]?.message).toBe(
      'token "builder" (role "builder") may not use Mutation.commitContainer: it needs the "secrets" permission',
    );
    const image = await fixtures.engine.request(
      { path: `/images/${repository}/json`, acceptStatus: [404] },
      'inspect the commit',
    );
    await image.body.dump();
    expect(image.status).toBe(404);
  });

  describe('health check output', () => {
    /** Waits until the healthcheck has run and its output is readable by the operator. */
    async function healthOutputs(): Promise<string[]> {
      return waitFor(
        async () => {
          const { container } = await operator.query(HealthOutputQuery, { id: names.healthy });
          const outputs = (container?.health?.log ?? []).map((result) => result.output ?? '');
          return outputs.length > 0 ? outputs : undefined;
        },
        { timeoutMs: 30_000, what: 'the healthcheck to have run' },
      );
    }

    it('gives the operator (logs) what the check printed', async () => {
      const outputs = await healthOutputs();
      expect(outputs[0]).toContain(`health-output-${fixtures.run}`);
    });

    it('gives a viewer no output: the field is refused, naming the logs permission', async () => {
      await healthOutputs();
      const answer = await viewer.execute(HealthOutputQuery, { id: names.healthy });
      expect(JSON.stringify(answer)).not.toContain(`health-output-${fixtures.run}`);
      const log = answer.data?.container?.health?.log ?? [];
      expect(log.length).toBeGreaterThan(0);
      expect(log.every((result) => result.output === null)).toBe(true);
      expect(answer.errors?.length).toBeGreaterThan(0);
      for (const error of answer.errors ?? []) {
        expect(error.extensions?.code).toBe('FORBIDDEN');
        expect(error.message).toContain('"logs"');
        expect(error.path?.at(-1)).toBe('output');
      }
    });
  });

  describe('pointing the engine elsewhere', () => {
    it('refuses a search term naming a registry host, without an engine call', async () => {
      const answer = await withoutEngineCalls(viewer, () =>
        viewer.execute(SearchQuery, { term: '127.0.0.1:5000/x' }),
      );
      expectArgumentError(answer, 'term');
      expect(answer.data ?? null).toBeNull();
    });

    it('refuses an image reference with ".." segments, without an engine call', async () => {
      const id = await fixtures.engine
        .json<{ Id: string }>({ path: `/containers/${names.plain}/json` }, 'inspect plain')
        .then((container) => container.Id);
      const answer = await withoutEngineCalls(viewer, () =>
        viewer.execute(ImageQuery, { reference: `../containers/${id}` }),
      );
      expectArgumentError(answer, 'reference');
      expect(answer.errors?.[0]?.message).toContain('".." path segments');
      // The container is not answered as an image: no image, no engine call that could find it.
      expect(answer.data?.image ?? null).toBeNull();
    });
  });

  it('keeps a secret written as a non-string literal out of the audit line', async () => {
    const literal = '98765432123';
    const answer = await builder.post({
      query: `mutation AuditLiteral { createContainer(input: {image: "x", env: [{name: "TOKEN", value: ${literal}}]}) { __typename } }`,
    });
    expect(answer.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    // What the client is told quotes the literal: it sent it.
    expect(answer.body.errors?.[0]?.message).toContain(literal);
    const record = await waitFor(
      () =>
        existsSync(auditPath)
          ? auditRecordsIn(readFileSync(auditPath, 'utf8')).find(
              (line) => line.operationName === 'AuditLiteral',
            )
          : undefined,
      { timeoutMs: 10_000, what: 'the audit line of AuditLiteral' },
    );
    expect(record.errors?.length).toBeGreaterThan(0);
    expect(JSON.stringify(record)).not.toContain(literal);
  });
});
