// Attacks on compiled execution (src/plugins/use-compiled-execution.ts): graphql-jit turns each
// client document into JavaScript source and runs it with `new Function`. A hostile client
// writes documents meant to escape into that source (quotes, backslashes, backticks, `${`,
// line separators in string literals, variable defaults and directive arguments) or to
// reach object prototypes through response keys (`__proto__`, `constructor` aliases). Each
// document must be answered exactly as graphql-js's interpreter answers it, no code of the
// client's may run, and no prototype may change.
import { afterAll, describe, expect, it } from 'vitest';
import { createTestApp, type HttpAnswer, withoutEngineWrites } from '../helpers/app.ts';
import { EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';

const compiled = createTestApp();
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
] as const;

/** A GraphQL string literal holding `text`, escaped as the GraphQL spec has it. */
const graphqlString = (text: string): string => JSON.stringify(text);

interface Attack {
  readonly name: string;
  readonly query: string;
  readonly variables?: Record<string, unknown>;
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
];

async function askBoth(
  attack: Attack,
): Promise<{ compiledAnswer: HttpAnswer; interpretedAnswer: HttpAnswer }> {
  const payload = { query: attack.query, variables: attack.variables ?? {} };
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
      const { compiledAnswer, interpretedAnswer } = await askBoth(attack);
      expect(compiledAnswer.status).toBe(interpretedAnswer.status);
      expect(compiledAnswer.body).toEqual(interpretedAnswer.body);
      expect(compiledAnswer.text).toBe(interpretedAnswer.text);
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
