import type { IncomingMessage } from 'node:http';
import { GraphQLError, getOperationAST } from 'graphql';
import {
  createYoga,
  type GraphiQLOptions,
  type Plugin,
  type YogaServerInstance,
} from 'graphql-yoga';
import type { Config } from './config.ts';
import { createContext, enginesVisibleTo, type GraphQLContext } from './context.ts';
import { type DockerClient, EngineCallBudgetError } from './docker/client.ts';
import {
  EngineRegistry,
  type RegistryOptions,
  type StreamErrorReporter,
} from './docker/engine-registry.ts';
import { EngineError } from './docker/errors.ts';
import { useDownloads } from './downloads.ts';
import type { Logger } from './logger.ts';
import { type AuditLog, openAuditLog, reportAuditWriteError } from './plugins/audit-log.ts';
import type { Metrics } from './plugins/metrics.ts';
import { createOperationGuards, useOperationGuards } from './plugins/operation-guards.ts';
import { createRequestGuards, type RequestGuards } from './plugins/request-guards.ts';
import type { Tracing } from './plugins/tracing.ts';
import { useAbandonedSubscriptions } from './plugins/use-abandoned-subscriptions.ts';
import { useAliasLimit } from './plugins/use-alias-limit.ts';
import { useAudit } from './plugins/use-audit.ts';
import { useAuthentication } from './plugins/use-authentication.ts';
import { useBodyLimit } from './plugins/use-body-limit.ts';
import { canGenerateCode, useCompiledExecution } from './plugins/use-compiled-execution.ts';
import { useCostLimit } from './plugins/use-cost-limit.ts';
import { useCsrfPrevention } from './plugins/use-csrf-prevention.ts';
import { useDashboard } from './plugins/use-dashboard.ts';
import { useIntrospectionPolicy } from './plugins/use-introspection-policy.ts';
import { useMaskedResults } from './plugins/use-masked-results.ts';
import { useMetrics } from './plugins/use-metrics.ts';
import { usePartialErrors } from './plugins/use-partial-errors.ts';
import { useReservedResponseKeys } from './plugins/use-reserved-response-keys.ts';
import { useSharedSubscriptionResults } from './plugins/use-shared-subscription-results.ts';
import { useSubscriptionLimit } from './plugins/use-subscription-limit.ts';
import { useTokenLimit } from './plugins/use-token-limit.ts';
import { useTracing } from './plugins/use-tracing.ts';
import { useUnconditionalSubscriptionRoot } from './plugins/use-unconditional-subscription-root.ts';
import { useUploads } from './plugins/use-uploads.ts';
import { admissionDeniedToGraphQL } from './schema/access.ts';
import { engineErrorToGraphQL } from './schema/errors.ts';
import { schema } from './schema/index.ts';
import { AdmissionDeniedError } from './security/admission.ts';
import { isAllowedOrigin } from './security/origins.ts';
import { Authenticator, type Principal } from './security/principal.ts';

/** What GraphiQL opens with: a tour of the schema in one query. */
export const EXAMPLE_QUERY = `# dockergraph: the Docker Engine API as a graph.
# Press the play button, then explore the schema with the Docs panel.
query Overview {
  engine {
    version { version apiVersion negotiatedApiVersion os arch }
    info { name containers { total running stopped } images }
  }
  containers(first: 10) {
    totalCount
    edges {
      node {
        name
        state
        status
        image { tags }
        ports { privatePort publicPort protocol }
        networks { networkName ipAddress }
        mounts { type destination volume { name } }
      }
    }
  }
}
`;

/** GraphiQL pages by their options: the bundled page is 9 MB, rendered once per options. */
const graphiqlPages = new Map<string, Promise<string>>();

/**
 * The GraphiQL page of `options`, every asset inlined from `@graphql-yoga/render-graphiql`.
 * Its module (9 MB of inlined assets) is loaded on the first page asked for, not at start:
 * the built server (scripts/build.ts) keeps it in a file of its own beside the bundle.
 */
function renderLocalGraphiQL(options: GraphiQLOptions): Promise<string> {
  const key = JSON.stringify(options);
  let page = graphiqlPages.get(key);
  if (page === undefined) {
    page = import('@graphql-yoga/render-graphiql').then(({ renderGraphiQL }) =>
      renderGraphiQL(options),
    );
    graphiqlPages.set(key, page);
  }
  return page;
}

/**
 * The pieces an app is built from: the engines it serves, as a registry, or one client
 * (tests pass their own to count engine calls), served as `config.engineName`.
 */
