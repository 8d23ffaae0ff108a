/**
 * A `buildImage` input checked and turned into the engine's build options
 * (`POST /build`), before any engine call: tags, stage, platform, and the build
 * context (an inline Dockerfile and files made into a tar, or an uploaded one).
 * Field names in errors are the GraphQL input's (`input.files[0].path`).
 *
 * @module
 */

import { isIP } from 'node:net';
import type { ArchiveBody, BuildOptions, BuildRefusal } from './build.ts';
import { MIN_MEMORY_BYTES, toEngineMap } from './container-spec.ts';
import { InvalidInputError } from './errors.ts';
import { givenFields } from './given-fields.ts';
import { checkPlatform, checkRegistryHost, checkTagReference } from './image-reference.ts';
import type { RegistryCredentials } from './registry-auth.ts';
import type { Maybe, NameValueSpec } from './spec-input.ts';
import { createTar, type TarEntry, TarPathError, tarPathProblem } from './tar.ts';

/** A build as the GraphQL input gives it. */
export interface BuildSpecInput {
  readonly dockerfile?: Maybe<string>;
  readonly files?: Maybe<
    readonly { readonly path: string; readonly content: string; readonly mode?: Maybe<number> }[]
  >;
  readonly dockerfilePath?: Maybe<string>;
  readonly tags?: Maybe<readonly string[]>;
  readonly buildArgs?: Maybe<readonly NameValueSpec[]>;
  readonly labels?: Maybe<readonly NameValueSpec[]>;
  readonly target?: Maybe<string>;
  readonly noCache?: Maybe<boolean>;
  readonly pull?: Maybe<boolean>;
  readonly platform?: Maybe<string>;
  readonly networkMode?: Maybe<string>;
  readonly extraHosts?: Maybe<readonly string[]>;
  readonly cacheFrom?: Maybe<readonly string[]>;
  readonly cpuShares?: Maybe<number>;
  readonly cpusetCpus?: Maybe<string>;
  readonly cpuPeriodMicroseconds?: Maybe<number>;
  readonly cpuQuotaMicroseconds?: Maybe<number>;
  readonly memoryBytes?: Maybe<number>;
  readonly memorySwapBytes?: Maybe<number>;
  readonly remoteContext?: Maybe<string>;
  readonly registryAuth?: Maybe<
    readonly {
      readonly registry: string;
      readonly username?: Maybe<string>;
      readonly password?: Maybe<string>;
      readonly identityToken?: Maybe<string>;
    }[]
  >;
}

function hasSpaceOrControl(value: string): boolean {
  return /\s/.test(value) || [...value].some((char) => char < ' ' || char === '\u007f');
}

/** URL schemes of a remote context: a Git repository or a (compressed) tar archive over HTTP. */
const remoteSchemes = new Set(['http:', 'https:', 'git:']);

/**
 * Checks a remote context (the engine fetches it: `remote=`): an http(s) or git URL,
 * without credentials, since the URL is seen by the engine, its logs and the build output.
 */
export function checkRemoteContext(field: string, value: string): string {
  return checkFetchUrl(
    field,
    value,
    remoteSchemes,
    'an http://, https:// or git:// URL of a Git repository or a tar archive',
  );
}

/** Checks the URL an import downloads its archive from (`fromSrc=`): http(s), without credentials. */
export function checkImportUrl(field: string, value: string): string {
  return checkFetchUrl(
    field,
    value,
    new Set(['http:', 'https:']),
    'an http:// or https:// URL of a tar archive',
  );
}

