// The servers' log lines on stdout: written after the turn that logged them, in order, and
// none lost when the process exits in the same turn (checked in a process of its own).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const logger = fileURLToPath(new URL('../../src/logger.ts', import.meta.url));

/** Runs `body` as a module with `writeStdoutPerTurn` and `createLogger` imported; its stdout. */
function stdoutOf(body: string): string {
  return execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `import { createLogger, writeStdoutPerTurn } from ${JSON.stringify(logger)};\n${body}`,
    ],
    { encoding: 'utf8' },
  );
}

describe('writeStdoutPerTurn', () => {
  it('writes the lines of a turn after what that turn wrote at once, in order', () => {
    const output = stdoutOf(`
      const log = createLogger('info', writeStdoutPerTurn);
      log.info('first');
      log.info('second');
      process.stdout.write('written at once\\n');
      setImmediate(() => log.info('next turn'));
    `);
    const lines = output.trim().split('\n');
    expect(lines[0]).toBe('written at once');
    expect(lines.slice(1).map((line) => JSON.parse(line).msg)).toEqual([
      'first',
      'second',
      'next turn',
    ]);
  });

  it('writes what is pending when the process exits in the same turn', () => {
    const output = stdoutOf(`
      const log = createLogger('info', writeStdoutPerTurn);
      for (let index = 0; index < 3; index++) log.info('line', { index });
      process.exit(0);
    `);
    expect(
      output
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).index),
    ).toEqual([0, 1, 2]);
  });
});
