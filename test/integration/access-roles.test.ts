// Every mutation and every subscription of the schema under every role: allowed or denied
// exactly as src/schema/access-rules.ts and src/security/roles.ts say. The fields come from the
// built schema, so a new one is covered (and must have a rule) as soon as it exists. Denied
// operations answer FORBIDDEN without an engine call; allowed ones get past the check and end
// otherwise (not found, invalid input...), with arguments chosen so that nothing changes.
import { randomUUID } from 'node:crypto';
import { GraphQLObjectType } from 'graphql';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fieldRules, permissionsFor } from '../../src/schema/access-rules.ts';
import { schema } from '../../src/schema/index.ts';
import { createRoleTable, type Permission } from '../../src/security/roles.ts';
import {
  CUSTOM_ROLES,
  harmlessOperation,
  harmlessSamples,
  makeRoleTokens,
  ROLES,
  type RoleName,
  type RootFieldOperation,
  rootFieldNames,
  sendOperation,
} from '../helpers/access.ts';
import { createTestApp, type GraphQLResponse, type TestApp } from '../helpers/app.ts';
import {
  clientOf,
  clientWithToken,
  closeAfterConnectionInit,
  firstAnswer,
} from '../helpers/graphql-ws.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';

const samples = harmlessSamples(randomUUID().slice(0, 8));

const roleTable = createRoleTable(CUSTOM_ROLES);
const { tokens, env: roleEnv } = makeRoleTokens();
// The harmless pull sample names 127.0.0.1:1, where nothing listens: listed, so the admission
// policy lets a pull reach the engine, which fails it.
const env = { ...roleEnv, DOCKERGRAPH_REGISTRIES: 'docker.io,127.0.0.1:1' };

function holds(role: RoleName, permissions: readonly Permission[]): boolean {
  return permissions.every((permission) => roleTable.get(role)?.has(permission) ?? false);
}

/** The rule of a root field; the test fails for a field without one. */
function ruleOf(kind: 'Mutation' | 'Subscription', field: string): readonly Permission[] {
  const permissions = permissionsFor(kind, field);
  if (permissions === undefined) {
    throw new Error(`${kind}.${field} has no rule in src/schema/access-rules.ts`);
  }
  return permissions;
}

type Answer = GraphQLResponse<unknown>;

function codesOf(answer: Answer): (string | undefined)[] {
  return (answer.errors ?? []).map((error) => error.extensions?.code);
}

