import type { DockerClient, EngineCallOutcome } from './client.ts';
import {
  type EngineContainerInspect,
  type EngineContainerSummary,
  inspectContainer,
  listContainers,
} from './containers.ts';
import { EngineClock } from './engine-clock.ts';
import { isPodman } from './engine-kind.ts';
import { type EventHub, type EventMessage, eventKey } from './event-hub.ts';
import { type EngineEvent, streamEvents, toEventTimestamp } from './events.ts';
import { type EngineImageSummary, listImages } from './images.ts';
import { type EngineNetwork, listNetworks } from './networks.ts';
import { type EngineVolume, listVolumes } from './volumes.ts';

/** The lists a {@link ReadModel} keeps. */
export type ReadModelKind = 'containers' | 'images' | 'volumes' | 'networks';

const KINDS: readonly ReadModelKind[] = ['containers', 'images', 'volumes', 'networks'];

/** What a {@link ReadModel} has done, for tests and the bench. */
export interface ReadModelCounters {
  /** Whole re-reads of every list (start, resync, reconnect, a failed refresh). */
  readonly resyncs: number;
  /** Re-reads of one kind or of some containers, after events or writes. */
  readonly refreshes: number;
  /** Reads it answered from memory. */
  readonly served: number;
  /** Reads it left to the engine (cold, gap, or a write not yet re-read). */
  readonly declined: number;
  /** Engine calls it made itself. */
  readonly engineCalls: number;
}

/** A container summary with what its `Status` text is computed from. */
interface KeptContainer {
  readonly summary: EngineContainerSummary;
  readonly state: EngineContainerInspect['State'];
  /** Creation time in nanoseconds: the engine lists newest first by it. */
  readonly createdNano: bigint;
  /**
   * Its place in the engine's list at the last whole read; -1 for a container first seen
   * by an event since (created after that read, so newer than all of those).
   */
  readonly rank: number;
}

/**
 * The engine's order of containers: newest first by creation time to the nanosecond; of two
 * created in the same nanosecond, the one the engine's last whole list put first (one seen
 * only by an event since then is newer than those).
 */
function engineOrder(a: KeptContainer, b: KeptContainer): number {
  if (a.createdNano !== b.createdNano) return a.createdNano > b.createdNano ? -1 : 1;
  return a.rank - b.rank;
}

/** Container events that change nothing a container's list entry shows. */
const SILENT_CONTAINER_ACTIONS = new Set([
  'attach',
  'detach',
  'resize',
  'top',
  'export',
  'copy',
  'archive-path',
  'extract-to-dir',
  'exec_create',
  'exec_start',
  'exec_die',
  'exec_detach',
]);

/**
 * Write endpoints whose change completes only when their streamed answer ends (after the
 * outcome is told): their kind is left to the engine until the engine's event about it.
 */
const STREAMED_IMAGE_WRITE = /^\/(images\/create|build|images\/load)$/;

/** How long a streamed write's kind waits for the engine's event before it is re-read anyway. */
const STREAMED_WRITE_PATIENCE_MS = 60_000;

/** The kinds a write to `path` may change (`POST`, `PUT`, `DELETE`). */
export function kindsChangedBy(path: string): readonly ReadModelKind[] {
  const [, root = '', , action = ''] = path.split('/');
  switch (root) {
    case 'containers':
      // Reads and streams that change no list entry.
      if (['wait', 'attach', 'resize', 'exec', 'archive'].includes(action)) return [];
      // Creating may create named volumes; removing (`v=1`) removes anonymous ones.
      return ['containers', 'volumes'];
    case 'images':
    case 'build':
    case 'commit':
      // A container's `Image` shows the image's id once its reference names another image.
      return ['images', 'containers'];
    case 'volumes':
      return ['volumes'];
    case 'networks':
      return ['networks', 'containers'];
    case 'exec':
    case 'auth':
    case 'session':
    case 'distribution':
    case 'swarm':
    case 'services':
    case 'secrets':
    case 'configs':
    case 'nodes':
    case 'tasks':
    case 'plugins':
      return [];
    default:
      return KINDS;
  }
}

