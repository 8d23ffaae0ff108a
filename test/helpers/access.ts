// Tokens for every role, and operations that call one root field of the schema each with
// harmless arguments: what the access tests run under each role.
import { randomBytes } from 'node:crypto';
import {
  type GraphQLArgument,
  GraphQLEnumType,
  type GraphQLField,
  GraphQLInputObjectType,
  type GraphQLInputType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLScalarType,
  type GraphQLSchema,
  getNamedType,
  isLeafType,
} from 'graphql';
import type { AdmissionLevel } from '../../src/security/admission.ts';
import { hashToken } from '../../src/security/principal.ts';
import { PERMISSIONS, type Permission } from '../../src/security/roles.ts';
import type { GraphQLResponse, TestApp } from './app.ts';

/** The custom role the access tests configure: writes, without lifecycle or dangerous. */
export const CUSTOM_ROLES: Readonly<Record<string, readonly Permission[]>> = {
  deployer: ['read', 'write'],
};

/** Every permission of an admin but `secrets`: a custom role that sees secrets redacted. */
export const ADMIN_WITHOUT_SECRETS: readonly Permission[] = PERMISSIONS.filter(
  (permission) => permission !== 'secrets',
);

/** The roles the access tests run under: the built-in ones and the custom one. */
export const ROLES = ['viewer', 'operator', 'admin', 'deployer'] as const;

export type RoleName = (typeof ROLES)[number];

/** A token per role (its id is the role's name), and the environment that configures them. */
export interface RoleTokens {
  readonly tokens: Readonly<Record<RoleName, string>>;
  /** `DOCKERGRAPH_TOKENS`: the custom role and one token per role. */
  readonly env: { readonly DOCKERGRAPH_TOKENS: string };
}

/** A fresh random bearer token, as `npm run token` makes them. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** One configured token, given by the token itself (the configuration holds its hash). */
export interface TokenGrant {
  readonly id: string;
  readonly role: string;
  readonly token: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** Engines it is limited to: names or label selectors of engines. */
  readonly engines?: readonly string[];
}

/**
 * A custom role as the token configuration writes it: its permissions, or its
 * permissions and its admission level.
 */
export type RoleDefinition =
  | readonly Permission[]
  | { readonly permissions: readonly Permission[]; readonly admission: AdmissionLevel };

/**
 * Two tokens, "root" an unlimited admin and "blue" limited to `labels` (an admin unless
 * `limitedRole` says otherwise), and the `DOCKERGRAPH_TOKENS` that configures them.
 */
export function adminAndLimitedTokens(
  labels: Readonly<Record<string, string>>,
  limitedRole: RoleName = 'admin',
) {
  const adminToken = randomToken();
  const limitedToken = randomToken();
  const env = tokensEnv([
    { id: 'root', role: 'admin', token: adminToken },
    { id: 'blue', role: limitedRole, token: limitedToken, labels },
  ]);
  return { adminToken, limitedToken, env };
}

/** `DOCKERGRAPH_TOKENS` configuring `grants`, and the custom `roles` when given. */
export function tokensEnv(
  grants: readonly TokenGrant[],
  roles?: Readonly<Record<string, RoleDefinition>>,
): { readonly DOCKERGRAPH_TOKENS: string } {
  const tokens = grants.map(({ id, role, token, labels, engines }) => ({
    id,
    role,
    sha256: hashToken(token),
    ...(labels ? { labels } : {}),
    ...(engines ? { engines } : {}),
  }));
  return { DOCKERGRAPH_TOKENS: JSON.stringify(roles ? { roles, tokens } : { tokens }) };
}

/** Makes a fresh random token for each role. */
export function makeRoleTokens(): RoleTokens {
  const tokens = Object.fromEntries(ROLES.map((role) => [role, randomToken()])) as Record<
    RoleName,
    string
  >;
  const env = tokensEnv(
    ROLES.map((role) => ({ id: role, role, token: tokens[role] })),
    CUSTOM_ROLES,
  );
  return { tokens, env };
}

/** Argument values for one field, by argument name. */
export type ArgumentSamples = Readonly<Record<string, unknown>>;

/** Sample arguments that keep every root field from changing anything, for one test run. */
export interface HarmlessSamples {
  /** A name no container, image, volume or network on the engine has. */
  readonly missing: string;
  /**
   * Arguments beyond the required ones' defaults (the missing name, 1, false...):
   * what makes each mutation end in "not found" or "invalid input" once let in.
   */
  readonly mutationSamples: Readonly<Record<string, ArgumentSamples>>;
  readonly subscriptionSamples: Readonly<Record<string, ArgumentSamples>>;
}

