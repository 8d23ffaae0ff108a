/**
 * Peak memory of the server under the resource-exhaustion attacks of issue 9: three
 * concurrent 150 MiB uploads (to a query that takes no file, as a viewer; and to
 * loadImages, as an admin), one 90 MiB WebSocket message, one `nodes` query of 8,000
 * IDs. Each attack gets a fresh server in its own process (`tsx src/server.ts`): its
 * resident memory once warmed up (VmRSS), its peak (VmHWM, from /proc/<pid>/status)
 * once the attack is answered, and the engine calls the server logged for it.
 *
 * Run with `npm run bench:attack-memory` (starts the private engine if needed).
 * `--server-dir DIR` runs the server of another checkout (e.g. one before the fix),
 * with this checkout's `node_modules` unless DIR has its own.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { hashToken } from '../src/security/principal.ts';
import { freePort } from '../test/helpers/free-port.ts';

const MiB = 1_024 * 1_024;
const here = resolve(import.meta.dirname, '..');
const dirFlag = process.argv.indexOf('--server-dir');
const serverDir = dirFlag > 0 ? resolve(process.argv[dirFlag + 1] ?? here) : here;

const started = execFileSync('bash', [join(here, 'scripts/engine.sh'), 'start'], {
  encoding: 'utf8',
});
const dockerHost = /DOCKER_HOST=(\S+)/.exec(started)?.[1];
if (!dockerHost) throw new Error(`scripts/engine.sh start printed no DOCKER_HOST: ${started}`);

const tokens = {
  admin: randomBytes(32).toString('base64url'),
  viewer: randomBytes(32).toString('base64url'),
};

/** A field of /proc/<pid>/status in KiB. */
function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match?.[1]) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]);
}

interface Server {
  readonly url: string;
  /** The Node process serving (not the tsx launcher). */
  readonly pid: number;
  /** Engine calls of the request log lines so far. */
  engineCalls(): number;
  stop(): Promise<void>;
}

