import type { Duplex } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type { DockerClient } from './client.ts';
import { type DemuxedFrame, EngineStreamError, FrameDecoder, StreamFramingError } from './demux.ts';
import { notSupportedByPodman, podmanVersionBefore } from './engine-kind.ts';
import { EngineError, errorFromTransport } from './errors.ts';
import { encodePathSegment } from './filters.ts';

/** A command to run in a running container, as `docker exec` takes it. */
export interface ExecSpec {
  readonly cmd: readonly string[];
  /** `NAME=value` entries added to the container's environment. */
  readonly env?: readonly string[];
  readonly workingDir?: string;
  /** `user`, `user:group`, `uid` or `uid:gid`. */
  readonly user?: string;
  /** Run it on a pseudo-terminal: stdout and stderr merge, `\n` becomes `\r\n`. */
  readonly tty: boolean;
  /** Written to the process's standard input, which is then closed; no stdin when absent. */
  readonly stdin?: string;
}

/** How much of a process's output is kept, and how long it is awaited. */
export interface ExecLimits {
  /** Bytes of stdout and stderr together kept; the rest is read and dropped. */
  readonly maxOutputBytes: number;
  /** Stop waiting after this many milliseconds; the process keeps running. */
  readonly timeoutMs?: number;
}

/** What a finished (or no longer awaited) exec produced. */
export interface ExecOutcome {
  /** The engine's id of the exec instance. */
  readonly execId: string;
  /** The container it ran in, by full id. */
  readonly containerId: string;
  /** null when the process had not exited when the engine was last asked. */
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Output beyond `maxOutputBytes` was dropped. */
  readonly truncated: boolean;
  /** `timeoutMs` passed before the process ended its output. */
  readonly timedOut: boolean;
}

/** `GET /exec/{id}/json`, the fields dockergraph reads. */
export interface EngineExecInspect {
  ID: string;
  ContainerID: string;
  Running: boolean;
  /** null while the process runs. */
  ExitCode: number | null;
  /** The process id on the host; 0 before it started. */
  Pid: number;
  /** Whether stdout is attached: false for a detached exec. */
  OpenStdout?: boolean;
  /** Whether stderr is attached: false for a detached exec. */
  OpenStderr?: boolean;
  /** The program (`entrypoint`) and its `arguments`, and how it was started. */
  ProcessConfig?: {
    entrypoint?: string;
    arguments?: string[] | null;
    tty?: boolean;
    user?: string;
    privileged?: boolean;
  };
}

/**
 * Which standard streams an exec is attached to: `output` (stdout and stderr, and
 * stdin when `spec.stdin` is given: run to completion), `all` (an interactive
 * session: stdin stays open), `none` (detached: the engine discards its output).
 */
export type ExecStreams = 'output' | 'all' | 'none';

/**
 * `POST /containers/{id}/exec`: sets up an exec instance with stdout and stderr
 * attached (stdin too when `spec.stdin` is given); returns its id. A stopped or
 * paused container is a conflict (409), a missing one not found (404).
 */
export async function createExec(
  client: DockerClient,
  container: string,
  spec: ExecSpec,
  streams: ExecStreams = 'output',
): Promise<string> {
  const created = await client.json<{ Id: string }>(
    {
      method: 'POST',
      path: `/containers/${encodePathSegment(container)}/exec`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        AttachStdin: streams === 'all' || (streams === 'output' && spec.stdin !== undefined),
        AttachStdout: streams !== 'none',
        AttachStderr: streams !== 'none',
        Tty: spec.tty,
        Cmd: spec.cmd,
        Env: spec.env,
        WorkingDir: spec.workingDir,
        User: spec.user,
      }),
    },
    `create exec in container "${container}"`,
  );
  return created.Id;
}

/**
 * `POST /exec/{id}/start` without detaching: the engine answers `101` and hands
 * over the connection. It then carries the process's output (multiplexed frames,
 * or the raw terminal when it has a TTY) and takes its standard input.
 */
