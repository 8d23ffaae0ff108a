import type { ArgBuilder } from '@pothos/core';
import type { GraphQLContext } from '../context.ts';
import type { DockerClient } from '../docker/client.ts';
import {
  checkContainerName,
  networkFieldsOf,
  normalizeSignal,
  toContainerCreateBody,
  toEngineResources,
  toEngineRestartPolicy,
} from '../docker/container-spec.ts';
import {
  containerCreateCall,
  createContainer,
  type EngineContainerInspect,
  inspectContainer,
  killContainer,
  pauseContainer,
  pruneContainers,
  removeContainer,
  renameContainer,
  restartContainer,
  startContainer,
  stopContainer,
  unpauseContainer,
  updateContainer,
  type WaitCondition,
  waitContainer,
} from '../docker/containers.ts';
import { EngineNotFoundError, InvalidInputError } from '../docker/errors.ts';
import { inspectImage, pullImage } from '../docker/images.ts';
import { type BuilderTypes, builder } from './builder.ts';
import { MountTypeEnum, PortProtocolEnum, RestartPolicyEnum } from './container-enums.ts';
import { pruneLabelFilters } from './filter-inputs.ts';
import { concealNameClash, limitContainerCreate } from './label-access.ts';
import { mutationErrors, registryMutationErrors } from './mutation-errors.ts';
import { engineReferenceOf, toNodeKey } from './node-id.ts';
import { readBackContainer } from './read-back.ts';
import { type ContainerRecord, ContainerRef } from './refs.ts';
import { KeyValueInput, RegistryAuthInput, toRegistryCredentials } from './shared.ts';

/**
 * Container writes: create (and run), start, stop, restart, kill, pause,
 * unpause, wait, rename, update, remove and prune. Each answers the container
 * read back from the engine after the change.
 */

/** The engine's stop timeout when a container sets none (seconds). */
const DEFAULT_STOP_TIMEOUT_SECONDS = 10;

// ---------------------------------------------------------------------------
// Payloads

interface ContainerPayloadShape {
  readonly container: ContainerRecord | null;
  readonly changed: boolean;
  readonly warnings: readonly string[];
}

const ContainerPayloadRef = builder.objectRef<ContainerPayloadShape>('ContainerPayload').implement({
  description: 'A container, read back after the change.',
  fields: (t) => ({
    container: t.field({
      type: ContainerRef,
      nullable: true,
      description:
        'The container as it is now; null when it no longer exists (a container created with `autoRemove` is removed once it stops).',
      resolve: (payload) => payload.container,
    }),
    changed: t.boolean({
      description:
        'Whether the engine changed anything: false when it was already in the state asked for (starting a running container, stopping a stopped one, renaming to its own name).',
      resolve: (payload) => payload.changed,
    }),
    warnings: t.stringList({
      description:
        'Warnings the engine gave with the change, e.g. a limit the kernel cannot enforce.',
      resolve: (payload) => [...payload.warnings],
    }),
  }),
});

interface ContainerExitShape {
  readonly exitCode: number;
  readonly error: string | null;
  readonly container: ContainerRecord | null;
}

const ContainerExitRef = builder.objectRef<ContainerExitShape>('ContainerExit').implement({
  description: 'How a container’s process ended, as `docker wait` reports it.',
  fields: (t) => ({
    exitCode: t.exposeInt('exitCode', {
      description: 'Exit code of its main process (128 + n when signal n ended it).',
    }),
    error: t.exposeString('error', {
      nullable: true,
      description: 'Why the engine could not wait for it to the end, if it could not.',
    }),
    container: t.field({
      type: ContainerRef,
      nullable: true,
      description: 'The container after it ended; null when it was removed.',
      resolve: (exit) => exit.container,
    }),
  }),
});

interface RemovedContainerShape {
  readonly engine: string;
  readonly dockerId: string;
  readonly name: string;
}

const RemoveContainerPayloadRef = builder
  .objectRef<RemovedContainerShape>('RemoveContainerPayload')
  .implement({
    description: 'A removed container.',
    fields: (t) => ({
      id: t.globalID({
        description:
          'Global ID the container had, for evicting it from client caches (`Container.id`).',
        resolve: (removed) => ({
          type: 'Container',
          id: toNodeKey(removed.engine, removed.dockerId),
        }),
      }),
      dockerId: t.exposeString('dockerId', {
        description: 'The engine’s id of the removed container (64 hexadecimal digits).',
      }),
      name: t.exposeString('name', {
        description: 'The name it had, without the leading slash.',
      }),
    }),
  });