/** Checks a URL the engine fetches: one of `schemes`, a host, no credentials, no spaces. */
function checkFetchUrl(
  field: string,
  value: string,
  schemes: ReadonlySet<string>,
  what: string,
): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidInputError(field, `"${value}" is not a URL: give ${what}`);
  }
  if (!schemes.has(url.protocol) || url.hostname === '' || hasSpaceOrControl(value)) {
    throw new InvalidInputError(field, `"${value}" is not ${what}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new InvalidInputError(
      field,
      'must not hold credentials: the URL is visible to the engine and in its logs',
    );
  }
  return value;
}

/** Checks the registry credentials of a build, keyed by registry host (`X-Registry-Config`). */
function checkBuildRegistryAuth(
  entries: NonNullable<BuildSpecInput['registryAuth']>,
): Record<string, RegistryCredentials> {
  const config: Record<string, RegistryCredentials> = {};
  entries.forEach((entry, index) => {
    const field = `input.registryAuth[${index}]`;
    const registry = checkRegistryHost(`${field}.registry`, entry.registry);
    if (Object.hasOwn(config, registry)) {
      throw new InvalidInputError(`${field}.registry`, `"${registry}" is given twice`);
    }
    const given = givenFields({
      username: entry.username,
      password: entry.password,
      identityToken: entry.identityToken,
    });
    if (given.identityToken === undefined && given.username === undefined) {
      throw new InvalidInputError(field, 'give a username and password, or an identityToken');
    }
    if (given.identityToken !== undefined && given.username !== undefined) {
      throw new InvalidInputError(
        `${field}.identityToken`,
        'give it instead of username and password, not with them',
      );
    }
    if (given.username !== undefined && given.username.trim() === '') {
      throw new InvalidInputError(`${field}.username`, 'must not be empty');
    }
    if (given.username !== undefined && given.password === undefined) {
      throw new InvalidInputError(`${field}.password`, 'is required with a username');
    }
    config[registry] = { ...given, serverAddress: registry };
  });
  return config;
}

/** A CPU list as cgroups take it: "0-3", "0,2", "1-2,5". */
const cpusetPattern = /^\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*$/;

/** Checks the network and resource options of the `RUN` steps (`docker build --network …`). */
function checkStepOptions(input: BuildSpecInput) {
  if (input.networkMode !== null && input.networkMode !== undefined) {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.:-]*$/.test(input.networkMode)) {
      throw new InvalidInputError(
        'input.networkMode',
        `"${input.networkMode}" is not a network mode: "bridge", "host", "none" or a network name`,
      );
    }
  }
  input.extraHosts?.forEach((entry, index) => {
    const separator = entry.indexOf(':');
    const address = entry.slice(separator + 1);
    // The engine splits the parameter at commas: an entry may hold none.
    if (separator < 1 || /[\s,]/.test(entry) || (address !== 'host-gateway' && !isIP(address))) {
      throw new InvalidInputError(
        `input.extraHosts[${index}]`,
        `"${entry}" is not "host:ip" (the ip may be "host-gateway")`,
      );
    }
  });
  input.cacheFrom?.forEach((reference, index) => {
    if (reference.trim() === '' || /\s/.test(reference)) {
      throw new InvalidInputError(
        `input.cacheFrom[${index}]`,
        `"${reference}" is not an image reference`,
      );
    }
  });
  for (const name of ['cpuShares', 'cpuPeriodMicroseconds', 'cpuQuotaMicroseconds'] as const) {
    const value = input[name];
    if (value !== null && value !== undefined && (!Number.isSafeInteger(value) || value <= 0)) {
      throw new InvalidInputError(`input.${name}`, 'must be a positive whole number');
    }
  }
  if (
    input.cpusetCpus !== null &&
    input.cpusetCpus !== undefined &&
    !cpusetPattern.test(input.cpusetCpus)
  ) {
    throw new InvalidInputError(
      'input.cpusetCpus',
      `"${input.cpusetCpus}" is not a CPU list such as "0-3" or "0,2"`,
    );
  }
  const { memoryBytes, memorySwapBytes } = input;
  if (memoryBytes !== null && memoryBytes !== undefined && memoryBytes < MIN_MEMORY_BYTES) {
    throw new InvalidInputError(
      'input.memoryBytes',
      `${memoryBytes} bytes is below the engine's minimum of 6 MiB (${MIN_MEMORY_BYTES} bytes)`,
    );
  }
  if (memorySwapBytes !== null && memorySwapBytes !== undefined) {
    if (memoryBytes === null || memoryBytes === undefined) {
      throw new InvalidInputError(
        'input.memorySwapBytes',
        'a swap limit needs memoryBytes as well',
      );
    }
    if (memorySwapBytes !== -1 && memorySwapBytes < memoryBytes) {
      throw new InvalidInputError(
        'input.memorySwapBytes',
        `memory plus swap (${memorySwapBytes} bytes) is less than the memory limit (${memoryBytes} bytes); -1 for unlimited swap`,
      );
    }
  }
}

/** What the classic builder accepts as a stage name in `FROM … AS name`. */
const stagePattern = /^[a-z][a-z0-9_.-]*$/i;

function checkContextPath(field: string, path: string) {
  const problem = tarPathProblem(path);
  if (problem) throw new InvalidInputError(field, `"${path}": ${problem}`);
}