export async function startExec(client: DockerClient, execId: string, tty: boolean) {
  return client.upgrade(
    {
      method: 'POST',
      path: `/exec/${encodePathSegment(execId)}/start`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ Detach: false, Tty: tty }),
    },
    `start exec "${execId}"`,
  );
}

/**
 * `POST /exec/{id}/start` with `Detach: true`: the engine starts the process and
 * answers at once (200, no body), as `docker exec -d` does.
 */
export async function startDetachedExec(
  client: DockerClient,
  execId: string,
  tty: boolean,
): Promise<void> {
  const response = await client.request(
    {
      method: 'POST',
      path: `/exec/${encodePathSegment(execId)}/start`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ Detach: true, Tty: tty }),
    },
    `start exec "${execId}"`,
  );
  await response.body.dump();
}

/** A terminal's size in character cells. */
export interface TerminalSize {
  readonly cols: number;
  readonly rows: number;
}

/** `POST /exec/{id}/resize?h=&w=`: resizes the pseudo-terminal of an exec started with a TTY. */
export async function resizeExec(
  client: DockerClient,
  execId: string,
  size: TerminalSize,
): Promise<void> {
  const response = await client.request(
    {
      method: 'POST',
      path: `/exec/${encodePathSegment(execId)}/resize`,
      query: { h: size.rows, w: size.cols },
    },
    `resize exec "${execId}"`,
  );
  await response.body.dump();
}

/** `GET /exec/{id}/json`: whether the process runs, and its exit code once it ended. */
export function inspectExec(client: DockerClient, execId: string): Promise<EngineExecInspect> {
  return client.json<EngineExecInspect>(
    { path: `/exec/${encodePathSegment(execId)}/json` },
    `inspect exec "${execId}"`,
  );
}

/**
 * `GET /exec/{id}/json` for a reader that asks whether the process still runs and how it ended.
 * Podman before 4.6 cannot tell that of a detached exec: it reports one running until its
 * cleanup five minutes after it ended, then forgets it, and a state read in between has exit
 * code 0 whatever the process returned (Podman issue 18424). Such an exec answers
 * `EngineNotSupportedError` rather than a state that may be false.
 */
export async function inspectExecState(
  client: DockerClient,
  execId: string,
): Promise<EngineExecInspect> {
  const inspect = await inspectExec(client, execId);
  const detached = inspect.OpenStdout === false && inspect.OpenStderr === false;
  if (detached && (await podmanVersionBefore(client, 4, 6))) {
    throw notSupportedByPodman(
      `whether detached exec "${execId}" still runs and its exit code`,
      'before Podman 4.6 a detached exec is reported running until its cleanup 5 minutes after it ended, and its exit code is lost',
    );
  }
  return inspect;
}

