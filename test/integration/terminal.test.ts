// Terminals over WebSocket (`/terminal/{engine}/{container}/attach|exec`) against the real
// engine: round trips, resize, exit codes, the idle timeout and session cap, the audit lines,
// and the attacks a hostile client would try. Then detached exec and exec inspect.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { AuditRecord } from '../../src/plugins/audit-log.ts';
import { encodeNodeId, toNodeKey } from '../../src/schema/node-id.ts';
import { closeReason, type ServerControl } from '../../src/terminal-protocol.ts';
import { graphql } from '../generated/gql.ts';
import { randomToken, tokensEnv } from '../helpers/access.ts';
import { createTestApp } from '../helpers/app.ts';
import { auditRecordsIn } from '../helpers/audit-lines.ts';
import { EngineFixtures } from '../helpers/docker-fixtures.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';
import { expectType } from '../helpers/mutations.ts';
import { waitFor } from '../helpers/wait-for.ts';

const fixtures = new EngineFixtures();
const tokens = {
  admin: randomToken(),
  viewer: randomToken(),
  operator: randomToken(),
  limited: randomToken(),
};
const TEAM = { team: `pay-${fixtures.run}` };
const env = tokensEnv([
  { id: 'admin', role: 'admin', token: tokens.admin },
  { id: 'viewer', role: 'viewer', token: tokens.viewer },
  { id: 'operator', role: 'operator', token: tokens.operator },
  { id: 'payments', role: 'admin', token: tokens.limited, labels: TEAM },
]);

const shellName = fixtures.name('term-sh');
const attachName = fixtures.name('term-attach');
const teamName = fixtures.name('term-team');
let shellId = '';
let attachId = '';
let folder = '';
let auditPath = '';
let server: LiveServer;

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'dg-terminal-'));
  auditPath = join(folder, 'audit.log');
  [shellId, attachId] = await Promise.all([
    fixtures.runContainer(shellName),
    fixtures.runContainer(attachName, { Cmd: ['sh'], Tty: true, OpenStdin: true }),
    fixtures.runContainer(teamName, { Labels: TEAM }),
  ]);
  server = await startLiveServer(undefined, {
    env: { ...env, DOCKERGRAPH_AUDIT: auditPath, DOCKERGRAPH_RATE_LIMIT: '0' },
  });
}, 120_000);

afterAll(async () => {
  await server?.close();
  await fixtures.cleanup();
  rmSync(folder, { recursive: true, force: true });
});

/** How a session ended, as the client saw it. */
interface Closed {
  readonly code: number;
  readonly reason: string;
}

/** A terminal client as a browser page would be: output text, controls, and the close. */
class Terminal {
  output = '';
  readonly controls: ServerControl[] = [];
  readonly closed: Promise<Closed>;
  readonly started: Promise<ServerControl>;

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.output += data.toString('utf8');
      else this.controls.push(JSON.parse(data.toString('utf8')) as ServerControl);
    });
    this.closed = new Promise((resolve) => {
      socket.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') }));
    });
    this.started = waitFor(() => this.controls[0], {
      timeoutMs: 30_000,
      what: 'the session to start',
    });
    // A refused session closes before it starts: its close is what the test awaits then.
    this.started.catch(() => {});
  }

  type(text: string): void {
    this.socket.send(Buffer.from(text, 'utf8'), { binary: true });
  }

  resize(cols: number, rows: number): void {
    this.socket.send(JSON.stringify({ type: 'resize', cols, rows }));
  }

  async sees(text: string): Promise<void> {
    await waitFor(() => this.output.includes(text), {
      timeoutMs: 30_000,
      what: `"${text}" in the terminal (so far: ${JSON.stringify(this.output)})`,
    });
  }
}

