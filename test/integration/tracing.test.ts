// OpenTelemetry tracing against a small OTLP/HTTP receiver: a query becomes an operation
// span whose children are the engine calls it made.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createDockerClient } from '../../src/docker/create-docker-client.ts';
import { createLogger } from '../../src/logger.ts';
import { startServer } from '../../src/server.ts';

/** One span as OTLP/HTTP JSON carries it. */
interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly attributes?: readonly {
    readonly key: string;
    readonly value: { readonly stringValue?: string; readonly intValue?: number | string };
  }[];
}

interface TracesRequest {
  readonly resourceSpans?: readonly {
    readonly scopeSpans?: readonly { readonly spans?: readonly ReceivedSpan[] }[];
  }[];
}

const received: ReceivedSpan[] = [];
let receiver: Server;
let receiverUrl: string;

beforeAll(async () => {
  // The collector's part: accept POST /v1/traces (JSON), keep the spans.
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method === 'POST' && request.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as TracesRequest;
        for (const resource of body.resourceSpans ?? []) {
          for (const scope of resource.scopeSpans ?? []) received.push(...(scope.spans ?? []));
        }
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{}');
        return;
      }
      response.writeHead(404);
      response.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => receiver?.close(resolve));
});

function attribute(span: ReceivedSpan, key: string): string | undefined {
  const value = span.attributes?.find((entry) => entry.key === key)?.value;
  if (value?.stringValue !== undefined) return value.stringValue;
  return value?.intValue === undefined ? undefined : String(value.intValue);
}

describe('tracing (OTEL_EXPORTER_OTLP_ENDPOINT)', () => {
  it('sends an operation span with a child span per engine call', async () => {
    const config = loadConfig({
      HOME: '/nonexistent',
      DOCKER_HOST: inject('dockerHost'),
      HOST: '127.0.0.1',
      PORT: '0',
      DOCKERGRAPH_AUDIT: 'off',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl,
      OTEL_SERVICE_NAME: 'dockergraph-test',
      // Off: a warm read model answers the list from memory after a catch-up (`GET /events`),
      // and whether it is warm by the first query is a race. Here the list is an engine call.
      DOCKERGRAPH_READ_MODEL: 'off',
    });
    const server = await startServer(config, createDockerClient(config), createLogger('silent'));
    try {
      const answer = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query:
            'query TracedList { containers(first: 3) { edges { node { id } } } engine { version { version } } }',
        }),
      });
      expect(answer.status).toBe(200);
    } finally {
      // Stopping sends the spans still buffered.
      await server.stop(0);
    }
    const operation = received.find((span) => span.name === 'query TracedList');
    if (!operation)
      throw new Error(`no operation span among ${received.map((s) => s.name).join(', ')}`);
    expect(attribute(operation, 'graphql.operation.name')).toBe('TracedList');
    const children = received.filter(
      (span) => span.parentSpanId === operation.spanId && span.traceId === operation.traceId,
    );
    expect(children.map((span) => span.name)).toEqual(
      expect.arrayContaining(['GET /containers/json', 'GET /version']),
    );
    const list = children.find((span) => span.name === 'GET /containers/json');
    expect(list && attribute(list, 'url.template')).toBe('/containers/json');
    expect(list && attribute(list, 'http.response.status_code')).toBe('200');
    expect(list && attribute(list, 'dockergraph.engine')).toBe('local');
  });
});