export type AppDependencies = (
  | { readonly engines: EngineRegistry; readonly docker?: undefined }
  | { readonly docker: DockerClient; readonly engines?: undefined }
) & {
  readonly logger: Logger;
  /** Aborts when the server shuts down: subscriptions end with it. */
  readonly shutdown?: AbortSignal;
  /** Rate limits and registered operations, shared with the WebSocket server; made when not given. */
  readonly guards?: RequestGuards;
  /** Where audit lines go; opened from `config.audit` (and closed on dispose) when not given. */
  readonly audit?: AuditLog;
  /**
   * What is counted, and answered on `/metrics`; shared with the WebSocket server.
   * None (no counting, no route) when not given: the serverless handler has none, so
   * that its bundles do not carry prom-client.
   */
  readonly metrics?: Metrics;
  /** OpenTelemetry spans of operations (`src/plugins/tracing.ts`); none when not given. */
  readonly tracing?: Tracing | null;
};

export type App = YogaServerInstance<Record<string, unknown>, GraphQLContext>;

/** The client's address of a request the Node server serves; null in a fetch handler. */
function clientAddressOf(serverContext: unknown): string | null {
  return (
    (serverContext as { req?: IncomingMessage } | undefined)?.req?.socket?.remoteAddress ?? null
  );
}

/** Logs a failure of an engine's shared stream, naming the engine. */
export function reportStreamErrors(logger: Logger): StreamErrorReporter {
  return (what, error, engine) =>
    logger.warn(what, { engine, error: error instanceof Error ? error.message : String(error) });
}

/**
 * What the engine registry keeps across operations, from `config`. `readModelByDefault` is the
 * read model when `DOCKERGRAPH_READ_MODEL` is not set: on in the long-running Node server, off
 * in the fetch handlers (an instance may be frozen between two requests).
 */
export function registryOptionsOf(config: Config, readModelByDefault: boolean): RegistryOptions {
  return {
    updateCheckTtlMs: config.limits.updateCheckTtlMs,
    readModel: config.readModel ?? readModelByDefault,
    readModelConsistency: config.readModelConsistency,
  };
}

/** A registry serving one client as `name`, for apps given a client (tests, the handler). */
export function singleEngineRegistry(
  name: string,
  docker: DockerClient,
  logger: Logger,
  options: RegistryOptions = {},
): EngineRegistry {
  return new EngineRegistry(
    [{ name, labels: {}, client: docker }],
    reportStreamErrors(logger),
    options,
  );
}

/**
 * `/readyz`: 200 while at least one engine answers `HEAD /_ping`, 503 when none does;
 * the body names each engine the caller may see and whether it answered, so one engine
 * down is seen without the server leaving the load balancer. The status needs no token;
 * the engines are those of the request's bearer token (its engine limit), every engine
 * without authentication configured, none without a valid token: a token limited to
 * engines (or a caller without one) learns nothing of the others, not even their names.
 */
function useEngineReadiness(
  engines: EngineRegistry,
  config: Config,
  authenticator: Authenticator,
): Plugin<GraphQLContext> {
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== '/readyz') return;
      await engines.probeAll(Math.min(config.engineConnectTimeoutMs, 5_000));
      const ready = engines.list().some((engine) => engine.health().reachable === true);
      const caller = authenticator.authenticate(request.headers.get('authorization'));
      const shown = caller.failure ? [] : enginesVisibleTo(caller.principal, engines);
      const report = shown.map((engine) => {
        const health = engine.health();
        return {
          name: engine.name,
          reachable: health.reachable === true,
          ...(health.lastError === null ? {} : { error: health.lastError }),
        };
      });
      endResponse(
        new fetchAPI.Response(JSON.stringify({ ready, engines: report }), {
          status: ready ? 200 : 503,
          headers: { 'content-type': 'application/json; charset=utf-8' },
        }),
      );
    },
  };
}

/**
 * `error` without `extensions.originalError`, where yoga's JSON body parser puts the name and
 * message of JSON.parse's SyntaxError ("Expected property name or '}' in JSON at position 1…",
 * quoting the body): words of the runtime, not the server's. Yoga answers the error 400 for
 * that extension's presence (a GraphQL error marked `spec` is answered 200 to a client that
 * accepts `application/json`): its `http` status is made to hold without it.
 */
function withoutCauseExtension(error: GraphQLError): GraphQLError {
  const { originalError: cause, ...extensions } = error.extensions;
  if (cause === undefined) return error;
  const { http } = extensions;
  return new GraphQLError(error.message, {
    nodes: error.nodes ?? null,
    source: error.source ?? null,
    positions: error.positions ?? null,
    path: error.path ?? null,
    originalError: error.originalError ?? null,
    extensions:
      typeof http === 'object' && http !== null
        ? { ...extensions, http: { ...http, spec: false } }
        : extensions,
  });
}

