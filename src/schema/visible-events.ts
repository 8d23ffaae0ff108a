import type { GraphQLContext } from '../context.ts';
import type { EventMessage } from '../docker/event-hub.ts';
import type { EngineEvent } from '../docker/events.ts';
import { createLoaders } from '../loaders.ts';
import { carriesLabels, type LabelLimit } from '../security/label-scope.ts';
import { labelLimitOf } from './label-access.ts';

/**
 * The event streams of a principal limited to labels: events about objects it
 * may not see are dropped (the rules are in `src/security/label-scope.ts`).
 *
 * @module
 */

/** Event types about the objects a limit covers; the others concern no object of a token. */
const OBJECT_EVENT_TYPES = new Set(['image', 'volume', 'network']);

/** Swarm event types: their actors carry no labels; visibility is read from the manager. */
const SWARM_EVENT_TYPES = new Set(['service', 'node', 'secret', 'config']);

/**
 * Decides which engine events a limited principal receives, reading the engine
 * anew for each event that does not say itself. Container events carry the
 * container's labels in their attributes. Image events carry the image's
 * labels while it exists. Volume and network events carry none: they pass when
 * they name a visible container (connect, mount), or when the object is visible
 * now, or was visible when the subscription started or at an earlier event
 * (so that its `destroy` still arrives).
 */
class EventVisibility {
  readonly #known = new Set<string>();
  readonly #seeded: Promise<void>;

  constructor(
    private readonly context: GraphQLContext,
    private readonly limit: LabelLimit,
  ) {
    this.#seeded = this.#seed().catch(() => undefined);
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

  async visible(event: EngineEvent): Promise<boolean> {
    const { Type, Actor } = event;
    if (Type === 'container') return carriesLabels(Actor.Attributes, this.limit);
    if (SWARM_EVENT_TYPES.has(Type)) return this.#swarmObjectVisible(Type, Actor.ID);
    if (!OBJECT_EVENT_TYPES.has(Type)) return false;
    const key = `${Type}:${Actor.ID}`;
    if (carriesLabels(Actor.Attributes, this.limit)) {
      this.#known.add(key);
      return true;
    }
    await this.#seeded;
    if (this.#known.has(key)) return true;
    // Each event is checked against the engine as it is now, not as an earlier event saw it.
    const loaders = createLoaders(this.context.docker, this.limit);
    const container = Actor.Attributes.container;
    const visible =
      (container !== undefined && (await loaders.containers.inspect.load(container)) !== null) ||
      (Type === 'image' && (await loaders.images.inspect.load(Actor.ID)) !== null) ||
      (Type === 'volume' && (await loaders.volumes.inspect.load(Actor.ID)) !== null) ||
      (Type === 'network' && (await loaders.networks.inspect.load(Actor.ID)) !== null);
    if (visible) this.#known.add(key);
    return visible;
  }
}

/**
 * The messages of an event stream a principal may receive: for a limited one,
 * events about objects it cannot see are dropped (resyncs pass); otherwise the
 * stream itself. Leaving the returned stream leaves `messages` at once.
 */
export function visibleEvents(
  context: GraphQLContext,
  messages: AsyncIterableIterator<EventMessage, undefined>,
): AsyncIterableIterator<EventMessage, undefined> {
  const limit = labelLimitOf(context);
  if (!limit) return messages;
  const visibility = new EventVisibility(context, limit);
  const keep = async (message: EventMessage) => {
    if (message.kind !== 'event') return true;
    try {
      return await visibility.visible(message.event);
    } catch {
      // An engine that cannot say whether the object is visible shows nothing of it.
      return false;
    }
  };
  const filtered: AsyncIterableIterator<EventMessage, undefined> = {
    async next() {
      for (;;) {
        const result = await messages.next();
        if (result.done === true || (await keep(result.value))) return result;
      }
    },
    async return() {
      // Not through a generator: its return() would wait for the next event to arrive.
      await messages.return?.();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return filtered;
    },
  };
  return filtered;
}
