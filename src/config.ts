import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, normalize } from 'node:path';
import {
  ADMISSION_LEVELS,
  type AdmissionLevel,
  type BindAllowEntry,
  canonicalRegistry,
  isAdmissionLevel,
} from './security/admission.ts';
import { type IpPrefix, parseIpPrefix } from './security/ip-prefix.ts';
import { BUILT_IN_ROLES, isPermission, PERMISSIONS, type Permission } from './security/roles.ts';

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
  /**
   * `DOCKER_TLS_CA`, `DOCKER_TLS_CERT`, `DOCKER_TLS_KEY`: TLS material as PEM text, for
   * platforms without files (serverless functions); they take the place of `certPath`.
   */
  readonly tlsPem?: TlsPem | undefined;
  /**
   * Turns off the engine's certificate check for the `tlsPem` material: an engines-file entry's
   * `tls.skipVerify`, a Docker context's `SkipTLSVerify`. No environment variable sets it.
   */
  readonly tlsSkipVerify?: boolean | undefined;
}

/**
 * Where the engines come from: today's one engine (`DOCKER_HOST`, contexts), an engines file
 * (`DOCKERGRAPH_ENGINES_FILE`), or every Docker context (`DOCKERGRAPH_ENGINES_FROM_CONTEXTS`).
 */
export type EngineSource =
  | { readonly kind: 'single' }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'contexts' };

/** What an engine name may be: it is carried inside global IDs and label selectors. */
export const ENGINE_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** TLS material given as PEM text in the environment. */
export interface TlsPem {
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
}

/**
 * How the engine is reached: undici's connection pool (unix sockets, TCP, TLS with
 * client certificates), WHATWG fetch (TCP only; Workers), or `auto`: fetch on Cloudflare
 * Workers, undici elsewhere.
 */
export type EngineTransportKind = 'auto' | 'undici' | 'fetch';

/** Everything dockergraph reads from its environment, typed and validated once. */
export interface Config {
  /** Address the HTTP server binds to. */
  readonly host: string;
  /** Port the HTTP server binds to (0 picks a free one). */
  readonly port: number;
  readonly docker: DockerSettings;
  /**
   * Where the engines are defined; `single` is the engine of `docker`, named `engineName`.
   * `readEngineDefinitions` (src/docker/engine-definitions.ts) turns it into definitions.
   */
  readonly engines: EngineSource;
  /** Name of the engine, carried inside global IDs so several engines can share one schema. */
  readonly engineName: string;
  /** Milliseconds allowed to open a connection to the engine. */
  readonly engineConnectTimeoutMs: number;
  /** `DOCKERGRAPH_ENGINE_TRANSPORT`. */
  readonly engineTransport: EngineTransportKind;
  /** Milliseconds allowed for the engine to send response headers. */
  readonly engineRequestTimeoutMs: number;
  /** Start the project's private engine when no engine is configured or found. */
  readonly embeddedEngine: boolean;
  /**
   * Keep each engine's container, image, volume and network lists in memory from its event
   * stream and answer list reads from them (`DOCKERGRAPH_READ_MODEL`; see `src/docker/read-model.ts`).
   * null when not set: the long-running server keeps them, the serverless handlers do not.
   */
  readonly readModel: boolean | null;
  /**
   * `exact`: each request first asks the engine for the events published up to its arrival
   * (one small call), so it sees every change finished before it, the docker CLI's included;
   * `eventual` (`DOCKERGRAPH_READ_MODEL=eventual`): what the event stream delivered so far.
   */
  readonly readModelConsistency: 'exact' | 'eventual';
  /**
   * Send an engine read once for all the requests being answered at once that ask for it
   * before it is sent (`DOCKERGRAPH_SHARED_READS`; see `src/docker/shared-reads.ts`).
   */
  readonly sharedReads: boolean;
  /**
   * Compile the queries graphql-jit answers as graphql-js does (off unless turned on)
   * (`DOCKERGRAPH_COMPILED_EXECUTION`; src/plugins/use-compiled-execution.ts).
   */
  readonly compiledExecution: boolean;
  /** Serve GraphiQL on the GraphQL endpoint. */
  readonly graphiql: boolean;
  /** Minimum level of log lines written to stdout. */
  readonly logLevel: LogLevel;
  readonly security: SecurityConfig;
  readonly limits: LimitsConfig;
  readonly audit: AuditDestination;
  readonly terminal: TerminalConfig;
  /** Unset: rate limits and registered operations live in this process. */
  readonly redis: RedisConfig | undefined;
  readonly metrics: MetricsConfig;
  /** OpenTelemetry tracing; null (off) unless an OTLP endpoint is configured. */
  readonly tracing: TracingConfig | null;
}

