// Container writes against the private engine: create (and run), start, stop, restart, kill,
// pause, unpause, wait, rename, update, remove and prune, and the typed errors they end in.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRegistryAuth, type RegistryCredentials } from '../../src/docker/registry-auth.ts';
import { graphql } from '../generated/gql.ts';
import type { CreateContainerInput, RegistryAuthInput } from '../generated/graphql.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { BASE_IMAGE, EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import {
  type AuthRegistry,
  deleteRegistryManifest,
  execInEngineNetns,
  startAuthRegistry,
  startRegistry,
} from '../helpers/engine.ts';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.ts';
import { must } from '../helpers/must.ts';
import { expectType } from '../helpers/mutations.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Spread into the operations below; codegen adds their definitions to each of them.
graphql(`
  fragment ContainerLifecycleError on MutationError {
    message
    ... on InvalidInputError { field }
  }
`);

graphql(`
  fragment ContainerLifecyclePayload on ContainerPayload {
    changed
    container { ...ContainerLifecycleFields }
  }
`);

graphql(`
  fragment ContainerLifecycleStateChange on ContainerPayload {
    changed
    container { state }
  }
`);

graphql(`
  fragment ContainerLifecycleFields on Container {
    id
    dockerId
    name
    state
    exitCode
    labels { name value }
  }
`);

const CreateContainer = graphql(`
  mutation ContainerLifecycleCreate(
    $input: CreateContainerInput!
    $start: Boolean
    $pull: PullPolicy
    $auth: RegistryAuthInput
  ) {
    createContainer(input: $input, start: $start, pull: $pull, auth: $auth) {
      __typename
      ... on ContainerPayload { changed warnings container { ...ContainerLifecycleFields } }
      ...ContainerLifecycleError
      ... on EngineFailureError { code engineStatus }
      ... on RegistryAuthError { registry }
    }
  }
`);

const CreateRichContainer = graphql(`
  mutation ContainerLifecycleCreateRich($input: CreateContainerInput!) {
    createContainer(input: $input, start: true) {
      __typename
      ... on MutationError { message }
      ... on ContainerPayload {
        changed
        container {
          name
          state
          labels { name value }
          config {
            cmd
            ...ContainerConfigProcess
            stopSignal
            stopTimeout
            healthcheck {
              test
              intervalNanoseconds
              timeoutNanoseconds
              startPeriodNanoseconds
              retries
            }
          }
          hostConfig {
            restartPolicy { name maximumRetryCount }
            memoryBytes
            memoryReservationBytes
            memorySwapBytes
            cpus
            cpuShares
            pidsLimit
            privileged
            readonlyRootfs
            publishAllPorts
            autoRemove
            init
            networkMode
            portBindings { containerPort protocol hostIp hostPort }
            capAdd
            capDrop
            dns
            extraHosts
          }
          ports { privatePort protocol publicPort hostIp }
          mounts { type name source destination readWrite }
          networks { networkName ipAddress aliases }
        }
      }
    }
  }
`);

const StartContainer = graphql(`
  mutation ContainerLifecycleStart($id: String!) {
    startContainer(id: $id) {
      __typename
      ... on ContainerPayload { changed container { ...ContainerLifecycleFields } }
      ...ContainerLifecycleError
      ... on EngineFailureError { code engineStatus }
    }
  }
`);

const StopContainer = graphql(`
  mutation ContainerLifecycleStop($id: String!, $timeoutSeconds: Int) {
    stopContainer(id: $id, timeoutSeconds: $timeoutSeconds) {
      __typename ...ContainerLifecyclePayload ...ContainerLifecycleError
    }
  }
`);

const RestartContainer = graphql(`
  mutation ContainerLifecycleRestart($id: String!, $timeoutSeconds: Int) {
    restartContainer(id: $id, timeoutSeconds: $timeoutSeconds) {
      __typename
      ... on ContainerPayload { changed container { ...ContainerLifecycleFields startedAt } }
      ... on MutationError { message }
    }
  }
`);

const KillContainer = graphql(`
  mutation ContainerLifecycleKill($id: String!, $signal: String) {
    killContainer(id: $id, signal: $signal) {
      __typename ...ContainerLifecyclePayload ...ContainerLifecycleError
    }
  }
`);

const PauseContainer = graphql(`
  mutation ContainerLifecyclePause($id: String!) {
    pauseContainer(id: $id) {
      __typename ...ContainerLifecycleStateChange ... on MutationError { message }
    }
  }
`);

const UnpauseContainer = graphql(`
  mutation ContainerLifecycleUnpause($id: String!) {
    unpauseContainer(id: $id) {
      __typename ...ContainerLifecycleStateChange ... on MutationError { message }
    }
  }
`);

const WaitContainer = graphql(`
  mutation ContainerLifecycleWait($id: String!, $condition: ContainerWaitCondition) {
    waitContainer(id: $id, condition: $condition) {
      __typename
      ... on ContainerExit { exitCode error container { ...ContainerLifecycleFields } }
      ... on MutationError { message }
    }
  }
`);

const RenameContainer = graphql(`
  mutation ContainerLifecycleRename($id: String!, $newName: String!) {
    renameContainer(id: $id, newName: $newName) {
      __typename ...ContainerLifecyclePayload ...ContainerLifecycleError
    }
  }
`);

const UpdateContainer = graphql(`
  mutation ContainerLifecycleUpdate($id: String!, $input: UpdateContainerInput!) {
    updateContainer(id: $id, input: $input) {
      __typename
      ... on ContainerPayload {
        changed
        warnings
        container {
          hostConfig {
            memoryBytes
            memorySwapBytes
            cpus
            pidsLimit
            restartPolicy { name maximumRetryCount }
          }
        }
      }
      ...ContainerLifecycleError
    }
  }
`);