/** Length of the longest prefix of `bytes` no longer than `max` that ends on a UTF-8 boundary. */
function utf8Prefix(bytes: Buffer, max: number): number {
  if (max >= bytes.length) return bytes.length;
  let cut = max;
  // Continuation bytes look like 0b10xxxxxx; never cut just before one.
  while (cut > 0 && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return cut;
}

/** Output kept up to a byte budget shared by stdout and stderr. */
class OutputCollector {
  readonly #stdout: Buffer[] = [];
  readonly #stderr: Buffer[] = [];
  #left: number;
  truncated = false;

  constructor(maxBytes: number) {
    this.#left = maxBytes;
  }

  add(frame: DemuxedFrame): void {
    if (frame.stream === 'stdin' || frame.payload.length === 0) return;
    if (this.truncated) return;
    const keep = utf8Prefix(frame.payload, this.#left);
    if (keep < frame.payload.length) this.truncated = true;
    if (keep === 0) return;
    // Frames may share memory with the socket's buffers: copy what is kept.
    const kept = Buffer.from(frame.payload.subarray(0, keep));
    (frame.stream === 'stdout' ? this.#stdout : this.#stderr).push(kept);
    this.#left -= keep;
  }

  text(stream: 'stdout' | 'stderr'): string {
    return Buffer.concat(stream === 'stdout' ? this.#stdout : this.#stderr).toString('utf8');
  }
}

/**
 * Reads the hijacked connection to its end (the process and every process
 * holding its output closed it), or until `timeoutMs`. Output past the budget is
 * read and dropped, so that the process is never blocked on a full pipe.
 */
async function readOutput(
  socket: Duplex,
  tty: boolean,
  output: OutputCollector,
  timeoutMs: number | undefined,
): Promise<{ timedOut: boolean }> {
  const decoder = tty ? null : new FrameDecoder();
  let timedOut = false;
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          socket.destroy();
        }, timeoutMs);
  try {
    for await (const chunk of socket as AsyncIterable<Buffer>) {
      if (decoder === null) output.add({ stream: 'stdout', payload: chunk });
      else for (const frame of decoder.push(chunk)) output.add(frame);
    }
    const last = decoder?.end();
    if (last) output.add(last);
  } catch (error) {
    // Destroying the socket without an error ends the iteration with a premature close.
    if (!timedOut) throw error;
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
  return { timedOut };
}

/**
 * The engine records an exit when containerd reports it, which may come just
 * after the output stream ended: ask a few times before answering "still running".
 */
const EXIT_RECORD_WAIT_MS = 2_000;

async function awaitExitCode(
  client: DockerClient,
  execId: string,
  patient: boolean,
): Promise<EngineExecInspect> {
  const deadline = Date.now() + (patient ? EXIT_RECORD_WAIT_MS : 0);
  for (let pause = 10; ; pause = Math.min(pause * 2, 200)) {
    const inspect = await inspectExec(client, execId);
    if (!inspect.Running || Date.now() >= deadline) return inspect;
    await delay(pause);
  }
}

/**
 * Runs a command in a running container to completion, as `docker exec` without
 * `-d` does: `POST /containers/{id}/exec`, `POST /exec/{id}/start` (hijacked
 * connection: stdin is written and closed, stdout and stderr are read to their
 * end), then `GET /exec/{id}/json` for the exit code.
 *
 * Output beyond `limits.maxOutputBytes` is dropped while the process still runs
 * to its end. After `limits.timeoutMs` dockergraph stops waiting and closes the
 * connection: the engine has no way to stop an exec, so the process keeps
 * running in the container (its further output is discarded by the engine) and
 * the exit code is null.
 */
export async function runExec(
  client: DockerClient,
  container: string,
  spec: ExecSpec,
  limits: ExecLimits,
): Promise<ExecOutcome> {
  const execId = await createExec(client, container, spec);
  const started = Date.now();
  const { socket } = await startExec(client, execId, spec.tty);
  const what = `run exec "${execId}" in container "${container}"`;
  const output = new OutputCollector(limits.maxOutputBytes);
  if (spec.stdin !== undefined) {
    // Closing our side of the connection is how the engine learns that stdin ended.
    socket.end(spec.stdin);
  }
  let timedOut: boolean;
  try {
    const timeoutMs =
      limits.timeoutMs === undefined
        ? undefined
        : Math.max(1, limits.timeoutMs - (Date.now() - started));
    ({ timedOut } = await readOutput(socket, spec.tty, output, timeoutMs));
  } catch (error) {
    if (error instanceof StreamFramingError || error instanceof EngineStreamError) {
      throw new EngineError('ENGINE_ERROR', `${what}: ${error.message}`, 200, { cause: error });
    }
    throw errorFromTransport(error, what);
  }
  const inspect = await awaitExitCode(client, execId, !timedOut);
  return {
    execId,
    containerId: inspect.ContainerID,
    exitCode: inspect.Running ? null : inspect.ExitCode,
    stdout: output.text('stdout'),
    stderr: output.text('stderr'),
    truncated: output.truncated,
    timedOut,
  };
}