/** Checks a build request and turns it into the context to send, before any engine call. */
function buildContext(
  input: BuildSpecInput,
  upload: (() => ArchiveBody) | null,
): { context: ArchiveBody } | { remote: string } {
  const inline = input.dockerfile ?? null;
  const dockerfilePath = input.dockerfilePath ?? 'Dockerfile';
  if (input.remoteContext !== null && input.remoteContext !== undefined) {
    if (upload !== null) {
      throw new InvalidInputError(
        'input.remoteContext',
        'give a remote context or an uploaded context, not both',
      );
    }
    if (inline !== null) {
      throw new InvalidInputError(
        'input.dockerfile',
        'give an inline Dockerfile or a remote context, not both: the Dockerfile is in the remote context',
      );
    }
    if (input.files && input.files.length > 0) {
      throw new InvalidInputError(
        'input.files',
        'files go with an inline Dockerfile, not a remote context',
      );
    }
    checkContextPath('input.dockerfilePath', dockerfilePath);
    return { remote: checkRemoteContext('input.remoteContext', input.remoteContext) };
  }
  if (upload !== null) {
    if (inline !== null) {
      throw new InvalidInputError(
        'input.dockerfile',
        'give an inline Dockerfile or an uploaded context, not both: put the Dockerfile in the context',
      );
    }
    checkContextPath('input.dockerfilePath', dockerfilePath);
    if (input.files && input.files.length > 0) {
      throw new InvalidInputError(
        'input.files',
        'files go with an inline Dockerfile; put them in the uploaded context',
      );
    }
    return { context: upload() };
  }
  if (inline === null) {
    throw new InvalidInputError(
      'input.dockerfile',
      'give an inline Dockerfile (input.dockerfile), a remote context (input.remoteContext) or an uploaded context (context)',
    );
  }
  checkContextPath('input.dockerfilePath', dockerfilePath);
  if (inline.trim() === '') throw new InvalidInputError('input.dockerfile', 'must not be empty');
  const entries: TarEntry[] = [{ path: dockerfilePath, content: inline }];
  const paths = new Map<string, string>([[dockerfilePath, 'input.dockerfilePath']]);
  const fields = ['input.dockerfilePath'];
  input.files?.forEach((file, index) => {
    const field = `input.files[${index}]`;
    checkContextPath(`${field}.path`, file.path);
    if (file.path.endsWith('/')) {
      throw new InvalidInputError(`${field}.path`, `"${file.path}" names a folder, not a file`);
    }
    const { path } = file;
    const clash = paths.get(path);
    if (clash !== undefined) {
      throw new InvalidInputError(`${field}.path`, `"${file.path}" is also the path of ${clash}`);
    }
    paths.set(path, field);
    fields.push(`${field}.path`);
    if (file.mode !== null && file.mode !== undefined && (file.mode < 0 || file.mode > 0o7777)) {
      throw new InvalidInputError(
        `${field}.mode`,
        `${file.mode} is not a permission value from 0 to 4095 (0o7777)`,
      );
    }
    entries.push({
      path,
      content: file.content,
      ...(file.mode !== null && file.mode !== undefined ? { mode: file.mode } : {}),
    });
  });
  // Paths were checked one by one; a file that is also another's folder is found here.
  try {
    return { context: createTar(entries) };
  } catch (error) {
    if (!(error instanceof TarPathError)) throw error;
    const index = entries.findIndex((entry) => entry.path === error.path);
    throw new InvalidInputError(fields[index] ?? 'input.files', error.message);
  }
}

/** The input field an engine refusal is about, by what the build was made from. */
export function refusalField(refusal: BuildRefusal, inline: boolean, remote = false): string {
  switch (refusal) {
    case 'dockerfile':
      return inline ? 'input.dockerfile' : 'input.dockerfilePath';
    case 'dockerfilePath':
      return 'input.dockerfilePath';
    case 'target':
      return 'input.target';
    case 'context':
      return remote ? 'input.remoteContext' : 'context';
    case 'remote':
      return 'input.remoteContext';
  }
}

/** A build request checked and turned into the engine's options. */
export interface CheckedBuild {
  readonly options: BuildOptions;
  /** Whether the context was made of an inline Dockerfile (rather than uploaded or remote). */
  readonly inline: boolean;
  /** Whether the engine fetches the context from a URL (`input.remoteContext`). */
  readonly remote: boolean;
}

/**
 * Checks a build request before any engine call: the input fields, then the context.
 * `upload` opens an uploaded context, only once everything else was found right.
 */
export function checkBuild(
  input: BuildSpecInput,
  upload: (() => ArchiveBody) | null,
): CheckedBuild {
  input.tags?.forEach((tag, index) => {
    checkTagReference(`input.tags[${index}]`, tag);
  });
  if (input.target !== null && input.target !== undefined && !stagePattern.test(input.target)) {
    throw new InvalidInputError(
      'input.target',
      `"${input.target}" is not a stage name: a letter, then letters, digits, "_", "." and "-"`,
    );
  }
  if (input.platform !== null && input.platform !== undefined) {
    checkPlatform('input.platform', input.platform);
  }
  checkStepOptions(input);
  const given = givenFields({
    tags: input.tags,
    buildArgs: input.buildArgs ? toEngineMap('input.buildArgs', input.buildArgs) : undefined,
    labels: input.labels ? toEngineMap('input.labels', input.labels) : undefined,
    target: input.target,
    noCache: input.noCache,
    pull: input.pull,
    platform: input.platform,
    networkMode: input.networkMode,
    extraHosts: input.extraHosts,
    cacheFrom: input.cacheFrom,
    cpuShares: input.cpuShares,
    cpusetCpus: input.cpusetCpus,
    cpuPeriod: input.cpuPeriodMicroseconds,
    cpuQuota: input.cpuQuotaMicroseconds,
    memory: input.memoryBytes,
    memorySwap: input.memorySwapBytes,
  });
  const registryConfig =
    input.registryAuth && input.registryAuth.length > 0
      ? checkBuildRegistryAuth(input.registryAuth)
      : undefined;
  const source = buildContext(input, upload);
  return {
    options: {
      ...source,
      dockerfile: input.dockerfilePath ?? 'Dockerfile',
      ...given,
      ...(registryConfig ? { registryConfig } : {}),
    },
    inline: upload === null && !('remote' in source),
    remote: 'remote' in source,
  };
}
