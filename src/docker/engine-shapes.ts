/**
 * Checks, at the boundary, the few shapes of engine answers the code relies on
 * (enumerations it maps onto GraphQL enums), so that an engine speaking a
 * dialect (Podman) or a newer API fails here with a clear error, or is mapped
 * to a defined value here, instead of failing deep in a resolver.
 *
 * @module
 */
import type { definitions } from './engine-api.ts';
import { EngineError } from './errors.ts';

/** A container's state, as the Engine API defines it (`ContainerState.Status`). */
export type ContainerStateName = NonNullable<definitions['ContainerState']['Status']>;

/** A healthcheck's state, as the Engine API defines it (`Health.Status`). */
export type HealthStatusName = NonNullable<definitions['Health']['Status']>;

const CONTAINER_STATES: ReadonlySet<string> = new Set<ContainerStateName>([
  'created',
  'running',
  'paused',
  'restarting',
  'removing',
  'exited',
  'dead',
]);

const HEALTH_STATUSES: ReadonlySet<string> = new Set<HealthStatusName>([
  'none',
  'starting',
  'healthy',
  'unhealthy',
]);

/** An answer that does not have the shape the Engine API defines. */
export function unexpectedAnswer(what: string, detail: string): EngineError {
  return new EngineError(
    'ENGINE_ERROR',
    `the engine's answer to "${what}" is not what the Docker Engine API defines: ${detail}`,
    200,
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Podman's own states, which its Docker-compatible API passes through: "stopped" between a
 * container's exit and Podman's cleanup of it (Docker says "exited" at once), "stopping" while
 * a stop waits for the process (Docker still says "running"), "configured" before the runtime
 * knows it ("created").
 */
const PODMAN_CONTAINER_STATES: ReadonlyMap<string, ContainerStateName> = new Map([
  ['stopped', 'exited'],
  ['stopping', 'running'],
  ['configured', 'created'],
]);

/** A container state the API defines, or a clear error naming what the engine said. */
export function checkContainerState(value: unknown, what: string): ContainerStateName {
  if (typeof value === 'string' && CONTAINER_STATES.has(value)) return value as ContainerStateName;
  const podman = typeof value === 'string' ? PODMAN_CONTAINER_STATES.get(value) : undefined;
  if (podman) return podman;
  throw unexpectedAnswer(what, `unknown container state ${JSON.stringify(value)}`);
}

/**
 * A health status the API defines. Podman answers "" (and older engines leave it out) for a
 * container whose healthcheck has not run: that is "none".
 */
export function checkHealthStatus(value: unknown, what: string): HealthStatusName {
  if (value === '' || value === undefined) return 'none';
  if (typeof value === 'string' && HEALTH_STATUSES.has(value)) return value as HealthStatusName;
  throw unexpectedAnswer(what, `unknown health status ${JSON.stringify(value)}`);
}

/**
 * Checks the parts of one container's inspect answer that are mapped onto enums, normalizing
 * `State.Health`; the answer is changed in place and returned.
 */
export function checkContainerInspectShape<T>(value: T, what: string): T {
  if (!isRecord(value) || typeof value.Id !== 'string' || !isRecord(value.State)) {
    throw unexpectedAnswer(what, 'no container (Id and State)');
  }
  const state = value.State;
  state.Status = checkContainerState(state.Status, what);
  if (isRecord(state.Health)) {
    // Podman sends `Health: {"Status": "", "FailingStreak": 0, "Log": null}` for a container
    // without a healthcheck (one with a healthcheck starts as "starting"); Docker leaves
    // `Health` out. Leave it out here too, so that "no healthcheck" reads the same.
    if (state.Health.Status === '') delete state.Health;
    else state.Health.Status = checkHealthStatus(state.Health.Status, what);
  }
  return value;
}

/** Checks the state of every container of a list answer. */
export function checkContainerListShape<T>(value: T, what: string): T {
  if (!Array.isArray(value)) throw unexpectedAnswer(what, 'not a list of containers');
  for (const item of value) {
    if (!isRecord(item) || typeof item.Id !== 'string') {
      throw unexpectedAnswer(what, 'a list entry without an Id');
    }
    item.State = checkContainerState(item.State, what);
  }
  return value;
}
