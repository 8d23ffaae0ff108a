// Reading back what the audit log wrote.
import type { AuditRecord } from '../../src/plugins/audit-log.ts';

/**
 * The audit lines in `text`: an audit file, or stdout where they sit among the
 * log lines (every audit line is a JSON object with an `outcome`).
 */
export function auditRecordsIn(text: string): AuditRecord[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes('"outcome"'))
    .map((line) => JSON.parse(line) as AuditRecord);
}
