import type { GraphQLContext } from '../context.ts';
import { EngineConflictError, InvalidInputError } from '../docker/errors.ts';
import {
  applyServiceChanges,
  checkSwarmName,
  type ServiceFileSpec,
} from '../docker/service-spec.ts';
import {
  createSwarmBlob,
  type EngineSwarmBlob,
  removeSwarmBlob,
  type SwarmBlobKind,
} from '../docker/swarm-secrets.ts';
import { type EngineService, listServices, updateService } from '../docker/swarm-services.ts';
import { builder } from './builder.ts';
import { labelFilterField, toLabelFilter } from './filter-inputs.ts';
import { labelLimitOf, labelsForCreate } from './label-access.ts';
import { mutationErrors } from './mutation-errors.ts';
import { paginate } from './pagination.ts';
import {
  ConfigRef,
  SecretRef,
  ServiceRef,
  STACK_NAMESPACE_LABEL,
  StackRef,
  type SwarmBlobRecord,
} from './refs.ts';
import { KeyValueInput, labelFields, parseEngineTime, toStringMap } from './shared.ts';
import { visibleSwarmBlob } from './swarm-access.ts';

/** The ids of the secrets or configs a service spec mounts. */
function mountedIds(
  kind: SwarmBlobKind,
  spec: {
    TaskTemplate: {
      ContainerSpec?: { Secrets?: { SecretID: string }[]; Configs?: { ConfigID: string }[] };
    };
  },
): string[] {
  const container = spec.TaskTemplate.ContainerSpec;
  return kind === 'secret'
    ? (container?.Secrets ?? []).map((secret) => secret.SecretID)
    : (container?.Configs ?? []).map((config) => config.ConfigID);
}

for (const [ref, kind] of [
  [SecretRef, 'secret'],
  [ConfigRef, 'config'],
] as const) {
  ref.implement({
    description:
      kind === 'secret'
        ? 'A swarm secret: data the swarm keeps encrypted and mounts into tasks under /run/secrets. Its data is never returned (the engine does not give it).'
        : 'A swarm config: data the swarm mounts into tasks as a file. Its data needs the "secrets" permission.',
    fields: (t) => ({
      dockerId: t.string({ description: "The engine's id.", resolve: ({ blob }) => blob.ID }),
      name: t.string({ description: 'Its name.', resolve: ({ blob }) => blob.Spec.Name }),
      version: t.int({
        description: 'Version of its spec.',
        resolve: ({ blob }) => blob.Version.Index,
      }),
      createdAt: t.field({
        type: 'DateTime',
        nullable: true,
        description: 'When it was created.',
        resolve: ({ blob }) => parseEngineTime(blob.CreatedAt),
      }),
      updatedAt: t.field({
        type: 'DateTime',
        nullable: true,
        description: 'When its labels last changed.',
        resolve: ({ blob }) => parseEngineTime(blob.UpdatedAt),
      }),
      ...labelFields(t, ({ blob }) => blob.Spec.Labels),
      stack: t.field({
        type: StackRef,
        nullable: true,
        description: 'The stack it belongs to; null when none.',
        resolve: ({ engine, blob }) => {
          const name = blob.Spec.Labels?.[STACK_NAMESPACE_LABEL];
          return name === undefined ? null : { engine, name };
        },
      }),
      services: t.field({
        type: [ServiceRef],
        description: 'The services that mount it.',
        resolve: async ({ engine, blob }, _args, context) => {
          const services = await context.loaders.swarm.services();
          return services
            .filter((service) => mountedIds(kind, service.Spec).includes(blob.ID))
            .map((service) => ({ engine, service }));
        },
      }),
    }),
  });
}

builder.objectField(ConfigRef, 'data', (t) =>
  t.string({
    nullable: true,
    description:
      'Its data as UTF-8 text (needs the "secrets" permission); null when it is not valid UTF-8 (see `dataBase64`).',
    resolve: ({ blob }) => {
      const data = Buffer.from(blob.Spec.Data ?? '', 'base64');
      const text = new TextDecoder('utf-8', { fatal: false }).decode(data);
      return Buffer.from(text, 'utf8').equals(data) ? text : null;
    },
  }),
);

builder.objectField(ConfigRef, 'dataBase64', (t) =>
  t.string({
    description: 'Its data, base64 encoded (needs the "secrets" permission).',
    resolve: ({ blob }) => blob.Spec.Data ?? '',
  }),
);

