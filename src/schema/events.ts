import { Repeater } from '@repeaterjs/repeater';
import type { GraphQLContext } from '../context.ts';
import type { DockerClient } from '../docker/client.ts';
import { type EventFilter, type EventMessage, matchesFilter } from '../docker/event-hub.ts';
import {
  type EngineEvent,
  type EngineEventActor,
  streamEvents,
  toEventTimestamp,
} from '../docker/events.ts';
import { builder } from './builder.ts';
import { invalidArgument } from './errors.ts';
import { type EngineMessage, enginesArgs, subscribeAcrossEngines } from './fleet.ts';
import {
  ContainerRef,
  EngineRef,
  ImageRef,
  NetworkRef,
  toContainerRecord,
  toImageRecord,
  VolumeRef,
} from './refs.ts';
import { checkLabelFilters, LabelRef, toKeyValues } from './shared.ts';
import { visibleEvents } from './visible-events.ts';

builder.subscriptionType({
  description: 'Live streams of one Docker engine, over WebSocket (graphql-ws) or SSE.',
});

const EventMessageKindEnum = builder.enumType('EngineEventMessageKind', {
  description: 'What an event stream message carries.',
  values: {
    EVENT: { value: 'event', description: 'An engine event, in `event`.' },
    RESYNC: {
      value: 'resync',
      description:
        'Events may have been missed (see `reason`): re-read the lists the client shows; the stream goes on unless this subscriber fell behind, in which case it ends.',
    },
  } as const,
});

const EventTypeEnum = builder.enumType('EngineEventType', {
  description: 'The kind of object an engine event is about.',
  values: {
    CONTAINER: { value: 'container', description: 'A container.' },
    IMAGE: { value: 'image', description: 'An image.' },
    VOLUME: { value: 'volume', description: 'A volume.' },
    NETWORK: { value: 'network', description: 'A network.' },
    DAEMON: { value: 'daemon', description: 'The engine itself (e.g. configuration reloaded).' },
    PLUGIN: { value: 'plugin', description: 'An engine plugin.' },
    SERVICE: { value: 'service', description: 'A Swarm service.' },
    NODE: { value: 'node', description: 'A Swarm node.' },
    SECRET: { value: 'secret', description: 'A Swarm secret.' },
    CONFIG: { value: 'config', description: 'A Swarm config.' },
    BUILDER: { value: 'builder', description: 'The image builder (build cache).' },
  } as const,
});

type EventTypeValue = (typeof EventTypeEnum)['$inferType'];

const eventTypes = new Set<string>([
  'container',
  'image',
  'volume',
  'network',
  'daemon',
  'plugin',
  'service',
  'node',
  'secret',
  'config',
  'builder',
]);

function isEventType(value: string): value is EventTypeValue {
  return eventTypes.has(value);
}

const EventActorRef = builder.objectRef<EngineEventActor>('EngineEventActor').implement({
  description: 'The object an engine event is about, as it was at the time of the event.',
  fields: (t) => ({
    id: t.exposeString('ID', {
      description:
        'The engine id of the object (a volume name; for image events the id or the reference).',
    }),
    attributes: t.field({
      type: [LabelRef],
      description:
        "Facts the engine attached to the event: the object's name, image, labels, exit code, signal …",
      resolve: (actor) => toKeyValues(actor.Attributes),
    }),
  }),
});