/** One bearer token: the token itself is never stored, only its SHA-256. */
export interface TokenEntry {
  /** Names the token in logs and audit lines. */
  readonly id: string;
  readonly role: string;
  /** SHA-256 of the token, 64 hex digits (`npm run token` makes both). */
  readonly sha256: string;
  /** Labels the token is limited to; null for a token that sees everything. */
  readonly labels: Readonly<Record<string, string>> | null;
  /**
   * Engines the token is limited to: names, or label selectors of engines (`env=staging`);
   * null or absent for every engine.
   */
  readonly engines?: readonly string[] | null;
}

/** Who may do what, and what the server exposes. */
export interface SecurityConfig {
  /** Tokens from `DOCKERGRAPH_TOKENS_FILE` and `DOCKERGRAPH_TOKENS`; none means no authentication. */
  readonly tokens: readonly TokenEntry[];
  /** Roles the token configuration adds to viewer, operator and admin. */
  readonly roles: Readonly<Record<string, readonly Permission[]>>;
  /**
   * The admission level of each custom role that names one (`{"permissions": […],
   * "admission": "restricted"}`); roles without one get `defaultAdmission`, and
   * roles holding `dangerous` are always `privileged`.
   */
  readonly roleAdmission: Readonly<Record<string, AdmissionLevel>>;
  /** `DOCKERGRAPH_ADMISSION_LEVEL`: the level of roles without `dangerous` that name none. */
  readonly defaultAdmission: AdmissionLevel;
  /** Volume drivers besides `local` that roles below `privileged` may use (`DOCKERGRAPH_VOLUME_DRIVERS`). */
  readonly volumeDrivers: readonly string[];
  /** Every mutation is refused. */
  readonly readOnly: boolean;
  /** Production mode: introspection and GraphiQL off unless turned on, terse errors. */
  readonly production: boolean;
  /** Whether introspection queries are answered. */
  readonly introspection: boolean;
  /** Origins allowed by CORS and for WebSocket connections, besides the server's own. */
  readonly allowedOrigins: readonly string[];
  /**
   * Host folders that bind mounts may use below the `privileged` admission level
   * (`DOCKERGRAPH_BIND_ALLOWLIST`, `path` or `path:rw`): read-only unless marked writable.
   */
  readonly bindAllowList: readonly BindAllowEntry[];
  /**
   * Address pools (`DOCKERGRAPH_NETWORK_POOLS`, IPv4 and IPv6 CIDRs) inside which roles below
   * `privileged` may give networks explicit subnets, ranges, gateways and containers fixed addresses.
   */
  readonly networkPools: readonly IpPrefix[];
  /**
   * Registries (`DOCKERGRAPH_REGISTRIES`, host[:port]; Docker Hub as `docker.io`) that roles below
   * `privileged` may pull from, push to and log in to.
   */
  readonly registries: readonly string[];
  /** JSON file of registered operations (hash to document); non-admin tokens may run only these. */
  readonly persistedOperationsFile: string | undefined;
  /**
   * The Redis hash (`DOCKERGRAPH_PERSISTED_OPERATIONS_REDIS_KEY`, on `redis.url`) holding the
   * registered operations instead of a file, so that replicas share one registry.
   */
  readonly persistedOperationsRedisKey: string | undefined;
}

