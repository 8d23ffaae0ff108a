import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import type { AuditDestination } from '../config.ts';
import type { Logger } from '../logger.ts';

/** Why an operation's audit line says it did not succeed. */
export interface AuditError {
  /** Alias (or name) of the root field the error belongs to; null for the whole operation. */
  readonly field: string | null;
  /**
   * The GraphQL error code (`FORBIDDEN`, `BAD_USER_INPUT`, …), or the type of a
   * typed mutation error (`NotFoundError`, `RegistryAuthError`, …).
   */
  readonly code: string;
  /** Its message, with any secret of the operation's variables taken out. */
  readonly message: string;
}

/** How an audited operation ended. */
export type AuditOutcome = 'ok' | 'error' | 'denied';

/** One audit line: a mutation, a subscription start, a terminal's start or end, or a refused authentication. */
export interface AuditRecord {
  /** When the outcome was known, ISO 8601. */
  readonly time: string;
  /** The token's id (never the token); null without authentication or when none was valid. */
  readonly tokenId: string | null;
  /** The token's role; null when the request carried no valid token. */
  readonly role: string | null;
  /**
   * null when the request was refused before its operation was read (authentication);
   * `terminal` for a terminal session (`operationName` `attach` or `exec`).
   */
  readonly operationType: 'mutation' | 'subscription' | 'terminal' | null;
  readonly operationName: string | null;
  /** Root fields the operation selected. */
  readonly fields: readonly string[];
  /** The engines the operation called (by name), in name order; absent when it called none. */
  readonly engines?: readonly string[];
  /** The operation's variables, secrets redacted (src/security/redact.ts). */
  readonly variables: Readonly<Record<string, unknown>> | null;
  readonly outcome: AuditOutcome;
  /** What went wrong, for the outcomes `error` and `denied`. */
  readonly errors?: readonly AuditError[];
  readonly transport: 'http' | 'sse' | 'websocket';
  /** The client's IP address as the server saw it; null when unknown. */
  readonly clientAddress: string | null;
  /** Milliseconds from the start of execution to the outcome. */
  readonly durationMs?: number;
}

/** Where audit records go: one JSON object per line. */
export interface AuditLog {
  /** Whether records are kept at all (`DOCKERGRAPH_AUDIT=off` keeps none). */
  readonly enabled: boolean;
  write(record: AuditRecord): void;
  /** Flushes and closes the destination; records written afterwards are dropped. */
  close(): Promise<void>;
}

/** Raised at start-up when the audit file cannot be opened. */
export class AuditLogError extends Error {
  override readonly name = 'AuditLogError';
}

/**
 * Opens the audit destination: stdout, nothing, or a file opened once for
 * appending (created with mode 0600). Lines are written synchronously, so
 * none is lost when the process ends; `onWriteError` hears of lines that could
 * not be written.
 */
export function openAuditLog(
  destination: AuditDestination,
  onWriteError: (error: Error) => void = () => {},
): AuditLog {
  if (destination.kind === 'off') {
    return { enabled: false, write() {}, close: async () => {} };
  }
  let writeLine: (line: string) => void;
  let closeDestination: () => void = () => {};
  if (destination.kind === 'stdout') {
    writeLine = (line) => process.stdout.write(line);
  } else {
    let descriptor: number;
    try {
      descriptor = openSync(destination.path, 'a', 0o600);
    } catch (error) {
      throw new AuditLogError(
        `DOCKERGRAPH_AUDIT: cannot open ${destination.path} for appending: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    writeLine = (line) => {
      writeSync(descriptor, line);
    };
    closeDestination = () => {
      fsyncSync(descriptor);
      closeSync(descriptor);
    };
  }
  let open = true;
  return {
    enabled: true,
    write(record) {
      if (!open) return;
      try {
        writeLine(`${JSON.stringify(record)}\n`);
      } catch (error) {
        onWriteError(error instanceof Error ? error : new Error(String(error)));
      }
    },
    async close() {
      if (!open) return;
      open = false;
      closeDestination();
    },
  };
}

/** Logs the first failure to write an audit line, and then one in every thousand. */
export function reportAuditWriteError(logger: Logger): (error: Error) => void {
  let failures = 0;
  return (error) => {
    if (failures % 1_000 === 0) {
      logger.error('cannot write the audit log', { error: error.message, failures: failures + 1 });
    }
    failures += 1;
  };
}