function expectDenied(
  answer: Answer,
  operation: RootFieldOperation,
  role: RoleName,
  permissions: readonly Permission[],
) {
  expect(answer.errors, `${operation.field} as ${role}`).toHaveLength(1);
  expect(answer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  const missing = permissions.filter((permission) => !holds(role, [permission]));
  const named = missing.map((permission) => `"${permission}"`);
  expect(answer.errors?.[0]?.message).toBe(
    `token "${role}" (role "${role}") may not use ${operation.field}: it needs the ${named.join(' and ')} permission${named.length > 1 ? 's' : ''}`,
  );
}

function expectAllowed(answer: Answer, operation: RootFieldOperation, role: RoleName) {
  const what = `${operation.field} as ${role}: ${JSON.stringify(answer)}`;
  expect(codesOf(answer), what).not.toContain('FORBIDDEN');
  // The field itself answered (a payload, a typed error, or an error of its own), not a
  // refusal of the request as a whole: the check let it through.
  const name = operation.field.split('.')[1] ?? '';
  const data = answer.data as Record<string, unknown> | null | undefined;
  const reached =
    (data?.[name] !== undefined && data?.[name] !== null) ||
    (answer.errors !== undefined &&
      answer.errors.length > 0 &&
      answer.errors.every((error) => error.path?.[0] === name));
  expect(reached, what).toBe(true);
}

const mutations = rootFieldNames(schema, 'Mutation');

const subscriptions = rootFieldNames(schema, 'Subscription');

describe('access rules', () => {
  it('have a rule for every mutation and subscription, and name no field that does not exist', () => {
    for (const field of mutations) expect(permissionsFor('Mutation', field), field).toBeDefined();
    for (const field of subscriptions) {
      expect(permissionsFor('Subscription', field), field).toBeDefined();
    }
    for (const [typeName, rules] of Object.entries(fieldRules)) {
      const type = schema.getType(typeName);
      expect(type, typeName).toBeInstanceOf(GraphQLObjectType);
      const fields = (type as GraphQLObjectType).getFields();
      for (const field of Object.keys(rules))
        expect(fields, `${typeName}.${field}`).toHaveProperty(field);
    }
  });
});

describe.each(ROLES)('every mutation as %s', (role) => {
  let app: TestApp;

  beforeAll(() => {
    app = createTestApp(env, { token: tokens[role] });
  });

  afterAll(async () => {
    await app.close();
  });

  it.each(mutations)('%s', async (field) => {
    const permission = ruleOf('Mutation', field);
    const operation = harmlessOperation(schema, samples, 'Mutation', field);
    let sent: { status: number; answer: Answer } | undefined;
    const calls = await app.callsDuring(async () => {
      sent = await sendOperation(app, tokens[role], operation);
    });
    if (!sent) throw new Error('no answer');
    if (holds(role, permission)) {
      expectAllowed(sent.answer, operation, role);
    } else {
      expectDenied(sent.answer, operation, role, permission);
      expect(sent.status).toBe(403);
      expect(calls).toEqual([]);
    }
  });
});

describe('every subscription, over WebSocket', () => {
  let live: LiveServer;
  const clients = new Map<RoleName, Client>();

  beforeAll(async () => {
    live = await startLiveServer(undefined, { env });
    for (const role of ROLES) clients.set(role, clientWithToken(live.server.url, tokens[role]));
  });

  afterAll(async () => {
    await Promise.all([...clients.values()].map((client) => client.dispose()));
    await live?.close();
  });

  it('closes a connection without a token, or with a wrong one, with 4403', async () => {
    const closeOf = (payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
      closeAfterConnectionInit(live.server.url, payload, headers);
    const calls = await live.callsDuring(async () => {
      expect(await closeOf({})).toEqual({ code: 4403, reason: 'Forbidden' });
      expect(await closeOf({ authorization: 'Bearer not-a-token' })).toMatchObject({
        code: 4403,
      });
      expect(await closeOf({}, { authorization: 'Bearer not-a-token' })).toMatchObject({
        code: 4403,
      });
    });
    expect(calls).toEqual([]);
  });

  it('takes the token from the Authorization header of the upgrade request', async () => {
    const client = clientOf(live.server.url, {
      headers: { authorization: `Bearer ${tokens.viewer}` },
    });
    try {
      const read = harmlessOperation(schema, samples, 'Subscription', 'events');
      expectAllowed(await firstAnswer(client, read), read, 'viewer');
      const write = harmlessOperation(schema, samples, 'Subscription', 'pullImageProgress');
      expectDenied(await firstAnswer(client, write), write, 'viewer', ['write']);
    } finally {
      await client.dispose();
    }
  });

  describe.each(ROLES)('as %s', (role) => {
    it.each(subscriptions)('%s', async (field) => {
      const permission = ruleOf('Subscription', field);
      const operation = harmlessOperation(schema, samples, 'Subscription', field);
      const client = clients.get(role);
      if (!client) throw new Error(`no client for ${role}`);
      let answer: Answer = {};
      const calls = await live.callsDuring(async () => {
        answer = await firstAnswer(client, operation);
      });
      if (holds(role, permission)) {
        expectAllowed(answer, operation, role);
      } else {
        expectDenied(answer, operation, role, permission);
        expect(calls).toEqual([]);
      }
    });
  });
});
