/**
 * Registry credentials for pull, push and build, sent as the
 * `X-Registry-Auth` header: base64url of a JSON object with `username`,
 * `password`, `serveraddress` or `identitytoken`. The header is never logged
 * and credentials never appear in errors.
 */
export interface RegistryCredentials {
  readonly username?: string;
  readonly password?: string;
  /** Registry host, e.g. "registry.example.com:5000". */
  readonly serverAddress?: string;
  /** A token from `POST /auth`, instead of username and password. */
  readonly identityToken?: string;
}

/**
 * The `X-Registry-Auth` header value; `{}` when there are no credentials (push requires the header).
 * The engine decodes it with Go's padded URL-safe base64 and silently drops credentials it cannot
 * decode, so the padding must stay.
 */
export function encodeRegistryAuth(credentials: RegistryCredentials | undefined): string {
  const json: Record<string, string> = {};
  if (credentials?.username !== undefined) json.username = credentials.username;
  if (credentials?.password !== undefined) json.password = credentials.password;
  if (credentials?.serverAddress !== undefined) json.serveraddress = credentials.serverAddress;
  if (credentials?.identityToken !== undefined) json.identitytoken = credentials.identityToken;
  return Buffer.from(JSON.stringify(json), 'utf8')
    .toString('base64')
    .replaceAll('+', '-')
    .replaceAll('/', '_');
}

/**
 * The registry an image reference names: the part before the first "/" when it
 * looks like a host ("." or ":" in it, or "localhost"), else Docker Hub.
 */
export function registryOf(reference: string): string {
  const slash = reference.indexOf('/');
  if (slash === -1) return 'docker.io';
  const first = reference.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : 'docker.io';
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
