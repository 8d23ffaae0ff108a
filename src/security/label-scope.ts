/**
 * The rules of a token limited to labels (`labels` of a token, e.g.
 * `{ "team": "payments" }`): what it sees, what it may touch, and the labels
 * of what it creates. Pure functions over the engine's own shapes; the
 * loaders (`src/loaders.ts`) and the schema (`src/schema/label-access.ts`)
 * apply them.
 *
 * The model:
 *
 * - A **container** is visible when it carries every label of the limit, with
 *   the same value.
 * - An **image**, **volume** or **network** is visible when it carries those
 *   labels itself (a limited token creates them so), or when a visible
 *   container uses it: the image the container was created from (its image id),
 *   the volumes it mounts by name, the networks it is connected to (by id, or by
 *   name for a container that never started and has no network id yet).
 * - **Touching** is seeing: a limited token may only change visible objects.
 *   Anything else is answered exactly as if it did not exist (not found, null,
 *   absent from lists and counts, no events), so that it learns nothing about
 *   the rest.
 * - What it **creates** gets the labels of the limit; a request that sets one
 *   of those labels to another value is refused as invalid input naming the
 *   label.
 * - Its **prunes** carry the limit as label filters, so that only its labelled
 *   objects go.
 *
 * @module
 */

/** The labels a token is limited to: names and the values they must have. */
export type LabelLimit = Readonly<Record<string, string>>;

/** A string map of the engine: labels of a container, image, volume, network or event actor. */
type EngineLabels = Readonly<Record<string, string>> | null | undefined;

/** The limit of a principal's labels; null when there is none (no label, or an empty map). */
export function limitOf(labels: LabelLimit | null | undefined): LabelLimit | null {
  return labels && Object.keys(labels).length > 0 ? labels : null;
}

/** Whether `labels` holds every label of `limit`, with the same value. */
export function carriesLabels(labels: EngineLabels, limit: LabelLimit): boolean {
  if (!labels) return false;
  return Object.entries(limit).every(
    ([name, value]) => Object.hasOwn(labels, name) && labels[name] === value,
  );
}

/** The limit as engine label filters (`name=value`), which the engine ANDs. */
function labelFiltersOf(limit: LabelLimit): string[] {
  return Object.entries(limit).map(([name, value]) => `${name}=${value}`);
}

/**
 * Label filters asked for, with those of the limit added: what a list or a
 * prune of a limited token sends the engine. Without a limit the filters are
 * returned as given.
 */
export function withLimitFilters(
  requested: readonly string[] | null | undefined,
  limit: LabelLimit | null,
): readonly string[] | undefined {
  if (!limit) return requested ?? undefined;
  return [...(requested ?? []), ...labelFiltersOf(limit)];
}

/** What a container uses, in the shape both the container list and inspect have. */
export interface ContainerUses {
  readonly ImageID?: string | undefined;
  readonly Image?: string | undefined;
  readonly Mounts?: readonly { readonly Type?: string; readonly Name?: string }[] | null;
  readonly NetworkSettings?: {
    readonly Networks?: Readonly<Record<string, { readonly NetworkID?: string }>> | null;
  } | null;
}

/** The images, volumes and networks some containers use. */
export interface UsedObjects {
  readonly imageIds: ReadonlySet<string>;
  readonly volumeNames: ReadonlySet<string>;
  readonly networkIds: ReadonlySet<string>;
  readonly networkNames: ReadonlySet<string>;
}

/**
 * What `containers` use: their images (the list's `ImageID`, inspect's
 * `Image`), the volumes they mount by name, and the networks they are
 * connected to, by id and by name (a container that never started has no
 * network id yet).
 */
export function objectsUsedBy(containers: readonly ContainerUses[]): UsedObjects {
  const imageIds = new Set<string>();
  const volumeNames = new Set<string>();
  const networkIds = new Set<string>();
  const networkNames = new Set<string>();
  for (const container of containers) {
    const image = container.ImageID ?? container.Image;
    if (image) imageIds.add(image);
    for (const mount of container.Mounts ?? []) {
      if (mount.Type === 'volume' && mount.Name) volumeNames.add(mount.Name);
    }
    for (const [name, settings] of Object.entries(container.NetworkSettings?.Networks ?? {})) {
      networkNames.add(name);
      if (settings.NetworkID) networkIds.add(settings.NetworkID);
    }
  }
  return { imageIds, volumeNames, networkIds, networkNames };
}

