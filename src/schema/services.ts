import { compareText } from '../compare-text.ts';
import type { GraphQLContext } from '../context.ts';
import { EngineNotFoundError, InvalidInputError } from '../docker/errors.ts';
import { givenFields } from '../docker/given-fields.ts';
import { bufferDroppingOldest, type Delivered } from '../docker/live-buffer.ts';
import {
  applyServiceChanges,
  type EngineServiceSpec,
  type EngineUpdateConfig,
  type ServiceChanges,
  type ServiceDefinition,
  type ServiceFileSpec,
  toServiceSpec,
} from '../docker/service-spec.ts';
import {
  createService,
  type EngineService,
  type EngineTask,
  followSwarmLogs,
  readSwarmLogs,
  removeService,
  type ServiceFilters,
  type SwarmLogLine,
  updateService,
} from '../docker/swarm-services.ts';
import { describePrincipal } from '../security/principal.ts';
import { forbiddenError } from './access.ts';
import { builder } from './builder.ts';
import { labelFilterField, toLabelFilter } from './filter-inputs.ts';
import { labelsForCreate, limitServiceCreate } from './label-access.ts';
import { mutationErrors } from './mutation-errors.ts';
import { paginate } from './pagination.ts';
import {
  ConfigRef,
  EnvironmentVariableRef,
  LogLineRef,
  NetworkRef,
  parseEnv,
  SecretRef,
  type ServiceRecord,
  ServiceRef,
  STACK_NAMESPACE_LABEL,
  StackRef,
  SwarmLogsRef,
  SwarmNodeRef,
  TaskRef,
} from './refs.ts';
import {
  droppedLinesField,
  KeyValueInput,
  labelFields,
  logSinceArg,
  logStreamArgs,
  logTimestampsArg,
  parseEngineTime,
  toLogOptions,
  toStringMap,
} from './shared.ts';
import { swarmReferenceOf, visibleService, visibleSwarmBlob } from './swarm-access.ts';

const NANOS_PER_SECOND = 1_000_000_000;

/** Most lines and bytes one service or task `logs` field returns. */
export const SWARM_LOG_LIMITS = { maxLines: 10_000, maxBytes: 8 * 1024 * 1024 };

// ---------------------------------------------------------------------------
// Logs (shared with tasks through SwarmLogsRef)

const SwarmLogLineRef = builder.objectRef<SwarmLogLine>('SwarmLogLine').implement({
  description: 'One line a task of a service wrote, with the task and node it came from.',
  fields: (t) => ({
    line: t.field({
      type: LogLineRef,
      description: 'The line: stream, time and text.',
      resolve: (line) => line,
    }),
    task: t.field({
      type: TaskRef,
      nullable: true,
      description: 'The task that wrote it; null when it is gone or not visible.',
      resolve: async (line, _args, context) => {
        if (!line.taskId) return null;
        const task = await context.loaders.swarm.taskById.load(line.taskId);
        return task ? { engine: context.engineName, task } : null;
      },
    }),
    taskId: t.exposeString('taskId', {
      nullable: true,
      description: 'The engine id of the task that wrote it.',
    }),
    nodeId: t.exposeString('nodeId', {
      nullable: true,
      description: 'The engine id of the node the task ran on.',
    }),
  }),
});

SwarmLogsRef.implement({
  description:
    'Lines the tasks of a service (or one task) wrote, as the manager gathers them from the nodes.',
  fields: (t) => ({
    lines: t.field({
      type: [SwarmLogLineRef],
      description: 'The lines, in the order the manager delivered them.',
      resolve: (logs) => logs.lines,
    }),
    truncated: t.exposeBoolean('truncated', {
      description: `Whether more output was left unread because the answer reached its limit (${SWARM_LOG_LIMITS.maxLines} lines or 8 MiB).`,
    }),
  }),
});

// ---------------------------------------------------------------------------
// The service

const ServiceModeEnum = builder.enumType('ServiceMode', {
  description: 'How a service places its tasks.',
  values: {
    REPLICATED: { value: 'replicated', description: 'A given number of tasks, spread over nodes.' },
    GLOBAL: { value: 'global', description: 'One task on every node its placement allows.' },
    REPLICATED_JOB: {
      value: 'replicated-job',
      description: 'A job run to completion a number of times.',
    },
    GLOBAL_JOB: { value: 'global-job', description: 'A job run once on every node.' },
  } as const,
});

type ServiceModeValue = (typeof ServiceModeEnum)['$inferType'];

function modeOf(spec: EngineServiceSpec): ServiceModeValue {
  if (spec.Mode?.Global) return 'global';
  if (spec.Mode?.ReplicatedJob) return 'replicated-job';
  if (spec.Mode?.GlobalJob) return 'global-job';
  return 'replicated';
}

const UpdateStateEnum = builder.enumType('ServiceUpdateState', {
  description: 'Where a rolling update (or its rollback) of a service stands.',
  values: {
    UPDATING: { value: 'updating', description: 'Tasks are being replaced.' },
    PAUSED: { value: 'paused', description: 'Stopped after failures (failure action "pause").' },
    COMPLETED: { value: 'completed', description: 'Every task runs the new spec.' },
    ROLLBACK_STARTED: {
      value: 'rollback_started',
      description: 'Going back to the previous spec.',
    },
    ROLLBACK_PAUSED: {
      value: 'rollback_paused',
      description: 'The rollback stopped after failures.',
    },
    ROLLBACK_COMPLETED: {
      value: 'rollback_completed',
      description: 'Every task runs the previous spec again.',
    },
  } as const,
});

type UpdateStateValue = (typeof UpdateStateEnum)['$inferType'];

const updateStates = new Set<string>([
  'updating',
  'paused',
  'completed',
  'rollback_started',
  'rollback_paused',
  'rollback_completed',
]);

function updateStateOf(service: EngineService): UpdateStateValue | null {
  const state = service.UpdateStatus?.State;
  return state && updateStates.has(state) ? (state as UpdateStateValue) : null;
}

/** Running and desired tasks of a service, counted as `docker service ls` does. */
export interface ServiceProgress {
  readonly running: number;
  readonly desired: number;
  readonly updateState: UpdateStateValue | null;
  readonly updateMessage: string | null;
}

/**
 * The convergence of a service: the engine's own counts when the list gave
 * them (`status=1`), otherwise counted from its tasks (running tasks whose
 * desired state is running; desired: the replicas, or the tasks a global
 * service wants running).
 */
export function progressOf(service: EngineService, tasks: readonly EngineTask[]): ServiceProgress {
  const wanted = tasks.filter((task) => task.DesiredState === 'running');
  const running =
    service.ServiceStatus?.RunningTasks ??
    wanted.filter((task) => task.Status.State === 'running').length;
  const desired =
    service.ServiceStatus?.DesiredTasks ??
    (service.Spec.Mode?.Replicated ? (service.Spec.Mode.Replicated.Replicas ?? 1) : wanted.length);
  return {
    running,
    desired,
    updateState: updateStateOf(service),
    updateMessage: service.UpdateStatus?.Message || null,
  };
}

