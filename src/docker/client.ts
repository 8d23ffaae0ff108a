import { setMaxListeners } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import type { EngineEndpoint } from './docker-host.ts';
import {
  errorFromResponse,
  errorFromTransport,
  isDroppedConnection,
  isEngineUnreachable,
} from './errors.ts';
import { type ReadAnswer, SharedReads } from './shared-reads.ts';
import {
  createTransport,
  type Transport,
  type TransportOptions,
  type TransportResponse,
  type TransportUpgrade,
} from './transport.ts';
import { negotiateApiVersion, type PingResult, parsePingHeaders } from './version.ts';

/**
 * A value for one query parameter; `undefined` leaves the parameter out. A list
 * repeats the parameter once per item, as `POST /build` reads its `t` (tags) and
 * `POST /images/create` its `changes`.
 */
export type QueryValue = string | number | boolean | readonly string[] | undefined;

/** One engine call, before versioning. `path` starts with `/`, e.g. `/containers/json`. */
export interface EngineCall {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';
  readonly path: string;
  readonly query?: Readonly<Record<string, QueryValue>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer | Readable;
  /** Milliseconds allowed for headers, for calls known to be slow (disk usage, stats). */
  readonly timeoutMs?: number;
  /** Milliseconds allowed between two body chunks: long for pulls and builds, 0 for endless streams. */
  readonly bodyTimeoutMs?: number;
  /** Statuses other than 2xx that the caller handles itself (e.g. 304, 404). */
  readonly acceptStatus?: readonly number[];
}

/** What the client reports of each engine call, for logs and tests. */
export interface EngineCallRecord {
  readonly method: string;
  /** Path without the version prefix, e.g. `/containers/json`. */
  readonly path: string;
  readonly query: string;
}

/** A connection the engine took over after `101 Switching Protocols`. */
export interface UpgradedConnection {
  readonly headers: IncomingHttpHeaders;
  /**
   * The raw connection, outside the pool: its owner ends or destroys it. It is
   * destroyed when the client view's signal aborts.
   */
  readonly socket: Duplex;
}

/** The negotiated connection facts of one engine. */
export interface EngineConnection {
  readonly ping: PingResult;
  /** The API version requests use. */
  readonly apiVersion: string;
}

type CallListener = (call: EngineCallRecord) => void;

/**
 * How an engine call went, told once its answer's headers came (or it failed
 * before them), for metrics and traces. Streams end long after: their duration is
 * the time to the engine's first answer.
 */
export interface EngineCallOutcome {
  readonly method: string;
  /** Path without the version prefix: template it (`path-template.ts`) before counting it. */
  readonly path: string;
  /** The engine's status, `101` for a connection it took over; null when no answer came. */
  readonly status: number | null;
  /** `performance.now()` when the call was sent, and when its answer (or failure) came. */
  readonly startedAt: number;
  readonly endedAt: number;
}

/** Told of each engine call's outcome; must not throw, nor take long: it runs on every call. */
export type CallOutcomeListener = (outcome: EngineCallOutcome) => void;

/** Raised instead of an engine call once an operation has made all the calls its budget allows. */
export class EngineCallBudgetError extends Error {
  override readonly name = 'EngineCallBudgetError';

  constructor(readonly limit: number) {
    super(
      `the operation needs more than ${limit} engine calls, the most one operation may make (DOCKERGRAPH_MAX_ENGINE_CALLS): ask for fewer objects or fields at once`,
    );
  }
}

/**
 * How many engine calls one operation may make: one GraphQL request, or one event
 * of a subscription ({@link renew} starts the count again). Shared by every view
 * made from the view it was given to.
 */
export class EngineCallBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /** Counts one call, or throws {@link EngineCallBudgetError} when none is left. */
  take(): void {
    if (this.used >= this.limit) throw new EngineCallBudgetError(this.limit);
    this.used += 1;
  }

  /** Starts counting again: a subscription's next event is an operation of its own. */
  renew(): void {
    this.used = 0;
  }
}

/** State shared by a client and every request-scoped view of it. */
interface SharedState {
  readonly transport: Transport;
  readonly endpoint: EngineEndpoint;
  readonly listeners: Set<CallListener>;
  readonly outcomeListeners: Set<CallOutcomeListener>;
  connection: Promise<EngineConnection> | null;
  /** Reads shared between requests (`shared-reads.ts`); null when each request reads alone. */
  readonly reads: SharedReads | null;
}

/** How a client is made: its transport's timeouts, and whether requests share reads. */
export interface ClientOptions extends TransportOptions {
  /** Identical engine reads of requests being answered at once are sent once (default true). */
  readonly sharedReads?: boolean;
}

