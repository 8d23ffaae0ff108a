import type { DockerClient } from './client.ts';
import { type LogLimits, type LogOptions, toLogQuery } from './containers.ts';
import { collectLogLines, type DecodedLogs, decodeLogStream, type LogLine } from './demux.ts';
import { EngineConflictError, EngineError, errorFromTransport } from './errors.ts';
import { type EngineFilters, encodeFilters, encodePathSegment } from './filters.ts';
import { yieldFollowedLines } from './follow-logs.ts';
import type { EngineEndpointPort, EngineServiceSpec, EngineTaskSpec } from './service-spec.ts';
import { type EngineObjectVersion, reclassifyOutOfSequence } from './swarm.ts';

/** A service as `GET /services` and `GET /services/{id}` describe it. */
export interface EngineService {
  ID: string;
  Version: EngineObjectVersion;
  CreatedAt: string;
  UpdatedAt: string;
  Spec: EngineServiceSpec;
  PreviousSpec?: EngineServiceSpec | null;
  Endpoint?: {
    Spec?: EngineServiceSpec['EndpointSpec'];
    Ports?: EngineEndpointPort[];
    VirtualIPs?: { NetworkID: string; Addr: string }[];
  };
  UpdateStatus?: {
    State?: string;
    StartedAt?: string;
    CompletedAt?: string;
    Message?: string;
  } | null;
  /** Only with `status=1` (API 1.41): tasks running and desired. */
  ServiceStatus?: { RunningTasks: number; DesiredTasks: number; CompletedTasks?: number } | null;
}

/** A task as `GET /tasks` describes it. */
export interface EngineTask {
  ID: string;
  Version: EngineObjectVersion;
  CreatedAt: string;
  UpdatedAt: string;
  Name?: string;
  Labels?: Record<string, string> | null;
  Spec: EngineTaskSpec;
  ServiceID: string;
  /** Replicated services number their tasks from 1; global tasks have none. */
  Slot?: number;
  NodeID?: string;
  Status: {
    Timestamp?: string;
    State: string;
    Message?: string;
    Err?: string;
    ContainerStatus?: { ContainerID?: string; PID?: number; ExitCode?: number } | null;
  };
  DesiredState: string;
}

/** Typed filters of the service list. */
export interface ServiceFilters {
  readonly ids?: readonly string[] | undefined;
  /** `key` or `key=value`. */
  readonly labels?: readonly string[] | undefined;
  readonly modes?: readonly ('replicated' | 'global')[];
  /** Names or name prefixes. */
  readonly names?: readonly string[];
}

function serviceEngineFilters(filters: ServiceFilters | undefined): EngineFilters | undefined {
  if (!filters) return undefined;
  return { id: filters.ids, label: filters.labels, mode: filters.modes, name: filters.names };
}

/** `GET /services?status=1`: the services matching the filters, with running/desired task counts. */
export function listServices(
  client: DockerClient,
  options: { filters?: ServiceFilters } = {},
): Promise<EngineService[]> {
  return client.json<EngineService[]>(
    {
      path: '/services',
      query: { status: true, filters: encodeFilters(serviceEngineFilters(options.filters)) },
    },
    'list services',
  );
}

/** `GET /services/{id}`: one service by id, id prefix or name; `null` when missing. */
export function inspectService(client: DockerClient, id: string): Promise<EngineService | null> {
  return client.jsonOrNull<EngineService>(
    { path: `/services/${encodePathSegment(id)}` },
    `inspect service "${id}"`,
  );
}

/** What `POST /services/create` and `POST /services/{id}/update` answer. */
export interface ServiceWriteAnswer {
  readonly id: string | null;
  /** E.g. that the image could not be resolved to a digest on a registry. */
  readonly warnings: readonly string[];
}

