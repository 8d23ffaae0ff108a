import type { DockerClient } from './client.ts';
import { isPodman } from './engine-kind.ts';
import { errorFromTransport } from './errors.ts';
import { type EngineFilters, encodeFilters } from './filters.ts';
import { parseJsonLines } from './json-lines.ts';

/** The object an engine event is about. */
export interface EngineEventActor {
  /** The object's id (a volume's name; for daemon events the engine's id). */
  readonly ID: string;
  /** Facts of the object at the time: name, image, labels, exit code, signal ... */
  readonly Attributes: Readonly<Record<string, string>>;
}

/** One event of `GET /events`. */
export interface EngineEvent {
  /** `container`, `image`, `volume`, `network`, `daemon`, `plugin`, `service`, `node`, `secret`, `config` or `builder`. */
  readonly Type: string;
  /** What happened, e.g. `create`, `start`, `die`; exec events carry the command after `: `. */
  readonly Action: string;
  readonly Actor: EngineEventActor;
  /** `local` for this engine, `swarm` for cluster-wide events. */
  readonly scope: string;
  /** Seconds since the Unix epoch. */
  readonly time: number;
  /**
   * Nanoseconds since the Unix epoch, in decimal. The engine writes a JSON number beyond
   * 2^53, which `JSON.parse` would round; it is read as text so that it stays exact.
   */
  readonly timeNano: string;
}

/** Filters the engine applies to `GET /events` (`type`, `event`, `container`, `label`, ...). */
export type EventFilters = EngineFilters;

