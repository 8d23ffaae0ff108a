// The capability fields (viewer, viewerCan) agree with what the operations themselves do:
// under every role, and on a read-only server, each capability is true exactly when the
// operation it stands for is let in (not FORBIDDEN), and viewer.can says the same of every
// mutation and subscription of the schema.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capabilityRules } from '../../src/schema/access-rules.ts';
import { schema } from '../../src/schema/index.ts';
import {
  harmlessOperation,
  harmlessSamples,
  makeRoleTokens,
  ROLES,
  type RootFieldOperation,
  rootFieldNames,
  sendOperation,
} from '../helpers/access.ts';
import { createTestApp, dataOf, type GraphQLResponse, type TestApp } from '../helpers/app.ts';
import { BASE_IMAGE, EngineFixtures } from '../helpers/docker-fixtures.ts';

const samples = harmlessSamples(randomUUID().slice(0, 8));
const { tokens, env } = makeRoleTokens();
const fixtures = new EngineFixtures();
const names = {
  container: fixtures.name('caps'),
  volume: fixtures.name('caps'),
  network: fixtures.name('caps'),
};

beforeAll(async () => {
  await fixtures.createContainer(names.container);
  await fixtures.createVolume(names.volume);
  await fixtures.createNetwork(names.network);
});
afterAll(() => fixtures.cleanup());

/** The selection of every capability of `typeName`. */
function capabilitySelection(typeName: string): string {
  return `viewerCan { ${Object.keys(capabilityRules[typeName] ?? {}).join(' ')} }`;
}

const CAPABILITIES_QUERY = `query Capabilities($container: String!, $image: String!, $volume: String!, $network: String!) {
  viewer { tokenId role permissions readOnly }
  container(idOrName: $container) { ${capabilitySelection('Container')} }
  image(reference: $image) { ${capabilitySelection('Image')} }
  volume(name: $volume) { ${capabilitySelection('Volume')} }
  network(idOrName: $network) { ${capabilitySelection('Network')} }
}`;

type Capabilities = Record<string, boolean>;
interface CapabilitiesData {
  viewer: { tokenId: string | null; role: string; permissions: string[]; readOnly: boolean };
  container: { viewerCan: Capabilities };
  image: { viewerCan: Capabilities };
  volume: { viewerCan: Capabilities };
  network: { viewerCan: Capabilities };
}

/** Sends a subscription over HTTP (server-sent events) and returns its first message. */
async function firstEventOf(
  app: TestApp,
  token: string,
  operation: RootFieldOperation,
): Promise<GraphQLResponse<unknown>> {
  const response = await app.app.fetch('http://dockergraph.test/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({ query: operation.query, variables: operation.variables }),
  });
  const reader = response.body?.getReader();
  if (!reader) throw new Error('no body');
  let text = '';
  const decoder = new TextDecoder();
  for (;;) {
    const match = /^data: (.+)$/m.exec(text);
    if (match?.[1]) {
      await reader.cancel();
      return JSON.parse(match[1]) as GraphQLResponse<unknown>;
    }
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended without a message: ${text}`);
    text += decoder.decode(value, { stream: true });
  }
}

/** Whether the operation was let in: its answer holds no FORBIDDEN. */
async function letIn(app: TestApp, token: string, field: string): Promise<boolean> {
  const [kind, name = ''] = field.split('.') as ['Mutation' | 'Subscription', string];
  const operation = harmlessOperation(schema, samples, kind, name);
  const answer =
    kind === 'Mutation'
      ? (await sendOperation(app, token, operation)).answer
      : await firstEventOf(app, token, operation);
  return !(answer.errors ?? []).some((error) => error.extensions?.code === 'FORBIDDEN');
}

const setups = [
  ...ROLES.map((role) => ({ what: role, role, readOnly: false })),
  { what: 'admin on a read-only server', role: 'admin' as const, readOnly: true },
];

describe.each(setups)('as $what', ({ role, readOnly }) => {
  let app: TestApp;
  let data: CapabilitiesData;
  beforeAll(async () => {
    app = createTestApp(
      {
        ...env,
        // One alias per root field in the viewer.can test.
        DOCKERGRAPH_MAX_ALIASES: '100',
        // The harmless pull sample names 127.0.0.1:1: listed, so that the pull is let in and
        // fails at the engine, as viewer.can (which sees no arguments) says.
        DOCKERGRAPH_REGISTRIES: 'docker.io,127.0.0.1:1',
        ...(readOnly ? { DOCKERGRAPH_READ_ONLY: 'true' } : {}),
      },
      { token: tokens[role] },
    );
    const answer = await app.post<GraphQLResponse<CapabilitiesData>>({
      query: CAPABILITIES_QUERY,
      variables: { ...names, image: BASE_IMAGE },
    });
    data = dataOf(answer.body);
  });
  afterAll(() => app.close());

  it('says who the viewer is', () => {
    expect(data.viewer).toMatchObject({ tokenId: role, role, readOnly });
    if (readOnly) expect(data.viewer.permissions).not.toContain('WRITE');
  });

  it('gives each viewerCan the outcome of its operation', async () => {
    for (const [typeName, rules] of Object.entries(capabilityRules)) {
      const key = typeName.toLowerCase() as 'container' | 'image' | 'volume' | 'network';
      for (const [capability, field] of Object.entries(rules)) {
        const shown = data[key].viewerCan[capability];
        const actual = await letIn(app, tokens[role], field);
        expect({ capability: `${typeName}.${capability}`, shown }).toEqual({
          capability: `${typeName}.${capability}`,
          shown: actual,
        });
      }
    }
  });

  it('answers viewer.can of every mutation and subscription as the operation is answered', async () => {
    const fields = [
      ...rootFieldNames(schema, 'Mutation').map((name) => `Mutation.${name}`),
      ...rootFieldNames(schema, 'Subscription').map((name) => `Subscription.${name}`),
    ];
    const aliases = fields.map((field, index) => `f${index}: can(operation: "${field}")`);
    const answer = await app.post<GraphQLResponse<{ viewer: Record<string, boolean> }>>({
      query: `{ viewer { ${aliases.join(' ')} } }`,
    });
    const can = dataOf(answer.body).viewer;
    const shown = Object.fromEntries(fields.map((field, index) => [field, can[`f${index}`]]));
    const actual: Record<string, boolean> = {};
    for (const field of fields) actual[field] = await letIn(app, tokens[role], field);
    expect(shown).toEqual(actual);
    // Not all the same: the test would not see a field that answers a constant.
    if (role === 'operator') expect(new Set(Object.values(actual)).size).toBe(2);
  });
});

describe('viewer.can with an operation that has no rule', () => {
  it('names the argument and what to give', async () => {
    const app = createTestApp(env, { token: tokens.admin });
    try {
      const answer = await app.post({ query: '{ viewer { can(operation: "dropEverything") } }' });
      expect(answer.body.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument: 'operation',
      });
      expect(answer.body.errors?.[0]?.message).toContain('"dropEverything" names no operation');
    } finally {
      await app.close();
    }
  });
});
