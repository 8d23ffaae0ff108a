// The swarm itself through GraphQL: settings and join tokens updated with lost updates refused,
// node labels, and a worker that leaves, is removed and joins again (through a server that talks
// to that worker's own engine).
import { afterAll, describe, expect, inject, it } from 'vitest';
import { inspectSwarm, joinSwarm, listNodes } from '../../src/docker/swarm.ts';
import { graphql } from '../generated/gql.ts';
import { randomToken, tokensEnv } from '../helpers/access.ts';
import { createTestApp } from '../helpers/app.ts';
import { must } from '../helpers/must.ts';
import { SwarmFixtures } from '../helpers/swarm-fixtures.ts';
import { waitFor } from '../helpers/wait-for.ts';

const SwarmSettings = graphql(`
  query SwarmSettings {
    swarm { version taskHistoryRetentionLimit joinTokens { worker manager } }
  }
`);

const UpdateSwarm = graphql(`
  mutation SwarmUpdate($version: Int, $input: UpdateSwarmInput!) {
    updateSwarm(version: $version, input: $input) {
      __typename
      ... on SwarmPayload { swarm { taskHistoryRetentionLimit joinTokens { worker manager } } }
      ... on MutationError { message }
    }
  }
`);

const UpdateNode = graphql(`
  mutation SwarmLabelNode($id: String!, $version: Int, $input: UpdateSwarmNodeInput!) {
    updateSwarmNode(id: $id, version: $version, input: $input) {
      __typename
      ... on SwarmNodePayload { node { hostname labels { name value } } }
      ... on MutationError { message }
    }
  }
`);

const RemoveNode = graphql(`
  mutation SwarmRemoveNode($id: String!, $force: Boolean) {
    removeSwarmNode(id: $id, force: $force) {
      __typename
      ... on MutationError { message }
    }
  }
`);

const LeaveSwarm = graphql(`
  mutation SwarmLeave {
    leaveSwarm { __typename ... on SwarmPayload { swarm { clusterId } } ... on MutationError { message } }
  }
`);

const JoinSwarm = graphql(`
  mutation SwarmJoin($input: JoinSwarmInput!) {
    joinSwarm(input: $input) {
      __typename
      ... on SwarmPayload { swarm { clusterId } nodeId }
      ... on MutationError { message }
    }
  }
`);

const NodesQuery = graphql(`
  query SwarmMembers {
    swarmNodes { totalCount edges { node { hostname role state } } }
  }
`);