const EngineEventRef = builder.objectRef<EngineEvent>('EngineEvent').implement({
  description: 'Something that happened on the engine, as `docker events` shows it.',
  fields: (t) => ({
    type: t.field({
      type: EventTypeEnum,
      nullable: true,
      description: 'The kind of object it is about; null for a kind this API does not know.',
      resolve: (event) => (isEventType(event.Type) ? event.Type : null),
    }),
    action: t.exposeString('Action', {
      description: 'What happened, e.g. `create`, `start`, `die`, `destroy`, `pull`, `connect`.',
    }),
    actor: t.field({
      type: EventActorRef,
      description: 'The object it is about.',
      resolve: (event) => event.Actor,
    }),
    time: t.field({
      type: 'DateTime',
      description: 'When it happened (to the millisecond; `timeNano` is exact).',
      resolve: (event) => new Date(Number(BigInt(event.timeNano) / 1_000_000n)),
    }),
    timeNano: t.exposeString('timeNano', {
      description: 'When it happened, in nanoseconds since the Unix epoch (a decimal string).',
    }),
    scope: t.exposeString('scope', {
      description: '`local` for this engine, `swarm` for events of the whole cluster.',
    }),
    container: t.field({
      type: ContainerRef,
      nullable: true,
      description: 'The container it is about, as it is now; null when it no longer exists.',
      resolve: async (event, _args, context) => {
        if (event.Type !== 'container') return null;
        const summary = await context.loaders.containers.summaryById.load(event.Actor.ID);
        return summary ? toContainerRecord(context.engineName, summary) : null;
      },
    }),
    image: t.field({
      type: ImageRef,
      nullable: true,
      description:
        'The image it is about (for container events: the image of the container), as it is now; null when it no longer exists.',
      resolve: async (event, _args, context) => {
        const reference =
          event.Type === 'image'
            ? event.Actor.ID
            : event.Type === 'container'
              ? event.Actor.Attributes.image
              : undefined;
        if (!reference) return null;
        const image = await context.loaders.images.byId.load(reference);
        return image ? toImageRecord(context.engineName, image) : null;
      },
    }),
    volume: t.field({
      type: VolumeRef,
      nullable: true,
      description: 'The volume it is about, as it is now; null when it no longer exists.',
      resolve: async (event, _args, context) => {
        if (event.Type !== 'volume') return null;
        const volume = await context.loaders.volumes.byName.load(event.Actor.ID);
        return volume ? { engine: context.engineName, volume } : null;
      },
    }),
    network: t.field({
      type: NetworkRef,
      nullable: true,
      description: 'The network it is about, as it is now; null when it no longer exists.',
      resolve: async (event, _args, context) => {
        if (event.Type !== 'network') return null;
        const network = await context.loaders.networks.byId.load(event.Actor.ID);
        return network ? { engine: context.engineName, network } : null;
      },
    }),
  }),
});

const EngineEventMessageRef = builder
  .objectRef<EngineMessage<EventMessage>>('EngineEventMessage')
  .implement({
    description:
      'One message of the `events` subscription: an event, or a call to resynchronize, of one engine.',
    fields: (t) => ({
      engine: t.field({
        type: EngineRef,
        description:
          'The engine the message comes from: its objects are read there, and a RESYNC concerns its events only.',
        resolve: (message) => ({ engine: message.engine }),
      }),
      kind: t.field({
        type: EventMessageKindEnum,
        description: 'Whether this is an event or a resync.',
        resolve: (message) => message.kind,
      }),
      event: t.field({
        type: EngineEventRef,
        nullable: true,
        description: 'The event; null for a resync.',
        resolve: (message) => (message.kind === 'event' ? message.event : null),
      }),
      reason: t.string({
        nullable: true,
        description: 'Why events may have been missed; null for an event.',
        resolve: (message) => (message.kind === 'resync' ? message.reason : null),
      }),
    }),
  });

const EventFilterInput = builder.inputType('EventFilter', {
  description:
    'Which events to receive. Lists match any of their entries; `containers`, `images`, `volumes` and `networks` together match an event about any object they name; the other fields must all hold.',
  fields: (t) => ({
    types: t.field({
      type: [EventTypeEnum],
      required: false,
      description: 'Kinds of objects.',
    }),
    actions: t.stringList({
      required: false,
      description:
        'Actions, e.g. `start`, `die`; `exec_start` also matches `exec_start: <command>`.',
    }),
    containers: t.stringList({
      required: false,
      description: 'Containers by engine id, id prefix or name.',
    }),
    images: t.stringList({
      required: false,
      description: 'Images by id or reference; also matches events of containers made from them.',
    }),
    volumes: t.stringList({ required: false, description: 'Volumes by name.' }),
    networks: t.stringList({
      required: false,
      description: 'Networks by engine id, id prefix or name.',
    }),
    labels: t.stringList({
      required: false,
      description: 'Labels of the object as `key` or `key=value`; all must match.',
    }),
  }),
});

type EventFilterArgument = (typeof EventFilterInput)['$inferInput'] | null | undefined;

/** The hub's filter of an `EventFilter` argument. */
function toHubFilter(filter: EventFilterArgument): EventFilter {
  checkLabelFilters('filter.labels', filter?.labels);
  return {
    ...(filter?.types ? { types: filter.types } : {}),
    ...(filter?.actions ? { actions: filter.actions } : {}),
    ...(filter?.containers ? { containers: filter.containers } : {}),
    ...(filter?.images ? { images: filter.images } : {}),
    ...(filter?.volumes ? { volumes: filter.volumes } : {}),
    ...(filter?.networks ? { networks: filter.networks } : {}),
    ...(filter?.labels ? { labels: filter.labels } : {}),
  };
}

