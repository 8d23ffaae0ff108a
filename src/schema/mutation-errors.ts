import {
  EngineConflictError,
  EngineError,
  EngineNotFoundError,
  EngineNotSupportedError,
  InvalidInputError,
  RegistryAuthError,
} from '../docker/errors.ts';
import { builder } from './builder.ts';

/**
 * The typed errors of mutations: each engine error class becomes a GraphQL
 * object type that mutation result unions include.
 */

/** A GraphQL object type for one error class, exposing its message. */
export const MutationErrorInterface = builder.interfaceRef<Error>('MutationError').implement({
  description: 'Why a mutation did not happen. Query `message` on it, and the fields of its type.',
  fields: (t) => ({
    message: t.exposeString('message', {
      description: 'What went wrong, in the engine’s words where it spoke.',
    }),
  }),
});

builder.objectType(EngineNotFoundError, {
  name: 'NotFoundError',
  description: 'The object the mutation names does not exist.',
  interfaces: [MutationErrorInterface],
  isTypeOf: (value) => value instanceof EngineNotFoundError,
  fields: () => ({}),
});

builder.objectType(EngineConflictError, {
  name: 'ConflictError',
  description:
    'The object’s state or name clashes with the change: a name in use, a running container, a network in use.',
  interfaces: [MutationErrorInterface],
  isTypeOf: (value) => value instanceof EngineConflictError,
  fields: () => ({}),
});

builder.objectType(InvalidInputError, {
  name: 'InvalidInputError',
  description:
    'The input is not acceptable: refused before it reached the engine (`field` names it) or by the engine.',
  interfaces: [MutationErrorInterface],
  isTypeOf: (value) => value instanceof InvalidInputError,
  fields: (t) => ({
    field: t.exposeString('field', {
      nullable: true,
      description:
        'Path of the offending input, e.g. "input.portBindings[0].hostPort"; null when the engine refused it.',
    }),
  }),
});

builder.objectType(RegistryAuthError, {
  name: 'RegistryAuthError',
  description:
    'A registry refused the credentials given, or asked for credentials. The credentials are never echoed.',
  interfaces: [MutationErrorInterface],
  isTypeOf: (value) => value instanceof RegistryAuthError,
  fields: (t) => ({
    registry: t.exposeString('registry', {
      nullable: true,
      description: 'The registry that refused, when known.',
    }),
  }),
});

builder.objectType(EngineNotSupportedError, {
  name: 'NotSupportedError',
  description:
    'The engine cannot do this at all (Podman lacks some Docker operations); nothing was changed.',
  interfaces: [MutationErrorInterface],
  isTypeOf: (value) => value instanceof EngineNotSupportedError,
  fields: (t) => ({
    engine: t.exposeString('engine', {
      description:
        'The kind of engine that cannot do it, as `Engine.ping.kind` names it in lowercase, e.g. "podman".',
    }),
  }),
});

const EngineErrorKindEnum = builder.enumType('EngineErrorCode', {
  description: 'What kind of engine failure ended a mutation.',
  values: {
    NOT_MODIFIED: { description: 'Nothing to change.' },
    BAD_REQUEST: { description: 'The engine refused the request.' },
    FORBIDDEN: { description: 'The engine forbids the operation.' },
    UNAUTHORIZED: { description: 'Credentials were refused.' },
    NOT_FOUND: { description: 'An object it needed does not exist.' },
    CONFLICT: { description: 'A state or name conflict.' },
    NOT_IMPLEMENTED: { description: 'The engine does not support the operation.' },
    ENGINE_ERROR: { description: 'The engine failed (HTTP 500 and the like).' },
    ENGINE_UNAVAILABLE: { description: 'The engine could not be reached.' },
    ENGINE_TIMEOUT: { description: 'The engine did not answer in time.' },
  } as const,
});

builder.objectType(EngineError, {
  name: 'EngineFailureError',
  description: 'The engine could not carry out the change, or could not be reached.',
  interfaces: [MutationErrorInterface],
  isTypeOf: (value) =>
    value instanceof EngineError &&
    !(
      value instanceof EngineNotFoundError ||
      value instanceof EngineNotSupportedError ||
      value instanceof EngineConflictError ||
      value instanceof InvalidInputError ||
      value instanceof RegistryAuthError
    ),
  fields: (t) => ({
    code: t.field({
      type: EngineErrorKindEnum,
      description: 'Kind of failure.',
      resolve: (error) => error.kind,
    }),
    engineStatus: t.int({
      nullable: true,
      description: 'HTTP status the engine answered with; null when it did not answer.',
      resolve: (error) => error.status || null,
    }),
  }),
});

/**
 * The errors every mutation may end in, most specific first (the errors plugin
 * takes the first class the thrown error is an instance of).
 */
export const mutationErrors = [
  EngineNotFoundError,
  EngineNotSupportedError,
  EngineConflictError,
  InvalidInputError,
  EngineError,
] as const;

/** The errors of mutations that talk to a registry (pull, push, build FROM a registry). */
export const registryMutationErrors = [
  EngineNotFoundError,
  EngineNotSupportedError,
  EngineConflictError,
  InvalidInputError,
  RegistryAuthError,
  EngineError,
] as const;
