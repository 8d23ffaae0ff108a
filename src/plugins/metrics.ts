/**
 * What dockergraph counts for `/metrics` (Prometheus text format): requests,
 * operations, engine calls, subscriptions, upstream streams, resyncs, refusals and
 * errors. One {@link Metrics} per server, shared by the HTTP app and the WebSocket
 * server; each has its own prom-client registry, so several apps in one process
 * (tests, several engines) never collide.
 *
 * Labels stay few whatever clients send: operation names are kept for the first
 * `maxOperationNames` distinct valid names (then `other`), engine paths are
 * templates (`/containers/{id}/json`), error codes are the upper-case codes
 * dockergraph answers (others `other`). Observations go to label children cached
 * here, so that a request allocates next to nothing for its metrics.
 *
 * @module
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Config } from '../config.ts';
import type { CallOutcomeListener } from '../docker/client.ts';
import type { EngineRegistry, RegisteredEngine } from '../docker/engine-registry.ts';
import { templateEnginePath } from '../docker/path-template.ts';

/**
 * The metrics of `config`, counting the engine calls of every engine of `engines`,
 * those added by a reload too (until `dispose`), and reading their live streams at
 * each scrape.
 */
export function createMetrics(
  config: Pick<Config, 'metrics'>,
  engines: EngineRegistry,
): { metrics: Metrics; dispose: () => void } {
  const metrics = new Metrics({ maxOperationNames: config.metrics.maxOperationNames });
  metrics.watchEngines(() => engines.list());
  const dispose = engines.observeEach((engine) =>
    engine.client.observeOutcomes(metrics.engineCallListener(engine.name)),
  );
  return { metrics, dispose };
}

/** The transports subscriptions and operations arrive by. */
export type MetricsTransport = 'http' | 'sse' | 'websocket';

/** What a label value is counted as once its kind has too many values, or is not one. */
export const OTHER_LABEL = 'other';

/** Operation names: GraphQL names, not too long. */
const operationNamePattern = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;
/** Error codes dockergraph and GraphQL answer: upper-case words. */
const errorCodePattern = /^[A-Z][A-Z0-9_]{0,47}$/;
/** The most distinct error codes kept as labels. */
const MAX_ERROR_CODES = 100;

/** Seconds: from a fast engine call (0.5 ms) to a slow pull or build start (30 s). */
const DURATION_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];
/** Engine calls one operation made (DOCKERGRAPH_MAX_ENGINE_CALLS is 200 by default). */
const ENGINE_CALL_BUCKETS = [0, 1, 2, 3, 4, 6, 10, 20, 50, 100, 200];

/** Adds one to `gauge`; the function answered takes it back, once however often it is called. */
function countOpen(gauge: { inc(): void; dec(): void }): () => void {
  gauge.inc();
  let open = true;
  return () => {
    if (!open) return;
    open = false;
    gauge.dec();
  };
}

/**
 * Keeps the values of one label few: the first `capacity` distinct values that pass
 * `valid` are kept as they are, every other becomes {@link OTHER_LABEL}.
 */
export class BoundedLabel {
  readonly #seen = new Set<string>();

  constructor(
    private readonly capacity: number,
    private readonly valid: (value: string) => boolean,
  ) {}

