import { Repeater } from '@repeaterjs/repeater';
import type { GraphQLContext } from '../context.ts';
import type { EventMessage } from '../docker/event-hub.ts';
import type { EngineEvent } from '../docker/events.ts';
import { createLoaders } from '../loaders.ts';
import { carriesLabels, type LabelLimit } from '../security/label-scope.ts';
import { labelLimitOf } from './label-access.ts';
import { eventScopeRuleFor } from './scope-rules.ts';

/**
 * The event streams of a principal limited to labels, by the event rules of
 * `scope-rules.ts`: events about objects it may not see are dropped, and
 * attributes that describe a container it may not see are removed from the
 * events it receives (a network's `connect` names the container, a volume's
 * `mount` the container and where it mounts it). The visibility rules are in
 * `src/security/label-scope.ts`.
 *
 * @module
 */

/**
 * Decides which engine events a limited principal receives, and what of them,
 * reading the engine anew for each event that does not say itself. Container
 * events carry the container's labels in their attributes. Image events carry
 * the image's labels while it exists. Volume and network events carry none:
 * they pass when they name a visible container (connect, mount), or when the
 * object is visible now, or was visible when the subscription started or at an
 * earlier event (so that its `destroy` still arrives).
 */
class EventVisibility {
  readonly #known = new Set<string>();
  readonly #seeded: Promise<void>;

  constructor(
    private readonly context: GraphQLContext,
    private readonly limit: LabelLimit,
  ) {
    this.#seeded = this.#seed().catch((error: unknown) =>
      context.reportLiveError('could not list the objects a label-limited subscriber sees', error),
    );
  }

  /** Remembers the images, volumes and networks visible when the subscription starts. */
  async #seed(): Promise<void> {
    const loaders = createLoaders(this.context.docker, this.limit);
    const [images, volumes, networks] = await Promise.all([
      loaders.images.all(),
      loaders.volumes.all(),
      loaders.networks.all(),
    ]);
    for (const image of images) this.#known.add(`image:${image.Id}`);
    for (const volume of volumes) this.#known.add(`volume:${volume.Name}`);
    for (const network of networks) this.#known.add(`network:${network.Id}`);
  }

  /**
   * A service, node, secret or config event passes when the object is visible
   * now (services carrying the labels; nodes running their tasks; secrets and
   * configs carrying the labels or used by their services), or was at an
   * earlier event, so that its `remove` still arrives.
   */
  async #swarmObjectVisible(type: string, id: string): Promise<boolean> {
    const key = `${type}:${id}`;
    if (this.#known.has(key)) return true;
    const { swarm } = createLoaders(this.context.docker, this.limit);
    const visible =
      (type === 'service' && (await swarm.serviceInspect.load(id)) !== null) ||
      (type === 'secret' && (await swarm.secrets.inspect.load(id)) !== null) ||
      (type === 'config' && (await swarm.configs.inspect.load(id)) !== null) ||
      (type === 'node' && (await swarm.nodes()).some((node) => node.ID === id));
    if (visible) this.#known.add(key);
    return visible;
  }

  /** The event as the principal receives it; null when it may not receive it at all. */
  async scoped(event: EngineEvent): Promise<EngineEvent | null> {
    const { Type, Actor } = event;
    const rule = eventScopeRuleFor(Type);
    switch (rule.rule) {
      case 'withheld':
        return null;
      case 'carries-labels': {
        if (!carriesLabels(Actor.Attributes, this.limit)) return null;
        // Remembered, so that a later event naming it (a disconnect as it is removed) keeps it.
        this.#known.add(`container:${Actor.ID}`);
        return event;
      }
      case 'swarm-object':
        return (await this.#swarmObjectVisible(Type, Actor.ID)) ? event : null;
      case 'visible-object': {
        const container = Actor.Attributes.container;
        const containerVisible =
          container !== undefined && (await this.#containerVisible(container));
        if (!containerVisible && !(await this.#objectVisible(event))) return null;
        this.#known.add(`${Type}:${Actor.ID}`);
        if (container === undefined || containerVisible) return event;
        return withoutAttributes(event, rule.containerAttributes);
      }
    }
  }

  async #containerVisible(id: string): Promise<boolean> {
    if (this.#known.has(`container:${id}`)) return true;
    // Each event is checked against the engine as it is now, not as an earlier event saw it.
    const loaders = createLoaders(this.context.docker, this.limit);
    return (await loaders.containers.inspect.load(id)) !== null;
  }

  async #objectVisible(event: EngineEvent): Promise<boolean> {
    const { Type, Actor } = event;
    const key = `${Type}:${Actor.ID}`;
    if (carriesLabels(Actor.Attributes, this.limit)) return true;
    await this.#seeded;
    if (this.#known.has(key)) return true;
    const loaders = createLoaders(this.context.docker, this.limit);
    switch (Type) {
      case 'image':
        return (await loaders.images.inspect.load(Actor.ID)) !== null;
      case 'volume':
        return (await loaders.volumes.inspect.load(Actor.ID)) !== null;
      case 'network':
        return (await loaders.networks.inspect.load(Actor.ID)) !== null;
      default:
        return false;
    }
  }
}

/** `event` without the attributes `names`. */
function withoutAttributes(event: EngineEvent, names: readonly string[]): EngineEvent {
  const attributes = Object.fromEntries(
    Object.entries(event.Actor.Attributes).filter(([name]) => !names.includes(name)),
  );
  return { ...event, Actor: { ...event.Actor, Attributes: attributes } };
}

/**
 * The messages of an event stream a principal may receive: for a limited one,
 * events about objects it cannot see are dropped and attributes naming them
 * removed (resyncs pass); otherwise the
 * stream itself. Leaving the returned stream leaves `messages` at once.
 */
export function visibleEvents(
  context: GraphQLContext,
  messages: AsyncIterableIterator<EventMessage, undefined>,
): AsyncIterableIterator<EventMessage, undefined> {
  const limit = labelLimitOf(context);
  if (!limit) return messages;
  const visibility = new EventVisibility(context, limit);
  const scope = async (message: EventMessage): Promise<EventMessage | null> => {
    if (message.kind !== 'event') return message;
    try {
      const event = await visibility.scoped(message.event);
      return event ? { ...message, event } : null;
    } catch (error) {
      // An engine that cannot say whether the object is visible shows nothing of it.
      context.reportLiveError(
        'could not check whether an event is visible to its subscriber',
        error,
      );
      return null;
    }
  };
  // Pulls one message when its reader asks for one (an unbuffered Repeater's push waits
  // for the next read), so the hub's bounded queue still measures how far the reader is
  // behind. Leaving stops the Repeater, which leaves `messages` at once, also while no
  // event comes.
  return new Repeater<EventMessage, undefined>(async (push, stop) => {
    void stop.then(() => messages.return?.());
    for (;;) {
      const result = await messages.next();
      if (result.done === true) break;
      const scoped = await scope(result.value);
      if (scoped) await push(scoped);
    }
    stop();
    return undefined;
  });
}
