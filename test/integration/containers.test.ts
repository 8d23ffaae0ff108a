// The Container type, its nested types and the `containers` / `container` queries,
// against the private engine, on containers this file creates.
import type { ResultOf } from '@graphql-typed-document-node/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/gql.ts';
import type { ContainerFilter, ContainerLogLinesQueryVariables } from '../generated/graphql.ts';
import type { GraphQLResponse } from '../helpers/app.ts';
import { useAppWithFixtures } from '../helpers/app-with-fixtures.ts';
import { BASE_IMAGE, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { waitFor } from '../helpers/wait-for.ts';

const ContainerFactsFragment = graphql(`
  fragment ContainerFacts on Container {
    id
    dockerId
    shortId
    name
    names
    image { id dockerId tags }
    imageReference
    command
    created
    state
    status
    health {
      status
      failingStreak
      log { start end exitCode output }
    }
    exitCode
    oomKilled
    error
    pid
    startedAt
    finishedAt
    restartCount
    platform
    ports { privatePort protocol publicPort hostIp }
    labels { name value }
    role: label(name: "org.example.role")
    flag: label(name: "org.example.flag")
    missingLabel: label(name: "org.example.missing")
    constructorLabel: label(name: "constructor")
    mounts {
      type name source destination driver mode readWrite propagation
      volume { id name driver }
    }
    networks {
      networkName
      network { id dockerId name }
      endpointId ipAddress ipPrefixLength gateway ipv6Address ipv6Gateway macAddress aliases
    }
    config {
      cmd entrypoint
      env { name value }
      workingDir user hostname domainname tty openStdin
      exposedPorts { port protocol }
      image volumes stopSignal stopTimeout
      healthcheck {
        test intervalNanoseconds timeoutNanoseconds retries startPeriodNanoseconds
      }
      labels { name value }
    }
    hostConfig {
      restartPolicy { name maximumRetryCount }
      memoryBytes memoryReservationBytes memorySwapBytes
      cpus cpuShares cpuQuota cpuPeriod cpusetCpus pidsLimit
      privileged readonlyRootfs publishAllPorts autoRemove init
      binds networkMode
      portBindings { containerPort protocol hostIp hostPort }
      capAdd capDrop dns extraHosts pidMode ipcMode logDriver
    }
    compose { project service containerNumber oneOff workingDir configFiles }
  }
`);

type ContainerFacts = ResultOf<typeof ContainerFactsFragment>;

const ContainerQuery = graphql(`
  query ContainerFactsByIdOrName($idOrName: String!) {
    container(idOrName: $idOrName) { ...ContainerFacts }
  }
`);

const ContainersQuery = graphql(`
  query ContainerFactsByFilter($filter: ContainerFilter) {
    containers(filter: $filter) {
      totalCount
      edges { node { ...ContainerFacts } }
    }
  }
`);

const ContainerNamesQuery = graphql(`
  query ContainerNamesByFilter($filter: ContainerFilter) {
    containers(filter: $filter) { edges { node { name } } }
  }
`);

const ContainerLookupQuery = graphql(`
  query ContainerLookup($idOrName: String!) {
    container(idOrName: $idOrName) { dockerId name }
  }
`);

const NodeQuery = graphql(`
  query ContainerNode($id: ID!) {
    node(id: $id) {
      __typename
      ... on Container { dockerId name }
    }
  }
`);

const ReadinessQuery = graphql(`
  query ContainerReadiness($idOrName: String!) {
    container(idOrName: $idOrName) {
      health { status }
      logs(timestamps: false) { lines { stream message } }
    }
  }
`);

const LogsQuery = graphql(`
  query ContainerLogLines(
    $idOrName: String!
    $tail: Int
    $since: DateTime
    $until: DateTime
    $timestamps: Boolean
    $stdout: Boolean
    $stderr: Boolean
  ) {
    container(idOrName: $idOrName) {
      logs(
        tail: $tail
        since: $since
        until: $until
        timestamps: $timestamps
        stdout: $stdout
        stderr: $stderr
      ) {
        truncated
        lines { stream time timestamp message }
      }
    }
  }
`);

const TopQuery = graphql(`
  query ContainerTop($idOrName: String!, $psArgs: String) {
    container(idOrName: $idOrName) {
      pid
      top(psArgs: $psArgs) {
        titles
        processes { pid user command values }
      }
    }
  }
`);

const ChangesAndSizeQuery = graphql(`
  query ContainerChangesAndSize($idOrName: String!) {
    container(idOrName: $idOrName) {
      changes { path kind }
      size { writableBytes rootFsBytes }
    }
  }
`);

const StatsQuery = graphql(`
  query ContainerStatsSample($idOrName: String!) {
    container(idOrName: $idOrName) {
      stats {
        read cpuPercent onlineCpus memoryUsageBytes memoryLimitBytes memoryPercent
        networkRxBytes networkTxBytes blockReadBytes blockWriteBytes pids
      }
    }
  }
`);

const MiB = 1024 * 1024;
const MEMORY_LIMIT = 64 * MiB;
const MEMORY_RESERVATION = 32 * MiB;
const MEMORY_SWAP = 128 * MiB;
const SECOND_NS = 1_000_000_000;

/** The value, or a failed test saying what was missing. */
function present<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`expected ${what}, got ${value}`);
  return value;
}