/** Whether a service has converged: its tasks all run and no update is under way. */
export function isConverged(progress: ServiceProgress): boolean {
  const settled =
    progress.updateState === null ||
    progress.updateState === 'completed' ||
    progress.updateState === 'rollback_completed';
  return settled && progress.running === progress.desired;
}

/** Whether a rolling update stopped on failures: it will not converge without help. */
export function isStuck(progress: ServiceProgress): boolean {
  return progress.updateState === 'paused' || progress.updateState === 'rollback_paused';
}

export const ServiceProgressRef = builder.objectRef<ServiceProgress>('ServiceProgress').implement({
  description: 'How far a service is from running as its spec says.',
  fields: (t) => ({
    runningTasks: t.exposeInt('running', { description: 'Tasks running now.' }),
    desiredTasks: t.exposeInt('desired', { description: 'Tasks that should be running.' }),
    updateState: t.field({
      type: UpdateStateEnum,
      nullable: true,
      description: 'The state of its last rolling update or rollback; null when it never had one.',
      resolve: (progress) => progress.updateState,
    }),
    updateMessage: t.exposeString('updateMessage', {
      nullable: true,
      description: 'What the swarm says about the update, e.g. why it paused.',
    }),
    converged: t.boolean({
      description: 'All desired tasks run and no update or rollback is under way.',
      resolve: (progress) => isConverged(progress),
    }),
    stuck: t.boolean({
      description: 'An update or rollback paused on failures: it needs a rollback or a new update.',
      resolve: (progress) => isStuck(progress),
    }),
  }),
});

const PublishModeEnum = builder.enumType('ServicePublishMode', {
  description: 'Where a published port of a service listens.',
  values: {
    INGRESS: { value: 'ingress', description: 'On every node, through the routing mesh.' },
    HOST: { value: 'host', description: 'On the node each task runs on.' },
  } as const,
});

const ServiceProtocolEnum = builder.enumType('ServicePortProtocol', {
  description: 'Transport protocol of a service port.',
  values: {
    TCP: { value: 'tcp', description: 'TCP.' },
    UDP: { value: 'udp', description: 'UDP.' },
    SCTP: { value: 'sctp', description: 'SCTP.' },
  } as const,
});

type EnginePort = NonNullable<NonNullable<EngineServiceSpec['EndpointSpec']>['Ports']>[number];

const ServicePortRef = builder.objectRef<EnginePort>('ServicePort').implement({
  description: 'A port of a service published outside the swarm.',
  fields: (t) => ({
    targetPort: t.exposeInt('TargetPort', { description: 'Port inside the tasks.' }),
    publishedPort: t.int({
      nullable: true,
      description: 'Port on the nodes; null until the swarm picks one.',
      resolve: (port) => port.PublishedPort ?? null,
    }),
    protocol: t.field({
      type: ServiceProtocolEnum,
      description: 'Transport protocol.',
      resolve: (port) =>
        port.Protocol === 'udp' || port.Protocol === 'sctp' ? port.Protocol : 'tcp',
    }),
    publishMode: t.field({
      type: PublishModeEnum,
      description: 'Where it listens.',
      resolve: (port) => (port.PublishMode === 'host' ? 'host' : 'ingress'),
    }),
  }),
});

type EngineServiceMount = NonNullable<
  NonNullable<EngineServiceSpec['TaskTemplate']['ContainerSpec']>['Mounts']
>[number];

const ServiceMountRef = builder.objectRef<EngineServiceMount>('ServiceMount').implement({
  description: 'A mount of every task of a service.',
  fields: (t) => ({
    type: t.exposeString('Type', { description: 'bind, volume or tmpfs.' }),
    source: t.string({
      nullable: true,
      description: 'Host path or volume name; null for tmpfs and anonymous volumes.',
      resolve: (mount) => mount.Source || null,
    }),
    target: t.exposeString('Target', { description: 'Path inside the tasks.' }),
    readOnly: t.boolean({
      description: 'Mounted read-only.',
      resolve: (mount) => mount.ReadOnly === true,
    }),
  }),
});

interface ResourcesShape {
  readonly NanoCPUs?: number;
  readonly MemoryBytes?: number;
  readonly Pids?: number;
}

const ServiceResourcesRef = builder.objectRef<ResourcesShape>('ServiceResources').implement({
  description: 'CPU and memory of each task: limits or reservations.',
  fields: (t) => ({
    cpus: t.float({
      nullable: true,
      description: 'CPUs (fractions allowed); null when not set.',
      resolve: (resources) => (resources.NanoCPUs ? resources.NanoCPUs / NANOS_PER_SECOND : null),
    }),
    memoryBytes: t.field({
      type: 'SafeInt',
      nullable: true,
      description: 'Memory in bytes; null when not set.',
      resolve: (resources) => resources.MemoryBytes || null,
    }),
    pids: t.int({
      nullable: true,
      description: 'Process limit; null when not set.',
      resolve: (resources) => resources.Pids || null,
    }),
  }),
});

const ServiceUpdatePolicyRef = builder
  .objectRef<EngineUpdateConfig>('ServiceUpdatePolicy')
  .implement({
    description: 'How a service rolls out a new spec (or rolls back to the previous one).',
    fields: (t) => ({
      parallelism: t.int({
        description: 'Tasks replaced at once; 0 means all.',
        resolve: (policy) => policy.Parallelism ?? 1,
      }),
      delaySeconds: t.float({
        description: 'Wait between two batches.',
        resolve: (policy) => (policy.Delay ?? 0) / NANOS_PER_SECOND,
      }),
      failureAction: t.string({
        description: 'pause, continue or rollback.',
        resolve: (policy) => policy.FailureAction ?? 'pause',
      }),
      monitorSeconds: t.float({
        nullable: true,
        description: 'How long a new task is watched for failure; null for the engine default.',
        resolve: (policy) =>
          policy.Monitor === undefined ? null : policy.Monitor / NANOS_PER_SECOND,
      }),
      maxFailureRatio: t.float({
        description: 'Share of failed tasks tolerated.',
        resolve: (policy) => policy.MaxFailureRatio ?? 0,
      }),
      order: t.string({
        description: 'stop-first or start-first.',
        resolve: (policy) => policy.Order ?? 'stop-first',
      }),
    }),
  });

const ServiceNetworkRef = builder
  .objectRef<{ Target: string; Aliases?: string[] }>('ServiceNetworkAttachment')
  .implement({
    description: 'A network the tasks of a service join.',
    fields: (t) => ({
      target: t.exposeString('Target', { description: 'The network id (or name) in the spec.' }),
      aliases: t.stringList({
        description: 'DNS aliases of the service on it.',
        resolve: (network) => network.Aliases ?? [],
      }),
      network: t.field({
        type: NetworkRef,
        nullable: true,
        description: 'The network, when this engine knows it (swarm networks reach every manager).',
        resolve: async (network, _args, context) => {
          const found = await context.loaders.networks.byId.load(network.Target);
          return found ? { engine: context.engineName, network: found } : null;
        },
      }),
    }),
  });

interface FileReference {
  readonly engine: string;
  readonly kind: 'secret' | 'config';
  readonly id: string;
  readonly name: string;
  readonly file: { Name: string; UID: string; GID: string; Mode: number };
}