/** Whether an image (list entry labels, or inspect's `Config.Labels`) is visible. */
export function isImageVisible(
  image: { readonly Id: string; readonly labels: EngineLabels },
  limit: LabelLimit,
  used: UsedObjects,
): boolean {
  return carriesLabels(image.labels, limit) || used.imageIds.has(image.Id);
}

/** Whether a volume is visible. */
export function isVolumeVisible(
  volume: { readonly Name: string; readonly Labels: EngineLabels },
  limit: LabelLimit,
  used: UsedObjects,
): boolean {
  return carriesLabels(volume.Labels, limit) || used.volumeNames.has(volume.Name);
}

/** Whether a network is visible. */
export function isNetworkVisible(
  network: { readonly Id: string; readonly Name: string; readonly Labels: EngineLabels },
  limit: LabelLimit,
  used: UsedObjects,
): boolean {
  return (
    carriesLabels(network.Labels, limit) ||
    used.networkIds.has(network.Id) ||
    used.networkNames.has(network.Name)
  );
}

/** A label a request sets to another value than the limit requires. */
export interface LabelConflict {
  readonly name: string;
  readonly requested: string;
  readonly required: string;
}

/** The words of a refusal for a {@link LabelConflict}. */
export function labelConflictMessage(conflict: LabelConflict): string {
  return `label "${conflict.name}" must be "${conflict.required}" for this token (it is limited to it), not "${conflict.requested}"`;
}

/** The first label of `requested` that the limit requires with another value; null when none. */
export function findLabelConflict(
  requested: EngineLabels,
  limit: LabelLimit,
): LabelConflict | null {
  for (const [name, required] of Object.entries(limit)) {
    if (requested && Object.hasOwn(requested, name) && requested[name] !== required) {
      return { name, requested: requested[name] ?? '', required };
    }
  }
  return null;
}

/**
 * The labels of an object a limited token creates: those requested, plus the
 * limit's; or the conflict when the request sets one of them to another value.
 */
export function withLimitLabels(
  requested: EngineLabels,
  limit: LabelLimit,
): { readonly labels: Record<string, string> } | { readonly conflict: LabelConflict } {
  const conflict = findLabelConflict(requested, limit);
  if (conflict) return { conflict };
  return { labels: { ...(requested ?? {}), ...limit } };
}

/** Reads one word of a Dockerfile `LABEL` argument: quoted ("…" or '…') or bare, up to `stops`. */
function readWord(text: string, start: number, stops: RegExp): { word: string; end: number } {
  let word = '';
  let index = start;
  while (index < text.length) {
    const char = text[index] ?? '';
    if (char === "'") {
      // Single quotes keep everything up to the next one.
      const close = text.indexOf(char, index + 1);
      const end = close === -1 ? text.length : close;
      word += text.slice(index + 1, end);
      index = end + 1;
      continue;
    }
    if (char === '"') {
      // Double quotes end at the next quote not escaped by a backslash.
      index += 1;
      while (index < text.length && text[index] !== '"') {
        if (text[index] === '\\' && index + 1 < text.length) index += 1;
        word += text[index];
        index += 1;
      }
      index += 1;
      continue;
    }
    if (char === '\\' && index + 1 < text.length) {
      word += text[index + 1];
      index += 2;
      continue;
    }
    if (stops.test(char)) break;
    word += char;
    index += 1;
  }
  return { word, end: index };
}

/**
 * The labels a Dockerfile instruction of a commit's or import's `changes`
 * sets: `LABEL a=b "c d"="e"`, or the legacy `LABEL name value`; null for
 * another instruction.
 */
export function labelsOfChange(change: string): Record<string, string> | null {
  const match = /^\s*label\s+(\S.*)$/i.exec(change);
  if (!match?.[1]) return null;
  const argument = match[1].trim();
  const labels: Record<string, string> = {};
  const first = readWord(argument, 0, /[\s=]/);
  if (argument[first.end] !== '=') {
    // The legacy form: the first word is the name, the rest of the line the value.
    labels[first.word] = readWord(argument.slice(first.end).trim(), 0, /$^/).word;
    return labels;
  }
  let index = 0;
  while (index < argument.length) {
    const name = readWord(argument, index, /[\s=]/);
    if (argument[name.end] !== '=') break;
    const value = readWord(argument, name.end + 1, /\s/);
    labels[name.word] = value.word;
    index = value.end;
    while (index < argument.length && /\s/.test(argument[index] ?? '')) index += 1;
  }
  return labels;
}

/** A Dockerfile string literal: double-quoted, with `"` and `\` escaped. */
function quoteDockerfileWord(word: string): string {
  return `"${word.replace(/[\\"]/g, '\\$&')}"`;
}

