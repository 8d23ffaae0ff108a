// First: graphql-js must load in production mode (see the module).
import './graphql-mode.ts';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { type DocumentNode, type ExecutionArgs, GraphQLError } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { WebSocketServer } from 'ws';
import {
  type App,
  createApp,
  registryOptionsOf,
  reportStreamErrors,
  singleEngineRegistry,
} from './app.ts';
import { type Config, loadConfig } from './config.ts';
import { DockerClient } from './docker/client.ts';
import { createEngineClient } from './docker/create-docker-client.ts';
import {
  describeEndpoint,
  type ResolvedEndpoint,
  resolveDockerEndpoint,
} from './docker/docker-host.ts';
import { type EmbeddedEngine, startEmbeddedEngine } from './docker/embedded-engine.ts';
import { diffEngineDefinitions, readEngineDefinitions } from './docker/engine-definitions.ts';
import { type EngineEntry, EngineRegistry } from './docker/engine-registry.ts';
import type { EventHub } from './docker/event-hub.ts';
import type { EngineDefinition } from './engines-file.ts';
import { ERROR_CONTENT_TYPE, errorBody } from './error-response.ts';
import { createLogger, type Logger, writeStdoutPerTurn } from './logger.ts';
import { type AuditLog, openAuditLog, reportAuditWriteError } from './plugins/audit-log.ts';
import { createMetrics, type Metrics } from './plugins/metrics.ts';
import {
  createOperationGuards,
  guardOperations,
  type OperationGuards,
} from './plugins/operation-guards.ts';
import { createRequestGuards } from './plugins/request-guards.ts';
import { startTracing } from './plugins/tracing.ts';
import { authenticationFailureRecord } from './plugins/use-audit.ts';
import { METRICS_PATH, metricsResponse } from './plugins/use-metrics.ts';
import { isAllowedOrigin, isLoopbackHost, isLoopbackHostHeader } from './security/origins.ts';
import { PlacesPerToken } from './security/places-per-token.ts';
import { Authenticator, type Principal } from './security/principal.ts';
import { createTerminalServer } from './terminal.ts';
import { isTerminalPath, rawPathOf } from './terminal-protocol.ts';
import { serveGraphqlWs } from './websocket-transport.ts';

/** Raised at start-up when the server would listen beyond loopback with no authentication. */
export class UnsafeListenError extends Error {
  override readonly name = 'UnsafeListenError';
}

/**
 * Refuses, with an {@link UnsafeListenError} saying what to set, to listen
 * beyond loopback while no tokens are configured.
 */
function checkListenSafety(config: Pick<Config, 'host' | 'security'>): void {
  if (isLoopbackHost(config.host) || config.security.tokens.length > 0) return;
  // The Docker API is root on the host: never expose it to the network without tokens.
  throw new UnsafeListenError(
    `refusing to listen on ${config.host} without authentication: anyone who reaches it would control Docker. Configure tokens (DOCKERGRAPH_TOKENS_FILE or DOCKERGRAPH_TOKENS; "npm run token" makes one), or listen on 127.0.0.1 (HOST)`,
  );
}

function foreignHostMessage(host: string | undefined): string {
  return `request for host "${host ?? ''}" refused: without tokens dockergraph answers only requests addressed to localhost or a loopback address (this stops DNS rebinding); configure tokens to serve other names`;
}

/** Answers a request whose Host is not a loopback name while no tokens are configured. */
function refuseForeignHost(response: ServerResponse, host: string | undefined): void {
  response.writeHead(421, { 'content-type': ERROR_CONTENT_TYPE, connection: 'close' });
  response.end(JSON.stringify(errorBody('MISDIRECTED_REQUEST', foreignHostMessage(host))));
}

/** A running dockergraph server. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:4000`. */
  readonly url: string;
  readonly server: Server;
  /** The engines it serves. */
  readonly engines: EngineRegistry;
  /** The event stream of its first engine (in name order), shared by that engine's subscriptions. */
  readonly events: EventHub;
  /** Base URL of the separate metrics listener (DOCKERGRAPH_METRICS_LISTEN); null without one. */
  readonly metricsUrl: string | null;
  /**
   * Stops accepting requests, ends subscriptions (SSE streams complete, WebSocket clients
   * are closed), lets running requests finish (up to `graceMs`), closes the engine pool.
   */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts the HTTP server for the engines of a registry, or for one engine client
 * (served as `config.engineName`). Stopping it closes them.
 */
