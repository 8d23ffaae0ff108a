import { compareText } from '../compare-text.ts';
import type { DockerClient } from './client.ts';
import { DistributionCache } from './distribution.ts';
import { EventHub } from './event-hub.ts';
import { ReadModel, type ReadModelConsistency } from './read-model.ts';
import { StatsHub } from './stats-hub.ts';

/** Most stats samples a subscriber may have waiting before the oldest are dropped. */
const STATS_BUFFER_SAMPLES = 100;

/** What the registry last learned of an engine by asking it (`HEAD /_ping`). */
export interface EngineHealth {
  /** Null until the engine was first asked. */
  readonly reachable: boolean | null;
  /** Why the last call failed; null after a success. */
  readonly lastError: string | null;
  /** When the engine was last asked. */
  readonly checkedAt: Date | null;
}

/** One engine of the fleet, with the live streams every subscriber of it shares. */
export interface RegisteredEngine {
  /** Carried inside global IDs; `^[a-z0-9][a-z0-9_-]{0,62}$`. */
  readonly name: string;
  /** Labels of the engine itself (e.g. `env: prod`), for selectors of lists and tokens. */
  readonly labels: Readonly<Record<string, string>>;
  readonly client: DockerClient;
  /** The engine's one `/events` upstream, shared by every subscription. */
  readonly events: EventHub;
  /** The engine's stats upstreams, one per container, shared by every subscription. */
  readonly stats: StatsHub;
  /** Registry answers about tags' digests, reused across operations (update checks). */
  readonly distribution: DistributionCache;
  /** The lists kept from the engine's events, when the read model is on; null when off. */
  readonly readModel: ReadModel | null;
  /** Aborts when the engine leaves the registry (removed, replaced on reload, or closed). */
  readonly retired: AbortSignal;
  /** Why it left: ends the subscriptions it served with a message naming it. */
  readonly retiredReason: () => string | null;
  health(): EngineHealth;
  /** Asks the engine (`HEAD /_ping`) and records the answer; true when it answered. */
  probe(timeoutMs: number): Promise<boolean>;
}

/** What an engine is added to the registry from. */
export interface EngineEntry {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly client: DockerClient;
  /** This engine's read model on or off; `RegistryOptions.readModel` when not set. */
  readonly readModel?: boolean;
}

/** Reports a failure inside a shared stream, which its subscribers see only as its end. */
export type StreamErrorReporter = (what: string, error: unknown, engine: string) => void;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** How the registry keeps what it shares across operations. */
export interface RegistryOptions {
  /** How long a registry's answer about a tag is reused, in milliseconds (0: not kept). */
  readonly updateCheckTtlMs?: number;
  /** Keep each engine's lists in memory from its events (`DOCKERGRAPH_READ_MODEL`). */
  readonly readModel?: boolean;
  /** How fresh the kept lists are made for each request (`exact` unless given). */
  readonly readModelConsistency?: ReadModelConsistency;
}

function register(
  entry: EngineEntry,
  reportError: StreamErrorReporter,
  options: RegistryOptions,
): RegisteredEngine & {
  endStreams(reason: string): void;
  retire(reason: string): Promise<void>;
} {
  const retirement = new AbortController();
  let reason: string | null = null;
  let health: EngineHealth = { reachable: null, lastError: null, checkedAt: null };
  const warn = (what: string) => (error: unknown) => reportError(what, error, entry.name);
  const events = new EventHub(entry.client, {
    onUpstreamError: warn('engine event stream dropped'),
  });
  const readModel =
    (entry.readModel ?? options.readModel)
      ? new ReadModel(entry.client, events, {
          onError: warn('read model re-read failed'),
          consistency: options.readModelConsistency ?? 'exact',
        })
      : null;
  readModel?.start();
  const stats = new StatsHub(entry.client, {
    bufferSize: STATS_BUFFER_SAMPLES,
    onUpstreamError: warn('engine stats stream dropped'),
  });
  return {
    name: entry.name,
    labels: entry.labels,
    client: entry.client,
    events,
    stats,
    distribution: new DistributionCache(options.updateCheckTtlMs ?? 0),
    readModel,
    retired: retirement.signal,
    retiredReason: () => reason,
    health: () => health,
    async probe(timeoutMs) {
      try {
        await entry.client.ping(timeoutMs);
        health = { reachable: true, lastError: null, checkedAt: new Date() };
        return true;
      } catch (error) {
        health = { reachable: false, lastError: messageOf(error), checkedAt: new Date() };
        return false;
      }
    },
    endStreams(why) {
      if (retirement.signal.aborted) return;
      reason = why;
      retirement.abort(new Error(why));
      readModel?.close();
      events.close();
      stats.close();
    },
    async retire(why) {
      this.endStreams(why);
      await entry.client.close();
    },
  };
}

