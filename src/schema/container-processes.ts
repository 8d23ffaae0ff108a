import { builder } from './builder.ts';
import { ContainerProcessesRef } from './refs.ts';

interface ProcessShape {
  titles: readonly string[];
  values: readonly string[];
}

function column(process: ProcessShape, ...names: string[]): string | null {
  const index = process.titles.findIndex((title) => names.includes(title));
  return index === -1 ? null : (process.values[index] ?? null);
}

const ContainerProcessRef = builder.objectRef<ProcessShape>('ContainerProcess').implement({
  description: 'A process running in a container, as `ps` on the host shows it.',
  fields: (t) => ({
    pid: t.int({
      nullable: true,
      description: 'Process id in the host PID namespace.',
      resolve: (p) => {
        const pid = Number(column(p, 'PID'));
        return Number.isInteger(pid) ? pid : null;
      },
    }),
    user: t.string({
      nullable: true,
      description: 'User running it.',
      resolve: (p) => column(p, 'UID', 'USER'),
    }),
    command: t.string({
      nullable: true,
      description: 'Command line.',
      resolve: (p) => column(p, 'CMD', 'COMMAND'),
    }),
    values: t.stringList({
      description: 'Every column, in the order of `titles`.',
      resolve: (p) => [...p.values],
    }),
  }),
});

ContainerProcessesRef.implement({
  description: 'The processes of a running container (`docker top`).',
  fields: (t) => ({
    titles: t.exposeStringList('Titles', {
      description: 'Column titles of `ps`, e.g. UID, PID, CMD.',
    }),
    processes: t.field({
      type: [ContainerProcessRef],
      description: 'One entry per process.',
      resolve: (top) => (top.Processes ?? []).map((values) => ({ titles: top.Titles, values })),
    }),
  }),
});