/** Logs one line per HTTP request: method, path, status, duration, operation and engine calls. */
function useRequestLog(logger: Logger): Plugin<GraphQLContext> {
  const started = new WeakMap<Request, number>();
  const operations = new WeakMap<
    Request,
    { operationName: string | undefined; engineCalls: number }
  >();
  return {
    // Instrumentation wraps every request, also those that yoga's own /healthz and GraphiQL
    // hooks answer before any plugin's onRequest runs.
    instrumentation: {
      request({ request }, wrapped) {
        started.set(request, performance.now());
        return wrapped();
      },
    },
    onExecute({ args }) {
      const context = args.contextValue as GraphQLContext & { request?: Request };
      return {
        onExecuteDone() {
          if (!context.request) return;
          operations.set(context.request, {
            // Clients often send only the query: take the name from the document then.
            operationName:
              args.operationName ??
              getOperationAST(args.document, args.operationName)?.name?.value ??
              undefined,
            engineCalls: context.fleet.callCount(),
          });
        },
      };
    },
    onResponse({ request, response }) {
      const start = started.get(request);
      const operation = operations.get(request);
      const url = new URL(request.url);
      logger.info('request', {
        method: request.method,
        path: url.pathname,
        status: response.status,
        durationMs:
          start === undefined ? undefined : Math.round((performance.now() - start) * 10) / 10,
        operationName: operation?.operationName,
        engineCalls: operation?.engineCalls,
      });
    },
  };
}

/**
 * Builds the GraphQL app over one engine without listening: the Node server,
 * the serverless handler and the tests all serve this.
 */
