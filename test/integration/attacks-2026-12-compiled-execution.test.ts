// Attacks on compiled execution (src/plugins/use-compiled-execution.ts): graphql-jit turns each
// client document into JavaScript source and runs it with `new Function`. A hostile client
// writes documents meant to escape into that source (quotes, backslashes, backticks, `${`,
// line separators in string literals, variable defaults and directive arguments) or to
// reach object prototypes through response keys (`__proto__`, `constructor` aliases). Each
// document must be answered exactly as graphql-js's interpreter answers it, no code of the
// client's may run, and no prototype may change. Unusual documents too (fragments, directives,
// wrong variables, several operations, errors under non-null fields) get the interpreter's
// answers, and every rule (roles, label limits, redaction, the engine-call budget, read-only
// mode, admission, persisted operations) holds for the compiled operation as for the interpreted one.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operationHash } from '../../src/plugins/persisted-operations.ts';
import { CUSTOM_ROLES, randomToken, tokensEnv } from '../helpers/access.ts';
import {
  createTestApp,
  type HttpAnswer,
  type TestApp,
  type TestEnvironment,
  withoutEngineWrites,
} from '../helpers/app.ts';
import { collectSubscription } from '../helpers/collect-subscription.ts';
import { BASE_IMAGE, EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { startLiveServer } from '../helpers/live-server.ts';

const compiled = createTestApp({ DOCKERGRAPH_COMPILED_EXECUTION: 'on' });
const interpreted = createTestApp({ DOCKERGRAPH_COMPILED_EXECUTION: 'off' });
const fixtures = new EngineFixtures();

afterAll(async () => {
  await fixtures.cleanup();
  await Promise.all([compiled.close(), interpreted.close()]);
});

/** What the client of the compiled app would notice if the client's code ran. */
const MARK = 'dockergraphCompiledExecutionPwned';

/** JavaScript a client would like run, in every quoting a code generator might use. */
const PAYLOADS = [
  `"); globalThis.${MARK} = 1; //`,
  `'); globalThis.${MARK} = 1; //`,
  `\`); globalThis.${MARK} = 1; //`,
  `\${globalThis.${MARK} = 1}`,
  `\\"); globalThis.${MARK} = 1; //`,
  `\u2028globalThis.${MARK} = 1;\u2029`,
  `*/ globalThis.${MARK} = 1; /*`,
  `</script><script>globalThis.${MARK} = 1</script>`,
  // graphql-jit's own markers in the JSON it writes literal arguments into its code as: it
  // turns a string starting with the date marker into `new Date(<the rest, as code>)`.
  `__MAGIC_DATE__33a9e76d_02e0_4128_8e92_3530ad3da74d0,(globalThis.${MARK} = 1)`,
  `"__MAGIC_DATE__33a9e76d_02e0_4128_8e92_3530ad3da74d0,(globalThis.${MARK} = 1)`,
  `__MAGIC_DATE__33a9e76d_02e0_4128_8e92_3530ad3da74d0,(globalThis[\`${MARK}\`] = 1)`,
  '__MAGIC_NAN__57f286b9_4c20_487f_b409_79804ddcb4f8',
  '__MAGIC_PLUS_INFINITY__bb201c39_3333_4695_b4ad_7f1722e7aa7a',
] as const;

/** A GraphQL string literal holding `text`, escaped as the GraphQL spec has it. */
const graphqlString = (text: string): string => JSON.stringify(text);

interface Attack {
  readonly name: string;
  readonly query: string;
  readonly variables?: Record<string, unknown>;
  readonly operationName?: string;
}

const ATTACKS: readonly Attack[] = [
  ...PAYLOADS.flatMap((payload, index): Attack[] => [
    {
      name: `argument literal ${index}`,
      query: `{ container(idOrName: ${graphqlString(payload)}) { id name } }`,
    },
    {
      name: `block string ${index}`,
      query: `{ container(idOrName: """${payload.replaceAll('"""', '\\"""')}""") { id } }`,
    },
    {
      name: `list and input object literal ${index}`,
      query: `{ containers(all: true, filter: { labels: [${graphqlString(payload)}], names: [${graphqlString(payload)}] }) { totalCount } }`,
    },
    {
      name: `variable default ${index}`,
      query: `query Attack($name: String! = ${graphqlString(payload)}) { container(idOrName: $name) { id } }`,
    },
    {
      name: `variable value ${index}`,
      query: 'query Attack($name: String!) { container(idOrName: $name) { id } }',
      variables: { name: payload },
    },
    {
      name: `input object default ${index}`,
      query: `query Attack($filter: ContainerFilter = { names: [${graphqlString(payload)}] }) { containers(all: true, filter: $filter) { totalCount } }`,
    },
  ]),
  {
    name: 'directive arguments from variables and literals',
    query: `query Attack($show: Boolean = true) {
      engine @include(if: $show) { ping { apiVersion } }
      hidden: engine @skip(if: true) { ping { apiVersion } }
      viewer @include(if: false) { id }
    }`,
  },
  {
    name: 'response keys that name Object.prototype members',
    query: `{
      constructor: engine { toString: ping { apiVersion } hasOwnProperty: ping { apiVersion } }
      valueOf: __typename
      prototype: __typename
      isPrototypeOf: __typename
      __defineGetter__: __typename
    }`,
  },
  {
    name: 'operation and fragment names chosen by the client',
    query: `query constructor { ...toString }
      fragment toString on Query { engine { ...valueOf } }
      fragment valueOf on Engine { ping { apiVersion } }`,
  },
  {
    name: 'a variable named after a prototype member',
    query: 'query Attack($constructor: String!) { container(idOrName: $constructor) { id } }',
    variables: { constructor: 'no-such-container' },
  },
  ...[{ n: 1.5 }, { n: '3' }, { n: 2 ** 40 }, { n: true }, { n: [1] }].map(
    (variables): Attack => ({
      name: `an Int variable given ${JSON.stringify(variables.n)}`,
      query: 'query ($n: Int) { containers(first: $n) { totalCount } }',
      variables,
    }),
  ),
  ...[
    { f: { states: ['nope'] } },
    { f: { states: ['running'] } },
    { f: { states: 'RUNNING', names: 'x' } },
    { f: { nope: 1 } },
    { f: { names: [null] } },
    { f: 'names' },
    { f: { states: [1], names: [2], nope: 3, exitCodes: ['x'] } },
  ].map(
    (variables): Attack => ({
      name: `a ContainerFilter variable given ${JSON.stringify(variables.f)}`,
      query: 'query ($f: ContainerFilter) { containers(filter: $f) { totalCount } }',
      variables,
    }),
  ),
  ...[{ s: 'yesterday' }, { s: 12 }, { s: null }, {}, { s: { at: 1 } }].map(
    (variables): Attack => ({
      name: `a DateTime! variable given ${JSON.stringify(variables)}`,
      query: 'query ($s: DateTime!) { eventsHistory(since: $s) { __typename } }',
      variables,
    }),
  ),
  {
    name: 'several wrong variables at once',
    query: `query ($a: Int, $b: DateTime!, $c: ContainerFilter, $d: Boolean!, $e: ID!) {
      containers(first: $a, filter: $c) { totalCount }
      eventsHistory(since: $b) { __typename }
      engine @include(if: $d) { name }
      node(id: $e) { id }
    }`,
    variables: { a: 'x', b: false, c: { states: ['NOPE'] }, d: 'true', e: { id: 1 } },
  },
  ...[{ id: 12 }, { id: true }, { id: 1.5 }, { id: ['x'] }].map(
    (variables): Attack => ({
      name: `an ID! variable given ${JSON.stringify(variables.id)}`,
      query: 'query ($id: ID!) { node(id: $id) { id __typename } }',
      variables,
    }),
  ),
  {
    name: 'a Boolean! directive variable given a string',
    query: 'query ($show: Boolean!) { engine @include(if: $show) { name } }',
    variables: { show: 'true' },
  },
  {
    name: 'foreign and malformed global IDs',
    query: `{
      a: node(id: "garbage") { id __typename }
      b: node(id: "") { __typename }
      c: nodes(ids: ["garbage", "", "Q29udGFpbmVyOng=", "Vm9sdW1lOm5vcGU="]) { __typename id ... on Node { id } }
    }`,
  },
  {
    name: 'a variable inside a list of global IDs',
    query: 'query ($n: ID!) { nodes(ids: [$n, "x", $n]) { id } }',
    variables: { n: 'bm90LWFuLWlk' },
  },
  {
    name: 'errors under non-null root fields',
    query: `{
      c: __typename
      a: engine(name: "nope-1") { name }
      b: engine(name: "nope-2") { name }
      d: engines(selectors: ["nope-3"]) { name }
    }`,
  },
  {
    name: 'an error under a non-null connection beside nullable fields',
    query: `{ x: container(idOrName: "nope") { id } containers(first: -1) { totalCount } engine { ping { apiVersion } } }`,
  },
  {
    name: '__typename at every level',
    query: `{
      __typename
      engine { __typename ping { __typename apiVersion } }
      containers(first: 1) { __typename totalCount pageInfo { __typename hasNextPage } edges { __typename cursor node { __typename id } } }
      viewer { __typename }
    }`,
  },
  {
    name: 'one response key merged from fields under @skip and @include',
    query: `query ($t: Boolean = true) {
      e: engine @skip(if: true) { name }
      e: engine { name @include(if: $t) ping @skip(if: $t) { apiVersion } }
      e: engine { ... @include(if: $t) { __typename } ...F @skip(if: $t) }
      c: containers(first: 1) { totalCount @skip(if: $t) edges { cursor } }
    }
    fragment F on Engine { ping { apiVersion } }`,
  },
  {
    name: 'the same field aliased twice with different arguments',
    query: `{
      a: containers(first: 1) { totalCount }
      b: containers(first: 2, filter: { names: ["nope"] }) { totalCount edges { node { id } } }
      a2: engine { name }
      b2: engine(name: "nope") { name }
    }`,
  },
  {
    name: 'a defaulted nullable variable given null in a non-null argument',
    query: 'query ($n: String = "x") { container(idOrName: $n) { id } }',
    variables: { n: null },
  },
  {
    name: 'a defaulted nullable variable given null in a non-null list item',
    query: 'query ($n: String = "x") { containers(filter: { names: [$n] }) { totalCount } }',
    variables: { n: null },
  },
  {
    name: 'a defaulted nullable variable left out in a non-null argument',
    query: 'query ($n: String = "x") { container(idOrName: $n) { id } }',
  },
  {
    name: '__typename of the mutation root',
    query: 'mutation { __typename }',
  },
  {
    name: 'a DateTime literal argument',
    query: '{ eventsHistory(since: "2026-01-01T00:00:00Z", first: 1) { __typename } }',
  },
  {
    name: 'a DateTime variable given a valid value',
    query: 'query ($s: DateTime!) { eventsHistory(since: $s, first: 1) { __typename } }',
    variables: { s: '2026-01-01T00:00:00Z' },
  },
  {
    name: 'enum literals in an input object argument',
    query:
      '{ containers(filter: { states: [RUNNING, EXITED], health: [HEALTHY] }) { totalCount } }',
  },
  {
    name: 'an enum list variable given enum names',
    query: 'query ($st: [ContainerState!]) { containers(filter: { states: $st }) { totalCount } }',
    variables: { st: ['RUNNING', 'EXITED'] },
  },
  {
    name: 'a defaulted DateTime! variable given null',
    query:
      'query ($s: DateTime! = "2026-01-01T00:00:00Z") { eventsHistory(since: $s, first: 1) { __typename } }',
    variables: { s: null },
  },
  {
    name: 'Int, Boolean and String list variables left to their defaults',
    query:
      'query ($n: Int = 1, $b: Boolean = false, $s: [String!] = ["a"]) { containers(first: $n, filter: { names: $s }) { totalCount edges { cursor @include(if: $b) } } }',
  },
  {
    name: 'an operation chosen beside another whose variable has a default',
    query:
      'query A($st: [ContainerState!] = [EXITED]) { containers(filter: { states: $st }) { totalCount } } query B { __typename }',
    operationName: 'B',
  },
  {
    name: 'argument errors under a nullable and a non-null field',
    query: `{
      a: searchImages(term: "", limit: -5) { name }
      b: distribution(reference: "Bad Reference!") { __typename }
    }`,
  },
  {
    name: 'a DateTime variable left to its default',
    query:
      'query ($s: DateTime! = "2026-01-01T00:00:00Z") { eventsHistory(since: $s, first: 1) { __typename } }',
  },
  {
    name: 'an enum list variable left to its default',
    query:
      'query ($st: [ContainerState!] = [EXITED, CREATED]) { containers(filter: { states: $st }) { totalCount } }',
  },
  {
    name: 'an input object variable with an enum, left to its default',
    query:
      'query ($f: ContainerFilter = { states: [RUNNING], exitCodes: [0] }) { containers(filter: $f) { totalCount } }',
  },
  {
    name: 'an input object variable with an enum list, left to its default',
    query:
      'query ($f: EventFilter = { types: [CONTAINER] }) { eventsHistory(since: "2026-01-01T00:00:00Z", first: 1, filter: $f) { __typename } }',
  },
  {
    name: 'a field selected in an inline fragment before a sibling field',
    query: '{ ... on Query { a: engine { name } } b: engine { name } }',
  },
  {
    name: 'a field selected in a fragment spread before a sibling field, one level down',
    query: '{ engine { ...Ping name } } fragment Ping on Engine { ping { apiVersion } }',
  },
  {
    name: 'fragment nesting as deep as the limits allow',
    query: `{ ...Q1 }
      fragment Q1 on Query { ...Q2 __typename }
      fragment Q2 on Query { ...Q3 }
      fragment Q3 on Query { engine { ...E1 } }
      fragment E1 on Engine { ...E2 name }
      fragment E2 on Engine { ... on Engine { ...E3 } }
      fragment E3 on Engine { ping { ...P1 } }
      fragment P1 on EnginePing { ... { apiVersion } __typename }`,
  },
  {
    name: 'a failing non-null root field before fields that fail too',
    query:
      '{ f: nodes(ids: ["x"]) { id } g: network(idOrName: "") { id } h: image(reference: "") { id } }',
  },
  {
    name: 'introspection of the schema and of a missing type',
    query: `{
      __schema { queryType { name } mutationType { name } subscriptionType { name } }
      t: __type(name: "CreateVolumeResult") { kind possibleTypes { name } }
      u: __type(name: "MutationError") { kind name fields { name type { kind ofType { name } } } }
      n: __type(name: "Nope") { name }
    }`,
  },
  {
    name: 'a document of several operations, without an operation name',
    query: 'query A { __typename } query B { engine { name } }',
  },
  {
    name: 'a document of several operations, naming one it lacks',
    query: 'query A { __typename } query B { engine { name } }',
    operationName: 'C',
  },
  {
    name: 'a document of several operations, naming the second',
    query: 'query A { __typename } query B { engine { name } }',
    operationName: 'B',
  },
  {
    name: 'a single operation, naming another',
    query: 'query A { __typename }',
    operationName: 'B',
  },
];

async function askBoth(
  attack: Attack,
): Promise<{ compiledAnswer: HttpAnswer; interpretedAnswer: HttpAnswer }> {
  const payload = {
    query: attack.query,
    variables: attack.variables ?? {},
    ...(attack.operationName ? { operationName: attack.operationName } : {}),
  };
  // The compiled app interprets a document the first time and compiles it the second.
  const [compiledAnswer, interpretedAnswer] = await Promise.all([
    compiled.post(payload).then(() => compiled.post(payload)),
    interpreted.post(payload),
  ]);
  return { compiledAnswer, interpretedAnswer };
}

describe('compiled execution against hostile documents', () => {
  it.each(ATTACKS)(
    '$name: answered as the interpreter answers it, running none of it',
    async (attack) => {
      expectSameAnswers(await askBoth(attack));
      expect(MARK in globalThis).toBe(false);
    },
  );

  it('refuses `__proto__` as a response key on both paths, naming it, and changes no prototype', async () => {
    const { compiledAnswer, interpretedAnswer } = await askBoth({
      name: '__proto__',
      query: `{ __proto__: engine { polluted: ping { apiVersion } } }`,
    });
    for (const answer of [compiledAnswer, interpretedAnswer]) {
      expect(answer.status).toBe(400);
      expect(answer.body.errors?.[0]?.message).toContain('"__proto__"');
      expect(answer.body.data).toBeUndefined();
    }
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(Object.prototype).not.toHaveProperty('apiVersion');
  });

  it.each(['websocket', 'sse'] as const)(
    'refuses `__proto__` as a response key over %s too',
    async (transport) => {
      const token = randomToken();
      const live = await startLiveServer(undefined, {
        env: tokensEnv([{ id: 'root', role: 'admin', token }]),
      });
      try {
        const collected = collectSubscription(
          'events',
          live.iterateWithToken<Record<string, unknown>>(transport, token, {
            query: 'subscription { __proto__: events { kind } }',
          }),
        );
        await collected.untilEnded(15_000);
        expect(collected.messages).toEqual([]);
        expect(JSON.stringify(collected.errors)).toContain('RESERVED_RESPONSE_KEY');
        expect(JSON.stringify(collected.errors)).toContain(
          '\\"__proto__\\" cannot be a response key',
        );
      } finally {
        await live.close();
      }
    },
  );

  it('runs the operation each request names, though an earlier request compiled another of the same document', async () => {
    const volume = fixtures.name('named-operation');
    // One text, so one parsed document in the parser's cache: a cache of compiled operations
    // keyed by document alone would run whichever operation was compiled first.
    const query = `query Look { engine { ping { apiVersion } } }
      mutation Make($name: String!, $labels: [KeyValueInput!]) {
        createVolume(input: { name: $name, labels: $labels }) { __typename ... on VolumePayload { volume { name } } }
      }`;
    const variables = { name: volume, labels: [{ name: TEST_LABEL, value: fixtures.run }] };
    // Twice each: the first run of an operation is interpreted, the second compiled.
    const lookedFirst = await compiled.post({ query, operationName: 'Look', variables });
    const looked = await compiled.post({ query, operationName: 'Look', variables });
    expect(looked.body).toEqual(lookedFirst.body);
    expect(looked.body.data).toEqual({ engine: { ping: { apiVersion: expect.any(String) } } });
    for (let run = 0; run < 2; run++) {
      const made = await compiled.post({ query, operationName: 'Make', variables });
      expect(made.body).toEqual({
        data: { createVolume: { __typename: 'VolumePayload', volume: { name: volume } } },
      });
    }
    expect(await fixtures.exists(`/volumes/${volume}`)).toBe(true);
    // And the other way round: the query after the mutation writes nothing.
    const lookedAgain = await withoutEngineWrites(compiled, () =>
      compiled.post({ query, operationName: 'Look', variables }),
    );
    expect(lookedAgain.body).toEqual(looked.body);
  });

  it.each([
    {
      name: 'a literal argument beside a variable',
      query:
        'subscription ($id: String!) { containerLogs(id: $id, tail: -1) { line { message } } }',
      expected: 'BAD_USER_INPUT',
    },
    {
      name: 'a variable inside a list argument',
      query: 'subscription ($id: String!) { containerStats(ids: [$id]) { containerId } }',
      expected: 'NOT_FOUND',
    },
  ])(
    'gives a subscription field its own arguments, not the variables: $name',
    async ({ query, expected }) => {
      const payload = { query, variables: { id: `no-such-container-${fixtures.run}` } };
      const options = { headers: { accept: 'text/event-stream' } };
      const [compiledAnswer, interpretedAnswer] = await Promise.all([
        compiled.post(payload, options),
        interpreted.post(payload, options),
      ]);
      expect(interpretedAnswer.text).toContain(expected);
      expect(compiledAnswer.text).toBe(interpretedAnswer.text);
    },
  );

  it('answers a document as wide as the limits allow, like the interpreter', async () => {
    const fields = Array.from(
      { length: 40 },
      (_, index) =>
        `f${index}: container(idOrName: ${graphqlString(`${PAYLOADS[index % PAYLOADS.length]}${index}`)}) { id name }`,
    ).join('\n');
    const { compiledAnswer, interpretedAnswer } = await askBoth({
      name: 'wide',
      query: `{ ${fields} }`,
    });
    expect(compiledAnswer.body).toEqual(interpretedAnswer.body);
    expect(MARK in globalThis).toBe(false);
  });
});

/** Eight engine reads in one operation: more than a budget of 3 engine calls allows. */
const OVER_BUDGET = {
  query: `{ ${Array.from(
    { length: 8 },
    (_, index) => `i${index}: image(reference: "no-such-image-${fixtures.run}-${index}") { id }`,
  ).join('\n')} }`,
};

/** A compiled app and an interpreted one with the same configuration. */
interface AppPair {
  readonly compiled: TestApp;
  readonly interpreted: TestApp;
}

const pairs: AppPair[] = [];

function createAppPair(env: TestEnvironment): AppPair {
  const pair = {
    compiled: createTestApp({ ...env, DOCKERGRAPH_COMPILED_EXECUTION: 'on' }),
    interpreted: createTestApp({ ...env, DOCKERGRAPH_COMPILED_EXECUTION: 'off' }),
  };
  pairs.push(pair);
  return pair;
}

afterAll(async () => {
  await Promise.all(pairs.flatMap((pair) => [pair.compiled.close(), pair.interpreted.close()]));
});

/**
 * The compiled app's answer to its second run of `payload` (its first is interpreted) and the
 * interpreted app's answer, one after the other: `prepare` runs before each of the three, for
 * operations that change what the next one finds.
 */
async function askPairInTurn(
  pair: AppPair,
  payload: Record<string, unknown>,
  token?: string,
  prepare: () => Promise<void> = async () => {},
): Promise<{ compiledAnswer: HttpAnswer; interpretedAnswer: HttpAnswer }> {
  const options = token ? { token } : {};
  const askTwice = async (app: TestApp): Promise<HttpAnswer> => {
    // Each app's second answer: the first request of an app pays engine calls of its own
    // (the API version), which an operation's budget counts.
    await prepare();
    await app.post(payload, options);
    await prepare();
    return app.post(payload, options);
  };
  const compiledAnswer = await askTwice(pair.compiled);
  const interpretedAnswer = await askTwice(pair.interpreted);
  return { compiledAnswer, interpretedAnswer };
}

function expectSameAnswers(answers: {
  compiledAnswer: HttpAnswer;
  interpretedAnswer: HttpAnswer;
}): void {
  expect(answers.compiledAnswer.status).toBe(answers.interpretedAnswer.status);
  expect(answers.compiledAnswer.body).toEqual(answers.interpretedAnswer.body);
  expect(answers.compiledAnswer.text).toBe(answers.interpretedAnswer.text);
}

describe('compiled execution keeps every rule the interpreter keeps', () => {
  const tokens = {
    viewer: randomToken(),
    operator: randomToken(),
    admin: randomToken(),
    deployer: randomToken(),
    limited: randomToken(),
  };
  const grants = [
    { id: 'viewer', role: 'viewer', token: tokens.viewer },
    { id: 'operator', role: 'operator', token: tokens.operator },
    { id: 'admin', role: 'admin', token: tokens.admin },
    { id: 'deployer', role: 'deployer', token: tokens.deployer },
    // An admin limited to objects of another run: sees none of this file's fixtures.
    { id: 'limited', role: 'admin', token: tokens.limited, labels: { [TEST_LABEL]: 'other' } },
  ];
  const roles = createAppPair(tokensEnv(grants, CUSTOM_ROLES));
  const secret = `compiled-secret-${fixtures.run}`;
  const container = fixtures.name('compiled-rules');

  beforeAll(async () => {
    await fixtures.createContainer(container, { Env: [`DB_PASSWORD=${secret}`, 'PLAIN=1'] });
  });

  it.each(Object.keys(tokens) as (keyof typeof tokens)[])(
    'answers a %s as the interpreter does: redaction, label limits, global IDs',
    async (role) => {
      const lookup = await roles.compiled.post(
        {
          query: 'query ($name: String!) { container(idOrName: $name) { id } }',
          variables: { name: container },
        },
        { token: tokens.admin },
      );
      const globalId = (lookup.body.data as { container: { id: string } }).container.id;
      const answers = await askPairInTurn(
        roles,
        {
          query: `query ($name: String!, $id: ID!) {
            container(idOrName: $name) { name config { env { name value redacted } } }
            containers(filter: { names: [$name] }) { totalCount edges { node { __typename name config { env { value redacted } } } } }
            node(id: $id) { __typename id ... on Container { name config { env { name value } } } }
            nodes(ids: [$id, $id]) { __typename ... on Container { config { env { value } } } }
          }`,
          variables: { name: container, id: globalId },
        },
        tokens[role],
      );
      expectSameAnswers(answers);
      const text = answers.compiledAnswer.text;
      if (role === 'admin') expect(text).toContain(secret);
      else expect(text).not.toContain(secret);
      if (role === 'limited') expect(text).not.toContain(container);
    },
  );

  it.each(Object.keys(tokens) as (keyof typeof tokens)[])(
    'answers introspection to a %s as the interpreter does',
    async (role) => {
      expectSameAnswers(
        await askPairInTurn(
          roles,
          {
            query: `{
              __schema { queryType { name } mutationType { name } types { name } }
              __type(name: "Mutation") { fields { name args { name defaultValue } } }
            }`,
          },
          tokens[role],
        ),
      );
    },
  );

  it.each(['viewer', 'limited'] as const)(
    'refuses a mutation run twice in one document to a %s, writing nothing',
    async (role) => {
      const volume = fixtures.name(`compiled-refused-${role}`);
      const answers = await withoutEngineWrites(roles.compiled, () =>
        askPairInTurn(
          roles,
          {
            query: `mutation ($name: String!, $labels: [KeyValueInput!]) {
              a: createVolume(input: { name: $name, labels: $labels }) { __typename ... on MutationError { message } }
              b: removeVolume(name: $name) { __typename ... on MutationError { message } }
            }`,
            variables: { name: volume, labels: [{ name: TEST_LABEL, value: fixtures.run }] },
          },
          tokens[role],
        ),
      );
      expectSameAnswers(answers);
      expect(await fixtures.exists(`/volumes/${volume}`)).toBe(false);
    },
  );

  it('runs aliased mutations of one document in order, as the interpreter does', async () => {
    const volume = fixtures.name('compiled-in-turn');
    const answers = await askPairInTurn(
      roles,
      {
        query: `mutation ($name: String!, $labels: [KeyValueInput!]) {
          a: createVolume(input: { name: $name, labels: $labels }) { __typename ... on VolumePayload { volume { name } } ... on MutationError { message } }
          b: removeVolume(name: $name) { __typename ... on MutationError { __typename message } }
          c: removeVolume(name: $name) { __typename ... on MutationError { message } ... on NotFoundError { message } }
          d: createVolume(input: { name: $name, labels: $labels }) { ... on VolumePayload { volume { __typename name } } }
          e: removeVolume(name: $name) { __typename }
        }`,
        variables: { name: volume, labels: [{ name: TEST_LABEL, value: fixtures.run }] },
      },
      tokens.admin,
    );
    expectSameAnswers(answers);
    const data = answers.compiledAnswer.body.data as Record<string, { __typename?: string }>;
    expect(data.b?.__typename).toBe('RemoveVolumePayload');
    expect(data.c?.__typename).toBe('NotFoundError');
    expect(await fixtures.exists(`/volumes/${volume}`)).toBe(false);
  });

  it('stops at DOCKERGRAPH_MAX_ENGINE_CALLS where the interpreter stops', async () => {
    const budget = createAppPair({ DOCKERGRAPH_MAX_ENGINE_CALLS: '3' });
    const calls = await budget.compiled.callsDuring(async () => {
      const { compiledAnswer, interpretedAnswer } = await askPairInTurn(budget, OVER_BUDGET);
      expect(compiledAnswer.text).toContain('ENGINE_CALL_BUDGET_EXCEEDED');
      expect(compiledAnswer.body.data).toEqual(interpretedAnswer.body.data);
      const withoutLocations = (answer: HttpAnswer) =>
        answer.body.errors?.map(({ message, path, extensions }) => ({ message, path, extensions }));
      expect(withoutLocations(compiledAnswer)).toEqual(withoutLocations(interpretedAnswer));
    });
    // Two runs of the compiled app, each within the budget.
    expect(calls.length).toBeLessThanOrEqual(2 * 3);
  });

  it('refuses a write the admission policy refuses, as the interpreter does, writing nothing', async () => {
    const answers = await withoutEngineWrites(roles.compiled, () =>
      askPairInTurn(
        roles,
        {
          query: `mutation ($input: CreateContainerInput!) {
            createContainer(input: $input) { __typename ... on MutationError { message } }
          }`,
          variables: { input: { image: BASE_IMAGE, privileged: true } },
        },
        tokens.deployer,
      ),
    );
    expect(answers.compiledAnswer.text).toContain('HostConfig.Privileged');
    expect(answers.compiledAnswer.status).toBe(answers.interpretedAnswer.status);
    expect(answers.compiledAnswer.body.data).toEqual(answers.interpretedAnswer.body.data);
  });

  it('refuses mutations in DOCKERGRAPH_READ_ONLY mode as the interpreter does, writing nothing', async () => {
    const readOnly = createAppPair({ DOCKERGRAPH_READ_ONLY: 'true' });
    const volume = fixtures.name('compiled-read-only');
    const answers = await withoutEngineWrites(readOnly.compiled, () =>
      askPairInTurn(readOnly, {
        query: `mutation ($name: String!) {
          createVolume(input: { name: $name }) { __typename ... on MutationError { message } }
        }`,
        variables: { name: volume },
      }),
    );
    expectSameAnswers(answers);
    expect(answers.compiledAnswer.text).not.toContain('VolumePayload');
    expect(await fixtures.exists(`/volumes/${volume}`)).toBe(false);
  });

  it('holds non-admin tokens to persisted operations as the interpreter does', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'dockergraph-compiled-persisted-'));
    try {
      // One registered document of two operations: the request picks one by name.
      const registered = `query Look { engine { name } }
        query Write($name: String!) { engine { name } volume(name: $name) { name } }`;
      const hash = operationHash(registered);
      const operationsFile = join(folder, 'operations.json');
      writeFileSync(operationsFile, JSON.stringify({ [hash]: registered }));
      const persisted = createAppPair({
        DOCKERGRAPH_PERSISTED_OPERATIONS_FILE: operationsFile,
        ...tokensEnv(grants, CUSTOM_ROLES),
      });
      const byHash = { extensions: { persistedQuery: { version: 1, sha256Hash: hash } } };
      for (const payload of [
        { ...byHash, operationName: 'Look' },
        {
          ...byHash,
          operationName: 'Write',
          variables: { name: `no-such-volume-${fixtures.run}` },
        },
        { ...byHash },
        { query: '{ engine { name } }' },
        { query: registered, operationName: 'Look' },
      ]) {
        const answers = await withoutEngineWrites(persisted.compiled, () =>
          askPairInTurn(persisted, payload, tokens.viewer),
        );
        expectSameAnswers(answers);
        if (!('query' in payload)) continue;
        expect(answers.compiledAnswer.status).toBe(403);
      }
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('answers an error over the engine-call budget with its location, as the interpreter does', async () => {
    const budget = createAppPair({ DOCKERGRAPH_MAX_ENGINE_CALLS: '3' });
    expectSameAnswers(await askPairInTurn(budget, OVER_BUDGET));
  });

  it('answers a refusal of the admission policy with its location, as the interpreter does', async () => {
    expectSameAnswers(
      await withoutEngineWrites(roles.compiled, () =>
        askPairInTurn(
          roles,
          {
            query: `mutation ($input: CreateContainerInput!) {
              createContainer(input: $input) { __typename }
            }`,
            variables: { input: { image: BASE_IMAGE, privileged: true } },
          },
          tokens.deployer,
        ),
      ),
    );
  });

  it('runs no mutation after one whose error nulls the whole answer, as the interpreter does', async () => {
    const volume = fixtures.name('after-refusal');
    // The answer says nothing of `after`: the client must be able to trust it did not run.
    const answers = await withoutEngineWrites(roles.compiled, () =>
      askPairInTurn(
        roles,
        {
          query: `mutation ($input: CreateContainerInput!, $name: String!, $labels: [KeyValueInput!]) {
            refused: createContainer(input: $input) { __typename }
            after: createVolume(input: { name: $name, labels: $labels }) { __typename }
          }`,
          variables: {
            input: { image: BASE_IMAGE, privileged: true },
            name: volume,
            labels: [{ name: TEST_LABEL, value: fixtures.run }],
          },
        },
        tokens.deployer,
      ),
    );
    expect(answers.compiledAnswer.body.data).toBeNull();
    expect(await fixtures.exists(`/volumes/${volume}`)).toBe(false);
  });

  it('runs no mutation after one the role refuses, as the interpreter does', async () => {
    const volume = fixtures.name('after-role-refusal');
    // Byte-identical answers (data: null, one FORBIDDEN error), so only the engine tells.
    const answers = await withoutEngineWrites(roles.compiled, () =>
      askPairInTurn(
        roles,
        {
          query: `mutation ($name: String!, $labels: [KeyValueInput!]) {
            refused: stopContainer(id: "no-such-container") { __typename }
            after: createVolume(input: { name: $name, labels: $labels }) { __typename }
          }`,
          variables: { name: volume, labels: [{ name: TEST_LABEL, value: fixtures.run }] },
        },
        tokens.deployer,
      ),
    );
    expectSameAnswers(answers);
    expect(await fixtures.exists(`/volumes/${volume}`)).toBe(false);
  });
});