/** A name in use is answered 409 by newer engines and as a 500 "name conflicts" by 20.10. */
function reclassifyNameConflict(error: unknown): unknown {
  if (
    error instanceof EngineError &&
    !(error instanceof EngineConflictError) &&
    /name conflicts with an existing object|already exists/i.test(error.message)
  ) {
    return new EngineConflictError('CONFLICT', error.message, error.status, { cause: error });
  }
  return error;
}

/** `POST /services/create`; `registryAuth` is the base64url `X-Registry-Auth` header, if any. */
export async function createService(
  client: DockerClient,
  spec: EngineServiceSpec,
  registryAuth?: string,
): Promise<ServiceWriteAnswer> {
  try {
    const answer = await client.json<{ ID: string; Warnings?: string[] | null }>(
      {
        method: 'POST',
        path: '/services/create',
        headers: {
          'content-type': 'application/json',
          ...(registryAuth ? { 'x-registry-auth': registryAuth } : {}),
        },
        body: JSON.stringify(spec),
        timeoutMs: 60_000,
      },
      `create service "${spec.Name ?? ''}"`,
    );
    return { id: answer.ID, warnings: answer.Warnings ?? [] };
  } catch (error) {
    throw reclassifyNameConflict(error);
  }
}

/** Options of {@link updateService}. */
export interface ServiceUpdateOptions {
  /** The version the spec was read at; a stale one is a conflict. */
  readonly version: number;
  /** Go back to the previous spec (the engine's own rollback) instead of `spec`. */
  readonly rollback?: boolean;
  readonly registryAuth?: string;
}

/** `POST /services/{id}/update?version=…`: replaces a service's spec, or rolls it back. */
export async function updateService(
  client: DockerClient,
  id: string,
  spec: EngineServiceSpec,
  options: ServiceUpdateOptions,
): Promise<ServiceWriteAnswer> {
  const what = `update service "${id}"`;
  try {
    const answer = await client.json<{ Warnings?: string[] | null }>(
      {
        method: 'POST',
        path: `/services/${encodePathSegment(id)}/update`,
        query: {
          version: options.version,
          rollback: options.rollback ? 'previous' : undefined,
        },
        headers: {
          'content-type': 'application/json',
          ...(options.registryAuth ? { 'x-registry-auth': options.registryAuth } : {}),
        },
        body: JSON.stringify(spec),
        timeoutMs: 60_000,
      },
      what,
    );
    return { id, warnings: answer.Warnings ?? [] };
  } catch (error) {
    throw reclassifyOutOfSequence(reclassifyNameConflict(error), what);
  }
}

/** `DELETE /services/{id}`: removes a service and, in time, its tasks. */
export async function removeService(client: DockerClient, id: string): Promise<void> {
  const response = await client.request(
    { method: 'DELETE', path: `/services/${encodePathSegment(id)}` },
    `remove service "${id}"`,
  );
  await response.body.dump();
}

// ---------------------------------------------------------------------------
// Tasks

/** Typed filters of the task list. */
export interface TaskFilters {
  readonly ids?: readonly string[];
  readonly labels?: readonly string[];
  readonly names?: readonly string[];
  readonly nodes?: readonly string[];
  readonly services?: readonly string[];
  readonly desiredStates?: readonly ('running' | 'shutdown' | 'accepted')[];
}

function taskEngineFilters(filters: TaskFilters | undefined): EngineFilters | undefined {
  if (!filters) return undefined;
  return {
    id: filters.ids,
    label: filters.labels,
    name: filters.names,
    node: filters.nodes,
    service: filters.services,
    'desired-state': filters.desiredStates,
  };
}

/** `GET /tasks`: the tasks matching the filters (the swarm keeps a few finished ones per slot). */
export function listTasks(
  client: DockerClient,
  options: { filters?: TaskFilters } = {},
): Promise<EngineTask[]> {
  return client.json<EngineTask[]>(
    { path: '/tasks', query: { filters: encodeFilters(taskEngineFilters(options.filters)) } },
    'list tasks',
  );
}

// ---------------------------------------------------------------------------
// Logs

