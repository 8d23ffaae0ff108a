import { InvalidInputError } from './errors.ts';

/**
 * Image references as the engine reads them ("[registry[:port]/]path[:tag][@digest]"),
 * and the checks of image names, tags and platforms that mutations make before any
 * engine call, each failing with an {@link InvalidInputError} naming the input.
 *
 * @module
 */

/**
 * The registry an image reference names, as the engine's reference parser
 * (distribution's `splitDockerDomain`) splits it: the part before the first "/"
 * when it looks like a host ("." or ":" in it, "localhost", or an uppercase
 * letter, which no repository path may hold), else Docker Hub.
 */
export function registryOf(reference: string): string {
  const slash = reference.indexOf('/');
  if (slash === -1) return 'docker.io';
  const first = reference.slice(0, slash);
  return first.includes('.') ||
    first.includes(':') ||
    first === 'localhost' ||
    first.toLowerCase() !== first
    ? first
    : 'docker.io';
}

/** The parts of an image reference, e.g. "127.0.0.1:5000/team/app:1.2" or "app@sha256:…". */
export interface ImageReference {
  /** Registry host[:port]; null for Docker Hub references that name none. */
  readonly registry: string | null;
  /** Repository path below the registry, e.g. "team/app". */
  readonly path: string;
  readonly tag: string | null;
  /** e.g. "sha256:" and 64 hex digits. */
  readonly digest: string | null;
}

// The grammar of github.com/distribution/reference, which the engine parses references with.
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainPattern = new RegExp(`^${domainComponent}(?:\\.${domainComponent})*(?::[0-9]+)?$`);
const pathComponentPattern = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagPattern = /^[\w][\w.-]{0,127}$/;
const digestPattern = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
/** The engine refuses names (registry and path) longer than this. */
const maxNameLength = 255;

/** Why `tag` is not a tag, or null when it is one. */
export function tagProblem(tag: string): string | null {
  return tagPattern.test(tag)
    ? null
    : `"${tag}" is not a tag: up to 128 letters, digits, "_", "." and "-", not starting with "." or "-"`;
}

/**
 * Splits a reference as the engine does: the first path component is a registry when
 * it has a "." or ":" or is "localhost". Returns why it is not a reference otherwise.
 */
export function parseImageReference(reference: string): ImageReference | { problem: string } {
  const at = reference.indexOf('@');
  const nameAndTag = at === -1 ? reference : reference.slice(0, at);
  const digest = at === -1 ? null : reference.slice(at + 1);
  if (digest !== null && !digestPattern.test(digest)) {
    return { problem: `"${digest}" is not a digest such as "sha256:" and 64 hex digits` };
  }
  const lastSlash = nameAndTag.lastIndexOf('/');
  const colon = nameAndTag.lastIndexOf(':');
  const hasTag = colon > lastSlash;
  const name = hasTag ? nameAndTag.slice(0, colon) : nameAndTag;
  const tag = hasTag ? nameAndTag.slice(colon + 1) : null;
  if (name === '') return { problem: 'it names no repository' };
  if (name.length > maxNameLength) {
    return { problem: `its name is longer than ${maxNameLength} characters` };
  }
  if (tag !== null) {
    const problem = tagProblem(tag);
    if (problem) return { problem };
  }
  const components = name.split('/');
  const first = components[0] ?? '';
  const hasRegistry =
    components.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasRegistry && !domainPattern.test(first)) {
    return { problem: `"${first}" is not a registry host[:port]` };
  }
  const pathComponents = hasRegistry ? components.slice(1) : components;
  for (const component of pathComponents) {
    if (!pathComponentPattern.test(component)) {
      return {
        problem: `"${component}" is not a repository name component: lowercase letters and digits, separated by ".", "_", "__" or "-"`,
      };
    }
  }
  return {
    registry: hasRegistry ? first : null,
    path: pathComponents.join('/'),
    tag,
    digest,
  };
}

/** The repository name of a parsed reference: registry and path, without tag or digest. */
export function repositoryOf(reference: ImageReference): string {
  return reference.registry === null ? reference.path : `${reference.registry}/${reference.path}`;
}

/**
 * The reference the engine pulls for `reference`: one that names neither a tag nor a
 * digest gets `latest`, as the docker CLI does (the engine would pull every tag).
 */
export function withDefaultTag(reference: string): string {
  const parsed = parseImageReference(reference);
  return 'problem' in parsed || parsed.tag !== null || parsed.digest !== null
    ? reference
    : `${reference}:latest`;
}

/** Parses an image reference ("name[:tag][@digest]"), naming `field` when it is not one. */
export function checkImageReference(field: string, value: string): ImageReference {
  const parsed = parseImageReference(value);
  if ('problem' in parsed) {
    throw new InvalidInputError(field, `"${value}" is not an image reference: ${parsed.problem}`);
  }
  return parsed;
}

/** A reference that names a tag, as images are tagged and pushed: "name[:tag]", no digest. */
export function checkTagReference(field: string, value: string): ImageReference {
  const parsed = checkImageReference(field, value);
  if (parsed.digest !== null) {
    throw new InvalidInputError(field, `"${value}" names a digest, not a tag`);
  }
  return parsed;
}

/** A repository name: a reference without tag or digest, e.g. "127.0.0.1:5000/team/app". */
export function checkRepository(field: string, value: string): string {
  const parsed = checkImageReference(field, value);
  if (parsed.tag !== null || parsed.digest !== null) {
    throw new InvalidInputError(
      field,
      `"${value}" is a repository with a tag or digest; give the repository alone and the tag in "tag"`,
    );
  }
  return repositoryOf(parsed);
}

export function checkTag(field: string, value: string): string {
  const problem = tagProblem(value);
  if (problem) throw new InvalidInputError(field, problem);
  return value;
}

/**
 * The name an image made by a commit or an import gets, from the `repository` and
 * `tag` arguments: both optional, but a tag only with a repository.
 */
export function checkImageName(
  repository: string | null | undefined,
  tag: string | null | undefined,
): { repository?: string; tag?: string } {
  if (repository === null || repository === undefined) {
    if (tag !== null && tag !== undefined) {
      throw new InvalidInputError('tag', 'needs a repository to tag');
    }
    return {};
  }
  const name = { repository: checkRepository('repository', repository) };
  return tag === null || tag === undefined ? name : { ...name, tag: checkTag('tag', tag) };
}

/** `os/arch[/variant]` as the engine reads `--platform`, e.g. "linux/arm64/v8". */
const platformPattern = /^[a-z0-9_-]+\/[a-z0-9_-]+(?:\/[a-z0-9_.-]+)?$/;

export function checkPlatform(field: string, value: string): string {
  if (!platformPattern.test(value)) {
    throw new InvalidInputError(
      field,
      `"${value}" is not a platform: "os/arch" or "os/arch/variant" in lowercase, e.g. "linux/amd64" or "linux/arm64/v8"`,
    );
  }
  return value;
}

/**
 * A registry host as image references name it ("host[:port]", e.g. "docker.io",
 * "127.0.0.1:5000"), lowercased; Docker Hub's other names stay as given (the
 * admission policy reads them all as Docker Hub).
 */
export function checkRegistryHost(field: string, value: string): string {
  if (!domainPattern.test(value) || value.length > maxNameLength) {
    throw new InvalidInputError(
      field,
      `"${value}" is not a registry: "host[:port]" as image references name it, e.g. "docker.io" or "registry.example.com:5000"`,
    );
  }
  return value.toLowerCase();
}