const BlobFilterInput = builder.inputType('SwarmBlobFilter', {
  description: 'Which secrets or configs to list. Conditions of different fields must all hold.',
  fields: (t) => ({
    ids: t.stringList({ required: false, description: 'Engine ids or id prefixes.' }),
    names: t.stringList({ required: false, description: 'Names.' }),
    labels: labelFilterField(t),
  }),
});

function listResolver(kind: SwarmBlobKind) {
  return async (
    _root: unknown,
    args: {
      filter?: typeof BlobFilterInput.$inferInput | null | undefined;
      first?: number | null | undefined;
      last?: number | null | undefined;
      after?: string | null | undefined;
      before?: string | null | undefined;
    },
    context: GraphQLContext,
  ) => {
    const given = toLabelFilter(args.filter);
    const loaders =
      kind === 'secret' ? context.loaders.swarm.secrets : context.loaders.swarm.configs;
    const blobs = await loaders.list(given);
    return paginate(
      blobs.map((blob) => ({ engine: context.engineName, kind, blob })),
      args,
      ({ blob }) => `${blob.Spec.Name}:${blob.ID}`,
    );
  };
}

builder.queryFields((t) => ({
  secrets: t.connection(
    {
      type: SecretRef,
      description: 'Secrets of the swarm this engine manages, by name (metadata only).',
      args: {
        filter: t.arg({
          type: BlobFilterInput,
          required: false,
          description: 'Which secrets to list.',
        }),
      },
      resolve: listResolver('secret'),
    },
    { name: 'SecretConnection', description: 'A page of secrets.' },
    { name: 'SecretEdge', description: 'A secret and its cursor.' },
  ),
  configs: t.connection(
    {
      type: ConfigRef,
      description: 'Configs of the swarm this engine manages, by name.',
      args: {
        filter: t.arg({
          type: BlobFilterInput,
          required: false,
          description: 'Which configs to list.',
        }),
      },
      resolve: listResolver('config'),
    },
    { name: 'ConfigConnection', description: 'A page of configs.' },
    { name: 'ConfigEdge', description: 'A config and its cursor.' },
  ),
}));

// ---------------------------------------------------------------------------
// Mutations

const CreateBlobInput = builder.inputType('CreateSwarmBlobInput', {
  description: 'A secret or config to create (`docker secret create`, `docker config create`).',
  fields: (t) => ({
    name: t.string({
      required: true,
      description: 'Its name (names cannot be reused while it exists).',
    }),
    content: t.string({
      required: true,
      description: 'Its data: UTF-8 text, or base64 with `base64: true`.',
    }),
    base64: t.boolean({
      required: false,
      defaultValue: false,
      description: '`content` is base64 encoded.',
    }),
    labels: t.field({ type: [KeyValueInput], required: false, description: 'Labels to set.' }),
    templating: t.boolean({
      required: false,
      description: 'Expand Go templates in it per task (driver "golang").',
    }),
  }),
});

const RotateBlobInput = builder.inputType('RotateSwarmBlobInput', {
  description:
    'New data for a secret or config, under a new name (the swarm never changes data in place).',
  fields: (t) => ({
    newName: t.string({
      required: true,
      description: 'Name of the new object, e.g. db-password-v2.',
    }),
    content: t.string({
      required: true,
      description: 'The new data: UTF-8 text, or base64 with `base64: true`.',
    }),
    base64: t.boolean({
      required: false,
      defaultValue: false,
      description: '`content` is base64 encoded.',
    }),
  }),
});

/** Most bytes a secret or config may hold (the swarm's own limit is 500 KiB). */
const MAX_BLOB_BYTES = 500 * 1024;

function decodeContent(field: string, content: string, base64: boolean | null | undefined): Buffer {
  let data: Buffer;
  if (base64) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(content) || content.length % 4 !== 0) {
      throw new InvalidInputError(field, 'is not base64');
    }
    data = Buffer.from(content, 'base64');
  } else {
    data = Buffer.from(content, 'utf8');
  }
  if (data.length === 0) throw new InvalidInputError(field, 'must not be empty');
  if (data.length > MAX_BLOB_BYTES) {
    throw new InvalidInputError(
      field,
      `holds ${data.length} bytes; the swarm takes at most ${MAX_BLOB_BYTES}`,
    );
  }
  return data;
}

