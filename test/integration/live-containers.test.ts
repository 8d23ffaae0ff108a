// Live container streams: the `containerLogs` and `containerStats` subscriptions over
// WebSocket (graphql-ws) against a started server. The server reaches the engine through a
// fault proxy (passing everything) so that the test sees the upstream connections themselves.
import { print } from 'graphql';
import { createClient as createSseClient } from 'graphql-sse';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineCallRecord } from '../../src/docker/client.ts';
import { followContainerLogs } from '../../src/docker/follow-logs.ts';
import { bufferDroppingOldest } from '../../src/docker/live-buffer.ts';
import type { RunningServer } from '../../src/server.ts';
import { graphql } from '../generated/gql.ts';
import type {
  FollowContainerLogsSubscription,
  WatchContainerStatsSubscription,
} from '../generated/graphql.ts';
import { collectSubscription } from '../helpers/collect-subscription.ts';
import { EngineFixtures } from '../helpers/docker-fixtures.ts';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const LogsSubscription = graphql(`
  subscription FollowContainerLogs($id: String!, $timestamps: Boolean) {
    containerLogs(id: $id, timestamps: $timestamps) {
      dropped
      line { stream message timestamp time }
    }
  }
`);

const StatsSubscription = graphql(`
  subscription WatchContainerStats($ids: [String!]!) {
    containerStats(ids: $ids) {
      containerId
      containerName
      dropped
      stats { read memoryLimitBytes memoryUsageBytes pids cpuPercent onlineCpus }
    }
  }
`);

type LogMessage = FollowContainerLogsSubscription['containerLogs'];
type StatsMessage = WatchContainerStatsSubscription['containerStats'];

/** What one subscriber received, in order, and whether its stream ended. */
interface Received<T> {
  readonly messages: T[];
  readonly errors: unknown[];
  readonly ended: boolean;
  until(predicate: (messages: readonly T[]) => boolean, what: string): Promise<unknown>;
  untilEnded(): Promise<unknown>;
  stop(): Promise<void>;
}

function receive<K extends string, T>(
  key: K,
  iterator: AsyncIterableIterator<{ data?: Record<K, T> | null | undefined; errors?: unknown }>,
): Received<T> {
  const collected = collectSubscription(key, iterator);
  return {
    messages: collected.messages,
    errors: collected.errors,
    get ended() {
      return collected.ended;
    },
    until: (predicate, what) =>
      collected.until((messages) => (predicate(messages) ? true : undefined), 15_000, what),
    untilEnded: () => collected.untilEnded(15_000),
    stop: () => collected.stop(),
  };
}

