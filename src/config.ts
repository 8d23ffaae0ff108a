import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where the Docker connection settings come from: Docker's own environment conventions. */
export interface DockerSettings {
  /** `DOCKER_HOST`, e.g. `unix:///var/run/docker.sock` or `tcp://10.0.0.5:2376`. */
  readonly dockerHost?: string | undefined;
  /** `DOCKER_CONTEXT`: a named `docker context`. */
  readonly dockerContext?: string | undefined;
  /** `DOCKER_TLS_VERIFY`: mutual TLS with the files in `certPath`. */
  readonly tlsVerify: boolean;
  /** `DOCKER_CERT_PATH`: folder holding ca.pem, cert.pem and key.pem. */
  readonly certPath?: string | undefined;
  /** `DOCKER_CONFIG` or `~/.docker`: where config.json and contexts live. */
  readonly configDir: string;
}

/** Everything dockergraph reads from its environment, typed and validated once. */
export interface Config {
  /** Address the HTTP server binds to. */
  readonly host: string;
  /** Port the HTTP server binds to (0 picks a free one). */
  readonly port: number;
  readonly docker: DockerSettings;
  /** Name of the engine, carried inside global IDs so several engines can share one schema. */
  readonly engineName: string;
  /** Milliseconds allowed to open a connection to the engine. */
  readonly engineConnectTimeoutMs: number;
  /** Milliseconds allowed for the engine to send response headers. */
  readonly engineRequestTimeoutMs: number;
  /** Start the project's private engine when no engine is configured or found. */
  readonly embeddedEngine: boolean;
  /** Serve GraphiQL on the GraphQL endpoint. */
  readonly graphiql: boolean;
  /** Minimum level of log lines written to stdout. */
  readonly logLevel: LogLevel;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const logLevels: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

/** Raised when an environment variable holds a value dockergraph cannot use. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Environment = Readonly<Record<string, string | undefined>>;

function readInteger(env: Environment, name: string, fallback: number, min: number, max: number) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function readBoolean(env: Environment, name: string, fallback: boolean) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function readString(env: Environment, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

/** Reads the configuration; the only place in dockergraph that looks at `process.env`. */
export function loadConfig(env: Environment = process.env): Config {
  const engineName = readString(env, 'DOCKERGRAPH_ENGINE_NAME') ?? 'local';
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(engineName)) {
    throw new ConfigError(
      `DOCKERGRAPH_ENGINE_NAME must be lowercase letters, digits, "-" or "_", got "${engineName}"`,
    );
  }
  const logLevel = readString(env, 'LOG_LEVEL') ?? 'info';
  if (!logLevels.includes(logLevel as LogLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${logLevels.join(', ')}, got "${logLevel}"`);
  }
  // DOCKER_TLS_VERIFY is "on" when set to anything but empty, as in the docker CLI.
  const tlsVerify = readString(env, 'DOCKER_TLS_VERIFY') !== undefined;
  return {
    host: readString(env, 'HOST') ?? '127.0.0.1',
    port: readInteger(env, 'PORT', 4000, 0, 65535),
    docker: {
      dockerHost: readString(env, 'DOCKER_HOST'),
      dockerContext: readString(env, 'DOCKER_CONTEXT'),
      tlsVerify,
      certPath: readString(env, 'DOCKER_CERT_PATH'),
      configDir: readString(env, 'DOCKER_CONFIG') ?? join(env.HOME ?? homedir(), '.docker'),
    },
    engineName,
    engineConnectTimeoutMs: readInteger(env, 'DOCKERGRAPH_CONNECT_TIMEOUT_MS', 3_000, 1, 600_000),
    engineRequestTimeoutMs: readInteger(
      env,
      'DOCKERGRAPH_REQUEST_TIMEOUT_MS',
      30_000,
      1,
      3_600_000,
    ),
    embeddedEngine: readBoolean(env, 'DOCKERGRAPH_EMBEDDED_ENGINE', true),
    graphiql: readBoolean(env, 'DOCKERGRAPH_GRAPHIQL', true),
    logLevel: logLevel as LogLevel,
  };
}