const PruneContainersPayloadRef = builder
  .objectRef<{ deleted: string[]; spaceReclaimed: number }>('PruneContainersPayload')
  .implement({
    description: 'What a container prune removed.',
    fields: (t) => ({
      containersDeleted: t.exposeStringList('deleted', {
        description: 'Engine ids of the containers removed.',
      }),
      spaceReclaimedBytes: t.field({
        type: 'SafeInt',
        description: 'Disk space freed (their writable layers).',
        resolve: (report) => report.spaceReclaimed,
      }),
    }),
  });

// ---------------------------------------------------------------------------
// Enums and inputs

const PullPolicyEnum = builder.enumType('PullPolicy', {
  description: 'Whether to pull the image before creating a container from it.',
  values: {
    NEVER: { value: 'never', description: 'Never pull: a missing image is a NotFoundError.' },
    IF_MISSING: {
      value: 'if-missing',
      description: 'Pull only when the engine does not have the image (`docker run`’s default).',
    },
    ALWAYS: {
      value: 'always',
      description: 'Always pull, to get the newest image for the tag.',
    },
  } as const,
});

const WaitConditionEnum = builder.enumType('ContainerWaitCondition', {
  description: 'What `waitContainer` waits for.',
  values: {
    NOT_RUNNING: {
      value: 'not-running',
      description: 'Until it is not running; at once when it is not running already.',
    },
    NEXT_EXIT: {
      value: 'next-exit',
      description: 'Until its process exits next, even when it is not running yet.',
    },
    REMOVED: { value: 'removed', description: 'Until it has been removed.' },
  } as const satisfies Record<string, { value: WaitCondition; description: string }>,
});

const ExposedPortInput = builder.inputType('ExposedPortInput', {
  description: 'A port the container listens on (`EXPOSE`, `docker run --expose`).',
  fields: (t) => ({
    port: t.int({ required: true, description: 'Port number, 1 to 65535.' }),
    protocol: t.field({
      type: PortProtocolEnum,
      required: false,
      defaultValue: 'tcp',
      description: 'Transport protocol; TCP when omitted.',
    }),
  }),
});

const PortBindingInput = builder.inputType('PortBindingInput', {
  description: 'A container port published on the host (`docker run -p`).',
  fields: (t) => ({
    containerPort: t.int({ required: true, description: 'Port inside the container, 1 to 65535.' }),
    protocol: t.field({
      type: PortProtocolEnum,
      required: false,
      defaultValue: 'tcp',
      description: 'Transport protocol; TCP when omitted.',
    }),
    hostIp: t.string({
      required: false,
      description: 'Host address to listen on, e.g. "127.0.0.1"; every address when omitted.',
    }),
    hostPort: t.int({
      required: false,
      description:
        'Host port, 1 to 65535; when omitted the engine picks a free one (read it back from `ports`).',
    }),
  }),
});

const MountInput = builder.inputType('MountInput', {
  description: 'A filesystem mounted into the container (`docker run --mount`).',
  fields: (t) => ({
    type: t.field({
      type: MountTypeEnum,
      required: true,
      description: 'BIND (a host path), VOLUME (a named or anonymous volume) or TMPFS.',
    }),
    source: t.string({
      required: false,
      description:
        'BIND: absolute host path (required). VOLUME: volume name, created when missing; omitted for an anonymous volume. TMPFS: none.',
    }),
    target: t.string({ required: true, description: 'Absolute path inside the container.' }),
    readOnly: t.boolean({ required: false, description: 'Mount it read-only.' }),
    volumeNoCopy: t.boolean({
      required: false,
      description: 'VOLUME only: do not copy the image’s files at the target into a new volume.',
    }),
    volumeLabels: t.field({
      type: [KeyValueInput],
      required: false,
      description: 'VOLUME only: labels for the volume when this mount creates it.',
    }),
    tmpfsSizeBytes: t.field({
      type: 'SafeInt',
      required: false,
      description: 'TMPFS only: size limit; unlimited when omitted.',
    }),
    tmpfsMode: t.int({
      required: false,
      description:
        'TMPFS only: permission bits of its root, e.g. 448 (0o700); 1777 in octal when omitted.',
    }),
  }),
});

const CreateContainerNetworkInput = builder.inputType('CreateContainerNetworkInput', {
  description: 'A network the container joins when created (`docker run --network`).',
  fields: (t) => ({
    name: t.string({ required: true, description: 'Network name or id.' }),
    aliases: t.stringList({
      required: false,
      description: 'Extra DNS names of the container on this network (user-defined networks only).',
    }),
    ipv4Address: t.string({
      required: false,
      description: 'Fixed IPv4 address, within a subnet the network was created with.',
    }),
    ipv6Address: t.string({
      required: false,
      description:
        'Fixed IPv6 address, within an IPv6 subnet of a network created with IPv6 enabled.',
    }),
  }),
});

