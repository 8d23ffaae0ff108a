// Secrets and configs created through GraphQL, mounted into a service that prints them (read
// back through the service logs), rotated, hidden from viewers; label-limited tokens; and the
// engine calls of a nested swarm query, asserted exactly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/gql.ts';
import { randomToken, tokensEnv } from '../helpers/access.ts';
import { createTestApp } from '../helpers/app.ts';
import { must } from '../helpers/must.ts';
import { BASE_IMAGE, SwarmFixtures } from '../helpers/swarm-fixtures.ts';
import { waitFor } from '../helpers/wait-for.ts';

const CreateSecret = graphql(`
  mutation SwarmCreateSecret($input: CreateSwarmBlobInput!) {
    createSecret(input: $input) {
      __typename
      ... on SecretPayload { secret { id dockerId name } }
      ... on MutationError { message }
    }
  }
`);

const CreateConfig = graphql(`
  mutation SwarmCreateConfig($input: CreateSwarmBlobInput!) {
    createConfig(input: $input) {
      __typename
      ... on ConfigPayload { config { id dockerId name data } }
      ... on MutationError { message }
    }
  }
`);

const CreateService = graphql(`
  mutation SwarmCreateFileService($input: CreateServiceInput!) {
    createService(input: $input) {
      __typename
      ... on ServicePayload { service { name secrets { name fileName secret { name } } configs { fileName config { name } } } }
      ... on MutationError { message }
    }
  }
`);

const ServiceLogs = graphql(`
  query SwarmServiceLogs($id: String!) {
    service(id: $id) {
      logs { truncated lines { taskId nodeId line { stream message time } task { slot } } }
    }
  }
`);

const RotateSecret = graphql(`
  mutation SwarmRotateSecret($id: String!, $input: RotateSwarmBlobInput!) {
    rotateSecret(id: $id, input: $input) {
      __typename
      ... on RotateSecretPayload { secret { name services { name } } services { name secrets { name fileName } } }
      ... on MutationError { message }
    }
  }
`);

const RemoveSecret = graphql(`
  mutation SwarmRemoveSecret($id: String!) {
    removeSecret(id: $id) {
      __typename
      ... on MutationError { message }
    }
  }
`);

const Configs = graphql(`
  query SwarmConfigs($labels: [String!]!) {
    configs(filter: { labels: $labels }) { totalCount edges { node { name data services { name } } } }
    secrets(filter: { labels: $labels }) { totalCount edges { node { name services { name } } } }
  }
`);

const ConfigNames = graphql(`
  query SwarmConfigNames($labels: [String!]!) {
    configs(filter: { labels: $labels }) { edges { node { name } } }
  }
`);

const NestedQuery = graphql(`
  query SwarmNested($labels: [String!]!) {
    services(filter: { labels: $labels }) {
      totalCount
      edges {
        node {
          name
          progress { runningTasks desiredTasks }
          tasks { state node { hostname role isLocal } container { name } service { name } }
          secrets { secret { name } }
          configs { config { name } }
        }
      }
    }
    swarmNodes { totalCount edges { node { hostname tasks(running: true) { slot } } } }
  }
`);

const SwarmGlobalIds = graphql(`
  query SwarmGlobalIds($labels: [String!]!) {
    services(filter: { labels: $labels }) {
      edges {
        node {
          id
          tasks { id }
          secrets { secret { id name } }
          configs { config { id name } }
        }
      }
    }
    swarmNodes { edges { node { id } } }
  }
`);

const RefetchSwarmObjects = graphql(`
  query SwarmRefetch($ids: [ID!]!) {
    nodes(ids: $ids) {
      __typename
      id
      ... on Service { name }
      ... on Task { service { name } }
      ... on Secret { name }
      ... on Config { name }
      ... on SwarmNode { hostname }
    }
  }
`);

const LimitedView = graphql(`
  query SwarmLimitedView {
    services { totalCount edges { node { name labels { name value } } } }
    tasks { edges { node { state service { name } container { name } } } }
    secrets { totalCount }
  }
`);

const ScaleService = graphql(`
  mutation SwarmLimitedScale($id: String!) {
    scaleService(id: $id, replicas: 0) {
      __typename
      ... on MutationError { message }
    }
  }
`);

const SwarmInfo = graphql(`
  query SwarmInfo {
    swarm { clusterId autolock caExpiresAt raftHeartbeatTick }
  }
`);

const SwarmTokens = graphql(`
  query SwarmTokens {
    swarm { joinTokens { worker } }
  }
`);

