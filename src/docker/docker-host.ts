/**
 * Resolution of which Docker Engine to talk to, following the docker CLI's
 * conventions: `DOCKER_HOST`, `DOCKER_CONTEXT` / the current context in
 * `config.json`, and `DOCKER_TLS_VERIFY` with `DOCKER_CERT_PATH`.
 *
 * Pure with respect to the environment: callers pass the values in (read by
 * `src/config.ts`). Files (config.json, context metadata, TLS
 * material) are read through an injectable {@link FileReader}.
 *
 * @module
 */

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareText } from '../compare-text.ts';
import type { DockerSettings } from '../config.ts';

/** The engine's default socket on Linux, used when nothing else is configured. */
export const DEFAULT_SOCKET_PATH = '/var/run/docker.sock';
/** IANA-registered port for the engine API over plain TCP. */
export const DEFAULT_TCP_PORT = 2375;
/** IANA-registered port for the engine API over TLS. */
export const DEFAULT_TLS_PORT = 2376;

/** A Unix socket the engine listens on. */
interface UnixAddress {
  readonly kind: 'unix';
  readonly socketPath: string;
}

/** A TCP address of the engine, as parsed and as connected to. */
interface TcpAddress {
  readonly kind: 'tcp';
  /** Host name or IP address; IPv6 literals without brackets (as `net.connect` wants). */
  readonly host: string;
  readonly port: number;
  /** URL path prefix for every API call: `''` or `/prefix` (no trailing slash). */
  readonly basePath: string;
}

/** A parsed `DOCKER_HOST` value (or a context's `Host`). */
export type DockerHost =
  | UnixAddress
  | (TcpAddress & {
      /** The scheme was `https://`. */
      readonly tls: boolean;
    });

/** Options for {@link parseDockerHost}. */
export interface ParseDockerHostOptions {
  /** TLS will be used, so a `tcp://` address without a port defaults to 2376 instead of 2375. */
  readonly tls?: boolean;
}

/**
 * TLS settings for a TCP endpoint. Key material is held as file contents (read once
 * at resolution time), ready for `tls.connect` / an undici `connect` option.
 * Absent fields mean "use Node's default" (system CAs, no client certificate).
 */
export interface TlsMaterial {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  /** False only when explicitly configured to skip verification (a context's `SkipTLSVerify`). */
  readonly rejectUnauthorized: boolean;
}

/** Where and how to connect to the engine. */
export type EngineEndpoint = UnixAddress | (TcpAddress & { readonly tls: TlsMaterial | null });

/** Which setting the endpoint came from, for a startup log line. */
export type EndpointSource = 'DOCKER_HOST' | 'default' | `context:${string}`;

/** An {@link EngineEndpoint} plus where it came from. */
export type ResolvedEndpoint = EngineEndpoint & { readonly source: EndpointSource };

/** Reads a whole file; returns null when it does not exist. Other failures throw. */
export type FileReader = (path: string) => Buffer | null;

/** The default {@link FileReader}, backed by `fs.readFileSync`. */
export const readFileIfExists: FileReader = (path) => {
  try {
    return readFileSync(path);
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return null;
    throw error;
  }
};

const SUPPORTED_FORMS =
  'supported forms: unix:///path/to/docker.sock, /path/to/docker.sock, ' +
  'tcp://host[:port][/base-path], http://host[:port][/base-path], https://host[:port][/base-path]';

// The docker CLI also accepts these; this client does not implement them.
const UNSUPPORTED_SCHEMES: Readonly<Record<string, string>> = {
  npipe: 'Windows named pipes',
  ssh: 'SSH tunnels',
  fd: 'systemd socket activation (only meaningful for the daemon itself)',
};

function invalid(value: string, problem: string): Error {
  return new Error(`Invalid Docker host ${JSON.stringify(value)}: ${problem}; ${SUPPORTED_FORMS}`);
}

function parsePort(value: string, text: string): number {
  if (!/^\d{1,5}$/.test(text)) throw invalid(value, `port ${JSON.stringify(text)} is not a number`);
  const port = Number(text);
  if (port < 1 || port > 65535) throw invalid(value, `port ${port} is out of range`);
  return port;
}

/**
 * Parses a Docker host address.
 *
 * - `unix:///path` or a bare absolute path: a unix socket.
 * - `tcp://host[:port][/base]`: plain TCP; default port 2375, or 2376 with
 *   `options.tls` (the CLI's convention for TLS daemons). `tcp://:2375` means
 *   localhost, as in the docker CLI.
 * - `http://` and `https://` (accepted by Docker's Go SDK): like `tcp://` but with
 *   URL default ports 80 and 443; `https` sets `tls`.
 * - IPv6 literals in brackets: `tcp://[::1]:2375`.
 *
 * @throws Error for `npipe://`, `ssh://`, `fd://` and anything unparseable, quoting the value.
 */