const VolumesFromInput = builder.inputType('VolumesFromInput', {
  description: 'A container whose volumes and mounts this one mounts too (`--volumes-from`).',
  fields: (t) => ({
    container: t.string({ required: true, description: 'Name or id of the container.' }),
    readOnly: t.boolean({
      required: false,
      description: 'Mount them read-only (true) or read-write (false); as they are when omitted.',
    }),
  }),
});

const DeviceInput = builder.inputType('DeviceInput', {
  description: 'A host device given to the container (`--device`).',
  fields: (t) => ({
    pathOnHost: t.string({
      required: true,
      description: 'Absolute path of the device on the host.',
    }),
    pathInContainer: t.string({
      required: false,
      description: 'Absolute path inside the container; the host path when omitted.',
    }),
    cgroupPermissions: t.string({
      required: false,
      description:
        'What the container may do with it: "r", "w", "m" (mknod) combined; "rwm" when omitted.',
    }),
  }),
});

const UlimitInput = builder.inputType('UlimitInput', {
  description: 'A resource limit of the container’s processes (`--ulimit name=soft:hard`).',
  fields: (t) => ({
    name: t.string({
      required: true,
      description: 'The limit, e.g. "nofile", "nproc", "core", "memlock", "stack".',
    }),
    soft: t.field({
      type: 'SafeInt',
      required: true,
      description: 'Soft limit, at most the hard limit; -1 for unlimited.',
    }),
    hard: t.field({
      type: 'SafeInt',
      required: true,
      description: 'Hard limit; -1 for unlimited.',
    }),
  }),
});

const LogConfigInput = builder.inputType('LogConfigInput', {
  description: 'Where the engine keeps the container’s output (`--log-driver`, `--log-opt`).',
  fields: (t) => ({
    driver: t.string({
      required: true,
      description: 'Log driver: "json-file" (the usual default), "local", "none", "syslog", …',
    }),
    options: t.field({
      type: [KeyValueInput],
      required: false,
      description: 'Driver options, e.g. max-size "10m", max-file "3".',
    }),
  }),
});

const RestartPolicyInput = builder.inputType('RestartPolicyInput', {
  description: 'When the engine restarts the container (`docker run --restart`).',
  fields: (t) => ({
    name: t.field({ type: RestartPolicyEnum, required: true, description: 'The policy.' }),
    maximumRetryCount: t.int({
      required: false,
      description: 'ON_FAILURE only: restarts allowed before giving up; no limit when omitted.',
    }),
  }),
});

const ContainerResourcesInput = builder.inputType('ContainerResourcesInput', {
  description: 'Resource limits of a container.',
  fields: (t) => ({
    memoryBytes: t.field({
      type: 'SafeInt',
      required: false,
      description: 'Memory limit (`--memory`), at least 6 MiB (6291456).',
    }),
    memoryReservationBytes: t.field({
      type: 'SafeInt',
      required: false,
      description:
        'Memory soft limit (`--memory-reservation`), at least 6 MiB and at most the memory limit.',
    }),
    memorySwapBytes: t.field({
      type: 'SafeInt',
      required: false,
      description:
        'Memory plus swap (`--memory-swap`), at least the memory limit; -1 for unlimited swap. Needs a memory limit.',
    }),
    cpus: t.float({
      required: false,
      description: 'CPUs it may use (`--cpus`), e.g. 0.5; at most the CPUs of the host.',
    }),
    cpuShares: t.int({
      required: false,
      description:
        'Relative CPU weight against other containers (`--cpu-shares`; 1024 is the default).',
    }),
    pidsLimit: t.int({
      required: false,
      description: 'Most processes and threads at once (`--pids-limit`); 0 or -1 for no limit.',
    }),
  }),
});

const HealthcheckInput = builder.inputType('HealthcheckInput', {
  description: 'How the engine checks the container is healthy (`HEALTHCHECK`, `--health-*`).',
  fields: (t) => ({
    test: t.stringList({
      required: true,
      description:
        'The check: ["CMD", program, args...], ["CMD-SHELL", "shell command"], or ["NONE"] to turn off the image’s check.',
    }),
    intervalSeconds: t.float({
      required: false,
      description: 'Time between checks; 30 s when omitted.',
    }),
    timeoutSeconds: t.float({
      required: false,
      description: 'Time a check may take before it counts as failed; 30 s when omitted.',
    }),
    startPeriodSeconds: t.float({
      required: false,
      description: 'Time after start during which failures do not count; 0 when omitted.',
    }),
    retries: t.int({
      required: false,
      description: 'Failures in a row that make it unhealthy; 3 when omitted.',
    }),
  }),
});