const ServiceFileRef = builder.objectRef<FileReference>('ServiceFileReference').implement({
  description: 'A secret or config a service mounts as a file.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The secret or config name.' }),
    fileName: t.string({
      description: 'The file: under /run/secrets/ for secrets, an absolute path for configs.',
      resolve: (reference) => reference.file.Name,
    }),
    uid: t.string({ description: 'Owner user id.', resolve: (reference) => reference.file.UID }),
    gid: t.string({ description: 'Owner group id.', resolve: (reference) => reference.file.GID }),
    mode: t.int({
      description: 'File mode (e.g. 292 = 0o444).',
      resolve: (reference) => reference.file.Mode,
    }),
    secret: t.field({
      type: SecretRef,
      nullable: true,
      description: 'The secret; null for a config, or when it is gone.',
      resolve: async (reference, _args, context) => {
        if (reference.kind !== 'secret') return null;
        const blob = await context.loaders.swarm.secrets.byId.load(reference.id);
        return blob ? { engine: reference.engine, kind: 'secret' as const, blob } : null;
      },
    }),
    config: t.field({
      type: ConfigRef,
      nullable: true,
      description: 'The config; null for a secret, or when it is gone.',
      resolve: async (reference, _args, context) => {
        if (reference.kind !== 'config') return null;
        const blob = await context.loaders.swarm.configs.byId.load(reference.id);
        return blob ? { engine: reference.engine, kind: 'config' as const, blob } : null;
      },
    }),
  }),
});

const TaskDesiredStateEnum = builder.enumType('TaskDesiredStateFilter', {
  description: 'Tasks by the state the swarm wants them in.',
  values: {
    RUNNING: { value: 'running', description: 'Tasks that should run.' },
    SHUTDOWN: { value: 'shutdown', description: 'Tasks replaced or stopped (history).' },
    ACCEPTED: { value: 'accepted', description: 'Tasks accepted but not yet started.' },
  } as const,
});

const containerSpecOf = (service: EngineService) => service.Spec.TaskTemplate.ContainerSpec;

ServiceRef.implement({
  description: 'A swarm service: a spec the swarm keeps running as tasks on its nodes.',
  fields: (t) => ({
    dockerId: t.string({ description: "The engine's id.", resolve: ({ service }) => service.ID }),
    name: t.string({ description: 'Its name.', resolve: ({ service }) => service.Spec.Name ?? '' }),
    version: t.int({
      description: 'The version of its spec: send it back with an update to refuse lost updates.',
      resolve: ({ service }) => service.Version.Index,
    }),
    createdAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it was created.',
      resolve: ({ service }) => parseEngineTime(service.CreatedAt),
    }),
    updatedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When its spec last changed.',
      resolve: ({ service }) => parseEngineTime(service.UpdatedAt),
    }),
    ...labelFields(t, ({ service }) => service.Spec.Labels, {
      labels: 'Service labels, sorted by name.',
      label: 'The value of one label; null when it is not set.',
    }),
    stack: t.field({
      type: StackRef,
      nullable: true,
      description: `The stack it belongs to (label ${STACK_NAMESPACE_LABEL}); null when none.`,
      resolve: ({ engine, service }) => {
        const name = service.Spec.Labels?.[STACK_NAMESPACE_LABEL];
        return name === undefined ? null : { engine, name };
      },
    }),
    image: t.string({
      description: 'The image its tasks run (with the digest the manager resolved, if any).',
      resolve: ({ service }) => containerSpecOf(service)?.Image ?? '',
    }),
    command: t.stringList({
      nullable: true,
      description: 'The command, replacing the image entrypoint; null for the image’s.',
      resolve: ({ service }) => containerSpecOf(service)?.Command ?? null,
    }),
    args: t.stringList({
      nullable: true,
      description: 'Arguments of the command; null for the image’s.',
      resolve: ({ service }) => containerSpecOf(service)?.Args ?? null,
    }),
    env: t.field({
      type: [EnvironmentVariableRef],
      description:
        'Environment variables of its tasks, in order; values need the "secrets" permission.',
      resolve: ({ service }) => parseEnv(containerSpecOf(service)?.Env),
    }),
    workdir: t.string({
      nullable: true,
      description: 'Working directory; null for the image’s.',
      resolve: ({ service }) => containerSpecOf(service)?.Dir || null,
    }),
    user: t.string({
      nullable: true,
      description: 'User the tasks run as; null for the image’s.',
      resolve: ({ service }) => containerSpecOf(service)?.User || null,
    }),
    mode: t.field({
      type: ServiceModeEnum,
      description: 'Replicated or global.',
      resolve: ({ service }) => modeOf(service.Spec),
    }),
    replicas: t.int({
      nullable: true,
      description: 'Desired replicas of a replicated service; null for a global one.',
      resolve: ({ service }) =>
        service.Spec.Mode?.Replicated?.Replicas ?? (service.Spec.Mode?.Replicated ? 1 : null),
    }),
    progress: t.field({
      type: ServiceProgressRef,
      description: 'Running against desired tasks, and the state of its rolling update.',
      resolve: async ({ service }, _args, context) =>
        progressOf(service, await context.loaders.swarm.tasksByService.load(service.ID)),
    }),
    ports: t.field({
      type: [ServicePortRef],
      description: 'Published ports.',
      resolve: ({ service }) => service.Endpoint?.Ports ?? service.Spec.EndpointSpec?.Ports ?? [],
    }),
    networks: t.field({
      type: [ServiceNetworkRef],
      description: 'Networks its tasks join.',
      resolve: ({ service }) => service.Spec.TaskTemplate.Networks ?? [],
    }),
    mounts: t.field({
      type: [ServiceMountRef],
      description: 'Mounts of each task.',
      resolve: ({ service }) => containerSpecOf(service)?.Mounts ?? [],
    }),
    limits: t.field({
      type: ServiceResourcesRef,
      nullable: true,
      description: 'Resource limits of each task; null when none.',
      resolve: ({ service }) => service.Spec.TaskTemplate.Resources?.Limits ?? null,
    }),
    reservations: t.field({
      type: ServiceResourcesRef,
      nullable: true,
      description: 'Resources reserved for each task; null when none.',
      resolve: ({ service }) => service.Spec.TaskTemplate.Resources?.Reservations ?? null,
    }),
    constraints: t.stringList({
      description: 'Placement constraints, e.g. node.role==worker.',
      resolve: ({ service }) => service.Spec.TaskTemplate.Placement?.Constraints ?? [],
    }),
    updatePolicy: t.field({
      type: ServiceUpdatePolicyRef,
      nullable: true,
      description: 'How it rolls out a new spec; null for the engine defaults.',
      resolve: ({ service }) => service.Spec.UpdateConfig ?? null,
    }),
    rollbackPolicy: t.field({
      type: ServiceUpdatePolicyRef,
      nullable: true,
      description: 'How it rolls back; null for the engine defaults.',
      resolve: ({ service }) => service.Spec.RollbackConfig ?? null,
    }),
    previousImage: t.string({
      nullable: true,
      description: 'The image of its previous spec (what a rollback returns to); null when none.',
      resolve: ({ service }) => service.PreviousSpec?.TaskTemplate.ContainerSpec?.Image ?? null,
    }),
    secrets: t.field({
      type: [ServiceFileRef],
      description: 'Secrets mounted into its tasks.',
      resolve: ({ engine, service }) =>
        (containerSpecOf(service)?.Secrets ?? []).map((secret) => ({
          engine,
          kind: 'secret' as const,
          id: secret.SecretID,
          name: secret.SecretName,
          file: secret.File,
        })),
    }),
    configs: t.field({
      type: [ServiceFileRef],
      description: 'Configs mounted into its tasks.',
      resolve: ({ engine, service }) =>
        (containerSpecOf(service)?.Configs ?? []).map((config) => ({
          engine,
          kind: 'config' as const,
          id: config.ConfigID,
          name: config.ConfigName,
          file: config.File,
        })),
    }),
    tasks: t.field({
      type: [TaskRef],
      description:
        'Its tasks (the swarm keeps a few finished ones per slot), by slot, newest first.',
      args: {
        desiredState: t.arg({
          type: TaskDesiredStateEnum,
          required: false,
          description: 'Only tasks the swarm wants in this state.',
        }),
      },
      resolve: async ({ engine, service }, { desiredState }, context) => {
        const tasks = await context.loaders.swarm.tasksByService.load(service.ID);
        return sortTasks(tasks)
          .filter((task) => !desiredState || task.DesiredState === desiredState)
          .map((task) => ({ engine, task }));
      },
    }),
    nodes: t.field({
      type: [SwarmNodeRef],
      description: 'The nodes its running tasks are on.',
      resolve: async ({ engine, service }, _args, context) => {
        const tasks = await context.loaders.swarm.tasksByService.load(service.ID);
        const ids = [
          ...new Set(
            tasks.flatMap((task) =>
              task.DesiredState === 'running' && task.NodeID ? [task.NodeID] : [],
            ),
          ),
        ];
        const nodes = await context.loaders.swarm.nodeById.loadMany(ids);
        return nodes.flatMap((node) =>
          node && !(node instanceof Error) ? [{ engine, node }] : [],
        );
      },
    }),
    logs: t.field({
      type: SwarmLogsRef,
      description: 'What its tasks wrote (`docker service logs`), demultiplexed into lines.',
      args: {
        tail: t.arg.int({
          required: false,
          description: 'Only the last this many lines of each task.',
        }),
        since: logSinceArg(t.arg, 'Only lines written at or after this time.'),
        timestamps: logTimestampsArg(t.arg),
        ...logStreamArgs(t.arg, { stdout: 'STDOUT', stderr: 'STDERR' }),
      },
      resolve: ({ service }, args, context) => {
        const { until: _until, ...options } = toLogOptions(args);
        return readSwarmLogs(
          context.docker,
          { service: service.ID },
          { ...options, tty: containerSpecOf(service)?.TTY === true },
          SWARM_LOG_LIMITS,
        );
      },
    }),
  }),
});

