import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { EngineEndpoint } from './docker-host.ts';
import { EngineError } from './errors.ts';
import type {
  Transport,
  TransportOptions,
  TransportRequest,
  TransportResponse,
  TransportUpgrade,
} from './transport.ts';

/** The WHATWG `fetch` signature: the global one, or a Workers binding's `fetch`. */
export type EngineFetch = (input: Request) => Promise<Response>;

/** An error whose `code` `errorFromTransport` (src/docker/errors.ts) classifies. */
class FetchTransportError extends Error {
  override readonly name = 'FetchTransportError';

  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Names of the endpoint's TLS material that plain `fetch` has no way to present. */
function unusableTlsMaterial(endpoint: EngineEndpoint): string[] {
  if (endpoint.kind !== 'tcp' || endpoint.tls === null) return [];
  const names: string[] = [];
  if (endpoint.tls.cert !== undefined) names.push('a client certificate');
  if (endpoint.tls.ca !== undefined) names.push('a custom CA');
  if (!endpoint.tls.rejectUnauthorized) names.push('skipping verification');
  return names;
}

/** Reads a whole body stream, for request bodies given as Node streams. */
async function collect(body: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of body) {
    parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(parts);
}

function toHeaders(headers: Headers): IncomingHttpHeaders {
  const result: IncomingHttpHeaders = {};
  headers.forEach((value, name) => {
    result[name] = value;
  });
  return result;
}

/** A fetch `Response` body as the Node stream the engine client reads, with undici's helpers. */
function toBody(response: Response): TransportResponse['body'] {
  const web = response.body;
  async function* chunks(): AsyncGenerator<Buffer> {
    if (web === null) return;
    const reader = web.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      }
    } finally {
      // A consumer that stops early (an ended subscription) cancels the engine stream.
      await reader.cancel().catch(() => undefined);
    }
  }
  const stream = Readable.from(chunks(), { objectMode: false });
  const text = async () => (await collect(stream)).toString('utf8');
  return Object.assign(stream, {
    text,
    json: async (): Promise<unknown> => JSON.parse(await text()),
    dump: async () => {
      stream.destroy();
    },
  });
}

/**
 * A transport over WHATWG `fetch`, for runtimes without undici or sockets (Cloudflare
 * Workers). It reaches TCP engines only: plain HTTP, or HTTPS verified against the
 * platform's CAs. A client certificate cannot be given to `fetch`; on Workers it comes
 * from an mTLS certificate binding, whose `fetch` is passed here as `engineFetch`.
 * Upgrades (exec, attach) are not possible over `fetch` and fail with a clear error.
 */
export function createFetchTransport(
  endpoint: EngineEndpoint,
  options: TransportOptions,
  engineFetch?: EngineFetch,
): Transport {
  if (endpoint.kind === 'unix') {
    throw new Error(
      'the fetch transport (DOCKERGRAPH_ENGINE_TRANSPORT=fetch) reaches TCP engines only; DOCKER_HOST names a unix socket',
    );
  }
  const unusable = unusableTlsMaterial(endpoint);
  if (engineFetch === undefined && unusable.length > 0) {
    throw new Error(
      `the fetch transport cannot use ${unusable.join(', ')} (DOCKER_TLS_*, DOCKER_CERT_PATH): fetch has no TLS options; on Cloudflare Workers bind an mTLS certificate as DOCKER_ENGINE, elsewhere use DOCKERGRAPH_ENGINE_TRANSPORT=undici`,
    );
  }
  const send: EngineFetch = engineFetch ?? ((input) => fetch(input));
  const scheme = endpoint.tls ? 'https' : 'http';
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  const origin = `${scheme}://${host}:${endpoint.port}${endpoint.basePath.replace(/\/+$/, '')}`;

  return {
    async request(request: TransportRequest): Promise<TransportResponse> {
      const query = request.query?.toString();
      const timeoutMs = request.timeoutMs ?? options.requestTimeoutMs;
      // Only the wait for headers is bounded: event and log streams may idle for ever.
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(), timeoutMs);
      const signal = request.signal
        ? AbortSignal.any([request.signal, timeout.signal])
        : timeout.signal;
      const body =
        request.body === undefined
          ? undefined
          : typeof request.body === 'string' || Buffer.isBuffer(request.body)
            ? request.body
            : // Streaming request bodies need `duplex: 'half'`, which Workers lack: uploads
              // are read whole, within DOCKERGRAPH_MAX_UPLOAD_BYTES.
              await collect(request.body);
      let response: Response;
      try {
        response = await send(
          new Request(`${origin}${request.path}${query ? `?${query}` : ''}`, {
            method: request.method,
            headers: request.headers ?? {},
            ...(body === undefined ? {} : { body: new Uint8Array(Buffer.from(body)) }),
            signal,
            redirect: 'manual',
          }),
        );
      } catch (error) {
        if (timeout.signal.aborted && !request.signal?.aborted) {
          throw new FetchTransportError('ETIMEDOUT', `no answer in ${timeoutMs} ms`, {
            cause: error,
          });
        }
        if (request.signal?.aborted) throw error;
        throw new FetchTransportError('ECONNREFUSED', 'fetch to the engine failed', {
          cause: error,
        });
      } finally {
        clearTimeout(timer);
      }
      return {
        status: response.status,
        headers: toHeaders(response.headers),
        body: toBody(response),
      };
    },
    upgrade(): Promise<TransportUpgrade> {
      return Promise.reject(
        new EngineError(
          'NOT_IMPLEMENTED',
          'exec and attach take the engine connection over (HTTP upgrade), which the fetch transport cannot do; use DOCKERGRAPH_ENGINE_TRANSPORT=undici where sockets exist',
          0,
        ),
      );
    },
    async close() {},
  };
}
