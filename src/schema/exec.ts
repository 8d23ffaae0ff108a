import type { GraphQLContext } from '../context.ts';
import { toEnvList } from '../docker/container-spec.ts';
import { EngineNotFoundError, InvalidInputError } from '../docker/errors.ts';
import {
  createExec,
  type EngineExecInspect,
  type ExecOutcome,
  type ExecSpec,
  inspectExec,
  inspectExecState,
  runExec,
  startDetachedExec,
} from '../docker/exec.ts';
import { type BuilderTypes, builder } from './builder.ts';
import { mutationErrors } from './mutation-errors.ts';
import { engineReferenceOf } from './node-id.ts';
import { readBackContainer } from './read-back.ts';
import { type ContainerRecord, ContainerRef } from './refs.ts';
import { KeyValueInput } from './shared.ts';

const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
const MAX_TIMEOUT_SECONDS = 24 * 60 * 60;

/** How a process runs, alike for `exec` and `execDetached`: its environment, directory, user. */
function processFields(t: PothosSchemaTypes.InputFieldBuilder<BuilderTypes, 'InputObject'>) {
  return {
    env: t.field({
      type: [KeyValueInput],
      required: false,
      description: 'Environment variables added to the container’s own for this process.',
    }),
    workingDir: t.string({
      required: false,
      description: 'Absolute directory it runs in; the container’s working directory when omitted.',
    }),
    user: t.string({
      required: false,
      description:
        'User it runs as: `user`, `user:group`, `uid` or `uid:gid`; the container’s user when omitted.',
    }),
  };
}

const ExecInput = builder.inputType('ExecInput', {
  description: 'A command to run in a running container (`docker exec`).',
  fields: (t) => ({
    cmd: t.stringList({
      required: true,
      description:
        'The program and its arguments, e.g. ["sh", "-c", "ls /"]; no shell is added. Not empty.',
    }),
    ...processFields(t),
    tty: t.boolean({
      required: false,
      defaultValue: false,
      description:
        'Run it on a pseudo-terminal: stderr then arrives merged into stdout, and lines end in "\\r\\n". Input given in `stdin` is echoed.',
    }),
    stdin: t.string({
      required: false,
      description:
        'Text written to the process’s standard input, which is then closed. Without it the process has no standard input.',
    }),
    maxOutputBytes: t.int({
      required: false,
      defaultValue: DEFAULT_MAX_OUTPUT_BYTES,
      description: `Bytes of stdout and stderr together that are kept, from 1 to ${MAX_OUTPUT_BYTES} (16 MiB); 1 MiB unless given. Output beyond it is read and dropped while the process runs to its end, and \`truncated\` is set.`,
    }),
    timeoutSeconds: t.int({
      required: false,
      description: `Stop waiting after this many seconds (1 to ${MAX_TIMEOUT_SECONDS}). The engine cannot stop an exec: the process keeps running in the container, \`timedOut\` is set and \`exitCode\` is null. Without it the mutation waits as long as the process runs (or until the client goes away).`,
    }),
  }),
});

const ExecResultRef = builder
  .objectRef<ExecOutcome & { readonly container: ContainerRecord }>('ExecResult')
  .implement({
    description: 'What a command run in a container produced.',
    fields: (t) => ({
      exitCode: t.int({
        nullable: true,
        description:
          'Its exit status: 0 for success; 126 when the program could not be started (the runtime’s message is then in `stdout`). Null when it had not exited when dockergraph stopped waiting (`timedOut`, or it closed its output and kept running).',
        resolve: (result) => result.exitCode,
      }),
      stdout: t.exposeString('stdout', {
        description:
          'Its standard output, UTF-8 decoded (invalid bytes become U+FFFD). With `tty`, everything the terminal showed.',
      }),
      stderr: t.exposeString('stderr', {
        description: 'Its standard error, UTF-8 decoded; always empty with `tty`.',
      }),
      truncated: t.exposeBoolean('truncated', {
        description: 'Output beyond `maxOutputBytes` was dropped.',
      }),
      timedOut: t.exposeBoolean('timedOut', {
        description:
          '`timeoutSeconds` passed before the process ended: it may still be running in the container.',
      }),
      container: t.field({
        type: ContainerRef,
        description: 'The container it ran in, read after the command ended.',
        resolve: (result) => result.container,
      }),
    }),
  });

const userPattern = /^[^:\s]+(:[^:\s]+)?$/;

