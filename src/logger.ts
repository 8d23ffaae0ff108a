import type { LogLevel } from './config.ts';

/** Fields of a structured log line. */
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** Writes one JSON object per line. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const severity: Record<LogLevel, number> = {
  debug: 10,
  info: 20,
  warn: 30,
  error: 40,
  silent: 100,
};

/**
 * Writes lines to stdout once per turn of the event loop, after the I/O callbacks of that turn,
 * for the long-running servers. stdout on a pipe or a file is written synchronously, and a
 * request's line is logged as its answer is made: written there, it held the answer back by
 * the time of a write that wakes the log reader. Lines of one turn go out in one write; what
 * is pending when the process exits is written then. A process killed outright (SIGKILL)
 * loses at most the lines of its last turn.
 */
export const writeStdoutPerTurn: (line: string) => void = (() => {
  let pending = '';
  let listening = false;
  const flush = () => {
    const text = pending;
    pending = '';
    if (text !== '') process.stdout.write(text);
  };
  return (line: string) => {
    if (!listening) {
      listening = true;
      process.once('exit', flush);
    }
    if (pending === '') setImmediate(flush);
    pending += line;
  };
})();

/**
 * A logger writing JSON lines at or above `level` to `write`: stdout at once by default (a
 * function instance may be frozen as soon as it has answered), {@link writeStdoutPerTurn}
 * for the servers.
 */
export function createLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => process.stdout.write(line),
): Logger {
  const log = (lineLevel: Exclude<LogLevel, 'silent'>) => (message: string, fields?: LogFields) => {
    if (severity[lineLevel] < severity[level]) return;
    write(
      `${JSON.stringify({ time: new Date().toISOString(), level: lineLevel, msg: message, ...fields })}\n`,
    );
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
