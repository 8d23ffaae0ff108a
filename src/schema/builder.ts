import SchemaBuilder from '@pothos/core';
import ComplexityPlugin from '@pothos/plugin-complexity';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import type { GraphQLError } from 'graphql';
import type { GraphQLContext } from '../context.ts';
import { describePrincipal } from '../security/principal.ts';
import { PERMISSIONS, type Permission } from '../security/roles.ts';
import { forbiddenError } from './access.ts';
import { describeMissingPermissions, permissionsFor } from './access-rules.ts';
// Registers the costModel plugin.
import './cost-model.ts';
// Registers the denyByDefault plugin.
import './deny-by-default.ts';
// Registers the engineBinding plugin.
import './engine-binding-plugin.ts';
// Registers the labelScope plugin.
import './label-scope-plugin.ts';
import { invalidArgument } from './errors.ts';
import { decodeNodeId, encodeNodeId } from './node-id.ts';

/** Types that implement `Node`; an ID naming another type was not made by dockergraph. */
// Every type that implements Node: each loads through its engine's request loaders, which
// hide from a principal limited to labels what its lists hide (src/loaders.ts).
const nodeTypenames = new Set([
  'Container',
  'Image',
  'Volume',
  'Network',
  'Service',
  'Task',
  'SwarmNode',
  'Secret',
  'Config',
  'Stack',
]);

function checkNodeTypename(argument: string, typename: string) {
  if (!nodeTypenames.has(typename)) throw invalidArgument(argument, 'not a global ID of this API');
}

/** Permissions that change the engine: none of them holds while the server is read-only. */
const writePermissions: ReadonlySet<Permission> = new Set(['lifecycle', 'write', 'dangerous']);

/** The scopes of one operation: the principal's permissions, less writes when read-only. */
function scopesOf(context: GraphQLContext): Record<Permission, boolean> {
  const scopes = {} as Record<Permission, boolean>;
  for (const permission of PERMISSIONS) {
    scopes[permission] =
      context.principal.permissions.has(permission) &&
      !(context.policy.readOnly && writePermissions.has(permission));
  }
  return scopes;
}

/** The principal's permissions that hold for this operation (no writes while read-only). */
export function heldPermissions(context: GraphQLContext): Permission[] {
  const scopes = scopesOf(context);
  return PERMISSIONS.filter((permission) => scopes[permission]);
}

/**
 * Whether the operation's principal may use `typeName.fieldName`, by the very
 * rule scope-auth applies to it (all its permissions, read-only mode): what the
 * capability fields (`viewer.can`, `viewerCan`) answer.
 */
export function mayUseField(context: GraphQLContext, typeName: string, fieldName: string): boolean {
  const permissions = permissionsFor(typeName, fieldName);
  const scopes = scopesOf(context);
  return permissions?.every((permission) => scopes[permission]) ?? false;
}

/** The error a field the principal may not use answers: what was refused and why. */
function forbidden(context: GraphQLContext, typeName: string, fieldName: string): GraphQLError {
  const field = `${typeName}.${fieldName}`;
  const permissions = permissionsFor(typeName, fieldName);
  if (permissions === undefined) {
    return forbiddenError(`${field} has no access rule and is denied to everyone`);
  }
  if (
    context.policy.readOnly &&
    permissions.some((permission) => writePermissions.has(permission))
  ) {
    return forbiddenError(
      `${field} is turned off: the server is read-only (DOCKERGRAPH_READ_ONLY)`,
    );
  }
  return forbiddenError(
    `${describePrincipal(context.principal)} may not use ${field}: ${describeMissingPermissions(permissions, context.principal.permissions)}`,
  );
}

