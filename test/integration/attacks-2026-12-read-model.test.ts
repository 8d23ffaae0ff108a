// Attacks on the event-fed read model (DOCKERGRAPH_READ_MODEL=on) by a label-limited token:
// a foreign container renamed to the name it guesses, a container of its own recreated
// under another label, lookups by id prefix and by a foreign global ID, filters other than
// labels (names, states, ancestors, ids) that go to the engine, reads right after its own
// writes, a volume and a network of another label. It must see no more than its limit.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adminAndLimitedTokens } from '../helpers/access.ts';
import { createTestApp, type GraphQLResponse, type TestApp } from '../helpers/app.ts';
import { runDockerCliAt } from '../helpers/docker-cli.ts';
import { BASE_IMAGE, EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { startFaultProxy } from '../helpers/fault-proxy.ts';
import { waitFor } from '../helpers/wait-for.ts';

const fixtures = new EngineFixtures();
const { run } = fixtures;
const LIMIT = { [TEST_LABEL]: run, team: 'blue' };
const { adminToken, limitedToken, env: tokens } = adminAndLimitedTokens(LIMIT);
const env = {
  ...tokens,
  DOCKERGRAPH_MAX_COST: '1000000',
  DOCKERGRAPH_READ_MODEL: 'on',
};
const app: TestApp = createTestApp(env, { token: limitedToken });
const cliConfig = mkdtempSync(join(tmpdir(), 'dg-attack-cli-'));

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await runDockerCliAt(inject('dockerHost'), cliConfig, args, {
    timeoutMs: 60_000,
  });
  return stdout.trim();
}

/** Creates (not starts) an idle container of this run and `team` with the CLI; returns its id. */
function createIdle(name: string, team: string): Promise<string> {
  return docker(
    'create',
    '--name',
    name,
    '--label',
    `${TEST_LABEL}=${run}`,
    '--label',
    `team=${team}`,
    BASE_IMAGE,
    'sleep',
    '600',
  );
}

function model() {
  const readModel = app.engines.list()[0]?.readModel;
  if (!readModel) throw new Error('the read model is off');
  return readModel;
}

async function limited(query: string, variables: Record<string, unknown> = {}) {
  const answer = await app.post<GraphQLResponse<Record<string, unknown>>>({ query, variables });
  return answer.body;
}

async function admin(query: string, variables: Record<string, unknown> = {}) {
  const answer = await app.post<GraphQLResponse<Record<string, unknown>>>(
    { query, variables },
    { token: adminToken },
  );
  if (answer.body.errors?.length) throw new Error(JSON.stringify(answer.body.errors));
  return answer.body.data ?? {};
}

/** Waits until the model is warm and has followed the engine up to `containerName`'s presence. */
async function modelSees(containerName: string, present = true): Promise<void> {
  await waitFor(
    async () => {
      if (!model().warm) return false;
      const list = (await model().containers()) ?? [];
      return list.some((each) => each.Names.includes(`/${containerName}`)) === present;
    },
    { timeoutMs: 30_000, what: `the read model to follow ${containerName}` },
  );
}

const CONTAINERS = `query Attack($filter: ContainerFilter) {
  containers(filter: $filter) { totalCount edges { node { dockerId name labels { name value } } } }
}`;

let redId = '';
let blueId = '';
const red = fixtures.name('atk-red');
const blue = fixtures.name('atk-blue');
const redVolume = fixtures.name('atk-red-vol');
const redNetwork = fixtures.name('atk-red-net');

beforeAll(async () => {
  redId = await fixtures.createContainer(red, { Labels: { team: 'red' } });
  blueId = await fixtures.createContainer(blue, { Labels: { team: 'blue' } });
  await fixtures.createVolume(redVolume, { Labels: { team: 'red' } });
  await fixtures.createNetwork(redNetwork, { Labels: { team: 'red' } });
  await modelSees(blue);
  await modelSees(red);
}, 120_000);

