// A container's life on Podman as a user drives it through GraphQL: create with ports, env,
// labels, a volume and a restart policy; start, stop, restart, kill, pause, unpause, rename,
// wait, remove; its logs and stats (queries and subscriptions), exec (buffered, detached,
// inspected), a terminal over WebSocket, and files uploaded and downloaded.
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { collectSubscription } from '../helpers/collect-subscription.ts';
import { BASE_IMAGE, createTar, EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';
import { readTar, tarEntry } from '../helpers/tar.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { type Answer, data, MUTATION_ERROR_FIELDS, mutate, run } from './operations.ts';

const CONTAINER_FIELDS = `
  dockerId name state exitCode restartCount
  labels { name value }
  config { env { name value } }
  hostConfig { restartPolicy { name maximumRetryCount } portBindings { containerPort protocol hostIp hostPort } }
  ports { privatePort protocol publicPort hostIp }
  mounts { type name destination volume { name } }
`;

interface ContainerAnswer {
  readonly dockerId: string;
  readonly name: string;
  readonly state: string;
  readonly exitCode: number | null;
  readonly restartCount: number;
  readonly labels: { name: string; value: string }[];
  readonly config: { env: { name: string; value: string }[] } | null;
  readonly hostConfig: {
    restartPolicy: { name: string; maximumRetryCount: number | null };
    portBindings: {
      containerPort: number;
      protocol: string;
      hostIp: string | null;
      hostPort: number | null;
    }[];
  } | null;
  readonly ports: {
    privatePort: number;
    protocol: string;
    publicPort: number | null;
    hostIp: string | null;
  }[];
  readonly mounts: {
    type: string;
    name: string | null;
    destination: string;
    volume: { name: string } | null;
  }[];
}

type ContainerPayload = Answer & { changed: boolean; container: ContainerAnswer | null };

/** One of the lifecycle mutations that take an id and answer the container. */
function lifecycle(field: string, extra = ''): string {
  return `mutation ($id: String!) {
    ${field}(id: $id${extra}) {
      ${MUTATION_ERROR_FIELDS}
      ... on ContainerPayload { changed container { ${CONTAINER_FIELDS} } }
    }
  }`;
}

describe('a container on Podman, from creation to removal', () => {
  const fixtures = new EngineFixtures();
  const name = fixtures.name('life');
  const renamed = fixtures.name('life-renamed');
  const volumeName = fixtures.name('life-vol');
  let app: TestApp;
  let id = '';

  beforeAll(() => {
    app = createTestApp();
  });

  afterAll(async () => {
    await fixtures.cleanup();
    await app?.close();
  });

  it('creates and starts a container with ports, env, labels, a volume and a restart policy', async () => {
    const created = await mutate<ContainerPayload>(
      app,
      'createContainer',
      `mutation ($input: CreateContainerInput!) {
        createContainer(input: $input, start: true) {
          ${MUTATION_ERROR_FIELDS}
          ... on ContainerPayload { changed container { ${CONTAINER_FIELDS} } }
        }
      }`,
      {
        input: {
          name,
          image: BASE_IMAGE,
          cmd: ['sh', '-c', 'echo started; echo warned >&2; exec sleep 3600'],
          env: [{ name: 'GREETING', value: 'hello podman' }],
          labels: [
            { name: TEST_LABEL, value: fixtures.run },
            { name: 'team', value: 'blue' },
          ],
          portBindings: [{ containerPort: 8080, hostIp: '127.0.0.1', hostPort: 18081 }],
          mounts: [
            {
              type: 'VOLUME',
              source: volumeName,
              target: '/data',
              volumeLabels: [{ name: TEST_LABEL, value: fixtures.run }],
            },
          ],
          restartPolicy: { name: 'ON_FAILURE', maximumRetryCount: 3 },
        },
      },
      'ContainerPayload',
    );
    const container = created.container;
    expect(container).toMatchObject({ name, state: 'RUNNING' });
    id = container?.dockerId ?? '';
    expect(container?.labels).toEqual(
      expect.arrayContaining([
        { name: TEST_LABEL, value: fixtures.run },
        { name: 'team', value: 'blue' },
      ]),
    );
    expect(container?.config?.env).toContainEqual({ name: 'GREETING', value: 'hello podman' });
    expect(container?.hostConfig?.restartPolicy).toEqual({
      name: 'ON_FAILURE',
      maximumRetryCount: 3,
    });
    expect(container?.hostConfig?.portBindings).toEqual([
      { containerPort: 8080, protocol: 'TCP', hostIp: '127.0.0.1', hostPort: 18081 },
    ]);
    expect(container?.ports).toEqual([
      { privatePort: 8080, protocol: 'TCP', publicPort: 18081, hostIp: '127.0.0.1' },
    ]);
    expect(container?.mounts).toEqual([
      { type: 'VOLUME', name: volumeName, destination: '/data', volume: { name: volumeName } },
    ]);
  });

  it('stops, starts again, and says when nothing changed', async () => {
    const stopped = await mutate<ContainerPayload>(
      app,
      'stopContainer',
      lifecycle('stopContainer', ', timeoutSeconds: 1'),
      { id },
      'ContainerPayload',
    );
    expect(stopped).toMatchObject({ changed: true, container: { state: 'EXITED' } });
    const again = await mutate<ContainerPayload>(
      app,
      'stopContainer',
      lifecycle('stopContainer', ', timeoutSeconds: 1'),
      { id },
      'ContainerPayload',
    );
    expect(again.changed).toBe(false);
    const started = await mutate<ContainerPayload>(
      app,
      'startContainer',
      lifecycle('startContainer'),
      { id },
      'ContainerPayload',
    );
    expect(started).toMatchObject({ changed: true, container: { state: 'RUNNING' } });
    const startedAgain = await mutate<ContainerPayload>(
      app,
      'startContainer',
      lifecycle('startContainer'),
      { id },
      'ContainerPayload',
    );
    expect(startedAgain.changed).toBe(false);
  });

  it('restarts a running container', async () => {
    const before = await data<{ container: { startedAt: string } }>(
      app,
      'query ($id: String!) { container(idOrName: $id) { startedAt } }',
      { id },
    );
    const restarted = await mutate<ContainerPayload>(
      app,
      'restartContainer',
      lifecycle('restartContainer', ', timeoutSeconds: 1'),
      { id },
      'ContainerPayload',
    );
    expect(restarted.container?.state).toBe('RUNNING');
    const after = await data<{ container: { startedAt: string } }>(
      app,
      'query ($id: String!) { container(idOrName: $id) { startedAt } }',
      { id },
    );
    expect(new Date(after.container.startedAt).getTime()).toBeGreaterThan(
      new Date(before.container.startedAt).getTime(),
    );
  });

  it('pauses and unpauses; pausing twice is a conflict', async () => {
    const paused = await mutate<ContainerPayload>(
      app,
      'pauseContainer',
      lifecycle('pauseContainer'),
      { id },
      'ContainerPayload',
    );
    expect(paused.container?.state).toBe('PAUSED');
    const twice = await data<{ pauseContainer: Answer }>(app, lifecycle('pauseContainer'), { id });
    expect(twice.pauseContainer.__typename).toBe('ConflictError');
    const unpaused = await mutate<ContainerPayload>(
      app,
      'unpauseContainer',
      lifecycle('unpauseContainer'),
      { id },
      'ContainerPayload',
    );
    expect(unpaused.container?.state).toBe('RUNNING');
    const notPaused = await data<{ unpauseContainer: Answer }>(app, lifecycle('unpauseContainer'), {
      id,
    });
    expect(notPaused.unpauseContainer.__typename).toBe('ConflictError');
  });

  it('renames the container, and refuses a name in use', async () => {
    const query = `mutation ($id: String!, $newName: String!) {
      renameContainer(id: $id, newName: $newName) {
        ${MUTATION_ERROR_FIELDS}
        ... on ContainerPayload { changed container { name } }
      }
    }`;
    const done = await mutate<Answer & { container: { name: string } }>(
      app,
      'renameContainer',
      query,
      { id, newName: renamed },
      'ContainerPayload',
    );
    expect(done.container).toEqual({ name: renamed });
    const other = fixtures.name('life-other');
    await fixtures.createContainer(other);
    const clash = await data<{ renameContainer: Answer }>(app, query, { id, newName: other });
    expect(clash.renameContainer.__typename).toBe('ConflictError');
  });

  it('kills the container with a signal and waits for its exit code', async () => {
    const waited = data<{ waitContainer: Answer & { exitCode: number } }>(
      app,
      `mutation ($id: String!) {
        waitContainer(id: $id) { ${MUTATION_ERROR_FIELDS} ... on ContainerExit { exitCode } }
      }`,
      { id },
    );
    const killed = await mutate<ContainerPayload>(
      app,
      'killContainer',
      lifecycle('killContainer', ', signal: "SIGKILL"'),
      { id },
      'ContainerPayload',
    );
    expect(killed.container?.dockerId).toBe(id);
    expect((await waited).waitContainer).toMatchObject({
      __typename: 'ContainerExit',
      exitCode: 137,
    });
    const notRunning = await data<{ killContainer: Answer }>(app, lifecycle('killContainer'), {
      id,
    });
    expect(notRunning.killContainer.__typename).toBe('ConflictError');
  });

  it('keeps a healthcheck and reports its health as starting (Podman runs checks from systemd timers)', async () => {
    const answer = await mutate<
      Answer & {
        container: { config: { healthcheck: { test: string[] } | null } | null; health: unknown };
      }
    >(
      app,
      'createContainer',
      `mutation ($input: CreateContainerInput!) {
        createContainer(input: $input, start: true) {
          ${MUTATION_ERROR_FIELDS}
          ... on ContainerPayload { container { config { healthcheck { test } } health { status failingStreak } } }
        }
      }`,
      {
        input: {
          name: fixtures.name('life-health'),
          image: BASE_IMAGE,
          cmd: ['sleep', '3600'],
          labels: [{ name: TEST_LABEL, value: fixtures.run }],
          healthcheck: { test: ['CMD-SHELL', 'true'], intervalSeconds: 1, retries: 1 },
        },
      },
      'ContainerPayload',
    );
    expect(answer.container.config?.healthcheck?.test).toEqual(['CMD-SHELL', 'true']);
    // Podman schedules each check with a systemd timer: on a host without systemd (as here) no
    // check runs and the health stays "starting"; dockergraph answers what Podman reports.
    expect(answer.container.health).toEqual({ status: 'STARTING', failingStreak: 0 });
  });

  it('removes the container, keeping its named volume, then answers not found', async () => {
    const query = `mutation ($id: String!) {
      removeContainer(id: $id, force: true) { ${MUTATION_ERROR_FIELDS} ... on RemoveContainerPayload { dockerId } }
    }`;
    const removed = await mutate(app, 'removeContainer', query, { id }, 'RemoveContainerPayload');
    expect(removed.dockerId).toBe(id);
    const gone = await data<{ container: unknown }>(
      app,
      'query ($id: String!) { container(idOrName: $id) { name } }',
      { id },
    );
    expect(gone.container).toBeNull();
    const again = await data<{ removeContainer: Answer }>(app, query, { id });
    expect(again.removeContainer.__typename).toBe('NotFoundError');
    // The named volume outlives its container, as on Docker.
    const volume = await data<{ volume: { name: string } | null }>(
      app,
      'query ($name: String!) { volume(name: $name) { name } }',
      { name: volumeName },
    );
    expect(volume.volume).toEqual({ name: volumeName });
  });
  it('prunes stopped containers by label', async () => {
    const stopped = fixtures.name('life-stopped');
    const stoppedId = await fixtures.createContainer(stopped, { Cmd: ['true'] });
    await fixtures.startContainer(stoppedId);
    await fixtures.waitContainer(stoppedId);
    const pruned = await mutate<Answer & { containersDeleted: string[] }>(
      app,
      'pruneContainers',
      `mutation ($labels: [String!]) {
        pruneContainers(filter: { labels: $labels }) { ${MUTATION_ERROR_FIELDS} ... on PruneContainersPayload { containersDeleted } }
      }`,
      { labels: [`${TEST_LABEL}=${fixtures.run}`] },
      'PruneContainersPayload',
    );
    expect(pruned.containersDeleted).toContain(stoppedId);
  });
});

describe('logs, stats, exec, terminals and files on Podman', () => {
  const fixtures = new EngineFixtures();
  const name = fixtures.name('run');
  const ttyName = fixtures.name('run-tty');
  let app: TestApp;
  let live: LiveServer;
  let id = '';

  beforeAll(async () => {
    app = createTestApp();
    live = await startLiveServer();
    [id] = await Promise.all([
      fixtures.runContainer(name, {
        Cmd: ['sh', '-c', 'echo first line; echo an error >&2; exec sleep 3600'],
      }),
      fixtures.runContainer(ttyName, { Cmd: ['sh'], Tty: true, OpenStdin: true }),
    ]);
  });

  afterAll(async () => {
    await live?.close();
    await fixtures.cleanup();
    await app?.close();
  });

  async function exec(
    command: string,
  ): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
    const answer = await mutate<
      Answer & { exitCode: number | null; stdout: string; stderr: string }
    >(
      app,
      'execInContainer',
      `mutation ($id: String!, $cmd: [String!]!) {
        execInContainer(id: $id, input: { cmd: $cmd }) { ${MUTATION_ERROR_FIELDS} ... on ExecResult { exitCode stdout stderr } }
      }`,
      { id, cmd: ['sh', '-c', command] },
      'ExecResult',
    );
    return { exitCode: answer.exitCode, stdout: answer.stdout, stderr: answer.stderr };
  }

  it('reads the logs, stdout and stderr apart', async () => {
    const lines = await waitFor(
      async () => {
        const answer = await data<{
          container: {
            logs: { lines: { stream: string; message: string; time: string | null }[] };
          };
        }>(
          app,
          'query ($id: String!) { container(idOrName: $id) { logs { lines { stream message time } } } }',
          { id },
        );
        const found = answer.container.logs.lines;
        return found.length >= 2 ? found : null;
      },
      { timeoutMs: 10_000, what: 'two log lines' },
    );
    expect(lines.map(({ stream, message }) => ({ stream, message }))).toEqual(
      expect.arrayContaining([
        { stream: 'STDOUT', message: 'first line' },
        { stream: 'STDERR', message: 'an error' },
      ]),
    );
    expect(new Date(lines[0]?.time ?? 0).getTime()).toBeGreaterThan(0);
  });

  it('follows the logs live', async () => {
    const collected = collectSubscription(
      'containerLogs',
      live.client.iterate<{ containerLogs: { line: { stream: string; message: string } } }>({
        query:
          'subscription ($id: String!) { containerLogs(id: $id, tail: 0) { line { stream message } } }',
        variables: { id },
      }),
    );
    try {
      // Written by the container's main process: what `docker logs -f` shows.
      await waitFor(
        async () => {
          await exec('echo live line > /proc/1/fd/1');
          return collected.messages.some((message) => message.line.message === 'live line');
        },
        { timeoutMs: 20_000, intervalMs: 500, what: 'the live line' },
      );
      expect(collected.errors).toEqual([]);
      expect(collected.messages[0]?.line).toEqual({ stream: 'STDOUT', message: 'live line' });
    } finally {
      await collected.stop();
    }
  });

  it('reads the stats once and follows them live', async () => {
    const once = await data<{
      container: { stats: { memoryUsageBytes: number; pids: number; read: string } | null };
    }>(
      app,
      'query ($id: String!) { container(idOrName: $id) { stats { memoryUsageBytes pids read } } }',
      { id },
    );
    expect(once.container.stats?.pids).toBeGreaterThanOrEqual(1);
    expect(once.container.stats?.memoryUsageBytes).toBeGreaterThan(0);
    const collected = collectSubscription(
      'containerStats',
      live.client.iterate<{
        containerStats: {
          containerId: string;
          containerName: string;
          stats: { pids: number; memoryUsageBytes: number };
        };
      }>({
        query:
          'subscription ($ids: [String!]!) { containerStats(ids: $ids) { containerId containerName stats { pids memoryUsageBytes } } }',
        variables: { ids: [name] },
      }),
    );
    try {
      const samples = await collected.until(
        (messages) => (messages.length >= 1 ? messages : undefined),
        20_000,
        'a stats sample',
      );
      expect(samples[0]).toMatchObject({ containerId: id, containerName: name });
      expect(samples[0]?.stats.pids).toBeGreaterThanOrEqual(1);
      expect(collected.errors).toEqual([]);
    } finally {
      await collected.stop();
    }
  });

  it('runs a command to its end: exit code, stdout and stderr', async () => {
    expect(await exec('echo out; echo err >&2; exit 3')).toEqual({
      exitCode: 3,
      stdout: 'out\n',
      stderr: 'err\n',
    });
  });

  it('starts a detached command; exec inspect of it is not supported by Podman 4.3', async () => {
    const query = `mutation ($id: String!, $cmd: [String!]!) {
      execDetached(id: $id, input: { cmd: $cmd }) { ${MUTATION_ERROR_FIELDS} ... on Exec { id running command container { name } } }
    }`;
    const cmd = ['sh', '-c', 'echo ran > /tmp/detached; exit 4'];
    const started = await mutate<Answer & { id: string; command: string[] }>(
      app,
      'execDetached',
      query,
      { id, cmd },
      'Exec',
    );
    expect(started).toMatchObject({ command: cmd, container: { name } });
    // The command runs: what it wrote is there.
    await waitFor(async () => (await exec('cat /tmp/detached 2>/dev/null')).stdout === 'ran\n', {
      timeoutMs: 20_000,
      what: 'the file the detached command writes',
    });
    // Podman 4.3 would report it running for 5 more minutes, then exit code 0.
    const inspected = await run<{ exec: unknown }>(
      app,
      'query ($id: String!) { exec(id: $id) { running exitCode } }',
      { id: started.id },
    );
    expect(inspected.data?.exec).toBeNull();
    expect(inspected.errors).toEqual([
      expect.objectContaining({
        message: expect.stringContaining('not supported by Podman'),
        extensions: { code: 'NOT_IMPLEMENTED', engine: 'podman' },
      }),
    ]);
  });

  it('reads back an exec that ran attached: ended, with its exit code', async () => {
    const terminal = openTerminal(`/terminal/local/${name}/exec?cmd=sh&cmd=-c&cmd=exit%206`);
    const started = (await terminal.started()) as { type: string; execId?: string };
    expect(await terminal.closed).toEqual({ code: 1000, reason: 'exit code 6' });
    const answer = await data<{ exec: { running: boolean; exitCode: number | null } | null }>(
      app,
      'query ($id: String!) { exec(id: $id) { running exitCode } }',
      { id: started.execId },
    );
    expect(answer.exec).toEqual({ running: false, exitCode: 6 });
  });

  /** A terminal client as the page would be: the output text and how the session closed. */
  function openTerminal(path: string) {
    const socket = new WebSocket(`${live.server.url.replace(/^http/, 'ws')}${path}`, [
      'dockergraph.terminal.v1',
    ]);
    const session = { output: '', controls: [] as { type: string }[] };
    socket.on('message', (message: Buffer, binary: boolean) => {
      if (binary) session.output += message.toString('utf8');
      else session.controls.push(JSON.parse(message.toString('utf8')) as { type: string });
    });
    const closed = new Promise<{ code: number; reason: string }>((resolve) => {
      socket.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') }));
    });
    return {
      session,
      closed,
      started: () =>
        waitFor(() => session.controls[0], {
          timeoutMs: 20_000,
          what: `the session on ${path} to start`,
        }),
      type: (text: string) => socket.send(Buffer.from(text, 'utf8'), { binary: true }),
      sees: (pattern: RegExp) =>
        waitFor(() => pattern.test(session.output), {
          timeoutMs: 20_000,
          what: `${pattern} in the terminal (so far: ${JSON.stringify(session.output)})`,
        }),
      close: () => socket.close(),
    };
  }

  it('runs a shell in a terminal over WebSocket: echo hi answers hi', async () => {
    const terminal = openTerminal(`/terminal/local/${name}/exec?cmd=sh`);
    expect(await terminal.started()).toMatchObject({
      type: 'started',
      mode: 'exec',
      container: id,
      tty: true,
    });
    terminal.type('echo hi\n');
    // The typed line is echoed back; the shell's answer is a line of its own.
    await terminal.sees(/\nhi\r?\n/);
    terminal.type('exit 5\n');
    expect(await terminal.closed).toEqual({ code: 1000, reason: 'exit code 5' });
  });

  it("attaches a terminal to a container's own shell", async () => {
    const terminal = openTerminal(`/terminal/local/${ttyName}/attach`);
    expect(await terminal.started()).toMatchObject({ type: 'started', mode: 'attach' });
    terminal.type('echo hi\n');
    await terminal.sees(/\nhi\r?\n/);
    terminal.close();
    await terminal.closed;
  });

  it("lists the container's filesystem changes and its size, and exports it", async () => {
    await exec('echo changed > /tmp/changed.txt');
    const answer = await data<{
      container: {
        changes: { kind: string; path: string }[];
        size: { rootFsBytes: number | null; writableBytes: number | null } | null;
        exportUrl: string;
      };
    }>(
      app,
      'query ($id: String!) { container(idOrName: $id) { changes { kind path } size { rootFsBytes writableBytes } exportUrl } }',
      { id },
    );
    expect(answer.container.changes).toContainEqual({ kind: 'ADDED', path: '/tmp/changed.txt' });
    expect(answer.container.size?.writableBytes).toBeGreaterThan(0);
    expect(answer.container.size?.rootFsBytes).toBeGreaterThan(0);
    const response = await app.app.fetch(`http://dockergraph.test${answer.container.exportUrl}`);
    expect(response.status).toBe(200);
    const entries = await readTar(Buffer.from(await response.arrayBuffer()));
    expect(tarEntry(entries, 'tmp/changed.txt').content.toString('utf8')).toBe('changed\n');
  });

  it('uploads files into the container and downloads them back', async () => {
    const content = 'uploaded to podman\n';
    const archive = createTar({ 'upload/hello.txt': content, 'upload/sub/nested.txt': 'nested\n' });
    const copied = await app.upload<
      { copyToContainer: Answer & { path: string } },
      { id: string; archive: null }
    >(
      parse(`mutation ($id: String!, $archive: File!) {
        copyToContainer(id: $id, path: "/tmp", archive: $archive) { ${MUTATION_ERROR_FIELDS} ... on ContainerFilesPayload { path } }
      }`),
      { id },
      archive,
    );
    expect(copied.copyToContainer).toEqual({ __typename: 'ContainerFilesPayload', path: '/tmp' });
    expect(await exec('cat /tmp/upload/hello.txt /tmp/upload/sub/nested.txt')).toEqual({
      exitCode: 0,
      stdout: `${content}nested\n`,
      stderr: '',
    });

    const files = await data<{
      container: {
        archiveUrl: string;
        file: { name: string; type: string; sizeBytes: number } | null;
      };
    }>(
      app,
      'query ($id: String!, $path: String!) { container(idOrName: $id) { archiveUrl(path: $path) file(path: $path) { name type sizeBytes } } }',
      { id, path: '/tmp/upload/hello.txt' },
    );
    expect(files.container.file).toEqual({
      name: 'hello.txt',
      type: 'FILE',
      sizeBytes: Buffer.byteLength(content),
    });
    const response = await app.app.fetch(`http://dockergraph.test${files.container.archiveUrl}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-tar');
    const entries = await readTar(Buffer.from(await response.arrayBuffer()));
    expect(tarEntry(entries, 'hello.txt').content.toString('utf8')).toBe(content);
  });
});