const CreateContainerInput = builder.inputType('CreateContainerInput', {
  description: 'A container to create, with what `docker run` takes.',
  fields: (t) => ({
    image: t.string({
      required: true,
      description: 'Image reference ("nginx:1.27", "registry:5000/app@sha256:…") or id.',
    }),
    name: t.string({
      required: false,
      description:
        'Its name: letters, digits, "_", "." and "-", starting with a letter or digit; the engine picks one when omitted.',
    }),
    cmd: t.stringList({
      required: false,
      description: 'Command and arguments, replacing the image’s `CMD`.',
    }),
    entrypoint: t.stringList({
      required: false,
      description: 'Entrypoint, replacing the image’s `ENTRYPOINT`.',
    }),
    env: t.field({
      type: [KeyValueInput],
      required: false,
      description: 'Environment variables, added to the image’s (names without "=").',
    }),
    labels: t.field({ type: [KeyValueInput], required: false, description: 'Labels to set.' }),
    workingDir: t.string({
      required: false,
      description: 'Absolute working directory of its process.',
    }),
    user: t.string({
      required: false,
      description:
        'User (and group) its process runs as: "name", "uid", "uid:gid". The `restricted` admission level takes only a numeric non-zero uid (a name may be root in the image).',
    }),
    hostname: t.string({
      required: false,
      description: 'Its hostname; its short id when omitted.',
    }),
    domainname: t.string({ required: false, description: 'Its domain name.' }),
    tty: t.boolean({ required: false, description: 'Give it a pseudo-terminal (`-t`).' }),
    openStdin: t.boolean({ required: false, description: 'Keep its stdin open (`-i`).' }),
    exposedPorts: t.field({
      type: [ExposedPortInput],
      required: false,
      description: 'Ports it listens on, beyond those the image exposes.',
    }),
    portBindings: t.field({
      type: [PortBindingInput],
      required: false,
      description: 'Ports to publish on the host (`-p`).',
    }),
    publishAllPorts: t.boolean({
      required: false,
      description: 'Publish every exposed port on a free host port (`-P`).',
    }),
    mounts: t.field({
      type: [MountInput],
      required: false,
      description: 'Bind mounts, volumes and tmpfs mounts.',
    }),
    networkMode: t.string({
      required: false,
      description:
        '"bridge" (the default), "host", "none", "container:<name|id>", or a network name; use `network` to join a network with aliases or a fixed address.',
    }),
    network: t.field({
      type: CreateContainerNetworkInput,
      required: false,
      description: 'A network to join instead of the default bridge, with aliases and address.',
    }),
    networks: t.field({
      type: [CreateContainerNetworkInput],
      required: false,
      description:
        'Networks to join instead of the default bridge, each with aliases and addresses; the first is its network mode. Not with `network`. An engine before API 1.44 takes one at create: the container is connected to the others before it starts (a failed connect removes it).',
    }),
    restartPolicy: t.field({
      type: RestartPolicyInput,
      required: false,
      description: 'When to restart it; never when omitted.',
    }),
    resources: t.field({
      type: ContainerResourcesInput,
      required: false,
      description: 'Memory, CPU and process limits.',
    }),
    autoRemove: t.boolean({
      required: false,
      description: 'Remove it when its process exits (`--rm`); no restart policy then.',
    }),
    stopSignal: t.string({
      required: false,
      description: 'Signal that stops it: a name ("SIGTERM", "TERM") or a number from 1 to 64.',
    }),
    stopTimeout: t.int({
      required: false,
      description: 'Seconds to wait after the stop signal before killing it; 10 when omitted.',
    }),
    healthcheck: t.field({
      type: HealthcheckInput,
      required: false,
      description: 'Healthcheck, replacing the image’s.',
    }),
    init: t.boolean({
      required: false,
      description: 'Run an init process that forwards signals and reaps zombies (`--init`).',
    }),
    capAdd: t.stringList({
      required: false,
      description: 'Kernel capabilities to add, e.g. "NET_ADMIN".',
    }),
    capDrop: t.stringList({
      required: false,
      description: 'Kernel capabilities to drop, e.g. "MKNOD", or "ALL".',
    }),
    noNewPrivileges: t.boolean({
      required: false,
      description:
        'Keep its processes from gaining privileges (`--security-opt no-new-privileges`): setuid binaries and file capabilities grant nothing. Required, with `capDrop: ["ALL"]` and a numeric non-zero `user`, at the `restricted` admission level.',
    }),
    privileged: t.boolean({
      required: false,
      description: 'Give it every capability and host device.',
    }),
    readonlyRootfs: t.boolean({
      required: false,
      description: 'Mount its root filesystem read-only.',
    }),
    dns: t.stringList({ required: false, description: 'DNS server addresses.' }),
    dnsSearch: t.stringList({
      required: false,
      description: 'DNS search domains (`--dns-search`), e.g. "example.com".',
    }),
    dnsOptions: t.stringList({
      required: false,
      description: 'Resolver options (`--dns-option`), e.g. "ndots:2".',
    }),
    extraHosts: t.stringList({
      required: false,
      description: 'Extra /etc/hosts entries as "host:ip" ("host-gateway" for the host’s address).',
    }),
    volumesFrom: t.field({
      type: [VolumesFromInput],
      required: false,
      description:
        'Containers whose volumes and mounts it mounts too (`--volumes-from`). Below the privileged admission level each must be a container that level would admit.',
    }),
    devices: t.field({
      type: [DeviceInput],
      required: false,
      description: 'Host devices it may use (`--device`); needs the `dangerous` permission.',
    }),
    deviceCgroupRules: t.stringList({
      required: false,
      description:
        'Device cgroup rules (`--device-cgroup-rule`), e.g. "c 1:3 rwm"; need the `dangerous` permission.',
    }),
    ulimits: t.field({
      type: [UlimitInput],
      required: false,
      description:
        'Resource limits of its processes (`--ulimit`); the engine’s defaults for those omitted. Below the privileged admission level `rtprio` and `rttime` stay 0.',
    }),
    logConfig: t.field({
      type: LogConfigInput,
      required: false,
      description:
        'Log driver and options; the engine’s default when omitted. Below the privileged admission level only json-file, local and none, which keep logs with the engine.',
    }),
    securityOptions: t.stringList({
      required: false,
      description:
        'Security options (`--security-opt`): "no-new-privileges[:true|false]", "apparmor=<profile>", "seccomp=unconfined" or "seccomp=<profile JSON>", "label=disable" or "label=<user|role|type|level>:<value>", "systempaths=unconfined". Below the privileged admission level only no-new-privileges and the engine’s default AppArmor profile ("apparmor=docker-default").',
    }),
    shmSizeBytes: t.field({
      type: 'SafeInt',
      required: false,
      description:
        'Size of /dev/shm (`--shm-size`); 64 MiB when omitted. Below the privileged admission level at most the memory limit, or 64 MiB without one.',
    }),
    sysctls: t.field({
      type: [KeyValueInput],
      required: false,
      description:
        'Kernel parameters of its namespaces (`--sysctl`), e.g. net.ipv4.ip_unprivileged_port_start "0". Below the privileged admission level only the namespaced ones: net.* (on a network of its own), kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.* (with an IPC namespace of its own).',
    }),
  }),
});