function byDestination<T extends { destination: string }>(mounts: readonly T[]): T[] {
  return [...mounts].sort((a, b) => a.destination.localeCompare(b.destination));
}

function sortedPorts<T extends { privatePort: number; protocol: string; hostIp: string | null }>(
  ports: readonly T[],
): T[] {
  const key = (p: T) => `${p.privatePort}/${p.protocol}/${p.hostIp ?? ''}`;
  return [...ports].sort((a, b) => key(a).localeCompare(key(b)));
}

describe('containers', () => {
  const { app, fixtures } = useAppWithFixtures();
  const runLabel = `${TEST_LABEL}=${fixtures.run}`;
  const project = `dg-project-${fixtures.run}`;
  const names = {
    web: fixtures.name('web'),
    exited: fixtures.name('exited'),
    tty: fixtures.name('tty'),
    created: fixtures.name('created'),
  };
  const networkName = fixtures.name('net');
  const volumeName = fixtures.name('vol');
  const childImage = `dockergraph-test/child-${fixtures.run}:v1`;
  // The engine publishes inside its own network namespace; only what it reports is checked.
  const hostPort = 30_000 + Math.floor(Math.random() * 20_000);
  const webScript = [
    'echo "dg test data" > /tmp/dg-added.txt',
    'echo "out: hello from web"',
    'echo "err: café crème" >&2',
    'echo "out: done é"',
    'exec sleep 3600',
  ].join('\n');
  const ids = { web: '', exited: '', tty: '', created: '' };
  let networkId = '';
  let baseImageId = '';
  let childImageId = '';
  let setupStarted = 0;

  beforeAll(async () => {
    setupStarted = Date.now();
    const [network, , child, base] = await Promise.all([
      fixtures.createNetwork(networkName),
      fixtures.createVolume(volumeName),
      fixtures.buildImage(childImage, `FROM ${BASE_IMAGE}\nLABEL org.example.child="yes"\n`),
      fixtures.engine.json<{ Id: string }>(
        { path: `/images/${BASE_IMAGE}/json` },
        'inspect the base image',
      ),
    ]);
    networkId = network;
    childImageId = child;
    baseImageId = base.Id;

    const [web, exited, tty, created] = await Promise.all([
      fixtures.runContainer(names.web, {
        Image: BASE_IMAGE,
        Entrypoint: ['sh', '-c'],
        Cmd: [webScript],
        Hostname: 'web-host',
        Domainname: 'example.test',
        User: 'root',
        WorkingDir: '/tmp',
        StopSignal: 'SIGINT',
        StopTimeout: 5,
        Env: ['GREETING=grüezi', 'EMPTY=', 'FROM_ENGINE'],
        ExposedPorts: { '80/tcp': {}, '9000/udp': {} },
        Healthcheck: {
          Test: ['CMD', 'true'],
          Interval: SECOND_NS / 4,
          Timeout: 5 * SECOND_NS,
          Retries: 3,
          StartPeriod: 10 * SECOND_NS,
        },
        Labels: {
          'org.example.role': 'frontend',
          'org.example.flag': '',
          'com.docker.compose.project': project,
          'com.docker.compose.service': 'web',
          'com.docker.compose.container-number': '1',
          'com.docker.compose.oneoff': 'False',
          'com.docker.compose.project.working_dir': '/srv/app',
          'com.docker.compose.project.config_files':
            '/srv/app/compose.yaml,/srv/app/compose.override.yaml',
        },
        HostConfig: {
          Binds: [`${volumeName}:/data`],
          Mounts: [{ Type: 'tmpfs', Target: '/scratch' }],
          NetworkMode: networkName,
          PortBindings: { '80/tcp': [{ HostPort: String(hostPort) }] },
          RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 },
          Memory: MEMORY_LIMIT,
          MemoryReservation: MEMORY_RESERVATION,
          MemorySwap: MEMORY_SWAP,
          NanoCpus: SECOND_NS / 2,
          CpuShares: 512,
          CpusetCpus: '0',
          PidsLimit: 64,
          CapAdd: ['NET_ADMIN'],
          CapDrop: ['MKNOD'],
          Dns: ['192.0.2.53'],
          ExtraHosts: ['db.example.test:192.0.2.10'],
          IpcMode: 'shareable',
          LogConfig: { Type: 'json-file', Config: { 'max-size': '1m' } },
        },
        NetworkingConfig: { EndpointsConfig: { [networkName]: { Aliases: ['web-alias'] } } },
      }),
      fixtures.runContainer(
        names.exited,
        {
          Cmd: [
            'sh',
            '-c',
            'echo first; sleep 0.3; echo second >&2; sleep 0.3; echo third; exit 3',
          ],
          Labels: { 'org.example.tier': 'batch' },
        },
        true,
      ),
      fixtures.runContainer(
        names.tty,
        {
          Tty: true,
          Cmd: ['sh', '-c', 'echo "tty: out"; echo "tty: err é" >&2'],
          Labels: {
            'org.example.role': 'backend',
            'com.docker.compose.project': project,
            'com.docker.compose.service': 'worker',
            'com.docker.compose.oneoff': 'True',
          },
        },
        true,
      ),
      fixtures.createContainer(names.created, {
        Image: childImage,
        Cmd: ['sh', '-c', 'echo never'],
        HostConfig: { NetworkMode: networkName },
        NetworkingConfig: { EndpointsConfig: { [networkName]: { Aliases: ['idle-alias'] } } },
      }),
    ]);
    Object.assign(ids, { web, exited, tty, created });

    // The web container is ready once its healthcheck passed and its script wrote its lines.
    await waitFor(
      async () => {
        const { container } = await app.query(ReadinessQuery, { idOrName: ids.web });
        return container?.health?.status === 'HEALTHY' &&
          container.logs.lines.some((line) => line.message === 'out: done é') &&
          container.logs.lines.some((line) => line.stream === 'STDERR')
          ? container
          : undefined;
      },
      { timeoutMs: 20_000, what: `${names.web} to be HEALTHY with its log lines written` },
    );
  });

  async function facts(idOrName: string): Promise<ContainerFacts> {
    const { container } = await app.query(ContainerQuery, { idOrName });
    return present(container, `container ${idOrName}`);
  }

  /** Names of this run's containers the filter selects (the run label is always added). */
  async function namesMatching(filter: ContainerFilter): Promise<string[]> {
    const { containers } = await app.query(ContainerNamesQuery, {
      filter: { ...filter, labels: [runLabel, ...(filter.labels ?? [])] },
    });
    return containers.edges.map((edge) => edge.node.name).sort();
  }

  function sortedNames(...keys: (keyof typeof names)[]): string[] {
    return keys.map((key) => names[key]).sort();
  }

  describe('a running container', () => {
    it('reports its identity, image, command and lifecycle', async () => {
      const web = await facts(names.web);
      expect(web.dockerId).toBe(ids.web);
      expect(web.dockerId).toMatch(/^[0-9a-f]{64}$/);
      expect(web.shortId).toBe(ids.web.slice(0, 12));
      expect(web.shortId).toHaveLength(12);
      expect(web.name).toBe(names.web);
      expect(web.names).toEqual([names.web]);
      expect(web.image).toMatchObject({ dockerId: baseImageId });
      expect(present(web.image, 'image').tags).toContain(BASE_IMAGE);
      expect(web.imageReference).toBe(BASE_IMAGE);
      expect(web.command).toBe(`sh -c '${webScript}'`);
      expect(web.state).toBe('RUNNING');
      expect(web.status).toMatch(/^Up .* \(healthy\)$/);
      expect(web.exitCode).toBeNull();
      expect(web.oomKilled).toBe(false);
      expect(web.error).toBeNull();
      expect(web.pid).toBeGreaterThan(0);
      expect(web.restartCount).toBe(0);
      expect(web.platform).toBe('linux');
      expect(web.finishedAt).toBeNull();
      const created = Date.parse(web.created);
      const started = Date.parse(present(web.startedAt, 'startedAt'));
      expect(created).toBeGreaterThanOrEqual(setupStarted - 1000);
      expect(started).toBeGreaterThanOrEqual(created);
      expect(started).toBeLessThanOrEqual(Date.now());
    });

    it('answers the global ID it reports through node(id)', async () => {
      const web = await facts(names.web);
      const { node } = await app.query(NodeQuery, { id: web.id });
      expect(node).toEqual({ __typename: 'Container', dockerId: ids.web, name: names.web });
    });

    it('reports its healthcheck as HEALTHY with the checks run', async () => {
      const web = await facts(names.web);
      const health = present(web.health, 'health');
      expect(health.status).toBe('HEALTHY');
      expect(health.failingStreak).toBe(0);
      expect(health.log.length).toBeGreaterThanOrEqual(1);
      expect(health.log.length).toBeLessThanOrEqual(5);
      for (const check of health.log) {
        expect(check.exitCode).toBe(0);
        expect(check.output).toBe('');
        const start = Date.parse(present(check.start, 'check start'));
        const end = Date.parse(present(check.end, 'check end'));
        expect(end).toBeGreaterThanOrEqual(start);
        expect(start).toBeGreaterThanOrEqual(Date.parse(present(web.startedAt, 'startedAt')));
      }
    });

    it('reports its published and exposed ports', async () => {
      const web = await facts(names.web);
      const published = web.ports.filter((port) => port.privatePort === 80);
      const unpublished = web.ports.filter((port) => port.privatePort === 9000);
      expect(published.length + unpublished.length).toBe(web.ports.length);
      // One binding per host address family the engine listens on (0.0.0.0, and :: with IPv6).
      expect(published.map((port) => port.hostIp)).toContain('0.0.0.0');
      for (const port of published) {
        expect(port).toMatchObject({ protocol: 'TCP', publicPort: hostPort });
        expect(['0.0.0.0', '::']).toContain(port.hostIp);
      }
      expect(unpublished).toEqual([
        { privatePort: 9000, protocol: 'UDP', publicPort: null, hostIp: null },
      ]);
    });

    it('reports its labels, one label by name, and its Compose facts', async () => {
      const web = await facts(names.web);
      expect(web.labels).toEqual(
        expect.arrayContaining([
          { name: TEST_LABEL, value: fixtures.run },
          { name: 'org.example.role', value: 'frontend' },
          { name: 'org.example.flag', value: '' },
          { name: 'com.docker.compose.project', value: project },
          { name: 'com.docker.compose.service', value: 'web' },
        ]),
      );
      const labelNames = web.labels.map((label) => label.name);
      expect(labelNames).toEqual([...labelNames].sort());
      expect(web.role).toBe('frontend');
      expect(web.flag).toBe('');
      expect(web.missingLabel).toBeNull();
      expect(web.constructorLabel).toBeNull();
      expect(web.compose).toEqual({
        project,
        service: 'web',
        containerNumber: 1,
        oneOff: false,
        workingDir: '/srv/app',
        configFiles: ['/srv/app/compose.yaml', '/srv/app/compose.override.yaml'],
      });
    });

    it('reports its mounts, linking the named volume', async () => {
      const web = await facts(names.web);
      const [data, scratch, ...rest] = byDestination(web.mounts);
      expect(rest).toEqual([]);
      expect(data).toMatchObject({
        type: 'VOLUME',
        name: volumeName,
        destination: '/data',
        driver: 'local',
        mode: 'z',
        readWrite: true,
        propagation: null,
        volume: { name: volumeName, driver: 'local' },
      });
      expect(data?.source).toMatch(new RegExp(`/volumes/${volumeName}/_data$`));
      expect(scratch).toMatchObject({
        type: 'TMPFS',
        name: null,
        destination: '/scratch',
        driver: null,
        readWrite: true,
        volume: null,
      });
    });

    it('reports its network attachment with its alias, linking the network', async () => {
      const web = await facts(names.web);
      expect(web.networks).toHaveLength(1);
      const attachment = present(web.networks[0], 'attachment');
      expect(attachment.networkName).toBe(networkName);
      expect(attachment.network).toMatchObject({ dockerId: networkId, name: networkName });
      expect(attachment.endpointId).toMatch(/^[0-9a-f]{64}$/);
      expect(attachment.ipAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(attachment.gateway).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(attachment.ipPrefixLength).toBeGreaterThan(0);
      expect(attachment.ipPrefixLength).toBeLessThanOrEqual(32);
      expect(attachment.macAddress).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      expect(attachment.ipv6Address).toBeNull();
      expect(attachment.ipv6Gateway).toBeNull();
      expect(attachment.aliases).toContain('web-alias');
    });

    it('reports its configuration', async () => {
      const web = await facts(names.web);
      const config = present(web.config, 'config');
      expect(config).toMatchObject({
        cmd: [webScript],
        entrypoint: ['sh', '-c'],
        workingDir: '/tmp',
        user: 'root',
        hostname: 'web-host',
        domainname: 'example.test',
        tty: false,
        openStdin: false,
        exposedPorts: [
          { port: 80, protocol: 'TCP' },
          { port: 9000, protocol: 'UDP' },
        ],
        image: BASE_IMAGE,
        volumes: [],
        stopSignal: 'SIGINT',
        stopTimeout: 5,
        healthcheck: {
          test: ['CMD', 'true'],
          intervalNanoseconds: SECOND_NS / 4,
          timeoutNanoseconds: 5 * SECOND_NS,
          retries: 3,
          startPeriodNanoseconds: 10 * SECOND_NS,
        },
      });
      // The container's variables come first, then those the image adds.
      expect(config.env.slice(0, 3)).toEqual([
        { name: 'GREETING', value: 'grüezi' },
        { name: 'EMPTY', value: '' },
        { name: 'FROM_ENGINE', value: null },
      ]);
      expect(config.env.map((variable) => variable.name)).toContain('PATH');
      expect(config.labels).toEqual(web.labels);
    });

    it('reports its host configuration: limits, restart policy, port bindings', async () => {
      const web = await facts(names.web);
      expect(web.hostConfig).toEqual({
        restartPolicy: { name: 'ON_FAILURE', maximumRetryCount: 2 },
        memoryBytes: MEMORY_LIMIT,
        memoryReservationBytes: MEMORY_RESERVATION,
        memorySwapBytes: MEMORY_SWAP,
        cpus: 0.5,
        cpuShares: 512,
        cpuQuota: null,
        cpuPeriod: null,
        cpusetCpus: '0',
        pidsLimit: 64,
        privileged: false,
        readonlyRootfs: false,
        publishAllPorts: false,
        autoRemove: false,
        init: false,
        binds: [`${volumeName}:/data`],
        networkMode: networkName,
        portBindings: [{ containerPort: 80, protocol: 'TCP', hostIp: null, hostPort }],
        capAdd: ['NET_ADMIN'],
        capDrop: ['MKNOD'],
        dns: ['192.0.2.53'],
        extraHosts: ['db.example.test:192.0.2.10'],
        pidMode: null,
        ipcMode: 'shareable',
        logDriver: 'json-file',
      });
    });

    it('lists its processes, with ps arguments, and rejects unsafe ones', async () => {
      const { container } = await app.query(TopQuery, { idOrName: names.web });
      const web = present(container, 'container');
      const top = present(web.top, 'top');
      expect(top.titles).toEqual(expect.arrayContaining(['UID', 'PID', 'CMD']));
      const sleeper = top.processes.find((process) => process.command === 'sleep 3600');
      expect(sleeper).toMatchObject({ pid: web.pid, user: 'root' });
      for (const process of top.processes) expect(process.values).toHaveLength(top.titles.length);

      const aux = await app.query(TopQuery, { idOrName: names.web, psArgs: 'aux' });
      const auxTop = present(aux.container?.top, 'top aux');
      expect(auxTop.titles).toEqual(expect.arrayContaining(['USER', 'PID', 'COMMAND']));
      expect(auxTop.processes).toContainEqual(
        expect.objectContaining({ pid: web.pid, user: 'root', command: 'sleep 3600' }),
      );

      const calls = await app.callsDuring(async () => {
        const rejected = await app.execute(TopQuery, {
          idOrName: ids.web,
          psArgs: 'aux; touch /tmp/pwned',
        });
        expect(rejected.data?.container?.top).toBeNull();
        expect(rejected.errors).toHaveLength(1);
        expect(rejected.errors?.[0]).toMatchObject({
          path: ['container', 'top'],
          extensions: { code: 'BAD_USER_INPUT', argument: 'psArgs' },
        });
        expect(rejected.errors?.[0]?.message).toContain('psArgs');
      });
      expect(calls.filter((call) => call.endsWith('/top'))).toEqual([]);
    });

    it('reports the file it wrote as a change and in its size', async () => {
      const { container } = await app.query(ChangesAndSizeQuery, { idOrName: names.web });
      const web = present(container, 'container');
      expect(web.changes).toContainEqual({ path: '/tmp/dg-added.txt', kind: 'ADDED' });
      expect(web.changes).toContainEqual({ path: '/tmp', kind: 'MODIFIED' });
      const size = present(web.size, 'size');
      expect(size.writableBytes).toBeGreaterThan(0);
      expect(present(size.rootFsBytes, 'rootFsBytes')).toBeGreaterThan(
        present(size.writableBytes, 'writableBytes'),
      );
    });

    it('reports sane resource figures', async () => {
      const { container } = await app.query(StatsQuery, { idOrName: names.web });
      const stats = present(container?.stats, 'stats');
      expect(stats.memoryUsageBytes).toBeGreaterThan(0);
      expect(stats.memoryLimitBytes).toBe(MEMORY_LIMIT);
      expect(stats.memoryPercent).toBeCloseTo((stats.memoryUsageBytes / MEMORY_LIMIT) * 100, 6);
      expect(stats.memoryPercent).toBeLessThan(100);
      expect(stats.pids).toBeGreaterThanOrEqual(1);
      expect(stats.pids).toBeLessThanOrEqual(64);
      expect(stats.onlineCpus).toBeGreaterThanOrEqual(1);
      expect(stats.cpuPercent).toBeGreaterThanOrEqual(0);
      expect(stats.cpuPercent).toBeLessThanOrEqual(100 * stats.onlineCpus);
      expect(stats.networkRxBytes).toBeGreaterThanOrEqual(0);
      expect(stats.networkTxBytes).toBeGreaterThanOrEqual(0);
      expect(stats.blockReadBytes).toBeGreaterThanOrEqual(0);
      expect(stats.blockWriteBytes).toBeGreaterThanOrEqual(0);
      const read = Date.parse(stats.read);
      expect(read).toBeGreaterThanOrEqual(setupStarted);
      expect(read).toBeLessThanOrEqual(Date.now() + 1000);
    });
  });

  describe('a container that exited with code 3', () => {
    it('reports its exit', async () => {
      const exited = await facts(names.exited);
      expect(exited.state).toBe('EXITED');
      expect(exited.exitCode).toBe(3);
      expect(exited.status).toMatch(/^Exited \(3\) .+ ago$/);
      expect(exited.pid).toBeNull();
      expect(exited.health).toBeNull();
      expect(exited.compose).toBeNull();
      expect(exited.command).toBe(
        "sh -c 'echo first; sleep 0.3; echo second >&2; sleep 0.3; echo third; exit 3'",
      );
      const started = Date.parse(present(exited.startedAt, 'startedAt'));
      const finished = Date.parse(present(exited.finishedAt, 'finishedAt'));
      expect(finished).toBeGreaterThanOrEqual(started + 500);
      expect(finished).toBeLessThanOrEqual(Date.now());
      // Unset limits and policies read as null / defaults.
      expect(exited.hostConfig).toMatchObject({
        restartPolicy: { name: 'NO', maximumRetryCount: 0 },
        memoryBytes: null,
        memoryReservationBytes: null,
        cpus: null,
        cpuShares: null,
        pidsLimit: null,
        portBindings: [],
        binds: [],
      });
      expect(exited.config?.healthcheck).toBeNull();
      expect(exited.ports).toEqual([]);
      expect(exited.mounts).toEqual([]);
    });

    it('has no processes and no resource figures', async () => {
      const top = await app.query(TopQuery, { idOrName: names.exited });
      expect(top.container).toMatchObject({ pid: null, top: null });
      const stats = await app.query(StatsQuery, { idOrName: names.exited });
      expect(stats.container).toEqual({ stats: null });
    });
  });

  describe('a created, never started container', () => {
    it('reports that it never ran', async () => {
      const created = await facts(names.created);
      expect(created).toMatchObject({
        state: 'CREATED',
        status: 'Created',
        exitCode: null,
        startedAt: null,
        finishedAt: null,
        pid: null,
        health: null,
        imageReference: childImage,
        image: { dockerId: childImageId, tags: [childImage] },
        command: "sh -c 'echo never'",
      });
      expect(created.labels).toContainEqual({ name: 'org.example.child', value: 'yes' });
    });

    it('is attached to its network, which it links, without an address yet', async () => {
      const created = await facts(names.created);
      expect(created.networks).toEqual([
        {
          networkName,
          network: expect.objectContaining({ dockerId: networkId, name: networkName }),
          endpointId: null,
          ipAddress: null,
          ipPrefixLength: null,
          gateway: null,
          ipv6Address: null,
          ipv6Gateway: null,
          macAddress: null,
          aliases: ['idle-alias'],
        },
      ]);
    });

    it('has no processes, no resource figures and no output', async () => {
      const top = await app.query(TopQuery, { idOrName: names.created });
      expect(top.container).toEqual({ pid: null, top: null });
      const stats = await app.query(StatsQuery, { idOrName: names.created });
      expect(stats.container).toEqual({ stats: null });
      const logs = await app.query(LogsQuery, { idOrName: names.created });
      expect(logs.container?.logs).toEqual({ truncated: false, lines: [] });
    });
  });

  describe('the list and the single lookup', () => {
    it('agree on every container', async () => {
      const { containers } = await app.query(ContainersQuery, { filter: { labels: [runLabel] } });
      expect(containers.totalCount).toBe(4);
      const listed = new Map(containers.edges.map((edge) => [edge.node.name, edge.node]));
      expect([...listed.keys()].sort()).toEqual(sortedNames('web', 'exited', 'tty', 'created'));
      // Newest first.
      const created = containers.edges.map((edge) => Date.parse(edge.node.created));
      expect(created).toEqual([...created].sort((a, b) => b - a));
      for (const name of Object.values(names)) {
        const fromList = present(listed.get(name), `${name} in the list`);
        const single = await facts(name);
        const comparable = (c: ContainerFacts) => ({
          id: c.id,
          dockerId: c.dockerId,
          name: c.name,
          names: c.names,
          image: c.image,
          imageReference: c.imageReference,
          command: c.command,
          created: c.created,
          state: c.state,
          exitCode: c.exitCode,
          ports: sortedPorts(c.ports),
          labels: c.labels,
          role: c.role,
          flag: c.flag,
          missingLabel: c.missingLabel,
          mounts: byDestination(c.mounts),
          networks: c.networks,
          config: c.config,
          hostConfig: c.hostConfig,
          compose: c.compose,
        });
        expect(comparable(fromList), name).toEqual(comparable(single));
      }
    });
  });

  describe('logs', () => {
    async function logs(variables: ContainerLogLinesQueryVariables) {
      const { container } = await app.query(LogsQuery, variables);
      return present(container, 'container').logs;
    }

    it('keep the stream of each line of a container without a TTY, in UTF-8', async () => {
      const all = await logs({ idOrName: names.web });
      expect(all.truncated).toBe(false);
      // stdout and stderr reach the log through separate pipes: only their own order is fixed.
      const of = (stream: string) =>
        all.lines.filter((line) => line.stream === stream).map((line) => line.message);
      expect(of('STDOUT')).toEqual(['out: hello from web', 'out: done é']);
      expect(of('STDERR')).toEqual(['err: café crème']);
      expect(all.lines).toHaveLength(3);
      for (const line of all.lines) {
        const timestamp = present(line.timestamp, 'timestamp');
        expect(timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{1,9}Z$/);
        expect(line.time).toBe(new Date(timestamp).toISOString());
      }

      const onlyStderr = await logs({ idOrName: names.web, stdout: false });
      expect(onlyStderr.lines.map((line) => [line.stream, line.message])).toEqual([
        ['STDERR', 'err: café crème'],
      ]);
      const onlyStdout = await logs({ idOrName: names.web, stderr: false });
      expect(onlyStdout.lines.map((line) => [line.stream, line.message])).toEqual([
        ['STDOUT', 'out: hello from web'],
        ['STDOUT', 'out: done é'],
      ]);
    });

    it('are all STDOUT for a container with a TTY', async () => {
      const tty = await facts(names.tty);
      expect(tty.config?.tty).toBe(true);
      expect(tty.state).toBe('EXITED');
      expect(tty.exitCode).toBe(0);
      expect(tty.status).toMatch(/^Exited \(0\) /);
      // Compose labels it lacks read as null or empty.
      expect(tty.compose).toEqual({
        project,
        service: 'worker',
        containerNumber: null,
        oneOff: true,
        workingDir: null,
        configFiles: [],
      });
      const all = await logs({ idOrName: names.tty });
      expect(all.lines.map((line) => [line.stream, line.message])).toEqual([
        ['STDOUT', 'tty: out'],
        ['STDOUT', 'tty: err é'],
      ]);
      for (const line of all.lines) expect(line.time).not.toBeNull();
      const onlyStderr = await logs({ idOrName: names.tty, stdout: false });
      expect(onlyStderr.lines).toEqual([]);
    });

    it('leave out times when timestamps is false', async () => {
      const plain = await logs({ idOrName: names.exited, timestamps: false });
      expect(plain.lines).toEqual([
        { stream: 'STDOUT', time: null, timestamp: null, message: 'first' },
        { stream: 'STDERR', time: null, timestamp: null, message: 'second' },
        { stream: 'STDOUT', time: null, timestamp: null, message: 'third' },
      ]);
    });

    it('honour tail, since and until', async () => {
      const all = await logs({ idOrName: names.exited });
      expect(all.lines.map((line) => line.message)).toEqual(['first', 'second', 'third']);
      const [, second, third] = all.lines;
      // The lines were written 0.3 s apart, so millisecond times separate them.
      const secondTime = present(second?.time, 'time of the second line');
      const beforeThird = new Date(
        Date.parse(present(third?.time, 'time of the third line')) - 1,
      ).toISOString();
      const messages = async (variables: Parameters<typeof logs>[0]) =>
        (await logs(variables)).lines.map((line) => line.message);

      expect(await messages({ idOrName: names.exited, tail: 2 })).toEqual(['second', 'third']);
      expect(await messages({ idOrName: names.exited, tail: 0 })).toEqual([]);
      expect(await messages({ idOrName: names.exited, tail: 10 })).toEqual([
        'first',
        'second',
        'third',
      ]);
      expect(await messages({ idOrName: names.exited, since: secondTime })).toEqual([
        'second',
        'third',
      ]);
      expect(await messages({ idOrName: names.exited, until: beforeThird })).toEqual([
        'first',
        'second',
      ]);
      expect(
        await messages({ idOrName: names.exited, since: secondTime, until: beforeThird }),
      ).toEqual(['second']);
    });

    it.each<{ args: Omit<ContainerLogLinesQueryVariables, 'idOrName'>; argument: string }>([
      { args: { tail: -1 }, argument: 'tail' },
      { args: { stdout: false, stderr: false }, argument: 'stdout' },
      {
        args: { since: '2024-05-01T12:00:01Z', until: '2024-05-01T12:00:00Z' },
        argument: 'until',
      },
    ])('reject $args, naming $argument', async ({ args, argument }) => {
      let result: GraphQLResponse<unknown> | undefined;
      const calls = await app.callsDuring(async () => {
        result = await app.execute(LogsQuery, { idOrName: ids.exited, ...args });
      });
      expect(result?.data).toEqual({ container: null });
      expect(result?.errors).toHaveLength(1);
      expect(result?.errors?.[0]).toMatchObject({
        path: ['container', 'logs'],
        extensions: { code: 'BAD_USER_INPUT', argument },
      });
      expect(result?.errors?.[0]?.message).toContain(`"${argument}"`);
      expect(calls.filter((call) => call.endsWith('/logs'))).toEqual([]);
    });
  });

  describe('containers(filter)', () => {
    it.each<{ title: string; filter: ContainerFilter; expected: (keyof typeof names)[] }>([
      { title: 'no further condition', filter: {}, expected: ['web', 'exited', 'tty', 'created'] },
      { title: 'state RUNNING', filter: { states: ['RUNNING'] }, expected: ['web'] },
      { title: 'state EXITED', filter: { states: ['EXITED'] }, expected: ['exited', 'tty'] },
      { title: 'state CREATED', filter: { states: ['CREATED'] }, expected: ['created'] },
      {
        title: 'states RUNNING or CREATED',
        filter: { states: ['RUNNING', 'CREATED'] },
        expected: ['web', 'created'],
      },
      { title: 'state PAUSED', filter: { states: ['PAUSED'] }, expected: [] },
      { title: 'a label key', filter: { labels: ['org.example.role'] }, expected: ['web', 'tty'] },
      {
        title: 'a label key=value',
        filter: { labels: ['org.example.role=backend'] },
        expected: ['tty'],
      },
      {
        title: 'a label with an empty value',
        filter: { labels: ['org.example.flag='] },
        expected: ['web'],
      },
      {
        title: 'two labels, both required',
        filter: { labels: ['org.example.role', 'org.example.tier'] },
        expected: [],
      },
      { title: 'health HEALTHY', filter: { health: ['HEALTHY'] }, expected: ['web'] },
      {
        title: 'health NONE',
        filter: { health: ['NONE'] },
        expected: ['exited', 'tty', 'created'],
      },
      { title: 'health STARTING', filter: { health: ['STARTING'] }, expected: [] },
      { title: 'exit code 3', filter: { exitCodes: [3] }, expected: ['exited'] },
      { title: 'exit code 0', filter: { exitCodes: [0] }, expected: ['tty'] },
      { title: 'exit codes 0 or 3', filter: { exitCodes: [0, 3] }, expected: ['exited', 'tty'] },
      { title: 'a volume destination', filter: { volumes: ['/data'] }, expected: ['web'] },
      {
        title: 'states and exit codes together',
        filter: { states: ['EXITED'], exitCodes: [3] },
        expected: ['exited'],
      },
    ])('selects by $title', async ({ filter, expected }) => {
      expect(await namesMatching(filter)).toEqual(sortedNames(...expected));
    });

    it('selects by name, as regular expressions', async () => {
      expect(await namesMatching({ names: [names.web] })).toEqual([names.web]);
      expect(await namesMatching({ names: [`^${names.exited}$`] })).toEqual([names.exited]);
      expect(await namesMatching({ names: [`^dg-(web|tty)-${fixtures.run}$`] })).toEqual(
        sortedNames('web', 'tty'),
      );
      expect(await namesMatching({ names: [names.web, names.created] })).toEqual(
        sortedNames('web', 'created'),
      );
      expect(await namesMatching({ names: [`dg-nothing-${fixtures.run}`] })).toEqual([]);
    });

    it('selects by ancestor image, descendants included', async () => {
      expect(await namesMatching({ ancestors: [childImage] })).toEqual([names.created]);
      expect(await namesMatching({ ancestors: [childImageId] })).toEqual([names.created]);
      expect(await namesMatching({ ancestors: [BASE_IMAGE] })).toEqual(
        sortedNames('web', 'exited', 'tty', 'created'),
      );
    });

    it('selects by network, by name or id', async () => {
      // A created container is on its network by name; the engine knows no network id
      // for it until it starts, so the id filter leaves it out.
      expect(await namesMatching({ networks: [networkName] })).toEqual(
        sortedNames('web', 'created'),
      );
      expect(await namesMatching({ networks: [networkId] })).toEqual([names.web]);
    });

    it('selects by volume name', async () => {
      expect(await namesMatching({ volumes: [volumeName] })).toEqual([names.web]);
    });

    it('selects by Compose project and service', async () => {
      expect(await namesMatching({ composeProject: project })).toEqual(sortedNames('web', 'tty'));
      expect(await namesMatching({ composeService: 'web' })).toEqual([names.web]);
      expect(await namesMatching({ composeProject: project, composeService: 'worker' })).toEqual([
        names.tty,
      ]);
      expect(await namesMatching({ composeProject: `${project}-other` })).toEqual([]);
    });

    it('selects by id and id prefix', async () => {
      expect(await namesMatching({ ids: [ids.web] })).toEqual([names.web]);
      expect(await namesMatching({ ids: [ids.exited.slice(0, 12), ids.tty] })).toEqual(
        sortedNames('exited', 'tty'),
      );
    });

    it.each<{ filter: ContainerFilter; argument: string }>([
      { filter: { labels: ['=value'] }, argument: 'filter.labels[0]' },
      { filter: { labels: ['ok', ''] }, argument: 'filter.labels[1]' },
      { filter: { labels: [' key'] }, argument: 'filter.labels[0]' },
      { filter: { exitCodes: [0, 256] }, argument: 'filter.exitCodes[1]' },
      { filter: { exitCodes: [-1] }, argument: 'filter.exitCodes[0]' },
      { filter: { ids: ['  '] }, argument: 'filter.ids[0]' },
      { filter: { names: [names.web, ''] }, argument: 'filter.names[1]' },
      { filter: { ancestors: [''] }, argument: 'filter.ancestors[0]' },
      { filter: { networks: [' '] }, argument: 'filter.networks[0]' },
      { filter: { volumes: [''] }, argument: 'filter.volumes[0]' },
      { filter: { composeProject: '' }, argument: 'filter.composeProject' },
      { filter: { composeService: 'a=b' }, argument: 'filter.composeService' },
    ])(
      'rejects $filter naming $argument, without calling the engine',
      async ({ filter, argument }) => {
        let result: GraphQLResponse<unknown> | undefined;
        const calls = await app.callsDuring(async () => {
          result = await app.execute(ContainerNamesQuery, { filter });
        });
        expect(calls).toEqual([]);
        expect(result?.data).toBeNull();
        expect(result?.errors).toHaveLength(1);
        expect(result?.errors?.[0]).toMatchObject({
          path: ['containers'],
          extensions: { code: 'BAD_USER_INPUT', argument },
        });
        expect(result?.errors?.[0]?.message).toContain(`"${argument}"`);
      },
    );
  });

  describe('container(idOrName)', () => {
    it.each([
      { how: 'name', key: () => names.web },
      { how: '"/name"', key: () => `/${names.web}` },
      { how: 'id', key: () => ids.web },
      { how: 'unique id prefix', key: () => ids.web.slice(0, 12) },
    ])('finds a container by $how', async ({ key }) => {
      const { container } = await app.query(ContainerLookupQuery, { idOrName: key() });
      expect(container).toEqual({ dockerId: ids.web, name: names.web });
    });

    it('answers null without an error for a missing container', async () => {
      const result = await app.execute(ContainerLookupQuery, {
        idOrName: `dg-missing-${fixtures.run}`,
      });
      expect(result).toEqual({ data: { container: null } });
    });

    it.each(['', '   ', '/', 'a/b', '/a/b'])(
      'rejects idOrName %j, naming it, without calling the engine',
      async (idOrName) => {
        let result: GraphQLResponse<unknown> | undefined;
        const calls = await app.callsDuring(async () => {
          result = await app.execute(ContainerLookupQuery, { idOrName });
        });
        expect(calls).toEqual([]);
        expect(result?.data).toEqual({ container: null });
        expect(result?.errors).toHaveLength(1);
        expect(result?.errors?.[0]).toMatchObject({
          path: ['container'],
          extensions: { code: 'BAD_USER_INPUT', argument: 'idOrName' },
        });
        expect(result?.errors?.[0]?.message).toContain('"idOrName"');
      },
    );
  });
});