describe('swarm membership and settings', () => {
  const fixtures = new SwarmFixtures();
  const adminToken = randomToken();
  const operatorToken = randomToken();
  const env = tokensEnv([
    { id: 'admin', role: 'admin', token: adminToken },
    { id: 'operator', role: 'operator', token: operatorToken },
  ]);
  const admin = createTestApp(env, { token: adminToken });
  const operator = createTestApp(env, { token: operatorToken });
  const worker = createTestApp(
    { ...env, DOCKER_HOST: inject('swarmNodes')[2] },
    { token: adminToken },
  );
  let rejoin: { token: string; remote: string; address: string } | null = null;

  afterAll(async () => {
    // Whatever happened, the third node is a member again for the other files of the run.
    const info = await worker.docker.json<{ Swarm?: { LocalNodeState?: string } }>(
      { path: '/info' },
      'info',
    );
    if (rejoin && info.Swarm?.LocalNodeState !== 'active') {
      await joinSwarm(worker.docker, {
        listenAddr: `${rejoin.address}:2377`,
        advertiseAddr: rejoin.address,
        remoteAddrs: [rejoin.remote],
        joinToken: rejoin.token,
      });
    }
    // The engine's default history, as the swarm had it before.
    await admin.query(UpdateSwarm, { input: { taskHistoryRetentionLimit: 5 } });
    await Promise.all([admin, operator, worker].map((app) => app.close()));
    await fixtures.close();
  });

  it('rotates the worker join token, refusing a change based on an old version', async () => {
    const before = must((await admin.query(SwarmSettings)).swarm, 'swarm');
    const rotated = await admin.query(UpdateSwarm, {
      input: { rotateWorkerToken: true, taskHistoryRetentionLimit: 3 },
    });
    const after = rotated.updateSwarm;
    expect(after.__typename).toBe('SwarmPayload');
    if (after.__typename !== 'SwarmPayload') return;
    expect(after.swarm?.taskHistoryRetentionLimit).toBe(3);
    expect(after.swarm?.joinTokens.worker).not.toBe(before.joinTokens.worker);
    expect(after.swarm?.joinTokens.manager).toBe(before.joinTokens.manager);
    const stale = await admin.query(UpdateSwarm, {
      version: before.version,
      input: { taskHistoryRetentionLimit: 5 },
    });
    expect(stale.updateSwarm).toMatchObject({ __typename: 'ConflictError' });
    expect(
      (await inspectSwarm(fixtures.manager))?.Spec.Orchestration?.TaskHistoryRetentionLimit,
    ).toBe(3);
    const refused = await operator.execute(UpdateSwarm, { input: { rotateWorkerToken: true } });
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('sets and removes node labels', async () => {
    const host = must(
      [...(await fixtures.nodeIds()).keys()].find((name) => name.endsWith('node2')),
      'node2',
    );
    const set = await admin.query(UpdateNode, {
      id: host,
      input: { labelAdd: [{ name: 'zone', value: fixtures.run }] },
    });
    expect(set.updateSwarmNode).toEqual({
      __typename: 'SwarmNodePayload',
      node: { hostname: host, labels: [{ name: 'zone', value: fixtures.run }] },
    });
    const stale = await admin.query(UpdateNode, {
      id: host,
      version: 1,
      input: { labelRemove: ['zone'] },
    });
    expect(stale.updateSwarmNode.__typename).toBe('ConflictError');
    const removed = await admin.query(UpdateNode, { id: host, input: { labelRemove: ['zone'] } });
    expect(removed.updateSwarmNode).toMatchObject({ node: { labels: [] } });
  });

  it('lets a worker leave, be removed and join again', async () => {
    const nodes = await listNodes(fixtures.manager);
    const third = must(
      nodes.find((node) => node.Description?.Hostname?.endsWith('node3')),
      'node3',
    );
    const managerNode = must(
      nodes.find((node) => node.Spec.Role === 'manager'),
      'manager',
    );
    const swarm = must(await inspectSwarm(fixtures.manager), 'swarm');
    const address = must(third.Status.Addr, 'node3 address');
    rejoin = {
      token: swarm.JoinTokens.Worker,
      remote: must(managerNode.ManagerStatus?.Addr, 'manager address'),
      address,
    };

    // A node that is up cannot be removed without force.
    const refused = await admin.query(RemoveNode, { id: third.ID });
    expect(refused.removeSwarmNode).toMatchObject({
      __typename: 'ConflictError',
      message: expect.stringContaining('is not down'),
    });

    const left = await worker.query(LeaveSwarm);
    expect(left.leaveSwarm).toEqual({ __typename: 'SwarmPayload', swarm: null });
    const removed = await admin.query(RemoveNode, { id: third.ID, force: true });
    expect(removed.removeSwarmNode.__typename).toBe('RemoveSwarmNodePayload');
    expect((await admin.query(NodesQuery)).swarmNodes.totalCount).toBe(2);

    const joined = await worker.query(JoinSwarm, {
      input: {
        remoteAddresses: [rejoin.remote],
        joinToken: rejoin.token,
        listenAddress: `${address}:2377`,
        advertiseAddress: address,
      },
    });
    // A worker's engine describes no swarm (it is not a manager), but it has a node id.
    expect(joined.joinSwarm).toMatchObject({
      __typename: 'SwarmPayload',
      swarm: null,
      nodeId: expect.stringMatching(/^[a-z0-9]{25}$/),
    });
    await waitFor(
      async () => {
        const members = (await admin.query(NodesQuery)).swarmNodes.edges.map((edge) => edge.node);
        return members.length === 3 && members.every((member) => member.state === 'ready');
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'the third node to be ready again' },
    );
  });
});
