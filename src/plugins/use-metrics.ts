import { getOperationAST } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { enginesVisibleTo, type GraphQLContext } from '../context.ts';
import type { EngineRegistry } from '../docker/engine-registry.ts';
import { errorResponse } from '../error-response.ts';
import { isForeignPageRequest } from '../security/origins.ts';
import { can, type Principal } from '../security/principal.ts';
import type { Metrics } from './metrics.ts';
import { transportOfRequest } from './use-audit.ts';
import { whenSubscriptionEnds } from './use-masked-results.ts';

/** The route Prometheus scrapes. */
export const METRICS_PATH = '/metrics';

/** The content type of the Prometheus text format. */
const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Methods counted by name; any other is counted as `other`. */
const KNOWN_METHODS = new Set(['GET', 'POST', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'PATCH']);

/** The route a request path is counted as: a route of dockergraph, or `other`. */
export function routeOfPath(pathname: string): string {
  if (pathname === '/graphql' || pathname === '/metrics') return pathname;
  if (pathname.startsWith('/files/')) return '/files';
  if (pathname === '/dashboard' || pathname.startsWith('/dashboard/')) return '/dashboard';
  if (pathname === '/healthz' || pathname === '/readyz' || pathname === '/') return pathname;
  return 'other';
}

/** The path of an absolute URL, without parsing all of it: this runs on every request. */
function pathnameOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start === -1) return '/';
  const end = url.indexOf('?', start);
  return end === -1 ? url.slice(start) : url.slice(start, end);
}

export interface MetricsPluginOptions {
  readonly metrics: Metrics;
  /** Whether `GET /metrics` is answered here (DOCKERGRAPH_METRICS); counting goes on either way. */
  readonly serve: boolean;
  /** The principal `useAuthentication` found for a request (it answers 401 without one). */
  readonly principalOf: (request: Request) => Principal | undefined;
  /** Origins besides the server's own whose pages may fetch (none needs to: scrapers are not pages). */
  readonly allowedOrigins: readonly string[];
  /** The engines served: a token limited to engines is shown the samples of its own only. */
  readonly engines: EngineRegistry;
}

/**
 * Answers a scrape: the registry's text; with `visibleEngines`, without the samples
 * labelled with another engine (engine names are `[a-z0-9_-]`, so the label reads plainly).
 */
export async function metricsResponse(
  metrics: Metrics,
  visibleEngines?: ReadonlySet<string>,
): Promise<Response> {
  let text = await metrics.render();
  if (visibleEngines) {
    text = text
      .split('\n')
      .filter((line) => {
        const engine = /[{,]engine="([^"]*)"/.exec(line)?.[1];
        return engine === undefined || visibleEngines.has(engine);
      })
      .join('\n');
  }
  return new Response(text, {
    headers: { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' },
  });
}

/**
 * Records requests, operations, subscriptions and errors into `metrics`, and
 * answers `GET /metrics` to principals with the `metrics` permission (after
 * `useAuthentication`, which answers 401 without a valid token). A page of another
 * site is refused as downloads are: the answer names the operations run.
 */
export function useMetrics({
  metrics,
  serve,
  principalOf,
  allowedOrigins,
  engines,
}: MetricsPluginOptions): Plugin<GraphQLContext> {
  const started = new WeakMap<Request, number>();
  return {
    instrumentation: {
      request({ request }, wrapped) {
        started.set(request, performance.now());
        return wrapped();
      },
    },
    onResponse({ request, response }) {
      const start = started.get(request);
      if (start === undefined) return;
      metrics.recordRequest(
        routeOfPath(pathnameOf(request.url)),
        KNOWN_METHODS.has(request.method) ? request.method : 'other',
        response.status,
        (performance.now() - start) / 1_000,
      );
    },
    async onRequest({ request, url, endResponse }) {
      if (!serve || url.pathname !== METRICS_PATH) return;
      if (request.method !== 'GET') {
        endResponse(
          errorResponse(405, 'METHOD_NOT_ALLOWED', `${METRICS_PATH} answers GET only`, {
            headers: { allow: 'GET' },
          }),
        );
        return;
      }
      if (isForeignPageRequest(request, allowedOrigins)) {
        endResponse(
          errorResponse(
            403,
            'CROSS_SITE_REFUSED',
            `${METRICS_PATH} is not served to pages of other sites`,
          ),
        );
        return;
      }
      const principal = principalOf(request);
      if (!principal) {
        endResponse(errorResponse(401, 'UNAUTHENTICATED', 'authentication required'));
        return;
      }
      if (!can(principal, 'metrics')) {
        endResponse(
          errorResponse(
            403,
            'FORBIDDEN',
            `${METRICS_PATH} needs the "metrics" permission (the admin role, or a role of the tokens file that lists "metrics")`,
          ),
        );
        return;
      }
      // A token limited to engines is told nothing of the others, here as on every road.
      const visible =
        principal.engines === null
          ? undefined
          : new Set(enginesVisibleTo(principal, engines).map((engine) => engine.name));
      endResponse(await metricsResponse(metrics, visible));
    },
    onExecute({ args }) {
      const startedAt = performance.now();
      return {
        onExecuteDone() {
          const operation = getOperationAST(args.document, args.operationName);
          if (!operation) return;
          const context = args.contextValue as GraphQLContext;
          metrics.recordOperation(
            operation.operation,
            metrics.operationLabel(args.operationName ?? operation.name?.value),
            (performance.now() - startedAt) / 1_000,
            context.fleet.callCount(),
            context.fleet.joinedReadCount(),
          );
        },
      };
    },
    onSubscribe({ args }) {
      const { request } = args.contextValue as GraphQLContext & { request?: Request };
      const ended = metrics.openSubscription(request ? transportOfRequest(request) : 'websocket');
      return {
        onSubscribeResult({ result }) {
          whenSubscriptionEnds(result, ended);
        },
      };
    },
    onResultProcess({ result }) {
      // HTTP answers only (WebSocket results do not pass here): the codes as masked for clients.
      if (isAsyncIterable(result)) return;
      for (const one of Array.isArray(result) ? result : [result]) {
        for (const error of one.errors ?? []) metrics.recordError(error.extensions?.code);
      }
    },
  };
}