/** A time as `GET /events` reads it; `endOfMillisecond` takes in the whole millisecond. */
function eventTimestamp(time: Date, endOfMillisecond = false): string {
  return toEventTimestamp(BigInt(time.getTime()) * 1_000_000n + (endOfMillisecond ? 999_999n : 0n));
}

/** What a bounded read of past events found. */
interface EventHistoryRead {
  /** Set once the read stopped at its line bound, before the engine's answer ended. */
  bounded: boolean;
}

/**
 * The events the engine holds between two times (`GET /events` with both `since` and
 * `until` answers them and ends), as messages, reading at most `maxLines` of them.
 */
async function* pastEventMessages(
  docker: DockerClient,
  since: Date,
  until: Date,
  filter: EventFilter,
  maxLines: number,
  read: EventHistoryRead,
): AsyncGenerator<EventMessage, undefined> {
  let lines = 0;
  for await (const event of streamEvents(docker, {
    since: eventTimestamp(since),
    until: eventTimestamp(until, true),
  })) {
    lines += 1;
    if (lines > maxLines) {
      read.bounded = true;
      return undefined;
    }
    if (matchesFilter(event, filter)) yield { kind: 'event', event };
  }
  return undefined;
}

/** The live events of the bound engine from `since` (replayed first) on, ending at `until`. */
function followedEvents(
  bound: GraphQLContext,
  filter: EventFilter,
  since: Date | null | undefined,
  until: Date | null | undefined,
): AsyncIterableIterator<EventMessage, undefined> {
  const live = bound.events.subscribe({ filter, ...(since ? { since } : {}) });
  return until ? endingAt(live, until) : live;
}

/**
 * How long after `until` a stream ending then still waits for events stamped before it: the
 * engine stamps an event before it publishes it, so events of operations running at once
 * come out of timestamp order, by far less than this.
 */
const UNTIL_GRACE_MS = 250;

/**
 * Ends a live stream at `until`: {@link UNTIL_GRACE_MS} after that time by the clock. Events
 * stamped after `until` are not sent; one stamped before it that comes after them still is.
 */
function endingAt(
  messages: AsyncIterableIterator<EventMessage, undefined>,
  until: Date,
): AsyncIterableIterator<EventMessage, undefined> {
  const untilNano = BigInt(until.getTime()) * 1_000_000n + 999_999n;
  return new Repeater<EventMessage, undefined>(async (push, stop) => {
    const timer = setTimeout(stop, Math.max(0, until.getTime() - Date.now() + 1) + UNTIL_GRACE_MS);
    void stop.then(() => {
      clearTimeout(timer);
      return messages.return?.();
    });
    for (;;) {
      const result = await Promise.race([messages.next(), stop.then(() => null)]);
      if (result === null || result.done === true) break;
      if (result.value.kind === 'event' && BigInt(result.value.event.timeNano) > untilNano)
        continue;
      await push(result.value);
    }
    stop();
    return undefined;
  });
}

const EventHistoryRef = builder
  .objectRef<{ events: EngineEvent[]; truncated: boolean; since: Date; until: Date }>(
    'EngineEventHistory',
  )
  .implement({
    description: 'Engine events between two times, oldest first.',
    fields: (t) => ({
      events: t.field({
        type: [EngineEventRef],
        description: 'The events that passed the filter, oldest first.',
        resolve: (history) => history.events,
      }),
      truncated: t.exposeBoolean('truncated', {
        description:
          'true when there were more: more events passed than `first`, or the engine held more than DOCKERGRAPH_EVENTS_HISTORY_MAX in the range and the read stopped there. Ask again from the last event’s time for the rest.',
      }),
      since: t.field({
        type: 'DateTime',
        description: 'The start of the range read.',
        resolve: (history) => history.since,
      }),
      until: t.field({
        type: 'DateTime',
        description:
          'The end of the range read: `until`, or the time of the request when later or omitted.',
        resolve: (history) => history.until,
      }),
    }),
  });

/** Checks a since/until pair: since not after until, and an until not past now (answered as now). */
function checkRange(since: Date, until: Date | null | undefined): Date {
  const now = new Date();
  const end = until && until.getTime() < now.getTime() ? until : now;
  if (since.getTime() > end.getTime()) {
    throw invalidArgument('since', 'must not be after until (nor after now)');
  }
  return end;
}

