// First: graphql-js must load in production mode (see the module).
import './graphql-mode.ts';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { type DocumentNode, type ExecutionArgs, GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { type App, createApp } from './app.ts';
import { type Config, loadConfig } from './config.ts';
import { createLiveStreams } from './context.ts';
import { DockerClient } from './docker/client.ts';
import {
  describeEndpoint,
  type ResolvedEndpoint,
  resolveDockerEndpoint,
} from './docker/docker-host.ts';
import { type EmbeddedEngine, startEmbeddedEngine } from './docker/embedded-engine.ts';
import type { EventHub } from './docker/event-hub.ts';
import { ERROR_CONTENT_TYPE, errorBody } from './error-response.ts';
import { createLogger, type Logger } from './logger.ts';
import { type AuditLog, openAuditLog, reportAuditWriteError } from './plugins/audit-log.ts';
import {
  createOperationGuards,
  guardOperations,
  type OperationGuards,
} from './plugins/operation-guards.ts';
import { createRequestGuards } from './plugins/request-guards.ts';
import { authenticationFailureRecord } from './plugins/use-audit.ts';
import { isAllowedOrigin, isLoopbackHost, isLoopbackHostHeader } from './security/origins.ts';
import { Authenticator, type Principal } from './security/principal.ts';
import { createTerminalServer } from './terminal.ts';
import { isTerminalPath, rawPathOf } from './terminal-protocol.ts';

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
  /** The engine's event stream shared by the server's subscriptions. */
  readonly events: EventHub;
  /**
   * Stops accepting requests, ends subscriptions (SSE streams complete, WebSocket clients
   * are closed), lets running requests finish (up to `graceMs`), closes the engine pool.
   */
  stop(graceMs?: number): Promise<void>;
}

/** Starts the HTTP server for one engine client. */
export async function startServer(
  config: Config,
  docker: DockerClient,
  logger: Logger,
): Promise<RunningServer> {
  checkListenSafety(config);
  const authenticator = new Authenticator(config.security);
  const live = createLiveStreams(docker, logger);
  const audit = openAuditLog(config.audit, reportAuditWriteError(logger));
  // One rate limit and one set of registered operations for HTTP and WebSocket.
  const guards = createRequestGuards(config, Date.now, logger);
  const app = createApp(config, { docker, logger, live, audit, guards });
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
    guards: createOperationGuards(config, guards, audit),
    maxMessageBytes: config.limits.maxBodyBytes,
  });
  const terminals = createTerminalServer({
    docker,
    engineName: config.engineName,
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
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let stopped: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    server,
    events: live.events,
    stop(graceMs = 10_000) {
      // Stopping twice waits for the first stop.
      stopped ??= (async () => {
        stopping = true;
        for (const response of answering) {
          if (!response.headersSent) response.setHeader('connection', 'close');
        }
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        // Ending the subscriptions completes them: SSE streams end, WebSocket clients get
        // "complete"; then the WebSocket connections are closed (1001, going away).
        live.close();
        terminals.close();
        await webSockets.settle(Math.min(graceMs, 2_000));
        await webSockets.dispose();
        await closed;
        clearTimeout(timer);
        // Operations have ended: their audit lines are written.
        await audit.close();
        await guards.close();
        await docker.close();
      })();
      return stopped;
    },
  };
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
  }: {
    guards: OperationGuards;
    /** DOCKERGRAPH_MAX_BODY_BYTES: the largest message, as the largest HTTP body. */
    maxMessageBytes: number;
  },
): {
  readonly webSocketServer: WebSocketServer;
  /** Resolves once no operation runs (their "complete" sent), or after `timeoutMs`. */
  settle(timeoutMs: number): Promise<void>;
  dispose(): void | Promise<void>;
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
  const disposable = useServer(
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
        principals.set(context.extra, result.principal);
        return true;
      },
      // graphql-ws sends "complete" right after this hook: `running` counts the operations
      // whose end was not told to their client yet.
      onComplete: operationEnded,
      execute: (args) => envelopedOf(args).execute(args),
      subscribe: (args) => envelopedOf(args).subscribe(args),
      onSubscribe: async (context, _id, payload) => {
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

/** `npm start`: reads the configuration, serves until SIGTERM or SIGINT. */
export async function main(): Promise<void> {
  const config = loadConfig();
  // Before the engine is looked for (or the private one started): nothing to undo then.
  checkListenSafety(config);
  const logger = createLogger(config.logLevel);
  const { endpoint, embedded } = await connectEngine(config, logger);
  const docker = DockerClient.create(endpoint, {
    connectTimeoutMs: config.engineConnectTimeoutMs,
    requestTimeoutMs: config.engineRequestTimeoutMs,
  });
  const running = await startServer(config, docker, logger);
  logger.info('dockergraph listening', {
    url: `${running.url}/graphql`,
    // The private engine's endpoint is resolved as a DOCKER_HOST, but no DOCKER_HOST was set.
    engine: embedded
      ? `${embedded.dockerHost} (private engine, scripts/engine.sh)`
      : describeEndpoint(endpoint),
  });
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    await running.stop();
    if (embedded?.startedHere) await embedded.stop();
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
