import { toEngineMap, toEnvList } from './container-spec.ts';
import type { definitions } from './engine-api.ts';
import { InvalidInputError } from './errors.ts';
import type { Maybe, NameValueSpec } from './spec-input.ts';

/**
 * What `docker service create` and `docker service update` users configure,
 * checked and turned into the `ServiceSpec` bodies of `POST /services/create`
 * and `POST /services/{id}/update`. Pure functions: every problem is an
 * {@link InvalidInputError} naming the input path, raised before any engine call.
 */

/** A file a secret or config is mounted as, inside `/run/secrets` or at the root by default. */
export interface EngineFileTarget {
  Name: string;
  UID: string;
  GID: string;
  Mode: number;
}

/** `ContainerSpec` of a task template. */
export interface EngineContainerSpec
  extends Pick<
    NonNullable<definitions['TaskSpec']['ContainerSpec']>,
    'Command' | 'Args' | 'Hostname' | 'Env' | 'Dir' | 'User'
  > {
  Image: string;
  Labels?: Record<string, string>;
  TTY?: boolean;
  ReadOnly?: boolean;
  Mounts?: {
    Type: string;
    Source?: string;
    Target: string;
    ReadOnly?: boolean;
    VolumeOptions?: {
      NoCopy?: boolean;
      Labels?: Record<string, string>;
      DriverConfig?: { Name?: string; Options?: Record<string, string> };
    };
    TmpfsOptions?: { SizeBytes?: number; Mode?: number };
  }[];
  StopGracePeriod?: number;
  Secrets?: { File: EngineFileTarget; SecretID: string; SecretName: string }[];
  Configs?: { File: EngineFileTarget; ConfigID: string; ConfigName: string }[];
  CapabilityAdd?: string[];
  CapabilityDrop?: string[];
  Init?: boolean;
  Sysctls?: Record<string, string>;
  Privileges?: Record<string, unknown>;
}

/** Limits or reservations of a task. */
export interface EngineTaskResources {
  NanoCPUs?: number;
  MemoryBytes?: number;
  Pids?: number;
}

/** `UpdateConfig` or `RollbackConfig` of a service. */
export interface EngineUpdateConfig {
  Parallelism?: number;
  Delay?: number;
  FailureAction?: string;
  Monitor?: number;
  MaxFailureRatio?: number;
  Order?: string;
}

/** `TaskTemplate` of a service (and `Spec` of a task). */
export interface EngineTaskSpec {
  ContainerSpec?: EngineContainerSpec;
  Resources?: { Limits?: EngineTaskResources; Reservations?: EngineTaskResources };
  RestartPolicy?: { Condition?: string; Delay?: number; MaxAttempts?: number; Window?: number };
  Placement?: {
    Constraints?: string[];
    Preferences?: { Spread: { SpreadDescriptor: string } }[];
    MaxReplicas?: number;
  };
  Networks?: { Target: string; Aliases?: string[] }[];
  ForceUpdate?: number;
  LogDriver?: { Name: string; Options?: Record<string, string> };
}

/** A service's spec as the engine takes and answers it. */
export interface EngineServiceSpec {
  Name?: string;
  Labels?: Record<string, string>;
  TaskTemplate: EngineTaskSpec;
  Mode?: {
    Replicated?: { Replicas?: number };
    Global?: Record<string, never>;
    ReplicatedJob?: { MaxConcurrent?: number; TotalCompletions?: number };
    GlobalJob?: Record<string, never>;
  };
  UpdateConfig?: EngineUpdateConfig;
  RollbackConfig?: EngineUpdateConfig;
  EndpointSpec?: {
    Mode?: string;
    Ports?: EngineEndpointPort[];
  };
}

/** A port of a service's endpoint, as asked for (`EndpointSpec`) or as published (`Endpoint`). */
export interface EngineEndpointPort {
  Name?: string;
  Protocol?: string;
  TargetPort: number;
  PublishedPort?: number;
  PublishMode?: string;
}

