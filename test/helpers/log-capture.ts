// A dockergraph logger that keeps its JSON lines for assertions.
import type { LogLevel } from '../../src/config.ts';
import { createLogger, type Logger } from '../../src/logger.ts';

/** One parsed log line. */
export type LogEntry = Readonly<Record<string, unknown>> & { readonly msg: string };

export interface CapturedLog {
  readonly logger: Logger;
  /** Every line written so far, parsed, oldest first. */
  readonly entries: LogEntry[];
  /** Resolves with the first entry (from index `from` on) that `match` accepts. */
  waitFor(
    match: (entry: LogEntry) => boolean,
    timeoutMs?: number,
    from?: number,
  ): Promise<LogEntry>;
}

export function captureLog(level: LogLevel = 'debug'): CapturedLog {
  const entries: LogEntry[] = [];
  const waiters = new Set<() => void>();
  const logger = createLogger(level, (line) => {
    entries.push(JSON.parse(line) as LogEntry);
    for (const waiter of [...waiters]) waiter();
  });
  return {
    logger,
    entries,
    waitFor(match, timeoutMs = 10_000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = entries.slice(from).find(match);
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching log line within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}