/** Checks the input field by field and turns it into the engine's terms. */
function toExecSpec(input: typeof ExecInput.$inferInput): {
  spec: ExecSpec;
  maxOutputBytes: number;
  timeoutMs: number | undefined;
} {
  if (input.cmd.length === 0) throw new InvalidInputError('input.cmd', 'must name a program');
  if (input.cmd[0]?.trim() === '') throw new InvalidInputError('input.cmd[0]', 'must not be empty');
  input.cmd.forEach((arg, index) => {
    if (arg.includes('\0'))
      throw new InvalidInputError(`input.cmd[${index}]`, 'must not contain NUL');
  });
  const env = input.env ? toEnvList('input.env', input.env) : undefined;
  const { workingDir, user } = input;
  if (workingDir !== null && workingDir !== undefined && !workingDir.startsWith('/')) {
    throw new InvalidInputError('input.workingDir', `"${workingDir}" is not an absolute path`);
  }
  if (user !== null && user !== undefined && !userPattern.test(user)) {
    throw new InvalidInputError(
      'input.user',
      `"${user}" is not "user", "user:group", "uid" or "uid:gid"`,
    );
  }
  const maxOutputBytes = input.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  if (maxOutputBytes < 1 || maxOutputBytes > MAX_OUTPUT_BYTES) {
    throw new InvalidInputError(
      'input.maxOutputBytes',
      `${maxOutputBytes} is not between 1 and ${MAX_OUTPUT_BYTES}`,
    );
  }
  const { timeoutSeconds } = input;
  if (
    timeoutSeconds !== null &&
    timeoutSeconds !== undefined &&
    (timeoutSeconds < 1 || timeoutSeconds > MAX_TIMEOUT_SECONDS)
  ) {
    throw new InvalidInputError(
      'input.timeoutSeconds',
      `${timeoutSeconds} is not between 1 and ${MAX_TIMEOUT_SECONDS}`,
    );
  }
  const spec: ExecSpec = {
    cmd: input.cmd,
    tty: input.tty ?? false,
    ...(env ? { env } : {}),
    ...(workingDir ? { workingDir } : {}),
    ...(user ? { user } : {}),
    ...(input.stdin !== null && input.stdin !== undefined ? { stdin: input.stdin } : {}),
  };
  return {
    spec,
    maxOutputBytes,
    timeoutMs: timeoutSeconds ? timeoutSeconds * 1000 : undefined,
  };
}

builder.mutationFields((t) => ({
  execInContainer: t.field({
    type: ExecResultRef,
    description:
      'Runs a command in a running container and waits for it to end (`docker exec` without `-d`): its exit code and its output, stdout and stderr apart. A stopped or paused container is a conflict.',
    errors: { types: [...mutationErrors] },
    args: {
      id: t.arg.string({
        required: true,
        description: 'The container: global ID, engine id, unique id prefix or name.',
      }),
      input: t.arg({ type: ExecInput, required: true, description: 'The command.' }),
    },
    resolve: async (_root, { id, input }, context) => {
      const container = engineReferenceOf(context.engineName, 'Container', 'id', id);
      const { spec, maxOutputBytes, timeoutMs } = toExecSpec(input);
      const outcome = await runExec(context.docker, container, spec, {
        maxOutputBytes,
        ...(timeoutMs ? { timeoutMs } : {}),
      });
      const ranIn = await readBackContainer(context, outcome.containerId);
      if (!ranIn) {
        throw new EngineNotFoundError(
          'NOT_FOUND',
          `container "${container}" was removed while the command ran`,
          404,
        );
      }
      return { ...outcome, container: ranIn };
    },
  }),
}));

const ExecDetachedInput = builder.inputType('ExecDetachedInput', {
  description: 'A command started in a running container and left running (`docker exec -d`).',
  fields: (t) => ({
    cmd: t.stringList({
      required: true,
      description:
        'The program and its arguments, e.g. ["sleep", "60"]; no shell is added. Not empty.',
    }),
    ...processFields(t),
    tty: t.boolean({
      required: false,
      defaultValue: false,
      description: 'Run it on a pseudo-terminal (its output is discarded either way).',
    }),
  }),
});

/** An exec instance as the engine reports it, with the container it runs in when visible. */
interface ExecRecord {
  readonly inspect: EngineExecInspect;
  readonly container: ContainerRecord;
}

