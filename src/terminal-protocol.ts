/**
 * The terminal protocol: an interactive session with a container over one
 * WebSocket, for terminal emulators such as xterm.js. This module is the
 * protocol alone (routes, messages, close codes), pure; `terminal.ts` runs it
 * over `ws` and the engine.
 *
 * Routes (WebSocket upgrades, relative to the origin that serves `/graphql`):
 *
 * - `/terminal/{engine}/{container}/attach`: the container's own process
 *   (`docker attach`): its output from now on, and its standard input when it
 *   was created with stdin open. Closing the session detaches; the container
 *   keeps running.
 * - `/terminal/{engine}/{container}/exec?cmd=sh`: a new process on a
 *   pseudo-terminal (`docker exec -it`); `cmd` repeats for arguments
 *   (`?cmd=sh&cmd=-c&cmd=top`), `sh` when absent; `user` and `workingDir` are
 *   optional, as in `ExecInput`.
 *
 * `{engine}` is the configured engine name, `{container}` a global ID, engine
 * id, unique id prefix or name, each one percent-encoded path segment.
 *
 * Authentication: `Authorization: Bearer <token>` on the upgrade request, or,
 * from browsers (which cannot set headers on a WebSocket), the subprotocol
 * `dockergraph.bearer.<token as base64url>` offered beside
 * {@link TERMINAL_SUBPROTOCOL}, which the server selects.
 *
 * Frames:
 * - client → server, binary: bytes for the process's standard input.
 * - client → server, text: one JSON control message, {@link ClientControl}:
 *   `{"type":"resize","cols":80,"rows":24}` resizes the terminal. Anything else
 *   closes the session with 4400.
 * - server → client, binary: the process's output, as the terminal showed it
 *   (raw TTY bytes; without a TTY, stdout and stderr payloads in their order).
 * - server → client, text: one JSON {@link ServerControl}: `{"type":"started",…}`
 *   once the engine connection is open (input sent before it is kept and
 *   delivered in order).
 *
 * Close codes: {@link TERMINAL_CLOSE}. An exec's exit code is in the reason of
 * its 1000 close: `exit code 3`.
 *
 * @module
 */

/** The subprotocol a client offers (and the server selects) to speak this protocol. */
export const TERMINAL_SUBPROTOCOL = 'dockergraph.terminal.v1';

/** The prefix of the subprotocol that carries a bearer token, base64url-encoded. */
export const BEARER_SUBPROTOCOL_PREFIX = 'dockergraph.bearer.';

/** The path every terminal route starts with. */
export const TERMINAL_PREFIX = '/terminal/';

/** Why a session ended, as WebSocket close codes (4000–4999 are the application's). */
export const TERMINAL_CLOSE = {
  /** The process ended (exec: the reason carries its exit code) or the attach stream ended. */
  ended: 1000,
  /** The server is shutting down, or the session's engine left the configuration (a reload). */
  goingAway: 1001,
  /** The engine failed (connection lost, unexpected answer). */
  engineError: 1011,
  /** A malformed route, query or control message. */
  badRequest: 4400,
  /** No valid token. */
  unauthorised: 4401,
  /** The token lacks the `dangerous` permission. */
  forbidden: 4403,
  /** No such engine, route or container (or one the token's label limit hides). */
  notFound: 4404,
  /** Nothing went either way for DOCKERGRAPH_TERMINAL_IDLE_SECONDS. */
  idle: 4408,
  /** The token has DOCKERGRAPH_TERMINAL_SESSIONS_PER_TOKEN sessions open, or its rate limit ran out. */
  tooMany: 4429,
} as const;

/** A session's target, as its route names it. */
export type TerminalRoute =
  | { readonly engine: string; readonly container: string; readonly mode: 'attach' }
  | {
      readonly engine: string;
      readonly container: string;
      readonly mode: 'exec';
      readonly cmd: readonly string[];
      readonly user?: string;
      readonly workingDir?: string;
    };

/** A route that cannot be served: its close code and why. */
export interface RouteProblem {
  readonly code: number;
  readonly problem: string;
}

/** The path of a request line's target, as sent (no dot segments folded), without its query. */
export function rawPathOf(url: string): string {
  const queryStart = url.indexOf('?');
  return queryStart === -1 ? url : url.slice(0, queryStart);
}

/** Whether a request path is a terminal route (served by this protocol, whatever its remainder). */
export function isTerminalPath(pathname: string): boolean {
  return pathname.startsWith(TERMINAL_PREFIX);
}

const userPattern = /^[^:\s]+(:[^:\s]+)?$/;

/**
 * Reads a terminal route from the request's path and query (`url` as the
 * request line has it, e.g. `/terminal/local/web/exec?cmd=sh`). Segments are
 * percent-decoded one by one; one that decodes to a `/`, `.` or `..`, or to
 * nothing, is refused, so no segment can reach another route.
 */
