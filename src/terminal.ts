/**
 * Interactive terminals over WebSocket (`/terminal/…`): the protocol of
 * `terminal-protocol.ts` run over `ws` and the engine's hijacked attach and
 * exec connections.
 *
 * A session passes the checks of `/graphql` in the same order: the upgrade's
 * Host and Origin (in `server.ts`, shared with graphql-ws), the token (4401,
 * audited as a refused authentication), the rate limit of its token (one
 * operation per session; 4429), the `dangerous` permission and the read-only
 * switch (4403), the cap on sessions per token (4429), then the container as
 * the token's label limit lets it see it (4404 as for a missing one). Engine
 * calls pass the admission gate of the principal, as a mutation's do.
 *
 * Each session writes two audit lines, `terminal.start` and `terminal.end`:
 * who, which container, which command, how it ended; never its input or output.
 *
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import type { TerminalConfig } from './config.ts';
import { mayUseEngine } from './context.ts';
import { createAdmissionGate } from './docker/admission-gate.ts';
import { attachContainer, resizeContainer } from './docker/attach.ts';
import type { DockerClient } from './docker/client.ts';
import { FrameDecoder } from './docker/demux.ts';
import type { EngineRegistry } from './docker/engine-registry.ts';
import { EngineError } from './docker/errors.ts';
import {
  createExec,
  type ExecSpec,
  inspectExec,
  resizeExec,
  startExec,
  type TerminalSize,
} from './docker/exec.ts';
import { createLoaders } from './loaders.ts';
import type { Logger } from './logger.ts';
import type { AuditLog, AuditOutcome, AuditRecord } from './plugins/audit-log.ts';
import { admitOperations } from './plugins/rate-limit.ts';
import type { RequestGuards } from './plugins/request-guards.ts';
import { authenticationFailureRecord } from './plugins/use-audit.ts';
import { toEngineReference } from './schema/node-id.ts';
import type { AdmissionSettings } from './security/admission.ts';
import { PlacesPerToken } from './security/places-per-token.ts';
import {
  type Authenticator,
  can,
  describePrincipal,
  type Principal,
} from './security/principal.ts';
import {
  bearerFromSubprotocols,
  type ClientControl,
  closeReason,
  parseClientControl,
  parseTerminalRoute,
  type ServerControl,
  TERMINAL_CLOSE,
  TERMINAL_SUBPROTOCOL,
  type TerminalRoute,
} from './terminal-protocol.ts';

export interface TerminalServerOptions {
  /** The engines served: a route names one; one the principal may not see does not exist. */
  readonly engines: EngineRegistry;
  readonly authenticator: Authenticator;
  readonly guards: RequestGuards;
  readonly audit: AuditLog;
  readonly logger: Logger;
  readonly settings: TerminalConfig;
  readonly admission: AdmissionSettings;
  readonly readOnly: boolean;
  /** DOCKERGRAPH_MAX_BODY_BYTES: the largest input frame. */
  readonly maxMessageBytes: number;
}

/** The terminal routes' WebSocket server, fed upgrades by `server.ts`. */
export interface TerminalServer {
  readonly webSocketServer: WebSocketServer;
  /** Closes every session (1001) and the server. */
  close(): void;
}

/** Output queued towards a slow client beyond which the engine connection is paused. */
const MAX_PENDING_OUTPUT_BYTES = 1024 * 1024;

/** The engine records an exec's exit just after its stream ends: how long to ask for it. */
const EXIT_RECORD_WAIT_MS = 2_000;

/** Who opened a session, what it targets, for its audit lines. */
interface SessionFacts {
  readonly principal: Principal;
  readonly route: TerminalRoute;
  readonly clientAddress: string | null;
}

function terminalRecord(
  facts: SessionFacts,
  field: 'terminal.start' | 'terminal.end',
  details: Readonly<Record<string, unknown>>,
  outcome: AuditOutcome,
  error?: { code: string; message: string },
): AuditRecord {
  const { principal, route } = facts;
  return {
    time: new Date().toISOString(),
    tokenId: principal.tokenId,
    role: principal.role,
    operationType: 'terminal',
    operationName: route.mode,
    fields: [field],
    variables: {
      engine: route.engine,
      container: route.container,
      ...(route.mode === 'exec' ? { cmd: route.cmd } : {}),
      ...details,
    },
    outcome,
    ...(error ? { errors: [{ field, ...error }] } : {}),
    transport: 'websocket',
    clientAddress: facts.clientAddress,
  };
}

