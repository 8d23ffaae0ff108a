import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLogError, type AuditRecord, openAuditLog } from '../../src/plugins/audit-log.ts';

const record: AuditRecord = {
  time: '2024-05-01T12:00:00.000Z',
  tokenId: 'ci',
  role: 'operator',
  operationType: 'mutation',
  operationName: 'Restart',
  fields: ['restartContainer'],
  variables: { id: 'web' },
  outcome: 'ok',
  transport: 'http',
  clientAddress: '127.0.0.1',
};

describe('openAuditLog', () => {
  const folders: string[] = [];
  afterEach(() => {
    for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  });

  it('appends one JSON line per record to a file only its owner can read', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'dg-audit-unit-'));
    folders.push(folder);
    const path = join(folder, 'audit.log');
    const first = openAuditLog({ kind: 'file', path });
    first.write(record);
    await first.close();
    const second = openAuditLog({ kind: 'file', path });
    second.write({ ...record, outcome: 'denied' });
    await second.close();
    // Written after close: dropped, not thrown.
    second.write(record);
    expect(
      readFileSync(path, 'utf8')
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([record, { ...record, outcome: 'denied' }]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('refuses at start a file it cannot open, naming the variable and the path', () => {
    expect(() =>
      openAuditLog({ kind: 'file', path: '/nonexistent/dockergraph/audit.log' }),
    ).toThrow(
      new AuditLogError(
        'DOCKERGRAPH_AUDIT: cannot open /nonexistent/dockergraph/audit.log for appending: ENOENT',
      ),
    );
  });

  it('keeps nothing when turned off', async () => {
    const log = openAuditLog({ kind: 'off' });
    expect(log.enabled).toBe(false);
    log.write(record);
    await log.close();
  });
});
