import { X509Certificate } from 'node:crypto';
import { InvalidInputError } from '../docker/errors.ts';
import { givenFields } from '../docker/given-fields.ts';
import {
  type EngineSwarm,
  initSwarm,
  inspectSwarm,
  joinSwarm,
  leaveSwarm,
  readUnlockKey,
  unlockSwarm,
  updateSwarm,
} from '../docker/swarm.ts';
import { type BuilderTypes, builder } from './builder.ts';
import { mutationErrors } from './mutation-errors.ts';
import { KeyValueInput, LabelRef, parseEngineTime, toKeyValues, toStringMap } from './shared.ts';

const NANOS_PER_SECOND = 1_000_000_000;

const JoinTokensRef = builder.objectRef<EngineSwarm['JoinTokens']>('SwarmJoinTokens').implement({
  description: 'The tokens that let an engine join the swarm: whoever holds one can join.',
  fields: (t) => ({
    worker: t.exposeString('Worker', { description: 'Joins as a worker.' }),
    manager: t.exposeString('Manager', { description: 'Joins as a manager.' }),
  }),
});

const SwarmRef = builder.objectRef<EngineSwarm>('Swarm').implement({
  description: 'The swarm this engine manages: its identity and cluster settings.',
  fields: (t) => ({
    clusterId: t.exposeString('ID', { description: 'The cluster id.' }),
    version: t.int({
      description: 'Version of its spec, for updates.',
      resolve: (swarm) => swarm.Version.Index,
    }),
    createdAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it was initialised.',
      resolve: (swarm) => parseEngineTime(swarm.CreatedAt),
    }),
    updatedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When its spec last changed.',
      resolve: (swarm) => parseEngineTime(swarm.UpdatedAt),
    }),
    labels: t.field({
      type: [LabelRef],
      description: 'Labels of the swarm.',
      resolve: (swarm) => toKeyValues(swarm.Spec.Labels),
    }),
    autolock: t.boolean({
      description: 'Managers need the unlock key after a restart.',
      resolve: (swarm) => swarm.Spec.EncryptionConfig?.AutoLockManagers === true,
    }),
    taskHistoryRetentionLimit: t.int({
      nullable: true,
      description: 'Finished tasks kept per slot.',
      resolve: (swarm) => swarm.Spec.Orchestration?.TaskHistoryRetentionLimit ?? null,
    }),
    raftSnapshotInterval: t.int({
      nullable: true,
      description: 'Raft log entries between snapshots.',
      resolve: (swarm) => swarm.Spec.Raft?.SnapshotInterval ?? null,
    }),
    raftElectionTick: t.int({
      nullable: true,
      description: 'Ticks without a leader before an election.',
      resolve: (swarm) => swarm.Spec.Raft?.ElectionTick ?? null,
    }),
    raftHeartbeatTick: t.int({
      nullable: true,
      description: 'Ticks between leader heartbeats.',
      resolve: (swarm) => swarm.Spec.Raft?.HeartbeatTick ?? null,
    }),
    dispatcherHeartbeatSeconds: t.float({
      nullable: true,
      description: 'How often nodes report to the managers.',
      resolve: (swarm) =>
        swarm.Spec.Dispatcher?.HeartbeatPeriod === undefined
          ? null
          : swarm.Spec.Dispatcher.HeartbeatPeriod / NANOS_PER_SECOND,
    }),
    nodeCertExpirySeconds: t.float({
      nullable: true,
      description: 'How long node certificates are valid.',
      resolve: (swarm) =>
        swarm.Spec.CAConfig?.NodeCertExpiry === undefined
          ? null
          : swarm.Spec.CAConfig.NodeCertExpiry / NANOS_PER_SECOND,
    }),
    caExpiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the root CA certificate of the swarm expires.',
      resolve: (swarm) => {
        const pem = swarm.TLSInfo?.TrustRoot;
        if (!pem) return null;
        try {
          return new Date(new X509Certificate(pem).validTo);
        } catch {
          return null;
        }
      },
    }),
    rootRotationInProgress: t.boolean({
      description: 'The root CA is being rotated.',
      resolve: (swarm) => swarm.RootRotationInProgress === true,
    }),
    defaultAddressPools: t.stringList({
      description: 'Subnets overlay networks get their ranges from.',
      resolve: (swarm) => swarm.DefaultAddrPool ?? [],
    }),
    dataPathPort: t.int({
      nullable: true,
      description: 'UDP port of overlay (VXLAN) traffic.',
      resolve: (swarm) => swarm.DataPathPort ?? null,
    }),
    joinTokens: t.field({
      type: JoinTokensRef,
      description:
        'The join tokens (needs the "dangerous" permission: a token lets an engine into the cluster).',
      resolve: (swarm) => swarm.JoinTokens,
    }),
    unlockKey: t.string({
      nullable: true,
      description:
        'The key that unlocks a restarted manager when autolock is on; null when it is off (needs "dangerous").',
      resolve: async (_swarm, _args, context) => (await readUnlockKey(context.docker)) || null,
    }),
  }),
});