/** Whether a failure means the target does not exist (for this principal). */
function isNotFound(error: unknown): boolean {
  return error instanceof EngineError && error.kind === 'NOT_FOUND';
}

/** Creates the WebSocket server of the terminal routes (`noServer`: `server.ts` routes upgrades). */
export function createTerminalServer(options: TerminalServerOptions): TerminalServer {
  const webSocketServer = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxMessageBytes,
    // The token travels in a subprotocol from browsers: select only the protocol's own name.
    handleProtocols: (protocols) =>
      protocols.has(TERMINAL_SUBPROTOCOL) ? TERMINAL_SUBPROTOCOL : false,
  });
  const sessions = new PlacesPerToken(options.settings.sessionsPerToken);
  webSocketServer.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    void runSession(socket, request, options, sessions).catch((error: unknown) => {
      options.logger.error('terminal session failed', {
        error: error instanceof Error ? error.message : String(error),
      });
      if (socket.readyState === WebSocket.OPEN) {
        socket.close(TERMINAL_CLOSE.engineError, 'internal error');
      }
    });
  });
  return {
    webSocketServer,
    close() {
      for (const client of webSocketServer.clients) {
        client.close(TERMINAL_CLOSE.goingAway, 'server shutting down');
      }
      webSocketServer.close();
    },
  };
}

/** The principal of an upgrade request: its Authorization header, else its bearer subprotocol. */
function authorizationOf(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  if (header !== undefined) return header;
  const offered = (request.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((protocol) => protocol.trim());
  const token = bearerFromSubprotocols(offered);
  return token === undefined ? undefined : `Bearer ${token}`;
}

async function runSession(
  socket: WebSocket,
  request: IncomingMessage,
  options: TerminalServerOptions,
  sessions: PlacesPerToken,
): Promise<void> {
  const close = (code: number, reason: string) => {
    if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
      socket.close(code, closeReason(reason));
    }
  };
  // Input that arrives while the session is being set up is kept, in order.
  const early: { data: RawData; isBinary: boolean }[] = [];
  const keepEarly = (data: RawData, isBinary: boolean) => early.push({ data, isBinary });
  socket.on('message', keepEarly);
  let clientGone = false;
  socket.once('close', () => {
    clientGone = true;
  });

  const clientAddress = request.socket.remoteAddress ?? null;
  const authorization = authorizationOf(request);
  const authenticated = options.authenticator.authenticate(authorization);
  if (authenticated.failure) {
    options.audit.write(authenticationFailureRecord('websocket', authorization, clientAddress));
    close(TERMINAL_CLOSE.unauthorised, authenticated.failure.message);
    return;
  }
  const { principal } = authenticated;
  const routeOrProblem = parseTerminalRoute(request.url ?? '/');
  if ('problem' in routeOrProblem) {
    close(routeOrProblem.code, routeOrProblem.problem);
    return;
  }
  const route = routeOrProblem;
  const facts: SessionFacts = { principal, route, clientAddress };
  const refuse = (code: number, errorCode: string, message: string) => {
    options.audit.write(
      terminalRecord(facts, 'terminal.start', {}, 'denied', { code: errorCode, message }),
    );
    close(code, message);
  };
  const limited = await admitOperations(
    options.guards.rateLimiter,
    principal,
    1,
    options.guards.onStoreError,
  );
  if (limited) {
    refuse(TERMINAL_CLOSE.tooMany, 'RATE_LIMITED', limited.message);
    return;
  }
  if (!can(principal, 'dangerous')) {
    refuse(
      TERMINAL_CLOSE.forbidden,
      'FORBIDDEN',
      `${describePrincipal(principal)} may not open a terminal: it needs the "dangerous" permission`,
    );
    return;
  }
  if (options.readOnly) {
    refuse(TERMINAL_CLOSE.forbidden, 'READ_ONLY', 'terminals are refused in read-only mode');
    return;
  }
  const engine = options.engines.get(route.engine);
  if (!engine || !mayUseEngine(principal, engine)) {
    close(TERMINAL_CLOSE.notFound, `no engine named "${route.engine}"`);
    return;
  }
  const reference = toEngineReference(engine.name, 'Container', route.container);
  if ('problem' in reference) {
    close(TERMINAL_CLOSE.badRequest, reference.problem);
    return;
  }
  const release = sessions.take(principal.tokenId);
  if (!release) {
    refuse(
      TERMINAL_CLOSE.tooMany,
      'TOO_MANY_SESSIONS',
      `${describePrincipal(principal)} has ${sessions.held(principal.tokenId)} terminal sessions open, the most allowed (DOCKERGRAPH_TERMINAL_SESSIONS_PER_TOKEN)`,
    );
    return;
  }
  try {
    await serveSession(
      socket,
      options,
      engine.client,
      engine.retired,
      facts,
      reference.id,
      early,
      keepEarly,
      () => clientGone,
    );
  } finally {
    release();
  }
}