/** Tasks ordered by slot, then newest first, as `docker service ps` shows them. */
function sortTasks(tasks: readonly EngineTask[]): EngineTask[] {
  return [...tasks].sort(
    (a, b) =>
      (a.Slot ?? 0) - (b.Slot ?? 0) ||
      compareText(a.NodeID ?? '', b.NodeID ?? '') ||
      compareText(b.CreatedAt, a.CreatedAt),
  );
}

// ---------------------------------------------------------------------------
// Queries

const ServiceModeFilterEnum = builder.enumType('ServiceModeFilter', {
  description: 'Services by mode, as the engine filters them.',
  values: {
    REPLICATED: { value: 'replicated', description: 'Replicated services.' },
    GLOBAL: { value: 'global', description: 'Global services.' },
  } as const,
});

const ServiceFilterInput = builder.inputType('ServiceFilter', {
  description: 'Which services to list. Conditions of different fields must all hold.',
  fields: (t) => ({
    ids: t.stringList({ required: false, description: 'Engine ids or id prefixes.' }),
    names: t.stringList({ required: false, description: 'Names or name prefixes.' }),
    labels: labelFilterField(t),
    modes: t.field({ type: [ServiceModeFilterEnum], required: false, description: 'Modes.' }),
    stack: t.string({ required: false, description: 'Only the services of this stack.' }),
  }),
});

builder.queryFields((t) => ({
  services: t.connection(
    {
      type: ServiceRef,
      description: 'Services of the swarm this engine manages, sorted by name.',
      args: {
        filter: t.arg({
          type: ServiceFilterInput,
          required: false,
          description: 'Which services to list.',
        }),
      },
      resolve: async (_root, args, context) => {
        const given = toLabelFilter(args.filter);
        const filters: ServiceFilters = {
          ...(given.ids ? { ids: given.ids } : {}),
          ...(given.names ? { names: given.names } : {}),
          ...(given.modes ? { modes: given.modes } : {}),
          ...(given.labels || given.stack !== undefined
            ? {
                labels: [
                  ...(given.labels ?? []),
                  ...(given.stack !== undefined ? [`${STACK_NAMESPACE_LABEL}=${given.stack}`] : []),
                ],
              }
            : {}),
        };
        const services = await context.loaders.swarm.serviceList(filters);
        return paginate(
          services.map((service) => ({ engine: context.engineName, service })),
          args,
          ({ service }) => `${service.Spec.Name ?? ''}:${service.ID}`,
        );
      },
    },
    { name: 'ServiceConnection', description: 'A page of services.' },
    { name: 'ServiceEdge', description: 'A service and its cursor.' },
  ),
  service: t.field({
    type: ServiceRef,
    nullable: true,
    description: 'One service by id, id prefix or name; null when there is none.',
    args: { id: t.arg.string({ required: true, description: 'Engine id, name, or global ID.' }) },
    resolve: async (_root, { id }, context) => {
      const key = swarmReferenceOf(context, 'Service', 'id', id);
      const service = await context.loaders.swarm.serviceInspect.load(key);
      return service ? { engine: context.engineName, service } : null;
    },
  }),
}));

// ---------------------------------------------------------------------------
// Mutations

const PortInput = builder.inputType('ServicePortInput', {
  description: 'A port to publish: `--publish mode=host,target=80,published=8080`.',
  fields: (t) => ({
    target: t.int({ required: true, description: 'Port inside the tasks.' }),
    published: t.int({ required: false, description: 'Port on the nodes.' }),
    protocol: t.field({
      type: ServiceProtocolEnum,
      required: false,
      description: 'tcp (default), udp or sctp.',
    }),
    mode: t.field({
      type: PublishModeEnum,
      required: false,
      description: 'ingress (routing mesh, the default) or host (on the task’s node).',
    }),
  }),
});

const ServiceMountTypeEnum = builder.enumType('ServiceMountType', {
  description: 'Kinds of service mounts.',
  values: {
    BIND: {
      value: 'bind',
      description: 'A host path of the node (needs "dangerous" outside the allow-list).',
    },
    VOLUME: { value: 'volume', description: 'A volume of the node, created when missing.' },
    TMPFS: { value: 'tmpfs', description: 'A memory file system.' },
  } as const,
});

