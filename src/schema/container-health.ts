import { builder } from './builder.ts';
import { HealthStatusEnum } from './container-enums.ts';
import { ContainerHealthRef } from './refs.ts';
import { parseEngineTime } from './shared.ts';

ContainerHealthRef.implement({
  description: "State of a container's healthcheck.",
  fields: (t) => ({
    status: t.field({
      type: HealthStatusEnum,
      description: 'Current result.',
      resolve: (health) => health.Status,
    }),
    failingStreak: t.exposeInt('FailingStreak', { description: 'Checks failed in a row.' }),
    log: t.field({
      type: [HealthcheckResultRef],
      description: 'The last checks, oldest first (the engine keeps five).',
      resolve: (health) => health.Log ?? [],
    }),
  }),
});

const HealthcheckResultRef = builder
  .objectRef<{ Start: string; End: string; ExitCode: number; Output: string }>('HealthcheckResult')
  .implement({
    description: 'One run of a healthcheck.',
    fields: (t) => ({
      start: t.field({
        type: 'DateTime',
        nullable: true,
        description: 'When it started.',
        resolve: (r) => parseEngineTime(r.Start),
      }),
      end: t.field({
        type: 'DateTime',
        nullable: true,
        description: 'When it ended.',
        resolve: (r) => parseEngineTime(r.End),
      }),
      exitCode: t.exposeInt('ExitCode', {
        description: '0 healthy, 1 unhealthy, other values are errors.',
      }),
      output: t.exposeString('Output', {
        nullable: true,
        description:
          'What the check printed (the engine keeps the first 4 KiB). Needs the `logs` permission, as the container’s own output does.',
      }),
    }),
  });
