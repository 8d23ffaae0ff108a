// Services on a real swarm of three engines: created, spread, scaled, updated and rolled back
// through GraphQL, read back with their tasks and nodes, with lost updates refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineConflictError } from '../../src/docker/errors.ts';
import { inspectNetwork } from '../../src/docker/networks.ts';
import { inspectService, updateService } from '../../src/docker/swarm-services.ts';
import { graphql } from '../generated/gql.ts';
import { admissionControlsOf, makeRoleTokens } from '../helpers/access.ts';
import { createTestApp } from '../helpers/app.ts';
import { must } from '../helpers/must.ts';
import { BASE_IMAGE, SwarmFixtures, UPDATE_IMAGE } from '../helpers/swarm-fixtures.ts';
import { waitFor } from '../helpers/wait-for.ts';

const CreateService = graphql(`
  mutation SwarmCreateService($input: CreateServiceInput!) {
    createService(input: $input) {
      __typename
      ... on ServicePayload { service { id dockerId name version mode replicas image } }
      ... on MutationError { message }
    }
  }
`);

const ServiceTasks = graphql(`
  query SwarmServiceTasks($id: String!) {
    service(id: $id) {
      name
      replicas
      image
      previousImage
      progress { runningTasks desiredTasks converged updateState }
      tasks(desiredState: RUNNING) { state slot image node { hostname role } }
      nodes { hostname }
    }
  }
`);

const ScaleService = graphql(`
  mutation SwarmScaleService($id: String!, $replicas: Int!, $version: Int) {
    scaleService(id: $id, replicas: $replicas, version: $version) {
      __typename
      ... on ServicePayload { service { replicas version } }
      ... on MutationError { message }
    }
  }
`);

const UpdateService = graphql(`
  mutation SwarmUpdateService($id: String!, $input: UpdateServiceInput!, $version: Int) {
    updateService(id: $id, input: $input, version: $version) {
      __typename
      ... on ServicePayload { service { image version env { name value redacted } label(name: "tier") } }
      ... on MutationError { message }
    }
  }
`);

const RollbackService = graphql(`
  mutation SwarmRollbackService($id: String!) {
    rollbackService(id: $id) {
      __typename
      ... on ServicePayload { service { image previousImage } }
      ... on MutationError { message }
    }
  }
`);

const RemoveService = graphql(`
  mutation SwarmRemoveService($id: String!) {
    removeService(id: $id) {
      __typename
      ... on RemoveServicePayload { name }
      ... on MutationError { message }
    }
  }
`);

const ServiceList = graphql(`
  query SwarmServiceList($labels: [String!]!) {
    services(filter: { labels: $labels }) {
      totalCount
      edges { node { name mode env { name value redacted } } }
    }
  }
`);

const CreateOverlay = graphql(`
  mutation SwarmCreateOverlay($input: CreateNetworkInput!) {
    createNetwork(input: $input) {
      __typename
      ... on NetworkPayload { network { dockerId } }
      ... on MutationError { message }
    }
  }
`);

const StackServices = graphql(`
  query SwarmStackServices {
    stacks { edges { node { name services { name stack { name } } } } }
  }
`);