/** A published port: `--publish mode=host,target=80,published=8080`. */
export interface ServicePortSpec {
  readonly target: number;
  /** Absent: the swarm picks one (ingress mode only). */
  readonly published?: Maybe<number>;
  readonly protocol?: Maybe<'tcp' | 'udp' | 'sctp'>;
  /** `ingress` (routing mesh, the engine's default) or `host` (on the node running the task). */
  readonly mode?: Maybe<'ingress' | 'host'>;
}

/** A mount of each task: `--mount type=volume,source=data,target=/data`. */
export interface ServiceMountSpec {
  readonly type: 'bind' | 'volume' | 'tmpfs';
  readonly source?: Maybe<string>;
  readonly target: string;
  readonly readOnly?: Maybe<boolean>;
  readonly tmpfsSizeBytes?: Maybe<number>;
}

/** A secret or config mounted as a file; the schema resolves its id and name. */
export interface ServiceFileSpec {
  readonly id: string;
  readonly name: string;
  /** File name: under `/run/secrets/` for secrets, an absolute path or `/<name>` for configs. */
  readonly target?: Maybe<string>;
  readonly uid?: Maybe<string>;
  readonly gid?: Maybe<string>;
  /** File mode, e.g. 0o444 (the engine's default). */
  readonly mode?: Maybe<number>;
}

/** CPUs (fractions allowed) and memory of each task. */
export interface ServiceResourcesSpec {
  readonly cpus?: Maybe<number>;
  readonly memoryBytes?: Maybe<number>;
  readonly pids?: Maybe<number>;
}

/** `--update-*` and `--rollback-*` settings. */
export interface ServiceUpdatePolicySpec {
  readonly parallelism?: Maybe<number>;
  readonly delaySeconds?: Maybe<number>;
  readonly failureAction?: Maybe<'pause' | 'continue' | 'rollback'>;
  readonly monitorSeconds?: Maybe<number>;
  readonly maxFailureRatio?: Maybe<number>;
  readonly order?: Maybe<'stop-first' | 'start-first'>;
}

/** `--restart-*` settings. */
export interface ServiceRestartSpec {
  readonly condition: 'none' | 'on-failure' | 'any';
  readonly delaySeconds?: Maybe<number>;
  readonly maxAttempts?: Maybe<number>;
  readonly windowSeconds?: Maybe<number>;
}

/** What `docker service create` takes, as far as dockergraph offers it. */
export interface ServiceDefinition {
  readonly name: string;
  readonly image: string;
  readonly command?: Maybe<readonly string[]>;
  readonly args?: Maybe<readonly string[]>;
  readonly env?: Maybe<readonly NameValueSpec[]>;
  readonly workdir?: Maybe<string>;
  readonly user?: Maybe<string>;
  readonly hostname?: Maybe<string>;
  readonly tty?: Maybe<boolean>;
  readonly readOnly?: Maybe<boolean>;
  readonly labels?: Maybe<Readonly<Record<string, string>>>;
  readonly containerLabels?: Maybe<Readonly<Record<string, string>>>;
  /** Replicas of a replicated service; absent with `global` false means 1. */
  readonly replicas?: Maybe<number>;
  /** One task on every node that satisfies the placement. */
  readonly global?: Maybe<boolean>;
  readonly ports?: Maybe<readonly ServicePortSpec[]>;
  /** Networks by id or name. */
  readonly networks?: Maybe<
    readonly { readonly target: string; readonly aliases?: Maybe<readonly string[]> }[]
  >;
  readonly mounts?: Maybe<readonly ServiceMountSpec[]>;
  readonly limits?: Maybe<ServiceResourcesSpec>;
  readonly reservations?: Maybe<ServiceResourcesSpec>;
  /** Placement constraints, e.g. `node.role==worker`, `node.labels.zone==a`. */
  readonly constraints?: Maybe<readonly string[]>;
  /** Spread tasks over the values of these node attributes, e.g. `node.labels.zone`. */
  readonly spreadOver?: Maybe<readonly string[]>;
  readonly maxReplicasPerNode?: Maybe<number>;
  readonly restart?: Maybe<ServiceRestartSpec>;
  readonly update?: Maybe<ServiceUpdatePolicySpec>;
  readonly rollback?: Maybe<ServiceUpdatePolicySpec>;
  readonly secrets?: Maybe<readonly ServiceFileSpec[]>;
  readonly configs?: Maybe<readonly ServiceFileSpec[]>;
  readonly capAdd?: Maybe<readonly string[]>;
  readonly capDrop?: Maybe<readonly string[]>;
  readonly stopGracePeriodSeconds?: Maybe<number>;
}