export function parseDockerHost(value: string, options: ParseDockerHostOptions = {}): DockerHost {
  const trimmed = value.trim();
  if (trimmed === '') throw invalid(value, 'the value is empty');
  if (trimmed.startsWith('/')) return { kind: 'unix', socketPath: trimmed };

  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(trimmed);
  if (match === null) throw invalid(value, 'there is no scheme');
  const scheme = (match[1] ?? '').toLowerCase();
  const rest = match[2] ?? '';

  const unsupported = UNSUPPORTED_SCHEMES[scheme];
  if (unsupported !== undefined) {
    throw invalid(value, `the ${scheme}:// scheme (${unsupported}) is not supported`);
  }
  if (scheme === 'unix') {
    if (rest === '') throw invalid(value, 'the socket path is empty');
    return { kind: 'unix', socketPath: rest };
  }
  if (scheme !== 'tcp' && scheme !== 'http' && scheme !== 'https') {
    throw invalid(value, `unknown scheme ${JSON.stringify(`${scheme}://`)}`);
  }
  if (/[?#\s]/.test(rest))
    throw invalid(value, 'query strings, fragments and spaces are not allowed');

  const slash = rest.indexOf('/');
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '' : rest.slice(slash);
  if (authority.includes('@')) throw invalid(value, 'credentials in the address are not supported');

  let host: string;
  let portText: string | undefined;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close === -1) throw invalid(value, 'the IPv6 address has no closing "]"');
    host = authority.slice(1, close);
    const after = authority.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':'))
        throw invalid(value, `unexpected ${JSON.stringify(after)} after "]"`);
      portText = after.slice(1);
    }
    if (!/^[0-9A-Fa-f:.]+(%[\w.-]+)?$/.test(host) || !host.includes(':')) {
      throw invalid(value, `${JSON.stringify(host)} is not an IPv6 address`);
    }
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon !== authority.indexOf(':')) {
      throw invalid(value, 'an IPv6 address must be written in brackets, e.g. tcp://[::1]:2375');
    }
    host = colon === -1 ? authority : authority.slice(0, colon);
    portText = colon === -1 ? undefined : authority.slice(colon + 1);
    if (host !== '' && !/^[A-Za-z0-9._-]+$/.test(host)) {
      throw invalid(value, `${JSON.stringify(host)} is not a valid host name`);
    }
  }
  if (host === '') {
    if (scheme !== 'tcp') throw invalid(value, 'the host is empty');
    host = 'localhost';
  }

  const tls = scheme === 'https';
  let port: number;
  if (portText !== undefined && portText !== '') {
    port = parsePort(value, portText);
  } else if (scheme === 'http') {
    port = 80;
  } else if (scheme === 'https') {
    port = 443;
  } else {
    port = options.tls === true ? DEFAULT_TLS_PORT : DEFAULT_TCP_PORT;
  }
  const basePath = path.replace(/\/+$/, '');
  return { kind: 'tcp', host, port, basePath, tls };
}

/**
 * The folder name the docker CLI uses for a context under `contexts/meta` and
 * `contexts/tls`: the lowercase hex SHA-256 of the context name.
 */
export function contextDirName(name: string): string {
  return createHash('sha256').update(name, 'utf8').digest('hex');
}