/**
 * Go's `units.HumanDuration` (github.com/docker/go-units), with which the engine writes
 * a container's uptime or time since it exited in the list's `Status`.
 */
export function humanDuration(milliseconds: number): string {
  const seconds = Math.trunc(milliseconds / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(milliseconds / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(milliseconds / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(milliseconds / 3_600_000 / 24 / 365)} years`;
}

/** Go's zero time, which the engine writes for a container never started or never exited. */
function isZeroTime(time: string): boolean {
  return time === '' || time.startsWith('0001-01-01');
}

/**
 * The list's `Status` text as the engine writes it at `now` (its `State.String()`): it
 * changes with time, without an event, so it is computed at each read rather than kept.
 */
export function statusText(state: EngineContainerInspect['State'], now: number): string {
  const since = (time: string) => humanDuration(now - Date.parse(time));
  if (state.Running) {
    if (state.Paused) return `Up ${since(state.StartedAt)} (Paused)`;
    if (state.Restarting) return `Restarting (${state.ExitCode}) ${since(state.FinishedAt)} ago`;
    const health = state.Health?.Status;
    if (health) {
      return `Up ${since(state.StartedAt)} (${health === 'starting' ? 'health: starting' : health})`;
    }
    return `Up ${since(state.StartedAt)}`;
  }
  if (state.Status === 'removing') return 'Removal In Progress';
  if (state.Dead) return 'Dead';
  if (isZeroTime(state.StartedAt)) return 'Created';
  if (isZeroTime(state.FinishedAt)) return '';
  return `Exited (${state.ExitCode}) ${since(state.FinishedAt)} ago`;
}

/** RFC 3339 with up to nine fraction digits, as nanoseconds since the epoch. */
export function toNanos(time: string): bigint {
  const match = /^(.*?T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  if (!match) return BigInt(Date.parse(time) || 0) * 1_000_000n;
  const [, whole = '', fraction = '', zone = 'Z'] = match;
  const seconds = BigInt(Math.trunc(Date.parse(`${whole}${zone}`) / 1000));
  return seconds * 1_000_000_000n + BigInt(fraction.padEnd(9, '0'));
}

/**
 * How a request's reads are made to reflect what happened before it (see
 * {@link ReadModel.catchUp}): `exact` asks the engine for the events published up to the
 * request's arrival first (one small call); `eventual` answers from what the stream has
 * delivered so far (no call).
 */
export type ReadModelConsistency = 'exact' | 'eventual';

/**
 * How far back a catch-up asks, before the last event the stream delivered: the engine
 * stamps an event before it publishes it, so two published at once may come out of order
 * (by far less than this).
 */
const REORDER_WINDOW_NANOS = 100_000_000n;

/**
 * Milliseconds a catch-up may go without a byte of the engine's answer: one whose `until`
 * the engine finds in its future waits for it (a clock moved since it was measured); the
 * request then reads the engine instead.
 */
const CATCH_UP_PATIENCE_MS = 250;

/** The engine keeps its last 256 events (moby's `eventsLimit`). */
const ENGINE_EVENT_BUFFER = 256;

/** Options of a {@link ReadModel}. */
export interface ReadModelOptions {
  /** `exact` unless given. */
  readonly consistency?: ReadModelConsistency;
  /** Told of failed re-reads, for logs; the model then answers nothing until it resynced. */
  readonly onError?: (error: unknown) => void;
  /** Containers inspected at once during a whole re-read. */
  readonly inspectConcurrency?: number;
}

/**
 * The lists of containers, images, volumes and networks of one engine, kept in memory
 * from its one `/events` stream (the engine's {@link EventHub}).
 *
 * - Read whole when the stream (re)connects, on a resync, or after a failed re-read.
 * - On each event: the containers it names are re-read (`GET /containers/json` with an
 *   `id` filter and `GET /containers/{id}/json` for the times `Status` is computed
 *   from), batched when events come in bursts; an image, volume or network event re-reads
 *   that kind's list whole (one call; their order is the engine's).
 * - A write sent through this engine's client (any view of it) leaves the kinds it may
 *   change to the engine from the moment it is sent until a re-read that started after
 *   its answer (or, for a pull, build or load, after the engine's event about it).
 *
 * Reads wait for the re-reads already queued, so that what they answer reflects every
 * event received before them; they answer `null` (ask the engine) while the model is
 * cold, the stream is down, or a write is not yet re-read. What changes without an
 * event (sizes, usage, stats, inspect-only fields) is never kept.
 */
export class ReadModel {
  readonly #client: DockerClient;
  readonly #events: EventHub;
  readonly #onError: (error: unknown) => void;
  readonly #inspectConcurrency: number;
  readonly #consistency: ReadModelConsistency;
  readonly #abort = new AbortController();
  /** The view the model reads through: its own call count, cancelled on close. */
  readonly #view: DockerClient;

  #containers = new Map<string, KeptContainer>();
  #images: EngineImageSummary[] = [];
  #volumes: EngineVolume[] = [];
  #networks: EngineNetwork[] = [];

  /** Whether the lists were read whole since the upstream connection `#warmConnection`. */
  #warm = false;
  #warmConnection = -1;
  #resyncing = false;
  /** The re-reads queued, run one after another so a later one always wins. */
  #tail: Promise<void> = Promise.resolve();
  /** Containers waiting for a queued re-read not yet started. */
  #pendingContainers: Set<string> | null = null;
  #pendingKinds = new Set<ReadModelKind>();
  #kindsQueued = false;

  /** Writes sent and not yet answered, per kind. */
  readonly #writesInFlight = new Map<ReadModelKind, number>();
  /** Counts answered writes per kind; a kind is kept once a re-read started after the last. */
  readonly #writeEpoch = new Map<ReadModelKind, number>();
  readonly #syncedEpoch = new Map<ReadModelKind, number>();
  /** Kinds written by a streamed write that wait for the engine's event about it. */
  readonly #awaitingEvent = new Set<ReadModelKind>();

  /**
   * The newest time of a local event the stream delivered (swarm events are stamped by the
   * manager's clock), or the engine's time when the lists were last read whole.
   */
  #caughtUpNano = 0n;
  /** The key of the event {@link #caughtUpNano} is the time of (null: a whole read's): a catch-up's answer must hold it. */
  #caughtUpEvent: string | null = null;
  /** The engine's time, as its own events tell it (see `engine-clock.ts`). */
  readonly #engineClock = new EngineClock();
  /** Catch-ups sent and not answered yet. */
  #catchUpsInFlight = 0;
  /** A catch-up held back to the end of this turn, which requests arriving meanwhile join. */
  #joinableCatchUp: Promise<boolean> | null = null;
  /** Events applied lately (by the stream or a catch-up), by key, with their time. */
  readonly #applied = new Map<string, bigint>();

  #resyncs = 0;
  #refreshes = 0;
  #served = 0;
  #declined = 0;
  readonly #detach: (() => void)[] = [];

  constructor(client: DockerClient, events: EventHub, options: ReadModelOptions = {}) {
    this.#client = client;
    this.#view = client.withSignal(this.#abort.signal);
    this.#events = events;
    this.#onError = options.onError ?? (() => {});
    this.#inspectConcurrency = options.inspectConcurrency ?? 16;
    this.#consistency = options.consistency ?? 'exact';
  }

  /** Subscribes to the engine's events and to its client's writes, and starts reading. */
  start(): void {
    this.#detach.push(
      this.#client.observe((call) => {
        if (call.method === 'GET' || call.method === 'HEAD') return;
        for (const kind of kindsChangedBy(call.path)) {
          this.#writesInFlight.set(kind, (this.#writesInFlight.get(kind) ?? 0) + 1);
        }
      }),
      this.#client.observeOutcomes((outcome) => this.#written(outcome)),
    );
    void this.#follow();
    const timer = setInterval(() => this.#warmUp(), 200);
    timer.unref();
    this.#detach.push(() => clearInterval(timer));
    this.#warmUp();
  }

  /** Stops following the engine; later reads answer `null`. */
  close(): void {
    this.#abort.abort();
    this.#warm = false;
    for (const detach of this.#detach.splice(0)) detach();
  }

  /** Whether reads are answered from memory now (read whole, stream open, no gap). */
  get warm(): boolean {
    return (
      this.#warm &&
      !this.#abort.signal.aborted &&
      this.#events.upstreamOpen &&
      this.#events.upstreamConnections === this.#warmConnection
    );
  }

  get counters(): ReadModelCounters {
    return {
      resyncs: this.#resyncs,
      refreshes: this.#refreshes,
      served: this.#served,
      declined: this.#declined,
      engineCalls: this.#view.callCount,
    };
  }

  /** Every container (`all=1`), newest first; `null`: ask the engine. */
  async containers(): Promise<EngineContainerSummary[] | null> {
    if (!(await this.#ready('containers'))) return null;
    const now = Date.now();
    return [...this.#containers.values()]
      .sort(engineOrder)
      .map(({ summary, state }) => ({ ...summary, Status: statusText(state, now) }));
  }

  /** `GET /images/json` as the engine last answered it; `null`: ask the engine. */
  async images(): Promise<EngineImageSummary[] | null> {
    return (await this.#ready('images')) ? [...this.#images] : null;
  }

  /** `GET /volumes` as the engine last answered it; `null`: ask the engine. */
  async volumes(): Promise<EngineVolume[] | null> {
    return (await this.#ready('volumes')) ? [...this.#volumes] : null;
  }

  /** `GET /networks` as the engine last answered it; `null`: ask the engine. */
  async networks(): Promise<EngineNetwork[] | null> {
    return (await this.#ready('networks')) ? [...this.#networks] : null;
  }

  /** Waits for the re-reads queued before this read; whether `kind` may be served. */
  async #ready(kind: ReadModelKind): Promise<boolean> {
    if (!this.warm) return this.#decline();
    await this.#tail;
    if (!this.warm || this.#dirty(kind)) return this.#decline();
    this.#served += 1;
    return true;
  }

  #decline(): false {
    this.#declined += 1;
    this.#warmUp();
    return false;
  }

  #dirty(kind: ReadModelKind): boolean {
    return (
      (this.#writesInFlight.get(kind) ?? 0) > 0 ||
      this.#awaitingEvent.has(kind) ||
      (this.#syncedEpoch.get(kind) ?? 0) < (this.#writeEpoch.get(kind) ?? 0)
    );
  }

  #written(outcome: EngineCallOutcome): void {
    if (outcome.method === 'GET' || outcome.method === 'HEAD') return;
    const kinds = kindsChangedBy(outcome.path);
    for (const kind of kinds) {
      this.#writesInFlight.set(kind, Math.max(0, (this.#writesInFlight.get(kind) ?? 0) - 1));
      this.#writeEpoch.set(kind, (this.#writeEpoch.get(kind) ?? 0) + 1);
      if (STREAMED_IMAGE_WRITE.test(outcome.path) && outcome.status !== null) {
        if (outcome.status < 300) this.#awaitingEvent.add(kind);
      }
    }
    this.#queueKinds(kinds);
    if (STREAMED_IMAGE_WRITE.test(outcome.path)) {
      // A stream that failed half way sends no event: re-read anyway after a while.
      const timer = setTimeout(() => {
        for (const kind of kinds) this.#awaitingEvent.delete(kind);
        this.#queueKinds(kinds);
      }, STREAMED_WRITE_PATIENCE_MS);
      timer.unref();
    }
  }

  /** Starts a whole re-read when the model is cold and the stream is open. */
  #warmUp(): void {
    if (this.#resyncing || this.#abort.signal.aborted || !this.#events.upstreamOpen) return;
    if (this.warm) return;
    this.#resyncing = true;
    this.#warm = false;
    const connection = this.#events.upstreamConnections;
    this.#enqueue(async () => {
      try {
        // Podman's `until` differs (see `streamEvents`): an exact model could never serve it,
        // so it stops following the engine rather than re-read for nobody.
        if (this.#consistency === 'exact' && (await isPodman(this.#view))) {
          this.close();
          return;
        }
        const epochs = this.#epochs();
        const startedNano = this.#engineClock.now();
        await this.#readAll();
        if (startedNano > this.#caughtUpNano) {
          this.#caughtUpNano = startedNano;
          this.#caughtUpEvent = null;
        }
        this.#markSynced(KINDS, epochs);
        this.#resyncs += 1;
        this.#warmConnection = connection;
        this.#warm = true;
      } finally {
        this.#resyncing = false;
      }
    });
  }

  /** Follows the engine's events, subscribing again when the subscription ends. */
  async #follow(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      // Immediate: a request read after the event came must find its re-read queued.
      for await (const message of this.#events.subscribe({ signal, immediate: true })) {
        this.#receive(message);
      }
      // Ended: this subscriber fell behind, or the hub closed. Events may be lost.
      this.#warm = false;
      if (!signal.aborted) await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  #receive(message: EventMessage): void {
    if (message.kind === 'resync') {
      this.#warm = false;
      this.#warmUp();
      return;
    }
    const { event } = message;
    if (event.scope === 'local') {
      const time = BigInt(event.timeNano);
      this.#engineClock.observe(time);
      if (time >= this.#caughtUpNano) {
        this.#caughtUpNano = time;
        this.#caughtUpEvent = eventKey(event);
      }
    }
    if (this.#markApplied(event)) this.#apply(event);
  }

  /** Records `event` as applied; false when the stream or a catch-up already brought it. */
  #markApplied(event: EngineEvent): boolean {
    const key = eventKey(event);
    if (this.#applied.has(key)) return false;
    this.#applied.set(key, BigInt(event.timeNano));
    if (this.#applied.size > 4 * ENGINE_EVENT_BUFFER) {
      const oldest = this.#caughtUpNano - 2n * REORDER_WINDOW_NANOS;
      for (const [each, time] of this.#applied) if (time < oldest) this.#applied.delete(each);
    }
    return true;
  }

  /**
   * Makes the reads that follow reflect every event the engine published before this call,
   * those the stream has not delivered yet included (a change made with the docker CLI an
   * instant ago): `GET /events` with `since` a little before the last event the stream
   * delivered and `until` the engine's time now, which the engine answers from the events
   * it keeps, then ends. The events not applied yet are applied (their re-reads queued, which
   * reads wait for). One call, made through `client` (the request's: it counts in its
   * engine calls and budget). false when the model cannot be made exact now (cold, events
   * the engine no longer keeps, an answer that does not come, a clock that moved): the
   * request then reads the engine. With `eventual` consistency it makes no call and answers
   * whether the model is warm.
   * Requests that arrive while another's catch-up is in flight share one, sent at the end of
   * the event loop's turn (it then counts in the first one's engine calls only).
   */
  async catchUp(client: DockerClient): Promise<boolean> {
    if (!this.warm) return false;
    if (this.#consistency === 'eventual') return true;
    // A catch-up not sent yet asks the engine's time after this request arrived: join it.
    if (this.#joinableCatchUp) return this.#joinableCatchUp;
    const busy = this.#catchUpsInFlight > 0;
    const caughtUp = (async () => {
      // Held back to the end of the event loop's turn only while others are in flight (the
      // server is busy), so that the requests arriving meanwhile share one call.
      if (busy) await new Promise((resolve) => setImmediate(resolve));
      this.#joinableCatchUp = null;
      this.#catchUpsInFlight += 1;
      try {
        return await this.#catchUpNow(client);
      } catch {
        // The request reads the engine, which tells it what went wrong.
        return false;
      } finally {
        this.#catchUpsInFlight -= 1;
      }
    })();
    if (busy) this.#joinableCatchUp = caughtUp;
    return caughtUp;
  }

  async #catchUpNow(client: DockerClient): Promise<boolean> {
    const until = this.#engineClock.now();
    const caughtUp = this.#caughtUpNano;
    const anchor = this.#caughtUpEvent;
    const since = caughtUp - REORDER_WINDOW_NANOS;
    if (since >= until) return false;
    const events: EngineEvent[] = [];
    for await (const event of streamEvents(client, {
      since: toEventTimestamp(since > 0n ? since : 0n),
      until: toEventTimestamp(until),
      bodyTimeoutMs: CATCH_UP_PATIENCE_MS,
    })) {
      events.push(event);
    }
    // The engine keeps its last 256 events. When the answer lacks the last event the stream
    // delivered (which is in the range asked), or holds as many as it keeps, the ones between
    // may be gone: only a whole re-read would tell what they changed.
    const complete =
      anchor === null
        ? events.length < ENGINE_EVENT_BUFFER
        : events.some((event) => eventKey(event) === anchor);
    if (!complete) return false;
    for (const event of events) if (this.#markApplied(event)) this.#apply(event);
    return this.warm;
  }

  #apply(event: EngineEvent): void {
    const { Type, Action, Actor } = event;
    const action = Action.split(':', 1)[0] ?? Action;
    switch (Type) {
      case 'container':
        if (SILENT_CONTAINER_ACTIONS.has(action)) return;
        if (action === 'prune' || Actor.ID === '') this.#queueKinds(['containers']);
        else this.#queueContainers([Actor.ID]);
        return;
      case 'image':
        this.#awaitingEvent.delete('images');
        this.#awaitingEvent.delete('containers');
        // `Image` of a container's entry follows its reference's tags.
        if (['push', 'save'].includes(action)) return;
        this.#queueKinds(['images', 'containers']);
        return;
      case 'volume':
        if (action === 'mount' || action === 'unmount') return;
        this.#queueKinds(['volumes']);
        return;
      case 'network': {
        this.#queueKinds(['networks']);
        const container = Actor.Attributes.container;
        // Connecting changes the container's `NetworkSettings` in its entry.
        if (container) this.#queueContainers([container]);
        return;
      }
      default:
        return;
    }
  }

  #queueContainers(ids: readonly string[]): void {
    if (!this.#pendingContainers) {
      const pending = new Set<string>();
      this.#pendingContainers = pending;
      this.#enqueue(async () => {
        // Taken when it starts: ids added until then are read in the same call.
        this.#pendingContainers = null;
        await this.#readContainers([...pending]);
      });
    }
    for (const id of ids) this.#pendingContainers.add(id);
  }

  #queueKinds(kinds: readonly ReadModelKind[]): void {
    for (const kind of kinds) this.#pendingKinds.add(kind);
    if (this.#kindsQueued || kinds.length === 0) return;
    this.#kindsQueued = true;
    this.#enqueue(async () => {
      this.#kindsQueued = false;
      const taken = [...this.#pendingKinds];
      this.#pendingKinds.clear();
      const epochs = this.#epochs();
      await Promise.all(taken.map((kind) => this.#readKind(kind)));
      this.#markSynced(taken, epochs);
    });
  }

  #epochs(): Map<ReadModelKind, number> {
    return new Map(KINDS.map((kind) => [kind, this.#writeEpoch.get(kind) ?? 0]));
  }

  #markSynced(kinds: readonly ReadModelKind[], epochs: Map<ReadModelKind, number>): void {
    for (const kind of kinds) this.#syncedEpoch.set(kind, epochs.get(kind) ?? 0);
  }

  /** Runs `task` after those queued before; a failure leaves the model cold until resynced. */
  #enqueue(task: () => Promise<void>): void {
    this.#tail = this.#tail.then(async () => {
      if (this.#abort.signal.aborted) return;
      try {
        await task();
      } catch (error) {
        this.#warm = false;
        this.#onError(error);
      }
    });
  }

  async #readAll(): Promise<void> {
    await Promise.all(KINDS.map((kind) => this.#readKind(kind)));
  }

  async #readKind(kind: ReadModelKind): Promise<void> {
    const client = this.#view;
    this.#refreshes += 1;
    switch (kind) {
      case 'containers': {
        const summaries = await listContainers(client, { all: true });
        this.#containers = new Map(
          (await this.#withStates(summaries)).map((kept) => [kept.summary.Id, kept]),
        );
        return;
      }
      case 'images':
        this.#images = await listImages(client);
        return;
      case 'volumes':
        this.#volumes = await listVolumes(client);
        return;
      case 'networks':
        this.#networks = await listNetworks(client);
        return;
    }
  }

  /**
   * Re-reads the containers `ids` (from events): each inspected first, then one list call.
   * Inspecting waits for the container's lock, which the engine holds until the list's copy
   * is saved: a network `connect` event comes before that, so a list read at once could
   * miss the change.
   */
  async #readContainers(ids: readonly string[]): Promise<void> {
    const client = this.#view;
    this.#refreshes += 1;
    const inspected = new Map<string, EngineContainerInspect>();
    for (let start = 0; start < ids.length; start += this.#inspectConcurrency) {
      const chunk = ids.slice(start, start + this.#inspectConcurrency);
      for (const container of await Promise.all(chunk.map((id) => inspectContainer(client, id)))) {
        if (container) inspected.set(container.Id, container);
      }
    }
    const summaries =
      inspected.size === 0
        ? []
        : await listContainers(client, { all: true, filters: { ids: [...inspected.keys()] } });
    // The `id` filter matches prefixes: keep the entries named exactly.
    const kept = summaries.flatMap((summary) => {
      const inspect = inspected.get(summary.Id);
      return inspect
        ? [
            {
              summary,
              state: inspect.State,
              createdNano: toNanos(inspect.Created),
              rank: this.#containers.get(summary.Id)?.rank ?? -1,
            },
          ]
        : [];
    });
    const found = new Set(kept.map((each) => each.summary.Id));
    for (const id of ids) if (!found.has(id)) this.#containers.delete(id);
    for (const each of kept) this.#containers.set(each.summary.Id, each);
  }

  /** Adds each container's state (inspect), from which its `Status` text is computed. */
  async #withStates(summaries: readonly EngineContainerSummary[]): Promise<KeptContainer[]> {
    const client = this.#view;
    const kept: KeptContainer[] = [];
    for (let start = 0; start < summaries.length; start += this.#inspectConcurrency) {
      const chunk = summaries.slice(start, start + this.#inspectConcurrency);
      const inspected = await Promise.all(
        chunk.map((summary) => inspectContainer(client, summary.Id)),
      );
      chunk.forEach((summary, index) => {
        const inspect = inspected[index];
        // Removed between the two calls: its `destroy` event re-reads it.
        if (!inspect) return;
        kept.push({
          summary,
          state: inspect.State,
          createdNano: toNanos(inspect.Created),
          // Its place in the engine's list, for what the creation time cannot tell apart.
          rank: start + index,
        });
      });
    }
    return kept;
  }
}