/** Builds the query string, dropping undefined values and writing booleans as Docker reads them. */
export function toSearchParams(query: Readonly<Record<string, QueryValue>> | undefined) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    if (typeof value === 'object') {
      for (const item of value) params.append(key, item);
      continue;
    }
    params.set(key, typeof value === 'boolean' ? (value ? '1' : '0') : String(value));
  }
  return params;
}

/**
 * A client of one Docker engine: versioned requests over a pooled transport,
 * errors turned into {@link EngineError}, and calls counted for observers.
 * `withSignal` gives a view bound to one GraphQL request, so that a client
 * that goes away cancels its engine calls.
 */
export class DockerClient {
  /** Engine calls made through this view (each request-scoped view counts its own). */
  private calls = 0;
  /** Reads this view joined instead of sending them (`shared-reads.ts`). */
  private joined = 0;

  private constructor(
    private readonly shared: SharedState,
    private readonly signal: AbortSignal | undefined,
    /** Reviews every write before it is sent (`admission-gate.ts`); none on the server's own client. */
    private readonly gate: ((call: EngineCall) => Promise<EngineCall>) | undefined = undefined,
    private readonly budget: EngineCallBudget | null = null,
  ) {}

  /** How many engine calls this view has made. */
  get callCount(): number {
    return this.calls;
  }

  /** How many reads this view joined, made by another request's view (not in {@link callCount}). */
  get joinedReadCount(): number {
    return this.joined;
  }

  /**
   * Opens a client to `endpoint`; no connection is made until the first call. The
   * transport is undici's pool unless another is given (src/docker/fetch-transport.ts).
   */
  static create(
    endpoint: EngineEndpoint,
    options: ClientOptions,
    transport: Transport = createTransport(endpoint, options),
  ): DockerClient {
    return new DockerClient(
      {
        transport,
        endpoint,
        listeners: new Set(),
        outcomeListeners: new Set(),
        connection: null,
        reads: options.sharedReads === false ? null : new SharedReads(),
      },
      undefined,
    );
  }

  /** Where this client connects to. */
  get endpoint(): EngineEndpoint {
    return this.shared.endpoint;
  }

  /** A view of the same client whose calls are cancelled when `signal` aborts. */
  withSignal(signal: AbortSignal | undefined): DockerClient {
    // Each engine call in flight listens on the signal (undici removes the listener when the
    // call ends); one operation may run dozens at once, which is not a leak.
    if (signal) setMaxListeners(0, signal);
    return new DockerClient(this.shared, signal, this.gate, this.budget);
  }

  /**
   * A view of the same client whose writes `gate` reviews before they are sent;
   * views made from it (`withSignal`, `withBudget`) keep the gate.
   */
  withGate(gate: (call: EngineCall) => Promise<EngineCall>): DockerClient {
    return new DockerClient(this.shared, this.signal, gate, this.budget);
  }

  /**
   * Asks the gate about a write before sending it, for callers that would
   * otherwise change something first (a pull before a create); the gate asks
   * again, at no cost, when the write is sent, and sends it as admitted here.
   * Answers the call the gate would send.
   */
  async admit(call: EngineCall): Promise<EngineCall> {
    return this.gate ? this.gate(call) : call;
  }

  /**
   * A view of the same client (same signal) whose calls, and those of the views made
   * from it, count against `budget`: once it is spent, calls throw
   * {@link EngineCallBudgetError} without reaching the engine.
   */
  withBudget(budget: EngineCallBudget): DockerClient {
    return new DockerClient(this.shared, this.signal, this.gate, budget);
  }

  /** Calls `listener` for every engine call made through this client or any view of it. */
  observe(listener: CallListener): () => void {
    this.shared.listeners.add(listener);
    return () => this.shared.listeners.delete(listener);
  }

  /**
   * Calls `listener` with the outcome of every engine call made through this client or
   * any view of it (status and timing, for metrics and traces).
   */
  observeOutcomes(listener: CallOutcomeListener): () => void {
    this.shared.outcomeListeners.add(listener);
    return () => this.shared.outcomeListeners.delete(listener);
  }

  /** Tells the outcome listeners how a call went. */
  private reportOutcome(method: string, path: string, status: number | null, startedAt: number) {
    const { outcomeListeners } = this.shared;
    if (outcomeListeners.size === 0) return;
    const outcome = { method, path, status, startedAt, endedAt: performance.now() };
    for (const listener of outcomeListeners) listener(outcome);
  }

