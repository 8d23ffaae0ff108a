import { ComposeInfoRef } from './refs.ts';

ComposeInfoRef.implement({
  description: 'Docker Compose facts, read from the labels Compose sets.',
  fields: (t) => ({
    project: t.exposeString('project', { description: 'Compose project name.' }),
    service: t.string({
      nullable: true,
      description: 'Service name.',
      resolve: (c) => c.labels['com.docker.compose.service'] ?? null,
    }),
    containerNumber: t.int({
      nullable: true,
      description: 'Replica number within the service.',
      resolve: (c) => {
        const number = Number(c.labels['com.docker.compose.container-number']);
        return Number.isInteger(number) ? number : null;
      },
    }),
    oneOff: t.boolean({
      description: 'Whether it was made by `compose run`.',
      resolve: (c) => c.labels['com.docker.compose.oneoff'] === 'True',
    }),
    workingDir: t.string({
      nullable: true,
      description: 'Folder the project was started from.',
      resolve: (c) => c.labels['com.docker.compose.project.working_dir'] ?? null,
    }),
    configFiles: t.stringList({
      description: 'Compose files of the project.',
      resolve: (c) =>
        c.labels['com.docker.compose.project.config_files']?.split(',').filter(Boolean) ?? [],
    }),
  }),
});