const MountInput = builder.inputType('ServiceMountInput', {
  description: 'A mount of each task: `--mount type=volume,source=data,target=/data`.',
  fields: (t) => ({
    type: t.field({ type: ServiceMountTypeEnum, required: true, description: 'Kind of mount.' }),
    source: t.string({ required: false, description: 'Host path (bind) or volume name (volume).' }),
    target: t.string({ required: true, description: 'Absolute path inside the tasks.' }),
    readOnly: t.boolean({ required: false, description: 'Mount read-only.' }),
    tmpfsSizeBytes: t.field({ type: 'SafeInt', required: false, description: 'Size of a tmpfs.' }),
  }),
});

const NetworkAttachmentInput = builder.inputType('ServiceNetworkInput', {
  description: 'A network the tasks join (an overlay network, or "host").',
  fields: (t) => ({
    target: t.string({ required: true, description: 'Network id or name.' }),
    aliases: t.stringList({ required: false, description: 'DNS aliases on it.' }),
  }),
});

const ResourcesInput = builder.inputType('ServiceResourcesInput', {
  description: 'CPU and memory of each task.',
  fields: (t) => ({
    cpus: t.float({ required: false, description: 'CPUs, fractions allowed.' }),
    memoryBytes: t.field({
      type: 'SafeInt',
      required: false,
      description: 'Memory in bytes (at least 4 MiB).',
    }),
    pids: t.int({ required: false, description: 'Process limit (limits only).' }),
  }),
});

const UpdatePolicyInput = builder.inputType('ServiceUpdatePolicyInput', {
  description: '`--update-*` or `--rollback-*` settings.',
  fields: (t) => ({
    parallelism: t.int({ required: false, description: 'Tasks replaced at once; 0 for all.' }),
    delaySeconds: t.float({ required: false, description: 'Wait between batches.' }),
    failureAction: t.string({
      required: false,
      description: 'pause, continue or rollback (update only).',
    }),
    monitorSeconds: t.float({ required: false, description: 'How long a new task is watched.' }),
    maxFailureRatio: t.float({
      required: false,
      description: 'Share of failures tolerated, 0 to 1.',
    }),
    order: t.string({ required: false, description: 'stop-first or start-first.' }),
  }),
});

const RestartConditionEnum = builder.enumType('ServiceRestartCondition', {
  description: 'When the swarm restarts a task.',
  values: {
    NONE: { value: 'none', description: 'Never.' },
    ON_FAILURE: { value: 'on-failure', description: 'When it exits non-zero.' },
    ANY: { value: 'any', description: 'Whenever it exits (the default).' },
  } as const,
});

const RestartInput = builder.inputType('ServiceRestartInput', {
  description: '`--restart-*` settings.',
  fields: (t) => ({
    condition: t.field({
      type: RestartConditionEnum,
      required: true,
      description: 'When to restart.',
    }),
    delaySeconds: t.float({ required: false, description: 'Wait before a restart.' }),
    maxAttempts: t.int({ required: false, description: 'Give up after this many; 0 for never.' }),
    windowSeconds: t.float({
      required: false,
      description: 'Window in which attempts are counted.',
    }),
  }),
});

const FileInput = builder.inputType('ServiceFileInput', {
  description: 'A secret or config to mount as a file.',
  fields: (t) => ({
    source: t.string({
      required: true,
      description: 'The secret or config: id, name or global ID.',
    }),
    target: t.string({
      required: false,
      description:
        'File name: under /run/secrets/ for a secret (default its name), an absolute path for a config (default /<name>).',
    }),
    uid: t.string({ required: false, description: 'Owner user id; "0" by default.' }),
    gid: t.string({ required: false, description: 'Owner group id; "0" by default.' }),
    mode: t.int({ required: false, description: 'File mode; 0o444 (292) by default.' }),
  }),
});

const CreateServiceInput = builder.inputType('CreateServiceInput', {
  description: 'A service to create (`docker service create`).',
  fields: (t) => ({
    name: t.string({ required: true, description: 'Its name.' }),
    image: t.string({
      required: true,
      description: 'The image its tasks run (present on the nodes, or pullable).',
    }),
    command: t.stringList({
      required: false,
      description: 'Command, replacing the image entrypoint.',
    }),
    args: t.stringList({ required: false, description: 'Arguments of the command.' }),
    env: t.field({ type: [KeyValueInput], required: false, description: 'Environment variables.' }),
    workdir: t.string({ required: false, description: 'Working directory.' }),
    user: t.string({ required: false, description: 'User to run as.' }),
    hostname: t.string({ required: false, description: 'Host name of the tasks.' }),
    tty: t.boolean({ required: false, description: 'Give the tasks a TTY.' }),
    readOnly: t.boolean({ required: false, description: 'Read-only root file system.' }),
    labels: t.field({ type: [KeyValueInput], required: false, description: 'Service labels.' }),
    containerLabels: t.field({
      type: [KeyValueInput],
      required: false,
      description: 'Labels of the task containers.',
    }),
    replicas: t.int({
      required: false,
      description: 'Replicas of a replicated service; 1 by default.',
    }),
    global: t.boolean({
      required: false,
      description: 'One task on every eligible node instead of replicas.',
    }),
    ports: t.field({ type: [PortInput], required: false, description: 'Ports to publish.' }),
    networks: t.field({
      type: [NetworkAttachmentInput],
      required: false,
      description: 'Networks to join.',
    }),
    mounts: t.field({ type: [MountInput], required: false, description: 'Mounts of each task.' }),
    limits: t.field({
      type: ResourcesInput,
      required: false,
      description: 'Resource limits of each task.',
    }),
    reservations: t.field({
      type: ResourcesInput,
      required: false,
      description: 'Resources reserved for each task.',
    }),
    constraints: t.stringList({
      required: false,
      description: 'Placement constraints, e.g. node.role==worker.',
    }),
    spreadOver: t.stringList({
      required: false,
      description: 'Spread tasks over these node attributes, e.g. node.labels.zone.',
    }),
    maxReplicasPerNode: t.int({
      required: false,
      description: 'At most this many tasks on one node.',
    }),
    restart: t.field({ type: RestartInput, required: false, description: 'Restart policy.' }),
    updatePolicy: t.field({
      type: UpdatePolicyInput,
      required: false,
      description: 'Rolling update settings.',
    }),
    rollbackPolicy: t.field({
      type: UpdatePolicyInput,
      required: false,
      description: 'Rollback settings.',
    }),
    secrets: t.field({
      type: [FileInput],
      required: false,
      description: 'Secrets to mount under /run/secrets.',
    }),
    configs: t.field({ type: [FileInput], required: false, description: 'Configs to mount.' }),
    capAdd: t.stringList({
      required: false,
      description: 'Capabilities to add (needs "dangerous").',
    }),
    capDrop: t.stringList({ required: false, description: 'Capabilities to drop.' }),
    stopGracePeriodSeconds: t.float({
      required: false,
      description: 'Time to stop before a kill.',
    }),
  }),
});

