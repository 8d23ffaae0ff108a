import { readSwarmLogs, type TaskFilters } from '../docker/swarm-services.ts';
import { builder } from './builder.ts';
import { invalidArgument } from './errors.ts';
import { toLabelFilter } from './filter-inputs.ts';
import { paginate } from './pagination.ts';
import {
  ContainerRef,
  ServiceRef,
  SwarmLogsRef,
  SwarmNodeRef,
  TaskRef,
  toContainerRecord,
} from './refs.ts';
import { logSinceArg, logTimestampsArg, parseEngineTime, toLogOptions } from './shared.ts';
import { swarmReferenceOf } from './swarm-access.ts';

/** Most lines and bytes one task `logs` field returns. */
const TASK_LOG_LIMITS = { maxLines: 10_000, maxBytes: 8 * 1024 * 1024 };

TaskRef.implement({
  description:
    'A task of a swarm service: one container the swarm runs (or ran) on a node for one slot.',
  fields: (t) => ({
    dockerId: t.string({ description: "The engine's id.", resolve: ({ task }) => task.ID }),
    name: t.string({
      description:
        'Its name as `docker service ps` shows it: service.slot (or service.node for global tasks).',
      resolve: async ({ task }, _args, context) => {
        const service = await context.loaders.swarm.serviceById.load(task.ServiceID);
        const base = service?.Spec.Name ?? task.ServiceID;
        return `${base}.${task.Slot ?? task.NodeID ?? ''}`;
      },
    }),
    slot: t.int({
      nullable: true,
      description: 'Its slot (replica number) in a replicated service; null for global tasks.',
      resolve: ({ task }) => task.Slot || null,
    }),
    state: t.string({
      description:
        'Its state: new, pending, assigned, accepted, preparing, starting, running, complete, shutdown, failed, rejected, orphaned, remove.',
      resolve: ({ task }) => task.Status.State,
    }),
    desiredState: t.string({
      description: 'The state the swarm wants it in: running, shutdown, accepted.',
      resolve: ({ task }) => task.DesiredState,
    }),
    message: t.string({
      nullable: true,
      description: 'What the swarm says of its state, e.g. "started".',
      resolve: ({ task }) => task.Status.Message || null,
    }),
    error: t.string({
      nullable: true,
      description: 'Why it failed or was rejected; null when it did not.',
      resolve: ({ task }) => task.Status.Err || null,
    }),
    exitCode: t.int({
      nullable: true,
      description: 'Exit code of its container once it ended; null while running.',
      resolve: ({ task }) => {
        const code = task.Status.ContainerStatus?.ExitCode;
        const ended = ['complete', 'failed', 'shutdown', 'rejected'].includes(task.Status.State);
        return ended && code !== undefined ? code : null;
      },
    }),
    image: t.string({
      description: 'The image it runs.',
      resolve: ({ task }) => task.Spec.ContainerSpec?.Image ?? '',
    }),
    createdAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the swarm created it.',
      resolve: ({ task }) => parseEngineTime(task.CreatedAt),
    }),
    updatedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it last changed.',
      resolve: ({ task }) => parseEngineTime(task.UpdatedAt),
    }),
    statusAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it reached its current state.',
      resolve: ({ task }) => parseEngineTime(task.Status.Timestamp),
    }),
    containerId: t.string({
      nullable: true,
      description: 'The engine id of its container on its node; null before it has one.',
      resolve: ({ task }) => task.Status.ContainerStatus?.ContainerID || null,
    }),
    service: t.field({
      type: ServiceRef,
      nullable: true,
      description: 'Its service; null when the service is gone.',
      resolve: async ({ engine, task }, _args, context) => {
        const service = await context.loaders.swarm.serviceById.load(task.ServiceID);
        return service ? { engine, service } : null;
      },
    }),
    node: t.field({
      type: SwarmNodeRef,
      nullable: true,
      description: 'The node it is assigned to; null before it is assigned.',
      resolve: async ({ engine, task }, _args, context) => {
        if (!task.NodeID) return null;
        const node = await context.loaders.swarm.nodeById.load(task.NodeID);
        return node ? { engine, node } : null;
      },
    }),
    container: t.field({
      type: ContainerRef,
      nullable: true,
      description:
        'Its container, when it runs on the node of the engine this server talks to (other nodes’ containers are on their own engines); null otherwise.',
      resolve: async ({ engine, task }, _args, context) => {
        const id = task.Status.ContainerStatus?.ContainerID;
        if (!id || !task.NodeID) return null;
        if ((await context.loaders.swarm.localNodeId()) !== task.NodeID) return null;
        const summary = await context.loaders.containers.summaryById.load(id);
        return summary ? toContainerRecord(engine, summary) : null;
      },
    }),
    logs: t.field({
      type: SwarmLogsRef,
      description: 'What it wrote (`docker service logs <task>`), demultiplexed into lines.',
      args: {
        tail: t.arg.int({ required: false, description: 'Only the last this many lines.' }),
        since: logSinceArg(t.arg, 'Only lines written at or after this time.'),
        timestamps: logTimestampsArg(t.arg),
      },
      resolve: ({ task }, args, context) => {
        const { until: _until, ...options } = toLogOptions(args);
        return readSwarmLogs(
          context.docker,
          { task: task.ID },
          { ...options, tty: task.Spec.ContainerSpec?.TTY === true },
          TASK_LOG_LIMITS,
        );
      },
    }),
  }),
});

