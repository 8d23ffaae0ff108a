/**
 * The engines file (`DOCKERGRAPH_ENGINES_FILE`): several engines served in one graph, in
 * YAML or JSON. Pure: the text, a file reader for TLS files and the Docker address rules
 * (which live in the engine client layer) are passed in, so that a SIGHUP re-read is just
 * another call. Every problem is a {@link ConfigError} naming the file, the entry and the field.
 *
 * TLS material given as file paths (`caFile`, `certFile`, `keyFile`, `certPath`) is read
 * here, at load time, into {@link DockerSettings.tlsPem}: a definition then holds
 * everything its connection depends on, so a re-read notices renewed certificates.
 *
 * @module
 */

import { dirname, join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError, type DockerSettings, ENGINE_NAME_PATTERN, type TlsPem } from './config.ts';

/** One engine to serve: its name, labels, where it is, and how long it may take. */
export interface EngineDefinition {
  /** Unique; carried inside global IDs. */
  readonly name: string;
  /** For engine selectors such as `env=prod`. */
  readonly labels: Readonly<Record<string, string>>;
  /** What `resolveDockerEndpoint` turns into an endpoint. */
  readonly docker: DockerSettings;
  /** Milliseconds allowed to open a connection to the engine. */
  readonly connectTimeoutMs: number;
  /** Milliseconds allowed for the engine to send response headers. */
  readonly requestTimeoutMs: number;
  /** The engines file's `readModel`: this engine's read model on or off, whatever `DOCKERGRAPH_READ_MODEL` says. */
  readonly readModel?: boolean;
}

/** Reads a whole file; returns null when it does not exist. Other failures throw. */
export type EngineFileReader = (path: string) => Buffer | null;

/**
 * The Docker address rules the engines file is checked against; the engine client layer
 * provides them (`parseDockerHost`, and a context's settings from the docker CLI's store).
 */
export interface DockerAddressing {
  /** Parses a host in Docker's forms; throws an Error explaining a bad one. */
  readonly parseHost: (
    value: string,
    options: { readonly tls: boolean },
  ) => { readonly kind: 'unix' | 'tcp' };
  /** The settings of the named Docker context, read now; throws an Error naming what is wrong. */
  readonly contextSettings: (name: string) => DockerSettings;
}

/** What {@link parseEnginesFile} needs besides the text. */
export interface EnginesFileOptions extends DockerAddressing {
  /** Reads TLS files; relative paths are taken from the engines file's folder. */
  readonly readFile: EngineFileReader;
  /** `DOCKER_CONFIG`: kept in each definition's settings. */
  readonly configDir: string;
  /** `DOCKERGRAPH_CONNECT_TIMEOUT_MS`: for entries without `connectTimeoutMs`. */
  readonly connectTimeoutMs: number;
  /** `DOCKERGRAPH_REQUEST_TIMEOUT_MS`: for entries without `requestTimeoutMs`. */
  readonly requestTimeoutMs: number;
}

const ENTRY_KEYS = [
  'name',
  'host',
  'context',
  'tls',
  'connectTimeoutMs',
  'requestTimeoutMs',
  'labels',
  'readModel',
] as const;
const TLS_KEYS = [
  'ca',
  'cert',
  'key',
  'caFile',
  'certFile',
  'keyFile',
  'certPath',
  'skipVerify',
] as const;
/** The same bounds as DOCKERGRAPH_CONNECT_TIMEOUT_MS and DOCKERGRAPH_REQUEST_TIMEOUT_MS. */
const TIMEOUT_LIMITS = { connectTimeoutMs: 600_000, requestTimeoutMs: 3_600_000 } as const;
/** Label keys as Docker writes them (`env`, `com.example.team`, `example.com/tier`). */
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/;
const PEM_LABELS = { ca: 'CERTIFICATE', cert: 'CERTIFICATE', key: 'PRIVATE KEY' } as const;

type PemField = keyof typeof PEM_LABELS;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function quote(value: unknown): string {
  return String(JSON.stringify(value));
}