/** Whose logs: `GET /services/{id}/logs` or `GET /tasks/{id}/logs`. */
export type LogSource = { readonly service: string } | { readonly task: string };

/** A line of a service's or task's log, with the task and node that wrote it. */
export interface SwarmLogLine extends LogLine {
  readonly taskId: string | null;
  readonly nodeId: string | null;
}

function logPath(source: LogSource): { path: string; what: string } {
  return 'service' in source
    ? {
        path: `/services/${encodePathSegment(source.service)}/logs`,
        what: `read logs of service "${source.service}"`,
      }
    : {
        path: `/tasks/${encodePathSegment(source.task)}/logs`,
        what: `read logs of task "${source.task}"`,
      };
}

/**
 * With `details=1` the engine starts each line (after its timestamp) with the
 * task's log attributes, `com.docker.swarm.node.id=…,…,com.docker.swarm.task.id=… `:
 * they name the task and node, and are taken off the message.
 */
export function withLogDetails(line: LogLine): SwarmLogLine {
  const match = /^((?:[\w.-]+=[^,\s]*)(?:,[\w.-]+=[^,\s]*)*) /.exec(line.message);
  if (!match?.[1]) return { ...line, taskId: null, nodeId: null };
  const attributes = new Map(
    match[1].split(',').map((pair) => {
      const separator = pair.indexOf('=');
      return [pair.slice(0, separator), pair.slice(separator + 1)] as const;
    }),
  );
  return {
    ...line,
    message: line.message.slice(match[0].length),
    taskId: attributes.get('com.docker.swarm.task.id') ?? null,
    nodeId: attributes.get('com.docker.swarm.node.id') ?? null,
  };
}

/** Swarm logs with task and node ids. */
export interface DecodedSwarmLogs extends Omit<DecodedLogs, 'lines'> {
  readonly lines: SwarmLogLine[];
}

/**
 * `GET /services/{id}/logs` or `GET /tasks/{id}/logs` without following, with
 * `details=1`, demultiplexed (services created with a TTY are raw) and capped
 * as container logs are. The engine gathers the lines from every node's tasks.
 */
export async function readSwarmLogs(
  client: DockerClient,
  source: LogSource,
  options: Omit<LogOptions, 'until'> & { readonly tty: boolean },
  limits: LogLimits,
): Promise<DecodedSwarmLogs> {
  const { path, what } = logPath(source);
  const response = await client.request(
    {
      path,
      query: {
        follow: false,
        details: true,
        ...toLogQuery(options),
      },
    },
    what,
  );
  try {
    const decoded = await collectLogLines(response.body, {
      tty: options.tty,
      timestamps: options.timestamps,
      maxLines: limits.maxLines,
      maxBytes: limits.maxBytes,
    });
    return { ...decoded, lines: decoded.lines.map(withLogDetails) };
  } catch (error) {
    throw errorFromTransport(error, what);
  } finally {
    if (!response.body.readableEnded) response.body.destroy();
  }
}

/**
 * `GET /services/{id}/logs?follow=1` (or a task's): resolves once the engine
 * answered, then yields lines as the tasks write them until `signal` aborts.
 */
export async function followSwarmLogs(
  client: DockerClient,
  source: LogSource,
  options: Omit<LogOptions, 'until'> & { readonly tty: boolean; readonly signal: AbortSignal },
): Promise<AsyncGenerator<SwarmLogLine, void, undefined>> {
  const { signal } = options;
  const { path, what } = logPath(source);
  const response = await client.withSignal(signal).request(
    {
      path,
      query: {
        follow: true,
        details: true,
        ...toLogQuery(options),
      },
      bodyTimeoutMs: 0,
    },
    what,
  );
  const decoded = decodeLogStream(response.body, {
    tty: options.tty,
    timestamps: options.timestamps,
  });
  return yieldFollowedLines(
    response.body,
    signal,
    what,
    (async function* withDetails() {
      for await (const line of decoded) yield withLogDetails(line);
    })(),
  );
}
