import { beforeAll, describe, expect, it } from 'vitest';
import { EngineNotFoundError } from '../../src/docker/errors.ts';
import { startExec } from '../../src/docker/exec.ts';
import { encodeNodeId } from '../../src/schema/node-id.ts';
import { graphql } from '../generated/gql.ts';
import type { ExecInput } from '../generated/graphql.ts';
import { useAppWithFixtures } from '../helpers/app-with-fixtures.ts';
import { expectType } from '../helpers/mutations.ts';

const ExecInContainer = graphql(`
  mutation ExecInContainer($id: String!, $input: ExecInput!) {
    execInContainer(id: $id, input: $input) {
      __typename
      ... on ExecResult {
        exitCode
        stdout
        stderr
        truncated
        timedOut
        container { id dockerId name state }
      }
      ... on MutationError { message }
      ... on InvalidInputError { field }
      ... on EngineFailureError { code }
    }
  }
`);

describe('execInContainer', () => {
  const { app, fixtures } = useAppWithFixtures();
  const runningName = fixtures.name('exec-running');
  const stoppedName = fixtures.name('exec-stopped');
  let runningId = '';

  beforeAll(async () => {
    runningId = await fixtures.runContainer(runningName, {
      Cmd: ['sleep', '3600'],
      Env: ['FROM_CONTAINER=kept'],
    });
    await fixtures.createContainer(stoppedName);
  });

  async function exec(input: ExecInput, id = runningName) {
    const { execInContainer } = await app.query(ExecInContainer, { id, input });
    return execInContainer;
  }

  it('runs a command to its end: exit code, stdout and stderr apart, and the container', async () => {
    const result = expectType(
      await exec({ cmd: ['sh', '-c', 'echo out; echo err >&2; echo more; exit 3'] }),
      'ExecResult',
    );
    expect(result).toMatchObject({
      exitCode: 3,
      stdout: 'out\nmore\n',
      stderr: 'err\n',
      truncated: false,
      timedOut: false,
    });
    expect(result.container).toMatchObject({
      dockerId: runningId,
      name: runningName,
      state: 'RUNNING',
    });

    // The container's global ID names it as well as its name does.
    const byId = expectType(await exec({ cmd: ['true'] }, result.container.id), 'ExecResult');
    expect(byId).toMatchObject({ exitCode: 0, stdout: '', stderr: '' });
  });

  it('reports a program that cannot be started with exit code 126 and the runtime’s words', async () => {
    const result = expectType(await exec({ cmd: ['no-such-program'] }), 'ExecResult');
    expect(result.exitCode).toBe(126);
    expect(result.stdout).toContain('executable file not found');
  });

  it('passes environment, working directory and user', async () => {
    const result = expectType(
      await exec({
        cmd: ['sh', '-c', 'echo "$GREETING $FROM_CONTAINER"; pwd; id -u'],
        env: [{ name: 'GREETING', value: 'hello world' }],
        workingDir: '/tmp',
        user: 'nobody',
      }),
      'ExecResult',
    );
    expect(result).toMatchObject({ exitCode: 0, stdout: 'hello world kept\n/tmp\n65534\n' });
  });

  it('on a TTY merges stderr into stdout with terminal line endings', async () => {
    const result = expectType(
      await exec({ cmd: ['sh', '-c', 'echo out; echo err >&2; exit 1'], tty: true }),
      'ExecResult',
    );
    expect(result).toMatchObject({ exitCode: 1, stdout: 'out\r\nerr\r\n', stderr: '' });
  });

  it('feeds stdin to the process and closes it', async () => {
    const echoed = expectType(
      await exec({ cmd: ['cat'], stdin: 'line one\nline two, no newline' }),
      'ExecResult',
    );
    expect(echoed).toMatchObject({ exitCode: 0, stdout: 'line one\nline two, no newline' });

    // More than a pipe holds: written while the output is read.
    const big = 'x'.repeat(300_000);
    const counted = expectType(await exec({ cmd: ['wc', '-c'], stdin: big }), 'ExecResult');
    expect(counted.stdout.trim()).toBe('300000');

    const empty = expectType(await exec({ cmd: ['cat'], stdin: '' }), 'ExecResult');
    expect(empty).toMatchObject({ exitCode: 0, stdout: '' });
  });

  it('keeps at most maxOutputBytes of output, says so, and still waits for the exit code', async () => {
    const result = expectType(
      await exec({ cmd: ['sh', '-c', 'yes | head -c 2000000; echo done >&2; exit 4'] }),
      'ExecResult',
    );
    expect(result.truncated).toBe(true);
    expect(result.exitCode).toBe(4);
    expect(result.stdout.length).toBe(1024 * 1024);
    expect(result.stdout.startsWith('y\ny\n')).toBe(true);
    // The budget was spent on stdout: what came after is dropped.
    expect(result.stderr).toBe('');

    const small = expectType(
      await exec({ cmd: ['sh', '-c', 'printf 0123456789abcdef'], maxOutputBytes: 10 }),
      'ExecResult',
    );
    expect(small).toMatchObject({ stdout: '0123456789', truncated: true, exitCode: 0 });

    // A character is never cut in half: "é" is two bytes.
    const utf8 = expectType(
      await exec({ cmd: ['printf', 'ééé'], maxOutputBytes: 3 }),
      'ExecResult',
    );
    expect(utf8).toMatchObject({ stdout: 'é', truncated: true });

    const exact = expectType(
      await exec({ cmd: ['printf', 'abc'], maxOutputBytes: 3 }),
      'ExecResult',
    );
    expect(exact).toMatchObject({ stdout: 'abc', truncated: false });
  });

  it('stops waiting after timeoutSeconds, with no exit code', async () => {
    const result = expectType(
      await exec({ cmd: ['sh', '-c', 'echo started; exec sleep 60'], timeoutSeconds: 1 }),
      'ExecResult',
    );
    expect(result).toMatchObject({
      timedOut: true,
      exitCode: null,
      stdout: 'started\n',
      truncated: false,
    });
  });

  it('is a conflict in a stopped container and not found for a missing one', async () => {
    const stopped = expectType(await exec({ cmd: ['true'] }, stoppedName), 'ConflictError');
    expect(stopped.message).toMatch(/is not running/);

    const missing = expectType(
      await exec({ cmd: ['true'] }, fixtures.name('no-such-container')),
      'NotFoundError',
    );
    expect(missing.message).toContain('No such container');
  });

  it('turns a start the engine refuses (it keeps HTTP, no 101) into its error', async () => {
    // The engine answers an exec start it cannot serve with an ordinary 404 answer.
    const refused = startExec(app.docker, 'no-such-exec-instance', false);
    await expect(refused).rejects.toBeInstanceOf(EngineNotFoundError);
    await expect(refused).rejects.toThrow(/no-such-exec-instance/);
  });

  it('refuses bad input before the engine, naming the field', async () => {
    const cases: [ExecInput, string, string?][] = [
      [{ cmd: [] }, 'input.cmd'],
      [{ cmd: [' '] }, 'input.cmd[0]'],
      [{ cmd: ['echo', 'a\0b'] }, 'input.cmd[1]'],
      [{ cmd: ['true'], env: [{ name: 'A=B', value: 'x' }] }, 'input.env[0].name'],
      [
        {
          cmd: ['true'],
          env: [
            { name: 'A', value: '1' },
            { name: 'A', value: '2' },
          ],
        },
        'input.env[1].name',
        'given twice',
      ],
      [{ cmd: ['true'], workingDir: 'tmp' }, 'input.workingDir', 'absolute'],
      [{ cmd: ['true'], user: 'no body' }, 'input.user'],
      [{ cmd: ['true'], maxOutputBytes: 0 }, 'input.maxOutputBytes'],
      [{ cmd: ['true'], maxOutputBytes: 16 * 1024 * 1024 + 1 }, 'input.maxOutputBytes'],
      [{ cmd: ['true'], timeoutSeconds: 0 }, 'input.timeoutSeconds'],
    ];
    const calls = await app.callsDuring(async () => {
      for (const [input, field, words] of cases) {
        const error = expectType(await exec(input), 'InvalidInputError');
        expect(error.field, JSON.stringify(input)).toBe(field);
        if (words) expect(error.message).toContain(words);
      }
      const volumeId = encodeNodeId('Volume', 'local:some-volume');
      const wrongType = expectType(await exec({ cmd: ['true'] }, volumeId), 'InvalidInputError');
      expect(wrongType).toMatchObject({ field: 'id' });
      expect(wrongType.message).toContain('not of a Container');
    });
    expect(calls.filter((call) => call !== 'HEAD /_ping')).toEqual([]);
  });
});