export async function startServer(
  config: Config,
  served: DockerClient | EngineRegistry,
  logger: Logger,
): Promise<RunningServer> {
  checkListenSafety(config);
  const authenticator = new Authenticator(config.security);
  const engines =
    served instanceof EngineRegistry
      ? served
      : singleEngineRegistry(config.engineName, served, logger, registryOptionsOf(config, true));
  const [first] = engines.list();
  if (!first) throw new Error('no engine to serve');
  const shutdown = new AbortController();
  const audit = openAuditLog(config.audit, reportAuditWriteError(logger));
  // One rate limit and one set of registered operations for HTTP and WebSocket.
  const guards = createRequestGuards(config, Date.now, logger);
  const { metrics, dispose: disposeMetrics } = createMetrics(config, engines);
  // The OpenTelemetry SDK is loaded only when an OTLP endpoint is configured.
  const tracing = config.tracing ? await startTracing(config.tracing, engines) : null;
  if (config.tracing) logger.info('tracing operations', { url: config.tracing.url });
  const app = createApp(config, {
    engines,
    logger,
    shutdown: shutdown.signal,
    audit,
    guards,
    metrics,
    tracing,
  });
  // Once stopping, answers close their connection instead of keeping it alive: stop() then
  // ends as soon as the requests under way are answered, not when clients drop idle sockets.
  let stopping = false;
  const answering = new Set<ServerResponse>();
  // Without tokens only loopback may reach the server, and only by a loopback name.
  const loopbackOnly = !authenticator.required;
  const server = createServer((request, response) => {
    if (loopbackOnly && !isLoopbackHostHeader(request.headers.host)) {
      refuseForeignHost(response, request.headers.host);
      return;
    }
    if (stopping) response.setHeader('connection', 'close');
    answering.add(response);
    response.once('close', () => {
      answering.delete(response);
      // A stream answered before stop() (SSE) leaves a kept-alive connection behind.
      if (stopping) setImmediate(() => server.closeIdleConnections());
    });
    void app(request, response);
  });
  const verifyClient = upgradeCheck(loopbackOnly, config.security.allowedOrigins);
  const webSockets = serveWebSockets(app, authenticator, audit, {
    guards: createOperationGuards(config, guards, audit, (transport) =>
      metrics.recordRateLimited(transport),
    ),
    maxMessageBytes: config.limits.maxBodyBytes,
    maxOperations: config.limits.maxOperationsPerConnection,
    maxConnectionsPerToken: config.limits.maxConnectionsPerToken,
    metrics,
    logger,
  });
  const terminals = createTerminalServer({
    engines,
    authenticator,
    guards,
    audit,
    logger,
    settings: config.terminal,
    admission: {
      bindAllowList: config.security.bindAllowList,
      volumeDrivers: config.security.volumeDrivers,
      networkPools: config.security.networkPools,
      registries: config.security.registries,
    },
    readOnly: config.security.readOnly,
    maxMessageBytes: config.limits.maxBodyBytes,
  });
  // One upgrade pipeline: the Host and Origin checks, then the route's WebSocket server.
  server.on('upgrade', (request, socket, head) => {
    // Routed by the path as sent, as ws matched `/graphql` before: no dot segment is folded.
    const pathname = rawPathOf(request.url ?? '/');
    const target =
      pathname === '/graphql'
        ? webSockets.webSocketServer
        : isTerminalPath(pathname)
          ? terminals.webSocketServer
          : null;
    if (target === null) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const refusal = verifyClient(request);
    if (refusal) {
      const body = JSON.stringify(errorBody(refusal.code, refusal.message));
      socket.end(
        `HTTP/1.1 ${refusal.status} ${refusal.status === 403 ? 'Forbidden' : 'Misdirected Request'}\r\nConnection: close\r\nContent-Type: ${ERROR_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      return;
    }
    target.handleUpgrade(request, socket, head, (client) => {
      target.emit('connection', client, request);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (error: unknown) => {
    await audit.close();
    throw error;
  });
  const metricsServer = config.metrics.listen
    ? await listenForMetrics(metrics, config.metrics.listen).catch(async (error: unknown) => {
        server.close();
        await audit.close();
        throw error;
      })
    : null;
  let stopped: Promise<void> | undefined;
  return {
    url: urlOf(server),
    server,
    engines,
    events: first.events,
    metricsUrl: metricsServer ? urlOf(metricsServer) : null,
    stop(graceMs = 10_000) {
      // Stopping twice waits for the first stop.
      stopped ??= (async () => {
        stopping = true;
        for (const response of answering) {
          if (!response.headersSent) response.setHeader('connection', 'close');
        }
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        if (metricsServer) {
          metricsServer.close();
          metricsServer.closeAllConnections();
        }
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        // Ending the subscriptions completes them: SSE streams end, WebSocket clients get
        // "complete"; then the WebSocket connections are closed (1001, going away).
        shutdown.abort();
        engines.endLiveStreams('the server is shutting down');
        terminals.close();
        await webSockets.settle(Math.min(graceMs, 2_000));
        await webSockets.dispose();
        await closed;
        clearTimeout(timer);
        // Operations have ended: their audit lines are written.
        await audit.close();
        await guards.close();
        disposeMetrics();
        // Sends the spans of the last operations before the engine pool goes.
        await tracing?.shutdown().catch((error: unknown) => {
          logger.warn('tracing: the last spans could not be sent', {
            error: error instanceof Error ? error.message : String(error),
          });
        });
        await engines.close();
      })();
      return stopped;
    },
  };
}

/** The base URL a listening server answers on. */
function urlOf(server: Server): string {
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/**
 * The separate metrics listener: `GET /metrics` without authentication, and
 * nothing else, for a private interface a scraper reaches (DOCKERGRAPH_METRICS_LISTEN).
 */
async function listenForMetrics(
  metrics: Metrics,
  { host, port }: { host: string; port: number },
): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== METRICS_PATH || request.method !== 'GET') {
      response.writeHead(404, { 'content-type': ERROR_CONTENT_TYPE });
      response.end(
        JSON.stringify(errorBody('NOT_FOUND', `this listener answers only GET ${METRICS_PATH}`)),
      );
      return;
    }
    void metricsResponse(metrics).then(async (answer) => {
      response.writeHead(answer.status, Object.fromEntries(answer.headers));
      response.end(await answer.text());
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/** Why an upgrade is refused before any WebSocket server sees it; null when it may go on. */
interface UpgradeRefusal {
  readonly status: 403 | 421;
  readonly code: string;
  readonly message: string;
}

/**
 * The checks every WebSocket upgrade passes, whatever its route: without tokens,
 * a loopback Host only (421); browsers send Origin with every WebSocket, and a
 * page of another site is refused (403). Clients that are not browsers send none.
 */
function upgradeCheck(
  loopbackOnly: boolean,
  allowedOrigins: readonly string[],
): (request: IncomingMessage) => UpgradeRefusal | null {
  return (request) => {
    const { host } = request.headers;
    if (loopbackOnly && !isLoopbackHostHeader(host)) {
      return { status: 421, code: 'MISDIRECTED_REQUEST', message: foreignHostMessage(host) };
    }
    const { origin } = request.headers;
    if (origin === undefined || isAllowedOrigin(origin, host, allowedOrigins)) return null;
    return {
      status: 403,
      code: 'FORBIDDEN',
      message: `WebSocket from origin ${origin} refused: not this server's origin nor in DOCKERGRAPH_ALLOWED_ORIGINS`,
    };
  };
}

/**
 * Serves GraphQL over WebSocket (the graphql-ws protocol) at `/graphql`,
 * executing through the app's envelop, so that its plugins (error masking, logging)
 * apply as they do over HTTP. Upgrades reach it from `startServer`'s upgrade
 * handler once they passed {@link upgradeCheck}.
 */
function serveWebSockets(
  app: App,
  authenticator: Authenticator,
  audit: AuditLog,
  {
    guards,
    maxMessageBytes,
    maxOperations,
    maxConnectionsPerToken,
    metrics,
    logger,
  }: {
    guards: OperationGuards;
    /** DOCKERGRAPH_MAX_BODY_BYTES: the largest message, as the largest HTTP body. */
    maxMessageBytes: number;
    /** DOCKERGRAPH_MAX_OPERATIONS_PER_CONNECTION: the most operations one connection runs at once. */
    maxOperations: number;
    /** DOCKERGRAPH_MAX_CONNECTIONS_PER_TOKEN: the most connections one token holds open at once. */
    maxConnectionsPerToken: number;
    /** Counts the errors answered over WebSocket (HTTP answers are counted by `useMetrics`). */
    metrics: Metrics;
    /** Told of failures on the server's side of a connection. */
    logger: Logger;
  },
): {
  readonly webSocketServer: WebSocketServer;
  /** Resolves once no operation runs (their "complete" sent), or after `timeoutMs`. */
  settle(timeoutMs: number): Promise<void>;
  /** Closes the connections (1001); drops those whose client did not answer within a second. */
  dispose(): Promise<void>;
} {
  const webSocketServer = new WebSocketServer({
    noServer: true,
    // A longer message is refused from its frame header, before its bytes are buffered: the
    // socket is closed with 1009 (message too big). Its operation is never parsed nor run.
    maxPayload: maxMessageBytes,
  });
  let running = 0;
  let idle: (() => void) | null = null;
  const operationEnded = () => {
    running -= 1;
    if (running === 0) idle?.();
  };
  type Enveloped = ReturnType<App['getEnveloped']>;
  // The envelop of each operation, found again by its context in execute and subscribe.
  const envelopedByContext = new WeakMap<object, Enveloped>();
  const envelopedOf = (args: ExecutionArgs): Enveloped => {
    const { contextValue } = args;
    const enveloped =
      typeof contextValue === 'object' && contextValue !== null
        ? envelopedByContext.get(contextValue)
        : undefined;
    if (!enveloped) throw new Error('operation without an envelop');
    return enveloped;
  };
  // The principal of each connection, found from its connection_init payload.
  const principals = new WeakMap<object, Principal>();
  // Connections admitted per token, and how each admitted connection gives its place back
  // when it closes.
  const connections = new PlacesPerToken(maxConnectionsPerToken);
  const releases = new WeakMap<object, () => void>();
  /** Holds a place of `principal`'s token for the connection `extra`; false when none is left. */
  const admitConnection = (extra: object, principal: Principal): boolean => {
    const release = connections.take(principal.tokenId);
    if (!release) return false;
    const closed = metrics.openConnection();
    releases.set(extra, () => {
      closed();
      release();
    });
    return true;
  };
  const disposable = serveGraphqlWs(
    {
      onConnect: (context) => {
        const params = context.connectionParams ?? {};
        const fromPayload = params.authorization ?? params.Authorization ?? params.token;
        const authorization =
          typeof fromPayload === 'string'
            ? fromPayload
            : context.extra.request.headers.authorization;
        const result = authenticator.authenticate(authorization);
        if (result.failure) {
          audit.write(
            authenticationFailureRecord(
              'websocket',
              authorization,
              context.extra.request.socket.remoteAddress ?? null,
            ),
          );
          return false;
        }
        // Each open connection holds memory (its socket, the protocol's state) whether or not
        // it runs anything: without this bound a token could open connections until memory
        // or descriptors ran out. Refused before the acknowledgement, with a reason the
        // client reads; graphql-ws clients do not retry a 4403.
        if (!admitConnection(context.extra, result.principal)) {
          logger.info('WebSocket connection refused: its token holds the most connections', {
            token: result.principal.tokenId,
            clientAddress: context.extra.request.socket.remoteAddress ?? null,
          });
          context.extra.socket.close(
            CloseCode.Forbidden,
            `this token already holds ${maxConnectionsPerToken} connections, the most one token may hold (DOCKERGRAPH_MAX_CONNECTIONS_PER_TOKEN)`,
          );
          return false;
        }
        principals.set(context.extra, result.principal);
        return true;
      },
      onClose: (context) => {
        releases.get(context.extra)?.();
        releases.delete(context.extra);
      },
      // graphql-ws sends "complete" right after this hook: `running` counts the operations
      // whose end was not told to their client yet.
      onComplete: operationEnded,
      // Errors of refused or invalid operations, then those of each result sent.
      onError: (_context, _id, _payload, errors) => {
        for (const error of errors) metrics.recordError(error.extensions?.code);
      },
      onNext: (_context, _id, _payload, _args, result) => {
        for (const error of result.errors ?? []) metrics.recordError(error.extensions?.code);
      },
      execute: (args) => envelopedOf(args).execute(args),
      subscribe: (args) => envelopedOf(args).subscribe(args),
      onSubscribe: async (context, _id, payload) => {
        // graphql-ws holds each operation of the connection, this one included, from its
        // subscribe message until it completes. The rate limit only slows the opening of
        // subscriptions: without this bound one connection held 5,000 (each a hub
        // subscriber and its execution, about 29 kB) after two seconds, and more every minute.
        if (Object.keys(context.subscriptions).length > maxOperations) {
          return [
            new GraphQLError(
              `this connection already runs ${maxOperations} operations, the most one connection may run at once (DOCKERGRAPH_MAX_OPERATIONS_PER_CONNECTION): complete one first`,
              { extensions: { code: 'TOO_MANY_OPERATIONS' } },
            ),
          ];
        }
        // The guards HTTP requests pass once read (batch, rate limit, registered operations),
        // from the same function; refused mutations and subscriptions are audited there.
        const admitted = await guardOperations(
          guards,
          {
            principal: principals.get(context.extra),
            transport: 'websocket',
            clientAddress: context.extra.request.socket.remoteAddress ?? null,
          },
          { operations: [payload], batched: false },
        );
        if (admitted instanceof GraphQLError) return [admitted];
        const [params] = admitted;
        const query = params?.query ?? payload.query;
        const principal = principals.get(context.extra);
        const enveloped = app.getEnveloped({
          ...context,
          principal,
          req: context.extra.request,
          socket: context.extra.socket,
          params: { ...payload, query },
        });
        let document: DocumentNode;
        try {
          document = enveloped.parse(query);
        } catch (error) {
          // A syntax error is the client's: an error message, not a closed socket.
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        const errors = enveloped.validate(enveloped.schema, document);
        if (errors.length > 0) return errors;
        const contextValue = await enveloped.contextFactory();
        envelopedByContext.set(contextValue, enveloped);
        running += 1;
        return {
          schema: enveloped.schema,
          operationName: payload.operationName ?? null,
          document,
          variableValues: payload.variables ?? null,
          contextValue,
        };
      },
    },
    webSocketServer,
    {
      onInternalError: (error) =>
        logger.error('WebSocket connection failed', {
          error: error instanceof Error ? error.message : String(error),
        }),
      onConnectionError: (error, request) =>
        logger.debug('WebSocket connection closed on its socket failing', {
          error: error instanceof Error ? error.message : String(error),
          clientAddress: request.socket.remoteAddress ?? null,
        }),
    },
  );
  return {
    webSocketServer,
    async settle(timeoutMs) {
      if (running > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          idle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      // The "complete" messages are sent in the callbacks' continuations.
      await new Promise((resolve) => setImmediate(resolve));
    },
    dispose: () => disposable.dispose(),
  };
}

/**
 * Finds the engine as the docker CLI would (DOCKER_HOST, contexts, the default
 * socket); with none there, starts the project's private engine.
 */
async function connectEngine(
  config: Config,
  logger: Logger,
): Promise<{ endpoint: ResolvedEndpoint; embedded: EmbeddedEngine | null }> {
  const endpoint = resolveDockerEndpoint(config.docker);
  const nothingConfigured =
    endpoint.source === 'default' && endpoint.kind === 'unix' && !existsSync(endpoint.socketPath);
  if (!nothingConfigured || !config.embeddedEngine) return { endpoint, embedded: null };
  logger.info(
    'no Docker engine configured or found: starting the private engine (scripts/engine.sh)',
    {
      socket: endpoint.kind === 'unix' ? endpoint.socketPath : undefined,
    },
  );
  // The script installs missing Debian packages as root: a development convenience that a
  // production server must not do behind its operator's back.
  const embedded = await startEmbeddedEngine({ install: !config.security.production });
  const privateEndpoint = resolveDockerEndpoint({
    ...config.docker,
    dockerHost: embedded.dockerHost,
  });
  logger.info(embedded.startedHere ? 'private engine started' : 'private engine already running', {
    dockerHost: embedded.dockerHost,
  });
  return { endpoint: privateEndpoint, embedded };
}

/**
 * The engines of an engines file (DOCKERGRAPH_ENGINES_FILE) or of the docker CLI's
 * contexts (DOCKERGRAPH_ENGINES_FROM_CONTEXTS), each with its own client and timeouts.
 */
function registryOf(
  config: Config,
  definitions: readonly EngineDefinition[],
  logger: Logger,
): EngineRegistry {
  return new EngineRegistry(
    definitions.map((definition) => entryOf(definition, config)),
    reportStreamErrors(logger),
    registryOptionsOf(config, true),
  );
}

/** The registry entry of a definition: its name, labels and a client of its own. */
function entryOf(definition: EngineDefinition, config: Config): EngineEntry {
  return {
    name: definition.name,
    labels: definition.labels,
    client: createEngineClient(definition, undefined, config.sharedReads),
    ...(definition.readModel === undefined ? {} : { readModel: definition.readModel }),
  };
}

/**
 * Re-reads the engines (SIGHUP): engines added are served, engines removed end their
 * subscriptions with a message naming them, engines changed are reconnected. A file that
 * does not read keeps the engines as they are, and says why.
 */
export async function reloadEngines(
  config: Config,
  engines: EngineRegistry,
  current: readonly EngineDefinition[],
  logger: Logger,
): Promise<readonly EngineDefinition[]> {
  let next: EngineDefinition[];
  try {
    next = readEngineDefinitions(config);
  } catch (error) {
    logger.error('engines not reloaded: the configuration does not read', {
      error: error instanceof Error ? error.message : String(error),
    });
    return current;
  }
  const diff = diffEngineDefinitions(current, next);
  await Promise.all(
    diff.removed.map((name) =>
      engines.remove(name, `engine "${name}" was removed from the configuration`),
    ),
  );
  for (const definition of [...diff.added, ...diff.changed])
    engines.add(entryOf(definition, config));
  logger.info('engines reloaded', {
    added: diff.added.map((definition) => definition.name).join(', '),
    removed: diff.removed.join(', '),
    changed: diff.changed.map((definition) => definition.name).join(', '),
  });
  return next;
}

/** `npm start`: reads the configuration, serves until SIGTERM or SIGINT; SIGHUP re-reads the engines. */
export async function main(): Promise<void> {
  const config = loadConfig();
  // Before the engine is looked for (or the private one started): nothing to undo then.
  checkListenSafety(config);
  const logger = createLogger(config.logLevel, writeStdoutPerTurn);
  if (config.engines.kind !== 'single') {
    // Several engines: none is started here, and the server serves whichever answer.
    let definitions: readonly EngineDefinition[] = readEngineDefinitions(config);
    const engines = registryOf(config, definitions, logger);
    const running = await startServer(config, engines, logger);
    const { up, down } = await engines.probeAll(Math.min(config.engineConnectTimeoutMs, 5_000));
    logger.info('dockergraph listening', {
      url: `${running.url}/graphql`,
      engines: definitions.map((definition) => definition.name).join(', '),
      reachable: up.join(', '),
      unreachable: down.join(', '),
    });
    let reloading = Promise.resolve();
    process.on('SIGHUP', () => {
      reloading = reloading.then(async () => {
        definitions = await reloadEngines(config, engines, definitions, logger);
      });
    });
    handleShutdown(logger, () => running.stop());
    return;
  }
  const { endpoint, embedded } = await connectEngine(config, logger);
  const docker = DockerClient.create(endpoint, {
    connectTimeoutMs: config.engineConnectTimeoutMs,
    requestTimeoutMs: config.engineRequestTimeoutMs,
    sharedReads: config.sharedReads,
  });
  const running = await startServer(config, docker, logger);
  logger.info('dockergraph listening', {
    url: `${running.url}/graphql`,
    // The private engine's endpoint is resolved as a DOCKER_HOST, but no DOCKER_HOST was set.
    engine: embedded
      ? `${embedded.dockerHost} (private engine, scripts/engine.sh)`
      : describeEndpoint(endpoint),
    ...(running.metricsUrl ? { metrics: `${running.metricsUrl}${METRICS_PATH}` } : {}),
  });
  handleShutdown(logger, async () => {
    await running.stop();
    if (embedded?.startedHere) await embedded.stop();
  });
}

/** Stops on SIGTERM or SIGINT (once), then exits 0. */
function handleShutdown(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    await stop();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `dockergraph: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  });
}