const RemoveContainer = graphql(`
  mutation ContainerLifecycleRemove($id: String!, $force: Boolean, $removeVolumes: Boolean) {
    removeContainer(id: $id, force: $force, removeVolumes: $removeVolumes) {
      __typename
      ... on RemoveContainerPayload { id dockerId name }
      ...ContainerLifecycleError
    }
  }
`);

const PruneContainers = graphql(`
  mutation ContainerLifecyclePrune($filter: PruneContainersFilter) {
    pruneContainers(filter: $filter) {
      __typename
      ... on PruneContainersPayload { containersDeleted spaceReclaimedBytes }
      ...ContainerLifecycleError
    }
  }
`);

const ContainerLookup = graphql(`
  query ContainerLifecycleLookup($idOrName: String!) {
    container(idOrName: $idOrName) {
      ...ContainerLifecycleFields
      health { status }
      mounts { type name destination }
      logs(timestamps: false) { lines { message } }
    }
  }
`);

const VolumeLookup = graphql(`
  query ContainerLifecycleVolumeLookup($name: String!) {
    volume(name: $name) { name }
  }
`);

const MiB = 1024 * 1024;

/** The rich container's resources, which its host config reads back as they were given. */
const richResources = {
  memoryBytes: 64 * MiB,
  memoryReservationBytes: 32 * MiB,
  memorySwapBytes: 128 * MiB,
  cpus: 0.5,
  cpuShares: 512,
  pidsLimit: 100,
};