const NANOS_PER_SECOND = 1_000_000_000;

/** Swarm names: letters, digits and "-", as the engine's validation requires (at most 63). */
const serviceNamePattern = /^[a-zA-Z0-9](?:[a-zA-Z0-9-_.]{0,61}[a-zA-Z0-9])?$/;

/** Refuses a name the swarm would refuse, naming `field`. */
export function checkSwarmName(field: string, name: string): string {
  if (!serviceNamePattern.test(name)) {
    throw new InvalidInputError(
      field,
      `"${name}" is not a valid name: 1 to 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`,
    );
  }
  return name;
}

function checkCount(field: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new InvalidInputError(field, `must be a whole number of at least ${min}, got ${value}`);
  }
  return value;
}

function nanos(field: string, seconds: Maybe<number>): number | undefined {
  if (seconds === null || seconds === undefined) return undefined;
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new InvalidInputError(field, `must be a non-negative number of seconds, got ${seconds}`);
  }
  return Math.round(seconds * NANOS_PER_SECOND);
}

function checkPort(field: string, port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new InvalidInputError(field, `${port} is not a port number (1-65535)`);
  }
  return port;
}

function toResources(
  field: string,
  spec: Maybe<ServiceResourcesSpec>,
): EngineTaskResources | undefined {
  if (!spec) return undefined;
  const resources: EngineTaskResources = {};
  if (spec.cpus !== null && spec.cpus !== undefined) {
    if (!(spec.cpus > 0)) throw new InvalidInputError(`${field}.cpus`, 'must be above 0');
    resources.NanoCPUs = Math.round(spec.cpus * NANOS_PER_SECOND);
  }
  if (spec.memoryBytes !== null && spec.memoryBytes !== undefined) {
    resources.MemoryBytes = checkCount(`${field}.memoryBytes`, spec.memoryBytes, 4 * 1024 * 1024);
  }
  if (spec.pids !== null && spec.pids !== undefined) {
    resources.Pids = checkCount(`${field}.pids`, spec.pids, 1);
  }
  return resources;
}

function toUpdateConfig(
  field: string,
  spec: Maybe<ServiceUpdatePolicySpec>,
): EngineUpdateConfig | undefined {
  if (!spec) return undefined;
  const config: EngineUpdateConfig = {};
  if (spec.parallelism !== null && spec.parallelism !== undefined) {
    config.Parallelism = checkCount(`${field}.parallelism`, spec.parallelism, 0);
  }
  const delay = nanos(`${field}.delaySeconds`, spec.delaySeconds);
  if (delay !== undefined) config.Delay = delay;
  const monitor = nanos(`${field}.monitorSeconds`, spec.monitorSeconds);
  if (monitor !== undefined) config.Monitor = monitor;
  if (spec.failureAction) config.FailureAction = spec.failureAction;
  if (spec.maxFailureRatio !== null && spec.maxFailureRatio !== undefined) {
    if (!(spec.maxFailureRatio >= 0 && spec.maxFailureRatio <= 1)) {
      throw new InvalidInputError(`${field}.maxFailureRatio`, 'must be between 0 and 1');
    }
    config.MaxFailureRatio = spec.maxFailureRatio;
  }
  if (spec.order) config.Order = spec.order;
  return config;
}

function toFileTarget(field: string, file: ServiceFileSpec, fallback: string): EngineFileTarget {
  const name = file.target ?? fallback;
  if (name.trim() === '' || name.includes('\0')) {
    throw new InvalidInputError(`${field}.target`, 'must be a file name');
  }
  const mode = file.mode ?? 0o444;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    throw new InvalidInputError(`${field}.mode`, `${mode} is not a file mode (0 to 0o7777)`);
  }
  return { Name: name, UID: file.uid ?? '0', GID: file.gid ?? '0', Mode: mode };
}