const DesiredStateEnum = builder.enumType('TaskDesiredState', {
  description: 'The state the swarm wants a task in.',
  values: {
    RUNNING: { value: 'running', description: 'It should run.' },
    SHUTDOWN: { value: 'shutdown', description: 'It was replaced or stopped.' },
    ACCEPTED: { value: 'accepted', description: 'Accepted, not yet started.' },
  } as const,
});

const TaskFilterInput = builder.inputType('TaskFilter', {
  description: 'Which tasks to list. Conditions of different fields must all hold.',
  fields: (t) => ({
    ids: t.stringList({ required: false, description: 'Engine ids or id prefixes.' }),
    names: t.stringList({ required: false, description: 'Task names.' }),
    labels: t.stringList({ required: false, description: 'Labels as `key` or `key=value`.' }),
    services: t.stringList({ required: false, description: 'Service ids or names.' }),
    nodes: t.stringList({ required: false, description: 'Node ids or names.' }),
    desiredStates: t.field({
      type: [DesiredStateEnum],
      required: false,
      description: 'Desired states.',
    }),
  }),
});

builder.queryFields((t) => ({
  tasks: t.connection(
    {
      type: TaskRef,
      description: 'Tasks of the swarm this engine manages, newest first.',
      args: {
        filter: t.arg({
          type: TaskFilterInput,
          required: false,
          description: 'Which tasks to list.',
        }),
      },
      resolve: async (_root, args, context) => {
        const given = toLabelFilter(args.filter);
        given.services?.forEach((service, index) => {
          if (service.trim() === '')
            throw invalidArgument(`filter.services[${index}]`, 'must not be empty');
        });
        const filters: TaskFilters = {
          ...given,
          ...(given.services
            ? {
                services: given.services.map((service, index) =>
                  swarmReferenceOf(context, 'Service', `filter.services[${index}]`, service),
                ),
              }
            : {}),
        };
        const tasks = await context.loaders.swarm.taskList(filters);
        return paginate(
          tasks.map((task) => ({ engine: context.engineName, task })),
          args,
          ({ task }) =>
            `${String(9_999_999_999_999 - Date.parse(task.CreatedAt)).padStart(13, '0')}:${task.ID}`,
        );
      },
    },
    { name: 'TaskConnection', description: 'A page of tasks.' },
    { name: 'TaskEdge', description: 'A task and its cursor.' },
  ),
}));