const UpdateContainerInput = builder.inputType('UpdateContainerInput', {
  description: 'Limits and restart policy to change on a container (`docker update`).',
  fields: (t) => ({
    resources: t.field({
      type: ContainerResourcesInput,
      required: false,
      description:
        'New limits; those omitted keep their value. A new memory limit above the container’s swap limit needs `memorySwapBytes` too (-1 for unlimited swap), or the engine refuses it as a conflict.',
    }),
    restartPolicy: t.field({
      type: RestartPolicyInput,
      required: false,
      description: 'New restart policy (not for a container created with `autoRemove`).',
    }),
  }),
});

const PruneContainersFilter = builder.inputType('PruneContainersFilter', {
  description: 'Which stopped containers a prune removes.',
  fields: (t) => ({
    labels: t.stringList({
      required: false,
      description: 'Only containers with all these labels (`key` or `key=value`).',
    }),
    until: t.field({
      type: 'DateTime',
      required: false,
      description: 'Only containers created before this time.',
    }),
  }),
});

// ---------------------------------------------------------------------------
// Helpers

const referenceDescription = 'Global ID, engine id, unique id prefix or name of the container.';

/** The engine's own words for a missing container, for lookups dockergraph makes itself. */
function noSuchContainer(what: string, key: string): EngineNotFoundError {
  return new EngineNotFoundError('NOT_FOUND', `${what}: No such container: ${key}`, 404);
}

/** Inspects a container that must exist. */
async function inspectExisting(
  context: GraphQLContext,
  key: string,
  what: string,
): Promise<EngineContainerInspect> {
  const inspect = await inspectContainer(context.docker, key);
  if (!inspect) throw noSuchContainer(what, key);
  return inspect;
}

async function payload(
  context: GraphQLContext,
  key: string,
  changed: boolean,
  warnings: readonly string[] = [],
): Promise<ContainerPayloadShape> {
  return { container: await readBackContainer(context, key), changed, warnings };
}

