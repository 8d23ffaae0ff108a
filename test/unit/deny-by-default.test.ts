// A root field added without a rule in src/schema/access-rules.ts is not reachable, not even
// for admin: the deny-by-default plugin gives it a rule that refuses everyone.
import { type ExecutionResult, execute, parse, subscribe } from 'graphql';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createContext } from '../../src/context.ts';
import { DockerClient } from '../../src/docker/client.ts';
import { resolveDockerEndpoint } from '../../src/docker/docker-host.ts';
import { EngineRegistry } from '../../src/docker/engine-registry.ts';
import { builder } from '../../src/schema/builder.ts';
// The real schema is built first, as the server builds it; the probes are added after.
import { schema as realSchema } from '../../src/schema/index.ts';
import { LOCAL_ADMIN } from '../../src/security/principal.ts';

const reached: string[] = [];

builder.queryField('unguardedProbe', (t) =>
  t.string({
    nullable: true,
    description: 'A query field with no access rule.',
    resolve: () => {
      reached.push('query');
      return 'reached';
    },
  }),
);
builder.mutationField('unguardedMutationProbe', (t) =>
  t.string({
    description: 'A mutation field with no access rule.',
    resolve: () => {
      reached.push('mutation');
      return 'reached';
    },
  }),
);
builder.subscriptionField('unguardedSubscriptionProbe', (t) =>
  t.string({
    description: 'A subscription field with no access rule.',
    subscribe: async function* () {
      reached.push('subscription');
      yield 'reached';
    },
    resolve: (value: string) => value,
  }),
);
const probedSchema = builder.toSchema();

// An engine client that is never called: the refusals happen before any resolver runs.
const config = loadConfig({ HOME: '/nonexistent', DOCKER_HOST: 'unix:///nonexistent.sock' });
const docker = DockerClient.create(resolveDockerEndpoint(config.docker), {
  connectTimeoutMs: 1_000,
  requestTimeoutMs: 1_000,
});
const engines = new EngineRegistry([{ name: 'local', labels: {}, client: docker }], () => {});

function adminContext() {
  return createContext({
    engines,
    signal: undefined,
    shutdown: new AbortController().signal,
    reportLiveError: () => {},
    principal: LOCAL_ADMIN,
    policy: {
      readOnly: false,
      admission: { bindAllowList: [], volumeDrivers: [], networkPools: [], registries: [] },
    },
    limits: {
      maxNodeIds: config.limits.maxNodeIds,
      maxEventsHistory: config.limits.maxEventsHistory,
    },
    maxEngineCalls: config.limits.maxEngineCalls,
  });
}

function expectNoRule(result: ExecutionResult, field: string) {
  expect(result.errors).toHaveLength(1);
  expect(result.errors?.[0]?.message).toBe(`${field} has no access rule and is denied to everyone`);
  expect(result.errors?.[0]?.extensions).toMatchObject({
    code: 'FORBIDDEN',
    http: { status: 403 },
  });
}

describe('deny by default', () => {
  afterAll(async () => {
    await engines.close();
  });

  it('builds the probes beside the real fields', () => {
    const fields = probedSchema.getQueryType()?.getFields() ?? {};
    expect(Object.keys(fields)).toEqual(
      expect.arrayContaining([
        'unguardedProbe',
        ...Object.keys(realSchema.getQueryType()?.getFields() ?? {}),
      ]),
    );
  });

  it('refuses a query field without a rule, even to admin, without running it', async () => {
    const result = await execute({
      schema: probedSchema,
      document: parse('{ unguardedProbe }'),
      contextValue: adminContext(),
    });
    expectNoRule(result, 'Query.unguardedProbe');
    expect(reached).toEqual([]);
  });

  it('refuses a mutation field without a rule', async () => {
    const result = await execute({
      schema: probedSchema,
      document: parse('mutation { unguardedMutationProbe }'),
      contextValue: adminContext(),
    });
    expectNoRule(result, 'Mutation.unguardedMutationProbe');
    expect(reached).toEqual([]);
  });

  it('refuses a subscription field without a rule when it starts', async () => {
    const result = await subscribe({
      schema: probedSchema,
      document: parse('subscription { unguardedSubscriptionProbe }'),
      contextValue: adminContext(),
    });
    if (Symbol.asyncIterator in result) throw new Error('the subscription started');
    expectNoRule(result, 'Subscription.unguardedSubscriptionProbe');
    expect(reached).toEqual([]);
  });

  it('lets a field with a rule run beside them', async () => {
    const result = await execute({
      schema: probedSchema,
      document: parse('{ unguardedProbe nodes(ids: []) { id } }'),
      contextValue: adminContext(),
    });
    expectNoRule(result, 'Query.unguardedProbe');
    expect(result.data).toEqual({ unguardedProbe: null, nodes: [] });
  });
});