/** Opens `path` on `target` (the shared server by default) with `token` in the browser's way. */
function open(
  path: string,
  token: string | undefined,
  { target = server, origin }: { target?: LiveServer; origin?: string } = {},
): Terminal {
  const protocols = ['dockergraph.terminal.v1'];
  if (token) protocols.push(`dockergraph.bearer.${Buffer.from(token).toString('base64url')}`);
  const url = `${target.server.url.replace(/^http/, 'ws')}${path}`;
  return new Terminal(new WebSocket(url, protocols, origin ? { origin } : {}));
}

/**
 * Opens `path` exactly as written, as a hostile client would send it: WebSocket clients (and
 * URL parsers) fold "..", "%2e%2e" and "." segments before sending. Answers the server's
 * first frame, which for a refused session is its close: code and reason.
 */
function openRaw(path: string, token: string): Promise<Closed> {
  const { hostname, port } = new URL(server.server.url);
  return new Promise((resolve, reject) => {
    const upgrade = httpRequest({
      hostname,
      port,
      path,
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'),
        authorization: `Bearer ${token}`,
      },
    });
    upgrade.once('response', (response) => reject(new Error(`answered ${response.statusCode}`)));
    upgrade.once('error', reject);
    upgrade.once('upgrade', (_response, socket, head) => {
      let bytes = head;
      const read = () => {
        // A server's frames are not masked; a close frame is 0x88, length (< 126), code, reason.
        if (bytes.length < 2 || bytes.length < 2 + (bytes[1] ?? 0)) return;
        socket.destroy();
        if (bytes[0] !== 0x88) reject(new Error(`first frame is not a close: ${bytes[0]}`));
        const length = bytes[1] ?? 0;
        resolve({
          code: bytes.readUInt16BE(2),
          reason: bytes.subarray(4, 2 + length).toString('utf8'),
        });
      };
      socket.on('data', (chunk: Buffer) => {
        bytes = Buffer.concat([bytes, chunk]);
        read();
      });
      read();
    });
    upgrade.end();
  });
}

function auditLines(): AuditRecord[] {
  return auditRecordsIn(readFileSync(auditPath, 'utf8')).filter(
    (record) => record.operationType === 'terminal',
  );
}

describe('exec sessions', () => {
  it('runs a shell on a terminal: input in, output out, exit code in the close reason', async () => {
    const terminal = open(`/terminal/local/${shellName}/exec?cmd=sh`, tokens.admin);
    const started = await terminal.started;
    expect(started).toMatchObject({ type: 'started', mode: 'exec', container: shellId, tty: true });
    // The terminal echoes what is typed; only the shell prints the sum.
    terminal.type('echo $((40+2))\n');
    await terminal.sees('42');
    terminal.type('exit 3\n');
    expect(await terminal.closed).toEqual({ code: 1000, reason: 'exit code 3' });
  });

  it('resizes the terminal: stty sees the new size', async () => {
    const terminal = open(`/terminal/local/${shellName}/exec`, tokens.admin);
    await terminal.started;
    terminal.resize(101, 33);
    terminal.type('stty size\n');
    await terminal.sees('33 101');
    terminal.type('exit\n');
    expect(await terminal.closed).toEqual({ code: 1000, reason: 'exit code 0' });
  });

  it('takes the token as an Authorization header from clients that are not browsers', async () => {
    const url = `${server.server.url.replace(/^http/, 'ws')}/terminal/local/${shellId}/exec?cmd=sh&cmd=-c&cmd=echo%20from-header`;
    const terminal = new Terminal(
      new WebSocket(url, { headers: { authorization: `Bearer ${tokens.admin}` } }),
    );
    await terminal.sees('from-header');
    expect(await terminal.closed).toEqual({ code: 1000, reason: 'exit code 0' });
  });

  it('audits start and end (who, container, command, exit), never what was typed', async () => {
    const marker = `typed-${fixtures.run}`;
    const terminal = open(`/terminal/local/${shellName}/exec?cmd=sh`, tokens.admin);
    const { execId } = await terminal.started;
    terminal.type(`echo ${marker} >/dev/null; exit 7\n`);
    expect(await terminal.closed).toEqual({ code: 1000, reason: 'exit code 7' });
    const lines = await waitFor(
      () => {
        const found = auditLines().filter((record) => record.variables?.execId === execId);
        return found.length === 2 ? found : null;
      },
      { timeoutMs: 10_000, what: 'the start and end audit lines' },
    );
    expect(lines).toEqual([
      expect.objectContaining({
        tokenId: 'admin',
        role: 'admin',
        operationType: 'terminal',
        operationName: 'exec',
        fields: ['terminal.start'],
        variables: {
          engine: 'local',
          container: shellName,
          cmd: ['sh'],
          containerId: shellId,
          execId,
        },
        outcome: 'ok',
        transport: 'websocket',
      }),
      expect.objectContaining({
        tokenId: 'admin',
        fields: ['terminal.end'],
        variables: expect.objectContaining({ execId, exitCode: 7, ended: 'exit code 7' }),
        outcome: 'ok',
      }),
    ]);
    expect(readFileSync(auditPath, 'utf8')).not.toContain(marker);
  });
});