/** The secrets of a task template, each mounted under `/run/secrets/<target>`. */
export function toEngineSecrets(
  field: string,
  secrets: readonly ServiceFileSpec[],
): NonNullable<EngineContainerSpec['Secrets']> {
  return secrets.map((secret, index) => ({
    File: toFileTarget(`${field}[${index}]`, secret, secret.name),
    SecretID: secret.id,
    SecretName: secret.name,
  }));
}

/** The configs of a task template, each mounted at `<target>` (default `/<name>`). */
export function toEngineConfigs(
  field: string,
  configs: readonly ServiceFileSpec[],
): NonNullable<EngineContainerSpec['Configs']> {
  return configs.map((config, index) => ({
    File: toFileTarget(`${field}[${index}]`, config, `/${config.name}`),
    ConfigID: config.id,
    ConfigName: config.name,
  }));
}

function toMounts(
  field: string,
  mounts: readonly ServiceMountSpec[],
): NonNullable<EngineContainerSpec['Mounts']> {
  return mounts.map((mount, index) => {
    const at = `${field}[${index}]`;
    if (!mount.target.startsWith('/')) {
      throw new InvalidInputError(`${at}.target`, `"${mount.target}" is not an absolute path`);
    }
    if (mount.type === 'bind' && !mount.source?.startsWith('/')) {
      throw new InvalidInputError(`${at}.source`, 'a bind mount needs an absolute host path');
    }
    if (mount.type === 'tmpfs' && mount.source) {
      throw new InvalidInputError(`${at}.source`, 'a tmpfs mount has no source');
    }
    return {
      Type: mount.type,
      ...(mount.source ? { Source: mount.source } : {}),
      Target: mount.target,
      ...(mount.readOnly ? { ReadOnly: true } : {}),
      ...(mount.type === 'tmpfs' && mount.tmpfsSizeBytes
        ? { TmpfsOptions: { SizeBytes: mount.tmpfsSizeBytes } }
        : {}),
    };
  });
}

function toPorts(
  field: string,
  ports: readonly ServicePortSpec[],
): NonNullable<NonNullable<EngineServiceSpec['EndpointSpec']>['Ports']> {
  return ports.map((port, index) => ({
    Protocol: port.protocol ?? 'tcp',
    TargetPort: checkPort(`${field}[${index}].target`, port.target),
    ...(port.published !== null && port.published !== undefined
      ? { PublishedPort: checkPort(`${field}[${index}].published`, port.published) }
      : {}),
    PublishMode: port.mode ?? 'ingress',
  }));
}

/** The `Mode` of a service: replicated (with replicas) or global. */
function toMode(
  field: string,
  definition: ServiceDefinition,
): NonNullable<EngineServiceSpec['Mode']> {
  if (definition.global) {
    if (definition.replicas !== null && definition.replicas !== undefined) {
      throw new InvalidInputError(`${field}.replicas`, 'a global service has no replica count');
    }
    return { Global: {} };
  }
  return {
    Replicated: { Replicas: checkCount(`${field}.replicas`, definition.replicas ?? 1, 0) },
  };
}