afterAll(async () => {
  await app.close();
  await fixtures.cleanup();
  rmSync(cliConfig, { recursive: true, force: true });
});

function expectNoRed(answer: GraphQLResponse<Record<string, unknown>>, what: string) {
  const text = JSON.stringify(answer);
  // An answer refused whole would prove nothing.
  expect(answer.errors, what).toBeUndefined();
  expect(answer.data, what).toBeTruthy();
  expect(text, what).not.toContain(redId);
  expect(text, what).not.toContain(redId.slice(0, 12));
  expect(text, what).not.toContain('"team","value":"red"');
}

describe('read model: attacks by a label-limited token', () => {
  it('finds no foreign container by any filter, lookup, id prefix or global ID', async () => {
    const attempts: Record<string, unknown>[] = [
      {},
      { names: [red] },
      { names: ['atk-red'] },
      { ids: [redId.slice(0, 12)] },
      { ids: [redId] },
      { states: ['CREATED'] },
      { ancestors: [BASE_IMAGE] },
      { labels: ['team=red'] },
      { labels: ['team'] },
      { labels: [`${TEST_LABEL}=${run}`] },
    ];
    for (const filter of attempts) {
      const answer = await limited(CONTAINERS, { filter });
      expectNoRed(answer, `containers(filter: ${JSON.stringify(filter)})`);
    }
    // It sees its own: the filters are not simply broken.
    expect(JSON.stringify(await limited(CONTAINERS, { filter: { names: [blue] } }))).toContain(
      blueId,
    );
    for (const idOrName of [red, `/${red}`, redId, redId.slice(0, 12), redId.slice(0, 4)]) {
      const answer = await limited(
        'query L($n: String!) { container(idOrName: $n) { dockerId name } }',
        { n: idOrName },
      );
      expectNoRed(answer, `container(idOrName: ${idOrName})`);
      expect(answer.data?.container ?? null, idOrName).toBeNull();
    }
    const { container } = (await admin('query G($n: String!) { container(idOrName: $n) { id } }', {
      n: red,
    })) as { container: { id: string } };
    const viaNode = await limited(
      'query N($id: ID!) { node(id: $id) { id ... on Container { dockerId name } } nodes(ids: [$id]) { id } }',
      { id: container.id },
    );
    expectNoRed(viaNode, 'node(id) with the foreign global ID');
    expect(viaNode.data?.node ?? null).toBeNull();
  });

  it('does not show a foreign container renamed to a name it guesses', async () => {
    const guessed = fixtures.name('atk-blue-guess');
    await docker('rename', red, guessed);
    await modelSees(guessed);
    try {
      for (const filter of [{}, { names: [guessed] }, { labels: [`${TEST_LABEL}=${run}`] }]) {
        expectNoRed(
          await limited(CONTAINERS, { filter }),
          `after rename: ${JSON.stringify(filter)}`,
        );
      }
      const lookup = await limited(
        'query L($n: String!) { container(idOrName: $n) { dockerId } }',
        { n: guessed },
      );
      expect(lookup.data?.container ?? null).toBeNull();
    } finally {
      await docker('rename', guessed, red);
      await modelSees(red);
    }
  });

  it('stops showing its container once it is recreated under another label', async () => {
    const name = fixtures.name('atk-recreated');
    const firstId = await fixtures.createContainer(name, { Labels: { team: 'blue' } });
    await modelSees(name);
    expect(JSON.stringify(await limited(CONTAINERS, { filter: { names: [name] } }))).toContain(
      firstId,
    );
    await docker('rm', '-f', firstId);
    await modelSees(name, false);
    const secondId = await createIdle(name, 'red');
    await modelSees(name);
    for (const filter of [{}, { names: [name] }]) {
      const text = JSON.stringify(await limited(CONTAINERS, { filter }));
      expect(text).not.toContain(secondId);
      expect(text).not.toContain(firstId);
    }
    const lookup = await limited('query L($n: String!) { container(idOrName: $n) { dockerId } }', {
      n: name,
    });
    expect(lookup.data?.container ?? null).toBeNull();
    await docker('rm', '-f', secondId);
  });

  it('sees no other label right after its own writes, nor by a label it tries to set', async () => {
    const mine = fixtures.name('atk-mine');
    const create = await limited(
      `mutation C($input: CreateContainerInput!) {
        createContainer(input: $input) { __typename ... on MutationError { message } }
      }`,
      {
        input: {
          name: mine,
          image: BASE_IMAGE,
          cmd: ['sleep', '600'],
          labels: [{ name: 'team', value: 'red' }],
        },
      },
    );
    // Asking for another team's label is refused, or the limit's label wins: never red.
    const created = JSON.stringify(create);
    expect(create.errors).toBeUndefined();
    const listed = await limited(CONTAINERS, { filter: {} });
    expectNoRed(listed, 'the list right after its own create');
    if (/ContainerPayload/.test(created)) {
      const lookup = await admin(
        'query L($n: String!) { container(idOrName: $n) { labels { name value } } }',
        { n: mine },
      );
      expect(JSON.stringify(lookup)).toContain('"name":"team","value":"blue"');
    }
  });

  it('sees no volume or network of another label', async () => {
    const lists = await limited(
      `query O { volumes { edges { node { name } } } networks { edges { node { name } } } }`,
    );
    expect(lists.errors).toBeUndefined();
    expect(JSON.stringify(lists)).not.toContain(redVolume);
    expect(JSON.stringify(lists)).not.toContain(redNetwork);
    const byName = await limited(
      `query B($v: String!, $n: String!, $f: [String!]) {
        volume(name: $v) { name }
        network(idOrName: $n) { name }
        volumes(filter: { names: $f }) { totalCount }
      }`,
      { v: redVolume, n: redNetwork, f: [redVolume] },
    );
    expect(byName.errors).toBeUndefined();
    expect(byName.data?.volume ?? null).toBeNull();
    expect(byName.data?.network ?? null).toBeNull();
    expect(byName.data?.volumes).toEqual({ totalCount: 0 });
  });

  it('shows no foreign container created while its event stream was cut, nor after', async () => {
    const proxy = await startFaultProxy();
    const cut = createTestApp({ ...env, DOCKER_HOST: proxy.dockerHost }, { token: limitedToken });
    try {
      const cutModel = cut.engines.list()[0]?.readModel;
      if (!cutModel) throw new Error('the read model is off');
      await waitFor(() => cutModel.warm, { timeoutMs: 60_000, what: 'the model to be warm' });
      const stream = await proxy.waitForRequest(/\/events/);
      proxy.setMode({ kind: 'drop', pattern: /\/events/ });
      proxy.cut(stream);
      await waitFor(() => !cutModel.warm, { timeoutMs: 10_000, what: 'the model to go cold' });
      const resyncs = cutModel.counters.resyncs;
      const gapRed = await createIdle(fixtures.name('atk-gap-red'), 'red');
      const gapBlue = await createIdle(fixtures.name('atk-gap-blue'), 'blue');
      const read = async () => {
        const answer = await cut.post<GraphQLResponse<Record<string, unknown>>>({
          query: CONTAINERS,
          variables: { filter: {} },
        });
        expect(answer.body.errors).toBeUndefined();
        return JSON.stringify(answer.body);
      };
      const during = await read();
      expect(during).toContain(gapBlue);
      expect(during).not.toContain(gapRed);
      proxy.setMode({ kind: 'pass' });
      await waitFor(() => cutModel.warm && cutModel.counters.resyncs > resyncs, {
        timeoutMs: 30_000,
        what: 'the model to read everything again',
      });
      const after = await read();
      expect(after).toContain(gapBlue);
      expect(after).not.toContain(gapRed);
      expect(after).not.toContain(redId);
      await docker('rm', '-f', gapRed, gapBlue);
    } finally {
      await cut.close();
      await proxy.close();
    }
  });
});