function rejectUnknownKeys(
  record: Record<string, unknown>,
  known: readonly string[],
  fail: (message: string) => never,
): void {
  const unknown = Object.keys(record).filter((key) => !known.includes(key));
  if (unknown.length === 0) return;
  fail(
    `unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map(quote).join(', ')} (known keys: ${known.join(', ')})`,
  );
}

/**
 * Turns the file's text into plain data. `.json` is JSON, `.yaml`/`.yml` YAML; any other
 * name is tried as JSON, then as YAML (JSON is YAML too, but JSON's errors are clearer for a
 * file that starts like JSON).
 */
function decode(text: string, path: string): unknown {
  const extension = /\.([A-Za-z]+)$/.exec(path)?.[1]?.toLowerCase();
  const asJson = (): unknown => {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new ConfigError(`engines file ${path} is not valid JSON: ${(error as Error).message}`);
    }
  };
  const asYaml = (): unknown => {
    const document = parseDocument(text);
    const first = document.errors[0];
    if (first !== undefined) {
      // The library's message is the problem and its place, then a drawing of the line.
      const message = (first.message.split('\n')[0] ?? '').replace(/:$/, '');
      throw new ConfigError(`engines file ${path} is not valid YAML: ${message}`);
    }
    return document.toJS();
  };
  if (extension === 'json') return asJson();
  if (extension === 'yaml' || extension === 'yml') return asYaml();
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return asJson();
  return asYaml();
}

/**
 * Reads the engines file's text: `{ engines: [ { name, host | context, tls?,
 * connectTimeoutMs?, requestTimeoutMs?, labels? } ] }`. See README "### Several engines".
 *
 * @param path The file's path, named in every error and the base of relative TLS paths.
 * @throws ConfigError `engines file <path>: engines[<i>] ("<name>"): <field>: <problem>`.
 */
export function parseEnginesFile(
  text: string,
  path: string,
  options: EnginesFileOptions,
): EngineDefinition[] {
  const document = decode(text, path);
  const failFile = (message: string): never => {
    throw new ConfigError(`engines file ${path}: ${message}`);
  };
  if (!isRecord(document)) {
    return failFile(
      'must hold an object with an "engines" list, such as {"engines": [{"name": "a", "host": "unix:///var/run/docker.sock"}]}',
    );
  }
  rejectUnknownKeys(document, ['engines'], failFile);
  const entries = document.engines;
  if (!Array.isArray(entries)) return failFile('engines: must be a list of engines');
  if (entries.length === 0) return failFile('engines: must list at least one engine');
  const firstIndexOfName = new Map<string, number>();
  return entries.map((entry: unknown, index): EngineDefinition => {
    const definition = parseEntry(entry, index, path, options);
    const earlier = firstIndexOfName.get(definition.name);
    if (earlier !== undefined) {
      throw new ConfigError(
        `engines file ${path}: engines[${index}] ("${definition.name}"): name: "${definition.name}" is already the name of engines[${earlier}]; names are unique`,
      );
    }
    firstIndexOfName.set(definition.name, index);
    return definition;
  });
}

