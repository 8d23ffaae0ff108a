// First: graphql-js must load in production mode (see the module).
import './graphql-mode.ts';
import { existsSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
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
  const live = createLiveStreams(docker, logger, {
    updateCheckTtlMs: config.limits.updateCheckTtlMs,
  });
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
  const webSockets = serveWebSockets(app, server, authenticator, audit, {
    loopbackOnly,
    guards: createOperationGuards(config, guards, audit),
    allowedOrigins: config.security.allowedOrigins,
    maxMessageBytes: config.limits.maxBodyBytes,
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

/**
 * Serves GraphQL over WebSocket (the graphql-ws protocol) at `/graphql` on `server`,
 * executing through the app's envelop, so that its plugins (error masking, logging)
 * apply as they do over HTTP.
 */
function serveWebSockets(
  app: App,
  server: Server,
  authenticator: Authenticator,
  audit: AuditLog,
  {
    loopbackOnly,
    guards,
    allowedOrigins,
    maxMessageBytes,
  }: {
    loopbackOnly: boolean;
    guards: OperationGuards;
    allowedOrigins: readonly string[];
    /** DOCKERGRAPH_MAX_BODY_BYTES: the largest message, as the largest HTTP body. */
    maxMessageBytes: number;
  },
): {
  /** Resolves once no operation runs (their "complete" sent), or after `timeoutMs`. */
  settle(timeoutMs: number): Promise<void>;
  dispose(): void | Promise<void>;
} {
  const webSocketServer = new WebSocketServer({
    server,
    path: '/graphql',
    // A longer message is refused from its frame header, before its bytes are buffered: the
    // socket is closed with 1009 (message too big). Its operation is never parsed nor run.
    maxPayload: maxMessageBytes,
    // Browsers send Origin with every WebSocket: a page of another site is refused (403)
    // before graphql-ws sees it. Clients that are not browsers send none.
    verifyClient: ({ origin, req }, accept) => {
      if (loopbackOnly && !isLoopbackHostHeader(req.headers.host)) {
        accept(false, 421, foreignHostMessage(req.headers.host));
      } else if (
        origin === undefined ||
        isAllowedOrigin(origin, req.headers.host, allowedOrigins)
      ) {
        accept(true);
      } else {
        accept(
          false,
          403,
          `WebSocket from origin ${origin} refused: not this server's origin nor in DOCKERGRAPH_ALLOWED_ORIGINS`,
        );
      }
    },
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