/** Harmless arguments for the root fields, with names unique to `run`. */
export function harmlessSamples(run: string): HarmlessSamples {
  const missing = `dg-access-missing-${run}`;
  // A label no object carries: prunes filtered by it remove nothing.
  const probeLabel = `dockergraph.access-probe=${run}`;
  // A registry nothing listens on: a pull fails at once.
  const unreachableImage = '127.0.0.1:1/none:latest';
  return {
    missing,
    mutationSamples: {
      createContainer: { input: { image: missing } },
      createVolume: { input: { name: 'not a volume name' } },
      createNetwork: { input: { name: 'not a network name' } },
      pullImage: { reference: unreachableImage },
      pushImage: { reference: `${missing}:latest` },
      checkRegistryLogin: { registry: '127.0.0.1:1', username: 'probe', password: 'probe' },
      installPlugin: { remote: unreachableImage, privileges: [] },
      upgradePlugin: { remote: unreachableImage, privileges: [] },
      buildImage: { input: { dockerfile: '' } },
      importImage: { platform: 'not a platform' },
      execInContainer: { input: { cmd: ['true'] } },
      copyToContainer: { path: '/tmp' },
      updateContainer: { input: { restartPolicy: { name: 'NO' } } },
      pruneContainers: { filter: { labels: [probeLabel] } },
      pruneImages: { labels: [probeLabel] },
      pruneVolumes: { labels: [probeLabel] },
      pruneNetworks: { labels: [probeLabel] },
      // Refused before the engine: the test engine must never become a swarm (manager).
      initSwarm: { input: { listenAddress: 'not an address' } },
      joinSwarm: { input: { remoteAddresses: [], joinToken: missing } },
    },
    subscriptionSamples: {
      events: { filter: { labels: ['=not a label'] } },
      containerUpdated: { filter: { labels: ['=not a label'] } },
      pullImageProgress: { reference: unreachableImage },
      buildImageProgress: { input: { dockerfile: '' } },
    },
  };
}

/** An operation calling one root field, with its variables. */
export interface RootFieldOperation {
  readonly field: string;
  readonly query: string;
  readonly variables: Readonly<Record<string, unknown>>;
  /** Variables of type File: sent as multipart uploads (GraphQL multipart request spec). */
  readonly uploads: readonly string[];
}

/** The names of the root fields of `kind`, sorted. */
export function rootFieldNames(
  schema: GraphQLSchema,
  kind: 'Query' | 'Mutation' | 'Subscription',
): string[] {
  const type =
    kind === 'Query'
      ? schema.getQueryType()
      : kind === 'Mutation'
        ? schema.getMutationType()
        : schema.getSubscriptionType();
  return Object.keys(type?.getFields() ?? {}).sort();
}

function isRequired(argument: { type: GraphQLInputType; defaultValue?: unknown }): boolean {
  return argument.type instanceof GraphQLNonNull && argument.defaultValue === undefined;
}

/** A value for a required input of `type` that nothing in the sample table gave. */
function defaultSample(type: GraphQLInputType, where: string, missingName: string): unknown {
  if (type instanceof GraphQLNonNull) return defaultSample(type.ofType, where, missingName);
  if (type instanceof GraphQLList) return [defaultSample(type.ofType, where, missingName)];
  if (type instanceof GraphQLEnumType) return type.getValues()[0]?.name;
  if (type instanceof GraphQLInputObjectType) {
    const value: Record<string, unknown> = {};
    for (const field of Object.values(type.getFields())) {
      if (isRequired(field)) {
        value[field.name] = defaultSample(field.type, `${where}.${field.name}`, missingName);
      }
    }
    return value;
  }
  if (type instanceof GraphQLScalarType) {
    // A name nothing on the engine has: the call is let in, then answers "not found".
    if (type.name === 'String' || type.name === 'ID') return missingName;
    if (type.name === 'Int' || type.name === 'SafeInt') return 1;
    if (type.name === 'Boolean') return false;
    if (type.name === 'File') return null;
  }
  throw new Error(`no sample value for ${where} (${String(type)}): add one to the sample table`);
}

/** Whether `type` is File or a list of it: such variables travel as uploads. */
function isUpload(type: GraphQLInputType): boolean {
  const named = getNamedType(type);
  return named instanceof GraphQLScalarType && named.name === 'File';
}

