import { InvalidInputError } from '../docker/errors.ts';
import { givenFields } from '../docker/given-fields.ts';
import { type EngineNode, type NodeFilters, removeNode, updateNode } from '../docker/swarm.ts';
import { builder } from './builder.ts';
import { toLabelFilter } from './filter-inputs.ts';
import { mutationErrors } from './mutation-errors.ts';
import { paginate } from './pagination.ts';
import {
  ContainerRef,
  type SwarmNodeRecord,
  SwarmNodeRef,
  TaskRef,
  toContainerRecord,
} from './refs.ts';
import {
  checkLabelFilters,
  KeyValueInput,
  LabelRef,
  labelValue,
  parseEngineTime,
  toKeyValues,
  toStringMap,
} from './shared.ts';
import { visibleNode } from './swarm-access.ts';

const NodeRoleEnum = builder.enumType('SwarmNodeRole', {
  description: 'What a node does in the swarm.',
  values: {
    MANAGER: {
      value: 'manager',
      description: 'Keeps the cluster state (raft) and schedules tasks.',
    },
    WORKER: { value: 'worker', description: 'Runs tasks only.' },
  } as const,
});

const NodeAvailabilityEnum = builder.enumType('SwarmNodeAvailability', {
  description: 'Whether the swarm may place tasks on a node.',
  values: {
    ACTIVE: { value: 'active', description: 'New tasks may be placed on it.' },
    PAUSE: { value: 'pause', description: 'No new tasks; its tasks keep running.' },
    DRAIN: { value: 'drain', description: 'No tasks: its tasks move to other nodes.' },
  } as const,
});

const NodeManagerStatusRef = builder
  .objectRef<NonNullable<EngineNode['ManagerStatus']>>('SwarmManagerStatus')
  .implement({
    description: 'The raft membership of a manager node.',
    fields: (t) => ({
      leader: t.boolean({
        description: 'It leads the raft group.',
        resolve: (status) => status.Leader === true,
      }),
      reachability: t.string({
        description: 'reachable, unreachable or unknown.',
        resolve: (status) => status.Reachability ?? 'unknown',
      }),
      address: t.string({
        nullable: true,
        description: 'Where other managers reach it (address:port).',
        resolve: (status) => status.Addr ?? null,
      }),
    }),
  });

