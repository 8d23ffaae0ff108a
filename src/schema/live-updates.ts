import { bindEngine } from '../context.ts';
import type { EventFilter, EventMessage } from '../docker/event-hub.ts';
import { builder } from './builder.ts';
import { type EngineMessage, enginesArgs, subscribeAcrossEngines } from './fleet.ts';
import { scopedLabelFilters } from './label-access.ts';
import { type ContainerRecord, ContainerRef, EngineRef } from './refs.ts';
import { checkLabelFilters } from './shared.ts';
import { visibleEvents } from './visible-events.ts';

/**
 * Container actions after which the container may look different. Exec, attach, resize,
 * top, archive and export events leave it as it was; `kill` is followed by `die`.
 */
const CHANGING_ACTIONS = [
  'create',
  'start',
  'restart',
  'die',
  'stop',
  'pause',
  'unpause',
  'rename',
  'update',
  'destroy',
  'health_status',
  'oom',
];

/** One message of `containerUpdated`, read after the event that caused it. */
type ContainerUpdate = (
  | { readonly kind: 'updated'; readonly action: string; readonly container: ContainerRecord }
  | { readonly kind: 'removed'; readonly action: string; readonly containerId: string }
  | { readonly kind: 'resync'; readonly reason: string }
) & {
  /** The engine the change happened on. */
  readonly engine: string;
};

const ContainerUpdateKindEnum = builder.enumType('ContainerUpdateKind', {
  description: 'What a `containerUpdated` message says.',
  values: {
    UPDATED: {
      value: 'updated',
      description: 'The container changed (or was created): `container` holds it as it is now.',
    },
    REMOVED: {
      value: 'removed',
      description: 'The container no longer exists: `containerId` names it.',
    },
    RESYNC: {
      value: 'resync',
      description:
        'Changes may have been missed (see `reason`): re-read the containers the client shows.',
    },
  } as const,
});

const ContainerUpdateRef = builder.objectRef<ContainerUpdate>('ContainerUpdate').implement({
  description: 'A container that changed, read after the change, or word that it is gone.',
  fields: (t) => ({
    engine: t.field({
      type: EngineRef,
      description:
        "The engine the change happened on; a RESYNC concerns that engine's containers only.",
      resolve: (update) => ({ engine: update.engine }),
    }),
    kind: t.field({
      type: ContainerUpdateKindEnum,
      description: 'Whether the container changed, was removed, or changes may have been missed.',
      resolve: (update) => update.kind,
    }),
    action: t.string({
      nullable: true,
      description:
        'The engine event that caused this message, e.g. `stop`, `rename`; null for RESYNC.',
      resolve: (update) => (update.kind === 'resync' ? null : update.action),
    }),
    containerId: t.string({
      nullable: true,
      description: 'The engine id of the container; null for RESYNC.',
      resolve: (update) =>
        update.kind === 'updated'
          ? update.container.id
          : update.kind === 'removed'
            ? update.containerId
            : null,
    }),
    container: t.field({
      type: ContainerRef,
      nullable: true,
      description: 'The container as it is now; null unless the kind is UPDATED.',
      resolve: (update) => (update.kind === 'updated' ? update.container : null),
    }),
    reason: t.string({
      nullable: true,
      description: 'Why changes may have been missed; null unless the kind is RESYNC.',
      resolve: (update) => (update.kind === 'resync' ? update.reason : null),
    }),
  }),
});

const ContainerUpdateFilterInput = builder.inputType('ContainerUpdateFilter', {
  description:
    'Which containers to follow. `ids` and `names` together match a container either names; `labels` must all hold as well.',
  fields: (t) => ({
    ids: t.stringList({ required: false, description: 'Engine ids or id prefixes.' }),
    names: t.stringList({
      required: false,
      description:
        'Exact names (with or without the leading `/`), as the container is named at the time of the change.',
    }),
    labels: t.stringList({
      required: false,
      description: 'Labels as `key` (set to anything) or `key=value`; all must match.',
    }),
  }),
});

function givenLabelFilters(labels: readonly string[] | undefined): { labels?: readonly string[] } {
  return labels ? { labels } : {};
}

builder.subscriptionField('containerUpdated', (t) =>
  t.field({
    type: ContainerUpdateRef,
    description:
      'Each container that changes (created, started, stopped, renamed, updated, health changed ...), read anew after each change, and each container removed: one subscription keeps a list of containers fresh.',
    args: {
      filter: t.arg({
        type: ContainerUpdateFilterInput,
        required: false,
        description: 'Which containers to follow; all when omitted.',
      }),
      ...enginesArgs,
    },
    subscribe: (_root, { filter, engines }, context) => {
      checkLabelFilters('filter.labels', filter?.labels);
      const containers = [
        ...(filter?.ids ?? []),
        ...(filter?.names ?? []).map((name) => name.replace(/^\//, '')),
      ];
      const hubFilter: EventFilter = {
        types: ['container'],
        actions: CHANGING_ACTIONS,
        ...(containers.length > 0 ? { containers } : {}),
      };
      // One upstream per engine, merged; the event rules of scope-rules.ts, as for `events`.
      return subscribeAcrossEngines(
        context,
        engines,
        (bound) =>
          visibleEvents(
            bound,
            bound.events.subscribe({
              filter: {
                ...hubFilter,
                // Container events carry the container's labels: a token limited to labels
                // follows only the containers carrying them.
                ...givenLabelFilters(scopedLabelFilters(bound, filter?.labels)),
              },
            }),
          ),
        (reason): EventMessage => ({ kind: 'resync', reason }),
      );
    },
    resolve: async (
      message: EngineMessage<EventMessage>,
      _args,
      root,
    ): Promise<ContainerUpdate> => {
      const { engine } = message;
      if (message.kind === 'resync') return { kind: 'resync', reason: message.reason, engine };
      const { Action, Actor } = message.event;
      // The context outlives this event: the container is read anew, after the change.
      root.renewLoaders();
      const context = bindEngine(root, engine);
      const inspect =
        Action === 'destroy' ? null : await context.loaders.containers.inspect.load(Actor.ID);
      if (!inspect) return { kind: 'removed', action: Action, containerId: Actor.ID, engine };
      return {
        kind: 'updated',
        action: Action,
        container: { engine, id: inspect.Id, summary: null, inspect },
        engine,
      };
    },
  }),
);
