import type { DockerClient, EngineCall } from './client.ts';
import type { definitions } from './engine-api.ts';
import { EngineConflictError, EngineError, EngineNotFoundError } from './errors.ts';
import { type EngineFilters, encodeFilters, encodePathSegment } from './filters.ts';

/** The version of a swarm object: updates must send the one they read (optimistic locking). */
export interface EngineObjectVersion {
  Index: number;
}

/** The settings of a swarm (`Spec` of `GET /swarm`). */
export interface EngineSwarmSpec {
  Name?: string;
  Labels?: Record<string, string> | null;
  Orchestration?: { TaskHistoryRetentionLimit?: number } | null;
  Raft?: definitions['SwarmSpec']['Raft'] | null;
  Dispatcher?: { HeartbeatPeriod?: number } | null;
  CAConfig?: { NodeCertExpiry?: number } | null;
  EncryptionConfig?: { AutoLockManagers?: boolean } | null;
  TaskDefaults?: Record<string, unknown> | null;
}

/** A swarm as `GET /swarm` describes it to a manager. */
export interface EngineSwarm {
  ID: string;
  Version: EngineObjectVersion;
  CreatedAt: string;
  UpdatedAt: string;
  Spec: EngineSwarmSpec;
  TLSInfo?: { TrustRoot?: string; CertIssuerSubject?: string; CertIssuerPublicKey?: string };
  RootRotationInProgress?: boolean;
  DataPathPort?: number;
  DefaultAddrPool?: string[] | null;
  SubnetSize?: number;
  JoinTokens: { Worker: string; Manager: string };
}

/** A node of the swarm (`GET /nodes`). */
export interface EngineNode {
  ID: string;
  Version: EngineObjectVersion;
  CreatedAt: string;
  UpdatedAt: string;
  Spec: {
    Name?: string;
    Labels?: Record<string, string> | null;
    Role: 'worker' | 'manager';
    Availability: 'active' | 'pause' | 'drain';
  };
  Description?: {
    Hostname?: string;
    Platform?: { Architecture?: string; OS?: string };
    Resources?: { NanoCPUs?: number; MemoryBytes?: number };
    Engine?: { EngineVersion?: string; Labels?: Record<string, string> | null };
  };
  Status: { State: string; Message?: string; Addr?: string };
  ManagerStatus?: { Leader?: boolean; Reachability?: string; Addr?: string } | null;
}

/**
 * The engine answers 503 to cluster reads on an engine that is not a manager
 * (a worker, or an engine in no swarm): there is no swarm to describe here.
 */
function isNotManager(error: unknown): boolean {
  return error instanceof EngineError && error.status === 503;
}

/** `GET /swarm`: the swarm this engine manages; `null` when it is not a manager of one. */
export async function inspectSwarm(client: DockerClient): Promise<EngineSwarm | null> {
  try {
    return await client.json<EngineSwarm>({ path: '/swarm' }, 'inspect the swarm');
  } catch (error) {
    if (isNotManager(error)) return null;
    throw error;
  }
}

/** What `POST /swarm/init` takes. */
export interface SwarmInitSpec {
  /** `address[:port]` the manager listens on for other managers; default `0.0.0.0:2377`. */
  readonly listenAddr: string;
  /** `address[:port]` other nodes reach this one at. */
  readonly advertiseAddr?: string;
  readonly dataPathAddr?: string;
  /** Rebuild a one-manager swarm from this node's state (disaster recovery). */
  readonly forceNewCluster: boolean;
  readonly autoLockManagers?: boolean;
  readonly defaultAddrPool?: readonly string[];
  readonly subnetSize?: number;
  readonly labels?: Readonly<Record<string, string>>;
}

/** `POST /swarm/init`: makes this engine the first manager of a new swarm; answers the node id. */
export async function initSwarm(client: DockerClient, spec: SwarmInitSpec): Promise<string> {
  const body = {
    ListenAddr: spec.listenAddr,
    AdvertiseAddr: spec.advertiseAddr,
    DataPathAddr: spec.dataPathAddr,
    ForceNewCluster: spec.forceNewCluster,
    DefaultAddrPool: spec.defaultAddrPool,
    SubnetSize: spec.subnetSize,
    Spec: {
      Labels: spec.labels,
      EncryptionConfig:
        spec.autoLockManagers === undefined
          ? undefined
          : { AutoLockManagers: spec.autoLockManagers },
    },
  };
  return client.json<string>(
    {
      method: 'POST',
      path: '/swarm/init',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      timeoutMs: 60_000,
    },
    'initialise a swarm',
  );
}

/** What `POST /swarm/join` takes. */
export interface SwarmJoinSpec {
  readonly listenAddr: string;
  readonly advertiseAddr?: string;
  readonly dataPathAddr?: string;
  /** `address:port` of managers of the swarm. */
  readonly remoteAddrs: readonly string[];
  /** The worker or manager join token: it decides the role. */
  readonly joinToken: string;
}

/** `POST /swarm/join`: this engine joins an existing swarm. */
export async function joinSwarm(client: DockerClient, spec: SwarmJoinSpec): Promise<void> {
  const response = await client.request(
    {
      method: 'POST',
      path: '/swarm/join',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        ListenAddr: spec.listenAddr,
        AdvertiseAddr: spec.advertiseAddr,
        DataPathAddr: spec.dataPathAddr,
        RemoteAddrs: spec.remoteAddrs,
        JoinToken: spec.joinToken,
      }),
      timeoutMs: 60_000,
    },
    'join the swarm',
  );
  await response.body.dump();
}

