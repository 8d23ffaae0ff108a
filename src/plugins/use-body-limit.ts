import { GraphQLError } from 'graphql';
import type { FetchAPI, Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../context.ts';

/** The body limits of GraphQL requests. */
export interface BodyLimits {
  /** Largest JSON (or other non-multipart) body, and longest GET query string. */
  readonly maxBodyBytes: number;
  /** Largest multipart body: uploads of build contexts and image archives. */
  readonly maxUploadBytes: number;
}

function tooLarge(limit: number, setting: string, size?: number): GraphQLError {
  const what = size === undefined ? 'is larger than' : `is ${size} bytes, more than`;
  return new GraphQLError(`the request body ${what} the limit of ${limit} bytes (${setting})`, {
    extensions: {
      code: 'REQUEST_TOO_LARGE',
      // The rest of an oversized body is not read: the connection cannot carry another request.
      http: { status: 413, headers: { connection: 'close' } },
    },
  });
}

/**
 * The request with a body that errors once more than `limit` bytes have come:
 * a body without Content-Length (chunked) is counted as it streams, never held whole.
 */
function limitBody(
  request: Request,
  limit: number,
  fetchAPI: FetchAPI,
  onExceeded: () => void,
): Request {
  const body = request.body;
  if (!body) return request;
  let received = 0;
  // The Node server's requests are @whatwg-node's, whose streams do not mix with Node's own.
  const Transform = body instanceof ReadableStream ? TransformStream : fetchAPI.TransformStream;
  const limited = body.pipeThrough(
    new Transform<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        received += chunk.byteLength;
        if (received > limit) {
          onExceeded();
          // Erroring the stream cancels its source: the rest of the body is not read.
          controller.error(new Error(`request body over ${limit} bytes`));
          return;
        }
        controller.enqueue(chunk);
      },
    }),
  );
  return new fetchAPI.Request(request.url, {
    method: request.method,
    headers: request.headers,
    signal: request.signal,
    body: limited,
    // A streamed body: Node's fetch requires saying so.
    duplex: 'half',
  } as RequestInit);
}

/**
 * Answers 413 (with a JSON GraphQL error naming the limit and its setting) to
 * GraphQL requests whose body is over DOCKERGRAPH_MAX_BODY_BYTES, or over
 * DOCKERGRAPH_MAX_UPLOAD_BYTES for multipart uploads: by Content-Length before
 * reading anything, otherwise as soon as the streamed body passes the limit.
 * A yoga plugin, so it holds for the Node server and the fetch handler alike.
 */
export function useBodyLimit(limits: BodyLimits): Plugin<GraphQLContext> {
  return {
    onRequestParse({ request, url, requestParser, setRequestParser, fetchAPI }) {
      if (request.method === 'GET' || request.method === 'HEAD') {
        // A GET operation travels in the query string.
        const size = Buffer.byteLength(url.search);
        if (size > limits.maxBodyBytes) {
          throw tooLarge(limits.maxBodyBytes, 'DOCKERGRAPH_MAX_BODY_BYTES', size);
        }
        return;
      }
      const multipart = /^multipart\/form-data\b/i.test(request.headers.get('content-type') ?? '');
      const [limit, setting] = multipart
        ? [limits.maxUploadBytes, 'DOCKERGRAPH_MAX_UPLOAD_BYTES']
        : [limits.maxBodyBytes, 'DOCKERGRAPH_MAX_BODY_BYTES'];
      const declared = request.headers.get('content-length');
      if (declared !== null) {
        if (!/^\d+$/.test(declared)) {
          throw new GraphQLError(`the Content-Length header "${declared}" is not a byte count`, {
            extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
          });
        }
        if (Number(declared) > limit) throw tooLarge(limit, setting, Number(declared));
        // A body with a Content-Length within the limit is read no further than that length
        // (HTTP framing: the bytes after it are the next request, or a protocol error): it
        // needs no counting stream, which costs every request a copy of its body.
        return;
      }
      if (!requestParser || !request.body) return;
      const parse = requestParser;
      setRequestParser(async (original) => {
        let exceeded = false;
        const limited = limitBody(original, limit, fetchAPI, () => {
          exceeded = true;
        });
        try {
          return await parse(limited);
        } catch (error) {
          // The parser reports the errored body in its own words ("invalid JSON"…).
          if (exceeded) throw tooLarge(limit, setting);
          throw error;
        }
      });
    },
  };
}