describe('attach sessions', () => {
  it('attaches to the container’s own shell, and ends with its exit code', async () => {
    const terminal = open(`/terminal/local/${attachName}/attach`, tokens.admin);
    expect(await terminal.started).toMatchObject({
      mode: 'attach',
      container: attachId,
      tty: true,
    });
    terminal.type('echo $((6*7))\n');
    await terminal.sees('42');
    terminal.resize(90, 20);
    terminal.type('stty size\n');
    await terminal.sees('20 90');
    terminal.type('exit 5\n');
    expect(await terminal.closed).toEqual({ code: 1000, reason: 'container exited with code 5' });
  });
});

describe('limits', () => {
  it('closes an idle session with 4408', async () => {
    const idle = await startLiveServer(undefined, {
      env: { ...env, DOCKERGRAPH_TERMINAL_IDLE_SECONDS: '1' },
    });
    try {
      const terminal = open(`/terminal/local/${shellName}/exec`, tokens.admin, { target: idle });
      await terminal.started;
      expect(await terminal.closed).toEqual({
        code: 4408,
        reason: 'idle for 1 s (DOCKERGRAPH_TERMINAL_IDLE_SECONDS)',
      });
    } finally {
      await idle.close();
    }
  });

  it('refuses a session beyond the cap per token with 4429', async () => {
    const capped = await startLiveServer(undefined, {
      env: { ...env, DOCKERGRAPH_TERMINAL_SESSIONS_PER_TOKEN: '2' },
    });
    try {
      const first = open(`/terminal/local/${shellName}/exec`, tokens.admin, { target: capped });
      const second = open(`/terminal/local/${shellName}/exec`, tokens.admin, { target: capped });
      await Promise.all([first.started, second.started]);
      const third = open(`/terminal/local/${shellName}/exec`, tokens.admin, { target: capped });
      expect(await third.closed).toEqual({
        code: 4429,
        reason:
          'token "admin" (role "admin") has 2 terminal sessions open, the most allowed (DOCKERGRAPH_TERMINAL_SESSIONS_PER_TOKEN)',
      });
      // Another token has its own sessions.
      const other = open(`/terminal/local/${teamName}/exec`, tokens.limited, { target: capped });
      await other.started;
      for (const terminal of [first, second, other]) terminal.socket.close();
    } finally {
      await capped.close();
    }
  });
});

