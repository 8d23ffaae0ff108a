// The event-fed read model (DOCKERGRAPH_READ_MODEL=on): objects changed behind dockergraph's
// back with the docker CLI show in the next read, even while their event is still on its way
// (exact consistency: one catch-up call per request), or once it has arrived (eventual: no
// call); a warm model answers the overview exactly as the engine does; dockergraph's
// own writes are seen by the next read; a broken event stream sends reads to the engine until
// the model has read everything again; a label-limited token sees through the model exactly
// what it sees without it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { EventFilter } from '../../src/docker/event-hub.ts';
import type { EngineEvent } from '../../src/docker/events.ts';
import type { ReadModel } from '../../src/docker/read-model.ts';
import { graphql } from '../generated/gql.ts';
import { adminAndLimitedTokens } from '../helpers/access.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { runDockerCliAt } from '../helpers/docker-cli.ts';
import { BASE_IMAGE, EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.ts';
import { waitFor } from '../helpers/wait-for.ts';

const OverviewQuery = graphql(`
  query ReadModelOverview($labels: [String!]) {
    containers(filter: { labels: $labels }) {
      totalCount
      edges {
        node {
          dockerId
          name
          state
          status
          labels { name value }
          image { dockerId tags }
          ports { privatePort publicPort protocol }
          networks { networkName ipAddress network { name } }
          mounts { destination volume { name } }
        }
      }
    }
  }
`);

const ObjectsQuery = graphql(`
  query ReadModelObjects($labels: [String!]) {
    volumes(filter: { labels: $labels }) { totalCount edges { node { name labels { name value } } } }
    networks(filter: { labels: $labels }) { totalCount edges { node { dockerId name } } }
    images(filter: { labels: $labels }) { totalCount edges { node { dockerId tags } } }
  }
`);

const LookupQuery = graphql(`
  query ReadModelLookup($name: String!) {
    container(idOrName: $name) { dockerId name }
  }
`);

const CreateContainer = graphql(`
  mutation ReadModelCreate($input: CreateContainerInput!) {
    createContainer(input: $input, start: true) {
      __typename
      ... on ContainerPayload { container { dockerId name state } }
      ... on MutationError { message }
    }
  }
`);

const RemoveContainer = graphql(`
  mutation ReadModelRemove($id: String!) {
    removeContainer(id: $id, force: true) { __typename ... on MutationError { message } }
  }
`);

const CreateVolume = graphql(`
  mutation ReadModelCreateVolume($input: CreateVolumeInput!) {
    createVolume(input: $input) {
      __typename
      ... on VolumePayload { volume { name } }
      ... on MutationError { message }
    }
  }
`);

const fixtures = new EngineFixtures();
const { run } = fixtures;
const RUN = `${TEST_LABEL}=${run}`;
/** The limited token's labels: this run's objects of one team. */
const LIMIT = { [TEST_LABEL]: run, team: 'blue' };
const { adminToken, limitedToken, env: tokens } = adminAndLimitedTokens(LIMIT);
const env = {
  ...tokens,
  DOCKERGRAPH_MAX_COST: '1000000',
};
const ON = { ...env, DOCKERGRAPH_READ_MODEL: 'on' };
const EVENTUAL = { ...env, DOCKERGRAPH_READ_MODEL: 'eventual' };
/** The request's catch-up with the engine's events (exact consistency): its one engine call. */
const CATCH_UP = ['GET /events'];
const modelApp = createTestApp(ON, { token: adminToken });
const eventualApp = createTestApp(EVENTUAL, { token: adminToken });
const plainApp = createTestApp(env, { token: adminToken });
const modelLimited = createTestApp(ON, { token: limitedToken });
const plainLimited = createTestApp(env, { token: limitedToken });
const apps: TestApp[] = [modelApp, eventualApp, plainApp, modelLimited, plainLimited];

const cliConfig = mkdtempSync(join(tmpdir(), 'dg-read-model-cli-'));

/** Runs the docker CLI against the test engine, as someone beside dockergraph would. */
async function docker(...args: string[]): Promise<string> {
  const { stdout } = await runDockerCliAt(inject('dockerHost'), cliConfig, args, {
    timeoutMs: 60_000,
  });
  return stdout.trim();
}

function modelOf(app: TestApp): ReadModel {
  const model = app.engines.list()[0]?.readModel;
  if (!model) throw new Error('the read model is off');
  return model;
}

/**
 * Runs `change` and answers once the app's engine event stream delivered an event
 * matching `filter` and `action` (the one the read model follows).
 */
async function afterEvent(
  app: TestApp | readonly TestApp[],
  filter: EventFilter,
  change: () => Promise<unknown>,
): Promise<EngineEvent> {
  const subscriptions = (Array.isArray(app) ? app : [app]).map((each) => {
    const engine = each.engines.list()[0];
    if (!engine) throw new Error('no engine');
    return engine.events.subscribe({ filter });
  });
  try {
    await change();
    const seen = await Promise.all(
      subscriptions.map(async (subscription) => {
        for await (const message of subscription) {
          if (message.kind === 'event') return message.event;
        }
        throw new Error('the event stream ended');
      }),
    );
    const [first] = seen;
    if (!first) throw new Error('no event');
    return first;
  } finally {
    for (const subscription of subscriptions) await subscription.return?.();
  }
}

async function waitWarm(model: ReadModel): Promise<void> {
  await waitFor(() => model.warm, { timeoutMs: 60_000, what: 'the read model to be warm' });
}

type Overview = Awaited<ReturnType<typeof overview>>;

async function overview(app: TestApp, labels: string[] | null = [RUN]) {
  const data = await app.query(OverviewQuery, { labels });
  return data.containers;
}

/** The overview with each uptime's number of seconds left out: it moves between two reads. */
function withoutSeconds(answer: Overview): Overview {
  return {
    ...answer,
    edges: answer.edges.map((edge) => ({
      node: {
        ...edge.node,
        status: edge.node.status.replace(/\d+ seconds|1 second|Less than a second/, '(seconds)'),
      },
    })),
  };
}

function nodeNamed(answer: Overview, name: string) {
  return answer.edges.find((edge) => edge.node.name === name)?.node;
}

/** Engine calls `run` made, less those the read model made meanwhile on its own. */
async function requestCalls(app: TestApp, run: () => Promise<unknown>): Promise<string[]> {
  const model = modelOf(app);
  const before = model.counters.engineCalls;
  const calls = await app.callsDuring(run);
  const own = model.counters.engineCalls - before;
  // The model's own calls (events of other test files) are not the request's.
  return calls.slice(0, Math.max(0, calls.length - own));
}

beforeAll(async () => {
  const network = fixtures.name('rm-net');
  await fixtures.createNetwork(network, { Labels: fixtures.labels() });
  for (let index = 0; index < 3; index++) {
    const volume = fixtures.name(`rm-vol-${index}`);
    await fixtures.createVolume(volume, { Labels: fixtures.labels() });
    const id = await fixtures.createContainer(fixtures.name(`rm-${index}`), {
      ExposedPorts: { '80/tcp': {} },
      HostConfig: { Binds: [`${volume}:/data`], PortBindings: { '80/tcp': [{ HostPort: '' }] } },
    });
    if (index === 2) continue;
    await fixtures.startContainer(id);
    // Connected once running: the engine sends no event for connecting a stopped container.
    await fixtures.connectNetwork(network, id);
  }
  await fixtures.createContainer(fixtures.name('rm-blue'), { Labels: { team: 'blue' } });
  // The models reflect what the engine told them: wait for the last change's event.
  // Events name their object: an earlier object's event may still be on its way.
  const red = fixtures.name('rm-red');
  await afterEvent(
    [modelApp, eventualApp, modelLimited],
    { containers: [red], actions: ['create'] },
    () => fixtures.createContainer(fixtures.name('rm-red'), { Labels: { team: 'red' } }),
  );
  await Promise.all([modelApp, eventualApp, modelLimited].map((each) => waitWarm(modelOf(each))));
}, 120_000);

afterAll(async () => {
  for (const app of apps) {
    await app.close();
  }
  await fixtures.cleanup();
  rmSync(cliConfig, { recursive: true, force: true });
});

describe('read model (DOCKERGRAPH_READ_MODEL=on)', () => {
  it('answers the overview warm with one catch-up call (none when eventual), exactly as the engine does', async () => {
    const model = modelOf(modelApp);
    await waitWarm(model);
    const served = model.counters.served;
    let fromModel: Overview | undefined;
    const calls = await requestCalls(modelApp, async () => {
      fromModel = await overview(modelApp);
    });
    expect(calls).toEqual(CATCH_UP);
    expect(model.counters.served).toBeGreaterThan(served);
    if (!fromModel) throw new Error('no answer');
    expect(fromModel.totalCount).toBe(5);
    const fromEngine = await overview(plainApp);
    expect(withoutSeconds(fromModel)).toEqual(withoutSeconds(fromEngine));
    let eventual: Overview | undefined;
    expect(
      await requestCalls(eventualApp, async () => {
        eventual = await overview(eventualApp);
      }),
    ).toEqual([]);
    expect(eventual && withoutSeconds(eventual)).toEqual(withoutSeconds(fromEngine));
    // A running container shows an uptime computed at the read, not when it was kept.
    expect(nodeNamed(fromModel, fixtures.name('rm-0'))?.status).toMatch(/^Up /);
    expect(nodeNamed(fromModel, fixtures.name('rm-2'))?.status).toBe('Created');
  });

  it('follows containers changed with the docker CLI: create, start, rename, stop, remove', async () => {
    const model = modelOf(modelApp);
    const name = fixtures.name('cli');
    const renamed = fixtures.name('cli-renamed');
    const created = await afterEvent(modelApp, { containers: [name], actions: ['create'] }, () =>
      docker(
        'create',
        '--name',
        name,
        '--label',
        RUN,
        '--label',
        'cli=yes',
        BASE_IMAGE,
        'sleep',
        '600',
      ),
    );
    expect(created.Actor.Attributes.name).toBe(name);
    let node = nodeNamed(await overview(modelApp), name);
    expect(node?.state).toBe('CREATED');
    expect(node?.status).toBe('Created');
    expect(node?.labels).toContainEqual({ name: 'cli', value: 'yes' });

    await afterEvent(modelApp, { containers: [name], actions: ['start'] }, () =>
      docker('start', name),
    );
    node = nodeNamed(await overview(modelApp), name);
    expect(node?.state).toBe('RUNNING');
    expect(node?.status).toMatch(/^Up /);

    await afterEvent(modelApp, { containers: [renamed], actions: ['rename'] }, () =>
      docker('rename', name, renamed),
    );
    let answer = await overview(modelApp);
    expect(nodeNamed(answer, name)).toBeUndefined();
    expect(nodeNamed(answer, renamed)?.state).toBe('RUNNING');

    await afterEvent(modelApp, { containers: [renamed], actions: ['stop'] }, () =>
      docker('stop', '-t', '0', renamed),
    );
    node = nodeNamed(await overview(modelApp), renamed);
    expect(node?.state).toBe('EXITED');
    expect(node?.status).toMatch(/^Exited \(\d+\) /);

    await afterEvent(modelApp, { containers: [renamed], actions: ['destroy'] }, () =>
      docker('rm', renamed),
    );
    answer = await overview(modelApp);
    expect(nodeNamed(answer, renamed)).toBeUndefined();
    expect(withoutSeconds(answer)).toEqual(withoutSeconds(await overview(plainApp)));
    expect(model.warm).toBe(true);
  });

  it('follows volumes, networks, connections and image tags changed with the docker CLI', async () => {
    const volume = fixtures.name('cli-vol');
    const network = fixtures.name('cli-net');
    // Running: the engine sends no event for (dis)connecting a stopped container.
    const container = fixtures.name('rm-1');
    const objects = async () => await modelApp.query(ObjectsQuery, { labels: [RUN] });

    await afterEvent(modelApp, { volumes: [volume], actions: ['create'] }, () =>
      docker('volume', 'create', '--label', RUN, volume),
    );
    expect((await objects()).volumes.edges.map((edge) => edge.node.name)).toContain(volume);

    await afterEvent(modelApp, { networks: [network], actions: ['create'] }, () =>
      docker('network', 'create', '--label', RUN, network),
    );
    expect((await objects()).networks.edges.map((edge) => edge.node.name)).toContain(network);

    await afterEvent(modelApp, { networks: [network], actions: ['connect'] }, () =>
      docker('network', 'connect', network, container),
    );
    const connected = nodeNamed(await overview(modelApp), container);
    expect(connected?.networks.map((each) => each.network?.name)).toContain(network);

    await afterEvent(modelApp, { networks: [network], actions: ['disconnect'] }, () =>
      docker('network', 'disconnect', network, container),
    );
    const disconnected = nodeNamed(await overview(modelApp), container);
    expect(disconnected?.networks.map((each) => each.networkName)).not.toContain(network);

    await afterEvent(modelApp, { networks: [network], actions: ['destroy'] }, () =>
      docker('network', 'rm', network),
    );
    await afterEvent(modelApp, { volumes: [volume], actions: ['destroy'] }, () =>
      docker('volume', 'rm', volume),
    );
    let answer = await objects();
    expect(answer.networks.edges.map((edge) => edge.node.name)).not.toContain(network);
    expect(answer.volumes.edges.map((edge) => edge.node.name)).not.toContain(volume);

    const built = `dg-rm-img-${run}:1`;
    const tag = `dg-rm-tag-${run}:2`;
    const imageId = await fixtures.buildImage(
      built,
      `FROM ${BASE_IMAGE}\nLABEL ${TEST_LABEL}=${run}\n`,
    );
    await afterEvent(modelApp, { images: [tag], actions: ['tag'] }, () =>
      docker('tag', built, tag),
    );
    answer = await objects();
    expect(answer.images.edges.flatMap((edge) => edge.node.tags)).toEqual(
      expect.arrayContaining([built, tag]),
    );
    await afterEvent(modelApp, { images: [imageId], actions: ['untag'] }, () => docker('rmi', tag));
    answer = await objects();
    const tags = answer.images.edges.flatMap((edge) => edge.node.tags);
    expect(tags).toContain(built);
    expect(tags).not.toContain(tag);
    expect(answer).toEqual(await plainApp.query(ObjectsQuery, { labels: [RUN] }));
  });

  it("sees dockergraph's own writes in the very next read", async () => {
    const name = fixtures.name('ryw');
    const volume = fixtures.name('ryw-vol');
    const created = await modelApp.query(CreateContainer, {
      input: {
        name,
        image: BASE_IMAGE,
        cmd: ['sleep', '600'],
        labels: [{ name: TEST_LABEL, value: run }],
      },
    });
    if (created.createContainer.__typename !== 'ContainerPayload') {
      throw new Error(`create failed: ${JSON.stringify(created.createContainer)}`);
    }
    const id = created.createContainer.container?.dockerId ?? '';
    expect(nodeNamed(await overview(modelApp), name)?.state).toBe('RUNNING');

    const removed = await modelApp.query(RemoveContainer, { id });
    expect(removed.removeContainer.__typename).not.toMatch(/Error$/);
    expect(nodeNamed(await overview(modelApp), name)).toBeUndefined();

    const made = await modelApp.query(CreateVolume, {
      input: { name: volume, labels: [{ name: TEST_LABEL, value: run }] },
    });
    expect(made.createVolume.__typename).toBe('VolumePayload');
    const volumes = (await modelApp.query(ObjectsQuery, { labels: [RUN] })).volumes;
    expect(volumes.edges.map((edge) => edge.node.name)).toContain(volume);
  });

  it('orders containers as the engine does, with the same cursors, ties in a second too', async () => {
    const model = modelOf(modelApp);
    // Made at once behind dockergraph's back: the model learns them from their events,
    // after its whole read, and many share their creation second.
    const names = Array.from({ length: 8 }, (_, index) => fixtures.name(`rm-tie-${index}`));
    await Promise.all(
      names.map((name) => fixtures.createContainer(name, { Labels: { tie: 'yes' } })),
    );
    const labels = [RUN, 'tie=yes'];
    type Paged = {
      edges: { cursor: string; node: { dockerId: string } }[];
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    };
    const ask = async (app: TestApp, args: string) => {
      const answer = await app.post<{ data?: { containers: Paged }; errors?: unknown }>({
        query: `query ($labels: [String!]) {
          containers(filter: { labels: $labels }${args}) {
            edges { cursor node { dockerId } } pageInfo { hasNextPage endCursor }
          }
        }`,
        variables: { labels },
      });
      expect(answer.body.errors).toBeUndefined();
      const containers = answer.body.data?.containers;
      if (!containers) throw new Error('no data');
      return containers;
    };
    await waitFor(async () => (await ask(modelApp, '')).edges.length === names.length, {
      timeoutMs: 60_000,
      what: 'the read model to hold the new containers',
    });
    await waitWarm(model);
    const served = model.counters.served;
    expect(await ask(modelApp, '')).toEqual(await ask(plainApp, ''));
    // Walked by pages of three: the same pages, cursors included.
    let cursor: string | null = null;
    for (;;) {
      const args = cursor === null ? ', first: 3' : `, first: 3, after: ${JSON.stringify(cursor)}`;
      const fromModel = await ask(modelApp, args);
      expect(fromModel).toEqual(await ask(plainApp, args));
      if (!fromModel.pageInfo.hasNextPage) break;
      cursor = fromModel.pageInfo.endCursor;
    }
    expect(model.counters.served).toBeGreaterThan(served);
  });

  it('answers a label-limited token exactly as without the model, never another label', async () => {
    await waitWarm(modelOf(modelLimited));
    const blue = fixtures.name('rm-blue');
    const red = fixtures.name('rm-red');
    for (const labels of [null, [RUN], ['team=red'], ['team']]) {
      const fromModel = await overview(modelLimited, labels);
      expect(withoutSeconds(fromModel)).toEqual(
        withoutSeconds(await overview(plainLimited, labels)),
      );
      expect(nodeNamed(fromModel, red)).toBeUndefined();
    }
    expect(nodeNamed(await overview(modelLimited, null), blue)).toBeDefined();
    expect((await modelLimited.query(LookupQuery, { name: red })).container).toBeNull();
    expect((await modelLimited.query(LookupQuery, { name: blue })).container?.name).toBe(blue);
    expect(await modelLimited.query(ObjectsQuery, { labels: null })).toEqual(
      await plainLimited.query(ObjectsQuery, { labels: null }),
    );
    // A red container relabelled by a rename event is still red: events never widen a limit.
    await afterEvent(modelLimited, { containers: [`${red}-2`], actions: ['rename'] }, () =>
      docker('rename', red, `${red}-2`),
    );
    expect(nodeNamed(await overview(modelLimited, null), `${red}-2`)).toBeUndefined();
    expect(nodeNamed(await overview(modelApp, [RUN]), `${red}-2`)).toBeDefined();
  });
});

describe('read model after a burst of events', () => {
  it('still answers from memory after more events than the engine keeps came within a second', async () => {
    const model = modelOf(modelApp);
    // 300 volumes created at once: their events overflow the engine's buffer of 256, all
    // within the second before the last one the stream delivered.
    const names = Array.from({ length: 300 }, (_, index) => fixtures.name(`burst-${index}`));
    const last = names.at(-1) ?? '';
    await afterEvent(modelApp, { volumes: [last], actions: ['create'] }, async () => {
      for (let start = 0; start < names.length; start += 30) {
        await Promise.all(
          names.slice(start, start + 30).map((name) => fixtures.createVolume(name)),
        );
      }
    });
    const served = model.counters.served;
    let volumes: string[] = [];
    const calls = await requestCalls(modelApp, async () => {
      const answer = await modelApp.query(ObjectsQuery, { labels: [RUN] });
      volumes = answer.volumes.edges.map((edge) => edge.node.name);
    });
    expect(calls).toEqual(CATCH_UP);
    expect(model.counters.served).toBeGreaterThan(served);
    expect(volumes).toEqual(expect.arrayContaining(names));
  }, 120_000);
});

describe('read model when the event stream breaks', () => {
  let proxy: FaultProxy;
  let app: TestApp;

  beforeAll(async () => {
    proxy = await startFaultProxy();
    app = createTestApp({ ...ON, DOCKER_HOST: proxy.dockerHost }, { token: adminToken });
  });

  afterAll(async () => {
    await app.close();
    await proxy.close();
  });

  it('reads from the engine during the gap, then reads everything again', async () => {
    const model = modelOf(app);
    await waitWarm(model);
    const resyncs = model.counters.resyncs;
    const stream = await proxy.waitForRequest(/\/events/);
    // The stream is cut and may not come back: the engine's other calls still pass.
    proxy.setMode({ kind: 'drop', pattern: /\/events/ });
    proxy.cut(stream);
    await waitFor(() => !model.warm, { timeoutMs: 10_000, what: 'the model to go cold' });

    const name = fixtures.name('gap');
    await docker('create', '--name', name, '--label', RUN, BASE_IMAGE, 'sleep', '600');
    let calls: string[] = [];
    let answer: Overview | undefined;
    calls = await requestCalls(app, async () => {
      answer = await overview(app);
    });
    expect(calls).toContainEqual('GET /containers/json');
    expect(answer && nodeNamed(answer, name)?.state).toBe('CREATED');

    proxy.setMode({ kind: 'pass' });
    await waitFor(() => model.warm && model.counters.resyncs > resyncs, {
      timeoutMs: 30_000,
      what: 'the model to read everything again',
    });
    calls = await requestCalls(app, async () => {
      answer = await overview(app);
    });
    expect(calls).toEqual(CATCH_UP);
    expect(answer && nodeNamed(answer, name)?.state).toBe('CREATED');
    expect(withoutSeconds(answer ?? (await overview(plainApp)))).toEqual(
      withoutSeconds(await overview(plainApp)),
    );
  });
});

describe('read model consistency while events are late', () => {
  let proxy: FaultProxy;
  let exact: TestApp;
  let eventual: TestApp;

  beforeAll(async () => {
    proxy = await startFaultProxy();
    exact = createTestApp({ ...ON, DOCKER_HOST: proxy.dockerHost }, { token: adminToken });
    eventual = createTestApp({ ...EVENTUAL, DOCKER_HOST: proxy.dockerHost }, { token: adminToken });
    await Promise.all([waitWarm(modelOf(exact)), waitWarm(modelOf(eventual))]);
  });

  afterAll(async () => {
    await exact?.close();
    await eventual?.close();
    await proxy?.close();
  });

  it('shows a container created with the docker CLI an instant ago, its event still held back (exact); eventual shows it once the event came', async () => {
    // Every answer of the engine, the live event stream's included, reaches dockergraph two
    // seconds late: the create's event is still on its way when the query is asked.
    const name = fixtures.name('late');
    proxy.setMode({ kind: 'delay', ms: 2_000 });
    try {
      const created = afterEvent(eventual, { containers: [name], actions: ['create'] }, () =>
        docker('create', '--name', name, '--label', RUN, BASE_IMAGE, 'sleep', '600'),
      );
      await waitFor(async () => (await docker('ps', '-aq', '--filter', `name=${name}`)) !== '', {
        timeoutMs: 30_000,
        what: 'the docker CLI to create the container',
      });
      const [fromExact, fromEventual] = await Promise.all([overview(exact), overview(eventual)]);
      expect(nodeNamed(fromExact, name)?.state).toBe('CREATED');
      // Eventual answered from what the stream had delivered: nothing yet of this container.
      expect(nodeNamed(fromEventual, name)).toBeUndefined();
      await created;
      expect(nodeNamed(await overview(eventual), name)?.state).toBe('CREATED');
    } finally {
      proxy.setMode({ kind: 'pass' });
    }
  }, 60_000);
});