const UpdateServiceInput = builder.inputType('UpdateServiceInput', {
  description: 'Changes to a service (`docker service update`); what is not given stays.',
  fields: (t) => ({
    image: t.string({ required: false, description: 'A new image: a rolling update.' }),
    replicas: t.int({ required: false, description: 'New replica count (replicated services).' }),
    env: t.field({
      type: [KeyValueInput],
      required: false,
      description: 'Variables to set (replacing those of the same name).',
    }),
    envRemove: t.stringList({ required: false, description: 'Variables to remove, by name.' }),
    labelAdd: t.field({
      type: [KeyValueInput],
      required: false,
      description: 'Service labels to set.',
    }),
    labelRemove: t.stringList({ required: false, description: 'Service labels to remove.' }),
    limits: t.field({
      type: ResourcesInput,
      required: false,
      description: 'Resource limits to set.',
    }),
    reservations: t.field({
      type: ResourcesInput,
      required: false,
      description: 'Reservations to set.',
    }),
    command: t.stringList({ required: false, description: 'A new command.' }),
    args: t.stringList({ required: false, description: 'New arguments.' }),
    secrets: t.field({
      type: [FileInput],
      required: false,
      description: 'The secrets to mount, replacing the current ones.',
    }),
    configs: t.field({
      type: [FileInput],
      required: false,
      description: 'The configs to mount, replacing the current ones.',
    }),
    force: t.boolean({
      required: false,
      description: 'Redeploy every task even when nothing else changes.',
    }),
  }),
});

type FileInputShape = typeof FileInput.$inferInput;

async function resolveFiles(
  context: GraphQLContext,
  kind: 'secret' | 'config',
  field: string,
  files: readonly FileInputShape[] | null | undefined,
): Promise<ServiceFileSpec[] | undefined> {
  if (!files) return undefined;
  return Promise.all(
    files.map(async (file, index) => {
      const blob = await visibleSwarmBlob(context, kind, `${field}[${index}].source`, file.source);
      return {
        id: blob.ID,
        name: blob.Spec.Name,
        ...givenFields({ target: file.target, uid: file.uid, gid: file.gid, mode: file.mode }),
      };
    }),
  );
}

/** The service read back after a write: the engine's list with its task counts. */
async function readBack(context: GraphQLContext, id: string): Promise<ServiceRecord> {
  context.renewLoaders();
  const [service] = await context.loaders.swarm.serviceList({ ids: [id] });
  const found = service ?? (await context.loaders.swarm.serviceInspect.load(id));
  if (!found) throw new InvalidInputError(null, `service ${id} vanished after the change`);
  return { engine: context.engineName, service: found };
}

interface ServicePayload {
  readonly service: ServiceRecord;
  readonly warnings: readonly string[];
}

const ServicePayloadRef = builder.objectRef<ServicePayload>('ServicePayload').implement({
  description: 'A service, read back after the change.',
  fields: (t) => ({
    service: t.field({
      type: ServiceRef,
      description: 'The service.',
      resolve: (payload) => payload.service,
    }),
    warnings: t.stringList({
      description: 'What the engine warned about, e.g. an image it could not pin to a digest.',
      resolve: (payload) => [...payload.warnings],
    }),
  }),
});

const RemoveServicePayloadRef = builder
  .objectRef<{ id: string; name: string }>('RemoveServicePayload')
  .implement({
    description: 'A removed service (its tasks stop shortly after).',
    fields: (t) => ({
      dockerId: t.exposeString('id', { description: 'Engine id of the service removed.' }),
      name: t.exposeString('name', { description: 'Its name.' }),
    }),
  });

/** Sends `spec` as the new spec of `service`, at `version` (the one read unless the client gave one). */
async function writeService(
  context: GraphQLContext,
  service: EngineService,
  spec: EngineServiceSpec,
  version: number | null | undefined,
  rollback = false,
): Promise<ServicePayload> {
  const answer = await updateService(context.docker, service.ID, spec, {
    version: version ?? service.Version.Index,
    rollback,
  });
  return { service: await readBack(context, service.ID), warnings: answer.warnings };
}

/**
 * The service inputs that reach what only the `secrets` permission reads (environment values,
 * secret and config data): a service's tasks run what its spec says with what it holds, and
 * can print it to their logs or send it anywhere. Mounting a secret or config into tasks is
 * reading it; choosing what runs (image, command, arguments) where a service holds such
 * values is reading them, and so is changing its environment (a variable can point the
 * service at another host, `DB_HOST=…`, or run code, `NODE_OPTIONS`, `LD_PRELOAD`). So these
 * inputs need `secrets` besides the mutation's `write`: `mounts` always, `runs` when the
 * service holds environment values, secrets or configs.
 */
const SECRET_REACHING_INPUTS = {
  createService: { mounts: ['secrets', 'configs'], runs: [] },
  updateService: {
    mounts: ['secrets', 'configs'],
    runs: ['image', 'command', 'args', 'env', 'envRemove'],
  },
} as const satisfies Record<string, { mounts: readonly string[]; runs: readonly string[] }>;

/** What a service's spec holds that its tasks can read: its environment, secrets and configs. */
function heldValuesOf(spec: EngineServiceSpec): string[] {
  const container = spec.TaskTemplate.ContainerSpec;
  return [
    ...((container?.Env?.length ?? 0) > 0 ? ['environment values'] : []),
    ...((container?.Secrets?.length ?? 0) > 0 ? ['secrets'] : []),
    ...((container?.Configs?.length ?? 0) > 0 ? ['configs'] : []),
  ];
}

/** An input list given empty (`[]`). */
function isEmptyList(value: unknown): boolean {
  return Array.isArray(value) && value.length === 0;
}

/**
 * Refuses a principal without `secrets` the inputs of {@link SECRET_REACHING_INPUTS} it gives
 * (`held`: the current spec of the service an update changes), before any engine call.
 */
function checkSecretReachingInputs(
  context: GraphQLContext,
  mutation: keyof typeof SECRET_REACHING_INPUTS,
  input: Readonly<Record<string, unknown>>,
  held: EngineServiceSpec | null,
): void {
  if (context.principal.permissions.has('secrets')) return;
  const given = (name: string) => input[name] !== undefined && input[name] !== null;
  // An empty list mounts nothing; an empty command or argument list is still a change of what
  // runs (the tasks run the image's own).
  const mounted = (name: string) => given(name) && !isEmptyList(input[name]);
  const rules = SECRET_REACHING_INPUTS[mutation];
  const who = describePrincipal(context.principal);
  for (const name of rules.mounts) {
    if (mounted(name)) {
      throw forbiddenError(
        `${who} may not mount ${name} into a service's tasks (input.${name}): it needs the "secrets" permission, since what runs in the tasks reads them`,
        { argument: `input.${name}` },
      );
    }
  }
  const values = held ? heldValuesOf(held) : [];
  const changed = rules.runs.find(given);
  if (changed !== undefined && values.length > 0) {
    throw forbiddenError(
      `${who} may not change what runs in service "${held?.Name ?? ''}", nor its environment (input.${changed}): it holds ${values.join(' and ')}, which what runs in its tasks can read; that needs the "secrets" permission`,
      { argument: `input.${changed}` },
    );
  }
}

/** What the `version` argument of service changes says. */
const VERSION_ARGUMENT =
  'The `version` the change is based on: when the service changed since, the answer is a ConflictError and nothing changes. By default the current version, read just before.';