describe('attacks', () => {
  it('refuses a session without a token (4401) and audits the refusal', async () => {
    const terminal = open(`/terminal/local/${shellName}/exec`, undefined);
    const closed = await terminal.closed;
    expect(closed.code).toBe(4401);
    expect(closed.reason).toMatch(/^authentication required/);
    expect(terminal.controls).toEqual([]);
    await waitFor(
      () =>
        auditRecordsIn(readFileSync(auditPath, 'utf8')).find(
          (record) =>
            record.transport === 'websocket' &&
            record.outcome === 'denied' &&
            record.errors?.[0]?.message === 'no token presented',
        ),
      { timeoutMs: 10_000, what: 'the refused authentication in the audit log' },
    );
  });

  it('refuses a wrong token (4401)', async () => {
    const closed = await open(`/terminal/local/${shellName}/attach`, randomToken()).closed;
    expect(closed).toEqual({ code: 4401, reason: 'the token is not valid' });
  });

  it.each(['viewer', 'operator'] as const)(
    'refuses a %s without the dangerous permission (4403), before any engine call',
    async (role) => {
      let closed: Closed | undefined;
      const calls = await server.callsDuring(async () => {
        closed = await open(`/terminal/local/${shellName}/exec`, tokens[role]).closed;
      });
      expect(closed).toEqual({
        code: 4403,
        reason: `token "${role}" (role "${role}") may not open a terminal: it needs the "dangerous" permission`,
      });
      expect(calls).toEqual([]);
      const refusal = auditLines().find((record) => record.tokenId === role);
      expect(refusal).toMatchObject({
        operationName: 'exec',
        fields: ['terminal.start'],
        outcome: 'denied',
        errors: [{ field: 'terminal.start', code: 'FORBIDDEN' }],
      });
    },
  );

  it('answers a label-limited token as for a missing container, without touching it', async () => {
    let hidden: Closed | undefined;
    const calls = await server.callsDuring(async () => {
      hidden = await open(`/terminal/local/${shellName}/exec`, tokens.limited).closed;
    });
    const missingName = fixtures.name('missing');
    const missing = await open(`/terminal/local/${missingName}/exec`, tokens.admin).closed;
    expect(hidden).toEqual({ code: 4404, reason: `No such container: ${shellName}` });
    expect(missing).toEqual({ code: 4404, reason: `No such container: ${missingName}` });
    expect(calls.filter((call) => !call.startsWith('GET '))).toEqual([]);
    // By id, id prefix and attach alike.
    const byId = await open(`/terminal/local/${shellId.slice(0, 12)}/attach`, tokens.limited)
      .closed;
    expect(byId).toEqual({ code: 4404, reason: `No such container: ${shellId.slice(0, 12)}` });
    // Its own container opens.
    const own = open(`/terminal/local/${teamName}/exec?cmd=true`, tokens.limited);
    expect(await own.closed).toEqual({ code: 1000, reason: 'exit code 0' });
  });

  it('refuses the upgrade from a page of another site (403)', async () => {
    const socket = new WebSocket(
      `${server.server.url.replace(/^http/, 'ws')}/terminal/local/${shellName}/exec`,
      [
        'dockergraph.terminal.v1',
        `dockergraph.bearer.${Buffer.from(tokens.admin).toString('base64url')}`,
      ],
      { origin: 'https://evil.example' },
    );
    const status = await new Promise<number>((resolve, reject) => {
      socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.once('open', () => reject(new Error('the upgrade was accepted')));
      socket.once('error', () => {});
    });
    expect(status).toBe(403);
  });

  it('accepts the server’s own origin', async () => {
    const terminal = open(`/terminal/local/${shellName}/exec?cmd=true`, tokens.admin, {
      origin: server.server.url,
    });
    expect(await terminal.closed).toEqual({ code: 1000, reason: 'exit code 0' });
  });

  it('refuses the global ID of another type, and of another engine (4400)', async () => {
    const image = encodeNodeId('Image', toNodeKey('local', `sha256:${'a'.repeat(64)}`));
    const wrongType = await open(`/terminal/local/${encodeURIComponent(image)}/exec`, tokens.admin)
      .closed;
    // The reason is cut to what a close frame holds (123 bytes).
    expect(wrongType).toEqual({
      code: 4400,
      reason: closeReason(`"${image}" is the global ID of a Image, not of a Container`),
    });
    const elsewhere = encodeNodeId('Container', toNodeKey('other', shellId));
    const otherEngine = await open(
      `/terminal/local/${encodeURIComponent(elsewhere)}/exec`,
      tokens.admin,
    ).closed;
    expect(otherEngine).toEqual({
      code: 4400,
      reason: closeReason(`"${elsewhere}" is the global ID of an object on another engine`),
    });
    const ownId = encodeNodeId('Container', toNodeKey('local', shellId));
    const own = open(`/terminal/local/${encodeURIComponent(ownId)}/exec?cmd=true`, tokens.admin);
    expect(await own.closed).toEqual({ code: 1000, reason: 'exit code 0' });
  });

  it.each([
    ['/terminal/local/%2e%2e/exec', 4400, 'path segment "%2e%2e" is not a name'],
    [
      '/terminal/local/..%2F..%2Fgraphql/exec',
      4400,
      'path segment "..%2F..%2Fgraphql" is not a name',
    ],
    ['/terminal/../terminal/local/x/exec', 4400, 'path segment ".." is not a name'],
    ['/terminal/other/x/exec', 4404, 'no engine named "other"'],
    ['/terminal/local/x/shell', 4404, 'no terminal "shell": use attach or exec'],
  ])('refuses %s (%i) before any engine call', async (path, code, reason) => {
    let closed: Closed | undefined;
    const calls = await server.callsDuring(async () => {
      closed = await openRaw(path, tokens.admin);
    });
    expect(closed).toEqual({ code, reason });
    expect(calls).toEqual([]);
  });

  it('closes with 4400 on a text frame that is not a control message', async () => {
    const terminal = open(`/terminal/local/${shellName}/exec`, tokens.admin);
    await terminal.started;
    terminal.socket.send('ls\n');
    expect(await terminal.closed).toEqual({
      code: 4400,
      reason: 'a text frame must be a JSON control message; send input as binary frames',
    });
  });
});