describe('swarm services', () => {
  const fixtures = new SwarmFixtures();
  const { tokens, env } = makeRoleTokens();
  const admin = createTestApp(env, { token: tokens.admin });
  const viewer = createTestApp(env, { token: tokens.viewer });
  const deployer = createTestApp(env, { token: tokens.deployer });
  const web = fixtures.name('web');
  const secretValue = `service-secret-${fixtures.run}`;

  /** The fields every service of this file shares: fast to stop, fast to roll. */
  function serviceInput(name: string, extra: Record<string, unknown> = {}) {
    return {
      name,
      image: BASE_IMAGE,
      command: ['sh', '-c', 'echo started on $(hostname); exec sleep 3600'],
      labels: [{ name: 'dockergraph.test', value: fixtures.run }],
      stopGracePeriodSeconds: 1,
      updatePolicy: { monitorSeconds: 1, parallelism: 2 },
      rollbackPolicy: { monitorSeconds: 1, parallelism: 2 },
      ...extra,
    };
  }

  beforeAll(async () => {
    const created = await admin.query(CreateService, {
      input: serviceInput(web, {
        replicas: 3,
        env: [
          { name: 'DB_PASSWORD', value: secretValue },
          { name: 'MODE', value: 'test' },
        ],
      }),
    });
    expect(created.createService.__typename).toBe('ServicePayload');
    await fixtures.convergedTasks(web, 3);
  });

  afterAll(async () => {
    await fixtures.cleanup();
    await Promise.all([admin, viewer, deployer].map((app) => app.close()));
    await fixtures.close();
  });

  it('spreads three replicas over the three nodes', async () => {
    const data = await admin.query(ServiceTasks, { id: web });
    const service = must(data.service, 'service');
    expect(service.progress).toMatchObject({ runningTasks: 3, desiredTasks: 3, converged: true });
    expect(service.tasks.map((task) => task.state)).toEqual(['running', 'running', 'running']);
    expect(service.tasks.map((task) => task.slot).sort()).toEqual([1, 2, 3]);
    const hosts = service.tasks.map((task) => task.node?.hostname).sort();
    expect(new Set(hosts).size).toBe(3);
    expect(service.nodes).toHaveLength(3);
  });

  it('scales to five and back to three', async () => {
    const up = await admin.query(ScaleService, { id: web, replicas: 5 });
    expect(up.scaleService).toMatchObject({
      __typename: 'ServicePayload',
      service: { replicas: 5 },
    });
    await fixtures.convergedTasks(web, 5);
    const five = must((await admin.query(ServiceTasks, { id: web })).service, 'service');
    expect(five.progress).toMatchObject({ runningTasks: 5, desiredTasks: 5, converged: true });
    expect(new Set(five.tasks.map((task) => task.node?.hostname)).size).toBe(3);

    const down = await admin.query(ScaleService, { id: web, replicas: 3 });
    expect(down.scaleService).toMatchObject({ service: { replicas: 3 } });
    await fixtures.convergedTasks(web, 3);
    const three = must((await admin.query(ServiceTasks, { id: web })).service, 'service');
    expect(three.tasks).toHaveLength(3);
  });

  it('refuses a change based on a version that is no longer current', async () => {
    const current = must(await inspectService(fixtures.manager, web), 'service');
    const stale = current.Version.Index;
    // Someone else changes the service in between.
    await updateService(
      fixtures.manager,
      current.ID,
      { ...current.Spec, Labels: { ...current.Spec.Labels, tier: 'a' } },
      { version: stale },
    );
    const answer = await admin.query(UpdateService, {
      id: web,
      version: stale,
      input: { labelAdd: [{ name: 'tier', value: 'b' }] },
    });
    expect(answer.updateService.__typename).toBe('ConflictError');
    expect(answer.updateService).toMatchObject({
      message: expect.stringContaining('update out of sequence'),
    });
    const after = must(await inspectService(fixtures.manager, web), 'service');
    expect(after.Spec.Labels?.tier).toBe('a');
    // The engine client alone types the engine's answer the same way.
    await expect(
      updateService(fixtures.manager, current.ID, current.Spec, { version: stale }),
    ).rejects.toBeInstanceOf(EngineConflictError);
    // Without a version, the current one is read and the change goes through.
    const fresh = await admin.query(UpdateService, {
      id: web,
      input: { labelAdd: [{ name: 'tier', value: 'b' }] },
    });
    expect(fresh.updateService).toMatchObject({
      __typename: 'ServicePayload',
      service: { label: 'b' },
    });
  });

  it('rolls out a new image, then rolls back to the previous one', async () => {
    const updated = await admin.query(UpdateService, { id: web, input: { image: UPDATE_IMAGE } });
    expect(updated.updateService).toMatchObject({ service: { image: UPDATE_IMAGE } });
    const rolled = await waitFor(
      async () => {
        const service = must((await admin.query(ServiceTasks, { id: web })).service, 'service');
        const done =
          service.progress.updateState === 'COMPLETED' &&
          service.tasks.length === 3 &&
          service.tasks.every((task) => task.image === UPDATE_IMAGE && task.state === 'running');
        return done ? service : false;
      },
      { timeoutMs: 90_000, intervalMs: 500, what: 'the rolling update to complete' },
    );
    expect(rolled.previousImage).toBe(BASE_IMAGE);

    const back = await admin.query(RollbackService, { id: web });
    expect(back.rollbackService).toMatchObject({
      __typename: 'ServicePayload',
      service: { image: BASE_IMAGE },
    });
    const restored = await waitFor(
      async () => {
        const service = must((await admin.query(ServiceTasks, { id: web })).service, 'service');
        const done =
          service.progress.updateState === 'ROLLBACK_COMPLETED' &&
          service.tasks.length === 3 &&
          service.tasks.every((task) => task.image === BASE_IMAGE && task.state === 'running');
        return done ? service : false;
      },
      { timeoutMs: 90_000, intervalMs: 500, what: 'the rollback to complete' },
    );
    expect(restored.progress.converged).toBe(true);
  });

  it('runs a global service on every node', async () => {
    const name = fixtures.name('agent');
    const created = await admin.query(CreateService, {
      input: serviceInput(name, { global: true }),
    });
    expect(created.createService).toMatchObject({ service: { mode: 'GLOBAL', replicas: null } });
    await fixtures.convergedTasks(name, 3);
    const service = must((await admin.query(ServiceTasks, { id: name })).service, 'service');
    expect(service.tasks.map((task) => task.slot)).toEqual([null, null, null]);
    expect(new Set(service.tasks.map((task) => task.node?.hostname)).size).toBe(3);
    expect(service.progress).toMatchObject({ runningTasks: 3, desiredTasks: 3 });
    const removed = await admin.query(RemoveService, { id: name });
    expect(removed.removeService).toEqual({ __typename: 'RemoveServicePayload', name });
  });

  it('shows a viewer the names of environment variables but not their values', async () => {
    const answer = await viewer.execute(ServiceList, { labels: [fixtures.filter] });
    expect(answer.errors).toBeUndefined();
    expect(JSON.stringify(answer)).not.toContain(secretValue);
    const envOf = answer.data?.services.edges.find((edge) => edge.node.name === web)?.node.env;
    expect(envOf).toContainEqual({ name: 'DB_PASSWORD', value: null, redacted: true });
    const adminView = await admin.query(ServiceList, { labels: [fixtures.filter] });
    expect(JSON.stringify(adminView)).toContain(secretValue);
  });

  it('refuses a viewer every service mutation', async () => {
    const answer = await viewer.execute(ScaleService, { id: web, replicas: 1 });
    expect(answer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await inspectService(fixtures.manager, web))?.Spec.Mode?.Replicated?.Replicas).toBe(3);
  });

  it('refuses host bind mounts and added capabilities without the dangerous permission', async () => {
    const name = fixtures.name('escape');
    const answer = await deployer.execute(CreateService, {
      input: serviceInput(name, {
        mounts: [{ type: 'BIND', source: '/etc', target: '/host-etc' }],
        capAdd: ['SYS_ADMIN'],
        networks: [{ target: 'host' }],
      }),
    });
    expect(answer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // Each task is a container: the spec is reviewed as the container it would create.
    expect(new Set(admissionControlsOf(answer.errors?.[0]))).toEqual(
      new Set(['host-paths', 'host-namespaces', 'capabilities']),
    );
    expect(answer.errors?.[0]?.message).toContain('"/etc"');
    expect(answer.errors?.[0]?.message).toContain('SYS_ADMIN');
    expect(await inspectService(fixtures.manager, name)).toBeNull();
  });

  it('lets a writer without "dangerous" put a service on an overlay network it made', async () => {
    // The swarm writes the VXLAN id it allocated into the network's options; the review of a
    // joined network leaves that option to the swarm.
    const network = fixtures.name('overlay');
    const made = await deployer.query(CreateOverlay, {
      input: {
        name: network,
        driver: 'overlay',
        labels: [{ name: 'dockergraph.test', value: fixtures.run }],
      },
    });
    // (Its driver reads "" until the swarm's allocator has filled the network in.)
    expect(made.createNetwork.__typename).toBe('NetworkPayload');
    const overlay =
      made.createNetwork.__typename === 'NetworkPayload' ? made.createNetwork.network : null;
    const overlayId = must(overlay, 'network').dockerId;
    // What the review meets on a joined overlay network: the VXLAN id the swarm allocated.
    await waitFor(
      async () => {
        const inspected = await inspectNetwork(fixtures.manager, overlayId);
        return inspected?.Options?.['com.docker.network.driver.overlay.vxlanid_list'] ?? false;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'the swarm to allocate the network' },
    );
    const name = fixtures.name('on-overlay');
    try {
      const created = await deployer.query(CreateService, {
        input: serviceInput(name, { replicas: 0, networks: [{ target: network }] }),
      });
      expect(created.createService.__typename).toBe('ServicePayload');
      const service = must(await inspectService(fixtures.manager, name), 'service');
      expect(service.Spec.TaskTemplate.Networks?.map((attached) => attached.Target)).toEqual([
        overlayId,
      ]);
    } finally {
      await fixtures.manager
        .request({ method: 'DELETE', path: `/services/${name}` }, 'remove service')
        .then((response) => response.body.dump())
        .catch(() => undefined);
      await fixtures.manager
        .request({ method: 'DELETE', path: `/networks/${network}` }, 'remove network')
        .then((response) => response.body.dump())
        .catch(() => undefined);
    }
  });

  it('answers bad input with the field that is wrong, before the engine', async () => {
    const calls = await admin.callsDuring(async () => {
      const answer = await admin.query(CreateService, {
        input: serviceInput(fixtures.name('bad'), { replicas: 2, global: true }),
      });
      expect(answer.createService).toMatchObject({
        __typename: 'InvalidInputError',
        message: expect.stringContaining('global'),
      });
    });
    expect(calls).toEqual([]);
  });

  it('groups the services of a stack under it, in the same name order on every host', async () => {
    const stack = fixtures.name('stack');
    // Code-unit order puts an upper-case name first; a locale's collation would not.
    const names = [fixtures.name('stack-alpha'), fixtures.name('stack-Zulu')];
    for (const name of names) {
      const created = await admin.query(CreateService, {
        input: serviceInput(name, {
          replicas: 0,
          labels: [
            { name: 'dockergraph.test', value: fixtures.run },
            { name: 'com.docker.stack.namespace', value: stack },
          ],
        }),
      });
      expect(created.createService.__typename).toBe('ServicePayload');
    }
    const data = await viewer.query(StackServices);
    const found = data.stacks.edges.find((edge) => edge.node.name === stack);
    expect(found?.node.services).toEqual(
      [...names].reverse().map((name) => ({ name, stack: { name: stack } })),
    );
  });
});