async function startServerProcess(): Promise<Server> {
  const port = await freePort();
  // tsx runs the server in a child of its own: start node with tsx's loader instead, so that
  // the measured process is the server.
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(serverDir, 'src/server.ts')],
    {
      cwd: existsSync(join(serverDir, 'node_modules')) ? serverDir : here,
      env: {
        PATH: process.env.PATH,
        HOME: '/nonexistent',
        NODE_PATH: join(here, 'node_modules'),
        HOST: '127.0.0.1',
        PORT: String(port),
        DOCKER_HOST: dockerHost,
        DOCKERGRAPH_EMBEDDED_ENGINE: 'false',
        DOCKERGRAPH_AUDIT: 'off',
        LOG_LEVEL: 'info',
        DOCKERGRAPH_TOKENS: JSON.stringify({
          tokens: [
            { id: 'admin', role: 'admin', sha256: hashToken(tokens.admin) },
            { id: 'viewer', role: 'viewer', sha256: hashToken(tokens.viewer) },
          ],
        }),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let calls = 0;
  let buffered = '';
  const listening = new Promise<void>((done, fail) => {
    child.once('exit', (code) => fail(new Error(`server exited with ${code}`)));
    child.stdout?.on('data', (data: Buffer) => {
      buffered += data.toString('utf8');
      for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        try {
          const record = JSON.parse(line) as { msg?: string; engineCalls?: number };
          if (record.msg === 'dockergraph listening') done();
          if (record.msg === 'request') calls += record.engineCalls ?? 0;
        } catch {
          // Not a log line.
        }
      }
    });
  });
  await listening;
  const pid = child.pid;
  if (pid === undefined) throw new Error('no server pid');
  return {
    url: `http://127.0.0.1:${port}`,
    pid,
    engineCalls: () => calls,
    stop: () =>
      new Promise((done) => {
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}

async function post(server: Server, token: string, body: unknown): Promise<string> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return `${response.status} ${(await response.text()).slice(0, 120)}`;
}

const BOUNDARY = 'dockergraph-bench';

/** A multipart upload of `bytes` zero bytes, streamed; the answer's status and start. */
function upload(
  server: Server,
  token: string,
  operations: unknown,
  bytes: number,
): Promise<string> {
  return new Promise((done, fail) => {
    const request = httpRequest(`${server.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
        authorization: `Bearer ${token}`,
        'x-graphql-yoga-csrf': 'bench',
      },
    });
    const field = (name: string, value: string) =>
      `--${BOUNDARY}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    request.write(
      field('operations', JSON.stringify(operations)) +
        field('map', JSON.stringify({ 0: ['variables.file'] })) +
        `--${BOUNDARY}\r\ncontent-disposition: form-data; name="0"; filename="big.tar"\r\n\r\n`,
    );
    const chunk = Buffer.alloc(MiB);
    let sent = 0;
    let answered = false;
    const more = () => {
      while (!answered && sent < bytes) {
        sent += chunk.length;
        if (!request.write(chunk)) {
          request.once('drain', more);
          return;
        }
      }
      if (!answered) request.end(`\r\n--${BOUNDARY}--\r\n`);
    };
    request.on('response', (response) => {
      answered = true;
      let text = '';
      response.on('data', (data: Buffer) => {
        text += data.toString('utf8');
      });
      response.on('end', () => {
        request.destroy();
        done(`${response.statusCode} ${text.slice(0, 120)} (${Math.round(sent / MiB)} MiB sent)`);
      });
    });
    request.on('error', (error) => {
      if (!answered) fail(error);
    });
    more();
  });
}

/** Sends one subscribe message of about `bytes` over graphql-ws; how the socket ended. */
function bigWebSocketMessage(server: Server, token: string, bytes: number): Promise<string> {
  return new Promise((done, fail) => {
    const socket = new WebSocket(
      `${server.url.replace(/^http/, 'ws')}/graphql`,
      'graphql-transport-ws',
    );
    let last = '';
    socket.once('open', () =>
      socket.send(
        JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }),
      ),
    );
    socket.on('message', (data) => {
      const message = String(data);
      last = message.slice(0, 120);
      if (message.includes('connection_ack')) {
        socket.send(
          JSON.stringify({
            id: '1',
            type: 'subscribe',
            payload: { query: `{ __typename } #${'x'.repeat(bytes)}` },
          }),
        );
      } else if (message.includes('"complete"') || message.includes('"error"')) {
        socket.close();
      }
    });
    socket.once('error', fail);
    socket.once('close', (code) => done(`closed ${code} ${last}`));
  });
}

const nodesIds = Array.from({ length: 8_000 }, (_, i) =>
  Buffer.from(`Image:local:sha256:${i.toString(16).padStart(64, 'f')}`).toString('base64url'),
);

const attacks: Record<string, (server: Server) => Promise<string>> = {
  '3 × 150 MiB upload, viewer, query without File': async (server) =>
    (
      await Promise.all(
        [1, 2, 3].map(() =>
          upload(
            server,
            tokens.viewer,
            { query: 'query Q($file: String) { engine { name } }', variables: { file: null } },
            150 * MiB,
          ),
        ),
      )
    )[0] ?? '',
  '3 × 150 MiB loadImages upload, admin': async (server) =>
    (
      await Promise.all(
        [1, 2, 3].map(() =>
          upload(
            server,
            tokens.admin,
            {
              query: 'mutation L($file: File!) { loadImages(archive: $file) { __typename } }',
              variables: { file: null },
            },
            150 * MiB,
          ),
        ),
      )
    )[0] ?? '',
  '90 MiB WebSocket message': (server) => bigWebSocketMessage(server, tokens.admin, 90 * MiB),
  '8,000-id nodes query': (server) =>
    post(server, tokens.admin, {
      query: 'query N($ids: [ID!]!) { nodes(ids: $ids) { id } }',
      variables: { ids: nodesIds },
    }),
};

const rows: string[][] = [];
for (const [name, attack] of Object.entries(attacks)) {
  const server = await startServerProcess();
  try {
    await post(server, tokens.admin, { query: '{ engine { name } }' });
    const baseline = statusKiB(server.pid, 'VmRSS');
    const callsBefore = server.engineCalls();
    const outcome = await attack(server);
    // The request log line is written once the answer is sent.
    await new Promise((done) => setTimeout(done, 200));
    const peak = statusKiB(server.pid, 'VmHWM');
    const after = statusKiB(server.pid, 'VmRSS');
    rows.push([
      name,
      `${Math.round(baseline / 1_024)} MB`,
      `${Math.round(peak / 1_024)} MB`,
      `${Math.round(after / 1_024)} MB`,
      String(server.engineCalls() - callsBefore),
      outcome.replace(/\s+/g, ' ').slice(0, 90),
    ]);
  } finally {
    await server.stop();
  }
}

const header = ['attack', 'RSS before', 'peak RSS', 'RSS after', 'engine calls', 'answer'];
console.log(`server: ${serverDir}`);
console.log(`| ${header.join(' | ')} |`);
console.log(`| ${header.map(() => '---').join(' | ')} |`);
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