function checkTimeout(argument: string, seconds: number | null | undefined): number | undefined {
  if (seconds === null || seconds === undefined) return undefined;
  if (seconds < 0) throw new InvalidInputError(argument, 'must not be negative');
  return seconds;
}

/**
 * The grace period of a stop: the one asked for, or the container's own stop
 * timeout (read from the engine) when none was asked for.
 */
async function stopTarget(
  context: GraphQLContext,
  key: string,
  timeoutSeconds: number | undefined,
  what: string,
): Promise<{ id: string; gracePeriodSeconds: number }> {
  if (timeoutSeconds !== undefined) return { id: key, gracePeriodSeconds: timeoutSeconds };
  const inspect = await inspectExisting(context, key, what);
  return {
    id: inspect.Id,
    gracePeriodSeconds: inspect.Config.StopTimeout ?? DEFAULT_STOP_TIMEOUT_SECONDS,
  };
}

/**
 * Starts a container `createContainer` just made. If it cannot start, the
 * container is removed (with its anonymous volumes) so that a failed run leaves
 * nothing behind, also when the client went away; the error says so, and
 * names the container when even the removal failed.
 */
async function startCreated(context: GraphQLContext, id: string): Promise<void> {
  try {
    await startContainer(context.docker, id);
  } catch (error) {
    // Not bound to the request: a client that went away must not leave the container behind.
    const cleanup = context.docker.withSignal(undefined);
    let note: string;
    try {
      await removeContainer(cleanup, id, { force: true, volumes: true });
      note = `the container created for it (${id}) was removed`;
    } catch (removal) {
      note =
        removal instanceof EngineNotFoundError
          ? `the container created for it (${id}) is gone`
          : `the container created for it (${id}) could not be removed (${removal instanceof Error ? removal.message : String(removal)}): remove it yourself`;
    }
    if (error instanceof Error) error.message = `${error.message}; ${note}`;
    throw error;
  }
}

/** Options of a mutation's result union. */
function resultErrors(description: string, registry = false) {
  return {
    types: registry ? [...registryMutationErrors] : [...mutationErrors],
    union: { description },
  };
}

type MutationFieldBuilder = Parameters<Parameters<typeof builder.mutationFields>[0]>[0];

/**
 * A mutation that makes one engine call on a container reference and answers
 * the container. A call that answers `false` changed nothing; any other
 * answer (or none) means it changed the container.
 */
function containerCallMutation(
  t: MutationFieldBuilder,
  description: string,
  resultDescription: string,
  call: (docker: DockerClient, key: string) => Promise<unknown>,
) {
  return t.field({
    type: ContainerPayloadRef,
    description,
    errors: resultErrors(resultDescription),
    args: { id: t.arg.string({ required: true, description: referenceDescription }) },
    resolve: async (_root, { id }, context) => {
      const key = engineReferenceOf(context.engineName, 'Container', 'id', id);
      const changed = await call(context.docker, key);
      return payload(context, key, changed !== false);
    },
  });
}

// ---------------------------------------------------------------------------
// Mutations

/** The arguments of `stopContainer` and `restartContainer`: the container and its stop timeout. */
function stopArgs(arg: ArgBuilder<BuilderTypes>) {
  return {
    id: arg.string({ required: true, description: referenceDescription }),
    timeoutSeconds: arg.int({
      required: false,
      description: 'Seconds to wait before killing it; its own stop timeout when omitted.',
    }),
  };
}

