/**
 * AWS Lambda (Node.js runtime) adapters for the fetch handler (dist/lambda/index.mjs):
 *
 * - `handler`: buffered, for API Gateway HTTP APIs (payload format 2.0) and function URLs
 *   in BUFFERED mode. Queries and mutations; SSE subscriptions are refused, since a
 *   buffered answer could only come once the subscription ended.
 * - `streamingHandler`: function URLs in RESPONSE_STREAM mode, through
 *   `awslambda.streamifyResponse`: everything, SSE subscriptions included, streamed.
 *
 * Both take the same event shape (function URLs send payload format 2.0 too).
 */
import type { Writable } from 'node:stream';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { createFetchHandler } from '../handler.ts';

/** What the Node.js runtime of Lambda puts in the global `awslambda` for response streaming. */
interface ResponseStreamingRuntime {
  streamifyResponse(
    handler: (event: APIGatewayProxyEventV2, stream: Writable, context: Context) => Promise<void>,
  ): unknown;
  HttpResponseStream: {
    from(
      stream: Writable,
      metadata: { statusCode: number; headers: Record<string, string>; cookies?: string[] },
    ): Writable;
  };
}

const handlerOfEnvironment = createFetchHandler();

/** Content types whose bodies API Gateway carries as text; anything else goes base64. */
const TEXT_TYPES =
  /^(text\/|application\/(json|graphql-response\+json|javascript|xml)|image\/svg)/i;

/** The WHATWG Request an API Gateway v2 / function URL event describes. */
export function requestOfEvent(event: APIGatewayProxyEventV2, signal?: AbortSignal): Request {
  const http = event.requestContext.http;
  const headers = new Headers();
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers.set(name, value);
  }
  // Payload 2.0 takes cookies out of the headers.
  if (event.cookies && event.cookies.length > 0) headers.set('cookie', event.cookies.join('; '));
  const host = headers.get('host') ?? event.requestContext.domainName;
  const query = event.rawQueryString ? `?${event.rawQueryString}` : '';
  const method = http.method.toUpperCase();
  const hasBody = event.body !== undefined && method !== 'GET' && method !== 'HEAD';
  const body =
    hasBody && event.body !== undefined
      ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8')
      : undefined;
  return new Request(`https://${host}${event.rawPath}${query}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: new Uint8Array(body) }),
    ...(signal === undefined ? {} : { signal }),
  });
}

/** Response headers for Lambda: one value per name, `set-cookie` apart as `cookies`. */
function headersOfResponse(response: Response): {
  headers: Record<string, string>;
  cookies: string[];
} {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  return { headers, cookies: response.headers.getSetCookie() };
}

function wantsEventStream(event: APIGatewayProxyEventV2): boolean {
  const accept = Object.entries(event.headers ?? {}).find(
    ([name]) => name.toLowerCase() === 'accept',
  );
  return accept?.[1]?.includes('text/event-stream') === true;
}

/** Buffered adapter: API Gateway HTTP API (payload 2.0) and function URLs in BUFFERED mode. */
export async function handler(
  event: APIGatewayProxyEventV2,
): Promise<APIGatewayProxyStructuredResultV2> {
  if (wantsEventStream(event)) {
    const message =
      'subscriptions over SSE need a streamed answer: invoke the function URL in RESPONSE_STREAM mode with the handler "index.streamingHandler"; API Gateway and BUFFERED mode answer queries and mutations only';
    return {
      statusCode: 406,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ errors: [{ message, extensions: { code: 'STREAMING_REQUIRED' } }] }),
    };
  }
  const response = await handlerOfEnvironment.fetch(requestOfEvent(event));
  const { headers, cookies } = headersOfResponse(response);
  const bytes = Buffer.from(await response.arrayBuffer());
  const text = TEXT_TYPES.test(response.headers.get('content-type') ?? '');
  return {
    statusCode: response.status,
    headers,
    ...(cookies.length > 0 ? { cookies } : {}),
    body: bytes.toString(text ? 'utf8' : 'base64'),
    isBase64Encoded: !text,
  };
}

/** Writes `chunk`, waiting while the stream is full. */
function write(stream: Writable, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(chunk, (error) => (error ? reject(error) : resolve()));
  });
}

async function stream(event: APIGatewayProxyEventV2, responseStream: Writable): Promise<void> {
  // A client that goes away ends the response stream: the subscription stops with it.
  const gone = new AbortController();
  responseStream.once('close', () => gone.abort());
  responseStream.once('error', () => gone.abort());
  const response = await handlerOfEnvironment.fetch(requestOfEvent(event, gone.signal));
  const { headers, cookies } = headersOfResponse(response);
  const out = awslambdaRuntime().HttpResponseStream.from(responseStream, {
    statusCode: response.status,
    headers,
    ...(cookies.length > 0 ? { cookies } : {}),
  });
  if (response.body !== null) {
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || gone.signal.aborted) break;
        await write(out, value);
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  }
  out.end();
}

function awslambdaRuntime(): ResponseStreamingRuntime {
  const runtime = (globalThis as { awslambda?: ResponseStreamingRuntime }).awslambda;
  if (runtime === undefined) {
    throw new Error(
      'streamingHandler runs in the Lambda Node.js runtime, which provides awslambda',
    );
  }
  return runtime;
}

/**
 * Streaming adapter for function URLs in RESPONSE_STREAM mode. Undefined outside
 * Lambda's Node.js runtime (or an emulation that provides `awslambda`).
 */
export const streamingHandler: unknown =
  (globalThis as { awslambda?: ResponseStreamingRuntime }).awslambda === undefined
    ? undefined
    : awslambdaRuntime().streamifyResponse(stream);