  /**
   * `HEAD /_ping`, unversioned: reachability and the engine's API version, which come in
   * headers, without the "OK" body. A refusal is asked again with `GET /_ping`: engines
   * before API 1.40 have no `HEAD /_ping` (404, 405), and a failure's words are in the body.
   * A successful ping also refreshes the negotiated version.
   */
  async ping(timeoutMs?: number): Promise<PingResult> {
    const ask = (method: 'HEAD' | 'GET') =>
      this.send(
        { method, path: '/_ping', ...(timeoutMs ? { timeoutMs } : {}) },
        '/_ping',
        'ping the engine',
      );
    let response = await ask('HEAD');
    // A HEAD answer has no body, so a refusal (404/405 from an engine without HEAD, or
    // any other failure, e.g. the 400 a TLS port gives plain HTTP) is asked again with GET,
    // whose body carries the engine's own words.
    if (response.status >= 300) {
      await response.body.dump();
      response = await ask('GET');
    }
    // A plain-HTTP ping to a TLS port is answered 400 by the engine: that is no engine to use.
    if (response.status >= 300) {
      const body = await response.body.text().catch(() => '');
      throw errorFromResponse(response.status, body, 'ping the engine');
    }
    await response.body.dump();
    const ping = parsePingHeaders(response.headers);
    this.shared.connection = Promise.resolve({
      ping,
      apiVersion: negotiateApiVersion(ping.apiVersion),
    });
    return ping;
  }

  /**
   * The negotiated API version and ping facts, pinging once and remembering the answer.
   * The ping is shared by every caller waiting for it, so it is sent without this view's
   * signal: the request that asked first leaving aborted it for all the others (every
   * request of a fresh server, the event hub's stream), which failed with its abort. This
   * view's signal ends only its own wait.
   */
  connection(): Promise<EngineConnection> {
    if (!this.shared.connection) {
      const unbound = new DockerClient(this.shared, undefined, this.gate, this.budget);
      const pending = unbound.ping().then(
        (ping) => ({ ping, apiVersion: negotiateApiVersion(ping.apiVersion) }),
        (error: unknown) => {
          // Forget the failure so the next call negotiates again when the engine is back.
          if (this.shared.connection === pending) this.shared.connection = null;
          throw error;
        },
      );
      this.shared.connection = pending;
    }
    return untilAborted(this.shared.connection, this.signal);
  }

  /** Sends a versioned call and returns the response with its body unread. */
  async request(given: EngineCall, what: string): Promise<TransportResponse> {
    // The gate answers the call to send: the same, or one naming what it reviewed by id.
    const call = this.gate ? await this.gate(given) : given;
    const { apiVersion } = await this.connection();
    const response = await this.send(call, `/v${apiVersion}${call.path}`, what);
    if (response.status < 300 || call.acceptStatus?.includes(response.status)) return response;
    const body = await response.body.text().catch(() => '');
    throw errorFromResponse(response.status, body, what);
  }

