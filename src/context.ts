import { createAdmissionGate } from './docker/admission-gate.ts';
import { type DockerClient, EngineCallBudget } from './docker/client.ts';
import { DistributionCache } from './docker/distribution.ts';
import { EventHub } from './docker/event-hub.ts';
import { StatsHub } from './docker/stats-hub.ts';
import { createLoaders, type Loaders } from './loaders.ts';
import type { Logger } from './logger.ts';
import type { AdmissionSettings } from './security/admission.ts';
import { describePrincipal, type Principal } from './security/principal.ts';

/** The server-wide rules an operation runs under, besides its principal's permissions. */
export interface AccessPolicy {
  /** Every mutation is refused. */
  readonly readOnly: boolean;
  /** What the admission policy allows below the `privileged` level. */
  readonly admission: AdmissionSettings;
}

/** Limits that resolvers apply to their arguments. */
export interface OperationLimits {
  /** Most global IDs one `nodes(ids:)` may ask for (DOCKERGRAPH_MAX_NODE_IDS). */
  readonly maxNodeIds: number;
  /** Most engine events one history read takes in (DOCKERGRAPH_EVENTS_HISTORY_MAX). */
  readonly maxEventsHistory: number;
}

/** What every resolver of one GraphQL operation shares. */
export interface GraphQLContext {
  /** The engine client, bound to the request's abort signal. */
  readonly docker: DockerClient;
  /** Batched, de-duplicated engine reads for this operation only. */
  readonly loaders: Loaders;
  /** Name of the engine, carried inside global IDs. */
  readonly engineName: string;
  /** Who runs the operation: role, permissions, label limit. */
  readonly principal: Principal;
  readonly policy: AccessPolicy;
  readonly limits: OperationLimits;
  /** The engine's event stream, shared by every subscription. */
  readonly events: EventHub;
  /** The engine's stats streams, one per container, shared by every subscription. */
  readonly stats: StatsHub;
  /** Aborts when the server shuts down: streams a subscription alone owns end with it. */
  readonly shutdown: AbortSignal;
  /** Logs a failure a live stream cannot hand to its subscriber (it only ends the stream). */
  readonly reportLiveError: (what: string, error: unknown) => void;
  /**
   * Replaces `loaders` with fresh ones and gives the engine-call budget back. A
   * subscription keeps one context for all its events, which are executed one after
   * the other: each must read the engine anew, and is an operation of its own.
   */
  renewLoaders(): void;
}

/** The shared live streams of one engine and the signal that ends them all at shutdown. */
export interface LiveStreams {
  readonly events: EventHub;
  readonly stats: StatsHub;
  /** Registry answers about tags' digests, reused across operations (update checks). */
  readonly distribution: DistributionCache;
  readonly shutdown: AbortSignal;
  /** Logs a failure inside a live stream, which its subscriber sees only as the end. */
  readonly reportError: (what: string, error: unknown) => void;
}

/** Live streams the owner can close: at shutdown every subscription completes. */
export interface LiveStreamsHandle extends LiveStreams {
  close(): void;
}

/** Most stats samples a subscriber may have waiting before the oldest are dropped. */
const STATS_BUFFER_SAMPLES = 100;

/**
 * Creates the shared live streams of one engine. They read through the client
 * itself, not a request's view: a shared upstream must not end with the request
 * of the subscriber that happened to open it.
 */
export function createLiveStreams(
  docker: DockerClient,
  logger: Logger,
  options: { readonly updateCheckTtlMs?: number } = {},
): LiveStreamsHandle {
  const shutdown = new AbortController();
  const reportError = (what: string, error: unknown) =>
    logger.warn(what, { error: error instanceof Error ? error.message : String(error) });
  const warn = (what: string) => (error: unknown) => reportError(what, error);
  const events = new EventHub(docker, { onUpstreamError: warn('engine event stream dropped') });
  const stats = new StatsHub(docker, {
    bufferSize: STATS_BUFFER_SAMPLES,
    onUpstreamError: warn('engine stats stream dropped'),
  });
  return {
    events,
    stats,
    distribution: new DistributionCache(options.updateCheckTtlMs ?? 0),
    shutdown: shutdown.signal,
    reportError,
    close() {
      shutdown.abort();
      events.close();
      stats.close();
    },
  };
}

/** What one operation's context is made from. */
export interface ContextSources {
  readonly docker: DockerClient;
  readonly engineName: string;
  /** Aborts the operation's engine calls when its client goes away. */
  readonly signal: AbortSignal | undefined;
  readonly live: LiveStreams;
  readonly principal: Principal;
  readonly policy: AccessPolicy;
  readonly limits: OperationLimits;
  /** Most engine calls the operation may make (DOCKERGRAPH_MAX_ENGINE_CALLS). */
  readonly maxEngineCalls: number;
}

/** Builds the context of one operation: a request-scoped client view and fresh loaders. */
export function createContext({
  docker,
  engineName,
  signal,
  live,
  principal,
  policy,
  limits,
  maxEngineCalls,
}: ContextSources): GraphQLContext {
  const budget = new EngineCallBudget(maxEngineCalls);
  // The gate's own lookups count against the operation's budget too.
  const viewed = docker.withSignal(signal).withBudget(budget);
  // Every write of the operation passes the principal's admission level, whoever sends it.
  const scoped = viewed.withGate(
    createAdmissionGate(viewed, {
      level: principal.admission,
      settings: policy.admission,
      who: describePrincipal(principal),
    }),
  );
  const loaders = createLoaders(scoped, principal.labels, live.distribution);
  return {
    docker: scoped,
    loaders,
    engineName,
    principal,
    policy,
    limits,
    events: live.events,
    stats: live.stats,
    shutdown: live.shutdown,
    reportLiveError: live.reportError,
    renewLoaders() {
      budget.renew();
      // In place: envelop copies the context's properties into the one resolvers get.
      Object.assign(loaders, createLoaders(scoped, principal.labels, live.distribution));
    },
  };
}
