// The README's admission table is the policy's public documentation: it must say what
// ADMISSION_CONTROLS says, row for row, so that a changed control cannot leave it stale.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ADMISSION_CONTROLS } from '../../src/security/admission.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The rows of the README table whose first cell is a control name in backticks. */
function readmeRows(): Map<string, string> {
  const rows = new Map<string, string>();
  const start = readme.indexOf('### Admission');
  const end = readme.indexOf('\n### ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  for (const line of section.split('\n')) {
    const match = /^\| `([a-z-]+)` \| (.*) \|$/.exec(line);
    if (match?.[1] && match[2] !== undefined) rows.set(match[1], match[2]);
  }
  return rows;
}

describe('README admission table', () => {
  it('has one row per control, in the policy order, with its title and both levels', () => {
    const rows = readmeRows();
    expect([...rows.keys()]).toEqual(Object.keys(ADMISSION_CONTROLS));
    for (const [control, { title, baseline, restricted }] of Object.entries(ADMISSION_CONTROLS)) {
      expect(rows.get(control), control).toBe(`${title} | ${baseline} | ${restricted}`);
    }
  });
});
