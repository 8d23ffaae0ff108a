import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The project's development engine: `scripts/engine.sh` runs a private dockerd in its own
 * network namespace. This is the one wrapper around it, for `npm start` (when no engine is
 * configured) and for the tests; it reads the single JSON line the script prints with `--json`.
 */
export const ENGINE_SCRIPT = fileURLToPath(new URL('../../scripts/engine.sh', import.meta.url));

/** The Debian packages the script needs (it installs them itself as root, unless told not to). */
export const ENGINE_PACKAGES = 'docker.io busybox-static iptables docker-registry';

/** What each command reports on its one line of stdout. */
export interface EngineReports {
  start: { dockerHost: string; started: boolean; tlsHost?: string };
  env: { dockerHost: string; tlsHost?: string };
  status: { running: boolean };
  stop: { stopped: boolean };
  'registry-start': { address: string };
  'registry-stop': { stopped: boolean };
  'auth-registry-start': { address: string; username: string; password: string };
  'auth-registry-stop': { stopped: boolean };
}

export type EngineCommand = keyof EngineReports;

type FieldKind = 'string' | 'boolean' | 'string?';

const REPORT_FIELDS: { readonly [C in EngineCommand]: Readonly<Record<string, FieldKind>> } = {
  start: { dockerHost: 'string', started: 'boolean', tlsHost: 'string?' },
  env: { dockerHost: 'string', tlsHost: 'string?' },
  status: { running: 'boolean' },
  stop: { stopped: 'boolean' },
  'registry-start': { address: 'string' },
  'registry-stop': { stopped: 'boolean' },
  'auth-registry-start': { address: 'string', username: 'string', password: 'string' },
  'auth-registry-stop': { stopped: 'boolean' },
};

/** Which engine instance, and how the script may behave. */
export interface EngineScriptOptions {
  /** State folder (`DOCKERGRAPH_ENGINE_DIR`); the script's default otherwise. */
  readonly dir?: string;
  /** Network namespace (`DOCKERGRAPH_ENGINE_NETNS`). */
  readonly netns?: string;
  /** Folder of TLS files: the instance also listens with `--tlsverify` (`start` only). */
  readonly tlsDir?: string;
  /** Address of the TLS listener inside the netns (`DOCKERGRAPH_ENGINE_TLS_ADDRESS`). */
  readonly tlsAddress?: string;
  /** The host's end of the veth pair (`DOCKERGRAPH_ENGINE_TLS_HOST_ADDRESS`). */
  readonly tlsHostAddress?: string;
  /** Whether the script may apt-get install missing packages (default: yes). */
  readonly install?: boolean;
  /** Past this the script is killed and the call fails (default 10 minutes: a cold start may install packages). */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;

function scriptEnv(options: EngineScriptOptions): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...(options.dir ? { DOCKERGRAPH_ENGINE_DIR: options.dir } : {}),
    ...(options.netns ? { DOCKERGRAPH_ENGINE_NETNS: options.netns } : {}),
    ...(options.tlsDir ? { DOCKERGRAPH_ENGINE_TLS_DIR: options.tlsDir } : {}),
    ...(options.tlsAddress ? { DOCKERGRAPH_ENGINE_TLS_ADDRESS: options.tlsAddress } : {}),
    ...(options.tlsHostAddress
      ? { DOCKERGRAPH_ENGINE_TLS_HOST_ADDRESS: options.tlsHostAddress }
      : {}),
    ...(options.install === false ? { DOCKERGRAPH_ENGINE_INSTALL: '0' } : {}),
  };
}

function lastLines(text: string, count: number): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}

/** Reads the one JSON line of a command's stdout, checking the fields the command promises. */
export function parseEngineReport<C extends EngineCommand>(
  command: C,
  stdout: string,
): EngineReports[C] {
  const lines = stdout.split('\n').filter((line) => line.trim() !== '');
  const line = lines.length === 1 ? lines[0] : undefined;
  let value: unknown;
  try {
    value = line === undefined ? undefined : JSON.parse(line);
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(
      `scripts/engine.sh ${command} --json printed no single JSON line; stdout was:\n${stdout}`,
    );
  }
  const record = value as Record<string, unknown>;
  for (const [field, kind] of Object.entries(REPORT_FIELDS[command])) {
    const present = record[field];
    const ok =
      kind === 'string?'
        ? present === undefined || typeof present === 'string'
        : typeof present === kind;
    if (!ok) {
      throw new Error(
        `scripts/engine.sh ${command} --json reported no ${kind} "${field}": ${line}`,
      );
    }
  }
  // Every field was checked against the command's report above.
  return record as EngineReports[C];
}

/**
 * Runs one command of `scripts/engine.sh` and returns what it reports. Fails with the script's
 * exit status and the last lines of its stderr (progress and errors go there).
 */
export function runEngineScript<C extends EngineCommand>(
  command: C,
  options: EngineScriptOptions = {},
): Promise<EngineReports[C]> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [ENGINE_SCRIPT, command, '--json'],
      {
        encoding: 'utf8',
        timeout: timeoutMs,
        maxBuffer: 16 * 1024 * 1024,
        env: scriptEnv(options),
      },
      (error, stdout, stderr) => {
        if (!error) {
          try {
            resolve(parseEngineReport(command, stdout));
          } catch (parseError) {
            reject(parseError);
          }
          return;
        }
        const code = typeof error.code === 'number' ? error.code : -1;
        const how = error.killed
          ? ` (killed after ${timeoutMs} ms${error.signal ? ` with ${error.signal}` : ''})`
          : code === -1
            ? ` (${error.message})`
            : '';
        const needs = command.endsWith('start')
          ? `\nIt needs root and these Debian packages: ${ENGINE_PACKAGES}.`
          : '';
        reject(
          new Error(
            `Could not ${command} the private Docker engine: \`bash scripts/engine.sh ${command}\` exited with ${code}${how}.${needs}\n--- last lines of its stderr ---\n${lastLines(stderr, 40) || '(empty)'}`,
          ),
        );
      },
    );
  });
}

/** A private engine started (or found running) by `scripts/engine.sh`. */
export interface EmbeddedEngine {
  /** `unix://` address of its socket. */
  readonly dockerHost: string;
  /** Whether this call started it (and so should stop it). */
  readonly startedHere: boolean;
  stop(): Promise<void>;
}

/**
 * Starts the private engine unless it already runs, and returns its address. Needs root
 * (dockerd, network namespaces); `install: false` keeps the script from installing packages.
 */
export async function startEmbeddedEngine(
  options: EngineScriptOptions = {},
): Promise<EmbeddedEngine> {
  const { dockerHost, started } = await runEngineScript('start', options);
  return {
    dockerHost,
    startedHere: started,
    async stop() {
      if (started) await runEngineScript('stop', options);
    },
  };
}