describe('swarm secrets, configs, logs and scopes', () => {
  const fixtures = new SwarmFixtures();
  const tokens = { admin: randomToken(), viewer: randomToken() };
  const team = `team-${fixtures.run}`;
  const limitedToken = randomToken();
  const env = tokensEnv([
    { id: 'admin', role: 'admin', token: tokens.admin },
    { id: 'viewer', role: 'viewer', token: tokens.viewer },
    { id: 'team', role: 'admin', token: limitedToken, labels: { team } },
  ]);
  const admin = createTestApp(env, { token: tokens.admin });
  const viewer = createTestApp(env, { token: tokens.viewer });
  const limited = createTestApp(env, { token: limitedToken });
  const secretName = fixtures.name('db-password');
  const secretValue = `s3cret-${fixtures.run}`;
  const configName = fixtures.name('app-conf');
  const configValue = `listen=8080 run=${fixtures.run}`;
  const reader = fixtures.name('reader');
  const labels = [{ name: 'dockergraph.test', value: fixtures.run }];

  beforeAll(async () => {
    const secret = await admin.query(CreateSecret, {
      input: { name: secretName, content: secretValue, labels },
    });
    expect(secret.createSecret).toMatchObject({
      __typename: 'SecretPayload',
      secret: { name: secretName },
    });
    const config = await admin.query(CreateConfig, {
      input: { name: configName, content: configValue, labels },
    });
    expect(config.createConfig).toMatchObject({ config: { name: configName, data: configValue } });
    const created = await admin.query(CreateService, {
      input: {
        name: reader,
        image: BASE_IMAGE,
        labels,
        replicas: 1,
        stopGracePeriodSeconds: 1,
        // On the engine this server talks to, whatever the rotation below re-schedules: a
        // task's container is looked up (one container list) only there, and the test of
        // engine calls counts that list.
        constraints: ['node.role==manager'],
        command: [
          'sh',
          '-c',
          'cat /run/secrets/db; echo; cat /etc/app.conf; echo; exec sleep 3600',
        ],
        secrets: [{ source: secretName, target: 'db' }],
        configs: [{ source: configName, target: '/etc/app.conf' }],
      },
    });
    expect(created.createService).toEqual({
      __typename: 'ServicePayload',
      service: {
        name: reader,
        secrets: [{ name: secretName, fileName: 'db', secret: { name: secretName } }],
        configs: [{ fileName: '/etc/app.conf', config: { name: configName } }],
      },
    });
    await fixtures.convergedTasks(reader, 1);
  });

  afterAll(async () => {
    await fixtures.cleanup();
    await Promise.all([admin, viewer, limited].map((app) => app.close()));
    await fixtures.close();
  });

  it('mounts the secret and the config into the task, which prints them to its logs', async () => {
    const lines = await waitFor(
      async () => {
        const data = await admin.query(ServiceLogs, { id: reader });
        const found = must(data.service, 'service').logs.lines;
        return found.some((line) => line.line.message === configValue) ? found : false;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'the service to print its secret and config' },
    );
    expect(lines.map((line) => line.line.message)).toEqual([secretValue, configValue]);
    for (const line of lines) {
      expect(line.line.stream).toBe('STDOUT');
      expect(line.line.time).not.toBeNull();
      expect(line.taskId).toMatch(/^[a-z0-9]{25}$/);
      expect(line.nodeId).toMatch(/^[a-z0-9]{25}$/);
      expect(line.task).toEqual({ slot: 1 });
    }
  });

  it('shows a viewer the configs and secrets but not the config data', async () => {
    const answer = await viewer.execute(Configs, { labels: [fixtures.filter] });
    expect(answer.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(JSON.stringify(answer)).not.toContain(configValue);
    const names = await viewer.query(ConfigNames, { labels: [fixtures.filter] });
    expect(names.configs.edges.map((edge) => edge.node.name)).toEqual([configName]);
    const full = await admin.query(Configs, { labels: [fixtures.filter] });
    expect(full.configs.edges).toEqual([
      { node: { name: configName, data: configValue, services: [{ name: reader }] } },
    ]);
    expect(full.secrets.edges).toEqual([
      { node: { name: secretName, services: [{ name: reader }] } },
    ]);
  });

  it('refuses a viewer the join tokens but shows the swarm', async () => {
    const info = await viewer.query(SwarmInfo);
    expect(info.swarm?.clusterId).toMatch(/^[a-z0-9]{25}$/);
    expect(info.swarm?.autolock).toBe(false);
    expect(Date.parse(info.swarm?.caExpiresAt ?? '')).toBeGreaterThan(Date.now());
    const refused = await viewer.execute(SwarmTokens);
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const allowed = await admin.query(SwarmTokens);
    expect(allowed.swarm?.joinTokens.worker).toMatch(/^SWMTKN-1-/);
  });

  it('refuses to remove a secret a service mounts', async () => {
    const answer = await admin.query(RemoveSecret, { id: secretName });
    expect(answer.removeSecret).toMatchObject({
      __typename: 'ConflictError',
      message: expect.stringContaining('in use'),
    });
  });

  it('rotates a secret: new secret, service moved to it at the same file, old one removed', async () => {
    const rotated = `${secretName}-v2`;
    const answer = await admin.query(RotateSecret, {
      id: secretName,
      input: { newName: rotated, content: `${secretValue}-v2` },
    });
    expect(answer.rotateSecret).toEqual({
      __typename: 'RotateSecretPayload',
      secret: { name: rotated, services: [{ name: reader }] },
      services: [{ name: reader, secrets: [{ name: rotated, fileName: 'db' }] }],
    });
    const gone = await admin.query(RemoveSecret, { id: secretName });
    expect(gone.removeSecret.__typename).toBe('NotFoundError');
    await waitFor(
      async () => {
        const data = await admin.query(ServiceLogs, { id: reader });
        return must(data.service, 'service').logs.lines.some(
          (line) => line.line.message === `${secretValue}-v2`,
        );
      },
      { timeoutMs: 90_000, intervalMs: 500, what: 'the redeployed task to print the new secret' },
    );
  });

  it('reads services with their tasks, nodes, containers, secrets and configs in a constant number of engine calls', async () => {
    const calls = await admin.callsDuring(async () => {
      const data = await admin.query(NestedQuery, { labels: [fixtures.filter] });
      const service = must(data.services.edges[0], 'service').node;
      expect(service.tasks.length).toBeGreaterThan(0);
      expect(data.swarmNodes.totalCount).toBe(3);
      // The task on the manager (the engine this server talks to) links its container.
      for (const task of service.tasks) {
        if (task.state === 'running' && task.node?.isLocal)
          expect(task.container?.name).toContain(reader);
        if (!task.node?.isLocal) expect(task.container).toBeNull();
      }
    });
    expect([...calls].sort()).toEqual(
      [
        'GET /services',
        'GET /services',
        'GET /tasks',
        'GET /nodes',
        'GET /info',
        'GET /containers/json',
        'GET /secrets',
        'GET /configs',
      ].sort(),
    );
  });

  it('refetches every swarm object by its global ID, and hides from a limited token what its lists hide', async () => {
    const found = await admin.query(SwarmGlobalIds, { labels: [fixtures.filter] });
    const service = must(found.services.edges[0], 'service').node;
    const task = must(service.tasks[0], 'task');
    const secret = must(service.secrets[0]?.secret, 'secret');
    const config = must(service.configs[0]?.config, 'config');
    const node = must(found.swarmNodes.edges[0], 'swarm node').node;
    const ids = [service.id, task.id, secret.id, config.id, node.id];
    const refetched = await admin.query(RefetchSwarmObjects, { ids });
    expect(refetched.nodes).toEqual([
      { __typename: 'Service', id: service.id, name: reader },
      { __typename: 'Task', id: task.id, service: { name: reader } },
      // By their names as listed: an earlier test may have rotated the secret.
      { __typename: 'Secret', id: secret.id, name: secret.name },
      { __typename: 'Config', id: config.id, name: config.name },
      { __typename: 'SwarmNode', id: node.id, hostname: expect.stringContaining('-node') },
    ]);
    // The limited token's lists hold none of them (it has no service of its own yet): by
    // global ID it finds none either, as for objects that do not exist.
    const hidden = await limited.query(RefetchSwarmObjects, { ids });
    expect(hidden.nodes).toEqual([null, null, null, null, null]);
  });

  it('shows a label-limited token only the services carrying its labels, and lets it touch no other', async () => {
    const own = fixtures.name('own');
    const created = await limited.query(CreateService, {
      input: {
        name: own,
        image: BASE_IMAGE,
        labels,
        replicas: 1,
        stopGracePeriodSeconds: 1,
        // On the engine this server talks to, where a task's container can be looked up.
        constraints: ['node.role==manager'],
        command: ['sleep', '3600'],
      },
    });
    expect(created.createService.__typename).toBe('ServicePayload');
    await fixtures.convergedTasks(own, 1);
    const view = await limited.query(LimitedView);
    expect(view.services.edges.map((edge) => edge.node.name)).toEqual([own]);
    expect(view.services.edges[0]?.node.labels).toContainEqual({ name: 'team', value: team });
    expect(new Set(view.tasks.edges.map((edge) => edge.node.service?.name))).toEqual(
      new Set([own]),
    );
    // Its task's container carries its labels: it sees it.
    const running = view.tasks.edges.find((edge) => edge.node.state === 'running');
    expect(running?.node.container?.name).toContain(own);
    expect(view.secrets.totalCount).toBe(0);
    const refused = await limited.query(ScaleService, { id: reader });
    expect(refused.scaleService).toMatchObject({ __typename: 'NotFoundError' });
    const adminView = await admin.query(NestedQuery, { labels: [fixtures.filter] });
    expect(adminView.services.totalCount).toBe(2);
  });
});