/** The body of `POST /services/create` for `definition`, checked; `field` prefixes input paths. */
export function toServiceSpec(field: string, definition: ServiceDefinition): EngineServiceSpec {
  checkSwarmName(`${field}.name`, definition.name);
  if (definition.image.trim() === '' || /\s/.test(definition.image)) {
    throw new InvalidInputError(
      `${field}.image`,
      `"${definition.image}" is not an image reference`,
    );
  }
  const container: EngineContainerSpec = { Image: definition.image };
  if (definition.command) container.Command = [...definition.command];
  if (definition.args) container.Args = [...definition.args];
  if (definition.env) container.Env = toEnvList(`${field}.env`, definition.env);
  if (definition.workdir) container.Dir = definition.workdir;
  if (definition.user) container.User = definition.user;
  if (definition.hostname) container.Hostname = definition.hostname;
  if (definition.tty) container.TTY = true;
  if (definition.readOnly) container.ReadOnly = true;
  if (definition.containerLabels) container.Labels = { ...definition.containerLabels };
  if (definition.mounts) container.Mounts = toMounts(`${field}.mounts`, definition.mounts);
  if (definition.secrets)
    container.Secrets = toEngineSecrets(`${field}.secrets`, definition.secrets);
  if (definition.configs)
    container.Configs = toEngineConfigs(`${field}.configs`, definition.configs);
  if (definition.capAdd) container.CapabilityAdd = [...definition.capAdd];
  if (definition.capDrop) container.CapabilityDrop = [...definition.capDrop];
  const grace = nanos(`${field}.stopGracePeriodSeconds`, definition.stopGracePeriodSeconds);
  if (grace !== undefined) container.StopGracePeriod = grace;

  const task: EngineTaskSpec = { ContainerSpec: container };
  const limits = toResources(`${field}.limits`, definition.limits);
  const reservations = toResources(`${field}.reservations`, definition.reservations);
  if (limits || reservations) {
    task.Resources = {
      ...(limits ? { Limits: limits } : {}),
      ...(reservations ? { Reservations: reservations } : {}),
    };
  }
  if (definition.restart) {
    const restart = definition.restart;
    task.RestartPolicy = { Condition: restart.condition };
    const delay = nanos(`${field}.restart.delaySeconds`, restart.delaySeconds);
    if (delay !== undefined) task.RestartPolicy.Delay = delay;
    const window = nanos(`${field}.restart.windowSeconds`, restart.windowSeconds);
    if (window !== undefined) task.RestartPolicy.Window = window;
    if (restart.maxAttempts !== null && restart.maxAttempts !== undefined) {
      task.RestartPolicy.MaxAttempts = checkCount(
        `${field}.restart.maxAttempts`,
        restart.maxAttempts,
        0,
      );
    }
  }
  if (definition.constraints || definition.spreadOver || definition.maxReplicasPerNode) {
    task.Placement = {};
    if (definition.constraints) {
      definition.constraints.forEach((constraint, index) => {
        if (!/^[\w.-]+\s*(==|!=)\s*\S/.test(constraint)) {
          throw new InvalidInputError(
            `${field}.constraints[${index}]`,
            `"${constraint}" is not a constraint such as "node.role==worker"`,
          );
        }
      });
      task.Placement.Constraints = [...definition.constraints];
    }
    if (definition.spreadOver) {
      task.Placement.Preferences = definition.spreadOver.map((descriptor) => ({
        Spread: { SpreadDescriptor: descriptor },
      }));
    }
    if (definition.maxReplicasPerNode) {
      task.Placement.MaxReplicas = checkCount(
        `${field}.maxReplicasPerNode`,
        definition.maxReplicasPerNode,
        1,
      );
    }
  }
  if (definition.networks) {
    task.Networks = definition.networks.map((network, index) => {
      if (network.target.trim() === '') {
        throw new InvalidInputError(`${field}.networks[${index}].target`, 'must not be empty');
      }
      return {
        Target: network.target,
        ...(network.aliases ? { Aliases: [...network.aliases] } : {}),
      };
    });
  }

  const spec: EngineServiceSpec = {
    Name: definition.name,
    TaskTemplate: task,
    Mode: toMode(field, definition),
  };
  if (definition.labels) spec.Labels = { ...definition.labels };
  const update = toUpdateConfig(`${field}.update`, definition.update);
  if (update) spec.UpdateConfig = update;
  const rollback = toUpdateConfig(`${field}.rollback`, definition.rollback);
  if (rollback) spec.RollbackConfig = rollback;
  if (definition.ports) spec.EndpointSpec = { Ports: toPorts(`${field}.ports`, definition.ports) };
  return spec;
}