describe('live container subscriptions', () => {
  const fixtures = new EngineFixtures();
  const calls: EngineCallRecord[] = [];
  let proxy: FaultProxy;
  let running: RunningServer;
  let client: Client;
  let live: LiveServer | undefined;

  function followLogs(id: string): Received<LogMessage> {
    return receive(
      'containerLogs',
      client.iterate<{ containerLogs: LogMessage }>({
        query: print(LogsSubscription),
        variables: { id },
      }),
    );
  }

  function watchStats(ids: string[]): Received<StatsMessage> {
    return receive(
      'containerStats',
      client.iterate<{ containerStats: StatsMessage }>({
        query: print(StatsSubscription),
        variables: { ids },
      }),
    );
  }

  function callsTo(path: string): number {
    return calls.filter((call) => call.path === path).length;
  }

  async function execIn(id: string, cmd: string[]): Promise<void> {
    const exec = await fixtures.engine.json<{ Id: string }>(
      {
        method: 'POST',
        path: `/containers/${id}/exec`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ Cmd: cmd }),
      },
      'create exec',
    );
    await fixtures.send(
      {
        method: 'POST',
        path: `/exec/${exec.Id}/start`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ Detach: true }),
      },
      'start exec',
    );
  }

  beforeAll(async () => {
    proxy = await startFaultProxy();
    live = await startLiveServer(proxy.dockerHost);
    live.docker.observe((call) => calls.push(call));
    running = live.server;
    client = live.client;
  });

  afterAll(async () => {
    try {
      await live?.close();
      await proxy?.close();
    } finally {
      await fixtures.cleanup();
    }
  });

  it('follows stdout and stderr lines as they are written, and completes when the container stops', async () => {
    // The program waits for a go signal, so that every line is written after subscribing.
    const id = await fixtures.runContainer(fixtures.name('logs-follow'), {
      Cmd: [
        'sh',
        '-c',
        'while [ ! -e /tmp/go ]; do sleep 0.05; done; for i in 1 2 3; do echo out $i; echo err $i >&2; sleep 0.2; done',
      ],
    });
    const received = followLogs(id);
    await waitFor(() => callsTo(`/containers/${id}/logs`) === 1, {
      timeoutMs: 10_000,
      what: 'the logs to be followed',
    });
    await execIn(id, ['touch', '/tmp/go']);
    await received.until((messages) => messages.length >= 1, 'the first line');
    // The first line arrived while the program was still writing.
    expect(received.ended).toBe(false);
    await received.untilEnded();

    expect(received.errors).toEqual([]);
    const lines = received.messages.map((message) => message.line);
    expect(lines.filter((line) => line.stream === 'STDOUT').map((line) => line.message)).toEqual([
      'out 1',
      'out 2',
      'out 3',
    ]);
    expect(lines.filter((line) => line.stream === 'STDERR').map((line) => line.message)).toEqual([
      'err 1',
      'err 2',
      'err 3',
    ]);
    for (const line of lines) {
      expect(line.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
      expect(line.time).not.toBeNull();
    }
    expect(received.messages.every((message) => message.dropped === 0)).toBe(true);
    const state = await fixtures.engine.json<{ State: { Running: boolean } }>(
      { path: `/containers/${id}/json` },
      'inspect',
    );
    expect(state.State.Running).toBe(false);
  });

  it('closes the upstream logs request when the subscriber leaves', async () => {
    const requestsBefore = proxy.requestsSeen;
    const id = await fixtures.runContainer(fixtures.name('logs-leave'), {
      Cmd: ['sh', '-c', 'echo ready; sleep 3600'],
    });
    const received = followLogs(id);
    await received.until((messages) => messages.length >= 1, 'the first line');
    const upstream = await proxy.waitForRequest(
      new RegExp(`^GET /v[\\d.]+/containers/${id}/logs\\?follow=1`),
      { since: requestsBefore },
    );
    expect(upstream.closed).toBeNull();
    await received.stop();
    await proxy.waitForClose(upstream);
    expect(upstream.closed).toMatchObject({ byClient: true });
    expect(received.messages.map((message) => message.line.message)).toEqual(['ready']);
  });

  it("gives a TTY container's raw lines, all on STDOUT", async () => {
    const id = await fixtures.runContainer(
      fixtures.name('logs-tty'),
      { Tty: true, Cmd: ['sh', '-c', 'echo tty one; echo tty two >&2; printf "no newline"'] },
      true,
    );
    const received = followLogs(id);
    await received.untilEnded();
    expect(received.errors).toEqual([]);
    expect(received.messages.map((message) => [message.line.stream, message.line.message])).toEqual(
      [
        ['STDOUT', 'tty one'],
        ['STDOUT', 'tty two'],
        ['STDOUT', 'no newline'],
      ],
    );
  });

  it('gives a reader that falls behind the newest lines, saying how many older ones were dropped', async () => {
    const id = await fixtures.runContainer(
      fixtures.name('logs-slow'),
      { Cmd: ['sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do echo line $i; done'] },
      true,
    );
    const controller = new AbortController();
    const lines = await followContainerLogs(fixtures.engine, id, {
      tty: false,
      timestamps: false,
      stdout: true,
      stderr: true,
      signal: controller.signal,
    });
    const failures: unknown[] = [];
    const queue = bufferDroppingOldest(
      lines,
      3,
      () => controller.abort(),
      (error) => failures.push(error),
    );
    // Nothing is read until the engine has sent everything and ended the stream.
    await waitFor(() => queue.ended, { timeoutMs: 10_000, what: 'the log stream to end' });
    const delivered = [];
    for await (const item of queue) delivered.push([item.value.message, item.dropped]);
    expect(delivered).toEqual([
      ['line 8', 7],
      ['line 9', 0],
      ['line 10', 0],
    ]);
    expect(failures).toEqual([]);
  });

  it('fails with NOT_FOUND naming a missing container', async () => {
    const missing = fixtures.name('no-such-container');
    const logs = followLogs(missing);
    const stats = watchStats([missing]);
    await logs.untilEnded();
    await stats.untilEnded();
    for (const received of [logs, stats]) {
      expect(received.messages).toEqual([]);
      const text = JSON.stringify(received.errors);
      expect(text).toContain(missing);
      expect(text).toContain('NOT_FOUND');
    }
  });

  it('takes containers by global ID, as the mutations do, and refuses the ID of another type naming the argument', async () => {
    const id = await fixtures.runContainer(fixtures.name('by-global-id'), {
      Cmd: ['sh', '-c', 'echo by-global-id; exec sleep 3600'],
    });
    const lookup = collectSubscription(
      'container',
      client.iterate<{ container: { id: string } | null }>({
        query: `query GlobalIdOf($id: String!) { container(idOrName: $id) { id } }`,
        variables: { id },
      }),
    );
    await lookup.untilEnded(15_000);
    const globalId = lookup.messages[0]?.id ?? '';
    expect(globalId).not.toBe('');
    const logs = followLogs(globalId);
    const stats = watchStats([globalId]);
    await logs.until(
      (messages) => messages.some((message) => message.line.message === 'by-global-id'),
      'the line the container wrote',
    );
    await stats.until((messages) => messages.length >= 1, 'a sample');
    expect(logs.errors).toEqual([]);
    expect(stats.messages[0]?.containerId).toBe(id);
    await Promise.all([logs.stop(), stats.stop()]);

    const imageId = Buffer.from('Image:local:sha256:0', 'utf8').toString('base64url');
    const refused = watchStats([id, imageId]);
    await refused.untilEnded();
    expect(refused.messages).toEqual([]);
    expect(JSON.stringify(refused.errors)).toContain('ids[1]');
    expect(JSON.stringify(refused.errors)).toContain('not of a Container');
  });

  it('streams live stats and shares one upstream per container among its subscribers, closed when they leave', async () => {
    const memory = 64 * 1024 * 1024;
    const first = await fixtures.runContainer(fixtures.name('stats-1'), {
      HostConfig: { Memory: memory },
    });
    const second = await fixtures.runContainer(fixtures.name('stats-2'));
    const statsPath = `/containers/${first}/stats`;
    const requestsBefore = proxy.requestsSeen;

    const one = watchStats([first]);
    const both = watchStats([first.slice(0, 12), fixtures.name('stats-2')]);
    await one.until((messages) => messages.length >= 2, 'two samples of the first container');
    await both.until(
      (messages) =>
        messages.some((message) => message.containerId === first) &&
        messages.some((message) => message.containerId === second),
      'samples of both containers',
    );
    const upstream = await proxy.waitForRequest(
      new RegExp(`^GET /v[\\d.]+/containers/${first}/stats`),
      { since: requestsBefore },
    );

    expect(one.errors).toEqual([]);
    expect(both.errors).toEqual([]);
    expect(callsTo(statsPath)).toBe(1);
    expect(callsTo(`/containers/${second}/stats`)).toBe(1);
    for (const message of one.messages) {
      expect(message).toMatchObject({
        containerId: first,
        containerName: fixtures.name('stats-1'),
        dropped: 0,
        stats: { memoryLimitBytes: memory },
      });
      expect(message.stats.pids).toBeGreaterThanOrEqual(1);
      expect(message.stats.memoryUsageBytes).toBeGreaterThan(0);
      expect(message.stats.onlineCpus).toBeGreaterThanOrEqual(1);
    }
    expect(both.messages.find((message) => message.containerId === second)).toMatchObject({
      containerName: fixtures.name('stats-2'),
    });

    await one.stop();
    // The other subscriber still holds the upstream.
    const seen = both.messages.filter((message) => message.containerId === first).length;
    await both.until(
      (messages) => messages.filter((message) => message.containerId === first).length > seen,
      'a further sample after the first subscriber left',
    );
    expect(upstream.closed).toBeNull();
    await both.stop();
    await proxy.waitForClose(upstream);
    expect(upstream.closed).toMatchObject({ byClient: true });
    expect(callsTo(statsPath)).toBe(1);
  });

  // Last: it stops the server the other tests share. Over SSE, where nothing but the
  // server's own shutdown ends a stream that the engine keeps open.
  it('completes open logs and stats subscriptions and closes their upstreams when the server stops', async () => {
    const requestsBefore = proxy.requestsSeen;
    const id = await fixtures.runContainer(fixtures.name('shutdown'), {
      Cmd: ['sh', '-c', 'echo ready; sleep 3600'],
    });
    const sse = createSseClient({ url: `${running.url}/graphql`, retryAttempts: 0 });
    try {
      const logs = receive(
        'containerLogs',
        sse.iterate<{ containerLogs: LogMessage }>({
          query: print(LogsSubscription),
          variables: { id },
        }),
      );
      const stats = receive(
        'containerStats',
        sse.iterate<{ containerStats: StatsMessage }>({
          query: print(StatsSubscription),
          variables: { ids: [id] },
        }),
      );
      await logs.until((messages) => messages.length >= 1, 'the first line');
      await stats.until((messages) => messages.length >= 1, 'the first sample');
      const logsUpstream = await proxy.waitForRequest(
        new RegExp(`^GET /v[\\d.]+/containers/${id}/logs\\?follow=1`),
        { since: requestsBefore },
      );
      const statsUpstream = await proxy.waitForRequest(
        new RegExp(`^GET /v[\\d.]+/containers/${id}/stats`),
        { since: requestsBefore },
      );

      await running.stop(30_000);

      await logs.untilEnded();
      await stats.untilEnded();
      expect(logs.errors).toEqual([]);
      expect(stats.errors).toEqual([]);
      await proxy.waitForClose(logsUpstream);
      await proxy.waitForClose(statsUpstream);
      expect(logsUpstream.closed).toMatchObject({ byClient: true });
      expect(statsUpstream.closed).toMatchObject({ byClient: true });
    } finally {
      sse.dispose();
    }
  });
});