builder.mutationFields((t) => ({
  createService: t.field({
    type: ServicePayloadRef,
    description: 'Creates a swarm service (`docker service create`). A name in use is a conflict.',
    errors: { types: [...mutationErrors] },
    args: {
      input: t.arg({ type: CreateServiceInput, required: true, description: 'The service.' }),
    },
    resolve: async (_root, { input }, context) => {
      checkSecretReachingInputs(context, 'createService', input, null);
      const given = givenFields(input);
      const definition: ServiceDefinition = {
        ...given,
        name: input.name,
        image: input.image,
        env: given.env ?? null,
        labels:
          labelsForCreate(context, 'input.labels', toStringMap('input.labels', input.labels)) ??
          null,
        containerLabels: toStringMap('input.containerLabels', input.containerLabels) ?? null,
        limits: given.limits ? givenFields(given.limits) : null,
        reservations: given.reservations ? givenFields(given.reservations) : null,
        update: given.updatePolicy
          ? (givenFields(given.updatePolicy) as ServiceDefinition['update'])
          : null,
        rollback: given.rollbackPolicy
          ? (givenFields(given.rollbackPolicy) as ServiceDefinition['rollback'])
          : null,
        restart: given.restart
          ? { ...givenFields(given.restart), condition: given.restart.condition }
          : null,
        ports: given.ports?.map((port) => ({ ...givenFields(port), target: port.target })) ?? null,
        mounts:
          given.mounts?.map((mount) => ({
            ...givenFields(mount),
            type: mount.type,
            target: mount.target,
          })) ?? null,
        networks:
          given.networks?.map((network) => ({
            target: network.target,
            aliases: network.aliases ?? null,
          })) ?? null,
        secrets: (await resolveFiles(context, 'secret', 'input.secrets', input.secrets)) ?? null,
        configs: (await resolveFiles(context, 'config', 'input.configs', input.configs)) ?? null,
      };
      const spec = await limitServiceCreate(context, 'input', toServiceSpec('input', definition));
      const created = await createService(context.docker, spec);
      return {
        service: await readBack(context, created.id ?? input.name),
        warnings: created.warnings,
      };
    },
  }),
  updateService: t.field({
    type: ServicePayloadRef,
    description:
      'Changes a service (`docker service update`): a new image or spec rolls out as its update policy says. Lost updates are refused: the spec is read, changed and sent back with its version.',
    errors: { types: [...mutationErrors] },
    args: {
      id: t.arg.string({ required: true, description: 'The service: id, name or global ID.' }),
      version: t.arg.int({ required: false, description: VERSION_ARGUMENT }),
      input: t.arg({ type: UpdateServiceInput, required: true, description: 'What to change.' }),
    },
    resolve: async (_root, { id, version, input }, context) => {
      const service = await visibleService(context, 'id', id);
      checkSecretReachingInputs(context, 'updateService', input, service.Spec);
      const given = givenFields(input);
      const { env, ...rest } = given;
      const changes: ServiceChanges = {
        ...rest,
        envAdd: env ?? null,
        labelAdd: labelsForUpdate(
          context,
          toStringMap('input.labelAdd', input.labelAdd),
          given.labelRemove,
        ),
        limits: given.limits ? givenFields(given.limits) : null,
        reservations: given.reservations ? givenFields(given.reservations) : null,
        secrets: (await resolveFiles(context, 'secret', 'input.secrets', input.secrets)) ?? null,
        configs: (await resolveFiles(context, 'config', 'input.configs', input.configs)) ?? null,
      };
      const spec = applyServiceChanges('input', service.Spec, changes);
      return writeService(context, service, spec, version);
    },
  }),
  scaleService: t.field({
    type: ServicePayloadRef,
    description: 'Sets the replicas of a replicated service (`docker service scale`).',
    errors: { types: [...mutationErrors] },
    args: {
      id: t.arg.string({ required: true, description: 'The service: id, name or global ID.' }),
      replicas: t.arg.int({ required: true, description: 'How many tasks to run.' }),
      version: t.arg.int({ required: false, description: VERSION_ARGUMENT }),
    },
    resolve: async (_root, { id, replicas, version }, context) => {
      const service = await visibleService(context, 'id', id);
      const spec = applyServiceChanges('', service.Spec, { replicas });
      return writeService(context, service, spec, version);
    },
  }),
  rollbackService: t.field({
    type: ServicePayloadRef,
    description:
      'Returns a service to its previous spec (`docker service rollback`), rolled out as its rollback policy says.',
    errors: { types: [...mutationErrors] },
    args: {
      id: t.arg.string({ required: true, description: 'The service: id, name or global ID.' }),
      version: t.arg.int({ required: false, description: VERSION_ARGUMENT }),
    },
    resolve: async (_root, { id, version }, context) => {
      const service = await visibleService(context, 'id', id);
      if (!service.PreviousSpec) {
        throw new InvalidInputError(
          'id',
          `service ${service.Spec.Name ?? id} has no previous spec to roll back to`,
        );
      }
      return writeService(context, service, service.Spec, version, true);
    },
  }),
  removeService: t.field({
    type: RemoveServicePayloadRef,
    description: 'Removes a service; the swarm stops its tasks.',
    errors: { types: [...mutationErrors] },
    args: {
      id: t.arg.string({ required: true, description: 'The service: id, name or global ID.' }),
    },
    resolve: async (_root, { id }, context) => {
      const service = await visibleService(context, 'id', id);
      await removeService(context.docker, service.ID);
      return { id: service.ID, name: service.Spec.Name ?? '' };
    },
  }),
}));

/**
 * Labels an update sets: a token limited to labels may not change or remove
 * the labels that make the service its own.
 */
function labelsForUpdate(
  context: GraphQLContext,
  added: Record<string, string> | undefined,
  removed: readonly string[] | undefined,
): Record<string, string> | null {
  const limit = context.principal.labels;
  if (limit && removed) {
    removed.forEach((name, index) => {
      if (Object.hasOwn(limit, name)) {
        throw new InvalidInputError(
          `input.labelRemove[${index}]`,
          `the label "${name}" is required by this token`,
        );
      }
    });
  }
  if (!added) return null;
  return labelsForCreate(context, 'input.labelAdd', added) ?? null;
}

// ---------------------------------------------------------------------------
// Live: serviceUpdated

/** One message of `serviceUpdated`. */
type ServiceUpdate =
  | {
      readonly kind: 'updated';
      readonly service: ServiceRecord;
      readonly progress: ServiceProgress;
    }
  | { readonly kind: 'removed'; readonly serviceId: string };

const ServiceUpdateKindEnum = builder.enumType('ServiceUpdateKind', {
  description: 'What a `serviceUpdated` message says.',
  values: {
    UPDATED: {
      value: 'updated',
      description: 'The service changed, or its tasks moved on: `service` holds it as it is now.',
    },
    REMOVED: {
      value: 'removed',
      description: 'The service no longer exists: `serviceId` names it.',
    },
  } as const,
});

