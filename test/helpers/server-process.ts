// A dockergraph server as `npm start` runs it: a child process whose JSON log lines are read.
// Free of vitest, so that the benches launch the server the same way (bench/event-delivery.ts);
// test/helpers/built-server.ts adds the test engine.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { LogEntry } from './log-capture.ts';
import { Changes } from './wait-for.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Where `npm run build` writes the server's bundle, beside which the server writes its code cache. */
export const BUILT_SERVER_DIRECTORY = join(ROOT, 'dist/server/');

/**
 * The variables `npm run start:built` sets before `node` (its script's leading `NAME=value`
 * words, e.g. the allocator's GLIBC_TUNABLES): whoever launches the built server as deployed
 * (tests, benches) takes them from the script itself, so that they measure what ships.
 */
export function startBuiltEnv(): Record<string, string> {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const script = manifest.scripts['start:built'] ?? '';
  const env: Record<string, string> = {};
  for (const word of script.split(/\s+/)) {
    const assignment = /^([A-Z_][A-Z0-9_]*)=(\S*)$/.exec(word);
    if (!assignment) break;
    const [, name = '', value = ''] = assignment;
    // Words are split on spaces, not read as a shell would: a quoted or expanded value would
    // be passed on with its quotes, so the tests would run another server than the script.
    if (/["'`$\\]/.test(value)) {
      throw new Error(
        `start:built sets ${name} with shell quoting or expansion (${value}), which startBuiltEnv does not read: write the value plainly`,
      );
    }
    env[name] = value;
  }
  return env;
}

export interface Child {
  readonly process: ChildProcess;
  /** stdout lines parsed as JSON; other lines as { msg: line }. */
  readonly lines: LogEntry[];
  stderr(): string;
  waitForLine(match: (entry: LogEntry) => boolean, timeoutMs: number): Promise<LogEntry>;
  waitForExit(timeoutMs: number): Promise<{ code: number | null; signal: string | null }>;
}

/** Every server process started, for {@link stopServerProcesses}. */
const children: Child[] = [];

/** How the server is run: `src/server.ts` through tsx (`npm start`) by default. */
const TSX_START = ['--import', 'tsx', 'src/server.ts'] as const;

/**
 * Starts the server in a child process with `env` (and PATH) as its whole environment:
 * `src/server.ts` through tsx, or the node arguments given (the built server).
 */
export function startServerProcess(
  env: Record<string, string | undefined>,
  args: readonly string[] = TSX_START,
): Child {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogEntry[] = [];
  let stderr = '';
  const changes = new Changes();
  const notify = () => changes.notify();
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  if (child.stdout) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        lines.push(JSON.parse(line) as LogEntry);
      } catch {
        lines.push({ msg: line });
      }
      notify();
    });
  }
  let exit: { code: number | null; signal: string | null } | null = null;
  child.on('exit', (code, signal) => {
    exit = { code, signal };
    notify();
  });

  function waitFor<T>(find: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return changes.until(
      find,
      timeoutMs,
      () =>
        new Error(
          `npm start: no ${what} within ${timeoutMs} ms\nstdout:\n${lines
            .map((l) => JSON.stringify(l))
            .join('\n')}\nstderr:\n${stderr}`,
        ),
    );
  }

  const handle: Child = {
    process: child,
    lines,
    stderr: () => stderr,
    waitForLine: (match, timeoutMs) =>
      waitFor(
        () => lines.find(match) ?? (exit ? failExited() : undefined),
        'matching log line',
        timeoutMs,
      ),
    waitForExit: (timeoutMs) => waitFor(() => exit ?? undefined, 'exit', timeoutMs),
  };
  function failExited(): never {
    throw new Error(`npm start exited (${JSON.stringify(exit)}) early; stderr:\n${stderr}`);
  }
  children.push(handle);
  return handle;
}

/** Kills every server process still running (SIGKILL) and waits for them to exit. */
export async function stopServerProcesses(): Promise<void> {
  for (const child of children.splice(0)) {
    if (child.process.exitCode === null && child.process.signalCode === null) {
      child.process.kill('SIGKILL');
      await child.waitForExit(10_000).catch(() => undefined);
    }
  }
}

/**
 * Starts the built server (dist/server/index.mjs under plain node, as `npm run start:built`,
 * with that script's variables) with `env` (DOCKER_HOST, HOME, …) on top of loopback, a free
 * port and no audit log;
 * resolves with it and its base URL once it listens. A bench may give `nodeOptions` (its
 * `--cpu-prof`) and the folder of another build (`directory`, to compare two).
 */
export async function launchBuiltServer(
  env: Record<string, string>,
  {
    nodeOptions = [],
    directory = BUILT_SERVER_DIRECTORY,
  }: { nodeOptions?: readonly string[]; directory?: string } = {},
): Promise<{ child: Child; url: string; pid: number }> {
  const child = startServerProcess(
    { ...startBuiltEnv(), HOST: '127.0.0.1', PORT: '0', DOCKERGRAPH_AUDIT: 'off', ...env },
    [...nodeOptions, join(directory, 'index.mjs')],
  );
  const listening = await child.waitForLine((line) => line.msg === 'dockergraph listening', 60_000);
  const { pid } = child.process;
  if (pid === undefined) throw new Error('the built server has no pid');
  return { child, url: String(listening.url).replace(/\/graphql$/, ''), pid };
}