/**
 * The operation calling `kind.field` with its required arguments (and any the
 * sample table gives), selecting `__typename` of the result (or the leaf
 * value). Arguments travel as variables.
 */
export function rootFieldOperation(
  schema: GraphQLSchema,
  kind: 'Mutation' | 'Subscription',
  fieldName: string,
  samples: ArgumentSamples,
  missingName: string,
): RootFieldOperation {
  const type = kind === 'Mutation' ? schema.getMutationType() : schema.getSubscriptionType();
  const field: GraphQLField<unknown, unknown> | undefined = type?.getFields()[fieldName];
  if (!field) throw new Error(`${kind}.${fieldName} is not in the schema`);
  for (const name of Object.keys(samples)) {
    if (!field.args.some((argument) => argument.name === name)) {
      throw new Error(
        `the sample table gives ${kind}.${fieldName}(${name}:), which does not exist`,
      );
    }
  }
  const used: GraphQLArgument[] = field.args.filter(
    (argument) => isRequired(argument) || Object.hasOwn(samples, argument.name),
  );
  const variables: Record<string, unknown> = {};
  for (const argument of used) {
    variables[argument.name] = Object.hasOwn(samples, argument.name)
      ? samples[argument.name]
      : defaultSample(argument.type, `${kind}.${fieldName}(${argument.name}:)`, missingName);
  }
  const definitions = used.map((argument) => `$${argument.name}: ${String(argument.type)}`);
  const call = used.map((argument) => `${argument.name}: $${argument.name}`);
  const selection = isLeafType(getNamedType(field.type)) ? '' : ' { __typename }';
  const operation = kind === 'Mutation' ? 'mutation' : 'subscription';
  return {
    field: `${kind}.${fieldName}`,
    query: `${operation} Probe${definitions.length ? `(${definitions.join(', ')})` : ''} { ${fieldName}${call.length ? `(${call.join(', ')})` : ''}${selection} }`,
    variables,
    uploads: used.filter((argument) => isUpload(argument.type)).map((argument) => argument.name),
  };
}

/** The operation calling `kind.field` with the harmless arguments of `samples`. */
export function harmlessOperation(
  schema: GraphQLSchema,
  samples: HarmlessSamples,
  kind: 'Mutation' | 'Subscription',
  fieldName: string,
): RootFieldOperation {
  const table = kind === 'Mutation' ? samples.mutationSamples : samples.subscriptionSamples;
  return rootFieldOperation(schema, kind, fieldName, table[fieldName] ?? {}, samples.missing);
}

/** The body of a POST to /graphql: the operation, or a multipart request with its uploads. */
function requestBody(
  operation: RootFieldOperation,
  uploadContent: Uint8Array = new TextEncoder().encode('not a tar archive'),
): { body: object; headers: Record<string, string> } {
  if (operation.uploads.length === 0) {
    return { body: { query: operation.query, variables: operation.variables }, headers: {} };
  }
  const form = new FormData();
  form.set(
    'operations',
    JSON.stringify({
      query: operation.query,
      variables: {
        ...operation.variables,
        ...Object.fromEntries(operation.uploads.map((name) => [name, null])),
      },
    }),
  );
  form.set(
    'map',
    JSON.stringify(
      Object.fromEntries(operation.uploads.map((name, index) => [index, [`variables.${name}`]])),
    ),
  );
  operation.uploads.forEach((_name, index) => {
    form.set(String(index), new Blob([new Uint8Array(uploadContent)]), 'upload.tar');
  });
  // Multipart requests are "simple" requests to browsers: CSRF prevention asks for a header.
  return { body: form, headers: { 'x-graphql-yoga-csrf': 'probe' } };
}

/** Sends `operation` to the app over HTTP with `token`, as JSON or as a multipart upload. */
export async function sendOperation(
  app: TestApp,
  token: string,
  operation: RootFieldOperation,
): Promise<{ status: number; answer: GraphQLResponse<unknown> }> {
  const { body, headers } = requestBody(operation);
  const { status, body: answer } = await app.post(body, { token, headers });
  return { status, answer };
}

/** The controls an admission refusal names (`extensions.admissionFindings[].control`), in order. */
export function admissionControlsOf(
  error: NonNullable<GraphQLResponse<unknown>['errors']>[number] | undefined,
): string[] {
  const findings = error?.extensions?.admissionFindings;
  return Array.isArray(findings)
    ? findings.map((finding: { control?: unknown }) => String(finding.control))
    : [];
}
