import type { DockerClient } from './client.ts';
import { parseEngineTime } from './engine-time.ts';
import { type EngineEvent, streamEvents, toEventTimestamp } from './events.ts';
import { readEngineInfo } from './system.ts';

/**
 * What one subscriber wants to see. Lists are OR-ed within themselves; the object
 * lists (containers, images, volumes, networks) are OR-ed with each other (an event
 * about any object named passes); everything else is AND-ed.
 */
export interface EventFilter {
  /** Engine event types, e.g. `container`, `network`. */
  readonly types?: readonly string[];
  /** Actions, e.g. `start`; `exec_start` also matches `exec_start: sh -c …`. */
  readonly actions?: readonly string[];
  /** Container ids, id prefixes or names. */
  readonly containers?: readonly string[];
  /** Image ids or references; also matches container events of containers of that image. */
  readonly images?: readonly string[];
  /** Volume names. */
  readonly volumes?: readonly string[];
  /** Network ids, id prefixes or names. */
  readonly networks?: readonly string[];
  /** `key` or `key=value`, each of which the event's attributes must have. */
  readonly labels?: readonly string[];
}

/** What a subscriber receives: an event, or word that events may have been missed. */
export type EventMessage =
  | { readonly kind: 'event'; readonly event: EngineEvent }
  | {
      readonly kind: 'resync';
      /** Why: the upstream was down too long or lost events, or this subscriber fell behind. */
      readonly reason: string;
    };

/** Tuning of an {@link EventHub}. */
export interface EventHubOptions {
  /** Messages a subscriber may have waiting; one more and it gets a resync and is closed. */
  readonly bufferSize?: number;
  /** First pause before reconnecting a dropped upstream; doubled after each failure. */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** An outage longer than this ends in a resync even when the replay looks complete. */
  readonly maxOutageMs?: number;
  /** Told of upstream failures, for logs. */
  readonly onUpstreamError?: (error: unknown) => void;
}

/** Options of {@link EventHub.subscribe}. */
export interface SubscribeOptions {
  readonly filter?: EventFilter;
  /** Replays the events the engine still holds from this time on (it keeps its last 256). */
  readonly since?: Date;
  /** Ends the subscription. */
  readonly signal?: AbortSignal;
  /**
   * Handed each message as it comes, before the hub lets the event loop turn, instead of
   * in its turn among the other subscribers: for state that reads wait on (the read model),
   * which must have an event before any request that follows it is read.
   */
  readonly immediate?: boolean;
}

/** A key for "the same event", which the timestamp alone does not make unique. */
export function eventKey(event: EngineEvent): string {
  return `${event.timeNano} ${event.Type} ${event.Action} ${event.Actor.ID}`;
}

/**
 * How far before the newest event seen a reconnect asks the engine to replay from, and how
 * long the keys of events seen are kept to drop what the replay sends again. The engine
 * stamps an event before it publishes it, so the events of operations running at once
 * reach the stream out of timestamp order (eight containers created together do), each by
 * far less than this: an event older than one already seen is new all the same.
 */
const REPLAY_OVERLAP_NS = 1_000_000_000n;

/**
 * The events one upstream has broadcast, remembered by key for {@link REPLAY_OVERLAP_NS}
 * behind the newest: a reconnect replays from there, and what it sends again is dropped
 * while every event not seen yet passes, in whatever order it comes.
 */
export class SeenEvents {
  #newest: bigint | null = null;
  /** Keys in the order seen, with their times: the oldest are at the front, nearly always. */
  readonly #keys = new Map<string, bigint>();

  /** The time of the newest event seen, in nanoseconds; null before any. */
  get newest(): bigint | null {
    return this.#newest;
  }

  /** Where a reconnect resumes from (nanoseconds): null before any event. */
  get resumeFrom(): bigint | null {
    return this.#newest === null ? null : this.#newest - REPLAY_OVERLAP_NS;
  }