/**
 * The engines dockergraph serves, by name: each with its client, its shared live
 * streams and its last known health. The set may change while the server runs (the
 * engines file is re-read on SIGHUP): what a request holds stays usable until the
 * request ends, while subscriptions of a removed engine end with the reason.
 */
export class EngineRegistry {
  readonly #engines = new Map<string, ReturnType<typeof register>>();
  readonly #reportError: StreamErrorReporter;
  readonly #options: RegistryOptions;
  readonly #watchers = new Set<(engine: RegisteredEngine) => () => void>();
  /** What each watcher attached to each engine (by name), detached when the engine leaves. */
  readonly #attached = new Map<string, Map<(engine: RegisteredEngine) => () => void, () => void>>();
  /** Sorted by name, remade on each change: lists merge engines in this order. */
  #ordered: readonly RegisteredEngine[] = [];

  constructor(
    entries: readonly EngineEntry[],
    reportError: StreamErrorReporter,
    options: RegistryOptions = {},
  ) {
    this.#reportError = reportError;
    this.#options = options;
    for (const entry of entries) this.add(entry);
  }

  /** Every engine, in name order. */
  list(): readonly RegisteredEngine[] {
    return this.#ordered;
  }

  get(name: string): RegisteredEngine | undefined {
    return this.#engines.get(name);
  }

  /** Adds an engine; one of the same name is retired first. */
  add(entry: EngineEntry): RegisteredEngine {
    const previous = this.#engines.get(entry.name);
    if (previous) void previous.retire(`engine "${entry.name}" was reconfigured`);
    this.#detach(entry.name);
    const registered = register(entry, this.#reportError, this.#options);
    this.#engines.set(entry.name, registered);
    this.#order();
    this.#attached.set(
      entry.name,
      new Map([...this.#watchers].map((watch) => [watch, watch(registered)])),
    );
    return registered;
  }

  /** Removes an engine: its subscriptions end with `reason`, its connections close. */
  async remove(name: string, reason: string): Promise<void> {
    const registered = this.#engines.get(name);
    if (!registered) return;
    this.#engines.delete(name);
    this.#order();
    this.#detach(name);
    await registered.retire(reason);
  }

  /**
   * Calls `attach` for every engine now and every engine added later (a reload); what it
   * answers is called when the engine leaves, or when the answer of this method is.
   */
  observeEach(attach: (engine: RegisteredEngine) => () => void): () => void {
    this.#watchers.add(attach);
    for (const engine of this.#engines.values()) {
      const attached = this.#attached.get(engine.name) ?? new Map();
      attached.set(attach, attach(engine));
      this.#attached.set(engine.name, attached);
    }
    return () => {
      this.#watchers.delete(attach);
      for (const attached of this.#attached.values()) {
        attached.get(attach)?.();
        attached.delete(attach);
      }
    };
  }

  #detach(name: string): void {
    for (const detach of this.#attached.get(name)?.values() ?? []) detach();
    this.#attached.delete(name);
  }

  /** Asks every engine at once; the engines that answered and those that did not. */
  async probeAll(timeoutMs: number): Promise<{ up: string[]; down: string[] }> {
    const engines = this.list();
    const answers = await Promise.all(engines.map((engine) => engine.probe(timeoutMs)));
    return {
      up: engines.filter((_, index) => answers[index]).map((engine) => engine.name),
      down: engines.filter((_, index) => !answers[index]).map((engine) => engine.name),
    };
  }

  /** Ends every engine's live streams: their subscriptions complete; calls still work. */
  endLiveStreams(reason: string): void {
    for (const engine of this.#engines.values()) engine.endStreams(reason);
  }

  /** Retires every engine: subscriptions complete, connections close. */
  async close(): Promise<void> {
    const all = [...this.#engines.values()];
    this.#engines.clear();
    this.#order();
    await Promise.all(all.map((engine) => engine.retire('the server is shutting down')));
  }

  #order(): void {
    this.#ordered = [...this.#engines.values()].sort((a, b) => compareText(a.name, b.name));
  }
}