const payloadRefs = {
  secret: builder.objectRef<SwarmBlobRecord>('SecretPayload').implement({
    description: 'A secret, read back after the change.',
    fields: (t) => ({
      secret: t.field({
        type: SecretRef,
        description: 'The secret.',
        resolve: (payload) => payload,
      }),
    }),
  }),
  config: builder.objectRef<SwarmBlobRecord>('ConfigPayload').implement({
    description: 'A config, read back after the change.',
    fields: (t) => ({
      config: t.field({
        type: ConfigRef,
        description: 'The config.',
        resolve: (payload) => payload,
      }),
    }),
  }),
} as const;

const RemoveBlobPayloadRef = builder
  .objectRef<{ id: string; name: string }>('RemoveSwarmBlobPayload')
  .implement({
    description: 'A removed secret or config.',
    fields: (t) => ({
      dockerId: t.exposeString('id', { description: 'Its engine id.' }),
      name: t.exposeString('name', { description: 'Its name.' }),
    }),
  });

interface RotationResult {
  readonly created: SwarmBlobRecord;
  readonly services: readonly string[];
}

/** The payload of a rotation: the new secret or config, and the services moved to it. */
function rotationPayloadRef(name: string, kind: 'secret' | 'config', ref: typeof SecretRef) {
  return builder.objectRef<RotationResult>(name).implement({
    description: `A rotated ${kind}: the new one, and the services moved to it.`,
    fields: (t) => ({
      [kind]: t.field({
        type: ref,
        description: `The new ${kind}.`,
        resolve: (result) => result.created,
      }),
      services: t.field({
        type: [ServiceRef],
        description: 'The services now mounting it (their tasks are redeployed).',
        resolve: (result, _args, context) => servicesOf(context, result.services),
      }),
    }),
  });
}

const rotationRefs = {
  secret: rotationPayloadRef('RotateSecretPayload', 'secret', SecretRef),
  config: rotationPayloadRef('RotateConfigPayload', 'config', ConfigRef),
} as const;

async function servicesOf(context: GraphQLContext, ids: readonly string[]) {
  const services = await context.loaders.swarm.serviceById.loadMany([...ids]);
  return services.flatMap((service) =>
    service && !(service instanceof Error) ? [{ engine: context.engineName, service }] : [],
  );
}

async function readBlob(
  context: GraphQLContext,
  kind: SwarmBlobKind,
  id: string,
): Promise<SwarmBlobRecord> {
  context.renewLoaders();
  const loaders = kind === 'secret' ? context.loaders.swarm.secrets : context.loaders.swarm.configs;
  const blob = await loaders.inspect.load(id);
  if (!blob) throw new InvalidInputError(null, `${kind} ${id} vanished after the change`);
  return { engine: context.engineName, kind, blob };
}

/**
 * The one conflict a principal limited to labels gets for a secret or config
 * that a service still mounts: the engine's refusal names every such service,
 * those it may not see too; this names none (its own are its `services`).
 */
function inUseByAService(kind: SwarmBlobKind, blob: EngineSwarmBlob): EngineConflictError {
  return new EngineConflictError(
    'CONFLICT',
    `remove ${kind} "${blob.Spec.Name}": it is in use by a service`,
    409,
  );
}

/** Removes a secret or config, answering a limited principal's conflict with {@link inUseByAService}. */
async function removeBlob(
  context: GraphQLContext,
  kind: SwarmBlobKind,
  blob: EngineSwarmBlob,
): Promise<void> {
  try {
    await removeSwarmBlob(context.docker, kind, blob.ID);
  } catch (error) {
    if (labelLimitOf(context) && error instanceof EngineConflictError) {
      throw inUseByAService(kind, blob);
    }
    throw error;
  }
}

/**
 * The services that mount a secret or config, of those the principal sees. For a limited
 * principal, one it may not see refuses the rotation before anything is made: it could not
 * move that service, and the old one could not be removed.
 */
async function usersToMove(
  context: GraphQLContext,
  kind: SwarmBlobKind,
  blob: EngineSwarmBlob,
): Promise<EngineService[]> {
  const mounting = (services: EngineService[]) =>
    services.filter((service) => mountedIds(kind, service.Spec).includes(blob.ID));
  const users = mounting(await context.loaders.swarm.services());
  if (labelLimitOf(context)) {
    const visible = new Set(users.map((service) => service.ID));
    const all = mounting(await listServices(context.docker));
    if (all.some((service) => !visible.has(service.ID))) throw inUseByAService(kind, blob);
  }
  return users;
}

