import { splitPortKey } from '../accessors/container.ts';
import type { EngineContainerConfig } from '../docker/containers.ts';
import { builder } from './builder.ts';
import { PortProtocolEnum, protocolOf } from './container-enums.ts';
import { ContainerConfigRef, EnvironmentVariableRef, parseEnv } from './refs.ts';
import { LabelRef, toKeyValues } from './shared.ts';

const ExposedPortRef = builder
  .objectRef<{ port: number; protocol: string }>('ExposedPort')
  .implement({
    description: 'A port a container listens on, as declared by EXPOSE or the create request.',
    fields: (t) => ({
      port: t.exposeInt('port', { description: 'Port number.' }),
      protocol: t.field({
        type: PortProtocolEnum,
        description: 'Transport protocol.',
        resolve: (p) => protocolOf(p.protocol),
      }),
    }),
  });

const HealthcheckConfigRef = builder
  .objectRef<NonNullable<EngineContainerConfig['Healthcheck']>>('HealthcheckConfig')
  .implement({
    description: 'How a container checks its own health.',
    fields: (t) => ({
      test: t.stringList({
        description: 'The check: ["NONE"], ["CMD", args...] or ["CMD-SHELL", command].',
        resolve: (h) => h.Test ?? [],
      }),
      intervalNanoseconds: t.field({
        type: 'SafeInt',
        nullable: true,
        description: 'Time between checks.',
        resolve: (h) => h.Interval || null,
      }),
      timeoutNanoseconds: t.field({
        type: 'SafeInt',
        nullable: true,
        description: 'Time a check may take.',
        resolve: (h) => h.Timeout || null,
      }),
      retries: t.int({
        nullable: true,
        description: 'Failures in a row before unhealthy.',
        resolve: (h) => h.Retries || null,
      }),
      startPeriodNanoseconds: t.field({
        type: 'SafeInt',
        nullable: true,
        description: 'Grace period after start during which failures do not count.',
        resolve: (h) => h.StartPeriod || null,
      }),
    }),
  });

ContainerConfigRef.implement({
  description:
    'Configuration of a container, or the defaults an image gives the containers made from it.',
  fields: (t) => ({
    cmd: t.stringList({
      nullable: true,
      description: 'Command (arguments to the entrypoint).',
      resolve: (c) => c.Cmd ?? null,
    }),
    entrypoint: t.stringList({
      nullable: true,
      description: 'Entrypoint.',
      resolve: (c) => c.Entrypoint ?? null,
    }),
    env: t.field({
      type: [EnvironmentVariableRef],
      description: 'Environment variables, in order.',
      resolve: (c) => parseEnv(c.Env),
    }),
    workingDir: t.string({
      nullable: true,
      description: 'Working directory of the process.',
      resolve: (c) => c.WorkingDir || null,
    }),
    user: t.string({
      nullable: true,
      description: 'User (and group) the process runs as.',
      resolve: (c) => c.User || null,
    }),
    hostname: t.string({
      nullable: true,
      description: 'Hostname inside the container.',
      resolve: (c) => c.Hostname || null,
    }),
    domainname: t.string({
      nullable: true,
      description: 'Domain name inside the container.',
      resolve: (c) => c.Domainname || null,
    }),
    tty: t.boolean({
      description: 'Whether a pseudo-terminal is attached.',
      resolve: (c) => c.Tty ?? false,
    }),
    openStdin: t.boolean({
      description: 'Whether standard input stays open.',
      resolve: (c) => c.OpenStdin ?? false,
    }),
    exposedPorts: t.field({
      type: [ExposedPortRef],
      description: 'Ports it listens on.',
      resolve: (c) =>
        Object.keys(c.ExposedPorts ?? {})
          .map(splitPortKey)
          .sort((a, b) => a.port - b.port),
    }),
    image: t.string({
      nullable: true,
      description: 'Image reference it was created from.',
      resolve: (c) => c.Image || null,
    }),
    volumes: t.stringList({
      description: 'Paths declared as volumes.',
      resolve: (c) => Object.keys(c.Volumes ?? {}).sort(),
    }),
    stopSignal: t.string({
      nullable: true,
      description: 'Signal that stops it, e.g. "SIGTERM".',
      resolve: (c) => c.StopSignal || null,
    }),
    stopTimeout: t.int({
      nullable: true,
      description: 'Seconds to wait after the stop signal before killing it.',
      resolve: (c) => c.StopTimeout ?? null,
    }),
    healthcheck: t.field({
      type: HealthcheckConfigRef,
      nullable: true,
      description: 'Its healthcheck; null when none is configured.',
      resolve: (c) => c.Healthcheck ?? null,
    }),
    labels: t.field({
      type: [LabelRef],
      description: 'Labels.',
      resolve: (c) => toKeyValues(c.Labels),
    }),
  }),
});
