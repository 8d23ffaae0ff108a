// A Lambda function URL in front of lambda-local: each HTTP request becomes a payload 2.0
// event (as AWS's front end makes them) for the function in dist/lambda/index.mjs, run by
// lambda-local in this Node process as the Lambda Node.js runtime would (awslambda global,
// streamifyResponse). Usage: tsx lambda-url-emulator.ts <handler name> (handler or
// streamingHandler); prints "dockergraph listening on <url>".
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { execute } from 'lambda-local';

const lambdaHandler = process.argv[2] ?? 'handler';
const lambdaPath = fileURLToPath(new URL('../../dist/lambda/index.mjs', import.meta.url));

async function eventOf(request: IncomingMessage, host: string): Promise<APIGatewayProxyEventV2> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const url = new URL(request.url ?? '/', `http://${host}`);
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    if (name === 'cookie') cookies = String(value).split(/;\s*/);
    else headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(cookies ? { cookies } : {}),
    headers,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'emulated',
      domainName: host,
      domainPrefix: 'emulated',
      http: {
        method: request.method ?? 'GET',
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 ? { body: body.toString('base64'), isBase64Encoded: true } : {}),
    isBase64Encoded: body.length > 0,
  };
}

interface LambdaAnswer {
  statusCode?: number;
  headers?: Record<string, string>;
  cookies?: string[];
  body?: string | Readable;
  isBase64Encoded?: boolean;
}

const server = createServer(async (request, response) => {
  try {
    const host = request.headers.host ?? '127.0.0.1';
    const answer = (await execute({
      event: await eventOf(request, host),
      lambdaPath,
      lambdaHandler,
      esm: true,
      timeoutMs: 120_000,
      verboseLevel: 0,
    })) as LambdaAnswer;
    const headers: Record<string, string | string[]> = { ...(answer.headers ?? {}) };
    if (answer.cookies?.length) headers['set-cookie'] = answer.cookies;
    response.writeHead(answer.statusCode ?? 200, headers);
    const body = answer.body;
    if (body === undefined || typeof body === 'string') {
      response.end(
        body === undefined ? '' : Buffer.from(body, answer.isBase64Encoded ? 'base64' : 'utf8'),
      );
      return;
    }
    // A streamed answer (streamifyResponse): passed on as it comes; a client that leaves ends it.
    response.once('close', () => body.destroy());
    body.pipe(response);
  } catch (error) {
    response.writeHead(502, { 'content-type': 'text/plain' });
    response.end(`the function failed: ${error instanceof Error ? error.message : String(error)}`);
  }
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`dockergraph listening on http://127.0.0.1:${port}/graphql\n`);
});
process.once('SIGTERM', () => process.exit(0));