/**
 * The `changes` of a commit or import by a limited token: those requested, then
 * a `LABEL` instruction setting the limit's labels (the last one wins); or the
 * index and conflict of the first change that sets one of them to another value.
 */
export function changesWithLimitLabels(
  changes: readonly string[] | null | undefined,
  limit: LabelLimit,
): { readonly changes: string[] } | { readonly index: number; readonly conflict: LabelConflict } {
  const given = [...(changes ?? [])];
  for (const [index, change] of given.entries()) {
    const conflict = findLabelConflict(labelsOfChange(change), limit);
    if (conflict) return { index, conflict };
  }
  const label = Object.entries(limit)
    .map(([name, value]) => `${quoteDockerfileWord(name)}=${quoteDockerfileWord(value)}`)
    .join(' ');
  return { changes: [...given, `LABEL ${label}`] };
}

/** A full engine id of a container or network: 64 lowercase hex digits. */
const FULL_ID = /^[0-9a-f]{64}$/;

/** Whether `key` is a full engine id, which the engine matches exactly and nothing else. */
export function isFullId(key: string): boolean {
  return FULL_ID.test(key);
}

/** What {@link findVisible} matches: an object's id and its names. */
export interface Named {
  readonly id: string;
  readonly names: readonly string[];
}

/**
 * The object among `objects` (those a limited principal sees) that `key`
 * names, matched as the engine matches containers and networks: the exact id,
 * then an exact name, then a unique id prefix; null when none matches, or
 * several share the prefix. Matching among the visible objects only, rather
 * than asking the engine, keeps the engine's answers about other objects
 * (e.g. "Multiple IDs found with provided prefix") from the principal.
 * `idCharacters`: what an id is written with (engine ids are hex, swarm ids
 * lowercase letters and digits); a key of other characters is no prefix.
 */
export function findVisible<T>(
  objects: readonly T[],
  key: string,
  namedOf: (object: T) => Named,
  idCharacters: RegExp = /^[0-9a-f]+$/,
): T | null {
  const named = objects.map((object) => ({ object, ...namedOf(object) }));
  const byId = named.find((each) => each.id === key);
  if (byId) return byId.object;
  const byName = named.filter((each) => each.names.includes(key));
  if (byName.length > 0) return byName.length === 1 ? (byName[0]?.object ?? null) : null;
  if (!idCharacters.test(key)) return null;
  const byPrefix = named.filter((each) => each.id.startsWith(key));
  return byPrefix.length === 1 ? (byPrefix[0]?.object ?? null) : null;
}

/** A container list entry as {@link findVisible} matches it: names without their leading `/`. */
export function namedContainer(container: {
  readonly Id: string;
  readonly Names?: readonly string[] | null;
}): Named {
  return {
    id: container.Id,
    names: (container.Names ?? []).map((name) => name.replace(/^\//, '')),
  };
}

/** What swarm ids (services, tasks, nodes, secrets, configs) are written with. */
export const SWARM_ID_CHARACTERS = /^[0-9a-z]+$/;

/** A service, secret or config as {@link findVisible} matches it: its id and its spec's name. */
export function namedSwarmObject(object: {
  readonly ID: string;
  readonly Spec: { readonly Name?: string };
}): Named {
  return { id: object.ID, names: object.Spec.Name === undefined ? [] : [object.Spec.Name] };
}

/** A network as {@link findVisible} matches it. */
export function namedNetwork(network: { readonly Id: string; readonly Name: string }): Named {
  return { id: network.Id, names: [network.Name] };
}

/**
 * The visible image an image id prefix (`abc…` or `sha256:abc…`) names, when
 * exactly one visible image id starts with it and no visible image is named
 * so (a name comes first for the engine); undefined when `reference` is not
 * such a prefix or names a visible image, null when several ids share it.
 */
export function findVisibleImageByPrefix(
  images: readonly { readonly Id: string; readonly RepoTags?: readonly string[] | null }[],
  reference: string,
): string | null | undefined {
  const match = /^(?:sha256:)?([0-9a-f]{1,64})$/.exec(reference);
  const prefix = match?.[1];
  if (prefix === undefined) return undefined;
  const named = images.some((image) =>
    (image.RepoTags ?? []).some((tag) => tag === reference || tag === `${reference}:latest`),
  );
  if (named) return undefined;
  const matching = images.filter((image) => image.Id.replace(/^sha256:/, '').startsWith(prefix));
  if (matching.length === 0) return undefined;
  return matching.length === 1 ? (matching[0]?.Id ?? null) : null;
}
