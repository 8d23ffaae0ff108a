import type { DockerClient } from './client.ts';
import { encodePathSegment } from './filters.ts';
import { parseJsonLines } from './json-lines.ts';
import { DroppingQueue } from './live-buffer.ts';
import type { EngineStats } from './stats.ts';

/** One sample of one container, as a {@link StatsHub} subscriber receives it. */
export interface ContainerStatsSample {
  /** The container's full engine id. */
  readonly containerId: string;
  readonly stats: EngineStats;
}

/** Tuning of a {@link StatsHub}. */
export interface StatsHubOptions {
  /** Samples a subscriber may have waiting; beyond that the oldest are dropped and counted. */
  readonly bufferSize?: number;
  /** Told of upstream failures, for logs. */
  readonly onUpstreamError?: (error: unknown) => void;
}

interface StatsListener {
  sample(stats: EngineStats): void;
  /** The upstream ended: the container stopped or was removed, or the connection dropped. */
  ended(): void;
}

/** One container's `GET /containers/{id}/stats?stream=1` connection and who listens to it. */
interface StatsUpstream {
  readonly controller: AbortController;
  readonly listeners: Set<StatsListener>;
}

function isEngineStats(value: unknown): value is EngineStats {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { read?: unknown }).read === 'string'
  );
}

/**
 * Shares one `GET /containers/{id}/stats?stream=1` stream per container among all
 * its subscribers: opened with the first, closed after the last leaves. The engine
 * sends a sample about once a second and ends the stream when the container stops.
 */
export class StatsHub {
  readonly #upstreams = new Map<string, StatsUpstream>();
  #upstreamConnections = 0;
  readonly #bufferSize: number;
  readonly #onUpstreamError: (error: unknown) => void;

  constructor(
    private readonly client: DockerClient,
    options: StatsHubOptions = {},
  ) {
    this.#bufferSize = options.bufferSize ?? 100;
    this.#onUpstreamError = options.onUpstreamError ?? (() => {});
  }

  /** Upstream stats connections opened so far. */
  get upstreamConnections(): number {
    return this.#upstreamConnections;
  }

  /** Containers whose stats stream is open now. */
  get openUpstreams(): number {
    return this.#upstreams.size;
  }

  /**
   * Subscribes to the samples of the containers with these full engine ids, merged into
   * one bounded queue; it ends once every one of their streams ended. `return()` on it
   * unsubscribes.
   */
  subscribe(containerIds: readonly string[]): DroppingQueue<ContainerStatsSample> {
    const ids = [...new Set(containerIds)];
    const leaves: (() => void)[] = [];
    const queue = new DroppingQueue<ContainerStatsSample>(this.#bufferSize, () => {
      for (const leave of leaves) leave();
    });
    let open = ids.length;
    for (const containerId of ids) {
      leaves.push(
        this.#watch(containerId, {
          sample: (stats) => queue.push({ containerId, stats }),
          ended: () => {
            open -= 1;
            if (open === 0) queue.end();
          },
        }),
      );
    }
    if (ids.length === 0) queue.end();
    return queue;
  }

  /** Ends every subscription and closes every upstream. */
  close(): void {
    for (const upstream of [...this.#upstreams.values()]) {
      upstream.controller.abort();
      for (const listener of [...upstream.listeners]) listener.ended();
    }
    this.#upstreams.clear();
  }

  #watch(containerId: string, listener: StatsListener): () => void {
    let upstream = this.#upstreams.get(containerId);
    if (!upstream) {
      upstream = { controller: new AbortController(), listeners: new Set() };
      this.#upstreams.set(containerId, upstream);
      void this.#run(containerId, upstream);
    }
    const joined = upstream;
    joined.listeners.add(listener);
    return () => {
      joined.listeners.delete(listener);
      if (joined.listeners.size === 0) this.#stop(containerId, joined);
    };
  }

  #stop(containerId: string, upstream: StatsUpstream): void {
    upstream.controller.abort();
    if (this.#upstreams.get(containerId) === upstream) this.#upstreams.delete(containerId);
  }

  async #run(containerId: string, upstream: StatsUpstream): Promise<void> {
    const { signal } = upstream.controller;
    try {
      this.#upstreamConnections += 1;
      const response = await this.client.withSignal(signal).request(
        {
          path: `/containers/${encodePathSegment(containerId)}/stats`,
          query: { stream: true },
          bodyTimeoutMs: 0,
        },
        `stream stats of container "${containerId}"`,
      );
      try {
        for await (const value of parseJsonLines(response.body)) {
          if (!isEngineStats(value)) continue;
          for (const listener of [...upstream.listeners]) listener.sample(value);
        }
      } finally {
        if (!response.body.destroyed) response.body.destroy();
      }
    } catch (error) {
      if (!signal.aborted) this.#onUpstreamError(error);
    } finally {
      this.#stop(containerId, upstream);
      for (const listener of [...upstream.listeners]) listener.ended();
    }
  }
}