builder.queryFields((t) => ({
  swarm: t.field({
    type: SwarmRef,
    nullable: true,
    description: 'The swarm this engine manages; null when it is not a swarm manager.',
    resolve: (_root, _args, context) => context.loaders.swarm.swarm(),
  }),
}));

// ---------------------------------------------------------------------------
// Mutations (all "dangerous": they change which engines form the cluster)

/** The addresses this node listens and is reached at, alike for `initSwarm` and `joinSwarm`. */
function nodeAddressFields(t: PothosSchemaTypes.InputFieldBuilder<BuilderTypes, 'InputObject'>) {
  return {
    listenAddress: t.string({
      required: false,
      description: 'address[:port] to listen on; 0.0.0.0:2377 by default.',
    }),
    advertiseAddress: t.string({
      required: false,
      description: 'address[:port] other nodes reach this one at.',
    }),
    dataPathAddress: t.string({ required: false, description: 'Address of overlay traffic.' }),
  };
}

const InitSwarmInput = builder.inputType('InitSwarmInput', {
  description: 'A new swarm with this engine as its first manager (`docker swarm init`).',
  fields: (t) => ({
    ...nodeAddressFields(t),
    forceNewCluster: t.boolean({
      required: false,
      description: 'Rebuild a one-manager swarm from this node’s state.',
    }),
    autolock: t.boolean({
      required: false,
      description: 'Lock managers after a restart until unlocked.',
    }),
    defaultAddressPools: t.stringList({
      required: false,
      description: 'Subnets for overlay networks (CIDR).',
    }),
    subnetSize: t.int({ required: false, description: 'Prefix length of each overlay subnet.' }),
    labels: t.field({
      type: [KeyValueInput],
      required: false,
      description: 'Labels of the swarm.',
    }),
  }),
});

const JoinSwarmInput = builder.inputType('JoinSwarmInput', {
  description: 'Join an existing swarm (`docker swarm join`).',
  fields: (t) => ({
    remoteAddresses: t.stringList({
      required: true,
      description: 'address:port of managers of the swarm.',
    }),
    joinToken: t.string({ required: true, description: 'The worker or manager join token.' }),
    ...nodeAddressFields(t),
  }),
});

const UpdateSwarmInput = builder.inputType('UpdateSwarmInput', {
  description: 'Changes to the swarm’s settings (`docker swarm update`); what is not given stays.',
  fields: (t) => ({
    autolock: t.boolean({ required: false, description: 'Turn autolock on or off.' }),
    taskHistoryRetentionLimit: t.int({
      required: false,
      description: 'Finished tasks kept per slot.',
    }),
    dispatcherHeartbeatSeconds: t.float({
      required: false,
      description: 'How often nodes report.',
    }),
    nodeCertExpirySeconds: t.float({
      required: false,
      description: 'Validity of node certificates.',
    }),
    rotateWorkerToken: t.boolean({
      required: false,
      description: 'Replace the worker join token.',
    }),
    rotateManagerToken: t.boolean({
      required: false,
      description: 'Replace the manager join token.',
    }),
    rotateUnlockKey: t.boolean({ required: false, description: 'Replace the unlock key.' }),
  }),
});