/** State shared by replicas (`DOCKERGRAPH_REDIS_URL`): rate-limit buckets, registered operations. */
export interface RedisConfig {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` (TLS). */
  readonly url: string;
  /** Prefix of every key dockergraph writes (`DOCKERGRAPH_REDIS_PREFIX`). */
  readonly prefix: string;
}

/** Limits every request is held to before it reaches the engine. */
export interface LimitsConfig {
  readonly maxDepth: number;
  readonly maxCost: number;
  readonly maxAliases: number;
  readonly maxTokens: number;
  /** Largest request body, except multipart uploads. */
  readonly maxBodyBytes: number;
  /** Largest multipart request (file uploads: build contexts, image archives). */
  readonly maxUploadBytes: number;
  /** Most operations in one batched request; 0 turns batching off. */
  readonly maxBatchSize: number;
  /** Operations a token may run per window; 0 turns rate limiting off. */
  readonly rateLimit: number;
  readonly rateLimitWindowMs: number;
  /** Most engine calls one operation (or one event of a subscription) may make. */
  readonly maxEngineCalls: number;
  /** Most global IDs one `nodes(ids:)` may ask for. */
  readonly maxNodeIds: number;
  /** Most operations one graphql-ws connection may run at once (`DOCKERGRAPH_MAX_OPERATIONS_PER_CONNECTION`). */
  readonly maxOperationsPerConnection: number;
  /** Most graphql-ws connections one token may hold open at once (`DOCKERGRAPH_MAX_CONNECTIONS_PER_TOKEN`). */
  readonly maxConnectionsPerToken: number;
  /** Most subscriptions one token may have live at once, over every transport (`DOCKERGRAPH_MAX_SUBSCRIPTIONS_PER_TOKEN`). */
  readonly maxSubscriptionsPerToken: number;
  /** Most engine events one `eventsHistory` (or a past-ending `events`) reads (`DOCKERGRAPH_EVENTS_HISTORY_MAX`). */
  readonly maxEventsHistory: number;
  /**
   * How long an answer of a registry about a tag's digest is reused by `updateAvailable`
   * (`DOCKERGRAPH_UPDATE_CHECK_TTL_SECONDS`, in milliseconds here); 0 asks every time.
   */
  readonly updateCheckTtlMs: number;
}

export interface MetricsConfig {
  /** Whether `GET /metrics` is served on the main listener (DOCKERGRAPH_METRICS). */
  readonly enabled: boolean;
  /** A second listener serving only `/metrics`, without authentication (DOCKERGRAPH_METRICS_LISTEN). */
  readonly listen: { readonly host: string; readonly port: number } | null;
  /** Distinct operation names kept as labels; later ones count as `other`. */
  readonly maxOperationNames: number;
}

export interface TracingConfig {
  /** Where spans are sent: an OTLP/HTTP (JSON) traces URL, e.g. `http://collector:4318/v1/traces`. */
  readonly url: string;
  /** `service.name` of the spans (OTEL_SERVICE_NAME). */
  readonly serviceName: string;
}

/** Interactive terminals (`/terminal/…` WebSocket sessions). */
export interface TerminalConfig {
  /** A session with no byte either way for this long is closed (4408). */
  readonly idleMs: number;
  /** Most sessions one token may have open at once; more are closed with 4429. */
  readonly sessionsPerToken: number;
}

/** Where audit lines go. */
export type AuditDestination =
  | { readonly kind: 'stdout' }
  | { readonly kind: 'off' }
  | { readonly kind: 'file'; readonly path: string };

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

function readReadModel(env: Environment): Pick<Config, 'readModel' | 'readModelConsistency'> {
  const raw = env.DOCKERGRAPH_READ_MODEL;
  if (raw === undefined || raw === '') return { readModel: null, readModelConsistency: 'exact' };
  if (/^eventual$/i.test(raw)) return { readModel: true, readModelConsistency: 'eventual' };
  if (/^(1|true|yes|on|exact)$/i.test(raw))
    return { readModel: true, readModelConsistency: 'exact' };
  if (/^(0|false|no|off)$/i.test(raw)) return { readModel: false, readModelConsistency: 'exact' };
  throw new ConfigError(
    `DOCKERGRAPH_READ_MODEL must be on (or exact), off or eventual, got "${raw}"`,
  );
}

function readRedis(env: Environment): RedisConfig | undefined {
  const url = readString(env, 'DOCKERGRAPH_REDIS_URL');
  if (url === undefined) return undefined;
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    protocol = '';
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    throw new ConfigError(
      `DOCKERGRAPH_REDIS_URL must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379, got "${url.replace(/\/\/[^@/]*@/, '//…@')}"`,
    );
  }
  return { url, prefix: readString(env, 'DOCKERGRAPH_REDIS_PREFIX') ?? 'dockergraph:' };
}