export function parseTerminalRoute(url: string): TerminalRoute | RouteProblem {
  // The path as sent: a URL parser would fold "..", "%2e%2e" and "." segments away.
  const pathname = rawPathOf(url);
  const query = new URLSearchParams(url.slice(pathname.length + 1));
  if (!pathname.startsWith(TERMINAL_PREFIX)) {
    return { code: TERMINAL_CLOSE.notFound, problem: 'no terminal at this path' };
  }
  const raw = pathname.slice(TERMINAL_PREFIX.length).split('/');
  const segments: string[] = [];
  for (const segment of raw) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return { code: TERMINAL_CLOSE.badRequest, problem: 'the path is not valid percent-encoding' };
    }
    if (decoded === '' || decoded === '.' || decoded === '..' || /[/\\\0]/.test(decoded)) {
      return {
        code: TERMINAL_CLOSE.badRequest,
        problem: `path segment "${segment}" is not a name`,
      };
    }
    segments.push(decoded);
  }
  const [engine, container, mode, ...rest] = segments;
  if (engine === undefined || container === undefined || rest.length > 0) {
    return {
      code: TERMINAL_CLOSE.notFound,
      problem: 'terminal routes are /terminal/{engine}/{container}/attach or …/exec',
    };
  }
  if (mode === 'attach') return { engine, container, mode };
  if (mode !== 'exec') {
    return {
      code: TERMINAL_CLOSE.notFound,
      problem: `no terminal "${mode ?? ''}": use attach or exec`,
    };
  }
  const cmd = query.getAll('cmd');
  if (cmd.length === 0) cmd.push('sh');
  if (cmd[0]?.trim() === '') {
    return { code: TERMINAL_CLOSE.badRequest, problem: 'cmd: the program must not be empty' };
  }
  if (cmd.some((arg) => arg.includes('\0'))) {
    return { code: TERMINAL_CLOSE.badRequest, problem: 'cmd must not contain NUL' };
  }
  const user = query.get('user') ?? undefined;
  if (user !== undefined && !userPattern.test(user)) {
    return {
      code: TERMINAL_CLOSE.badRequest,
      problem: `user "${user}" is not "user", "user:group", "uid" or "uid:gid"`,
    };
  }
  const workingDir = query.get('workingDir') ?? undefined;
  if (workingDir !== undefined && !workingDir.startsWith('/')) {
    return {
      code: TERMINAL_CLOSE.badRequest,
      problem: `workingDir "${workingDir}" is not an absolute path`,
    };
  }
  return {
    engine,
    container,
    mode,
    cmd,
    ...(user !== undefined ? { user } : {}),
    ...(workingDir !== undefined ? { workingDir } : {}),
  };
}

/** A control message from the client (a text frame). */
export type ClientControl = {
  readonly type: 'resize';
  readonly cols: number;
  readonly rows: number;
};

/** The largest terminal side accepted, in cells (the kernel keeps sizes in 16 bits). */
export const MAX_TERMINAL_SIDE = 65_535;

function isSide(value: unknown): value is number {
  return (
    typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_TERMINAL_SIDE
  );
}

/** Reads a client's text frame: a {@link ClientControl}, or why it is not one. */
export function parseClientControl(text: string): ClientControl | { readonly problem: string } {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return { problem: 'a text frame must be a JSON control message; send input as binary frames' };
  }
  if (typeof message !== 'object' || message === null || !('type' in message)) {
    return { problem: 'a control message needs a "type"' };
  }
  if (message.type !== 'resize') {
    return { problem: `unknown control message type ${JSON.stringify(message.type)}` };
  }
  const { cols, rows } = message as { cols?: unknown; rows?: unknown };
  if (!isSide(cols) || !isSide(rows)) {
    return { problem: `resize needs integer "cols" and "rows" from 1 to ${MAX_TERMINAL_SIDE}` };
  }
  return { type: 'resize', cols, rows };
}

/** A control message from the server (a text frame). */
export type ServerControl = {
  readonly type: 'started';
  readonly mode: 'attach' | 'exec';
  /** The container's full id. */
  readonly container: string;
  /** Whether output is a terminal's (raw TTY bytes) rather than separate stdout and stderr. */
  readonly tty: boolean;
  /** The exec's id (exec sessions only). */
  readonly execId?: string;
};

/** The longest close reason WebSocket allows, in UTF-8 bytes. */
const MAX_REASON_BYTES = 123;

/** `reason` cut to what a close frame may carry, on a character boundary. */
export function closeReason(reason: string): string {
  let text = reason;
  while (Buffer.byteLength(text, 'utf8') > MAX_REASON_BYTES) text = text.slice(0, -1);
  return text;
}

/** The bearer token a client offered as a subprotocol, if any. */
export function bearerFromSubprotocols(protocols: Iterable<string>): string | undefined {
  for (const protocol of protocols) {
    if (!protocol.startsWith(BEARER_SUBPROTOCOL_PREFIX)) continue;
    const encoded = protocol.slice(BEARER_SUBPROTOCOL_PREFIX.length);
    if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return '';
    return Buffer.from(encoded, 'base64url').toString('utf8');
  }
  return undefined;
}