const SwarmPayloadRef = builder
  .objectRef<{ swarm: EngineSwarm | null; nodeId: string | null }>('SwarmPayload')
  .implement({
    description: 'The swarm after the change, as this engine sees it.',
    fields: (t) => ({
      swarm: t.field({
        type: SwarmRef,
        nullable: true,
        description: 'The swarm; null when this engine is not (or no longer) a manager.',
        resolve: (payload) => payload.swarm,
      }),
      nodeId: t.exposeString('nodeId', {
        nullable: true,
        description: 'The node id this engine got, for `initSwarm`.',
      }),
    }),
  });

const SECONDS_PER_DAY = 86_400;

function nanosOf(field: string, seconds: number | null | undefined, min = 0): number | undefined {
  if (seconds === null || seconds === undefined) return undefined;
  if (!Number.isFinite(seconds) || seconds < min) {
    throw new InvalidInputError(field, `must be at least ${min} seconds, got ${seconds}`);
  }
  return Math.round(seconds * NANOS_PER_SECOND);
}

/** `address[:port]`, an IPv6 address in brackets, or a network interface name, as the engine reads them. */
const addressPattern = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(?::\d{1,5})?$/;

/** Refuses what cannot be an address for the swarm to listen on or advertise, naming `field`. */
function checkAddress(field: string, value: string | null | undefined): void {
  if (value === null || value === undefined) return;
  if (!addressPattern.test(value)) {
    throw new InvalidInputError(field, `"${value}" is not an address[:port] or interface name`);
  }
}