const ServiceUpdateRef = builder.objectRef<ServiceUpdate>('ServiceUpdate').implement({
  description: 'A service read anew after a change, with how far it is from converging.',
  fields: (t) => ({
    kind: t.field({
      type: ServiceUpdateKindEnum,
      description: 'Changed or removed.',
      resolve: (update) => update.kind,
    }),
    serviceId: t.string({
      description: 'The engine id of the service.',
      resolve: (update) =>
        update.kind === 'updated' ? update.service.service.ID : update.serviceId,
    }),
    service: t.field({
      type: ServiceRef,
      nullable: true,
      description: 'The service as it is now; null when it was removed.',
      resolve: (update) => (update.kind === 'updated' ? update.service : null),
    }),
    progress: t.field({
      type: ServiceProgressRef,
      nullable: true,
      description:
        'Running against desired tasks and the update state at this message; null when removed.',
      resolve: (update) => (update.kind === 'updated' ? update.progress : null),
    }),
  }),
});

const ServiceUpdateFilterInput = builder.inputType('ServiceUpdateFilter', {
  description: 'Which services to follow; conditions of different fields must all hold.',
  fields: (t) => ({
    ids: t.stringList({ required: false, description: 'Engine ids or id prefixes.' }),
    names: t.stringList({ required: false, description: 'Names or name prefixes.' }),
    labels: labelFilterField(t),
  }),
});

/** How often a service that has not converged is read again: tasks move without events. */
const CONVERGENCE_POLL_MS = 1_000;
/** How long after an event services are read again even when they look converged. */
const SETTLE_MS = 10_000;

/** What a subscriber sees change: spec version, progress, and which nodes run the tasks. */
function signatureOf(
  service: EngineService,
  progress: ServiceProgress,
  tasks: readonly EngineTask[],
): string {
  const placement = tasks
    .filter((task) => task.DesiredState === 'running')
    .map((task) => `${task.ID}:${task.NodeID ?? ''}:${task.Status.State}`)
    .sort();
  return JSON.stringify([service.Version.Index, progress, placement]);
}

/**
 * The services matching `filters`, emitted once at the start and again each
 * time one changes: after each service or node event of the engine, and every
 * second while one has not converged (task moves make no service event) or
 * shortly after an event; a service that is gone is emitted as removed.
 */
async function* followServices(
  context: GraphQLContext,
  filters: ServiceFilters,
): AsyncGenerator<ServiceUpdate, void, undefined> {
  const events = context.events.subscribe({ filter: { types: ['service', 'node'] } });
  const known = new Map<string, string>();
  let lastEvent = Date.now();
  let pending: Promise<IteratorResult<unknown>> | null = null;
  try {
    for (;;) {
      context.renewLoaders();
      const services = await context.loaders.swarm.serviceList(filters);
      const seen = new Set<string>();
      let settled = true;
      for (const service of services) {
        seen.add(service.ID);
        const tasks = await context.loaders.swarm.tasksByService.load(service.ID);
        const progress = progressOf(service, tasks);
        if (!isConverged(progress) && !isStuck(progress)) settled = false;
        const signature = signatureOf(service, progress, tasks);
        if (known.get(service.ID) === signature) continue;
        known.set(service.ID, signature);
        yield { kind: 'updated', service: { engine: context.engineName, service }, progress };
      }
      for (const id of [...known.keys()]) {
        if (seen.has(id)) continue;
        known.delete(id);
        yield { kind: 'removed', serviceId: id };
      }
      const poll = !settled || Date.now() - lastEvent < SETTLE_MS;
      pending ??= events.next();
      const woken = await Promise.race([
        pending.then((result) => (result.done ? 'done' : 'event')),
        ...(poll
          ? [
              new Promise<'timer'>((resolve) =>
                setTimeout(() => resolve('timer'), CONVERGENCE_POLL_MS).unref(),
              ),
            ]
          : []),
      ]);
      if (woken === 'done') return;
      if (woken === 'event') {
        pending = null;
        lastEvent = Date.now();
      }
    }
  } finally {
    await events.return?.();
  }
}

builder.subscriptionField('serviceUpdated', (t) =>
  t.field({
    type: ServiceUpdateRef,
    description:
      'Each followed service as it is now, at the start and whenever it changes: spec updates, scaling, tasks started, failed or moved (e.g. off a drained node), with running against desired tasks and the update state, so that a rolling update can be watched until it converges or pauses.',
    args: {
      filter: t.arg({
        type: ServiceUpdateFilterInput,
        required: false,
        description: 'Which services to follow; all when omitted.',
      }),
    },
    subscribe: async (_root, { filter }, context) => {
      const given = toLabelFilter(filter);
      // Read once before streaming: an engine that is no swarm manager fails the subscription
      // at its start, as an error of the field.
      await context.loaders.swarm.serviceList(given);
      return followServices(context, given);
    },
    resolve: (update: ServiceUpdate) => update,
  }),
);

// ---------------------------------------------------------------------------
// Live: serviceLogs

/** Lines a `serviceLogs` subscriber may have waiting before the oldest are dropped. */
const SERVICE_LOG_BUFFER_LINES = 1000;

const ServiceLogMessageRef = builder
  .objectRef<Delivered<SwarmLogLine>>('ServiceLogMessage')
  .implement({
    description: 'One line of the `serviceLogs` subscription.',
    fields: (t) => ({
      line: t.field({
        type: SwarmLogLineRef,
        description: 'The line, with the task and node it came from.',
        resolve: (message) => message.value,
      }),
      dropped: droppedLinesField(t),
    }),
  });

builder.subscriptionField('serviceLogs', (t) =>
  t.field({
    type: ServiceLogMessageRef,
    description:
      'The output of the tasks of a service (or of one task) as they write it (`docker service logs --follow`), demultiplexed, each line naming its task and node. Completes when its engine leaves the configuration (a reload). A subscriber that reads too slowly loses the oldest waiting lines and is told how many.',
    args: {
      id: t.arg.string({ required: true, description: 'The service: id, name or global ID.' }),
      task: t.arg.string({ required: false, description: 'Only this task of it (engine id).' }),
      tail: t.arg.int({
        required: false,
        description: 'Begin with only the last this many lines of each task.',
      }),
      since: logSinceArg(t.arg, 'Begin with the lines written at or after this time.'),
      timestamps: logTimestampsArg(t.arg),
    },
    subscribe: async (_root, args, context) => {
      const { until: _until, ...options } = toLogOptions(args);
      // Through the loaders: a service (or task) the principal may not see is answered as missing.
      const service = await visibleService(context, 'id', args.id);
      let source: { service: string } | { task: string } = { service: service.ID };
      if (args.task) {
        const task = await context.loaders.swarm.taskById.load(args.task);
        if (!task || task.ServiceID !== service.ID) {
          throw new EngineNotFoundError(
            'NOT_FOUND',
            `task ${args.task} of service ${service.ID} not found`,
            404,
          );
        }
        source = { task: task.ID };
      }
      const controller = new AbortController();
      const lines = await followSwarmLogs(context.docker, source, {
        ...options,
        tty: containerSpecOf(service)?.TTY === true,
        // As containerLogs: also ends when the engine leaves the configuration.
        signal: AbortSignal.any([controller.signal, context.shutdown, context.retired]),
      });
      return bufferDroppingOldest(
        lines,
        SERVICE_LOG_BUFFER_LINES,
        () => controller.abort(),
        (error) => context.reportLiveError('service log stream failed', error),
      );
    },
    resolve: (message) => message,
  }),
);