const ExecRef = builder.objectRef<ExecRecord>('Exec').implement({
  description:
    'A process started in a container by `docker exec` (`GET /exec/{id}/json`). The engine forgets exec instances some minutes after they end, and when their container stops.',
  fields: (t) => ({
    id: t.string({
      description: 'The engine’s id of the exec instance, for `Query.exec`.',
      resolve: (exec) => exec.inspect.ID,
    }),
    running: t.boolean({
      description: 'Whether the process is still running.',
      resolve: (exec) => exec.inspect.Running,
    }),
    exitCode: t.int({
      nullable: true,
      description:
        'Its exit status once it ended; null while it runs (and before it started). 126: the program could not be started, 127: not found.',
      resolve: (exec) => (exec.inspect.Running ? null : exec.inspect.ExitCode),
    }),
    pid: t.int({
      nullable: true,
      description:
        'The process id on the host (not in the container’s PID namespace); null before it started.',
      resolve: (exec) => (exec.inspect.Pid > 0 ? exec.inspect.Pid : null),
    }),
    command: t.stringList({
      description: 'The program and its arguments.',
      resolve: (exec) => {
        const process = exec.inspect.ProcessConfig;
        return [
          ...(process?.entrypoint ? [process.entrypoint] : []),
          ...(process?.arguments ?? []),
        ];
      },
    }),
    tty: t.boolean({
      description: 'Whether it runs on a pseudo-terminal.',
      resolve: (exec) => exec.inspect.ProcessConfig?.tty === true,
    }),
    user: t.string({
      nullable: true,
      description: 'The user it runs as; null for the container’s user.',
      resolve: (exec) => exec.inspect.ProcessConfig?.user || null,
    }),
    container: t.field({
      type: ContainerRef,
      description: 'The container it runs in.',
      resolve: (exec) => exec.container,
    }),
  }),
});

/**
 * The exec `execId` with its container, or null when the engine does not know it,
 * or the principal's label limit hides its container (answered as missing).
 */
async function loadExec(
  context: GraphQLContext,
  execId: string,
  inspect: typeof inspectExec = inspectExec,
): Promise<ExecRecord | null> {
  let inspected: EngineExecInspect;
  try {
    inspected = await inspect(context.docker, execId);
  } catch (error) {
    if (error instanceof EngineNotFoundError) return null;
    throw error;
  }
  const container = await context.loaders.containers.inspect.load(inspected.ContainerID);
  if (!container) return null;
  return {
    inspect: inspected,
    container: { engine: context.engineName, id: container.Id, summary: null, inspect: container },
  };
}

/** Exec ids are 64 hexadecimal digits. */
const execIdPattern = /^[0-9a-f]{64}$/;

builder.queryFields((t) => ({
  exec: t.field({
    type: ExecRef,
    nullable: true,
    description:
      'A process started by `docker exec` (`execDetached`, `execInContainer` or a terminal): whether it runs, its exit code. Null when the engine does not know it. Podman before 4.6 cannot tell whether an `execDetached` process ended, nor its exit code: such an exec fails with code NOT_IMPLEMENTED (extensions.engine "podman").',
    args: {
      id: t.arg.string({ required: true, description: 'The exec’s id (64 hexadecimal digits).' }),
    },
    resolve: (_root, { id }, context) => {
      if (!execIdPattern.test(id)) {
        throw new InvalidInputError('id', `"${id}" is not an exec id (64 hexadecimal digits)`);
      }
      return loadExec(context, id, inspectExecState);
    },
  }),
}));

builder.mutationFields((t) => ({
  execDetached: t.field({
    type: ExecRef,
    description:
      'Starts a command in a running container and returns at once, leaving it running (`docker exec -d`); its output is discarded. Follow it with `Query.exec` (not on Podman before 4.6, which cannot tell when a detached exec ended). A stopped or paused container is a conflict.',
    errors: { types: [...mutationErrors] },
    args: {
      id: t.arg.string({
        required: true,
        description: 'The container: global ID, engine id, unique id prefix or name.',
      }),
      input: t.arg({ type: ExecDetachedInput, required: true, description: 'The command.' }),
    },
    resolve: async (_root, { id, input }, context) => {
      const container = engineReferenceOf(context.engineName, 'Container', 'id', id);
      const { spec } = toExecSpec({
        cmd: input.cmd,
        env: input.env,
        workingDir: input.workingDir,
        user: input.user,
        tty: input.tty,
      });
      const execId = await createExec(context.docker, container, spec, 'none');
      await startDetachedExec(context.docker, execId, spec.tty);
      const exec = await loadExec(context, execId);
      if (!exec) {
        throw new EngineNotFoundError(
          'NOT_FOUND',
          `container "${container}" was removed as the command started`,
          404,
        );
      }
      return exec;
    },
  }),
}));