  /**
   * Sends a versioned call asking the engine to take the connection over
   * (`Connection: Upgrade`, `Upgrade: tcp`), as `POST /exec/{id}/start` and
   * `POST /containers/{id}/attach` do for two-way streams. Any answer other than
   * 101 becomes an {@link EngineError} as in {@link request}.
   */
  async upgrade(given: EngineCall, what: string): Promise<UpgradedConnection> {
    const call = this.gate ? await this.gate({ method: 'POST', ...given }) : given;
    const { apiVersion } = await this.connection();
    const query = toSearchParams(call.query);
    const method = call.method ?? 'POST';
    const record = { method, path: call.path, query: query.toString() };
    this.budget?.take();
    this.calls += 1;
    for (const listener of this.shared.listeners) listener(record);
    let answer: TransportUpgrade;
    const startedAt = performance.now();
    try {
      answer = await this.shared.transport.upgrade({
        method,
        path: `/v${apiVersion}${call.path}`,
        query,
        ...(call.headers ? { headers: call.headers } : {}),
        ...(call.body !== undefined ? { body: call.body } : {}),
        signal: this.signal,
        timeoutMs: call.timeoutMs,
        protocol: 'tcp',
      });
    } catch (error) {
      this.reportOutcome(method, call.path, null, startedAt);
      const { endpoint } = this.shared;
      throw errorFromTransport(error, what, endpoint.kind === 'tcp' && endpoint.tls !== null);
    }
    this.reportOutcome(method, call.path, answer.upgraded ? 101 : answer.status, startedAt);
    if (!answer.upgraded) throw errorFromResponse(answer.status, answer.body, what);
    const { socket } = answer;
    const signal = this.signal;
    if (signal) {
      const onAbort = () =>
        socket.destroy(signal.reason instanceof Error ? signal.reason : undefined);
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        socket.once('close', () => signal.removeEventListener('abort', onAbort));
      }
    }
    return { headers: answer.headers, socket };
  }

  /** Sends a versioned call and parses its JSON answer. */
  async json<T>(call: EngineCall, what: string): Promise<T> {
    const read = await this.readShared(call, what);
    if (read) return parseAnswer<T>(read, call.acceptStatus, what);
    return readJson<T>(await this.request(call, what), what);
  }

  /** Like {@link json}, but a 404 answer gives `null`: lookups of missing objects. */
  async jsonOrNull<T>(call: EngineCall, what: string): Promise<T | null> {
    const accepted = { ...call, acceptStatus: [404] };
    const read = await this.readShared(accepted, what);
    if (read) return read.status === 404 ? null : parseAnswer<T>(read, [404], what);
    const response = await this.request(accepted, what);
    if (response.status === 404) {
      await response.body.dump();
      return null;
    }
    return readJson<T>(response, what);
  }

  /**
   * The answer of a plain read (GET, no headers, no body) through the engine's shared
   * reads: sent by this view, or by another request's view that asked for the very same
   * read before it was sent. null for calls that are not shared: they go by {@link request}.
   * A joined read counts against this view's budget but not in its {@link callCount}.
   */
  private async readShared(given: EngineCall, what: string): Promise<ReadAnswer | null> {
    const { reads } = this.shared;
    if (!reads || (given.method ?? 'GET') !== 'GET' || given.headers || given.body !== undefined) {
      return null;
    }
    // The gate reviews reads that reach out of the engine, per principal: before sharing.
    const call = this.gate ? await this.gate(given) : given;
    const { apiVersion } = await this.connection();
    const path = `/v${apiVersion}${call.path}`;
    const query = toSearchParams(call.query).toString();
    const key = `${path}?${query} ${call.timeoutMs ?? ''} ${call.bodyTimeoutMs ?? ''}`;
    this.budget?.take();
    const read = reads.read(
      key,
      this.signal,
      async (signal) => {
        const response = await this.send(call, path, what, signal);
        try {
          return { status: response.status, body: await response.body.text() };
        } catch (error) {
          throw errorFromTransport(error, what);
        }
      },
      // The budget is the operation's, shared by all its views (WebSocket ones have no signal).
      this.budget ?? this.signal,
    );
    if (read.joined) this.joined += 1;
    try {
      return await read.answer;
    } catch (error) {
      // A reader that left gets the abort as its own call would have given it.
      throw errorFromTransport(error, what);
    }
  }

  /** Closes the pool; pending calls fail. */
  async close(): Promise<void> {
    await this.shared.transport.close();
  }

  /**
   * Sends one call with `signal` (the view's own unless a shared read gives one), counted for
   * this view and its listeners; its budget is taken here unless the caller took it.
   */
  private async send(
    call: EngineCall,
    path: string,
    what: string,
    shared?: AbortSignal,
  ): Promise<TransportResponse> {
    const query = toSearchParams(call.query);
    const record = { method: call.method ?? 'GET', path: call.path, query: query.toString() };
    if (!shared) this.budget?.take();
    this.calls += 1;
    for (const listener of this.shared.listeners) listener(record);
    const method = call.method ?? 'GET';
    const startedAt = performance.now();
    const request = {
      method,
      path,
      query,
      ...(call.headers ? { headers: call.headers } : {}),
      ...(call.body !== undefined ? { body: call.body } : {}),
      signal: shared ?? this.signal,
      timeoutMs: call.timeoutMs,
      bodyTimeoutMs: call.bodyTimeoutMs,
    };
    try {
      let response: TransportResponse;
      try {
        response = await this.shared.transport.request(request);
      } catch (error) {
        // A pooled connection the engine dropped while idle fails the next request on it;
        // reads are safe to send once more, on a fresh connection.
        const idempotent = method === 'GET' || method === 'HEAD';
        if (!idempotent || !isDroppedConnection(error) || request.signal?.aborted) throw error;
        response = await this.shared.transport.request(request);
      }
      this.reportOutcome(method, call.path, response.status, startedAt);
      return response;
    } catch (error) {
      this.reportOutcome(method, call.path, null, startedAt);
      const { endpoint } = this.shared;
      const converted = errorFromTransport(
        error,
        what,
        endpoint.kind === 'tcp' && endpoint.tls !== null,
      );
      // A restarted engine may speak another version: negotiate again next time.
      if (isEngineUnreachable(converted)) this.shared.connection = null;
      throw converted;
    }
  }
}

/** A shared read's answer for one reader: parsed anew (each request may change its own copy). */
function parseAnswer<T>(
  read: ReadAnswer,
  accepted: readonly number[] | undefined,
  what: string,
): T {
  if (read.status >= 300 && !accepted?.includes(read.status)) {
    throw errorFromResponse(read.status, read.body, what);
  }
  try {
    return JSON.parse(read.body) as T;
  } catch (error) {
    throw errorFromTransport(error, what);
  }
}

/** Parses an answer's JSON; a broken or cut-off body fails as the transport would. */
async function readJson<T>(response: TransportResponse, what: string): Promise<T> {
  try {
    return (await response.body.json()) as T;
  } catch (error) {
    throw errorFromTransport(error, what);
  }
}

/** `promise`, or the reason of `signal` once it aborts first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