/** `POST /swarm/leave`: this engine leaves its swarm; a manager needs `force`. */
export async function leaveSwarm(client: DockerClient, force: boolean): Promise<void> {
  const response = await client.request(
    { method: 'POST', path: '/swarm/leave', query: { force }, timeoutMs: 60_000 },
    'leave the swarm',
  );
  await response.body.dump();
}

/** Options of {@link updateSwarm}. */
export interface SwarmUpdateOptions {
  /** The version read with the spec; a stale one is a conflict. */
  readonly version: number;
  readonly rotateWorkerToken?: boolean;
  readonly rotateManagerToken?: boolean;
  readonly rotateManagerUnlockKey?: boolean;
}

/**
 * The engine answers an update sent with a version that is no longer current
 * with a 500 "update out of sequence": someone changed the object in between.
 */
export function reclassifyOutOfSequence(error: unknown, what: string): unknown {
  if (error instanceof EngineError && /update out of sequence/i.test(error.message)) {
    return new EngineConflictError(
      'CONFLICT',
      `${what}: the object changed since its version was read (update out of sequence); read it again and retry`,
      error.status,
      { cause: error },
    );
  }
  return error;
}

/** `POST /swarm/update?version=…`: replaces the swarm's spec. */
export async function updateSwarm(
  client: DockerClient,
  spec: EngineSwarmSpec,
  options: SwarmUpdateOptions,
): Promise<void> {
  await postSpecUpdate(
    client,
    '/swarm/update',
    {
      version: options.version,
      rotateWorkerToken: options.rotateWorkerToken,
      rotateManagerToken: options.rotateManagerToken,
      rotateManagerUnlockKey: options.rotateManagerUnlockKey,
    },
    spec,
    'update the swarm',
  );
}

/** POSTs a new spec to a versioned update endpoint; a stale `version` fails as a conflict. */
async function postSpecUpdate(
  client: DockerClient,
  path: string,
  query: NonNullable<EngineCall['query']>,
  spec: unknown,
  what: string,
): Promise<void> {
  try {
    const response = await client.request(
      {
        method: 'POST',
        path,
        query,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(spec),
      },
      what,
    );
    await response.body.dump();
  } catch (error) {
    throw reclassifyOutOfSequence(error, what);
  }
}

/** `GET /swarm/unlockkey`: the key that unlocks a manager of an autolocked swarm ("" when off). */
export async function readUnlockKey(client: DockerClient): Promise<string> {
  const answer = await client.json<{ UnlockKey: string }>(
    { path: '/swarm/unlockkey' },
    'read the unlock key',
  );
  return answer.UnlockKey;
}

/** `POST /swarm/unlock`: unlocks this locked manager with the unlock key. */
export async function unlockSwarm(client: DockerClient, unlockKey: string): Promise<void> {
  const response = await client.request(
    {
      method: 'POST',
      path: '/swarm/unlock',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ UnlockKey: unlockKey }),
    },
    'unlock the swarm',
  );
  await response.body.dump();
}

// ---------------------------------------------------------------------------
// Nodes

/** Typed filters of the node list. */
export interface NodeFilters {
  readonly ids?: readonly string[];
  /** Engine labels, `key` or `key=value`. */
  readonly labels?: readonly string[];
  /** Node labels (set by managers), `key` or `key=value`. */
  readonly nodeLabels?: readonly string[];
  readonly memberships?: readonly ('accepted' | 'pending')[];
  readonly names?: readonly string[];
  readonly roles?: readonly ('manager' | 'worker')[];
}

function nodeEngineFilters(filters: NodeFilters | undefined): EngineFilters | undefined {
  if (!filters) return undefined;
  return {
    id: filters.ids,
    label: filters.labels,
    'node.label': filters.nodeLabels,
    membership: filters.memberships,
    name: filters.names,
    role: filters.roles,
  };
}

/** `GET /nodes`: the nodes of the swarm matching the filters. */
export function listNodes(
  client: DockerClient,
  options: { filters?: NodeFilters } = {},
): Promise<EngineNode[]> {
  return client.json<EngineNode[]>(
    { path: '/nodes', query: { filters: encodeFilters(nodeEngineFilters(options.filters)) } },
    'list nodes',
  );
}

/** `GET /nodes/{id}`: one node by id or name; `null` when missing. */
export function inspectNode(client: DockerClient, id: string): Promise<EngineNode | null> {
  return client.jsonOrNull<EngineNode>(
    { path: `/nodes/${encodePathSegment(id)}` },
    `inspect node "${id}"`,
  );
}

/** `POST /nodes/{id}/update?version=…`: replaces a node's spec (role, availability, labels). */
export async function updateNode(
  client: DockerClient,
  id: string,
  version: number,
  spec: EngineNode['Spec'],
): Promise<void> {
  await postSpecUpdate(
    client,
    `/nodes/${encodePathSegment(id)}/update`,
    { version },
    spec,
    `update node "${id}"`,
  );
}

/**
 * `DELETE /nodes/{id}`: removes a node from the swarm. A node still up, or a
 * manager, is a conflict unless `force` is set (managers must be demoted first).
 */
export async function removeNode(client: DockerClient, id: string, force: boolean): Promise<void> {
  const what = `remove node "${id}"`;
  try {
    const response = await client.request(
      { method: 'DELETE', path: `/nodes/${encodePathSegment(id)}`, query: { force } },
      what,
    );
    await response.body.dump();
  } catch (error) {
    // The engine answers 400 for "is not down" and "is a cluster manager".
    if (
      error instanceof EngineError &&
      !(error instanceof EngineNotFoundError) &&
      /is not down|is a cluster manager|must be demoted/i.test(error.message)
    ) {
      throw new EngineConflictError('CONFLICT', error.message, error.status, { cause: error });
    }
    throw error;
  }
}