function parseEntry(
  entry: unknown,
  index: number,
  path: string,
  options: EnginesFileOptions,
): EngineDefinition {
  const rawName = isRecord(entry) ? entry.name : undefined;
  const named = typeof rawName === 'string' && ENGINE_NAME_PATTERN.test(rawName);
  const where = `engines file ${path}: engines[${index}]${named ? ` ("${rawName}")` : ''}`;
  const fail = (message: string): never => {
    throw new ConfigError(`${where}: ${message}`);
  };
  const failField = (field: string, message: string): never => fail(`${field}: ${message}`);
  if (!isRecord(entry)) return fail('must be an object with a "name" and a "host" or "context"');
  // Unknown keys first: a misspelt "name" is reported as such, not as a missing name.
  rejectUnknownKeys(entry, ENTRY_KEYS, fail);
  if (rawName === undefined) return failField('name', 'is required');
  if (!named) {
    return failField(
      'name',
      `must be 1 to 63 lowercase letters, digits, "-" or "_", starting with a letter or digit, got ${quote(rawName)}`,
    );
  }
  const name = rawName;

  const { host, context } = entry;
  if (host !== undefined && context !== undefined) {
    return fail('host and context are both set: give one (a context names its own host)');
  }
  if (host === undefined && context === undefined) {
    return fail(
      'host or context is required: a Docker host such as unix:///var/run/docker.sock or tcp://10.0.0.2:2376, or the name of a docker context',
    );
  }
  if (context !== undefined && entry.tls !== undefined) {
    return failField(
      'tls',
      'a context brings its own TLS settings (docker context update); remove tls, or give a host instead of the context',
    );
  }
  const tls = entry.tls === undefined ? undefined : readTls(entry.tls, path, options, failField);
  let docker: DockerSettings;
  if (typeof context === 'string' && context.trim() !== '') {
    try {
      docker = options.contextSettings(context.trim());
    } catch (error) {
      return failField('context', (error as Error).message);
    }
  } else if (context !== undefined) {
    return failField('context', `must be the name of a docker context, got ${quote(context)}`);
  } else if (typeof host === 'string') {
    let kind: 'unix' | 'tcp';
    try {
      kind = options.parseHost(host, { tls: tls !== undefined }).kind;
    } catch (error) {
      return failField('host', (error as Error).message);
    }
    if (kind === 'unix' && tls !== undefined) {
      return failField('tls', `applies to TCP engines, but host ${quote(host)} is a unix socket`);
    }
    docker = {
      dockerHost: host.trim(),
      tlsVerify: false,
      configDir: options.configDir,
      ...(tls === undefined ? {} : { tlsPem: tls.pem }),
      ...(tls?.skipVerify === true ? { tlsSkipVerify: true } : {}),
    };
  } else {
    return failField(
      'host',
      `must be a string such as unix:///var/run/docker.sock or tcp://10.0.0.2:2376, got ${quote(host)}`,
    );
  }

  const timeout = (field: keyof typeof TIMEOUT_LIMITS, fallback: number): number => {
    const value = entry[field];
    if (value === undefined) return fallback;
    const max = TIMEOUT_LIMITS[field];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
      return failField(
        field,
        `must be an integer from 1 to ${max} (milliseconds), got ${quote(value)}`,
      );
    }
    return value;
  };
  const { readModel } = entry;
  if (readModel !== undefined && typeof readModel !== 'boolean') {
    return failField('readModel', `must be true or false, got ${quote(readModel)}`);
  }
  return {
    name,
    labels: readLabels(entry.labels, failField),
    docker,
    connectTimeoutMs: timeout('connectTimeoutMs', options.connectTimeoutMs),
    requestTimeoutMs: timeout('requestTimeoutMs', options.requestTimeoutMs),
    ...(readModel === undefined ? {} : { readModel }),
  };
}

function readLabels(
  raw: unknown,
  failField: (field: string, message: string) => never,
): Readonly<Record<string, string>> {
  if (raw === undefined) return {};
  if (!isRecord(raw)) {
    return failField(
      'labels',
      'must be an object of label names to string values, such as {env: prod}',
    );
  }
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!LABEL_KEY.test(key)) {
      return failField(
        'labels',
        `label name ${quote(key)} must be 1 to 128 letters, digits, ".", "_", "-" or "/", starting with a letter or digit`,
      );
    }
    if (typeof value !== 'string') {
      return failField(
        `labels.${key}`,
        `must be a string, got ${quote(value)}${value !== null && typeof value !== 'object' ? ` (quote it: "${String(value)}")` : ''}`,
      );
    }
    // Label selectors are written `key=value` in comma-separated lists.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
    if (value.length > 256 || /[,\u0000-\u001f\u007f]/.test(value)) {
      return failField(
        `labels.${key}`,
        'must be at most 256 characters, without commas or control characters',
      );
    }
    labels[key] = value;
  }
  return labels;
}

