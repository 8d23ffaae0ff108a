// The container list filters created before/since, exposed and published ports and swarm tasks,
// and intermediate images in the image list, against the private engine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomToken, tokensEnv } from '../helpers/access.ts';
import { createTestApp } from '../helpers/app.ts';
import { BASE_IMAGE, EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';

type Answer = {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
};

const CONTAINERS = `query ($filter: ContainerFilter) {
  containers(filter: $filter, first: 50) { edges { node { name } } }
}`;

describe('list filters', () => {
  const fixtures = new EngineFixtures();
  const runFilter = `${TEST_LABEL}=${fixtures.run}`;
  const app = createTestApp();
  const names = {
    first: fixtures.name('first'),
    middle: fixtures.name('middle'),
    last: fixtures.name('last'),
  };

  beforeAll(async () => {
    await fixtures.createContainer(names.first);
    // The engine matches exposed and published ports of running containers only.
    await fixtures.runContainer(names.middle, {
      ExposedPorts: { '8080/tcp': {}, '53/udp': {} },
    });
    await fixtures.runContainer(names.last, {
      ExposedPorts: { '9000/tcp': {} },
      HostConfig: { PortBindings: { '9000/tcp': [{ HostIp: '127.0.0.1', HostPort: '19000' }] } },
    });
  });

  afterAll(async () => {
    await fixtures.cleanup();
    await app.close();
  });

  async function gql(query: string, variables: Record<string, unknown>): Promise<Answer> {
    return (await app.post<Answer>({ query, variables })).body;
  }

  async function namesOf(filter: Record<string, unknown>): Promise<string[]> {
    const answer = await gql(CONTAINERS, { filter: { labels: [runFilter], ...filter } });
    expect(answer.errors, JSON.stringify(answer)).toBeUndefined();
    const containers = answer.data?.containers as { edges: { node: { name: string } }[] };
    return containers.edges.map((edge) => edge.node.name).sort();
  }

  it('lists containers created before or since another, named by name or id', async () => {
    expect(await namesOf({ createdBefore: names.last })).toEqual(
      [names.first, names.middle].sort(),
    );
    expect(await namesOf({ createdSince: names.first })).toEqual([names.middle, names.last].sort());
    expect(await namesOf({ createdSince: names.first, createdBefore: names.last })).toEqual([
      names.middle,
    ]);
  });

  it('lists containers by exposed and published ports, single or ranges', async () => {
    expect(await namesOf({ exposedPorts: ['8080'] })).toEqual([names.middle]);
    expect(await namesOf({ exposedPorts: ['53/udp'] })).toEqual([names.middle]);
    expect(await namesOf({ exposedPorts: ['53/tcp'] })).toEqual([]);
    expect(await namesOf({ exposedPorts: ['8000-9999/tcp'] })).toEqual(
      [names.middle, names.last].sort(),
    );
    // The engine matches the host port a container port is published on.
    expect(await namesOf({ publishedPorts: ['19000/tcp'] })).toEqual([names.last]);
    expect(await namesOf({ publishedPorts: ['18000-19999'] })).toEqual([names.last]);
    expect(await namesOf({ publishedPorts: ['9000/tcp'] })).toEqual([]);
  });

  it('lists containers by whether they run swarm tasks', async () => {
    expect(await namesOf({ isTask: false })).toEqual(Object.values(names).sort());
    expect(await namesOf({ isTask: true })).toEqual([]);
  });

  it('refuses bad filters naming the field, and a container it does not know', async () => {
    for (const [filter, field] of [
      [{ exposedPorts: ['80', 'http'] }, 'filter.exposedPorts[1]'],
      [{ publishedPorts: ['0'] }, 'filter.publishedPorts[0]'],
      [{ publishedPorts: ['90-80'] }, 'filter.publishedPorts[0]'],
      [{ exposedPorts: ['80/icmp'] }, 'filter.exposedPorts[0]'],
      [{ createdBefore: ' ' }, 'filter.createdBefore'],
      [{ createdSince: fixtures.name('nobody') }, 'filter.createdSince'],
    ] as const) {
      const answer = await gql(CONTAINERS, { filter });
      expect(answer.errors?.[0]?.extensions?.code, JSON.stringify(filter)).toBe('BAD_USER_INPUT');
      expect(answer.errors?.[0]?.extensions?.field ?? answer.errors?.[0]?.message).toContain(field);
    }
  });

  it('answers a container a label-limited token cannot see as one that does not exist', async () => {
    const token = randomToken();
    const limited = createTestApp(
      tokensEnv([
        { id: 'team', role: 'admin', token, labels: { [TEST_LABEL]: fixtures.run, team: 'x' } },
      ]),
      { token },
    );
    try {
      const hidden = await limited.post<Answer>({
        query: CONTAINERS,
        variables: { filter: { createdBefore: names.last } },
      });
      const missingName = fixtures.name('nobody');
      const missing = await limited.post<Answer>({
        query: CONTAINERS,
        variables: { filter: { createdBefore: missingName } },
      });
      expect(hidden.body.errors?.[0]?.message.replaceAll(names.last, 'X')).toBe(
        missing.body.errors?.[0]?.message.replaceAll(missingName, 'X'),
      );
      expect(hidden.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    } finally {
      await limited.close();
    }
  });

  it('lists intermediate images only with all', async () => {
    const tag = `dg-intermediate-${fixtures.run}:1`;
    const id = await fixtures.buildImage(
      tag,
      `FROM ${BASE_IMAGE}\nRUN echo ${fixtures.run} > /one\nRUN echo two > /two`,
    );
    const inspect = await fixtures.engine.json<{ Parent: string }>(
      { path: `/images/${id}/json` },
      'inspect',
    );
    // A classic build keeps the image of each step as the parent of the next.
    expect(inspect.Parent).toMatch(/^sha256:/);
    const IMAGES = `query ($filter: ImageFilter) { images(filter: $filter) { edges { node { dockerId } } } }`;
    const idsOf = async (filter: Record<string, unknown> | null) => {
      const answer = await gql(IMAGES, { filter });
      expect(answer.errors, JSON.stringify(answer)).toBeUndefined();
      const images = answer.data?.images as { edges: { node: { dockerId: string } }[] } | undefined;
      return (images?.edges ?? []).map((edge) => edge.node.dockerId);
    };
    const parent = inspect.Parent;
    const top = await idsOf(null);
    expect(top).toContain(id);
    expect(top).not.toContain(parent);
    expect(await idsOf({ all: true })).toContain(parent);
    await fixtures.engine.request(
      { method: 'DELETE', path: `/images/${encodeURIComponent(tag)}` },
      'remove',
    );
  });
});