builder.queryField('eventsHistory', (t) =>
  t.field({
    type: EventHistoryRef,
    description:
      'Engine events between two times, as `docker events --since … --until …` lists them: a bounded read that answers and ends, filtered and scoped to labels as the `events` subscription is. The engine keeps only its most recent events (Docker: the last 256; Podman: its event log); at most DOCKERGRAPH_EVENTS_HISTORY_MAX events of the range are read (`truncated` says when more were there).',
    args: {
      since: t.arg({
        type: 'DateTime',
        required: true,
        description: 'Start of the range (inclusive).',
      }),
      until: t.arg({
        type: 'DateTime',
        required: false,
        description:
          'End of the range (inclusive, to the millisecond); now when omitted or later than now (the engine would wait for a future time).',
      }),
      filter: t.arg({
        type: EventFilterInput,
        required: false,
        description: 'Which events to answer; all when omitted.',
      }),
      first: t.arg.int({
        required: false,
        description:
          'At most this many events, the oldest of the range (1 to DOCKERGRAPH_EVENTS_HISTORY_MAX); 100 when omitted.',
      }),
    },
    resolve: async (_root, { since, until, filter, first }, context) => {
      const max = context.limits.maxEventsHistory;
      const wanted = first ?? Math.min(100, max);
      if (wanted < 1 || wanted > max) {
        throw invalidArgument(
          'first',
          `must be from 1 to ${max} (DOCKERGRAPH_EVENTS_HISTORY_MAX), got ${wanted}`,
        );
      }
      const end = checkRange(since, until);
      const hubFilter = toHubFilter(filter);
      const read: EventHistoryRead = { bounded: false };
      // A token limited to labels reads only the events of objects it sees.
      const messages = visibleEvents(
        context,
        pastEventMessages(context.docker, since, end, hubFilter, max, read),
      );
      const events: EngineEvent[] = [];
      let more = false;
      try {
        for await (const message of messages) {
          if (message.kind !== 'event') continue;
          if (events.length === wanted) {
            more = true;
            break;
          }
          events.push(message.event);
        }
      } finally {
        await messages.return?.();
      }
      return { events, truncated: more || read.bounded, since, until: end };
    },
  }),
);

builder.subscriptionField('events', (t) =>
  t.field({
    type: EngineEventMessageRef,
    description:
      'Engine events as they happen (`docker events`). Missed events are announced by a RESYNC message; a subscriber that cannot keep up gets one and the stream ends. With `until`, the stream completes at that time (a quarter of a second after, for events stamped before it that the engine publishes late), with no event stamped after it.',
    args: {
      filter: t.arg({
        type: EventFilterInput,
        required: false,
        description: 'Which events to receive; all when omitted.',
      }),
      since: t.arg({
        type: 'DateTime',
        required: false,
        description:
          'First replay the events from this time on that the engine still holds (its last 256).',
      }),
      until: t.arg({
        type: 'DateTime',
        required: false,
        description:
          'Complete the stream at this time. A time already past needs `since`: the stream then sends the events of that range (read as `eventsHistory` reads them, at most DOCKERGRAPH_EVENTS_HISTORY_MAX) and completes.',
      }),
      ...enginesArgs,
    },
    subscribe: (_root, { filter, since, until, engines }, context) => {
      const hubFilter = toHubFilter(filter);
      if (until && until.getTime() <= Date.now() && !since) {
        throw invalidArgument('until', 'is past: give since too, or use eventsHistory');
      }
      const end = since && until ? checkRange(since, until) : undefined;
      // Decided once for every engine: a range already past is read, not followed.
      const past = since && end && until && until.getTime() <= Date.now() ? { since, end } : null;
      return subscribeAcrossEngines(
        context,
        engines,
        (bound) => {
          const messages = past
            ? pastEventMessages(
                bound.docker,
                past.since,
                past.end,
                hubFilter,
                bound.limits.maxEventsHistory,
                { bounded: false },
              )
            : followedEvents(bound, hubFilter, since, until);
          // A token limited to labels receives only the events of objects it sees.
          return visibleEvents(bound, messages);
        },
        (reason): EventMessage => ({ kind: 'resync', reason }),
      );
    },
    resolve: (message, _args, context) => {
      // The context outlives this event: the objects linked from it are read anew.
      context.renewLoaders();
      return message;
    },
  }),
);