/** The engine side of a session once it is admitted: connects, pipes both ways, closes. */
async function serveSession(
  socket: WebSocket,
  options: TerminalServerOptions,
  client: DockerClient,
  retired: AbortSignal,
  facts: SessionFacts,
  reference: string,
  early: { data: RawData; isBinary: boolean }[],
  keepEarly: (data: RawData, isBinary: boolean) => void,
  clientGone: () => boolean,
): Promise<void> {
  const { principal, route } = facts;
  const started = performance.now();
  const docker = client.withGate(
    createAdmissionGate(client, {
      level: principal.admission,
      settings: options.admission,
      who: describePrincipal(principal),
    }),
  );
  const close = (code: number, reason: string) => {
    if (socket.readyState === WebSocket.OPEN) socket.close(code, closeReason(reason));
  };
  const notFound = `No such container: ${route.container}`;
  const container = await createLoaders(docker, principal.labels).containers.inspect.load(
    reference,
  );
  if (!container) {
    options.audit.write(
      terminalRecord(facts, 'terminal.start', {}, 'error', {
        code: 'NOT_FOUND',
        message: notFound,
      }),
    );
    close(TERMINAL_CLOSE.notFound, notFound);
    return;
  }
  // The container is named by the id that was inspected from here on: a rename cannot swap it.
  const containerId = container.Id;
  let tty = container.Config?.Tty === true;
  let execId: string | undefined;
  let engine: Duplex;
  try {
    if (route.mode === 'exec') {
      const spec: ExecSpec = {
        cmd: route.cmd,
        tty: true,
        ...(route.user ? { user: route.user } : {}),
        ...(route.workingDir ? { workingDir: route.workingDir } : {}),
      };
      tty = true;
      execId = await createExec(docker, containerId, spec, 'all');
      ({ socket: engine } = await startExec(docker, execId, true));
    } else {
      ({ socket: engine } = await attachContainer(docker, containerId));
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const code = isNotFound(error)
      ? 'NOT_FOUND'
      : error instanceof EngineError
        ? error.kind
        : 'ENGINE_ERROR';
    options.audit.write(
      terminalRecord(facts, 'terminal.start', { containerId }, 'error', { code, message }),
    );
    close(
      isNotFound(error)
        ? TERMINAL_CLOSE.notFound
        : error instanceof EngineError && error.kind === 'CONFLICT'
          ? TERMINAL_CLOSE.badRequest
          : TERMINAL_CLOSE.engineError,
      message,
    );
    return;
  }
  options.audit.write(
    terminalRecord(facts, 'terminal.start', { containerId, ...(execId ? { execId } : {}) }, 'ok'),
  );
  if (clientGone()) {
    engine.destroy();
  }

  let idleTimer: NodeJS.Timeout | undefined;
  let closedForIdle = false;
  const touch = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      closedForIdle = true;
      close(
        TERMINAL_CLOSE.idle,
        `idle for ${options.settings.idleMs / 1_000} s (DOCKERGRAPH_TERMINAL_IDLE_SECONDS)`,
      );
      engine.destroy();
    }, options.settings.idleMs);
  };
  touch();

  const resize = (size: TerminalSize) =>
    execId !== undefined
      ? resizeExec(docker, execId, size)
      : resizeContainer(docker, containerId, size);

  // Client messages run one after another, so a resize takes effect before the input after it.
  let chain = Promise.resolve();
  let badControl: string | null = null;
  const onMessage = (data: RawData, isBinary: boolean) => {
    touch();
    chain = chain.then(async () => {
      if (isBinary) {
        const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
        if (!engine.destroyed) engine.write(bytes);
        return;
      }
      const control: ClientControl | { problem: string } = parseClientControl(
        Buffer.isBuffer(data)
          ? data.toString('utf8')
          : Buffer.from(data as ArrayBuffer).toString('utf8'),
      );
      if ('problem' in control) {
        badControl = control.problem;
        close(TERMINAL_CLOSE.badRequest, control.problem);
        engine.destroy();
        return;
      }
      try {
        await resize({ cols: control.cols, rows: control.rows });
      } catch (error) {
        // A container without a TTY cannot be resized; the session goes on.
        options.logger.debug('terminal resize refused', {
          error: error instanceof Error ? error.message : String(error),
        });
      }
    });
  };
  socket.off('message', keepEarly);
  socket.on('message', onMessage);
  const ready: ServerControl = {
    type: 'started',
    mode: route.mode,
    container: containerId,
    tty,
    ...(execId ? { execId } : {}),
  };
  socket.send(JSON.stringify(ready));
  for (const { data, isBinary } of early.splice(0)) onMessage(data, isBinary);

  // Output: raw bytes with a TTY; payloads of the multiplexed frames without.
  const decoder = tty ? null : new FrameDecoder();
  let pending = 0;
  const forward = (bytes: Buffer) => {
    if (bytes.length === 0 || socket.readyState !== WebSocket.OPEN) return;
    pending += bytes.length;
    if (pending > MAX_PENDING_OUTPUT_BYTES) engine.pause();
    socket.send(bytes, { binary: true }, () => {
      pending -= bytes.length;
      if (pending <= MAX_PENDING_OUTPUT_BYTES && engine.isPaused()) engine.resume();
    });
  };
  engine.on('data', (chunk: Buffer) => {
    touch();
    if (decoder === null) forward(chunk);
    else {
      try {
        for (const frame of decoder.push(chunk)) {
          if (frame.stream !== 'stdin') forward(frame.payload);
        }
      } catch (error) {
        close(TERMINAL_CLOSE.engineError, error instanceof Error ? error.message : String(error));
        engine.destroy();
      }
    }
  });
  const clientClosed = new Promise<void>((resolve) => {
    if (socket.readyState === WebSocket.CLOSED) resolve();
    else socket.once('close', () => resolve());
  });
  const engineEnded = new Promise<'ended' | 'failed'>((resolve) => {
    engine.once('end', () => resolve('ended'));
    engine.once('close', () => resolve('ended'));
    engine.once('error', () => resolve('failed'));
  });
  // The engine leaving the configuration (removed, or changed by a reload: the token may no
  // longer see it) ends the session, as it ends the subscriptions on that engine.
  let onRetired = () => {};
  const engineRetired = new Promise<'retired'>((resolve) => {
    onRetired = () => resolve('retired');
    if (retired.aborted) resolve('retired');
    else retired.addEventListener('abort', onRetired, { once: true });
  });
  const first = await Promise.race([
    clientClosed.then(() => 'client' as const),
    engineEnded,
    engineRetired,
  ]);
  retired.removeEventListener('abort', onRetired);
  clearTimeout(idleTimer);
  let exitCode: number | null = null;
  let how: string;
  if (first === 'retired') {
    how = retired.reason instanceof Error ? retired.reason.message : 'the engine left';
    close(TERMINAL_CLOSE.goingAway, how);
    engine.destroy();
  } else if (first === 'client') {
    // Closing the hijacked connection detaches: an attached container keeps running.
    engine.destroy();
    how = closedForIdle
      ? 'idle timeout'
      : badControl !== null
        ? 'bad control message'
        : 'client closed';
  } else {
    await chain;
    if (execId !== undefined) {
      exitCode = await exitCodeOf(docker, execId);
      how = exitCode === null ? 'output ended' : `exit code ${exitCode}`;
    } else {
      how = 'attach stream ended';
      const after = await createLoaders(docker, principal.labels).containers.inspect.load(
        containerId,
      );
      if (after && after.State?.Running === false) {
        exitCode = after.State.ExitCode ?? null;
        how = `container exited with code ${exitCode ?? 'unknown'}`;
      }
    }
    close(first === 'failed' ? TERMINAL_CLOSE.engineError : TERMINAL_CLOSE.ended, how);
    engine.destroy();
  }
  options.audit.write({
    ...terminalRecord(
      facts,
      'terminal.end',
      { containerId, ...(execId ? { execId } : {}), ended: how, exitCode },
      'ok',
    ),
    durationMs: Math.round((performance.now() - started) * 10) / 10,
  });
}

/** An exec's exit code once the engine recorded it; null when it still runs after a short wait. */
async function exitCodeOf(docker: DockerClient, execId: string): Promise<number | null> {
  const deadline = Date.now() + EXIT_RECORD_WAIT_MS;
  for (let pause = 10; ; pause = Math.min(pause * 2, 200)) {
    const inspect = await inspectExec(docker, execId);
    if (!inspect.Running) return inspect.ExitCode;
    if (Date.now() >= deadline) return null;
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}