/** Options of {@link streamEvents}. */
export interface StreamEventsOptions {
  /** Replays buffered events from this time on: `seconds[.nanoseconds]` since the epoch. */
  readonly since?: string;
  /** Ends the stream once this time is reached: `seconds[.nanoseconds]` since the epoch. */
  readonly until?: string;
  /** Milliseconds allowed between two chunks of the answer; none unless given (streams idle). */
  readonly bodyTimeoutMs?: number;
  readonly filters?: EventFilters;
  /** Ends the stream and closes the connection. */
  readonly signal?: AbortSignal;
  /** Called once the engine answered, before any event: from then on no event is missed. */
  readonly onConnected?: () => void;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function toEngineEvent(value: unknown): EngineEvent | null {
  if (!isRecord(value)) return null;
  const { Type, Action, Actor, scope, time, timeNano } = value;
  if (typeof Type !== 'string' || typeof Action !== 'string' || !isRecord(Actor)) return null;
  const attributes: Record<string, string> = {};
  if (isRecord(Actor.Attributes)) {
    for (const [key, item] of Object.entries(Actor.Attributes)) {
      if (typeof item === 'string') attributes[key] = item;
    }
  }
  const seconds = typeof time === 'number' ? time : 0;
  return {
    Type,
    Action,
    Actor: { ID: typeof Actor.ID === 'string' ? Actor.ID : '', Attributes: attributes },
    scope: typeof scope === 'string' ? scope : 'local',
    time: seconds,
    timeNano:
      typeof timeNano === 'string' && /^\d+$/.test(timeNano)
        ? timeNano
        : (BigInt(Math.trunc(seconds)) * 1_000_000_000n).toString(),
  };
}

/** `"timeNano":<digits>` as the engine's encoder writes it (no spaces), outside any string. */
const TIME_NANO_NUMBER = /"timeNano":(\d+)/g;

/**
 * Rewrites every `timeNano` number into a JSON string before parsing. Only whole lines
 * are rewritten, so that a number split between two chunks is never cut.
 */
async function* quoteTimeNano(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  let rest = '';
  const decoder = new TextDecoder();
  for await (const chunk of chunks) {
    const text = rest + decoder.decode(chunk, { stream: true });
    const end = text.lastIndexOf('\n') + 1;
    rest = text.slice(end);
    if (end > 0) yield Buffer.from(text.slice(0, end).replace(TIME_NANO_NUMBER, '"timeNano":"$1"'));
  }
  const last = rest + decoder.decode();
  if (last !== '') yield Buffer.from(last.replace(TIME_NANO_NUMBER, '"timeNano":"$1"'));
}

/** The events of an `/events` body (one JSON object per line), typed, as they come. */
export async function* parseEngineEvents(
  body: AsyncIterable<Uint8Array>,
): AsyncGenerator<EngineEvent, void, undefined> {
  for await (const value of parseJsonLines(quoteTimeNano(body))) {
    const event = toEngineEvent(value);
    if (event) yield event;
  }
}

/**
 * `GET /events`: the engine's event stream, one JSON object per line, yielded as typed
 * events. Without `until` it never ends by itself: the body has no idle timeout, and it
 * ends when `signal` aborts (the generator then returns quietly) or the connection drops
 * (an {@link EngineError} of kind `ENGINE_UNAVAILABLE`).
 */
export async function* streamEvents(
  client: DockerClient,
  options: StreamEventsOptions,
): AsyncGenerator<EngineEvent, void, undefined> {
  const { signal } = options;
  // Without a signal of its own the call is the caller's view's: counted in its calls and
  // budget, and cancelled with it.
  const view = signal ? client.withSignal(signal) : client;
  const what = 'stream engine events';
  let response: Awaited<ReturnType<DockerClient['request']>>;
  let podman: boolean;
  // Podman reads `until` as the time to stop reading, not as the newest event to send: an
  // `until` of now ends its answer before it read any line. Asked `stream=false` (which its
  // compatible API takes too), it sends what its event log holds and ends; the events past
  // `until` are dropped here.
  let untilNano: bigint | null = null;
  try {
    podman = await isPodman(view);
    if (podman && options.until !== undefined) untilNano = fromEventTimestamp(options.until);
    response = await view.request(
      {
        path: '/events',
        query: {
          since: options.since,
          until: untilNano === null ? options.until : undefined,
          stream: untilNano === null ? undefined : false,
          filters: encodeFilters(options.filters),
        },
        bodyTimeoutMs: options.bodyTimeoutMs ?? 0,
      },
      what,
    );
  } catch (error) {
    if (signal?.aborted) return;
    throw error;
  }
  options.onConnected?.();
  try {
    for await (const event of parseEngineEvents(response.body)) {
      if (untilNano !== null && BigInt(event.timeNano) > untilNano) continue;
      yield podman ? fromPodmanEvent(event) : event;
    }
  } catch (error) {
    if (signal?.aborted) return;
    throw errorFromTransport(error, what);
  } finally {
    if (!response.body.destroyed) response.body.destroy();
  }
}

/**
 * An event of Podman in Docker's words: Podman reports a container's removal as `remove`
 * where Docker says `destroy` (its compatible API already turns `died` into `die`).
 */
function fromPodmanEvent(event: EngineEvent): EngineEvent {
  if (event.Type === 'container' && event.Action === 'remove') {
    return { ...event, Action: 'destroy' };
  }
  return event;
}

/** Reads a `since`/`until` parameter (`seconds[.nanoseconds]`) as nanoseconds since the epoch. */
export function fromEventTimestamp(timestamp: string): bigint | null {
  const match = /^(\d+)(?:\.(\d{1,9}))?$/.exec(timestamp);
  if (!match?.[1]) return null;
  return BigInt(match[1]) * 1_000_000_000n + BigInt((match[2] ?? '').padEnd(9, '0'));
}

/** Formats nanoseconds since the epoch as the `since`/`until` parameter (`seconds.nanoseconds`). */
export function toEventTimestamp(timeNano: bigint): string {
  const seconds = timeNano / 1_000_000_000n;
  const nanos = timeNano % 1_000_000_000n;
  return `${seconds}.${nanos.toString().padStart(9, '0')}`;
}
