import type { GraphQLContext } from '../context.ts';
import type { Principal } from '../security/principal.ts';
import { PERMISSIONS } from '../security/roles.ts';
import { capabilityRules, permissionFor } from './access-rules.ts';
import { builder, heldPermissions, mayUseField } from './builder.ts';
import { invalidArgument } from './errors.ts';
import { ContainerRef, ImageRef, NetworkRef, VolumeRef } from './refs.ts';

/**
 * Capability fields: who the viewer is and what it may do, worked out from the
 * rules that authorise the operations themselves (`access-rules.ts`, the role's
 * permissions, read-only mode), so that a UI shows only the actions that would
 * be allowed. They say what the role allows, not what the object's state allows
 * (stopping a stopped container is allowed, and answers a conflict).
 */

const PermissionEnum = builder.enumType('Permission', {
  description: 'What a role may do; see the security section of the README.',
  values: Object.fromEntries(
    PERMISSIONS.map((permission) => [
      permission.toUpperCase(),
      { value: permission, description: `The "${permission}" permission.` },
    ]),
  ),
});

/** Splits "Mutation.startContainer" or a bare root field name into its type and field. */
function resolveOperation(operation: string): { typeName: string; fieldName: string } {
  const dot = operation.indexOf('.');
  if (dot > 0) {
    const typeName = operation.slice(0, dot);
    const fieldName = operation.slice(dot + 1);
    if (permissionFor(typeName, fieldName) !== undefined) return { typeName, fieldName };
  } else {
    for (const typeName of ['Mutation', 'Subscription', 'Query']) {
      if (permissionFor(typeName, operation) !== undefined) {
        return { typeName, fieldName: operation };
      }
    }
  }
  throw invalidArgument(
    'operation',
    `"${operation}" names no operation with an access rule: give a root field such as "startContainer", or "Type.field" such as "Container.logs"`,
  );
}

const ViewerRef = builder.objectRef<Principal>('Viewer').implement({
  description:
    'Who runs the operation (the token of the request) and what it may do, by the same rules that authorise each operation.',
  fields: (t) => ({
    tokenId: t.string({
      nullable: true,
      description:
        "The token's id from the token configuration; null when no tokens are configured.",
      resolve: (principal) => principal.tokenId,
    }),
    role: t.string({
      description: 'The role of the token ("admin" for everyone when no tokens are configured).',
      resolve: (principal) => principal.role,
    }),
    permissions: t.field({
      type: [PermissionEnum],
      description:
        "The role's permissions that hold now: those that change the engine are left out while the server is read-only.",
      resolve: (_principal, _args, context: GraphQLContext) => heldPermissions(context),
    }),
    readOnly: t.boolean({
      description: 'Whether the server refuses every change (DOCKERGRAPH_READ_ONLY).',
      resolve: (_principal, _args, context: GraphQLContext) => context.policy.readOnly,
    }),
    labels: t.stringList({
      nullable: true,
      description:
        'The labels ("key=value") every object this token sees or changes carries; null when the token is not limited.',
      resolve: (principal) =>
        principal.labels === null
          ? null
          : Object.entries(principal.labels).map(([key, value]) => `${key}=${value}`),
    }),
    can: t.boolean({
      description:
        'Whether the viewer may run `operation` (a root field such as "startContainer", or "Type.field" such as "Container.logs"), as its access rule decides.',
      args: {
        operation: t.arg.string({
          required: true,
          description:
            'A root field ("pruneImages") or "Type.field" ("Subscription.containerLogs").',
        }),
      },
      resolve: (_principal, { operation }, context: GraphQLContext) => {
        const { typeName, fieldName } = resolveOperation(operation);
        return mayUseField(context, typeName, fieldName);
      },
    }),
  }),
});

/** "Type.field" into its parts. */
function splitField(field: string): [string, string] {
  const [typeName = '', fieldName = ''] = field.split('.');
  return [typeName, fieldName];
}

builder.queryField('viewer', (t) =>
  t.field({
    type: ViewerRef,
    description:
      'Who runs this operation and what it may do: a UI asks once to hide what the token cannot use.',
    resolve: (_root, _args, context) => context.principal,
  }),
);

/** Adds `viewerCan` to `parent`: one Boolean per capability of {@link capabilityRules}. */
function addCapabilities(
  parent: typeof ContainerRef | typeof ImageRef | typeof VolumeRef | typeof NetworkRef,
  typeName: 'Container' | 'Image' | 'Volume' | 'Network',
): void {
  const rules = capabilityRules[typeName] ?? {};
  for (const [capability, field] of Object.entries(rules)) {
    if (permissionFor(...splitField(field)) === undefined) {
      throw new Error(
        `capabilityRules.${typeName}.${capability} names ${field}, which has no access rule (src/schema/access-rules.ts)`,
      );
    }
  }
  const CapabilitiesRef = builder.objectRef<object>(`${typeName}Capabilities`).implement({
    description: `What the viewer may do to this ${typeName.toLowerCase()}, by the access rule of each operation (not by the object's state).`,
    fields: (t) =>
      Object.fromEntries(
        Object.entries(rules).map(([capability, field]) => [
          capability,
          t.boolean({
            description: `Whether the viewer may use ${field}.`,
            resolve: (_parent, _args, context: GraphQLContext) =>
              mayUseField(context, ...splitField(field)),
          }),
        ]),
      ),
  });
  builder.objectField(parent as typeof ContainerRef, 'viewerCan', (t) =>
    t.field({
      type: CapabilitiesRef,
      description: `What the viewer may do to this ${typeName.toLowerCase()}: show only the actions that are true.`,
      resolve: (object) => object,
    }),
  );
}

addCapabilities(ContainerRef, 'Container');
addCapabilities(ImageRef, 'Image');
addCapabilities(VolumeRef, 'Volume');
addCapabilities(NetworkRef, 'Network');