/** The one schema builder; every domain file adds its types to it. */
export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    SafeInt: { Input: number; Output: number };
    File: { Input: File; Output: never };
  };
  Connection: { totalCount: number | Promise<number> };
  AuthScopes: Record<Permission, boolean>;
}>({
  // scope-auth first, so that its checks run before any other plugin's resolver wrapping.
  plugins: [
    ScopeAuthPlugin,
    // Outside every other wrapping: the resolver and the plugins below see the context of
    // the field's engine.
    'engineBinding',
    'denyByDefault',
    ComplexityPlugin,
    // Gives every field its cost from cost-rules.ts. Pothos applies field-config hooks last
    // plugin first: listed after the complexity plugin, it runs before that plugin reads it.
    'costModel',
    ErrorsPlugin,
    // After the errors plugin, so that its resolver wrapping sits inside that plugin's: a
    // hidden target answers the field's NotFoundError like a missing one.
    'labelScope',
    RelayPlugin,
    DataloaderPlugin,
  ],
  // The complexity plugin only carries the cost model (`cost-model.ts`): operations are held to
  // their limits before they run, with their variables, by src/plugins/use-cost-limit.ts.
  errors: {
    // Mutation results are unions of their payload and the errors they may end in.
    directResult: true,
    defaultUnionOptions: {
      name: ({ fieldName }) => `${fieldName.charAt(0).toUpperCase()}${fieldName.slice(1)}Result`,
      description: 'What a mutation answers: its payload, or one of the errors it may end in.',
    },
  },
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: scopesOf,
    // A subscription is authorised once, when it starts; its events are not checked again.
    authorizeOnSubscribe: true,
    unauthorizedError: (_parent, context, info) =>
      forbidden(context, info.parentType.name, info.fieldName),
  },
  relay: {
    cursorType: 'String',
    encodeGlobalID: encodeNodeId,
    decodeGlobalID: decodeNodeId,
    nodeTypeOptions: {
      description: 'An object with a global ID, refetchable through `node(id:)`.',
    },
    pageInfoTypeOptions: { description: 'Where a page of a connection stands in the whole list.' },
    idFieldOptions: { description: 'Opaque global ID: names the engine, the type and the object.' },
    nodeQueryOptions: {
      description: 'Fetches any object by its global ID; null when it no longer exists.',
      args: { id: { description: 'A global ID, as returned by an `id` field.' } },
      resolve: (_root, { id }, _context, _info, resolveNode) => {
        checkNodeTypename('id', id.typename);
        return resolveNode(id);
      },
    },
    nodesQueryOptions: {
      description:
        'Fetches several objects by their global IDs, in order; null for those that no longer exist.',
      args: { ids: { description: 'Global IDs, as returned by `id` fields.' } },
      resolve: (_root, { ids }, context, _info, resolveNodes) => {
        // Each ID may be one engine call: a long list would be as many calls in one request.
        const { maxNodeIds } = context.limits;
        if (ids.length > maxNodeIds) {
          throw invalidArgument(
            'ids',
            `${ids.length} IDs asked for, at most ${maxNodeIds} may be fetched at once (DOCKERGRAPH_MAX_NODE_IDS)`,
          );
        }
        ids.forEach((id, index) => {
          checkNodeTypename(`ids[${index}]`, id.typename);
        });
        return resolveNodes(ids);
      },
    },
    cursorFieldOptions: { description: 'Opaque position of this edge, for `after` and `before`.' },
    nodeFieldOptions: { description: 'The object at this edge.' },
    edgesFieldOptions: { description: 'The objects of this page with their cursors.' },
    pageInfoFieldOptions: { description: 'Where this page stands in the whole list.' },
    hasNextPageFieldOptions: { description: 'Whether more objects follow this page.' },
    hasPreviousPageFieldOptions: { description: 'Whether objects precede this page.' },
    startCursorFieldOptions: { description: 'Cursor of the first object of this page.' },
    endCursorFieldOptions: { description: 'Cursor of the last object of this page.' },
    firstArgOptions: {
      description: 'Returns at most this many objects from the start (after `after`).',
    },
    lastArgOptions: {
      description: 'Returns at most this many objects from the end (before `before`).',
    },
    afterArgOptions: { description: 'Returns objects after this cursor.' },
    beforeArgOptions: { description: 'Returns objects before this cursor.' },
  },
});

builder.queryType({ description: 'Reads of one Docker engine.' });

builder.mutationType({
  description:
    'Changes to one Docker engine. Each returns a payload with the object read back after the change, or a typed error.',
});

builder.globalConnectionField('totalCount', (t) =>
  t.int({
    description: 'Number of objects in the whole list, across all pages.',
    resolve: (connection) => connection.totalCount,
  }),
);

/** The schema builder's type parameters, for helpers that take Pothos' field and argument builders. */
export type BuilderTypes =
  typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;