builder.mutationFields((t) => ({
  initSwarm: t.field({
    type: SwarmPayloadRef,
    description: 'Makes this engine the first manager of a new swarm (`docker swarm init`).',
    errors: { types: [...mutationErrors] },
    args: { input: t.arg({ type: InitSwarmInput, required: true, description: 'The swarm.' }) },
    resolve: async (_root, { input }, context) => {
      const given = givenFields(input);
      checkAddress('input.listenAddress', given.listenAddress);
      checkAddress('input.advertiseAddress', given.advertiseAddress);
      checkAddress('input.dataPathAddress', given.dataPathAddress);
      const nodeId = await initSwarm(context.docker, {
        listenAddr: given.listenAddress ?? '0.0.0.0:2377',
        forceNewCluster: given.forceNewCluster ?? false,
        ...(given.advertiseAddress ? { advertiseAddr: given.advertiseAddress } : {}),
        ...(given.dataPathAddress ? { dataPathAddr: given.dataPathAddress } : {}),
        ...(given.autolock !== undefined ? { autoLockManagers: given.autolock } : {}),
        ...(given.defaultAddressPools ? { defaultAddrPool: given.defaultAddressPools } : {}),
        ...(given.subnetSize !== undefined ? { subnetSize: given.subnetSize } : {}),
        ...givenFields({ labels: toStringMap('input.labels', input.labels) }),
      });
      return { swarm: await inspectSwarm(context.docker), nodeId };
    },
  }),
  joinSwarm: t.field({
    type: SwarmPayloadRef,
    description:
      'This engine joins an existing swarm (`docker swarm join`); the token decides its role.',
    errors: { types: [...mutationErrors] },
    args: {
      input: t.arg({ type: JoinSwarmInput, required: true, description: 'Where and how to join.' }),
    },
    resolve: async (_root, { input }, context) => {
      if (input.remoteAddresses.length === 0) {
        throw new InvalidInputError('input.remoteAddresses', 'needs at least one manager address');
      }
      if (input.joinToken.trim() === '')
        throw new InvalidInputError('input.joinToken', 'must not be empty');
      const given = givenFields(input);
      await joinSwarm(context.docker, {
        listenAddr: given.listenAddress ?? '0.0.0.0:2377',
        remoteAddrs: input.remoteAddresses,
        joinToken: input.joinToken,
        ...(given.advertiseAddress ? { advertiseAddr: given.advertiseAddress } : {}),
        ...(given.dataPathAddress ? { dataPathAddr: given.dataPathAddress } : {}),
      });
      const info = await context.loaders.system.info();
      return { swarm: await inspectSwarm(context.docker), nodeId: info.Swarm?.NodeID || null };
    },
  }),
  leaveSwarm: t.field({
    type: SwarmPayloadRef,
    description: 'This engine leaves its swarm (`docker swarm leave`); a manager needs `force`.',
    errors: { types: [...mutationErrors] },
    args: {
      force: t.arg.boolean({
        required: false,
        defaultValue: false,
        description: 'Leave even as a manager.',
      }),
    },
    resolve: async (_root, { force }, context) => {
      await leaveSwarm(context.docker, force ?? false);
      return { swarm: null, nodeId: null };
    },
  }),
  updateSwarm: t.field({
    type: SwarmPayloadRef,
    description:
      'Changes the swarm’s settings, rotates join tokens or the unlock key (`docker swarm update`), sent with the version read.',
    errors: { types: [...mutationErrors] },
    args: {
      version: t.arg.int({
        required: false,
        description: 'The version the change is based on; the current one by default.',
      }),
      input: t.arg({ type: UpdateSwarmInput, required: true, description: 'What to change.' }),
    },
    resolve: async (_root, { version, input }, context) => {
      const swarm = await inspectSwarm(context.docker);
      if (!swarm) throw new InvalidInputError(null, 'this engine is not a swarm manager');
      const given = givenFields(input);
      const spec = structuredClone(swarm.Spec);
      if (given.autolock !== undefined)
        spec.EncryptionConfig = { AutoLockManagers: given.autolock };
      if (given.taskHistoryRetentionLimit !== undefined) {
        spec.Orchestration = {
          ...spec.Orchestration,
          TaskHistoryRetentionLimit: given.taskHistoryRetentionLimit,
        };
      }
      const heartbeat = nanosOf(
        'input.dispatcherHeartbeatSeconds',
        given.dispatcherHeartbeatSeconds,
        1,
      );
      if (heartbeat !== undefined)
        spec.Dispatcher = { ...spec.Dispatcher, HeartbeatPeriod: heartbeat };
      const expiry = nanosOf(
        'input.nodeCertExpirySeconds',
        given.nodeCertExpirySeconds,
        SECONDS_PER_DAY,
      );
      if (expiry !== undefined) spec.CAConfig = { ...spec.CAConfig, NodeCertExpiry: expiry };
      await updateSwarm(context.docker, spec, {
        version: version ?? swarm.Version.Index,
        ...givenFields({
          rotateWorkerToken: given.rotateWorkerToken,
          rotateManagerToken: given.rotateManagerToken,
          rotateManagerUnlockKey: given.rotateUnlockKey,
        }),
      });
      return { swarm: await inspectSwarm(context.docker), nodeId: null };
    },
  }),
  unlockSwarm: t.field({
    type: SwarmPayloadRef,
    description:
      'Unlocks this manager of an autolocked swarm after a restart (`docker swarm unlock`).',
    errors: { types: [...mutationErrors] },
    args: { unlockKey: t.arg.string({ required: true, description: 'The unlock key.' }) },
    resolve: async (_root, { unlockKey }, context) => {
      if (unlockKey.trim() === '') throw new InvalidInputError('unlockKey', 'must not be empty');
      await unlockSwarm(context.docker, unlockKey);
      return { swarm: await inspectSwarm(context.docker), nodeId: null };
    },
  }),
}));
