import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEngineReport, runEngineScript } from '../../src/docker/embedded-engine.ts';

// A state folder no engine runs in: env and status answer without root or a dockerd.
const dir = mkdtempSync(join(tmpdir(), 'dg-engine-"quoted\\'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('scripts/engine.sh --json', () => {
  it('reports where the engine answers as one JSON line, even for odd folder names', async () => {
    const report = await runEngineScript('env', { dir, netns: 'dgunitnone' });
    expect(report).toEqual({ dockerHost: `unix://${dir}/docker.sock` });
  });

  it('reports a stopped engine without failing', async () => {
    await expect(runEngineScript('status', { dir, netns: 'dgunitnone' })).resolves.toEqual({
      running: false,
    });
  });
});

describe('parseEngineReport', () => {
  it('reads what start printed', () => {
    const stdout = '{"dockerHost":"unix:///tmp/dg/docker.sock","started":false}\n';
    expect(parseEngineReport('start', stdout)).toEqual({
      dockerHost: 'unix:///tmp/dg/docker.sock',
      started: false,
    });
  });

  it('names the field a report lacks', () => {
    expect(() => parseEngineReport('start', '{"dockerHost":"unix:///x"}\n')).toThrow(
      'scripts/engine.sh start --json reported no boolean "started"',
    );
  });

  it('refuses anything but a single JSON line', () => {
    for (const stdout of [
      'export DOCKER_HOST=unix:///x\n',
      '{"running":true}\n{"running":true}\n',
      '',
    ]) {
      expect(() => parseEngineReport('status', stdout)).toThrow(
        'scripts/engine.sh status --json printed no single JSON line',
      );
    }
  });
});