describe('container lifecycle mutations', () => {
  const app = createTestApp();
  const fixtures = new EngineFixtures();
  const runLabel = { name: TEST_LABEL, value: fixtures.run };
  let hostFolder = '';

  beforeAll(async () => {
    hostFolder = await mkdtemp(join(tmpdir(), 'dg-lifecycle-'));
    await writeFile(join(hostFolder, 'index.html'), `hello from ${fixtures.run}\n`);
  });

  afterAll(async () => {
    await fixtures.cleanup();
    await app.close();
    await rm(hostFolder, { recursive: true, force: true });
  });

  /** Creates a container labelled for cleanup, through the mutation under test. */
  async function create(
    input: Omit<CreateContainerInput, 'image'> & { image?: string },
    options: {
      start?: boolean;
      pull?: 'NEVER' | 'IF_MISSING' | 'ALWAYS';
      auth?: RegistryAuthInput;
      via?: TestApp;
    } = {},
  ) {
    const { createContainer } = await (options.via ?? app).query(CreateContainer, {
      input: {
        image: BASE_IMAGE,
        cmd: ['sleep', '3600'],
        ...input,
        labels: [runLabel, ...(input.labels ?? [])],
      },
      start: options.start ?? false,
      ...(options.pull ? { pull: options.pull } : {}),
      ...(options.auth ? { auth: options.auth } : {}),
    });
    return createContainer;
  }

  /** Creates (and maybe starts) a container that must be created. */
  async function created(
    input: Omit<CreateContainerInput, 'image'> & { image?: string },
    start = false,
  ) {
    const { container } = expectType(await create(input, { start }), 'ContainerPayload');
    return must(container, 'the created container');
  }

  async function lookup(idOrName: string) {
    return (await app.query(ContainerLookup, { idOrName })).container;
  }

  /** Waits until the container wrote `line` to its output. */
  async function waitForOutput(idOrName: string, line: string) {
    await waitFor(
      async () => (await lookup(idOrName))?.logs.lines.some((logLine) => logLine.message === line),
      { timeoutMs: 10_000, what: `container ${idOrName} to print "${line}"` },
    );
  }

  it('creates and runs a container from a rich input, and reads every setting back', async () => {
    const networkName = fixtures.name('net');
    const subnet = `10.${100 + Math.floor(Math.random() * 150)}.${Math.floor(Math.random() * 250)}`;
    await fixtures.createNetwork(networkName, {
      IPAM: { Config: [{ Subnet: `${subnet}.0/24`, Gateway: `${subnet}.1` }] },
    });
    const volumeName = fixtures.name('data');
    const name = fixtures.name('web');

    const { createContainer } = await app.query(CreateRichContainer, {
      input: {
        image: BASE_IMAGE,
        name,
        cmd: ['httpd', '-f', '-p', '80', '-h', '/www'],
        env: [
          { name: 'GREETING', value: 'hello world' },
          { name: 'EMPTY', value: '' },
        ],
        labels: [runLabel, { name: 'purpose', value: 'lifecycle' }],
        workingDir: '/www',
        user: 'root',
        hostname: 'web',
        domainname: 'example.test',
        openStdin: true,
        exposedPorts: [{ port: 8080 }, { port: 9090, protocol: 'UDP' }],
        portBindings: [
          { containerPort: 80, hostIp: '127.0.0.1' },
          { containerPort: 53, protocol: 'UDP' },
        ],
        mounts: [
          { type: 'BIND', source: hostFolder, target: '/www', readOnly: true },
          { type: 'VOLUME', source: volumeName, target: '/data', volumeLabels: [runLabel] },
          { type: 'TMPFS', target: '/scratch', tmpfsSizeBytes: MiB, tmpfsMode: 0o1777 },
        ],
        network: { name: networkName, aliases: ['web-alias'], ipv4Address: `${subnet}.10` },
        restartPolicy: { name: 'ON_FAILURE', maximumRetryCount: 2 },
        resources: richResources,
        stopSignal: 'term',
        stopTimeout: 3,
        healthcheck: {
          test: ['CMD-SHELL', 'wget -q -O /dev/null http://127.0.0.1:80/ || exit 1'],
          intervalSeconds: 0.5,
          timeoutSeconds: 2,
          startPeriodSeconds: 0.25,
          retries: 3,
        },
        init: true,
        capAdd: ['NET_ADMIN'],
        capDrop: ['MKNOD'],
        readonlyRootfs: true,
        dns: ['10.0.0.2'],
        extraHosts: ['db.internal:10.1.2.3'],
      },
    });
    const payload = expectType(createContainer, 'ContainerPayload');
    expect(payload.changed).toBe(true);
    const container = must(payload.container, 'the created container');
    expect(container.name).toBe(name);
    expect(container.state).toBe('RUNNING');
    // The image's own labels come along.
    expect(container.labels).toEqual(
      expect.arrayContaining([
        { name: TEST_LABEL, value: fixtures.run },
        { name: 'purpose', value: 'lifecycle' },
      ]),
    );
    const config = must(container.config, 'config');
    expect(config).toMatchObject({
      cmd: ['httpd', '-f', '-p', '80', '-h', '/www'],
      workingDir: '/www',
      user: 'root',
      hostname: 'web',
      domainname: 'example.test',
      tty: false,
      openStdin: true,
      stopSignal: 'SIGTERM',
      stopTimeout: 3,
      healthcheck: {
        test: ['CMD-SHELL', 'wget -q -O /dev/null http://127.0.0.1:80/ || exit 1'],
        intervalNanoseconds: 500_000_000,
        timeoutNanoseconds: 2_000_000_000,
        startPeriodNanoseconds: 250_000_000,
        retries: 3,
      },
    });
    expect(config.env).toEqual(
      expect.arrayContaining([
        { name: 'GREETING', value: 'hello world' },
        { name: 'EMPTY', value: '' },
      ]),
    );
    // Published ports are exposed too, as `docker run -p` does: the engine publishes no other.
    expect(config.exposedPorts).toEqual(
      expect.arrayContaining([
        { port: 8080, protocol: 'TCP' },
        { port: 9090, protocol: 'UDP' },
        { port: 80, protocol: 'TCP' },
        { port: 53, protocol: 'UDP' },
      ]),
    );
    expect(config.exposedPorts).toHaveLength(4);
    const hostConfig = must(container.hostConfig, 'hostConfig');
    expect(hostConfig).toMatchObject({
      restartPolicy: { name: 'ON_FAILURE', maximumRetryCount: 2 },
      ...richResources,
      privileged: false,
      readonlyRootfs: true,
      publishAllPorts: false,
      autoRemove: false,
      init: true,
      networkMode: networkName,
      capAdd: ['NET_ADMIN'],
      capDrop: ['MKNOD'],
      dns: ['10.0.0.2'],
      extraHosts: ['db.internal:10.1.2.3'],
    });
    expect(hostConfig.portBindings).toEqual(
      expect.arrayContaining([
        { containerPort: 80, protocol: 'TCP', hostIp: '127.0.0.1', hostPort: null },
        { containerPort: 53, protocol: 'UDP', hostIp: null, hostPort: null },
      ]),
    );
    const mountAt = (destination: string) =>
      must(
        container.mounts.find((mount) => mount.destination === destination),
        `a mount at ${destination}`,
      );
    expect(mountAt('/www')).toMatchObject({ type: 'BIND', source: hostFolder, readWrite: false });
    expect(mountAt('/data')).toMatchObject({ type: 'VOLUME', name: volumeName, readWrite: true });
    expect(mountAt('/scratch')).toMatchObject({ type: 'TMPFS', readWrite: true });
    expect(container.networks).toHaveLength(1);
    expect(container.networks[0]).toMatchObject({
      networkName,
      ipAddress: `${subnet}.10`,
    });
    expect(container.networks[0]?.aliases).toContain('web-alias');

    // The engine picked the host port: the page served from the bind mount answers there.
    const published = must(
      container.ports.find((port) => port.privatePort === 80 && port.publicPort !== null),
      'port 80 published',
    );
    expect(published.hostIp).toBe('127.0.0.1');
    const page = await execInEngineNetns('curl', [
      '-fsS',
      `http://127.0.0.1:${must(published.publicPort, 'host port')}/`,
    ]);
    expect(page.stdout).toBe(`hello from ${fixtures.run}\n`);
    await waitFor(async () => (await lookup(name))?.health?.status === 'HEALTHY', {
      timeoutMs: 15_000,
      what: 'the healthcheck to pass',
    });
  });

  it('creates without starting; start, stop and restart report whether they changed anything', async () => {
    const container = await created({ name: fixtures.name('cycle') });
    expect(container.state).toBe('CREATED');

    // A stop of a container that never ran is the engine's 304.
    const idleStop = await app.query(StopContainer, { id: container.id });
    expect(expectType(idleStop.stopContainer, 'ContainerPayload').changed).toBe(false);

    const started = expectType(
      (await app.query(StartContainer, { id: container.id })).startContainer,
      'ContainerPayload',
    );
    expect(started).toMatchObject({ changed: true, container: { state: 'RUNNING' } });
    const again = expectType(
      (await app.query(StartContainer, { id: container.name })).startContainer,
      'ContainerPayload',
    );
    expect(again).toMatchObject({ changed: false, container: { state: 'RUNNING' } });

    const restarted = expectType(
      (await app.query(RestartContainer, { id: container.dockerId, timeoutSeconds: 0 }))
        .restartContainer,
      'ContainerPayload',
    );
    expect(restarted).toMatchObject({ changed: true, container: { state: 'RUNNING' } });

    const stopped = expectType(
      (await app.query(StopContainer, { id: container.dockerId.slice(0, 16), timeoutSeconds: 0 }))
        .stopContainer,
      'ContainerPayload',
    );
    expect(stopped).toMatchObject({ changed: true, container: { state: 'EXITED' } });
    const stoppedAgain = expectType(
      (await app.query(StopContainer, { id: container.id, timeoutSeconds: 0 })).stopContainer,
      'ContainerPayload',
    );
    expect(stoppedAgain).toMatchObject({ changed: false, container: { state: 'EXITED' } });
  });

  it('kills after the timeout a process that ignores SIGTERM, using the container’s own stop timeout unless told', async () => {
    // PID 1 of a container gets no signal it has no handler for; the trap makes that explicit.
    const stubborn = { cmd: ['sh', '-c', 'trap "" TERM; sleep 1000 & wait'] };
    const ownTimeout = await created(
      { ...stubborn, name: fixtures.name('stubborn1'), stopTimeout: 1 },
      true,
    );
    const asked = await created({ ...stubborn, name: fixtures.name('stubborn2') }, true);

    let startedAt = Date.now();
    const byOwnTimeout = expectType(
      (await app.query(StopContainer, { id: ownTimeout.id })).stopContainer,
      'ContainerPayload',
    );
    const ownElapsed = Date.now() - startedAt;
    expect(byOwnTimeout).toMatchObject({
      changed: true,
      container: { state: 'EXITED', exitCode: 137 },
    });
    expect(ownElapsed).toBeGreaterThanOrEqual(900);

    startedAt = Date.now();
    const byAskedTimeout = expectType(
      (await app.query(StopContainer, { id: asked.id, timeoutSeconds: 1 })).stopContainer,
      'ContainerPayload',
    );
    const askedElapsed = Date.now() - startedAt;
    expect(byAskedTimeout).toMatchObject({
      changed: true,
      container: { state: 'EXITED', exitCode: 137 },
    });
    // Killed after the second asked for, not after the default 10 s grace period.
    expect(askedElapsed).toBeGreaterThanOrEqual(900);
    expect(askedElapsed).toBeLessThan(9_000);

    const negative = await app.query(StopContainer, { id: asked.id, timeoutSeconds: -1 });
    expect(expectType(negative.stopContainer, 'InvalidInputError').field).toBe('timeoutSeconds');
  });

  it('kills with SIGKILL, or with a signal the process traps and exits on; a stopped container is a conflict', async () => {
    const victim = await created({ name: fixtures.name('victim') }, true);
    const killed = expectType(
      (await app.query(KillContainer, { id: victim.id })).killContainer,
      'ContainerPayload',
    );
    expect(killed.changed).toBe(true);
    const exit = expectType(
      (await app.query(WaitContainer, { id: victim.id })).waitContainer,
      'ContainerExit',
    );
    expect(exit).toMatchObject({ exitCode: 137, error: null, container: { state: 'EXITED' } });

    const again = await app.query(KillContainer, { id: victim.id });
    expect(expectType(again.killContainer, 'ConflictError').message).toMatch(/is not running/);

    const trapper = await created(
      {
        name: fixtures.name('trapper'),
        cmd: ['sh', '-c', 'trap "exit 42" USR1; echo ready; sleep 1000 & wait'],
      },
      true,
    );
    await waitForOutput(trapper.dockerId, 'ready');
    const signalled = await app.query(KillContainer, { id: trapper.id, signal: 'usr1' });
    expect(expectType(signalled.killContainer, 'ContainerPayload').changed).toBe(true);
    const trapped = expectType(
      (await app.query(WaitContainer, { id: trapper.id })).waitContainer,
      'ContainerExit',
    );
    expect(trapped.exitCode).toBe(42);

    const calls = await app.callsDuring(async () => {
      for (const signal of ['SIGBOGUS', '99', '0', '']) {
        const bad = await app.query(KillContainer, { id: trapper.id, signal });
        expect(expectType(bad.killContainer, 'InvalidInputError').field).toBe('signal');
      }
    });
    expect(calls.filter((call) => call !== 'HEAD /_ping')).toEqual([]);
  });

  it('pauses and unpauses, and refuses to do either twice', async () => {
    const container = await created({ name: fixtures.name('sleeper') }, true);
    const paused = expectType(
      (await app.query(PauseContainer, { id: container.id })).pauseContainer,
      'ContainerPayload',
    );
    expect(paused).toEqual({
      __typename: 'ContainerPayload',
      changed: true,
      container: { state: 'PAUSED' },
    });
    const pausedAgain = await app.query(PauseContainer, { id: container.id });
    expect(expectType(pausedAgain.pauseContainer, 'ConflictError').message).toMatch(
      /already paused/,
    );

    const unpaused = expectType(
      (await app.query(UnpauseContainer, { id: container.id })).unpauseContainer,
      'ContainerPayload',
    );
    expect(unpaused).toMatchObject({ changed: true, container: { state: 'RUNNING' } });
    // The engine answers this one with a 500; it is the same kind of conflict as pausing twice.
    const unpausedAgain = await app.query(UnpauseContainer, { id: container.id });
    expect(expectType(unpausedAgain.unpauseContainer, 'ConflictError').message).toMatch(
      /is not paused/,
    );
  });

  it('waits for the exit code of a container’s process', async () => {
    const container = await created(
      { name: fixtures.name('seven'), entrypoint: ['sh', '-c'], cmd: ['exit 7'] },
      true,
    );
    const exit = expectType(
      (await app.query(WaitContainer, { id: container.id, condition: 'NOT_RUNNING' }))
        .waitContainer,
      'ContainerExit',
    );
    expect(exit).toMatchObject({
      exitCode: 7,
      error: null,
      container: { dockerId: container.dockerId, state: 'EXITED', exitCode: 7 },
    });

    const missing = await app.query(WaitContainer, { id: fixtures.name('nowhere') });
    expect(expectType(missing.waitContainer, 'NotFoundError').message).toContain(
      'No such container',
    );
  });

  it('renames a container, found by its new name only; a name in use is a conflict', async () => {
    const container = await created({ name: fixtures.name('before') });
    const other = await created({ name: fixtures.name('taken') });
    const newName = fixtures.name('after');

    const renamed = expectType(
      (await app.query(RenameContainer, { id: container.id, newName })).renameContainer,
      'ContainerPayload',
    );
    expect(renamed).toMatchObject({
      changed: true,
      container: { name: newName, dockerId: container.dockerId },
    });
    expect((await lookup(newName))?.dockerId).toBe(container.dockerId);
    expect(await lookup(container.name)).toBeNull();

    const same = await app.query(RenameContainer, { id: newName, newName: `/${newName}` });
    expect(expectType(same.renameContainer, 'ContainerPayload').changed).toBe(false);

    const clash = await app.query(RenameContainer, { id: newName, newName: other.name });
    expect(expectType(clash.renameContainer, 'ConflictError').message).toMatch(/already in use/);

    const calls = await app.callsDuring(async () => {
      const bad = await app.query(RenameContainer, { id: newName, newName: 'no spaces' });
      expect(expectType(bad.renameContainer, 'InvalidInputError').field).toBe('newName');
    });
    expect(calls.filter((call) => call !== 'HEAD /_ping')).toEqual([]);
  });

  it('updates memory, CPU, pids limit and restart policy; the engine’s refusals come back typed', async () => {
    const container = await created({ name: fixtures.name('tunable') }, true);
    const updated = expectType(
      (
        await app.query(UpdateContainer, {
          id: container.id,
          input: {
            resources: { memoryBytes: 48 * MiB, memorySwapBytes: -1, cpus: 0.25, pidsLimit: 64 },
            restartPolicy: { name: 'UNLESS_STOPPED' },
          },
        })
      ).updateContainer,
      'ContainerPayload',
    );
    expect(updated).toMatchObject({
      changed: true,
      warnings: [],
      container: {
        hostConfig: {
          memoryBytes: 48 * MiB,
          memorySwapBytes: -1,
          cpus: 0.25,
          pidsLimit: 64,
          restartPolicy: { name: 'UNLESS_STOPPED', maximumRetryCount: 0 },
        },
      },
    });

    // A memory limit above the swap limit the container has, without a new swap limit.
    const swapClash = await app.query(UpdateContainer, {
      id: container.id,
      input: { resources: { memoryBytes: 96 * MiB } },
    });
    expect(expectType(swapClash.updateContainer, 'ConflictError').message).toMatch(/memoryswap/);

    const selfRemoving = await created({ name: fixtures.name('selfremoving'), autoRemove: true });
    const noRestart = await app.query(UpdateContainer, {
      id: selfRemoving.id,
      input: { restartPolicy: { name: 'ALWAYS' } },
    });
    expect(expectType(noRestart.updateContainer, 'ConflictError').message).toMatch(/AutoRemove/);

    const calls = await app.callsDuring(async () => {
      const nothing = await app.query(UpdateContainer, { id: container.id, input: {} });
      expect(expectType(nothing.updateContainer, 'InvalidInputError').field).toBe('input');
      const retries = await app.query(UpdateContainer, {
        id: container.id,
        input: { restartPolicy: { name: 'ALWAYS', maximumRetryCount: 3 } },
      });
      expect(expectType(retries.updateContainer, 'InvalidInputError').field).toBe(
        'input.restartPolicy.maximumRetryCount',
      );
      const tiny = await app.query(UpdateContainer, {
        id: container.id,
        input: { resources: { memoryBytes: MiB } },
      });
      expect(expectType(tiny.updateContainer, 'InvalidInputError').field).toBe(
        'input.resources.memoryBytes',
      );
    });
    expect(calls.filter((call) => call !== 'HEAD /_ping')).toEqual([]);
  });

  it('removes a container: running is a conflict unless forced; removeVolumes takes its anonymous volume', async () => {
    const running = await created({ name: fixtures.name('busy') }, true);
    const conflict = await app.query(RemoveContainer, { id: running.id });
    expect(expectType(conflict.removeContainer, 'ConflictError').message).toMatch(
      /running container/,
    );

    const forced = expectType(
      (await app.query(RemoveContainer, { id: running.name, force: true })).removeContainer,
      'RemoveContainerPayload',
    );
    expect(forced).toEqual({
      __typename: 'RemoveContainerPayload',
      id: running.id,
      dockerId: running.dockerId,
      name: running.name,
    });
    expect(await lookup(running.dockerId)).toBeNull();

    const anonymousVolumeOf = async (name: string) => {
      const container = must(await lookup(name), name);
      return must(container.mounts.find((mount) => mount.destination === '/data')?.name, 'volume');
    };
    const mounts = [{ type: 'VOLUME' as const, target: '/data', volumeLabels: [runLabel] }];
    const withVolumes = await created({ name: fixtures.name('withvol'), mounts });
    const droppedVolume = await anonymousVolumeOf(withVolumes.name);
    const keeping = await created({ name: fixtures.name('keepvol'), mounts });
    const keptVolume = await anonymousVolumeOf(keeping.name);

    const removedWith = await app.query(RemoveContainer, {
      id: withVolumes.id,
      removeVolumes: true,
    });
    expect(expectType(removedWith.removeContainer, 'RemoveContainerPayload').name).toBe(
      withVolumes.name,
    );
    expect((await app.query(VolumeLookup, { name: droppedVolume })).volume).toBeNull();

    const removedWithout = await app.query(RemoveContainer, { id: keeping.id });
    expect(expectType(removedWithout.removeContainer, 'RemoveContainerPayload').name).toBe(
      keeping.name,
    );
    expect((await app.query(VolumeLookup, { name: keptVolume })).volume?.name).toBe(keptVolume);

    const missing = await app.query(RemoveContainer, { id: keeping.id });
    expect(expectType(missing.removeContainer, 'NotFoundError').message).toContain(
      'No such container',
    );
  });

  it('prunes only the stopped containers with the labels, and reports them', async () => {
    const pruneLabel = { name: 'dockergraph.prune', value: fixtures.run };
    const labels = [pruneLabel];
    const stoppedA = await created({ name: fixtures.name('prune-a'), labels, cmd: ['true'] }, true);
    const stoppedB = await created({ name: fixtures.name('prune-b'), labels });
    const running = await created({ name: fixtures.name('prune-run'), labels }, true);
    const unlabelled = await created({ name: fixtures.name('prune-other') });
    await waitFor(async () => (await lookup(stoppedA.dockerId))?.state === 'EXITED', {
      timeoutMs: 10_000,
      what: 'the container running `true` to exit',
    });
    const filterLabels = [`dockergraph.prune=${fixtures.run}`];

    const tooRecent = await app.query(PruneContainers, {
      filter: { labels: filterLabels, until: new Date(Date.now() - 3_600_000).toISOString() },
    });
    expect(
      expectType(tooRecent.pruneContainers, 'PruneContainersPayload').containersDeleted,
    ).toEqual([]);

    const pruned = expectType(
      (await app.query(PruneContainers, { filter: { labels: filterLabels } })).pruneContainers,
      'PruneContainersPayload',
    );
    expect([...pruned.containersDeleted].sort()).toEqual(
      [stoppedA.dockerId, stoppedB.dockerId].sort(),
    );
    expect(pruned.spaceReclaimedBytes).toBeGreaterThanOrEqual(0);
    expect(await lookup(stoppedA.dockerId)).toBeNull();
    expect((await lookup(running.dockerId))?.state).toBe('RUNNING');
    expect((await lookup(unlabelled.dockerId))?.state).toBe('CREATED');

    const bad = await app.query(PruneContainers, { filter: { labels: ['=x'] } });
    expect(expectType(bad.pruneContainers, 'InvalidInputError').field).toBe('filter.labels[0]');
  });

  it('refuses bad input before the engine, naming the field', async () => {
    const cases: [Omit<CreateContainerInput, 'image'> & { image?: string }, string][] = [
      [{ name: 'no spaces' }, 'input.name'],
      [{ image: 'two words' }, 'input.image'],
      [{ exposedPorts: [{ port: 0 }] }, 'input.exposedPorts[0].port'],
      [
        { portBindings: [{ containerPort: 80 }, { containerPort: 81, hostPort: 70000 }] },
        'input.portBindings[1].hostPort',
      ],
      [
        { portBindings: [{ containerPort: 80, hostIp: 'localhost' }] },
        'input.portBindings[0].hostIp',
      ],
      [{ resources: { memoryBytes: 1000 } }, 'input.resources.memoryBytes'],
      [
        { resources: { memoryBytes: 64 * MiB, memoryReservationBytes: 128 * MiB } },
        'input.resources.memoryReservationBytes',
      ],
      [
        { resources: { memoryBytes: 64 * MiB, memorySwapBytes: 32 * MiB } },
        'input.resources.memorySwapBytes',
      ],
      [{ resources: { memorySwapBytes: 64 * MiB } }, 'input.resources.memorySwapBytes'],
      [{ resources: { cpus: 0 } }, 'input.resources.cpus'],
      [
        { restartPolicy: { name: 'ALWAYS', maximumRetryCount: 3 } },
        'input.restartPolicy.maximumRetryCount',
      ],
      [{ autoRemove: true, restartPolicy: { name: 'ALWAYS' } }, 'input.restartPolicy.name'],
      [{ mounts: [{ type: 'TMPFS', target: 'relative' }] }, 'input.mounts[0].target'],
      [{ mounts: [{ type: 'BIND', source: 'here', target: '/x' }] }, 'input.mounts[0].source'],
      [{ mounts: [{ type: 'BIND', target: '/x' }] }, 'input.mounts[0].source'],
      [
        {
          mounts: [
            { type: 'TMPFS', target: '/x' },
            { type: 'TMPFS', target: '/x' },
          ],
        },
        'input.mounts[1].target',
      ],
      [
        { mounts: [{ type: 'BIND', source: '/tmp', target: '/x', tmpfsSizeBytes: 1 }] },
        'input.mounts[0].tmpfsSizeBytes',
      ],
      [{ mounts: [{ type: 'NPIPE', source: '/tmp', target: '/x' }] }, 'input.mounts[0].type'],
      [{ env: [{ name: 'A=B', value: 'c' }] }, 'input.env[0].name'],
      [{ env: [{ name: '', value: 'c' }] }, 'input.env[0].name'],
      [{ labels: [runLabel] }, 'input.labels[1].name'],
      [{ extraHosts: ['db.internal'] }, 'input.extraHosts[0]'],
      [{ dns: ['dns.example'] }, 'input.dns[0]'],
      [{ stopSignal: 'SIGBOGUS' }, 'input.stopSignal'],
      [{ stopTimeout: -5 }, 'input.stopTimeout'],
      [{ workingDir: 'relative' }, 'input.workingDir'],
      [{ healthcheck: { test: ['curl', 'http://x'] } }, 'input.healthcheck.test'],
      [
        { healthcheck: { test: ['CMD-SHELL', 'true'], intervalSeconds: 0.0001 } },
        'input.healthcheck.intervalSeconds',
      ],
      [{ network: { name: 'x', ipv4Address: '10.0.0.300' } }, 'input.network.ipv4Address'],
      [{ networkMode: 'host', network: { name: 'x' } }, 'input.network.name'],
    ];
    const calls = await app.callsDuring(async () => {
      for (const [input, field] of cases) {
        const result = await create({ name: fixtures.name('invalid'), ...input });
        const error = expectType(result, 'InvalidInputError');
        expect({ field: error.field, input }).toEqual({ field, input });
        expect(error.message).not.toBe('');
      }
      const notContainer = await app.query(StartContainer, {
        id: Buffer.from(`Volume:${'default'}:x`).toString('base64url'),
      });
      expect(expectType(notContainer.startContainer, 'InvalidInputError').field).toBe('id');
    });
    expect(calls.filter((call) => call !== 'HEAD /_ping')).toEqual([]);
  });

  it('answers the engine’s refusals as typed errors: invalid input, conflict, not found, engine failure', async () => {
    // More CPUs than the host has: the engine's 400, with no field.
    const cpus = await create({ name: fixtures.name('greedy'), resources: { cpus: 512 } });
    const cpuError = expectType(cpus, 'InvalidInputError');
    expect(cpuError.field).toBeNull();
    expect(cpuError.message).toMatch(/CPUs/);
    const capability = await create({ name: fixtures.name('capable'), capAdd: ['NO_SUCH_CAP'] });
    expect(expectType(capability, 'InvalidInputError')).toMatchObject({ field: null });

    const name = fixtures.name('twin');
    await created({ name });
    const twin = await create({ name });
    expect(expectType(twin, 'ConflictError').message).toMatch(/already in use/);

    const missing = await app.query(StartContainer, { id: fixtures.name('ghost') });
    expect(expectType(missing.startContainer, 'NotFoundError').message).toContain(
      'No such container',
    );

    // A command that does not exist: the start fails (the engine says 400), the container stays.
    const broken = await created({ name: fixtures.name('broken'), cmd: ['/no/such/program'] });
    const failed = await app.query(StartContainer, { id: broken.id });
    const failure = expectType(failed.startContainer, 'EngineFailureError');
    expect(failure).toMatchObject({ code: 'BAD_REQUEST', engineStatus: 400 });
    expect(failure.message).toMatch(/no such file or directory|not found/);
    expect((await lookup(broken.dockerId))?.state).toBe('CREATED');
  });

  it('removes the container of a run whose start fails, and says so', async () => {
    const brokenName = fixtures.name('runbroken');
    const broken = await create({ name: brokenName, cmd: ['/no/such/program'] }, { start: true });
    const failure = expectType(broken, 'EngineFailureError');
    expect(failure.code).toBe('BAD_REQUEST');
    expect(failure.message).toMatch(/the container created for it \([0-9a-f]{64}\) was removed/);
    expect(await lookup(brokenName)).toBeNull();

    const lostName = fixtures.name('runlost');
    const lost = await create(
      { name: lostName, networkMode: fixtures.name('no-such-network') },
      { start: true },
    );
    expect(expectType(lost, 'NotFoundError').message).toMatch(/not found.*was removed/);
    expect(await lookup(lostName)).toBeNull();
  });

  describe('pulling the image', () => {
    let registryImage = '';
    let authRegistry: AuthRegistry;
    let privateImage = '';
    /** Digest of the manifest pushed to the auth registry, deleted from it in afterAll. */
    let privateDigest = '';

    /**
     * Pushes the base image to `repository:latest` through the engine and removes that tag
     * from the engine again, so that a pull has something to fetch; answers the digest.
     */
    async function pushBaseImage(repository: string, credentials?: RegistryCredentials) {
      await fixtures.send(
        {
          method: 'POST',
          path: `/images/${BASE_IMAGE}/tag`,
          query: { repo: repository, tag: 'latest' },
        },
        `tag the base image as ${repository}`,
      );
      const pushed = await fixtures.engine.request(
        {
          method: 'POST',
          path: `/images/${repository}/push`,
          query: { tag: 'latest' },
          headers: { 'x-registry-auth': encodeRegistryAuth(credentials) },
          timeoutMs: 120_000,
        },
        `push the base image to ${repository}`,
      );
      const progress = await pushed.body.text();
      expect(progress).not.toContain('"error"');
      await untag(`${repository}:latest`);
      return must(/"Digest":"(sha256:[0-9a-f]{64})"/.exec(progress)?.[1], 'the pushed digest');
    }

    beforeAll(async () => {
      const registry = await startRegistry();
      registryImage = `${registry}/dg-lifecycle-${fixtures.run}/busybox:latest`;
      await pushBaseImage(registryImage.slice(0, registryImage.lastIndexOf(':')));
      authRegistry = await startAuthRegistry();
      const { address, username, password } = authRegistry;
      const privateRepository = `${address}/dg-lifecycle-${fixtures.run}/private`;
      privateImage = `${privateRepository}:latest`;
      privateDigest = await pushBaseImage(privateRepository, {
        username,
        password,
        serverAddress: address,
      });
    });

    /**
     * Removes a registry tag from the engine; the base image keeps its own tag. Forced,
     * since containers made from the tag may still exist (the outer cleanup removes them).
     */
    async function untag(reference: string) {
      await fixtures.send(
        {
          method: 'DELETE',
          path: `/images/${reference}`,
          query: { force: true },
          acceptStatus: [404],
        },
        `untag ${reference}`,
      );
    }

    afterAll(async () => {
      await untag(registryImage);
      if (privateImage) await untag(privateImage);
      if (privateDigest) {
        const { address, username, password } = authRegistry;
        const repository = `dg-lifecycle-${fixtures.run}/private`;
        await deleteRegistryManifest(address, repository, privateDigest, `${username}:${password}`);
      }
    });

    it('pulls a missing image with IF_MISSING, and not an image the engine has', async () => {
      const pullCalls = (calls: string[]) => calls.filter((call) => call === 'POST /images/create');
      let result: Awaited<ReturnType<typeof create>> | undefined;
      const pulling = await app.callsDuring(async () => {
        result = await create(
          { image: registryImage, name: fixtures.name('pulled') },
          { pull: 'IF_MISSING' },
        );
      });
      expect(pullCalls(pulling)).toHaveLength(1);
      expect(expectType(result, 'ContainerPayload').container?.state).toBe('CREATED');

      const present = await app.callsDuring(async () => {
        result = await create(
          { image: registryImage, name: fixtures.name('present') },
          { pull: 'IF_MISSING' },
        );
      });
      expect(pullCalls(present)).toEqual([]);
      expectType(result, 'ContainerPayload');

      const always = await app.callsDuring(async () => {
        result = await create(
          { image: registryImage, name: fixtures.name('always') },
          { pull: 'ALWAYS' },
        );
      });
      expect(pullCalls(always)).toHaveLength(1);
      expectType(result, 'ContainerPayload');
    });

    it('answers NotFoundError for an image in no registry, and creates nothing', async () => {
      const nowhere = registryImage.replace('/busybox:', '/nowhere:');
      const name = fixtures.name('unpullable');
      const pulled = await create({ image: nowhere, name }, { pull: 'IF_MISSING' });
      expect(expectType(pulled, 'NotFoundError').message).toMatch(/manifest unknown|not found/);
      const never = await create({ image: nowhere, name });
      expect(expectType(never, 'NotFoundError').message).toMatch(/No such image/);
      expect(await lookup(name)).toBeNull();
    });

    it('pulls from a registry that asks for credentials with `auth`; none, or a missing or wrong password, is a RegistryAuthError', async () => {
      const { address, username, password } = authRegistry;
      const wrongPassword = `s3cr3t-${randomUUID()}`;
      const refusedName = fixtures.name('unauthorized');
      for (const auth of [
        undefined,
        { username, serverAddress: address },
        { username, password: wrongPassword, serverAddress: address },
      ]) {
        const refused = await create(
          { image: privateImage, name: refusedName },
          { pull: 'IF_MISSING', ...(auth ? { auth } : {}) },
        );
        const error = expectType(refused, 'RegistryAuthError');
        expect(error.registry).toBe(address);
        expect(error.message).toMatch(/no basic auth credentials|authentication required/);
        expect(JSON.stringify(refused)).not.toContain(wrongPassword);
        expect(await lookup(refusedName)).toBeNull();
      }

      let result: Awaited<ReturnType<typeof create>> | undefined;
      const pulling = await app.callsDuring(async () => {
        result = await create(
          { image: privateImage, name: fixtures.name('authorized') },
          { pull: 'IF_MISSING', auth: { username, password, serverAddress: address } },
        );
      });
      expect(pulling.filter((call) => call === 'POST /images/create')).toHaveLength(1);
      expect(expectType(result, 'ContainerPayload').container?.state).toBe('CREATED');
      expect(JSON.stringify(result)).not.toContain(password);
    });
  });

  describe('waiting', () => {
    let proxy: FaultProxy;
    let proxied: TestApp;
    /** An app that allows the engine one second per answer. */
    let impatient: TestApp;

    beforeAll(async () => {
      proxy = await startFaultProxy();
      proxied = createTestApp({ DOCKER_HOST: proxy.dockerHost });
      impatient = createTestApp({ DOCKERGRAPH_REQUEST_TIMEOUT_MS: '1000' });
    });

    afterAll(async () => {
      await proxied.close();
      await impatient.close();
      await proxy.close();
    });

    /**
     * Starts a wait through the proxy; resolves once the engine watches the container, with
     * the answer still to come (wrapped, so that awaiting this does not await the answer).
     */
    async function beginWait(id: string, condition: 'NEXT_EXIT' | 'REMOVED' | 'NOT_RUNNING') {
      const since = proxy.requestsSeen;
      const pending = proxied.query(WaitContainer, { id, condition });
      const connection = await proxy.waitForRequest(/\/wait\?/, { since });
      // The engine answers the headers once it watches the container.
      await waitFor(() => !connection.awaitingAnswer || connection.closed !== null, {
        timeoutMs: 10_000,
        what: 'the engine to accept the wait',
      });
      return { answer: pending };
    }

    it('waits longer than the engine request timeout for a container to end', async () => {
      const container = await created(
        { name: fixtures.name('slow'), cmd: ['sh', '-c', 'sleep 2; exit 5'] },
        true,
      );
      const exit = expectType(
        (await impatient.query(WaitContainer, { id: container.id })).waitContainer,
        'ContainerExit',
      );
      expect(exit.exitCode).toBe(5);
    });

    it('waits for the next exit, and for removal', async () => {
      const container = await created({ name: fixtures.name('nextexit') }, true);
      const nextExit = await beginWait(container.dockerId, 'NEXT_EXIT');
      await fixtures.send(
        { method: 'POST', path: `/containers/${container.dockerId}/kill` },
        'kill',
      );
      const exit = expectType((await nextExit.answer).waitContainer, 'ContainerExit');
      expect(exit).toMatchObject({ exitCode: 137, container: { state: 'EXITED' } });

      const removal = await beginWait(container.dockerId, 'REMOVED');
      await fixtures.send(
        { method: 'DELETE', path: `/containers/${container.dockerId}` },
        'remove',
      );
      const removed = expectType((await removal.answer).waitContainer, 'ContainerExit');
      expect(removed.container).toBeNull();
    });

    it('ends the engine call when the client goes away', async () => {
      const container = await created({ name: fixtures.name('abandoned') }, true);
      const controller = new AbortController();
      const since = proxy.requestsSeen;
      const pending = Promise.resolve(
        proxied.app.fetch('http://dockergraph.test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            query: print(WaitContainer),
            variables: { id: container.dockerId },
          }),
          signal: controller.signal,
        }),
      ).then(
        () => 'answered',
        () => 'rejected',
      );
      const connection = await proxy.waitForRequest(/\/wait\?/, { since });
      expect(connection.closed).toBeNull();
      controller.abort();
      await proxy.waitForClose(connection, 5_000);
      expect(connection.closed?.byClient).toBe(true);
      await pending;
      expect((await lookup(container.dockerId))?.state).toBe('RUNNING');
    });
  });
});
