import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { type Dispatcher, Pool } from 'undici';
import type { EngineEndpoint } from './docker-host.ts';

/** Timeouts and limits of the connection pool to one engine. */
export interface TransportOptions {
  /** Milliseconds allowed to open a connection (TCP connect, TLS handshake, or unix socket). */
  readonly connectTimeoutMs: number;
  /** Default milliseconds allowed for response headers; a request may ask for more. */
  readonly requestTimeoutMs: number;
  /** Connections kept open to the engine at most. */
  readonly connections?: number;
}

/** One HTTP request to the engine; `path` already carries the API version prefix. */
export interface TransportRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';
  readonly path: string;
  readonly query?: URLSearchParams;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer | Readable;
  readonly signal?: AbortSignal | undefined;
  /** Milliseconds to wait for headers, overriding the pool default. */
  readonly timeoutMs?: number | undefined;
  /** Milliseconds allowed between two body chunks; 0 for streams that may idle. */
  readonly bodyTimeoutMs?: number | undefined;
}

/** The engine's answer before its body is read. */
export interface TransportResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Readable & {
    text(): Promise<string>;
    json(): Promise<unknown>;
    dump(): Promise<void>;
  };
}

/**
 * The engine's answer to a request that asked to take the connection over: the raw
 * connection once it answered `101 Switching Protocols`, or its ordinary answer
 * (an error, as a rule) with the body read, since it then kept HTTP.
 */
export type TransportUpgrade =
  | {
      readonly upgraded: true;
      readonly headers: IncomingHttpHeaders;
      /** Both directions of the connection; the pool no longer owns it. */
      readonly socket: Duplex;
    }
  | {
      readonly upgraded: false;
      readonly status: number;
      readonly headers: IncomingHttpHeaders;
      readonly body: string;
    };

/** A keep-alive connection pool to one engine endpoint. */
export interface Transport {
  request(request: TransportRequest): Promise<TransportResponse>;
  /**
   * Sends `request` with `Connection: Upgrade` and `Upgrade: <protocol>`, the way
   * the engine's attach and exec start endpoints hand over a two-way stream.
   */
  upgrade(request: TransportRequest & { readonly protocol: string }): Promise<TransportUpgrade>;
  close(): Promise<void>;
}

/** Error answers are small JSON messages; more than this is cut off. */
const MAX_REFUSAL_BYTES = 64 * 1024;

/**
 * Dispatches an upgrade request. undici's own `upgrade()` fails with "bad upgrade"
 * on any answer other than 101, losing the engine's status and message, so this
 * handler keeps both.
 */
function dispatchUpgrade(
  pool: Pool,
  options: Dispatcher.DispatchOptions,
  signal: AbortSignal | undefined,
): Promise<TransportUpgrade> {
  return new Promise((resolve, reject) => {
    let controller: Dispatcher.DispatchController | null = null;
    let status = 0;
    let headers: IncomingHttpHeaders = {};
    const parts: Buffer[] = [];
    let size = 0;
    const onAbort = () => controller?.abort(signal?.reason ?? new Error('aborted'));
    const settle = () => signal?.removeEventListener('abort', onAbort);
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    pool.dispatch(options, {
      onRequestStart(started) {
        controller = started;
        if (signal?.aborted) onAbort();
      },
      onRequestUpgrade(_controller, _statusCode, upgradeHeaders, socket) {
        settle();
        resolve({ upgraded: true, headers: upgradeHeaders, socket });
      },
      onResponseStart(_controller, statusCode, responseHeaders) {
        status = statusCode;
        headers = responseHeaders;
      },
      onResponseData(_controller, chunk) {
        if (size >= MAX_REFUSAL_BYTES) return;
        parts.push(chunk);
        size += chunk.length;
      },
      onResponseEnd() {
        settle();
        resolve({
          upgraded: false,
          status,
          headers,
          body: Buffer.concat(parts).subarray(0, MAX_REFUSAL_BYTES).toString('utf8'),
        });
      },
      onResponseError(_controller, error) {
        settle();
        reject(error);
      },
    });
  });
}

/**
 * Opens an undici `Pool` to the engine: over a unix socket, plain TCP, or TLS
 * with client certificates. The pool reconnects by itself, so an engine that
 * restarts is reached again on the next request.
 */
export function createTransport(endpoint: EngineEndpoint, options: TransportOptions): Transport {
  const common = {
    connections: options.connections ?? 32,
    headersTimeout: options.requestTimeoutMs,
    bodyTimeout: options.requestTimeoutMs,
    keepAliveTimeout: 10_000,
    // The engine closes idle connections itself; undici must not pipeline on them.
    pipelining: 1,
  };
  let pool: Pool;
  let basePath = '';
  if (endpoint.kind === 'unix') {
    // The host part is ignored on a unix socket, but HTTP/1.1 needs one.
    pool = new Pool('http://docker', {
      ...common,
      connect: { socketPath: endpoint.socketPath, timeout: options.connectTimeoutMs },
    });
  } else {
    const scheme = endpoint.tls ? 'https' : 'http';
    const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
    basePath = endpoint.basePath.replace(/\/+$/, '');
    const tls = endpoint.tls
      ? {
          ...(endpoint.tls.ca ? { ca: endpoint.tls.ca } : {}),
          ...(endpoint.tls.cert ? { cert: endpoint.tls.cert } : {}),
          ...(endpoint.tls.key ? { key: endpoint.tls.key } : {}),
          rejectUnauthorized: endpoint.tls.rejectUnauthorized,
        }
      : {};
    pool = new Pool(`${scheme}://${host}:${endpoint.port}`, {
      ...common,
      connect: { timeout: options.connectTimeoutMs, ...tls },
    });
  }

  return {
    async request(request) {
      const query = request.query?.toString();
      const response = await pool.request({
        method: request.method,
        path: `${basePath}${request.path}${query ? `?${query}` : ''}`,
        headers: request.headers ?? {},
        body: request.body ?? null,
        signal: request.signal ?? null,
        headersTimeout: request.timeoutMs ?? options.requestTimeoutMs,
        bodyTimeout: request.bodyTimeoutMs ?? request.timeoutMs ?? options.requestTimeoutMs,
      });
      return { status: response.statusCode, headers: response.headers, body: response.body };
    },
    upgrade(request) {
      const query = request.query?.toString();
      return dispatchUpgrade(
        pool,
        {
          method: request.method,
          path: `${basePath}${request.path}${query ? `?${query}` : ''}`,
          headers: request.headers ?? {},
          body: request.body ?? null,
          upgrade: request.protocol,
          headersTimeout: request.timeoutMs ?? options.requestTimeoutMs,
          bodyTimeout: request.timeoutMs ?? options.requestTimeoutMs,
        },
        request.signal,
      );
    },
    async close() {
      await pool.close();
    },
  };
}
