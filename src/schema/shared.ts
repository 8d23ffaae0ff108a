import type { ArgBuilder } from '@pothos/core';
import { compareText } from '../compare-text.ts';
import type { GraphQLContext } from '../context.ts';
import { toEngineMap } from '../docker/container-spec.ts';
import type { LogOptions } from '../docker/containers.ts';
import { InvalidInputError } from '../docker/errors.ts';
import { givenFields } from '../docker/given-fields.ts';
import type { Delivered } from '../docker/live-buffer.ts';
import type { RegistryCredentials } from '../docker/registry-auth.ts';
import { type RedactedText, redactDriverOption, redactFor } from '../security/output-redaction.ts';
import type { Principal } from '../security/principal.ts';
import { type BuilderTypes, builder } from './builder.ts';
import { invalidArgument } from './errors.ts';

/** A key and its value, from one of the engine's string maps. */
export interface KeyValue {
  readonly name: string;
  readonly value: string;
}

/** Turns an engine string map into sorted name/value pairs. */
export function toKeyValues(map: Readonly<Record<string, string>> | null | undefined): KeyValue[] {
  return Object.entries(map ?? {})
    .map(([name, value]) => ({ name, value }))
    .sort((a, b) => compareText(a.name, b.name));
}

/** The value of the label `name`; null when it is not set (inherited keys such as "constructor" are no labels). */
export function labelValue(
  labels: Readonly<Record<string, string>> | null | undefined,
  name: string,
): string | null {
  return labels && Object.hasOwn(labels, name) ? (labels[name] ?? null) : null;
}

export const LabelRef = builder.objectRef<KeyValue>('Label').implement({
  description:
    'A label: metadata set on an object by whoever created it, e.g. `com.example.team=payments`.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The label key.' }),
    value: t.exposeString('value', { description: 'The label value (may be empty).' }),
  }),
});

type LabelMap = Readonly<Record<string, string>> | null | undefined;

/**
 * The `labels` and `label(name)` fields of an object type whose labels
 * `labelsOf` reads; `descriptions` word them for that type.
 */
export function labelFields<Parent>(
  t: PothosSchemaTypes.ObjectFieldBuilder<BuilderTypes, Parent>,
  labelsOf: (parent: Parent, context: GraphQLContext) => LabelMap | Promise<LabelMap>,
  descriptions = {
    labels: 'Labels, sorted by name.',
    label: 'The value of one label; null when it is not set.',
  },
) {
  return {
    labels: t.field({
      type: [LabelRef],
      description: descriptions.labels,
      resolve: async (parent, _args, context) => toKeyValues(await labelsOf(parent, context)),
    }),
    label: t.string({
      nullable: true,
      description: descriptions.label,
      args: { name: t.arg.string({ required: true, description: 'Label key.' }) },
      resolve: async (parent, { name }, context) =>
        labelValue(await labelsOf(parent, context), name),
    }),
  };
}

function redactedOptionValue(option: KeyValue, principal: Principal): RedactedText {
  return redactFor(principal, option.value, (value) => redactDriverOption(option.name, value));
}

export const OptionRef = builder.objectRef<KeyValue>('DriverOption').implement({
  description: 'An option passed to a volume, network or IPAM driver.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The option name.' }),
    value: t.string({
      description:
        'The option value. Credentials in it (an option named like "password", "secret", "token", "key"; or such an entry of a comma-separated list, as in "o=addr=…,password=…") read "[redacted]" unless the token has the "secrets" permission.',
      resolve: (option, _args, context) => redactedOptionValue(option, context.principal).text,
    }),
    redacted: t.boolean({
      description: 'Whether credentials in `value` are withheld.',
      resolve: (option, _args, context) => redactedOptionValue(option, context.principal).redacted,
    }),
  }),
});

export { parseEngineTime } from '../docker/engine-time.ts';

/** The first 12 hex digits of an id, as the docker CLI shows it; `sha256:` is dropped. */
export function shortenId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** `key` or `key=value` with a non-empty key: the form of Docker label filters. */
const labelFilterPattern = /^[^=\s][^=]*(=.*)?$/;

/** Builds the error for a bad argument: a GraphQL error in queries, a typed error in mutations. */
export type ArgumentProblem = (argument: string, problem: string) => Error;

/** The typed {@link InvalidInputError} mutations answer bad input with. */
export const invalidInput: ArgumentProblem = (field, problem) =>
  new InvalidInputError(field, problem);

/** Rejects label filters the engine would misread, naming the offending entry. */
export function checkLabelFilters(
  argument: string,
  labels: readonly string[] | null | undefined,
  fail: ArgumentProblem = invalidArgument,
) {
  labels?.forEach((label, index) => {
    if (!labelFilterPattern.test(label)) {
      throw fail(`${argument}[${index}]`, `"${label}" is not "key" or "key=value"`);
    }
  });
}

/** Rejects empty or blank entries of a list argument, naming the offending entry. */
export function checkNonEmpty(argument: string, values: readonly string[] | null | undefined) {
  values?.forEach((value, index) => {
    if (value.trim() === '') throw invalidArgument(`${argument}[${index}]`, 'must not be empty');
  });
}

