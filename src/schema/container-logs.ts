import { builder } from './builder.ts';
import { CONTAINER_LOG_LIMITS, ContainerLogsRef, LogLineRef } from './refs.ts';

const LogStreamEnum = builder.enumType('LogStream', {
  description: 'Which output stream a log line was written to.',
  values: {
    STDOUT: {
      value: 'stdout',
      description: 'Standard output; all output of a container with a TTY.',
    },
    STDERR: { value: 'stderr', description: 'Standard error.' },
  } as const,
});

LogLineRef.implement({
  description: 'One line a container wrote.',
  fields: (t) => ({
    stream: t.field({
      type: LogStreamEnum,
      description: 'Where it was written.',
      resolve: (line) => (line.stream === 'stderr' ? 'stderr' : 'stdout'),
    }),
    time: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it was written; null when timestamps were not asked for.',
      resolve: (line) => (line.timestamp ? new Date(line.timestamp) : null),
    }),
    timestamp: t.exposeString('timestamp', {
      nullable: true,
      description:
        "The engine's RFC 3339 timestamp with nanoseconds, for ordering lines written in the same millisecond.",
    }),
    message: t.exposeString('message', { description: 'The text, without its line break.' }),
  }),
});

ContainerLogsRef.implement({
  description: 'Lines a container wrote, oldest first.',
  fields: (t) => ({
    lines: t.field({
      type: [LogLineRef],
      description: 'The lines.',
      resolve: (logs) => logs.lines,
    }),
    truncated: t.exposeBoolean('truncated', {
      description: `Whether more output was left unread because the answer reached its limit (${CONTAINER_LOG_LIMITS.maxLines} lines or 8 MiB); ask for less with tail, since or until.`,
    }),
  }),
});