function readString(env: Environment, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

function readList(env: Environment, name: string): string[] {
  return (readString(env, name) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const TOKEN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Reads a token configuration: `{ "roles": { name: [permission…] }, "tokens":
 * [{ "id", "role", "sha256", "labels"? }] }`. `source` names where it came from.
 */
export function parseTokenConfiguration(
  text: string,
  source: string,
): Pick<SecurityConfig, 'tokens' | 'roles' | 'roleAdmission'> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  if (!isRecord(parsed)) throw new ConfigError(`${source} must hold a JSON object`);
  const roles: Record<string, Permission[]> = {};
  const roleAdmission: Record<string, AdmissionLevel> = {};
  const rawRoles = parsed.roles ?? {};
  if (!isRecord(rawRoles)) throw new ConfigError(`${source}: "roles" must be an object`);
  for (const [name, definition] of Object.entries(rawRoles)) {
    if (name in BUILT_IN_ROLES) {
      throw new ConfigError(`${source}: role "${name}" is built in and cannot be redefined`);
    }
    // A role is a list of permissions, or {"permissions": […], "admission": level}.
    const permissions = isRecord(definition) ? definition.permissions : definition;
    if (!Array.isArray(permissions) || !permissions.every((p) => typeof p === 'string')) {
      throw new ConfigError(
        `${source}: roles.${name} must be a list of permissions, or {"permissions": [...], "admission": level}`,
      );
    }
    if (isRecord(definition) && definition.admission !== undefined) {
      const level = definition.admission;
      if (typeof level !== 'string' || !isAdmissionLevel(level)) {
        throw new ConfigError(
          `${source}: roles.${name}.admission must be one of ${ADMISSION_LEVELS.join(', ')}`,
        );
      }
      if ((level === 'privileged') !== permissions.includes('dangerous')) {
        throw new ConfigError(
          `${source}: roles.${name}.admission "${level}": the "privileged" level is what the "dangerous" permission means; a role has both or neither`,
        );
      }
      roleAdmission[name] = level;
    }
    const unknown = permissions.filter((p) => !isPermission(p));
    if (unknown.length > 0) {
      throw new ConfigError(
        `${source}: roles.${name} names unknown permissions ${unknown.join(', ')} (known: ${PERMISSIONS.join(', ')})`,
      );
    }
    roles[name] = permissions as Permission[];
  }
  if (!Array.isArray(parsed.tokens)) throw new ConfigError(`${source}: "tokens" must be a list`);
  const tokens = parsed.tokens.map((raw: unknown, index): TokenEntry => {
    const where = `${source}: tokens[${index}]`;
    if (!isRecord(raw)) throw new ConfigError(`${where} must be an object`);
    const { id, role, sha256, labels, engines } = raw;
    if (typeof id !== 'string' || !TOKEN_ID.test(id)) {
      throw new ConfigError(`${where}.id must be 1 to 64 letters, digits, ".", "_" or "-"`);
    }
    if (typeof role !== 'string' || !(role in BUILT_IN_ROLES || role in roles)) {
      throw new ConfigError(
        `${where}.role must be one of ${[...Object.keys(BUILT_IN_ROLES), ...Object.keys(roles)].join(', ')}`,
      );
    }
    if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/i.test(sha256)) {
      throw new ConfigError(
        `${where}.sha256 must be the token's SHA-256 in hex (64 digits); "npm run token" makes one`,
      );
    }
    let tokenLabels: Record<string, string> | null = null;
    if (labels !== undefined && labels !== null) {
      if (
        !isRecord(labels) ||
        Object.keys(labels).length === 0 ||
        !Object.values(labels).every((value) => typeof value === 'string')
      ) {
        throw new ConfigError(`${where}.labels must be an object of label names to string values`);
      }
      tokenLabels = labels as Record<string, string>;
    }
    let tokenEngines: string[] | null = null;
    if (engines !== undefined && engines !== null) {
      if (
        !Array.isArray(engines) ||
        engines.length === 0 ||
        !engines.every(
          (selector: unknown) =>
            typeof selector === 'string' &&
            (/^[a-z0-9][a-z0-9_-]{0,62}$/.test(selector) || /^[^=\s]+=[^\s]*$/.test(selector)),
        )
      ) {
        throw new ConfigError(
          `${where}.engines must be a list of engine names or label selectors such as "env=staging"`,
        );
      }
      tokenEngines = engines as string[];
    }
    return {
      id,
      role,
      sha256: sha256.toLowerCase(),
      labels: tokenLabels,
      engines: tokenEngines,
    };
  });
  return { tokens, roles, roleAdmission };
}

function readTokenConfigurations(
  env: Environment,
): Pick<SecurityConfig, 'tokens' | 'roles' | 'roleAdmission'> {
  const sources: Pick<SecurityConfig, 'tokens' | 'roles' | 'roleAdmission'>[] = [];
  const file = readString(env, 'DOCKERGRAPH_TOKENS_FILE');
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(
        `DOCKERGRAPH_TOKENS_FILE: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    sources.push(parseTokenConfiguration(text, `DOCKERGRAPH_TOKENS_FILE (${file})`));
  }
  const inline = readString(env, 'DOCKERGRAPH_TOKENS');
  if (inline !== undefined) sources.push(parseTokenConfiguration(inline, 'DOCKERGRAPH_TOKENS'));
  const tokens = sources.flatMap((source) => source.tokens);
  const ids = new Set<string>();
  for (const token of tokens) {
    if (ids.has(token.id)) throw new ConfigError(`token id "${token.id}" is configured twice`);
    ids.add(token.id);
  }
  return {
    tokens,
    roles: Object.assign({}, ...sources.map((source) => source.roles)),
    roleAdmission: Object.assign({}, ...sources.map((source) => source.roleAdmission)),
  };
}

const PEM_VARIABLES = {
  ca: ['DOCKER_TLS_CA', 'CERTIFICATE'],
  cert: ['DOCKER_TLS_CERT', 'CERTIFICATE'],
  key: ['DOCKER_TLS_KEY', 'PRIVATE KEY'],
} as const;

/**
 * Reads DOCKER_TLS_CA, DOCKER_TLS_CERT and DOCKER_TLS_KEY. Platforms whose settings
 * are one-line fields store newlines as the two characters `\n`: those are turned back.
 */
function readTlsPem(env: Environment): TlsPem | undefined {
  const pem: Record<string, string> = {};
  for (const [field, [name, label]] of Object.entries(PEM_VARIABLES)) {
    const raw = readString(env, name);
    if (raw === undefined) continue;
    const value = /\r?\n/.test(raw) ? raw : raw.replace(/\\n/g, '\n');
    if (!new RegExp(`-----BEGIN [A-Z ]*${label}-----`).test(value)) {
      const path = value.trim();
      const looksLikePath = path.startsWith('/') || /\.(pem|crt|key)$/i.test(path);
      throw new ConfigError(
        `${name} must hold PEM text (a "-----BEGIN ...${label}-----" block)${
          looksLikePath
            ? `, not a file name: put the file's contents in it, or its folder in DOCKER_CERT_PATH`
            : ''
        }`,
      );
    }
    pem[field] = value;
  }
  if (Object.keys(pem).length === 0) return undefined;
  if ((pem.cert === undefined) !== (pem.key === undefined)) {
    throw new ConfigError(
      `${pem.cert === undefined ? 'DOCKER_TLS_KEY' : 'DOCKER_TLS_CERT'} is set without ${
        pem.cert === undefined ? 'DOCKER_TLS_CERT' : 'DOCKER_TLS_KEY'
      }: a client certificate and its key go together`,
    );
  }
  if (readString(env, 'DOCKER_CERT_PATH') !== undefined) {
    throw new ConfigError(
      'DOCKER_CERT_PATH and DOCKER_TLS_CA/DOCKER_TLS_CERT/DOCKER_TLS_KEY are both set: use the folder or the PEM text, not both',
    );
  }
  if (readString(env, 'DOCKER_HOST') === undefined) {
    throw new ConfigError(
      'DOCKER_TLS_CA/DOCKER_TLS_CERT/DOCKER_TLS_KEY need DOCKER_HOST (e.g. tcp://engine.example:2376): they apply to a TCP engine',
    );
  }
  return pem;
}

function readEngineSource(env: Environment): EngineSource {
  const file = readString(env, 'DOCKERGRAPH_ENGINES_FILE');
  const fromContexts = readBoolean(env, 'DOCKERGRAPH_ENGINES_FROM_CONTEXTS', false);
  if (file !== undefined && fromContexts) {
    throw new ConfigError(
      'set DOCKERGRAPH_ENGINES_FILE or DOCKERGRAPH_ENGINES_FROM_CONTEXTS=true, not both: the engines come from one place (an engines file may name contexts with "context:")',
    );
  }
  if (file !== undefined) return { kind: 'file', path: file };
  return fromContexts ? { kind: 'contexts' } : { kind: 'single' };
}

function readEngineTransport(env: Environment): EngineTransportKind {
  const raw = readString(env, 'DOCKERGRAPH_ENGINE_TRANSPORT') ?? 'auto';
  if (raw === 'auto' || raw === 'undici' || raw === 'fetch') return raw;
  throw new ConfigError(`DOCKERGRAPH_ENGINE_TRANSPORT must be auto, undici or fetch, got "${raw}"`);
}

function readAudit(env: Environment): AuditDestination {
  const raw = readString(env, 'DOCKERGRAPH_AUDIT') ?? 'stdout';
  if (raw === 'stdout' || raw === 'off') return { kind: raw };
  if (!isAbsolute(raw)) {
    throw new ConfigError(
      `DOCKERGRAPH_AUDIT must be stdout, off or an absolute file path, got "${raw}"`,
    );
  }
  return { kind: 'file', path: raw };
}

function readMetricsListen(env: Environment): MetricsConfig['listen'] {
  const raw = readString(env, 'DOCKERGRAPH_METRICS_LISTEN');
  if (raw === undefined) return null;
  const match = /^(.+):(\d{1,5})$/.exec(raw);
  const port = match ? Number(match[2]) : Number.NaN;
  if (!match?.[1] || port > 65_535) {
    throw new ConfigError(
      `DOCKERGRAPH_METRICS_LISTEN must be host:port, e.g. 10.0.0.5:9464 (a private interface: it has no authentication), got "${raw}"`,
    );
  }
  return { host: match[1].replace(/^\[(.*)\]$/, '$1'), port };
}

/**
 * Tracing by the OpenTelemetry conventions: on when OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
 * or OTEL_EXPORTER_OTLP_ENDPOINT is set, unless OTEL_TRACES_EXPORTER is `none` or
 * OTEL_SDK_DISABLED is true. Only the OTLP/HTTP exporter is supported.
 */
function readTracing(env: Environment): TracingConfig | null {
  if (readBoolean(env, 'OTEL_SDK_DISABLED', false)) return null;
  const exporter = readString(env, 'OTEL_TRACES_EXPORTER') ?? 'otlp';
  if (exporter === 'none') return null;
  if (exporter !== 'otlp') {
    throw new ConfigError(`OTEL_TRACES_EXPORTER must be otlp or none, got "${exporter}"`);
  }
  const protocol =
    readString(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ??
    readString(env, 'OTEL_EXPORTER_OTLP_PROTOCOL') ??
    'http/json';
  if (protocol !== 'http/json') {
    throw new ConfigError(
      `OTEL_EXPORTER_OTLP_PROTOCOL must be http/json (the exporter dockergraph ships), got "${protocol}"`,
    );
  }
  const signalUrl = readString(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const base = readString(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const url =
    signalUrl ?? (base === undefined ? undefined : `${base.replace(/\/+$/, '')}/v1/traces`);
  if (url === undefined) return null;
  try {
    new URL(url);
  } catch {
    throw new ConfigError(`OTEL_EXPORTER_OTLP_ENDPOINT must be a URL, got "${url}"`);
  }
  return { url, serviceName: readString(env, 'OTEL_SERVICE_NAME') ?? 'dockergraph' };
}

/** Reads the configuration; the only place in dockergraph that looks at `process.env`. */
export function loadConfig(env: Environment = process.env): Config {
  const engineName = readString(env, 'DOCKERGRAPH_ENGINE_NAME') ?? 'local';
  if (!ENGINE_NAME_PATTERN.test(engineName)) {
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
  const production = readBoolean(env, 'DOCKERGRAPH_PRODUCTION', env.NODE_ENV === 'production');
  const bindAllowList = readList(env, 'DOCKERGRAPH_BIND_ALLOWLIST').map((entry): BindAllowEntry => {
    const writable = entry.endsWith(':rw');
    const path = writable ? entry.slice(0, -':rw'.length) : entry.replace(/:ro$/, '');
    if (!isAbsolute(path)) {
      throw new ConfigError(
        `DOCKERGRAPH_BIND_ALLOWLIST holds absolute folders, each with an optional ":rw", got "${entry}"`,
      );
    }
    return { path: normalize(path).replace(/(.)\/$/, '$1'), writable };
  });
  const redis = readRedis(env);
  const persistedOperationsFile = readString(env, 'DOCKERGRAPH_PERSISTED_OPERATIONS_FILE');
  const persistedOperationsRedisKey = readString(env, 'DOCKERGRAPH_PERSISTED_OPERATIONS_REDIS_KEY');
  if (persistedOperationsRedisKey !== undefined && redis === undefined) {
    throw new ConfigError(
      'DOCKERGRAPH_PERSISTED_OPERATIONS_REDIS_KEY names a Redis hash: set DOCKERGRAPH_REDIS_URL too',
    );
  }
  if (persistedOperationsRedisKey !== undefined && persistedOperationsFile !== undefined) {
    throw new ConfigError(
      'set DOCKERGRAPH_PERSISTED_OPERATIONS_FILE or DOCKERGRAPH_PERSISTED_OPERATIONS_REDIS_KEY, not both: registered operations come from one place',
    );
  }
  const defaultAdmission = readString(env, 'DOCKERGRAPH_ADMISSION_LEVEL') ?? 'baseline';
  if (defaultAdmission !== 'baseline' && defaultAdmission !== 'restricted') {
    throw new ConfigError(
      `DOCKERGRAPH_ADMISSION_LEVEL must be baseline or restricted, got "${defaultAdmission}" (the privileged level comes with the "dangerous" permission)`,
    );
  }
  const networkPools = readList(env, 'DOCKERGRAPH_NETWORK_POOLS').map((entry) => {
    const pool = parseIpPrefix(entry);
    if (!pool) {
      throw new ConfigError(
        `DOCKERGRAPH_NETWORK_POOLS holds IPv4 or IPv6 prefixes such as 10.200.0.0/16, got "${entry}"`,
      );
    }
    return pool;
  });
  const registries = (
    env.DOCKERGRAPH_REGISTRIES === undefined
      ? ['docker.io']
      : readList(env, 'DOCKERGRAPH_REGISTRIES')
  ).map((entry) => {
    // host[:port] as image references name registries: DNS labels or an IPv4 address, or
    // "[IPv6]", with an optional port.
    if (
      !/^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.test(
        entry,
      )
    ) {
      throw new ConfigError(
        `DOCKERGRAPH_REGISTRIES holds registry hosts such as docker.io or registry.example.com:5000, got "${entry}"`,
      );
    }
    return canonicalRegistry(entry);
  });
  const allowedOrigins = readList(env, 'DOCKERGRAPH_ALLOWED_ORIGINS').map((origin) => {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new ConfigError(
        `DOCKERGRAPH_ALLOWED_ORIGINS holds origins such as https://dash.example.com, got "${origin}"`,
      );
    }
    return url.origin;
  });
  return {
    host: readString(env, 'HOST') ?? '127.0.0.1',
    port: readInteger(env, 'PORT', 4000, 0, 65535),
    docker: {
      dockerHost: readString(env, 'DOCKER_HOST'),
      dockerContext: readString(env, 'DOCKER_CONTEXT'),
      tlsVerify,
      certPath: readString(env, 'DOCKER_CERT_PATH'),
      configDir: readString(env, 'DOCKER_CONFIG') ?? join(env.HOME ?? homedir(), '.docker'),
      tlsPem: readTlsPem(env),
    },
    engines: readEngineSource(env),
    engineTransport: readEngineTransport(env),
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
    ...readReadModel(env),
    sharedReads: readBoolean(env, 'DOCKERGRAPH_SHARED_READS', true),
    compiledExecution: readBoolean(env, 'DOCKERGRAPH_COMPILED_EXECUTION', false),
    graphiql: readBoolean(env, 'DOCKERGRAPH_GRAPHIQL', !production),
    logLevel: logLevel as LogLevel,
    security: {
      ...readTokenConfigurations(env),
      readOnly: readBoolean(env, 'DOCKERGRAPH_READ_ONLY', false),
      production,
      introspection: readBoolean(env, 'DOCKERGRAPH_INTROSPECTION', !production),
      allowedOrigins,
      bindAllowList,
      defaultAdmission,
      volumeDrivers: readList(env, 'DOCKERGRAPH_VOLUME_DRIVERS'),
      networkPools,
      registries,
      persistedOperationsFile,
      persistedOperationsRedisKey,
    },
    redis,
    metrics: {
      enabled: readBoolean(env, 'DOCKERGRAPH_METRICS', true),
      listen: readMetricsListen(env),
      maxOperationNames: readInteger(
        env,
        'DOCKERGRAPH_METRICS_MAX_OPERATION_NAMES',
        100,
        0,
        10_000,
      ),
    },
    tracing: readTracing(env),
    limits: {
      maxDepth: readInteger(env, 'DOCKERGRAPH_MAX_DEPTH', 12, 1, 1_000),
      maxCost: readInteger(env, 'DOCKERGRAPH_MAX_COST', 10_000, 1, 10_000_000),
      maxAliases: readInteger(env, 'DOCKERGRAPH_MAX_ALIASES', 30, 0, 10_000),
      maxTokens: readInteger(env, 'DOCKERGRAPH_MAX_TOKENS', 2_000, 10, 1_000_000),
      maxBodyBytes: readInteger(env, 'DOCKERGRAPH_MAX_BODY_BYTES', 1_048_576, 1_024, 2 ** 31),
      maxUploadBytes: readInteger(env, 'DOCKERGRAPH_MAX_UPLOAD_BYTES', 536_870_912, 1_024, 2 ** 40),
      maxBatchSize: readInteger(env, 'DOCKERGRAPH_BATCHING', 0, 0, 1_000),
      rateLimit: readInteger(env, 'DOCKERGRAPH_RATE_LIMIT', 600, 0, 1_000_000),
      rateLimitWindowMs:
        readInteger(env, 'DOCKERGRAPH_RATE_LIMIT_WINDOW_SECONDS', 60, 1, 86_400) * 1_000,
      maxEngineCalls: readInteger(env, 'DOCKERGRAPH_MAX_ENGINE_CALLS', 200, 1, 1_000_000),
      maxNodeIds: readInteger(env, 'DOCKERGRAPH_MAX_NODE_IDS', 100, 1, 100_000),
      maxOperationsPerConnection: readInteger(
        env,
        'DOCKERGRAPH_MAX_OPERATIONS_PER_CONNECTION',
        100,
        1,
        100_000,
      ),
      maxConnectionsPerToken: readInteger(
        env,
        'DOCKERGRAPH_MAX_CONNECTIONS_PER_TOKEN',
        5_000,
        1,
        1_000_000,
      ),
      maxSubscriptionsPerToken: readInteger(
        env,
        'DOCKERGRAPH_MAX_SUBSCRIPTIONS_PER_TOKEN',
        5_000,
        1,
        1_000_000,
      ),
      maxEventsHistory: readInteger(env, 'DOCKERGRAPH_EVENTS_HISTORY_MAX', 1_000, 1, 100_000),
      updateCheckTtlMs:
        readInteger(env, 'DOCKERGRAPH_UPDATE_CHECK_TTL_SECONDS', 300, 0, 604_800) * 1_000,
    },
    audit: readAudit(env),
    terminal: {
      idleMs: readInteger(env, 'DOCKERGRAPH_TERMINAL_IDLE_SECONDS', 900, 1, 86_400) * 1_000,
      sessionsPerToken: readInteger(env, 'DOCKERGRAPH_TERMINAL_SESSIONS_PER_TOKEN', 4, 0, 1_000),
    },
  };
}