export const KeyValueInput = builder.inputType('KeyValueInput', {
  description: 'A name and its value: a label, a driver option, a build argument.',
  fields: (t) => ({
    name: t.string({ required: true, description: 'The name (label key, option name).' }),
    value: t.string({ required: true, description: 'Its value (may be empty).' }),
  }),
});

/** Turns name/value inputs into the engine's string map, refusing empty and repeated names. */
export function toStringMap(
  field: string,
  entries: readonly { name: string; value: string }[] | null | undefined,
): Record<string, string> | undefined {
  return entries ? toEngineMap(field, entries) : undefined;
}

export const RegistryAuthInput = builder.inputType('RegistryAuthInput', {
  description:
    'Credentials for a registry (pull, push, build): username and password, or an identity token. Sent to the engine only; never logged, echoed or returned.',
  fields: (t) => ({
    username: t.string({ required: false, description: 'User name at the registry.' }),
    password: t.string({
      required: false,
      description: 'Password or access token for `username`.',
    }),
    serverAddress: t.string({
      required: false,
      description: 'The registry the credentials are for, e.g. "registry.example.com:5000".',
    }),
    identityToken: t.string({
      required: false,
      description: 'An identity token from a registry login, instead of username and password.',
    }),
  }),
});

/** The `auth` argument of a field that reaches a registry. */
export function registryAuthArg(arg: ArgBuilder<BuilderTypes>) {
  return arg({
    type: RegistryAuthInput,
    required: false,
    description: 'Credentials for the registry.',
  });
}

/** The `spaceReclaimedBytes` field of a prune payload. */
export function spaceReclaimedField<Report extends { readonly spaceReclaimed: number }>(
  t: PothosSchemaTypes.ObjectFieldBuilder<BuilderTypes, Report>,
) {
  return t.field({
    type: 'SafeInt',
    description: 'Disk space freed.',
    resolve: (report) => report.spaceReclaimed,
  });
}

/** Turns a {@link RegistryAuthInput} into engine credentials, refusing a password without a user name. */
export function toRegistryCredentials(
  field: string,
  auth: typeof RegistryAuthInput.$inferInput | null | undefined,
): RegistryCredentials | undefined {
  if (!auth) return undefined;
  const given = givenFields(auth);
  if (given.password !== undefined && given.username === undefined) {
    throw new InvalidInputError(`${field}.username`, 'is required with a password');
  }
  if (given.username !== undefined && given.username.trim() === '') {
    throw new InvalidInputError(`${field}.username`, 'must not be empty');
  }
  return given;
}

/** The `since` argument of a log field, worded for a read ("Only lines …") or a follow ("Begin with …"). */
export function logSinceArg(arg: ArgBuilder<BuilderTypes>, description: string) {
  return arg({ type: 'DateTime', required: false, description });
}

/** The `timestamps` argument, alike on every log field and subscription. */
export function logTimestampsArg(arg: ArgBuilder<BuilderTypes>) {
  return arg.boolean({
    required: false,
    defaultValue: true,
    description: 'Ask the engine for the time of each line.',
  });
}

/** The `stdout` and `stderr` arguments of a log field, each named in the descriptions as given. */
export function logStreamArgs(
  arg: ArgBuilder<BuilderTypes>,
  names: { readonly stdout: string; readonly stderr: string },
) {
  return {
    stdout: arg.boolean({
      required: false,
      defaultValue: true,
      description: `Include ${names.stdout}.`,
    }),
    stderr: arg.boolean({
      required: false,
      defaultValue: true,
      description: `Include ${names.stderr}.`,
    }),
  };
}

/** The `dropped` field of a message of a log subscription (`containerLogs`, `serviceLogs`). */
export function droppedLinesField<Line>(
  t: PothosSchemaTypes.ObjectFieldBuilder<BuilderTypes, Delivered<Line>>,
) {
  return t.exposeInt('dropped', {
    description:
      'Lines discarded just before this one because this subscriber read too slowly (0 normally).',
  });
}

/** The log arguments of the `logs` field and the `containerLogs` subscription. */
export interface LogArguments {
  readonly tail?: number | null | undefined;
  readonly since?: Date | null | undefined;
  readonly until?: Date | null | undefined;
  readonly timestamps?: boolean | null | undefined;
  readonly stdout?: boolean | null | undefined;
  readonly stderr?: boolean | null | undefined;
}

/** Checks log arguments before the engine sees them and turns them into engine options. */
export function toLogOptions(args: LogArguments): LogOptions {
  if (args.tail !== null && args.tail !== undefined && args.tail < 0) {
    throw invalidArgument('tail', `must not be negative, got ${args.tail}`);
  }
  if (args.since && args.until && args.since.getTime() > args.until.getTime()) {
    throw invalidArgument('until', 'must not be before since');
  }
  if (args.stdout === false && args.stderr === false) {
    throw invalidArgument('stdout', 'stdout and stderr cannot both be false');
  }
  // The engine reads times as Unix seconds, fractions allowed.
  return {
    tail: args.tail ?? undefined,
    since: args.since ? args.since.getTime() / 1000 : undefined,
    until: args.until ? args.until.getTime() / 1000 : undefined,
    timestamps: args.timestamps ?? true,
    stdout: args.stdout ?? true,
    stderr: args.stderr ?? true,
  };
}
