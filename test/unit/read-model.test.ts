// The pure parts of the read model: the engine's `Status` text computed at read time, which
// writes leave which lists to the engine, and label filters applied in memory as the engine does.
import { describe, expect, it } from 'vitest';
import { humanDuration, kindsChangedBy, statusText, toNanos } from '../../src/docker/read-model.ts';
import { matchesLabelFilters } from '../../src/loaders.ts';

const NOW = Date.parse('2026-01-10T12:00:00Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString();
const ZERO = '0001-01-01T00:00:00Z';

function state(overrides: Record<string, unknown>) {
  return {
    Status: 'running' as const,
    Running: false,
    Paused: false,
    Restarting: false,
    OOMKilled: false,
    Dead: false,
    Pid: 0,
    ExitCode: 0,
    Error: '',
    StartedAt: ZERO,
    FinishedAt: ZERO,
    ...overrides,
  };
}

describe('humanDuration (go-units HumanDuration)', () => {
  it.each([
    [500, 'Less than a second'],
    [1_000, '1 second'],
    [59_999, '59 seconds'],
    [60_000, 'About a minute'],
    [119_999, 'About a minute'],
    [120_000, '2 minutes'],
    [59 * 60_000, '59 minutes'],
    [60 * 60_000, 'About an hour'],
    [89 * 60_000, 'About an hour'],
    [90 * 60_000, '2 hours'],
    [47 * 3_600_000, '47 hours'],
    [48 * 3_600_000, '2 days'],
    [14 * 24 * 3_600_000, '2 weeks'],
    [60 * 24 * 3_600_000, '2 months'],
    [730 * 24 * 3_600_000, '2 years'],
  ])('%d ms is "%s"', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
});

describe('statusText (the engine State.String())', () => {
  it('writes each state as the container list does', () => {
    expect(statusText(state({ Status: 'created' }), NOW)).toBe('Created');
    expect(statusText(state({ Running: true, StartedAt: ago(5_000) }), NOW)).toBe('Up 5 seconds');
    expect(statusText(state({ Running: true, Paused: true, StartedAt: ago(180_000) }), NOW)).toBe(
      'Up 3 minutes (Paused)',
    );
    expect(
      statusText(
        state({ Running: true, StartedAt: ago(2_000), Health: { Status: 'starting' } }),
        NOW,
      ),
    ).toBe('Up 2 seconds (health: starting)');
    expect(
      statusText(
        state({ Running: true, StartedAt: ago(2_000), Health: { Status: 'healthy' } }),
        NOW,
      ),
    ).toBe('Up 2 seconds (healthy)');
    expect(
      statusText(
        state({ Running: true, Restarting: true, ExitCode: 1, FinishedAt: ago(3_000) }),
        NOW,
      ),
    ).toBe('Restarting (1) 3 seconds ago');
    expect(
      statusText(
        state({ Status: 'exited', ExitCode: 137, StartedAt: ago(9e6), FinishedAt: ago(7_200_000) }),
        NOW,
      ),
    ).toBe('Exited (137) 2 hours ago');
    expect(statusText(state({ Status: 'dead', Dead: true }), NOW)).toBe('Dead');
    expect(statusText(state({ Status: 'removing', StartedAt: ago(9e6) }), NOW)).toBe(
      'Removal In Progress',
    );
  });
});

describe('toNanos', () => {
  it('keeps the nanoseconds the engine writes, whatever the number of digits', () => {
    expect(toNanos('2026-01-10T12:00:00.123456789Z')).toBe(1_768_046_400_123_456_789n);
    expect(toNanos('2026-01-10T12:00:00.5Z')).toBe(1_768_046_400_500_000_000n);
    expect(toNanos('2026-01-10T12:00:00Z')).toBe(1_768_046_400_000_000_000n);
    expect(toNanos('2026-01-10T13:00:00.000000001+01:00')).toBe(1_768_046_400_000_000_001n);
  });
});

describe('kindsChangedBy', () => {
  it('names the lists a write may change; streams and exec change none', () => {
    expect(kindsChangedBy('/containers/create')).toEqual(['containers', 'volumes']);
    expect(kindsChangedBy('/containers/abc/start')).toEqual(['containers', 'volumes']);
    expect(kindsChangedBy('/containers/abc')).toEqual(['containers', 'volumes']);
    expect(kindsChangedBy('/containers/abc/exec')).toEqual([]);
    expect(kindsChangedBy('/containers/abc/attach')).toEqual([]);
    expect(kindsChangedBy('/containers/abc/wait')).toEqual([]);
    expect(kindsChangedBy('/exec/abc/start')).toEqual([]);
    expect(kindsChangedBy('/images/create')).toEqual(['images', 'containers']);
    expect(kindsChangedBy('/build')).toEqual(['images', 'containers']);
    expect(kindsChangedBy('/volumes/create')).toEqual(['volumes']);
    expect(kindsChangedBy('/networks/abc/connect')).toEqual(['networks', 'containers']);
    expect(kindsChangedBy('/services/create')).toEqual([]);
    // Anything not known is taken to change every list.
    expect(kindsChangedBy('/something/new')).toEqual([
      'containers',
      'images',
      'volumes',
      'networks',
    ]);
  });
});

describe('matchesLabelFilters (the engine label filter)', () => {
  const labels = { team: 'blue', 'a=b': 'c', empty: '' };
  it('matches a key, or a key and its exact value, splitting at the first "="', () => {
    expect(matchesLabelFilters(labels, undefined)).toBe(true);
    expect(matchesLabelFilters(labels, ['team'])).toBe(true);
    expect(matchesLabelFilters(labels, ['team=blue'])).toBe(true);
    expect(matchesLabelFilters(labels, ['team=blu'])).toBe(false);
    expect(matchesLabelFilters(labels, ['team=blue', 'missing'])).toBe(false);
    expect(matchesLabelFilters(labels, ['empty='])).toBe(true);
    expect(matchesLabelFilters(labels, ['a=b=c'])).toBe(false);
    expect(matchesLabelFilters(null, ['team'])).toBe(false);
    expect(matchesLabelFilters(null, [])).toBe(true);
  });
});
