import type { EngineContainerConfig } from '../docker/containers.ts';
import type { EngineImageInspect, EngineImageSummary } from '../docker/images.ts';
import type { Loaders } from '../loaders.ts';

/**
 * What has been read of one image: its entry of `GET /images/json`, or its
 * `GET /images/{name}/json` answer.
 */
export interface ImageAnswers {
  readonly id: string;
  readonly summary: EngineImageSummary | null;
  readonly inspect: EngineImageInspect | null;
}

/**
 * Every fact of an image, read from whichever answer is at hand: a fact the list
 * has is never inspected for; one only inspect has is inspected once per image and
 * request (the loader). Both ways of reading answer alike (whole seconds).
 */
export class ImageAccessor {
  readonly #answers: ImageAnswers;
  readonly #loaders: Loaders;

  constructor(answers: ImageAnswers, loaders: Loaders) {
    this.#answers = answers;
    this.#loaders = loaders;
  }

  /** The inspect answer; null when the image no longer exists. */
  details(): Promise<EngineImageInspect | null> {
    const { inspect, id } = this.#answers;
    return inspect ? Promise.resolve(inspect) : this.#loaders.images.inspect.load(id);
  }

  /**
   * Tags, digests and labels: from the list entry when there is one, since the list
   * writes "none" as null and inspecting would say the same for one more engine call.
   */
  async #listedFacts() {
    const { summary } = this.#answers;
    if (summary) {
      const { RepoTags, RepoDigests, Labels } = summary;
      return { tags: RepoTags, digests: RepoDigests, labels: Labels };
    }
    const inspect = await this.details();
    return {
      tags: inspect?.RepoTags ?? null,
      digests: inspect?.RepoDigests ?? null,
      labels: inspect?.Config?.Labels ?? null,
    };
  }

  /** Its repository tags, without the "<none>:<none>" an untagged image may have. */
  async tags(): Promise<string[]> {
    const { tags } = await this.#listedFacts();
    return (tags ?? []).filter((tag) => tag !== '<none>:<none>');
  }

  /** Its repository digests, without the "<none>@<none>" an unpushed image may have. */
  async digests(): Promise<string[]> {
    const { digests } = await this.#listedFacts();
    return (digests ?? []).filter((digest) => digest !== '<none>@<none>');
  }

  /** Its labels; null when it has none. */
  async labels(): Promise<Readonly<Record<string, string>> | null> {
    return (await this.#listedFacts()).labels;
  }

  /** When it was built, in whole seconds as the list gives it. */
  created(): Date {
    const { summary, inspect } = this.#answers;
    return new Date(
      summary
        ? summary.Created * 1000
        : Math.floor(new Date(inspect?.Created ?? 0).getTime() / 1000) * 1000,
    );
  }

  /** Size of all its layers. */
  size(): number {
    const { summary, inspect } = this.#answers;
    return summary?.Size ?? inspect?.Size ?? 0;
  }

  /** Size of the layers it shares with other images; null when the engine did not compute it (only the list does). */
  sharedSize(): number | null {
    const { summary } = this.#answers;
    return summary && summary.SharedSize >= 0 ? summary.SharedSize : null;
  }

  /** Id of the image it was built on locally; null for pulled or imported images. */
  parentId(): string | null {
    const { summary, inspect } = this.#answers;
    return summary?.ParentId || inspect?.Parent || null;
  }

  /** Operating system; empty when it no longer exists. */
  async os(): Promise<string> {
    return (await this.details())?.Os ?? '';
  }

  /** CPU architecture; empty when it no longer exists. */
  async architecture(): Promise<string> {
    return (await this.details())?.Architecture ?? '';
  }

  /** CPU variant; null when there is none. */
  async variant(): Promise<string | null> {
    return (await this.details())?.Variant || null;
  }

  /** Author recorded in it; null when none. */
  async author(): Promise<string | null> {
    return (await this.details())?.Author || null;
  }

  /** Comment recorded in it; null when none. */
  async comment(): Promise<string | null> {
    return (await this.details())?.Comment || null;
  }

  /** Version of the engine that built it; null when unknown. */
  async dockerVersion(): Promise<string | null> {
    return (await this.details())?.DockerVersion || null;
  }

  /** Digests of its filesystem layers, base first. */
  async layers(): Promise<string[]> {
    return (await this.details())?.RootFS?.Layers ?? [];
  }

  /** The defaults it gives containers made from it; null when it no longer exists. */
  async config(): Promise<EngineContainerConfig | null> {
    return (await this.details())?.Config ?? null;
  }
}

/** Reads an image's facts through the request's loaders. */
export function readImage(answers: ImageAnswers, loaders: Loaders): ImageAccessor {
  return new ImageAccessor(answers, loaders);
}