const ExecDetached = graphql(`
  mutation ExecDetached($id: String!, $input: ExecDetachedInput!) {
    execDetached(id: $id, input: $input) {
      __typename
      ... on Exec { id running exitCode pid command tty container { name } }
      ... on MutationError { message }
    }
  }
`);

const ExecInspect = graphql(`
  query ExecInspect($id: String!) {
    exec(id: $id) { id running exitCode pid command }
  }
`);

describe('detached exec and exec inspect', () => {
  const app = createTestApp();

  afterAll(() => app.close());

  it('starts a process and returns at once; inspect follows it to its exit code', async () => {
    const { execDetached } = await app.query(ExecDetached, {
      id: shellName,
      input: { cmd: ['sh', '-c', 'sleep 2; exit 3'] },
    });
    const exec = expectType(execDetached, 'Exec');
    expect(exec).toMatchObject({
      running: true,
      exitCode: null,
      pid: expect.any(Number),
      command: ['sh', '-c', 'sleep 2; exit 3'],
      tty: false,
      container: { name: shellName },
    });
    const ended = await waitFor(
      async () => {
        const { exec: found } = await app.query(ExecInspect, { id: exec.id });
        return found?.running === false ? found : null;
      },
      { timeoutMs: 30_000, what: 'the detached exec to end' },
    );
    expect(ended).toEqual({
      id: exec.id,
      running: false,
      exitCode: 3,
      pid: exec.pid,
      command: exec.command,
    });
  });

  it('answers null for an exec the engine does not know, and refuses what is not an exec id', async () => {
    expect((await app.query(ExecInspect, { id: 'f'.repeat(64) })).exec).toBeNull();
    const answer = await app.execute(ExecInspect, { id: '../containers/json' });
    expect(answer.errors?.[0]?.message).toContain('"../containers/json" is not an exec id');
  });
});