  /** Whether `event` was not seen yet; it is remembered then. */
  admit(event: EngineEvent): boolean {
    const key = eventKey(event);
    if (this.#keys.has(key)) return false;
    const nano = BigInt(event.timeNano);
    this.#keys.set(key, nano);
    if (this.#newest === null || nano > this.#newest) this.#newest = nano;
    // Forgets from the front what fell out of the window; a key seen late behind a newer
    // one goes with the next that is pruned after it, a little later.
    const floor = this.#newest - REPLAY_OVERLAP_NS;
    for (const [seenKey, seenNano] of this.#keys) {
      if (seenNano >= floor) break;
      this.#keys.delete(seenKey);
    }
    return true;
  }
}

function matchesId(candidates: readonly string[], id: string, name: string | undefined) {
  return candidates.some(
    (candidate) =>
      candidate !== '' && (id.startsWith(candidate) || (name !== undefined && candidate === name)),
  );
}

/** Whether `event` passes `filter`, as described on {@link EventFilter}. */
export function matchesFilter(event: EngineEvent, filter: EventFilter): boolean {
  const { Type, Action, Actor } = event;
  if (filter.types?.length && !filter.types.includes(Type)) return false;
  if (filter.actions?.length) {
    // Run for every subscriber of every event: the verb is cut out only when it is needed.
    if (!filter.actions.includes(Action)) {
      const colon = Action.indexOf(':');
      if (colon === -1 || !filter.actions.includes(Action.slice(0, colon))) return false;
    }
  }
  for (const label of filter.labels ?? []) {
    const equals = label.indexOf('=');
    const key = equals === -1 ? label : label.slice(0, equals);
    if (!Object.hasOwn(Actor.Attributes, key)) return false;
    if (equals !== -1 && Actor.Attributes[key] !== label.slice(equals + 1)) return false;
  }
  const { containers, images, volumes, networks } = filter;
  if (!containers?.length && !images?.length && !volumes?.length && !networks?.length) return true;
  const name = Actor.Attributes.name;
  return (
    (Type === 'container' && matchesId(containers ?? [], Actor.ID, name)) ||
    (Type === 'image' && matchesId(images ?? [], Actor.ID.replace(/^sha256:/, ''), name)) ||
    (Type === 'image' && (images ?? []).includes(Actor.ID)) ||
    (Type === 'container' &&
      Actor.Attributes.image !== undefined &&
      (images ?? []).includes(Actor.Attributes.image)) ||
    (Type === 'volume' && (volumes ?? []).includes(Actor.ID)) ||
    (Type === 'network' && matchesId(networks ?? [], Actor.ID, name))
  );
}

/**
 * One subscriber's queue and its consumer side.
 *
 * Hand-made rather than a Repeater, because the Repeater is worse here: its executor (and
 * so its `push`) starts only on the first `next()`, but a subscriber must be registered
 * and queue events from `subscribe()` on, whether or not it reads yet (a slow reader is
 * told it fell behind by the resync that ends its queue, past the bound), and a Repeater
 * returned before its first read never runs its clean-up, which would leave the
 * subscriber registered and the upstream open.
 */
class Subscription implements AsyncIterableIterator<EventMessage> {
  readonly #queue: EventMessage[] = [];
  #wake: (() => void) | null = null;
  /** Resolves when the read waiting for {@link #wake} is woken; null while none waits. */
  #waiting: Promise<void> | null = null;
  /** Messages taken since the hub last woke this subscriber. */
  #takenSinceWake = 0;
  #ended = false;
  /** While the `since` replay runs, live events wait here. */
  #held: EngineEvent[] | null = null;
  /**
   * Keys of the events the replay gave, kept after it ends: the live stream and the replay
   * are two connections, so a live copy of a replayed event may still come after the
   * replay's answer ended (both were on their way; the hub read the replay's end first).
   */
  readonly #replayed = new Set<string>();
  /** The replay's cut-off (nanoseconds), while replayed keys are kept. */
  #replayedUntil: bigint | null = null;

  /**
   * The filter's content as a string: subscribers with equal keys let every event pass
   * or not alike ({@link matchesFilter} reads nothing else), so the hub decides once per key.
   */
  readonly filterKey: string;

  constructor(
    readonly filter: EventFilter,
    private readonly bufferSize: number,
    private readonly leave: (subscription: Subscription) => void,
    /** Told when this subscriber fell behind and gets a resync. */
    private readonly overflowed: () => void = () => {},
    /**
     * Asks the hub to wake this subscriber in a later turn, once it took its share of what
     * waits for it ({@link MESSAGES_PER_WAKE}); null: it takes everything at once (the read
     * model's way).
     */
    private readonly waitForTurn: ((subscription: Subscription) => void) | null = null,
  ) {
    this.filterKey = JSON.stringify([
      filter.types ?? null,
      filter.actions ?? null,
      filter.containers ?? null,
      filter.images ?? null,
      filter.volumes ?? null,
      filter.networks ?? null,
      filter.labels ?? null,
    ]);
  }

  get ended(): boolean {
    return this.#ended;
  }

  startReplay(): void {
    this.#held = [];
  }

  /** Whether its `since` replay is still running (live events are held meanwhile). */
  get replaying(): boolean {
    return this.#held !== null;
  }

  replayed(event: EngineEvent): void {
    this.#replayed.add(eventKey(event));
    this.#push({ kind: 'event', event });
  }

  /**
   * Ends the replay, which read the events up to `until` (nanoseconds; null when it failed):
   * live events held meanwhile follow, those the replay gave dropped, now and later.
   */
  endReplay(until: bigint | null): void {
    const held = this.#held ?? [];
    this.#held = null;
    for (const event of held) {
      if (!this.#replayed.delete(eventKey(event))) this.#push({ kind: 'event', event });
    }
    this.#replayedUntil = until;
    if (until === null) this.#replayed.clear();
  }

  /**
   * Whether a live `event` is one the replay gave. The keys are dropped once a live event
   * stamped later than the cut-off by more than the engine's publishing disorder
   * ({@link REPLAY_OVERLAP_NS}) came: no copy of a replayed event can follow it.
   */
  #isReplayedCopy(event: EngineEvent): boolean {
    if (this.#replayed.size === 0) return false;
    if (this.#replayed.delete(eventKey(event))) return true;
    const until = this.#replayedUntil;
    if (until === null || BigInt(event.timeNano) > until + REPLAY_OVERLAP_NS) {
      this.#replayed.clear();
      this.#replayedUntil = null;
    }
    return false;
  }

  /**
   * Queues `message` if it passes the filter (`matched`: the caller already knows it does).
   * Without `wake`, a consumer waiting for it stays asleep until {@link wake}: the hub
   * wakes its subscribers in turns. Whether the message joined the queue (not held back
   * for a replay, nor refused because the queue was full or ended).
   */
  deliver(message: EventMessage, { matched = false, wake = true } = {}): boolean {
    if (message.kind === 'event' && !matched && !matchesFilter(message.event, this.filter)) {
      return false;
    }
    if (message.kind === 'event' && this.#held) {
      if (this.#held.length >= this.bufferSize) this.#overflow();
      else this.#held.push(message.event);
      return false;
    }
    if (message.kind === 'event' && this.#isReplayedCopy(message.event)) return false;
    return this.#push(message, wake);
  }

  /** Wakes a consumer waiting for the messages queued without waking it: its turn came. */
  wake(): void {
    this.#takenSinceWake = 0;
    this.#notify();
  }

  #push(message: EventMessage, wake = true): boolean {
    if (this.#ended) return false;
    if (this.#queue.length >= this.bufferSize) {
      this.#overflow();
      return false;
    }
    this.#queue.push(message);
    if (wake) this.#notify();
    return true;
  }

  #overflow(): void {
    this.overflowed();
    this.#queue.push({ kind: 'resync', reason: 'this subscriber fell behind and missed events' });
    this.end();
  }

  /** Ends the subscription once the messages already queued are consumed. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.leave(this);
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  next(): Promise<IteratorResult<EventMessage, undefined>> {
    // A read asked while another waits follows it: one wake slot wakes one read, and the
    // other waited for good (the protocol lets a consumer ask again before an answer).
    const waiting = this.#waiting;
    if (waiting) return waiting.then(() => this.next());
    return this.#read();
  }

  async #read(): Promise<IteratorResult<EventMessage, undefined>> {
    for (;;) {
      if (this.#queue.length > 0) {
        if (this.waitForTurn === null || this.#takenSinceWake < MESSAGES_PER_WAKE) {
          const message = this.#queue.shift();
          if (message) {
            this.#takenSinceWake += 1;
            return { done: false, value: message };
          }
        }
        this.waitForTurn?.(this);
      } else if (this.#ended) {
        return { done: true, value: undefined };
      }
      const woken = new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#waiting = woken;
      await woken;
      // Before the reads that followed this one go on: they were queued after it.
      if (this.#waiting === woken) this.#waiting = null;
    }
  }

  async return(): Promise<IteratorResult<EventMessage, undefined>> {
    this.#queue.length = 0;
    this.end();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * Subscribers woken before the hub lets the event loop turn. What follows a wake (the
 * iterator's waiting `next`, graphql-ws's message, the socket write) runs as promise
 * reactions, which the loop drains in the order they were queued: with all 1,000
 * subscribers woken at once, each step ran for every subscriber before the next step of
 * any, so no write left before nearly all the work of the event was done.
 */
const WAKES_PER_TURN = 32;

/**
 * Messages a subscriber woken in its turn takes before it waits for its next turn: the
 * events that piled up for it while others were woken leave together (one write), yet a
 * burst of a thousand does not keep the event loop for 32 subscribers times a thousand
 * deliveries in one turn, while requests wait.
 */
const MESSAGES_PER_WAKE = 8;

/**
 * How long the engine's clock offset, once asked (`GET /info`), serves the replays that
 * follow: every `since` subscription asked it before, and a client may open many.
 */
const CLOCK_OFFSET_TTL_MS = 60_000;

/** The state of one upstream `/events` connection's lifetime, reconnects included. */
interface Upstream {
  readonly controller: AbortController;
  /** Resolves once the engine answered the first time (or the upstream was stopped). */
  readonly connected: Promise<void>;
}

/**
 * Shares one `GET /events` stream of an engine among any number of subscribers,
 * each filtering in process. The stream is opened with the first subscriber and
 * closed after the last leaves. A dropped stream is reopened with backoff and
 * resumed from the last event's time, without gap or repeat; when events may
 * have been lost (the engine keeps only its last 256), subscribers get a resync.
 */
export class EventHub {
  readonly #subscribers = new Set<Subscription>();
  /** The subscribers handed each message at once ({@link SubscribeOptions.immediate}). */
  readonly #immediate = new Set<Subscription>();
  /**
   * Subscribers with messages queued that their consumer was not woken for yet, in the
   * order they were first queued one: a subscriber queued several events before its turn
   * comes takes them together, up to {@link MESSAGES_PER_WAKE} (one write to its client,
   * when the transport corks).
   */
  readonly #toWake = new Set<Subscription>();
  /** Whether waking goes on at the next turn of the event loop. */
  #wakeScheduled = false;
  #upstream: Upstream | null = null;
  /**
   * How far the engine's clock is ahead of this server's (milliseconds; negative: behind),
   * as last asked, so that replays in a row ask the engine once.
   */
  #clockOffset: { readonly offsetMs: number; readonly measuredAt: number } | null = null;
  /** The replays of `since` running, by subscriber. */
  readonly #replays = new Map<Subscription, AbortController>();
  #upstreamConnections = 0;
  #resyncs = 0;
  #connectedNow = false;
  #closed = false;
  readonly #bufferSize: number;
  readonly #minBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #maxOutageMs: number;
  readonly #onUpstreamError: (error: unknown) => void;

  constructor(
    private readonly client: DockerClient,
    options: EventHubOptions = {},
  ) {
    this.#bufferSize = options.bufferSize ?? 1000;
    this.#minBackoffMs = options.minBackoffMs ?? 100;
    this.#maxBackoffMs = options.maxBackoffMs ?? 5_000;
    this.#maxOutageMs = options.maxOutageMs ?? 60_000;
    this.#onUpstreamError = options.onUpstreamError ?? (() => {});
  }

  /** Upstream `/events` connections opened so far, reconnects included. */
  get upstreamConnections(): number {
    return this.#upstreamConnections;
  }

  /** Whether an upstream connection is open and answered right now. */
  get upstreamOpen(): boolean {
    return this.#connectedNow;
  }

  /**
   * Resyncs sent so far: each broadcast to all subscribers (events may have been lost
   * upstream) counts once, and so does each subscriber told it fell behind.
   */
  get resyncCount(): number {
    return this.#resyncs;
  }

  /** Current subscribers. */
  get subscriberCount(): number {
    return this.#subscribers.size + this.#immediate.size;
  }

  /** Subscribes to the events that pass `filter`; `return()` on the iterator unsubscribes. */
  subscribe({
    filter = {},
    since,
    signal,
    immediate = false,
  }: SubscribeOptions = {}): AsyncIterableIterator<EventMessage, undefined> {
    const onAbort = () => subscription.end();
    const subscription: Subscription = new Subscription(
      filter,
      this.#bufferSize,
      (gone) => {
        signal?.removeEventListener('abort', onAbort);
        this.#leave(gone);
      },
      () => {
        this.#resyncs += 1;
      },
      immediate ? null : this.#waitForTurn,
    );
    if (this.#closed || signal?.aborted) {
      subscription.end();
      return subscription;
    }
    (immediate ? this.#immediate : this.#subscribers).add(subscription);
    signal?.addEventListener('abort', onAbort, { once: true });
    const upstream = this.#ensureUpstream();
    if (since) {
      subscription.startReplay();
      void this.#replay(subscription, since, upstream);
    }
    return subscription;
  }

  /** Ends every subscription and the upstream connection; later subscriptions end at once. */
  close(): void {
    this.#closed = true;
    for (const subscription of [...this.#immediate, ...this.#subscribers]) subscription.end();
    this.#stopUpstream();
  }

  #leave(subscription: Subscription): void {
    // Its replay's engine calls (`/info`, the past events) end with it: another subscriber
    // may keep the upstream open, and they ran on for nobody until the engine answered.
    this.#replays.get(subscription)?.abort();
    this.#subscribers.delete(subscription);
    this.#immediate.delete(subscription);
    this.#toWake.delete(subscription);
    if (this.subscriberCount === 0) this.#stopUpstream();
  }

  #stopUpstream(): void {
    this.#upstream?.controller.abort();
    this.#upstream = null;
    this.#connectedNow = false;
  }

  #broadcast(message: EventMessage): void {
    if (message.kind === 'resync') this.#resyncs += 1;
    const verdicts = new Map<string, boolean>();
    for (const subscription of this.#immediate) this.#handTo(subscription, message, verdicts);
    // Every other subscriber's queue takes the message now (each keeps its order and its
    // bound, past which it is told it fell behind); their consumers are woken in turns. A
    // subscriber still replaying `since` holds it until its replay ends, to drop it there
    // if the replay gave it too.
    for (const subscription of this.#subscribers) {
      if (this.#handTo(subscription, message, verdicts, false)) this.#toWake.add(subscription);
    }
    if (!this.#wakeScheduled) this.#wakeInTurns();
  }

  /** Queues `subscription` to be woken in a later turn (it took its share of this one). */
  readonly #waitForTurn = (subscription: Subscription): void => {
    this.#toWake.add(subscription);
    if (this.#wakeScheduled) return;
    this.#wakeScheduled = true;
    setImmediate(this.#wakeInTurns);
  };

  /**
   * Wakes the subscribers with messages waiting, {@link WAKES_PER_TURN} at a time with a
   * turn of the event loop in between, so that the first subscribers' writes leave while
   * the rest wait.
   */
  readonly #wakeInTurns = (): void => {
    this.#wakeScheduled = false;
    let left = WAKES_PER_TURN;
    for (const subscription of this.#toWake) {
      if (left === 0) {
        this.#wakeScheduled = true;
        setImmediate(this.#wakeInTurns);
        return;
      }
      this.#toWake.delete(subscription);
      subscription.wake();
      left -= 1;
    }
  };

  /** Hands `message` to `subscription` if its filter passes; whether it was queued. */
  #handTo(
    subscription: Subscription,
    message: EventMessage,
    verdicts: Map<string, boolean>,
    wake = true,
  ): boolean {
    if (subscription.ended) return false;
    if (message.kind === 'event') {
      // Many subscribers ask the same filter (a thousand dashboards of one label): each
      // distinct filter is run once per event, not once per subscriber, which showed in
      // the profile of one event sent to 1,000 subscribers.
      let passes = verdicts.get(subscription.filterKey);
      if (passes === undefined) {
        passes = matchesFilter(message.event, subscription.filter);
        verdicts.set(subscription.filterKey, passes);
      }
      if (!passes) return false;
    }
    return subscription.deliver(message, { matched: true, wake });
  }

  /**
   * The engine's time now, in nanoseconds (`GET /info`'s SystemTime, to the millisecond):
   * events are stamped by its clock, and a replay must reach every event published before
   * its subscriber was registered. Cut off at this server's time, a replay from an engine
   * whose clock runs ahead lost the events of the difference. The server's time when the
   * engine does not tell, or does not answer `/info` (a socket proxy that allows only
   * events refuses it): the events themselves may still be read, as before the engine's
   * time was asked.
   */
  async #engineNow(signal: AbortSignal): Promise<bigint> {
    const known = this.#clockOffset;
    if (known && Date.now() - known.measuredAt < CLOCK_OFFSET_TTL_MS) {
      return BigInt(Date.now() + known.offsetMs) * 1_000_000n;
    }
    // Taken before asking: the engine's answer is stamped later, so the offset is at most
    // the request's time too large, which only moves the cut-off a little later.
    const askedAt = Date.now();
    let engineTime: Date | null = null;
    try {
      const { SystemTime } = await readEngineInfo(this.client.withSignal(signal));
      engineTime = parseEngineTime(SystemTime);
    } catch (error) {
      if (signal.aborted) throw error;
      this.#onUpstreamError(error);
    }
    if (!engineTime) return BigInt(Date.now()) * 1_000_000n;
    this.#clockOffset = { offsetMs: engineTime.getTime() - askedAt, measuredAt: askedAt };
    return BigInt(engineTime.getTime()) * 1_000_000n;
  }

  /** Reads what the engine still holds from `since` up to now, once the live stream is open. */
  async #replay(subscription: Subscription, since: Date, upstream: Upstream): Promise<void> {
    const controller = new AbortController();
    const stop = () => controller.abort();
    upstream.controller.signal.addEventListener('abort', stop, { once: true });
    this.#replays.set(subscription, controller);
    try {
      await upstream.connected;
      const until = (await this.#engineNow(controller.signal)) + 2_000_000n;
      for await (const event of streamEvents(this.client, {
        since: toEventTimestamp(BigInt(since.getTime()) * 1_000_000n),
        until: toEventTimestamp(until),
        signal: controller.signal,
      })) {
        if (subscription.ended) break;
        if (matchesFilter(event, subscription.filter)) subscription.replayed(event);
      }
      subscription.endReplay(until);
    } catch (error) {
      // A subscriber that left ended its replay: nobody to tell.
      if (subscription.ended) return;
      this.#onUpstreamError(error);
      subscription.endReplay(null);
      this.#resyncs += 1;
      subscription.deliver({ kind: 'resync', reason: 'the replay of past events failed' });
    } finally {
      upstream.controller.signal.removeEventListener('abort', stop);
      this.#replays.delete(subscription);
    }
  }

  #ensureUpstream(): Upstream {
    if (this.#upstream) return this.#upstream;
    const controller = new AbortController();
    let markConnected = () => {};
    const connected = new Promise<void>((resolve) => {
      markConnected = resolve;
    });
    controller.signal.addEventListener('abort', () => markConnected(), { once: true });
    const upstream = { controller, connected };
    this.#upstream = upstream;
    void this.#run(controller.signal, markConnected);
    return upstream;
  }

  /** The upstream loop: read, and on a drop reconnect with backoff and resume. */
  async #run(signal: AbortSignal, markConnected: () => void): Promise<void> {
    let backoffMs = this.#minBackoffMs;
    const seen = new SeenEvents();
    let droppedAt: number | null = null;
    // The engine answers before it registers the listener: `since` replays what happened
    // in between, and whatever followed the first subscribe while the connection opened.
    const openedAt = toEventTimestamp(BigInt(Date.now()) * 1_000_000n);
    while (!signal.aborted) {
      /** Set after a reconnect until the first event shows whether the replay joins up. */
      let checkJoin = seen.newest !== null;
      const resumeFrom = seen.resumeFrom;
      try {
        this.#upstreamConnections += 1;
        const stream: AsyncGenerator<EngineEvent, void, undefined> = streamEvents(this.client, {
          since: resumeFrom === null ? openedAt : toEventTimestamp(resumeFrom),
          signal,
          onConnected: () => {
            this.#connectedNow = true;
            backoffMs = this.#minBackoffMs;
            markConnected();
            if (droppedAt !== null && Date.now() - droppedAt > this.#maxOutageMs) {
              this.#broadcast({ kind: 'resync', reason: 'the engine was unreachable too long' });
              // Whatever the replay holds, subscribers re-list: resume from the live stream.
              checkJoin = false;
            }
            droppedAt = null;
          },
        });
        for await (const event of stream) {
          const newest = seen.newest;
          if (checkJoin && newest !== null) {
            checkJoin = false;
            // The engine replays from `since` on, which is before the newest event seen: that
            // event or an older one comes first, unless it fell out of the engine's buffer
            // (or the engine restarted), and then some were lost.
            if (BigInt(event.timeNano) > newest) {
              this.#broadcast({
                kind: 'resync',
                reason: 'events may have been lost while the engine was unreachable',
              });
            }
          }
          if (!seen.admit(event)) continue;
          this.#broadcast({ kind: 'event', event });
        }
      } catch (error) {
        if (signal.aborted) break;
        this.#onUpstreamError(error);
      }
      if (signal.aborted) break;
      this.#connectedNow = false;
      droppedAt ??= Date.now();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, backoffMs);
        function done() {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        }
        signal.addEventListener('abort', done, { once: true });
      });
      backoffMs = Math.min(backoffMs * 2, this.#maxBackoffMs);
    }
  }
}
