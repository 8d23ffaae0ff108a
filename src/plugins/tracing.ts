/**
 * OpenTelemetry tracing, off unless an OTLP endpoint is configured (see
 * `readTracing` in config.ts): one span per GraphQL query or mutation, and a child
 * span per engine call it made (method, path template, status). The SDK and its
 * exporter are loaded here, by dynamic import, only when tracing is on: a server
 * without it never loads them, and the serverless bundles (`src/handler.ts`, which
 * does not start tracing) do not carry them.
 *
 * @module
 */
import type { Span, Tracer } from '@opentelemetry/api';
import type { TracingConfig } from '../config.ts';
import type { EngineRegistry } from '../docker/engine-registry.ts';
import { templateEnginePath } from '../docker/path-template.ts';

/** One operation's span, and a way to run its execution inside it (so engine calls nest). */
export interface OperationSpan {
  run<T>(execute: () => T): T;
  end(failed: boolean): void;
}

/** What the tracing plugin needs: spans for operations. */
export interface Tracing {
  startOperation(type: string, name: string | undefined): OperationSpan;
  /** Sends the spans still buffered and stops tracing. */
  shutdown(): Promise<void>;
}

/**
 * Starts the SDK with an OTLP/HTTP (JSON) exporter to `config.url`, and traces the
 * engine calls of `docker` (engine `engineName`) made inside an operation's span.
 */
export async function startTracing(
  config: TracingConfig,
  engines: EngineRegistry,
): Promise<Tracing> {
  const [api, { NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, resources] =
    await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
    ]);
  const provider = new NodeTracerProvider({
    resource: resources.resourceFromAttributes({ 'service.name': config.serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: config.url }))],
  });
  // Registers the AsyncLocalStorage context manager: engine calls find their operation's span.
  provider.register();
  const tracer: Tracer = provider.getTracer('dockergraph');
  const stopObserving = engines.observeEach(({ client, name: engineName }) =>
    client.observeOutcomes((outcome) => {
      const active = api.context.active();
      // Engine calls outside an operation (the shared event and stats streams) have no parent.
      if (!api.trace.getSpan(active)) return;
      const path = templateEnginePath(outcome.path);
      const span: Span = tracer.startSpan(
        `${outcome.method} ${path}`,
        {
          kind: api.SpanKind.CLIENT,
          startTime: outcome.startedAt,
          attributes: {
            'http.request.method': outcome.method,
            'url.template': path,
            'dockergraph.engine': engineName,
            ...(outcome.status === null ? {} : { 'http.response.status_code': outcome.status }),
          },
        },
        active,
      );
      if (outcome.status === null || outcome.status >= 500) {
        span.setStatus({ code: api.SpanStatusCode.ERROR });
      }
      span.end(outcome.endedAt);
    }),
  );
  return {
    startOperation(type, name) {
      const span = tracer.startSpan(name ? `${type} ${name}` : type, {
        kind: api.SpanKind.SERVER,
        attributes: {
          'graphql.operation.type': type,
          ...(name ? { 'graphql.operation.name': name } : {}),
        },
      });
      const spanContext = api.trace.setSpan(api.context.active(), span);
      return {
        run: (execute) => api.context.with(spanContext, execute),
        end(failed) {
          if (failed) span.setStatus({ code: api.SpanStatusCode.ERROR });
          span.end();
        },
      };
    },
    async shutdown() {
      stopObserving();
      await provider.shutdown();
    },
  };
}