/** What `docker service update` changes, as far as dockergraph offers it. */
export interface ServiceChanges {
  readonly image?: Maybe<string>;
  readonly replicas?: Maybe<number>;
  /** Variables to set (replacing one of the same name) and names to remove. */
  readonly envAdd?: Maybe<readonly NameValueSpec[]>;
  readonly envRemove?: Maybe<readonly string[]>;
  readonly labelAdd?: Maybe<Readonly<Record<string, string>>>;
  readonly labelRemove?: Maybe<readonly string[]>;
  readonly limits?: Maybe<ServiceResourcesSpec>;
  readonly reservations?: Maybe<ServiceResourcesSpec>;
  readonly command?: Maybe<readonly string[]>;
  readonly args?: Maybe<readonly string[]>;
  /** Replace the secrets and configs mounted (the schema resolves ids and names). */
  readonly secrets?: Maybe<readonly ServiceFileSpec[]>;
  readonly configs?: Maybe<readonly ServiceFileSpec[]>;
  /** Redeploy every task even when nothing else changed (`--force`). */
  readonly force?: Maybe<boolean>;
}

function envName(entry: string): string {
  const separator = entry.indexOf('=');
  return separator === -1 ? entry : entry.slice(0, separator);
}

/**
 * The spec `current` becomes with `changes` applied (the engine replaces the
 * whole spec on update); `current` is left as it was.
 */
export function applyServiceChanges(
  field: string,
  current: EngineServiceSpec,
  changes: ServiceChanges,
): EngineServiceSpec {
  const spec: EngineServiceSpec = structuredClone(current);
  const task = spec.TaskTemplate;
  const container: EngineContainerSpec = task.ContainerSpec ?? { Image: '' };
  task.ContainerSpec = container;
  if (changes.image !== null && changes.image !== undefined) {
    if (changes.image.trim() === '' || /\s/.test(changes.image)) {
      throw new InvalidInputError(`${field}.image`, `"${changes.image}" is not an image reference`);
    }
    container.Image = changes.image;
  }
  if (changes.replicas !== null && changes.replicas !== undefined) {
    if (!spec.Mode?.Replicated) {
      throw new InvalidInputError(`${field}.replicas`, 'only a replicated service has replicas');
    }
    spec.Mode.Replicated.Replicas = checkCount(`${field}.replicas`, changes.replicas, 0);
  }
  if (changes.envAdd || changes.envRemove) {
    const added = changes.envAdd ? toEnvList(`${field}.envAdd`, changes.envAdd) : [];
    const drop = new Set([...(changes.envRemove ?? []), ...added.map(envName)]);
    container.Env = [
      ...(container.Env ?? []).filter((entry) => !drop.has(envName(entry))),
      ...added,
    ];
  }
  if (changes.labelAdd || changes.labelRemove) {
    const labels = { ...(spec.Labels ?? {}) };
    for (const name of changes.labelRemove ?? []) delete labels[name];
    Object.assign(labels, changes.labelAdd ?? {});
    spec.Labels = labels;
  }
  const limits = toResources(`${field}.limits`, changes.limits);
  const reservations = toResources(`${field}.reservations`, changes.reservations);
  if (limits || reservations) {
    task.Resources = {
      ...(task.Resources ?? {}),
      ...(limits ? { Limits: { ...(task.Resources?.Limits ?? {}), ...limits } } : {}),
      ...(reservations
        ? { Reservations: { ...(task.Resources?.Reservations ?? {}), ...reservations } }
        : {}),
    };
  }
  if (changes.command) container.Command = [...changes.command];
  if (changes.args) container.Args = [...changes.args];
  if (changes.secrets) container.Secrets = toEngineSecrets(`${field}.secrets`, changes.secrets);
  if (changes.configs) container.Configs = toEngineConfigs(`${field}.configs`, changes.configs);
  // The engine redeploys when ForceUpdate differs from the current value.
  if (changes.force) task.ForceUpdate = (task.ForceUpdate ?? 0) + 1;
  return spec;
}

/** The service spec with its mode's replica count set (`docker service scale`). */
export function scaleServiceSpec(
  field: string,
  current: EngineServiceSpec,
  replicas: number,
): EngineServiceSpec {
  return applyServiceChanges(field, current, { replicas });
}

/** Labels as the engine map, refusing empty and repeated names (see {@link toEngineMap}). */
export function toLabelMap(
  field: string,
  entries: readonly NameValueSpec[],
): Record<string, string> {
  return toEngineMap(field, entries);
}