interface TlsSettings {
  readonly pem: TlsPem;
  readonly skipVerify: boolean;
}

/** Reads the `tls` section: PEM text or files (one of them per item), or a certPath folder. */
function readTls(
  raw: unknown,
  enginesFile: string,
  options: EnginesFileOptions,
  failField: (field: string, message: string) => never,
): TlsSettings {
  const fail = (message: string): never => failField('tls', message);
  if (!isRecord(raw)) {
    return fail(
      'must be an object such as {} (TLS verified against the system CAs) or {caFile: ca.pem, certFile: cert.pem, keyFile: key.pem}',
    );
  }
  rejectUnknownKeys(raw, TLS_KEYS, fail);
  for (const key of TLS_KEYS) {
    const value = raw[key];
    if (value === undefined) continue;
    if (key === 'skipVerify') {
      if (typeof value !== 'boolean') {
        failField('tls.skipVerify', `must be true or false, got ${quote(value)}`);
      }
    } else if (typeof value !== 'string' || value.trim() === '') {
      failField(`tls.${key}`, `must be a non-empty string, got ${quote(value)}`);
    }
  }
  const text = (key: string): string | undefined => {
    const value = raw[key];
    return typeof value === 'string' ? value : undefined;
  };
  const base = dirname(enginesFile);
  const readPem = (field: PemField, file: string, setting: string): string => {
    const absolute = resolve(base, file);
    let bytes: Buffer | null;
    try {
      bytes = options.readFile(absolute);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      return failField(setting, `cannot read ${absolute}: ${reason}`);
    }
    if (bytes === null) return failField(setting, `${absolute} does not exist`);
    const content = bytes.toString('utf8');
    if (!holdsPem(field, content)) {
      return failField(
        setting,
        `${absolute} does not hold PEM text (a "-----BEGIN ...${PEM_LABELS[field]}-----" block)`,
      );
    }
    return content;
  };

  const pem: { ca?: string; cert?: string; key?: string } = {};
  const certPath = text('certPath');
  if (certPath !== undefined) {
    const others = TLS_KEYS.filter(
      (key) => key !== 'certPath' && key !== 'skipVerify' && raw[key] !== undefined,
    );
    if (others.length > 0) {
      return failField(
        'tls.certPath',
        `is the folder holding ca.pem, cert.pem and key.pem: do not combine it with ${others.join(', ')}`,
      );
    }
    for (const field of ['ca', 'cert', 'key'] as const) {
      pem[field] = readPem(field, join(certPath, `${field}.pem`), 'tls.certPath');
    }
  } else {
    for (const field of ['ca', 'cert', 'key'] as const) {
      const inline = text(field);
      const file = text(`${field}File`);
      if (inline !== undefined && file !== undefined) {
        return fail(`give ${field} (PEM text) or ${field}File (a file), not both`);
      }
      if (inline !== undefined) {
        if (!holdsPem(field, inline)) {
          const path = inline.trim();
          const looksLikePath = !path.includes('\n') && /^[./~]|\.(pem|crt|key)$/i.test(path);
          return failField(
            `tls.${field}`,
            `must hold PEM text (a "-----BEGIN ...${PEM_LABELS[field]}-----" block)${
              looksLikePath ? `; for a file, use ${field}File` : ''
            }`,
          );
        }
        pem[field] = inline;
      } else if (file !== undefined) {
        pem[field] = readPem(field, file, `tls.${field}File`);
      }
    }
  }
  if ((pem.cert === undefined) !== (pem.key === undefined)) {
    return fail(
      'a client certificate (cert or certFile) and its key (key or keyFile) go together: give both or neither',
    );
  }
  return { pem, skipVerify: raw.skipVerify === true };
}

function holdsPem(field: PemField, text: string): boolean {
  return new RegExp(`-----BEGIN [A-Z ]*${PEM_LABELS[field]}-----`).test(text);
}