/**
 * Rotation as the swarm requires it (data never changes in place): a new
 * object with the new data and the old one's labels, every service that
 * mounts the old one updated to mount the new one at the same file (a rolling
 * redeploy), then the old one removed.
 */
async function rotate(
  context: GraphQLContext,
  kind: SwarmBlobKind,
  old: EngineSwarmBlob,
  input: typeof RotateBlobInput.$inferInput,
): Promise<RotationResult> {
  checkSwarmName('input.newName', input.newName);
  const data = decodeContent('input.content', input.content, input.base64);
  const users = await usersToMove(context, kind, old);
  const id = await createSwarmBlob(context.docker, kind, {
    name: input.newName,
    data,
    ...(old.Spec.Labels ? { labels: old.Spec.Labels } : {}),
  });
  for (const service of users) {
    const container = service.Spec.TaskTemplate.ContainerSpec;
    const files: ServiceFileSpec[] =
      kind === 'secret'
        ? (container?.Secrets ?? []).map((secret) => ({
            id: secret.SecretID === old.ID ? id : secret.SecretID,
            name: secret.SecretID === old.ID ? input.newName : secret.SecretName,
            target: secret.File.Name,
            uid: secret.File.UID,
            gid: secret.File.GID,
            mode: secret.File.Mode,
          }))
        : (container?.Configs ?? []).map((config) => ({
            id: config.ConfigID === old.ID ? id : config.ConfigID,
            name: config.ConfigID === old.ID ? input.newName : config.ConfigName,
            target: config.File.Name,
            uid: config.File.UID,
            gid: config.File.GID,
            mode: config.File.Mode,
          }));
    const spec = applyServiceChanges(
      'input',
      service.Spec,
      kind === 'secret' ? { secrets: files } : { configs: files },
    );
    await updateService(context.docker, service.ID, spec, { version: service.Version.Index });
  }
  await removeBlob(context, kind, old);
  return {
    created: await readBlob(context, kind, id),
    services: users.map((service) => service.ID),
  };
}

for (const kind of ['secret', 'config'] as const) {
  const Kind = kind === 'secret' ? 'Secret' : 'Config';
  builder.mutationField(`create${Kind}`, (t) =>
    t.field({
      type: payloadRefs[kind],
      description: `Creates a ${kind} (\`docker ${kind} create\`). A name in use is a conflict.`,
      errors: { types: [...mutationErrors] },
      args: {
        input: t.arg({ type: CreateBlobInput, required: true, description: `The ${kind}.` }),
      },
      resolve: async (_root, { input }, context) => {
        checkSwarmName('input.name', input.name);
        const data = decodeContent('input.content', input.content, input.base64);
        const labels = labelsForCreate(
          context,
          'input.labels',
          toStringMap('input.labels', input.labels),
        );
        const id = await createSwarmBlob(context.docker, kind, {
          name: input.name,
          data,
          ...(labels ? { labels } : {}),
          ...(input.templating ? { templatingDriver: 'golang' } : {}),
        });
        return readBlob(context, kind, id);
      },
    }),
  );
  builder.mutationField(`remove${Kind}`, (t) =>
    t.field({
      type: RemoveBlobPayloadRef,
      description: `Removes a ${kind}. One a service mounts is a conflict.`,
      errors: { types: [...mutationErrors] },
      args: {
        id: t.arg.string({ required: true, description: `The ${kind}: id, name or global ID.` }),
      },
      resolve: async (_root, { id }, context) => {
        const blob = await visibleSwarmBlob(context, kind, 'id', id);
        await removeBlob(context, kind, blob);
        return { id: blob.ID, name: blob.Spec.Name };
      },
    }),
  );
  builder.mutationField(`rotate${Kind}`, (t) =>
    t.field({
      type: rotationRefs[kind],
      description: `Replaces a ${kind}'s data as the swarm requires: a new ${kind} under a new name, every service mounting the old one moved to it (same file), the old one removed.`,
      errors: { types: [...mutationErrors] },
      args: {
        id: t.arg.string({
          required: true,
          description: `The ${kind} to replace: id, name or global ID.`,
        }),
        input: t.arg({
          type: RotateBlobInput,
          required: true,
          description: 'The new name and data.',
        }),
      },
      resolve: async (_root, { id, input }, context) => {
        const old = await visibleSwarmBlob(context, kind, 'id', id);
        return rotate(context, kind, old, input);
      },
    }),
  );
}