function readJson(path: string, readFile: FileReader, what: string): unknown {
  const bytes = readFile(path);
  if (bytes === null) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Cannot parse ${what} ${path}: ${reason}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads ca.pem, cert.pem and key.pem from `dir`, all required. */
function readCertDir(
  dir: string,
  readFile: FileReader,
  why: string,
): Required<Omit<TlsMaterial, 'rejectUnauthorized'>> {
  const read = (name: string): Buffer => {
    const path = join(dir, name);
    const bytes = readFile(path);
    if (bytes === null) {
      throw new Error(
        `TLS file ${path} does not exist (${why}; set DOCKER_CERT_PATH to the folder holding ca.pem, cert.pem and key.pem)`,
      );
    }
    return bytes;
  };
  return { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') };
}

function fromDockerHost(
  settings: DockerSettings,
  dockerHost: string,
  readFile: FileReader,
): ResolvedEndpoint {
  const pem = settings.tlsPem;
  const parsed = parseDockerHost(dockerHost, { tls: settings.tlsVerify || pem !== undefined });
  if (parsed.kind === 'unix') {
    if (pem !== undefined) {
      throw new Error(
        `DOCKER_TLS_CA/DOCKER_TLS_CERT/DOCKER_TLS_KEY apply to a TCP engine, but DOCKER_HOST names the unix socket ${parsed.socketPath}`,
      );
    }
    return { ...parsed, source: 'DOCKER_HOST' };
  }
  const { host, port, basePath } = parsed;
  let tls: TlsMaterial | null = null;
  if (pem !== undefined) {
    // PEM text (the environment, an engines file, a context): TLS, verified against its CA or
    // the system CAs unless an engines-file entry or a context turned verification off.
    tls = {
      ...(pem.ca === undefined ? {} : { ca: Buffer.from(pem.ca) }),
      ...(pem.cert === undefined ? {} : { cert: Buffer.from(pem.cert) }),
      ...(pem.key === undefined ? {} : { key: Buffer.from(pem.key) }),
      rejectUnauthorized: settings.tlsSkipVerify !== true,
    };
  } else if (settings.tlsVerify) {
    const dir = settings.certPath ?? settings.configDir;
    tls = { ...readCertDir(dir, readFile, 'DOCKER_TLS_VERIFY is set'), rejectUnauthorized: true };
  } else if (parsed.tls) {
    // https:// without DOCKER_TLS_VERIFY: verify against the system CAs, plus the
    // client certificate from DOCKER_CERT_PATH when that is set.
    tls =
      settings.certPath === undefined
        ? { rejectUnauthorized: true }
        : {
            ...readCertDir(settings.certPath, readFile, 'DOCKER_CERT_PATH is set'),
            rejectUnauthorized: true,
          };
  }
  // A plain tcp:// host with only DOCKER_CERT_PATH set stays plain, as in the docker CLI.
  return { kind: 'tcp', host, port, basePath, tls, source: 'DOCKER_HOST' };
}

/** A Docker context as the docker CLI stores it: its engine address and TLS files. */
export interface DockerContext {
  /** The context's name (`Name` in meta.json). */
  readonly name: string;
  /** `Endpoints.docker.Host`, as written. */
  readonly host: string;
  /** `Endpoints.docker.SkipTLSVerify`. */
  readonly skipTlsVerify: boolean;
  /** The TLS files present under `contexts/tls/<sha256(name)>/docker/`; each is optional. */
  readonly tlsFiles: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
  /** The meta.json it was read from, for error messages. */
  readonly metaPath: string;
}

function readContextMeta(
  name: string,
  metaPath: string,
  meta: unknown,
  configDir: string,
  readFile: FileReader,
): DockerContext {
  const endpoints = isRecord(meta) ? meta.Endpoints : undefined;
  const docker = isRecord(endpoints) ? endpoints.docker : undefined;
  const hostValue = isRecord(docker) ? docker.Host : undefined;
  if (!isRecord(docker) || typeof hostValue !== 'string' || hostValue === '') {
    throw new Error(`Docker context "${name}" in ${metaPath} has no Endpoints.docker.Host`);
  }
  // The CLI stores only the files that were given when the context was created.
  const tlsDir = join(configDir, 'contexts', 'tls', contextDirName(name), 'docker');
  const ca = readFile(join(tlsDir, 'ca.pem'));
  const cert = readFile(join(tlsDir, 'cert.pem'));
  const key = readFile(join(tlsDir, 'key.pem'));
  if ((cert === null) !== (key === null)) {
    const missing = join(tlsDir, cert === null ? 'cert.pem' : 'key.pem');
    throw new Error(
      `Docker context "${name}": TLS file ${missing} does not exist (cert.pem and key.pem go together)`,
    );
  }
  return {
    name,
    host: hostValue,
    skipTlsVerify: docker.SkipTLSVerify === true,
    tlsFiles: {
      ...(ca === null ? {} : { ca }),
      ...(cert === null ? {} : { cert }),
      ...(key === null ? {} : { key }),
    },
    metaPath,
  };
}

/**
 * Reads the named context from the docker CLI's store:
 * `<configDir>/contexts/meta/<sha256(name)>/meta.json` and its TLS files.
 *
 * @param origin Where the name came from, for the not-found message (e.g. `DOCKER_CONTEXT`).
 * @throws Error naming the context and file when it does not exist or is malformed.
 */
export function readDockerContext(
  name: string,
  configDir: string,
  readFile: FileReader = readFileIfExists,
  origin?: string,
): DockerContext {
  const metaPath = join(configDir, 'contexts', 'meta', contextDirName(name), 'meta.json');
  const meta = readJson(metaPath, readFile, `metadata of Docker context "${name}"`);
  if (meta === undefined) {
    throw new Error(
      `Docker context "${name}"${origin === undefined ? '' : ` (from ${origin})`} not found: ${metaPath} does not exist`,
    );
  }
  return readContextMeta(name, metaPath, meta, configDir, readFile);
}

/** Whether the docker CLI talks TLS to a context's engine: TLS files, SkipTLSVerify or https://. */
function contextUsesTls(context: DockerContext): boolean {
  return (
    context.tlsFiles.ca !== undefined ||
    context.tlsFiles.cert !== undefined ||
    context.skipTlsVerify
  );
}

/** Parses a context's host; an unsupported one fails naming the context and its meta.json. */
function parseContextHost(context: DockerContext, tlsWanted: boolean): DockerHost {
  try {
    return parseDockerHost(context.host, { tls: tlsWanted });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Docker context "${context.name}" (${context.metaPath}): ${reason}`);
  }
}

function fromContext(
  name: string,
  origin: string,
  configDir: string,
  readFile: FileReader,
): ResolvedEndpoint {
  const context = readDockerContext(name, configDir, readFile, origin);
  const tlsWanted = contextUsesTls(context);
  const parsed = parseContextHost(context, tlsWanted);
  const source: EndpointSource = `context:${name}`;
  if (parsed.kind === 'unix') return { ...parsed, source };
  const { host, port, basePath } = parsed;
  let tls: TlsMaterial | null = null;
  if (tlsWanted || parsed.tls) {
    tls = { ...context.tlsFiles, rejectUnauthorized: !context.skipTlsVerify };
  }
  return { kind: 'tcp', host, port, basePath, tls, source };
}

/**
 * The settings that reach a context's engine through `resolveDockerEndpoint` without the
 * context store: its host, with its TLS files as PEM text. The endpoint is the one the
 * context itself resolves to (TLS when it has TLS files or SkipTLSVerify, or an https:// host).
 *
 * @throws Error naming the context and its meta.json for a host this client does not support.
 */
export function contextDockerSettings(context: DockerContext, configDir: string): DockerSettings {
  const tlsWanted = contextUsesTls(context);
  const parsed = parseContextHost(context, tlsWanted);
  const settings: DockerSettings = { dockerHost: context.host, tlsVerify: false, configDir };
  if (parsed.kind === 'unix' || !tlsWanted) return settings;
  const { ca, cert, key } = context.tlsFiles;
  return {
    ...settings,
    tlsPem: {
      ...(ca === undefined ? {} : { ca: ca.toString('utf8') }),
      ...(cert === undefined ? {} : { cert: cert.toString('utf8') }),
      ...(key === undefined ? {} : { key: key.toString('utf8') }),
    },
    ...(context.skipTlsVerify ? { tlsSkipVerify: true } : {}),
  };
}

/**
 * The docker CLI's "default" context, which is not stored: `DOCKER_HOST` with the TLS
 * variables when set, otherwise the default socket (never the current context).
 */
export function defaultContextSettings(docker: DockerSettings): DockerSettings {
  const { dockerContext: _ignored, ...rest } = docker;
  const dockerHost = docker.dockerHost?.trim() ?? '';
  return { ...rest, dockerHost: dockerHost === '' ? `unix://${DEFAULT_SOCKET_PATH}` : dockerHost };
}

/** Lists a folder's entries; returns null when it does not exist. Other failures throw. */
export type DirectoryLister = (path: string) => readonly string[] | null;

/** The default {@link DirectoryLister}, backed by `fs.readdirSync`. */
export const listDirectoryIfExists: DirectoryLister = (path) => {
  try {
    return readdirSync(path);
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return null;
    throw error;
  }
};

/**
 * Every context `docker context ls` shows besides "default" (which is not stored): each
 * `<configDir>/contexts/meta/<folder>/meta.json`, with its TLS files from
 * `contexts/tls/<sha256(Name)>/docker/`, sorted by name. Folders without a meta.json are
 * skipped, as the docker CLI does; the host is returned as written (not parsed).
 *
 * @throws Error naming the file for a meta.json that is not JSON, has no `Name` or no
 *   `Endpoints.docker.Host`, or a cert.pem without its key.pem (or the reverse).
 */
export function listDockerContexts(
  configDir: string,
  readFile: FileReader = readFileIfExists,
  listDirectory: DirectoryLister = listDirectoryIfExists,
): DockerContext[] {
  const metaRoot = join(configDir, 'contexts', 'meta');
  const contexts: DockerContext[] = [];
  for (const folder of [...(listDirectory(metaRoot) ?? [])].sort()) {
    const metaPath = join(metaRoot, folder, 'meta.json');
    const meta = readJson(metaPath, readFile, 'Docker context metadata');
    if (meta === undefined) continue;
    const name = isRecord(meta) ? meta.Name : undefined;
    if (typeof name !== 'string' || name === '') {
      throw new Error(`Docker context metadata ${metaPath} has no "Name"`);
    }
    contexts.push(readContextMeta(name, metaPath, meta, configDir, readFile));
  }
  return contexts.sort((a, b) => compareText(a.name, b.name));
}

/**
 * Decides which engine to use, with the docker CLI's precedence:
 *
 * 1. `dockerHost` (DOCKER_HOST), when non-empty; contexts are then ignored. TLS:
 *    with `tlsPem` (DOCKER_TLS_CA/CERT/KEY), that PEM text, verified, whatever the
 *    scheme (the default port is then 2376); otherwise with `tlsVerify`, ca.pem/cert.pem/key.pem from `certPath` (default `configDir`)
 *    are all required and the server is verified. An `https://` host without
 *    `tlsVerify` uses TLS verified against the system CAs (plus the client
 *    certificate from `certPath` when given). A `tcp://` host without `tlsVerify`
 *    is plain TCP even when `certPath` is set, as in the docker CLI.
 * 2. `dockerContext` (DOCKER_CONTEXT), when non-empty.
 * 3. `currentContext` from `<configDir>/config.json`, when present.
 * 4. Otherwise, or for the context named "default": `unix:///var/run/docker.sock`.
 *
 * A named context is read from `<configDir>/contexts/meta/<sha256(name)>/meta.json`;
 * its TLS files, each optional, from `<configDir>/contexts/tls/<sha256(name)>/docker/`.
 * Its endpoint uses TLS when any of them exist, when `SkipTLSVerify` is true (which
 * turns verification off) or when its host is `https://`. `tlsVerify`/`certPath`
 * do not apply to contexts, as in the docker CLI.
 *
 * Unlike the docker CLI, `tlsVerify` without `dockerHost` does not switch the
 * default to `tcp://localhost:2376`; the default is always the unix socket.
 *
 * @throws Error naming the context and file for an unknown context, a malformed
 *   config.json or meta.json, a missing required TLS file, or an unsupported host.
 */
export function resolveDockerEndpoint(
  settings: DockerSettings,
  readFile: FileReader = readFileIfExists,
): ResolvedEndpoint {
  const dockerHost = settings.dockerHost?.trim() ?? '';
  if (dockerHost !== '') return fromDockerHost(settings, dockerHost, readFile);

  let name = settings.dockerContext?.trim() ?? '';
  let origin = 'DOCKER_CONTEXT';
  if (name === '') {
    const configPath = join(settings.configDir, 'config.json');
    const config = readJson(configPath, readFile, 'Docker CLI configuration');
    const current = isRecord(config) ? config.currentContext : undefined;
    if (current !== undefined && typeof current !== 'string') {
      throw new Error(`Docker CLI configuration ${configPath}: "currentContext" is not a string`);
    }
    name = current?.trim() ?? '';
    origin = `currentContext in ${configPath}`;
  }
  if (name === '' || name === 'default') {
    return { kind: 'unix', socketPath: DEFAULT_SOCKET_PATH, source: 'default' };
  }
  return fromContext(name, origin, settings.configDir, readFile);
}

/**
 * A one-line description for logs, e.g.
 * `tcp://10.0.0.5:2376 (TLS: verified, custom CA, client certificate) from context:prod`.
 * Never includes key material.
 */
export function describeEndpoint(
  endpoint: EngineEndpoint & { readonly source?: EndpointSource },
): string {
  let text: string;
  if (endpoint.kind === 'unix') {
    text = `unix://${endpoint.socketPath}`;
  } else {
    const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
    text = `tcp://${host}:${endpoint.port}${endpoint.basePath}`;
    const tls = endpoint.tls;
    if (tls === null) {
      text += ' (plain TCP, no TLS)';
    } else {
      const parts = [tls.rejectUnauthorized ? 'verified' : 'NOT verified'];
      parts.push(tls.ca === undefined ? 'system CAs' : 'custom CA');
      if (tls.cert !== undefined) parts.push('client certificate');
      text += ` (TLS: ${parts.join(', ')})`;
    }
  }
  return endpoint.source === undefined ? text : `${text} from ${endpoint.source}`;
}