export function createApp(
  config: Config,
  { docker, engines: given, logger, shutdown, audit, guards, metrics, tracing }: AppDependencies,
): App {
  const engines =
    given ??
    singleEngineRegistry(config.engineName, docker, logger, registryOptionsOf(config, false));
  const shutdownSignal = shutdown ?? new AbortController().signal;
  const reportLiveError = (what: string, error: unknown) =>
    logger.warn(what, { error: error instanceof Error ? error.message : String(error) });
  const auditLog = audit ?? openAuditLog(config.audit, reportAuditWriteError(logger));
  const requestGuards = guards ?? createRequestGuards(config, Date.now, logger);
  const operationGuards = createOperationGuards(config, requestGuards, auditLog, (transport) =>
    metrics?.recordRateLimited(transport),
  );
  const authenticator = new Authenticator(config.security);
  // The principal of each HTTP request, found by useAuthentication before anything else runs.
  const principals = new WeakMap<Request, Principal>();
  const policy = {
    readOnly: config.security.readOnly,
    admission: {
      bindAllowList: config.security.bindAllowList,
      volumeDrivers: config.security.volumeDrivers,
      networkPools: config.security.networkPools,
      registries: config.security.registries,
    },
  };
  /**
   * What a client may read of an error: engine, admission and budget errors with their
   * code, GraphQL's own and the schema's as they are, anything else masked and logged.
   */
  const maskError = (error: unknown, message: string): Error => {
    // A stream's failure comes as thrown, not located in a result: the same rules apply.
    const located =
      error instanceof GraphQLError
        ? error
        : new GraphQLError(error instanceof Error ? error.message : String(error), {
            originalError: error instanceof Error ? error : new Error(String(error)),
          });
    const original = located.originalError;
    if (original instanceof EngineError) return engineErrorToGraphQL(original, located);
    if (original instanceof AdmissionDeniedError) {
      return admissionDeniedToGraphQL(original, located);
    }
    // Errors the schema raised on purpose (bad arguments) and GraphQL's own reach clients.
    if (!original || original instanceof GraphQLError) return withoutCauseExtension(located);
    if (original instanceof EngineCallBudgetError) {
      return new GraphQLError(original.message, {
        nodes: located.nodes ?? null,
        path: located.path ?? null,
        extensions: { code: 'ENGINE_CALL_BUDGET_EXCEEDED', limit: original.limit },
      });
    }
    // A client that went away aborts its engine calls: expected, not a server fault.
    if (original.name === 'AbortError') {
      logger.debug('request aborted by the client', { error: original.message });
    } else {
      logger.error('unexpected error', { error: String(original.stack) });
    }
    return new GraphQLError(message, {
      nodes: located.nodes ?? null,
      path: located.path ?? null,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
  };
  return createYoga<Record<string, unknown>, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/healthz',
    landingPage: false,
    // DOCKERGRAPH_BATCHING: off (0) by default; useOperationGuards answers refused batches.
    batching: config.limits.maxBatchSize > 0 ? { limit: config.limits.maxBatchSize } : false,
    // useBodyLimit holds bodies to DOCKERGRAPH_MAX_BODY_BYTES / DOCKERGRAPH_MAX_UPLOAD_BYTES.
    maxRequestBodySize: false,
    // The registered operation a request names (persisted-operations mode).
    extraParamNames: ['documentId'],
    cors: (request) => {
      const origin = request.headers.get('origin');
      // Browsers let a page read answers only with these headers: allowed origins get them.
      return origin !== null &&
        isAllowedOrigin(origin, new URL(request.url).host, config.security.allowedOrigins)
        ? { origin: [origin], credentials: true, exposedHeaders: ['retry-after'] }
        : false;
    },
    logging: false,
    graphiql: config.graphiql
      ? {
          title: 'dockergraph',
          defaultQuery: EXAMPLE_QUERY,
          // Subscriptions as server-sent events over fetch, which carries the header editor's
          // Authorization (a WebSocket from a page cannot); POST, so that the subscriptions
          // that change the engine (a pull, a build), refused over GET, run too.
          subscriptionsProtocol: 'SSE',
          method: 'POST',
          ...(authenticator.required
            ? { headers: JSON.stringify({ Authorization: 'Bearer <token>' }, null, 2) }
            : {}),
        }
      : false,
    // GraphiQL's scripts, styles, editor workers and icon, all from the package: no CDN.
    renderGraphiQL: renderLocalGraphiQL,
    context: (initial) => {
      // Subscriptions over WebSocket (src/server.ts) have no Fetch request: their principal was
      // found when the connection was made; they end when the client completes them or leaves.
      const request = initial.request as Request | undefined;
      const principal =
        (initial as { principal?: Principal }).principal ??
        (request ? principals.get(request) : undefined);
      if (!principal) throw new GraphQLError('operation without an authenticated principal');
      return createContext({
        engines,
        signal: request?.signal,
        shutdown: shutdownSignal,
        reportLiveError,
        principal,
        policy,
        limits: {
          maxNodeIds: config.limits.maxNodeIds,
          maxEventsHistory: config.limits.maxEventsHistory,
        },
        maxEngineCalls: config.limits.maxEngineCalls,
      });
    },
    // useMaskedResults masks every error instead, without a wrapper per subscription stream.
    maskedErrors: false,
    plugins: [
      // First of all: every other plugin's onSubscribeResult finds its masked stream.
      useMaskedResults(maskError),
      // First: it replaces the execute function that the plugins below wrap.
      ...(config.compiledExecution && canGenerateCode() ? [useCompiledExecution(logger)] : []),
      useEngineReadiness(engines, config, authenticator),
      useRequestLog(logger),
      ...(tracing ? [useTracing(tracing)] : []),
      // Before the limits, so that operations they refuse are audited as denied.
      useAudit({ log: auditLog, principals }),
      ...(audit ? [] : [{ onDispose: () => auditLog.close() }]),
      ...(guards ? [] : [{ onDispose: () => requestGuards.close() }]),
      // Static pages that hold no data (the dashboard asks for a token itself): before
      // authentication, which would answer them 401.
      useDashboard({ graphiql: config.graphiql, tokensRequired: authenticator.required }),
      useAuthentication(authenticator, principals),
      // Tar downloads the schema links to (`/files/…`): after authentication, whose principal
      // they check (the `dangerous` permission, the label limit).
      useDownloads({
        engines,
        logger,
        principalOf: (request) => principals.get(request),
        allowedOrigins: config.security.allowedOrigins,
      }),
      // `/metrics` to principals with the `metrics` permission; counts every request.
      ...(metrics
        ? [
            useMetrics({
              metrics,
              serve: config.metrics.enabled,
              principalOf: (request) => principals.get(request),
              allowedOrigins: config.security.allowedOrigins,
              engines,
            }),
          ]
        : []),
      // Limits, cheapest first: refused requests are not read further, nor parsed, nor run.
      useCsrfPrevention(config.security.allowedOrigins),
      // Before the body limit, which then holds the whole multipart body to its limit too.
      useUploads({
        schema,
        guards: operationGuards,
        principals,
        maxFieldBytes: config.limits.maxBodyBytes,
        maxUploadBytes: config.limits.maxUploadBytes,
        readOnly: config.security.readOnly,
        clientAddressOf,
      }),
      useBodyLimit(config.limits),
      // Batch size, rate limit, registered operations: the guards WebSocket operations pass too.
      useOperationGuards(operationGuards, principals, clientAddressOf),
      useTokenLimit(config.limits.maxTokens),
      useAliasLimit(config.limits.maxAliases),
      useReservedResponseKeys(),
      useUnconditionalSubscriptionRoot(),
      useIntrospectionPolicy(config.security.introspection),
      useCostLimit(config.limits),
      // After the limits that refuse an operation, which then holds no place.
      useSubscriptionLimit(config.limits.maxSubscriptionsPerToken),
      // Ends the HTTP subscriptions whose answer nobody reads, which give their place back.
      useAbandonedSubscriptions(),
      usePartialErrors(),
      // Last: the limits above refuse an operation before its subscription is set up.
      useSharedSubscriptionResults(),
    ],
  });
}
