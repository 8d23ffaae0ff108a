/**
 * The engines to serve, from the configured source (one engine, an engines file, or every
 * Docker context), and what changed between two readings of them (a SIGHUP re-read).
 *
 * @module
 */

import { isDeepStrictEqual } from 'node:util';
import { type Config, ConfigError, type DockerSettings, ENGINE_NAME_PATTERN } from '../config.ts';
import { type EngineDefinition, parseEnginesFile } from '../engines-file.ts';
import {
  contextDockerSettings,
  type DirectoryLister,
  defaultContextSettings,
  type FileReader,
  listDirectoryIfExists,
  listDockerContexts,
  parseDockerHost,
  readDockerContext,
  readFileIfExists,
} from './docker-host.ts';

/** The name of the docker CLI's context that is not stored: DOCKER_HOST or the default socket. */
const DEFAULT_CONTEXT = 'default';

/** What a configuration says about its engines (a subset of {@link Config}). */
export type EngineSourceSettings = Pick<
  Config,
  'engines' | 'docker' | 'engineName' | 'engineConnectTimeoutMs' | 'engineRequestTimeoutMs'
>;

/**
 * The engines the configuration names, read now; call again to re-read (SIGHUP).
 *
 * - `single`: one engine, `config.docker` named `config.engineName`, no labels; its endpoint
 *   is resolved when its client is made, as before.
 * - `file`: the engines file, read and checked whole; TLS files are read into each definition,
 *   and `context:` entries are resolved from the Docker CLI's store now.
 * - `contexts`: "default" (DOCKER_HOST or the default socket) and every stored Docker context,
 *   as `docker context ls` lists them; engine names are the context names in lowercase, other
 *   characters than letters, digits, "-" and "_" becoming "-".
 *
 * @throws ConfigError naming the file, entry and field, or the context, for anything unusable.
 */
export function readEngineDefinitions(
  config: EngineSourceSettings,
  readFile: FileReader = readFileIfExists,
  listDirectory: DirectoryLister = listDirectoryIfExists,
): EngineDefinition[] {
  const timeouts = {
    connectTimeoutMs: config.engineConnectTimeoutMs,
    requestTimeoutMs: config.engineRequestTimeoutMs,
  };
  const source = config.engines;
  if (source.kind === 'single') {
    return [{ name: config.engineName, labels: {}, docker: config.docker, ...timeouts }];
  }
  const configDir = config.docker.configDir;
  if (source.kind === 'file') {
    let bytes: Buffer | null;
    try {
      bytes = readFile(source.path);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new ConfigError(
        `engines file ${source.path} (DOCKERGRAPH_ENGINES_FILE) cannot be read: ${reason}`,
      );
    }
    if (bytes === null) {
      throw new ConfigError(
        `engines file ${source.path} (DOCKERGRAPH_ENGINES_FILE) does not exist`,
      );
    }
    return parseEnginesFile(bytes.toString('utf8'), source.path, {
      readFile,
      configDir,
      ...timeouts,
      parseHost: parseDockerHost,
      contextSettings: (name) => {
        if (name === DEFAULT_CONTEXT) return defaultContextSettings(config.docker);
        return contextDockerSettings(readDockerContext(name, configDir, readFile), configDir);
      },
    });
  }
  const where = `DOCKERGRAPH_ENGINES_FROM_CONTEXTS (the Docker contexts in ${configDir})`;
  const contexts: { contextName: string; docker: DockerSettings }[] = [
    { contextName: DEFAULT_CONTEXT, docker: defaultContextSettings(config.docker) },
  ];
  try {
    for (const context of listDockerContexts(configDir, readFile, listDirectory)) {
      contexts.push({
        contextName: context.name,
        docker: contextDockerSettings(context, configDir),
      });
    }
  } catch (error) {
    throw new ConfigError(
      `${where}: ${(error as Error).message}; to serve only some contexts, name them in an engines file (DOCKERGRAPH_ENGINES_FILE) with "context:"`,
    );
  }
  const contextOfName = new Map<string, string>();
  return contexts.map(({ contextName, docker }) => {
    const name = engineNameOfContext(contextName);
    if (name === undefined) {
      throw new ConfigError(
        `${where}: context "${contextName}" gives no usable engine name (lowercase letters, digits, "-" or "_")`,
      );
    }
    const earlier = contextOfName.get(name);
    if (earlier !== undefined) {
      throw new ConfigError(
        `${where}: contexts "${earlier}" and "${contextName}" both become engine name "${name}"; rename one (docker context rename)`,
      );
    }
    contextOfName.set(name, contextName);
    return { name, labels: {}, docker, ...timeouts };
  });
}

/** A context name made an engine name: lowercase, other characters as "-", at most 63. */
export function engineNameOfContext(contextName: string): string | undefined {
  const name = contextName
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '-')
    .replace(/^[_-]+/, '')
    .slice(0, 63);
  return ENGINE_NAME_PATTERN.test(name) ? name : undefined;
}

/** What a re-read changed, by engine name. */
export interface EngineDefinitionsDiff {
  /** In `next` only. */
  readonly added: EngineDefinition[];
  /** Names in `previous` only. */
  readonly removed: string[];
  /** In both, with a different address, TLS, timeouts or labels: the `next` definition. */
  readonly changed: EngineDefinition[];
  /** Names in both with nothing different. */
  readonly unchanged: string[];
}

/**
 * Compares two readings of the engines by name: everything in a definition (address, TLS
 * material, verification, timeouts, labels) counts, properties set to `undefined` count as
 * absent. Lists follow the order of `next` (`removed`: of `previous`).
 */
export function diffEngineDefinitions(
  previous: readonly EngineDefinition[],
  next: readonly EngineDefinition[],
): EngineDefinitionsDiff {
  const before = new Map(previous.map((definition) => [definition.name, definition]));
  const nextNames = new Set(next.map((definition) => definition.name));
  const diff: EngineDefinitionsDiff = { added: [], removed: [], changed: [], unchanged: [] };
  for (const definition of next) {
    const old = before.get(definition.name);
    if (old === undefined) diff.added.push(definition);
    else if (isDeepStrictEqual(withoutUndefined(old), withoutUndefined(definition))) {
      diff.unchanged.push(definition.name);
    } else diff.changed.push(definition);
  }
  for (const definition of previous) {
    if (!nextNames.has(definition.name)) diff.removed.push(definition.name);
  }
  return diff;
}

function withoutUndefined(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.map(withoutUndefined);
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .map(([key, item]) => [key, withoutUndefined(item)]),
  );
}