SwarmNodeRef.implement({
  description:
    'A node (an engine) of the swarm. Named SwarmNode: `Node` is the Relay interface of every object with a global ID.',
  fields: (t) => ({
    dockerId: t.string({
      description: "The swarm's id of the node.",
      resolve: ({ node }) => node.ID,
    }),
    hostname: t.string({
      description: 'The host name its engine reports.',
      resolve: ({ node }) => node.Description?.Hostname ?? '',
    }),
    name: t.string({
      nullable: true,
      description: 'The name a manager gave it; null when none.',
      resolve: ({ node }) => node.Spec.Name || null,
    }),
    role: t.field({
      type: NodeRoleEnum,
      description: 'Manager or worker.',
      resolve: ({ node }) => node.Spec.Role,
    }),
    availability: t.field({
      type: NodeAvailabilityEnum,
      description: 'Whether tasks may be placed on it.',
      resolve: ({ node }) => node.Spec.Availability,
    }),
    state: t.string({
      description: 'ready, down, disconnected or unknown.',
      resolve: ({ node }) => node.Status.State,
    }),
    address: t.string({
      nullable: true,
      description: 'Its address as the managers see it.',
      resolve: ({ node }) => node.Status.Addr ?? null,
    }),
    managerStatus: t.field({
      type: NodeManagerStatusRef,
      nullable: true,
      description: 'Its raft membership; null for a worker.',
      resolve: ({ node }) => node.ManagerStatus ?? null,
    }),
    engineVersion: t.string({
      nullable: true,
      description: 'Version of its Docker engine.',
      resolve: ({ node }) => node.Description?.Engine?.EngineVersion ?? null,
    }),
    os: t.string({
      nullable: true,
      description: 'Operating system, e.g. linux.',
      resolve: ({ node }) => node.Description?.Platform?.OS ?? null,
    }),
    architecture: t.string({
      nullable: true,
      description: 'CPU architecture, e.g. x86_64.',
      resolve: ({ node }) => node.Description?.Platform?.Architecture ?? null,
    }),
    cpus: t.float({
      nullable: true,
      description: 'CPUs it offers.',
      resolve: ({ node }) => {
        const nanos = node.Description?.Resources?.NanoCPUs;
        return nanos === undefined ? null : nanos / 1_000_000_000;
      },
    }),
    memoryBytes: t.field({
      type: 'SafeInt',
      nullable: true,
      description: 'Memory it offers.',
      resolve: ({ node }) => node.Description?.Resources?.MemoryBytes ?? null,
    }),
    labels: t.field({
      type: [LabelRef],
      description: 'Node labels set by managers (used by placement constraints), sorted by name.',
      resolve: ({ node }) => toKeyValues(node.Spec.Labels),
    }),
    label: t.string({
      nullable: true,
      description: 'The value of one node label; null when it is not set.',
      args: { name: t.arg.string({ required: true, description: 'Label key.' }) },
      resolve: ({ node }, { name }) => labelValue(node.Spec.Labels, name),
    }),
    engineLabels: t.field({
      type: [LabelRef],
      description: 'Labels of its engine (daemon configuration).',
      resolve: ({ node }) => toKeyValues(node.Description?.Engine?.Labels),
    }),
    version: t.int({
      description: 'Version of its spec, for updates.',
      resolve: ({ node }) => node.Version.Index,
    }),
    createdAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it joined.',
      resolve: ({ node }) => parseEngineTime(node.CreatedAt),
    }),
    updatedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it last changed.',
      resolve: ({ node }) => parseEngineTime(node.UpdatedAt),
    }),
    isLocal: t.boolean({
      description: 'It is the engine this server talks to.',
      resolve: async ({ node }, _args, context) =>
        (await context.loaders.swarm.localNodeId()) === node.ID,
    }),
    tasks: t.field({
      type: [TaskRef],
      description: 'Tasks assigned to it.',
      args: {
        running: t.arg.boolean({
          required: false,
          defaultValue: false,
          description: 'Only tasks the swarm wants running.',
        }),
      },
      resolve: async ({ engine, node }, { running }, context) => {
        const tasks = await context.loaders.swarm.tasksByNode.load(node.ID);
        return tasks
          .filter((task) => !running || task.DesiredState === 'running')
          .map((task) => ({ engine, task }));
      },
    }),
    containers: t.field({
      type: [ContainerRef],
      nullable: true,
      description:
        'Containers of its engine, when it is the engine this server talks to; null for other nodes (their engines are not configured here).',
      resolve: async ({ engine, node }, _args, context) => {
        if ((await context.loaders.swarm.localNodeId()) !== node.ID) return null;
        const containers = await context.loaders.containers.all();
        return containers.map((container) => toContainerRecord(engine, container));
      },
    }),
  }),
});

const NodeFilterInput = builder.inputType('SwarmNodeFilter', {
  description: 'Which nodes to list. Conditions of different fields must all hold.',
  fields: (t) => ({
    ids: t.stringList({ required: false, description: 'Node ids or id prefixes.' }),
    names: t.stringList({ required: false, description: 'Node names or host names.' }),
    roles: t.field({ type: [NodeRoleEnum], required: false, description: 'Roles.' }),
    labels: t.stringList({ required: false, description: 'Node labels as `key` or `key=value`.' }),
    engineLabels: t.stringList({
      required: false,
      description: 'Engine labels as `key` or `key=value`.',
    }),
  }),
});

builder.queryFields((t) => ({
  swarmNodes: t.connection(
    {
      type: SwarmNodeRef,
      description:
        'Nodes of the swarm this engine manages, by host name. (Not `nodes`: that is the Relay lookup of objects by global ID.)',
      args: {
        filter: t.arg({
          type: NodeFilterInput,
          required: false,
          description: 'Which nodes to list.',
        }),
      },
      resolve: async (_root, args, context) => {
        const given = toLabelFilter(args.filter);
        checkLabelFilters('filter.engineLabels', given.engineLabels);
        const filters: NodeFilters = {
          ...(given.ids ? { ids: given.ids } : {}),
          ...(given.names ? { names: given.names } : {}),
          ...(given.roles ? { roles: given.roles } : {}),
          ...(given.labels ? { nodeLabels: given.labels } : {}),
          ...(given.engineLabels ? { labels: given.engineLabels } : {}),
        };
        const nodes = await context.loaders.swarm.nodeList(filters);
        return paginate(
          nodes.map((node) => ({ engine: context.engineName, node })),
          args,
          ({ node }) => `${node.Description?.Hostname ?? ''}:${node.ID}`,
        );
      },
    },
    { name: 'SwarmNodeConnection', description: 'A page of swarm nodes.' },
    { name: 'SwarmNodeEdge', description: 'A swarm node and its cursor.' },
  ),
}));