  /** The label value to count `value` under. */
  of(value: string): string {
    if (this.#seen.has(value)) return value;
    if (this.#seen.size >= this.capacity || !this.valid(value)) return OTHER_LABEL;
    this.#seen.add(value);
    return value;
  }
}

/** Label children by their joined values, made once: prom-client validates labels on each `labels()`. */
class Children<T> {
  readonly #children = new Map<string, T>();

  constructor(private readonly make: (values: string[]) => T) {}

  get(...values: string[]): T {
    const key = values.join('\u0000');
    let child = this.#children.get(key);
    if (child === undefined) {
      child = this.make(values);
      this.#children.set(key, child);
    }
    return child;
  }
}

export interface MetricsOptions {
  /** Most distinct operation names kept as labels (DOCKERGRAPH_METRICS_MAX_OPERATION_NAMES). */
  readonly maxOperationNames: number;
}

/** The metrics of one server, and the functions that record them. */
export class Metrics {
  readonly registry = new Registry();
  readonly #operationNames: BoundedLabel;
  readonly #errorCodes = new BoundedLabel(MAX_ERROR_CODES, (code) => errorCodePattern.test(code));

  readonly #requests: Children<Histogram.Internal<string>>;
  readonly #operations: Children<Histogram.Internal<string>>;
  readonly #operationEngineCalls: Children<Histogram.Internal<string>>;
  readonly #operationJoinedReads: Children<Counter.Internal>;
  readonly #engineCalls: Children<Histogram.Internal<string>>;
  readonly #subscriptions: Children<Gauge.Internal<string>>;
  readonly #connections: Gauge;
  readonly #rateLimited: Children<Counter.Internal>;
  readonly #errors: Children<Counter.Internal>;
  #engines: () => readonly RegisteredEngine[] = () => [];

  constructor({ maxOperationNames }: MetricsOptions) {
    const registers = [this.registry];
    this.#operationNames = new BoundedLabel(maxOperationNames, (name) =>
      operationNamePattern.test(name),
    );
    const requests = new Histogram({
      name: 'dockergraph_http_request_duration_seconds',
      help: 'HTTP requests by route, method and status: time to the answer (for streams, to their start).',
      labelNames: ['route', 'method', 'status'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#requests = new Children((values) => requests.labels(...values));
    const operations = new Histogram({
      name: 'dockergraph_operation_duration_seconds',
      help: 'GraphQL queries and mutations by type and operation name: execution time.',
      labelNames: ['type', 'name'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#operations = new Children((values) => operations.labels(...values));
    const operationEngineCalls = new Histogram({
      name: 'dockergraph_operation_engine_calls',
      help: 'Engine calls one GraphQL query or mutation made, by type and operation name.',
      labelNames: ['type', 'name'],
      buckets: ENGINE_CALL_BUCKETS,
      registers,
    });
    this.#operationEngineCalls = new Children((values) => operationEngineCalls.labels(...values));
    const operationJoinedReads = new Counter({
      name: 'dockergraph_operation_engine_reads_joined_total',
      help: 'Engine reads GraphQL queries and mutations joined instead of sending them (another request being answered had asked for the very same read, not sent yet), by type and operation name.',
      labelNames: ['type', 'name'],
      registers,
    });
    this.#operationJoinedReads = new Children((values) => operationJoinedReads.labels(...values));
    const engineCalls = new Histogram({
      name: 'dockergraph_engine_call_duration_seconds',
      help: 'Engine calls by engine, method, path template and status ("none" without an answer): time to the answer headers.',
      labelNames: ['engine', 'method', 'path', 'status'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#engineCalls = new Children((values) => engineCalls.labels(...values));
    const subscriptions = new Gauge({
      name: 'dockergraph_subscriptions_open',
      help: 'GraphQL subscriptions running now, by transport.',
      labelNames: ['transport'],
      registers,
    });
    for (const transport of ['http', 'sse', 'websocket']) subscriptions.labels(transport).set(0);
    this.#subscriptions = new Children((values) => subscriptions.labels(...values));
    this.#connections = new Gauge({
      name: 'dockergraph_websocket_connections_open',
      help: 'graphql-ws connections admitted and open now (authenticated, within DOCKERGRAPH_MAX_CONNECTIONS_PER_TOKEN).',
      registers,
    });
    const rateLimited = new Counter({
      name: 'dockergraph_rate_limited_total',
      help: 'Operations refused by the rate limit (DOCKERGRAPH_RATE_LIMIT), by transport.',
      labelNames: ['transport'],
      registers,
    });
    for (const transport of ['http', 'sse', 'websocket']) rateLimited.labels(transport).inc(0);
    this.#rateLimited = new Children((values) => rateLimited.labels(...values));
    const errors = new Counter({
      name: 'dockergraph_errors_total',
      help: 'GraphQL errors answered, by error code (extensions.code).',
      labelNames: ['code'],
      registers,
    });
    this.#errors = new Children((values) => errors.labels(...values));
    const streams = () => this.#engines();
    new Gauge({
      name: 'dockergraph_upstream_streams_open',
      help: 'Streams open to the engine now and shared by subscribers, by engine and kind (events: the one /events stream; stats: one per container).',
      labelNames: ['engine', 'kind'],
      registers,
      collect() {
        this.reset();
        for (const { name, events, stats } of streams()) {
          this.labels(name, 'events').set(events.upstreamOpen ? 1 : 0);
          this.labels(name, 'stats').set(stats.openUpstreams);
        }
      },
    });
    new Gauge({
      name: 'dockergraph_upstream_connections_total',
      help: 'Streams opened to the engine so far (reconnects included), by engine and kind.',
      labelNames: ['engine', 'kind'],
      registers,
      collect() {
        this.reset();
        for (const { name, events, stats } of streams()) {
          this.labels(name, 'events').set(events.upstreamConnections);
          this.labels(name, 'stats').set(stats.upstreamConnections);
        }
      },
    });
    new Gauge({
      name: 'dockergraph_event_resyncs_total',
      help: 'RESYNC messages sent to event subscribers so far (events may have been lost, or a subscriber fell behind), by engine.',
      labelNames: ['engine'],
      registers,
      collect() {
        this.reset();
        for (const { name, events } of streams()) {
          this.labels(name).set(events.resyncCount);
        }
      },
    });
  }

  /** Reads the upstream streams of the engines `list` answers at each scrape, labelled by name. */
  watchEngines(list: () => readonly RegisteredEngine[]): void {
    this.#engines = list;
  }

  /** The listener that records each engine call of the engine named `engine`. */
  engineCallListener(engine: string): CallOutcomeListener {
    return (outcome) => {
      this.#engineCalls
        .get(
          engine,
          outcome.method,
          templateEnginePath(outcome.path),
          outcome.status === null ? 'none' : String(outcome.status),
        )
        .observe((outcome.endedAt - outcome.startedAt) / 1_000);
    };
  }

  /** The label an operation name is counted under. */
  operationLabel(name: string | null | undefined): string {
    return name ? this.#operationNames.of(name) : 'anonymous';
  }

  recordRequest(route: string, method: string, status: number, seconds: number): void {
    this.#requests.get(route, method, String(status)).observe(seconds);
  }

  recordOperation(
    type: string,
    name: string,
    seconds: number,
    engineCalls: number,
    joinedReads: number,
  ): void {
    this.#operations.get(type, name).observe(seconds);
    this.#operationEngineCalls.get(type, name).observe(engineCalls);
    if (joinedReads > 0) this.#operationJoinedReads.get(type, name).inc(joinedReads);
  }

  /** Counts a graphql-ws connection as open; the function answered counts it as closed (once). */
  openConnection(): () => void {
    return countOpen(this.#connections);
  }

  /** Counts a subscription as open; the function answered counts it as ended (once). */
  openSubscription(transport: MetricsTransport): () => void {
    return countOpen(this.#subscriptions.get(transport));
  }

  recordRateLimited(transport: MetricsTransport): void {
    this.#rateLimited.get(transport).inc();
  }

  recordError(code: unknown): void {
    this.#errors.get(typeof code === 'string' ? this.#errorCodes.of(code) : 'none').inc();
  }

  /** The text `/metrics` answers. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