builder.mutationFields((t) => ({
  createContainer: t.field({
    type: ContainerPayloadRef,
    description:
      'Creates a container (`docker create`), and starts it when `start` is set (`docker run -d`). A run whose start fails removes the container it created and answers the start’s error.',
    errors: resultErrors('The created container, or why it was not created.', true),
    args: {
      input: t.arg({ type: CreateContainerInput, required: true, description: 'The container.' }),
      start: t.arg.boolean({
        required: false,
        defaultValue: false,
        description: 'Start it once created.',
      }),
      pull: t.arg({
        type: PullPolicyEnum,
        required: false,
        defaultValue: 'never',
        description:
          'Whether to pull the image first; `auth` gives the credentials of a registry that asks for some.',
      }),
      auth: t.arg({
        type: RegistryAuthInput,
        required: false,
        description:
          'Credentials for the registry the image is pulled from; used for the pull only, not kept with the container.',
      }),
    },
    resolve: async (_root, { input, start, pull, auth }, context) => {
      const body = toContainerCreateBody('input', input);
      const name = input.name ? checkContainerName('input.name', input.name) : undefined;
      const credentials = toRegistryCredentials('auth', auth);
      // A token limited to labels gives them to its container and volumes, and uses only
      // containers, networks and volumes it sees.
      const limitedBody = await limitContainerCreate(
        context,
        'input',
        body,
        networkFieldsOf('input', input),
      );
      // Admitted before the pull, so that a refused container pulls nothing either.
      await context.docker.admit(containerCreateCall(limitedBody, name));
      if (
        pull === 'always' ||
        (pull === 'if-missing' && !(await inspectImage(context.docker, input.image)))
      ) {
        await pullImage(context.docker, {
          reference: input.image,
          ...(credentials ? { credentials } : {}),
        });
      }
      // Not bound to the request: once sent, the create must be answered, or a client that
      // went away would leave a container nobody knows the id of.
      const created = await createContainer(
        context.docker.withSignal(undefined),
        limitedBody,
        name,
      ).catch((error: unknown) => {
        throw concealNameClash(context, error, 'container', name);
      });
      if (start) await startCreated(context, created.Id);
      return payload(context, created.Id, true, created.Warnings ?? []);
    },
  }),
  startContainer: containerCallMutation(
    t,
    'Starts a container (`docker start`). Starting a running container changes nothing (`changed: false`).',
    'The started container, or why it did not start.',
    startContainer,
  ),
  stopContainer: t.field({
    type: ContainerPayloadRef,
    description:
      'Stops a container (`docker stop`): its stop signal, then SIGKILL after the timeout. Stopping a stopped container changes nothing (`changed: false`).',
    errors: resultErrors('The stopped container, or why it was not stopped.'),
    args: stopArgs(t.arg),
    resolve: async (_root, { id, timeoutSeconds }, context) => {
      const key = engineReferenceOf(context.engineName, 'Container', 'id', id);
      const timeout = checkTimeout('timeoutSeconds', timeoutSeconds);
      const target = await stopTarget(context, key, timeout, `stop container "${key}"`);
      const changed = await stopContainer(
        context.docker,
        target.id,
        timeout,
        target.gracePeriodSeconds,
      );
      return payload(context, target.id, changed);
    },
  }),
  restartContainer: t.field({
    type: ContainerPayloadRef,
    description:
      'Stops a container if it runs, as `stopContainer` does, then starts it (`docker restart`).',
    errors: resultErrors('The restarted container, or why it was not restarted.'),
    args: stopArgs(t.arg),
    resolve: async (_root, { id, timeoutSeconds }, context) => {
      const key = engineReferenceOf(context.engineName, 'Container', 'id', id);
      const timeout = checkTimeout('timeoutSeconds', timeoutSeconds);
      const target = await stopTarget(context, key, timeout, `restart container "${key}"`);
      await restartContainer(context.docker, target.id, timeout, target.gracePeriodSeconds);
      return payload(context, target.id, true);
    },
  }),
  killContainer: t.field({
    type: ContainerPayloadRef,
    description:
      'Sends a signal to a running container’s main process (`docker kill`); the container read back may not have ended yet (`waitContainer` waits for that). A container that is not running is a ConflictError.',
    errors: resultErrors('The signalled container, or why the signal was not sent.'),
    args: {
      id: t.arg.string({ required: true, description: referenceDescription }),
      signal: t.arg.string({
        required: false,
        defaultValue: 'SIGKILL',
        description: 'A signal name ("SIGHUP", "HUP") or a number from 1 to 64.',
      }),
    },
    resolve: async (_root, { id, signal }, context) => {
      const normalized = normalizeSignal('signal', signal ?? 'SIGKILL');
      const key = engineReferenceOf(context.engineName, 'Container', 'id', id);
      await killContainer(context.docker, key, normalized);
      return payload(context, key, true);
    },
  }),
  pauseContainer: containerCallMutation(
    t,
    'Freezes a running container’s processes (`docker pause`). One not running, or already paused, is a ConflictError.',
    'The paused container, or why it was not paused.',
    pauseContainer,
  ),
  unpauseContainer: containerCallMutation(
    t,
    'Thaws a paused container’s processes (`docker unpause`). One that is not paused is a ConflictError.',
    'The unpaused container, or why it was not unpaused.',
    unpauseContainer,
  ),
  waitContainer: t.field({
    type: ContainerExitRef,
    description:
      'Waits until a container stops (or exits next, or is removed) and answers its exit code (`docker wait`). It may wait for as long as the container runs; closing the request ends the wait.',
    errors: resultErrors('How the container ended, or why it could not be waited for.'),
    args: {
      id: t.arg.string({ required: true, description: referenceDescription }),
      condition: t.arg({
        type: WaitConditionEnum,
        required: false,
        defaultValue: 'not-running',
        description: 'What to wait for.',
      }),
    },
    resolve: async (_root, { id, condition }, context) => {
      const key = engineReferenceOf(context.engineName, 'Container', 'id', id);
      const result = await waitContainer(context.docker, key, condition ?? 'not-running');
      return {
        exitCode: result.StatusCode,
        error: result.Error?.Message || null,
        container: condition === 'removed' ? null : await readBackContainer(context, key),
      };
    },
  }),
  renameContainer: t.field({
    type: ContainerPayloadRef,
    description:
      'Renames a container (`docker rename`). A name another container has is a ConflictError; its own name changes nothing.',
    errors: resultErrors('The renamed container, or why it was not renamed.'),
    args: {
      id: t.arg.string({ required: true, description: referenceDescription }),
      newName: t.arg.string({
        required: true,
        description:
          'The new name: letters, digits, "_", "." and "-", starting with a letter or digit.',
      }),
    },
    resolve: async (_root, { id, newName }, context) => {
      const key = engineReferenceOf(context.engineName, 'Container', 'id', id);
      const name = checkContainerName('newName', newName);
      const what = `rename container "${key}"`;
      const current = await inspectExisting(context, key, what);
      // The engine refuses a rename to the current name (400); nothing is to change.
      if (current.Name.replace(/^\//, '') === name) return payload(context, current.Id, false);
      await renameContainer(context.docker, current.Id, name).catch((error: unknown) => {
        throw concealNameClash(context, error, 'container', name);
      });
      return payload(context, current.Id, true);
    },
  }),
  updateContainer: t.field({
    type: ContainerPayloadRef,
    description:
      'Changes a container’s resource limits or restart policy while it exists, running or not (`docker update`). Podman cannot: it answers NotSupportedError.',
    errors: resultErrors('The updated container, or why it was not updated.'),
    args: {
      id: t.arg.string({ required: true, description: referenceDescription }),
      input: t.arg({ type: UpdateContainerInput, required: true, description: 'What to change.' }),
    },
    resolve: async (_root, { id, input }, context) => {
      const body = {
        ...(input.resources ? toEngineResources('input.resources', input.resources, false) : {}),
        ...(input.restartPolicy
          ? { RestartPolicy: toEngineRestartPolicy('input.restartPolicy', input.restartPolicy) }
          : {}),
      };
      if (Object.keys(body).length === 0) {
        throw new InvalidInputError('input', 'nothing to change: give resources or restartPolicy');
      }
      // The input is checked whole before the engine is asked anything.
      const key = engineReferenceOf(context.engineName, 'Container', 'id', id);
      const warnings = await updateContainer(context.docker, key, body);
      return payload(context, key, true, warnings);
    },
  }),
  removeContainer: t.field({
    type: RemoveContainerPayloadRef,
    description:
      'Removes a container (`docker rm`). A running one is a ConflictError unless `force` kills it first.',
    errors: resultErrors('The removed container, or why it was not removed.'),
    args: {
      id: t.arg.string({ required: true, description: referenceDescription }),
      force: t.arg.boolean({
        required: false,
        defaultValue: false,
        description: 'Kill it first if it runs.',
      }),
      removeVolumes: t.arg.boolean({
        required: false,
        defaultValue: false,
        description: 'Also remove its anonymous volumes (`docker rm -v`); named volumes stay.',
      }),
    },
    resolve: async (_root, { id, force, removeVolumes }, context) => {
      const key = engineReferenceOf(context.engineName, 'Container', 'id', id);
      const current = await inspectExisting(context, key, `remove container "${key}"`);
      await removeContainer(context.docker, current.Id, {
        force: force ?? false,
        volumes: removeVolumes ?? false,
      });
      context.loaders.containers.inspect.clear(current.Id);
      return {
        engine: context.engineName,
        dockerId: current.Id,
        name: current.Name.replace(/^\//, ''),
      };
    },
  }),
  pruneContainers: t.field({
    type: PruneContainersPayloadRef,
    description: 'Removes stopped containers (`docker container prune`).',
    errors: resultErrors('What the prune removed, or why it failed.'),
    args: {
      filter: t.arg({
        type: PruneContainersFilter,
        required: false,
        description: 'Which stopped containers; every one when omitted.',
      }),
    },
    resolve: async (_root, { filter }, context) => {
      const labels = filter?.labels ?? undefined;
      const scopedLabels = pruneLabelFilters(context, 'filter.labels', labels);
      return pruneContainers(context.docker, {
        ...(scopedLabels ? { labels: scopedLabels } : {}),
        ...(filter?.until ? { until: filter.until } : {}),
      });
    },
  }),
}));