// ---------------------------------------------------------------------------
// Mutations

const UpdateNodeInput = builder.inputType('UpdateSwarmNodeInput', {
  description: 'Changes to a node (`docker node update`); what is not given stays.',
  fields: (t) => ({
    availability: t.field({
      type: NodeAvailabilityEnum,
      required: false,
      description: 'active, pause or drain.',
    }),
    role: t.field({
      type: NodeRoleEnum,
      required: false,
      description: 'Promote to manager or demote to worker.',
    }),
    labelAdd: t.field({
      type: [KeyValueInput],
      required: false,
      description: 'Node labels to set.',
    }),
    labelRemove: t.stringList({ required: false, description: 'Node labels to remove.' }),
  }),
});

const SwarmNodePayloadRef = builder.objectRef<SwarmNodeRecord>('SwarmNodePayload').implement({
  description: 'A node, read back after the change.',
  fields: (t) => ({
    node: t.field({ type: SwarmNodeRef, description: 'The node.', resolve: (payload) => payload }),
  }),
});

const RemoveSwarmNodePayloadRef = builder
  .objectRef<{ id: string }>('RemoveSwarmNodePayload')
  .implement({
    description: 'A node removed from the swarm.',
    fields: (t) => ({ dockerId: t.exposeString('id', { description: 'Its id.' }) }),
  });

builder.mutationFields((t) => ({
  updateSwarmNode: t.field({
    type: SwarmNodePayloadRef,
    description:
      'Changes a node: drain it (its tasks move), pause it, promote or demote it, set its labels. Sent with the version read, so a concurrent change is a ConflictError.',
    errors: { types: [...mutationErrors] },
    args: {
      id: t.arg.string({ required: true, description: 'The node: id, host name or global ID.' }),
      version: t.arg.int({
        required: false,
        description: 'The version the change is based on; the current one by default.',
      }),
      input: t.arg({ type: UpdateNodeInput, required: true, description: 'What to change.' }),
    },
    resolve: async (_root, { id, version, input }, context) => {
      const node = await visibleNode(context, 'id', id);
      const given = givenFields(input);
      if (Object.keys(given).length === 0)
        throw new InvalidInputError('input', 'nothing to change');
      const labels = { ...(node.Spec.Labels ?? {}) };
      for (const name of given.labelRemove ?? []) delete labels[name];
      Object.assign(labels, toStringMap('input.labelAdd', input.labelAdd) ?? {});
      await updateNode(context.docker, node.ID, version ?? node.Version.Index, {
        ...node.Spec,
        Labels: labels,
        ...(given.availability ? { Availability: given.availability } : {}),
        ...(given.role ? { Role: given.role } : {}),
      });
      context.renewLoaders();
      const updated = await context.loaders.swarm.nodeById.load(node.ID);
      return { engine: context.engineName, node: updated ?? node };
    },
  }),
  removeSwarmNode: t.field({
    type: RemoveSwarmNodePayloadRef,
    description:
      'Removes a node from the swarm (`docker node rm`). A node that is up, or a manager, is a conflict unless `force` is set.',
    errors: { types: [...mutationErrors] },
    args: {
      id: t.arg.string({ required: true, description: 'The node: id, host name or global ID.' }),
      force: t.arg.boolean({
        required: false,
        defaultValue: false,
        description: 'Remove it even when it is up.',
      }),
    },
    resolve: async (_root, { id, force }, context) => {
      const node = await visibleNode(context, 'id', id);
      await removeNode(context.docker, node.ID, force ?? false);
      return { id: node.ID };
    },
  }),
}));
