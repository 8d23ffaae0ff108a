// Attacks on the swarm paths (December 2026 review), on the real test swarm: what a hostile
// writer without "dangerous", or a token limited to labels, tries through services, and what
// the client sees. Each case names the path it covers; those that once went through name the
// commit that closed them in its message.
import { print } from 'graphql';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createNetwork, inspectNetwork } from '../../src/docker/networks.ts';
import type { EngineServiceSpec } from '../../src/docker/service-spec.ts';
import { inspectSwarmBlob } from '../../src/docker/swarm-secrets.ts';
import { inspectService, updateService } from '../../src/docker/swarm-services.ts';
import { createVolume, inspectVolume, removeVolume } from '../../src/docker/volumes.ts';
import { graphql } from '../generated/gql.ts';
import { admissionControlsOf, randomToken, tokensEnv } from '../helpers/access.ts';
import { createTestApp } from '../helpers/app.ts';
import { collectSubscription } from '../helpers/collect-subscription.ts';
import { clientWithToken } from '../helpers/graphql-ws.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';
import { must } from '../helpers/must.ts';
import { BASE_IMAGE, SwarmFixtures, UPDATE_IMAGE } from '../helpers/swarm-fixtures.ts';

const CreateService = graphql(`
  mutation AttackSwarmCreateService($input: CreateServiceInput!) {
    createService(input: $input) {
      __typename
      ... on ServicePayload { service { dockerId name } }
      ... on MutationError { message }
    }
  }
`);

const UpdateService = graphql(`
  mutation AttackSwarmUpdateService($id: String!, $input: UpdateServiceInput!) {
    updateService(id: $id, input: $input) {
      __typename
      ... on MutationError { message }
    }
  }
`);

const ScaleService = graphql(`
  mutation AttackSwarmScaleService($id: String!, $replicas: Int!) {
    scaleService(id: $id, replicas: $replicas) {
      __typename
      ... on MutationError { message }
    }
  }
`);

const RollbackService = graphql(`
  mutation AttackSwarmRollbackService($id: String!) {
    rollbackService(id: $id) {
      __typename
      ... on MutationError { message }
    }
  }
`);

const CreateNetwork = graphql(`
  mutation AttackSwarmCreateNetwork($input: CreateNetworkInput!) {
    createNetwork(input: $input) {
      __typename
      ... on MutationError { message }
    }
  }
`);

const CreateSecret = graphql(`
  mutation AttackSwarmCreateSecret($input: CreateSwarmBlobInput!) {
    createSecret(input: $input) {
      __typename
      ... on MutationError { message }
    }
  }
`);

const RemoveSecret = graphql(`
  mutation AttackSwarmRemoveSecret($id: String!) {
    removeSecret(id: $id) {
      __typename
      ... on MutationError { message }
    }
  }
`);

const RotateSecret = graphql(`
  mutation AttackSwarmRotateSecret($id: String!, $input: RotateSwarmBlobInput!) {
    rotateSecret(id: $id, input: $input) {
      __typename
      ... on MutationError { message }
    }
  }
`);

const ServiceGlobalId = graphql(`
  query AttackSwarmServiceGlobalId($id: String!) {
    service(id: $id) { id dockerId }
  }
`);

const LimitedLookups = graphql(`
  query AttackSwarmLimitedLookups($name: String!, $prefix: String!) {
    byName: service(id: $name) { name }
    byPrefix: service(id: $prefix) { name }
    tasks(filter: { services: [$name] }) { totalCount }
    secrets { edges { node { name } } }
    stacks { edges { node { name } } }
  }
`);

const LimitedLabelChange = graphql(`
  mutation AttackSwarmLimitedLabelChange($id: String!, $input: UpdateServiceInput!) {
    updateService(id: $id, input: $input) {
      __typename
      ... on MutationError { message }
    }
  }
`);

const ConfigThroughService = graphql(`
  query AttackSwarmConfigThroughService($id: String!) {
    viaFragment: service(id: $id) { configs { config { name ... on Config { leak: dataBase64 } } } }
    viaAlias: service(id: $id) { configs { config { text: data } } }
    swarm { unlockKey joinTokens { manager } }
  }
`);

const CreateConfig = graphql(`
  mutation AttackSwarmCreateConfig($input: CreateSwarmBlobInput!) {
    createConfig(input: $input) {
      __typename
      ... on MutationError { message }
    }
  }
`);

const LimitedEvents = graphql(`
  subscription AttackSwarmLimitedEvents {
    events(filter: { types: [SERVICE, SECRET, CONFIG, NODE] }) {
      kind
      event { type action actor { id attributes { name value } } }
    }
  }
`);

const LimitedServiceUpdates = graphql(`
  subscription AttackSwarmLimitedServiceUpdates {
    serviceUpdated { kind serviceId service { name version } }
  }
`);

describe('attacks on swarm services (2026-12)', () => {
  const fixtures = new SwarmFixtures();
  const team = `team-${fixtures.run}`;
  const tokens = {
    admin: randomToken(),
    deployer: randomToken(),
    operator: randomToken(),
    team: randomToken(),
    teamAdmin: randomToken(),
    prefix: randomToken(),
  };
  const env = tokensEnv(
    [
      { id: 'admin', role: 'admin', token: tokens.admin },
      // Writes at the default ("baseline") admission level, reads logs, holds no secrets.
      { id: 'deployer', role: 'deployer', token: tokens.deployer },
      { id: 'operator', role: 'operator', token: tokens.operator },
      { id: 'team', role: 'deployer', token: tokens.team, labels: { team } },
      { id: 'team-admin', role: 'admin', token: tokens.teamAdmin, labels: { team } },
      // A team of its own, which sees nothing but the one service the prefix test makes.
      { id: 'prefix', role: 'deployer', token: tokens.prefix, labels: { team: `${team}-p` } },
    ],
    { deployer: ['read', 'logs', 'lifecycle', 'write'] },
  );
  const admin = createTestApp(env, { token: tokens.admin });
  const deployer = createTestApp(env, { token: tokens.deployer });
  const operator = createTestApp(env, { token: tokens.operator });
  const limited = createTestApp(env, { token: tokens.team });
  const limitedAdmin = createTestApp(env, { token: tokens.teamAdmin });
  const prefixed = createTestApp(env, { token: tokens.prefix });
  const labels = [{ name: 'dockergraph.test', value: fixtures.run }];
  const networks: string[] = [];
  const volumes: string[] = [];

  /** A service that runs no task (the spec is what is attacked), fast to remove. */
  function serviceInput(name: string, extra: Record<string, unknown> = {}) {
    return {
      name,
      image: BASE_IMAGE,
      command: ['sleep', '3600'],
      labels,
      replicas: 0,
      stopGracePeriodSeconds: 1,
      ...extra,
    };
  }

  /** An administrator's service: created through GraphQL at the privileged level. */
  async function adminService(name: string, extra: Record<string, unknown> = {}) {
    const created = await admin.query(CreateService, { input: serviceInput(name, extra) });
    expect(created.createService.__typename).toBe('ServicePayload');
    return must(await inspectService(fixtures.manager, name), 'service');
  }

  afterAll(async () => {
    await fixtures.cleanup();
    for (const network of networks) {
      await fixtures.manager
        .request({ method: 'DELETE', path: `/networks/${network}` }, 'remove network')
        .then((response) => response.body.dump())
        .catch(() => undefined);
    }
    for (const volume of volumes)
      await removeVolume(fixtures.manager, volume, true).catch(() => undefined);
    await Promise.all(
      [admin, deployer, operator, limited, limitedAdmin, prefixed].map((app) => app.close()),
    );
    await fixtures.close();
  });

  it('rollbackService reviews the spec it returns to: an administrator’s earlier host mount stays refused', async () => {
    const name = fixtures.name('rollback');
    const service = await adminService(name, {
      mounts: [{ type: 'BIND', source: '/etc', target: '/host-etc', readOnly: true }],
    });
    // The administrator takes the host mount away; the swarm keeps the old spec as the previous.
    const { Mounts: _mounts, ...container } = must(
      service.Spec.TaskTemplate.ContainerSpec,
      'container spec',
    );
    const safe: EngineServiceSpec = {
      ...service.Spec,
      TaskTemplate: { ...service.Spec.TaskTemplate, ContainerSpec: container },
    };
    await updateService(fixtures.manager, service.ID, safe, { version: service.Version.Index });

    const answer = await deployer.execute(RollbackService, { id: name });
    expect(answer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(admissionControlsOf(answer.errors?.[0])).toEqual(['host-paths']);
    expect(answer.errors?.[0]?.message).toContain('"/etc"');
    const after = must(await inspectService(fixtures.manager, name), 'service');
    expect(after.Spec.TaskTemplate.ContainerSpec?.Mounts).toBeUndefined();

    // Its own service, whose previous spec it sent itself, it rolls back.
    const own = fixtures.name('rollback-own');
    const created = await deployer.query(CreateService, { input: serviceInput(own) });
    expect(created.createService.__typename).toBe('ServicePayload');
    const changed = await deployer.query(UpdateService, {
      id: own,
      input: { image: UPDATE_IMAGE },
    });
    expect(changed.updateService.__typename).toBe('ServicePayload');
    const back = await deployer.query(RollbackService, { id: own });
    expect(back.rollbackService.__typename).toBe('ServicePayload');
    const rolled = must(await inspectService(fixtures.manager, own), 'service');
    expect(rolled.Spec.TaskTemplate.ContainerSpec?.Image).toBe(BASE_IMAGE);
  });

  it('updateService and scaleService resend the whole spec: an administrator’s host mount is refused to a writer and an operator', async () => {
    const name = fixtures.name('merged');
    const service = await adminService(name, {
      mounts: [{ type: 'BIND', source: '/etc', target: '/host-etc', readOnly: true }],
    });
    const update = await deployer.execute(UpdateService, {
      id: name,
      input: { env: [{ name: 'HARMLESS', value: '1' }] },
    });
    expect(update.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(admissionControlsOf(update.errors?.[0])).toEqual(['host-paths']);
    const scale = await operator.execute(ScaleService, { id: name, replicas: 1 });
    expect(scale.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(admissionControlsOf(scale.errors?.[0])).toEqual(['host-paths']);
    const after = must(await inspectService(fixtures.manager, name), 'service');
    expect(after.Version.Index).toBe(service.Version.Index);
  });

  it('the host network named by the swarm’s own id, an id prefix a local network is named after, or the local id, is refused', async () => {
    // The swarm keeps its own "host" network, with an id of its own: an administrator's
    // service on it shows it.
    const probe = await adminService(fixtures.name('hostnet'), {
      networks: [{ target: 'host' }],
    });
    const swarmHost = must(probe.Spec.TaskTemplate.Networks?.[0]?.Target, 'host network id');
    const localHost = must(await inspectNetwork(fixtures.manager, 'host'), 'local host').Id;
    // A local network named as a prefix of the swarm's id: the engine resolves the name to it,
    // the swarm resolves the prefix to its host network.
    const prefix = swarmHost.slice(0, 6);
    const made = await deployer.execute(CreateNetwork, {
      input: { name: prefix, driver: 'bridge', labels },
    });
    expect(made.data?.createNetwork?.__typename).toBe('NetworkPayload');
    networks.push(prefix);
    for (const [index, target] of [swarmHost, prefix, localHost].entries()) {
      const name = fixtures.name(`hostnet-${index}`);
      const answer = await deployer.execute(CreateService, {
        input: serviceInput(name, { networks: [{ target }] }),
      });
      expect(answer.errors?.[0]?.extensions?.code, target).toBe('FORBIDDEN');
      expect(admissionControlsOf(answer.errors?.[0]), target).toEqual(['host-namespaces']);
      expect(await inspectService(fixtures.manager, name)).toBeNull();
    }
  });

  it('a token limited to labels may not attach a service to a network it cannot see', async () => {
    const hidden = fixtures.name('hidden-net');
    await createNetwork(fixtures.manager, {
      name: hidden,
      driver: 'overlay',
      labels: fixtures.labels(),
      checkDuplicate: true,
    });
    networks.push(hidden);
    // Refused as missing, before the admission review could describe the hidden network, to a
    // writer and to an admin (whose level would let any overlay network in).
    for (const app of [limited, limitedAdmin]) {
      const name = fixtures.name('spy');
      const answer = await app.query(CreateService, {
        input: serviceInput(name, { networks: [{ target: hidden }] }),
      });
      expect(answer.createService).toEqual({
        __typename: 'NotFoundError',
        message: `connect to network "${hidden}": network ${hidden} not found`,
      });
      expect(await inspectService(fixtures.manager, name)).toBeNull();
    }
    // Its own network it joins, sent by the id it was shown.
    const own = fixtures.name('own-net');
    const made = await limitedAdmin.execute(CreateNetwork, {
      input: { name: own, driver: 'overlay', labels },
    });
    expect(made.data?.createNetwork?.__typename).toBe('NetworkPayload');
    networks.push(own);
    const ownId = must(await inspectNetwork(fixtures.manager, own), 'network').Id;
    const name = fixtures.name('own-net-user');
    const created = await limitedAdmin.query(CreateService, {
      input: serviceInput(name, { networks: [{ target: own }] }),
    });
    expect(created.createService.__typename).toBe('ServicePayload');
    const spec = must(await inspectService(fixtures.manager, name), 'service').Spec;
    expect(spec.TaskTemplate.Networks?.map((network) => network.Target)).toEqual([ownId]);
  });

  it('a token limited to labels may not mount a volume it cannot see, and the volumes its services make carry its labels', async () => {
    const hidden = fixtures.name('hidden-vol');
    await createVolume(fixtures.manager, { name: hidden, labels: fixtures.labels() });
    volumes.push(hidden);
    const name = fixtures.name('thief');
    const answer = await limited.query(CreateService, {
      input: serviceInput(name, { mounts: [{ type: 'VOLUME', source: hidden, target: '/data' }] }),
    });
    expect(answer.createService).toEqual({
      __typename: 'InvalidInputError',
      message: expect.stringContaining(`the volume name "${hidden}" is already in use`),
    });
    expect(await inspectService(fixtures.manager, name)).toBeNull();

    const own = fixtures.name('own-vol');
    volumes.push(own);
    const ownService = fixtures.name('keeper');
    const created = await limited.query(CreateService, {
      input: serviceInput(ownService, {
        mounts: [{ type: 'VOLUME', source: own, target: '/data' }],
      }),
    });
    expect(created.createService.__typename).toBe('ServicePayload');
    const spec = must(await inspectService(fixtures.manager, ownService), 'service').Spec;
    expect(spec.TaskTemplate.ContainerSpec?.Mounts?.[0]?.VolumeOptions?.Labels).toEqual({ team });
    expect(await inspectVolume(fixtures.manager, own)).toBeNull();
  });

  it('removing or rotating a secret a hidden service mounts does not name that service to a token limited to labels', async () => {
    const shared = fixtures.name('shared-secret');
    const made = await admin.query(CreateSecret, {
      input: { name: shared, content: 'x', labels: [...labels, { name: 'team', value: team }] },
    });
    expect(made.createSecret.__typename).toBe('SecretPayload');
    const hidden = fixtures.name('other-team-user');
    await adminService(hidden, { secrets: [{ source: shared }] });
    const inUse = {
      __typename: 'ConflictError',
      message: `remove secret "${shared}": it is in use by a service`,
    };
    const removed = await limited.query(RemoveSecret, { id: shared });
    expect(removed.removeSecret).toEqual(inUse);
    // Refused before anything is made: no new secret is left behind.
    const rotated = await limitedAdmin.query(RotateSecret, {
      id: shared,
      input: { newName: `${shared}-v2`, content: 'y' },
    });
    expect(rotated.rotateSecret).toEqual(inUse);
    expect(await inspectSwarmBlob(fixtures.manager, 'secret', `${shared}-v2`)).toBeNull();
  });

  it('a token limited to labels finds no hidden service by name, id prefix or global ID, nor its tasks, secret or stack, and may not drop or change its own labels', async () => {
    const secret = fixtures.name('hidden-secret');
    const made = await admin.query(CreateSecret, { input: { name: secret, content: 'x', labels } });
    expect(made.createSecret.__typename).toBe('SecretPayload');
    const stack = fixtures.name('hidden-stack');
    const hidden = fixtures.name('hidden-svc');
    const service = await adminService(hidden, {
      labels: [...labels, { name: 'com.docker.stack.namespace', value: stack }],
      secrets: [{ source: secret }],
    });
    const gid = must((await admin.query(ServiceGlobalId, { id: hidden })).service, 'service').id;
    const view = await limited.query(LimitedLookups, {
      name: hidden,
      prefix: service.ID.slice(0, 12),
    });
    expect(view.byName).toBeNull();
    expect(view.byPrefix).toBeNull();
    expect(view.tasks.totalCount).toBe(0);
    expect(view.secrets.edges.map((edge) => edge.node.name)).not.toContain(secret);
    expect(view.stacks.edges.map((edge) => edge.node.name)).not.toContain(stack);
    // Named in a mutation, by name or global ID, it answers as missing.
    for (const { id, key } of [
      { id: hidden, key: hidden },
      { id: gid, key: service.ID },
    ]) {
      const changed = await limited.query(LimitedLabelChange, {
        id,
        input: { labelAdd: [{ name: 'team', value: team }] },
      });
      expect(changed.updateService).toEqual({
        __typename: 'NotFoundError',
        message: `service ${key} not found`,
      });
    }

    const own = fixtures.name('own-labels');
    const created = await limited.query(CreateService, { input: serviceInput(own) });
    expect(created.createService.__typename).toBe('ServicePayload');
    for (const input of [
      { labelRemove: ['team'] },
      { labelAdd: [{ name: 'team', value: 'someone-else' }] },
    ]) {
      const answer = await limited.query(LimitedLabelChange, { id: own, input });
      expect(answer.updateService.__typename).toBe('InvalidInputError');
    }
    const after = must(await inspectService(fixtures.manager, own), 'service');
    expect(after.Spec.Labels?.team).toBe(team);
  });

  it('a writer without "secrets" reads no config data through a service, an alias or a fragment, nor the join tokens or unlock key', async () => {
    const value = `config-value-${fixtures.run}`;
    const config = fixtures.name('conf');
    const made = await admin.query(CreateConfig, {
      input: { name: config, content: value, labels },
    });
    expect(made.createConfig.__typename).toBe('ConfigPayload');
    const name = fixtures.name('conf-user');
    await adminService(name, { configs: [{ source: config, target: '/conf' }] });
    const answer = await deployer.execute(ConfigThroughService, { id: name });
    const codes = new Set(answer.errors?.map((error) => error.extensions?.code));
    expect(codes).toEqual(new Set(['FORBIDDEN']));
    const denied = new Set(answer.errors?.map((error) => error.path?.at(-1)));
    expect(denied).toEqual(new Set(['leak', 'text', 'unlockKey', 'joinTokens']));
    const body = JSON.stringify(answer);
    expect(body).not.toContain(value);
    expect(body).not.toContain(Buffer.from(value).toString('base64'));
    expect(body).not.toContain('SWMTKN');
  });

  it('a writer without "secrets" may neither mount a secret or config into its tasks, nor change what runs where a service holds such values', async () => {
    const secret = fixtures.name('printed');
    const made = await admin.query(CreateSecret, { input: { name: secret, content: 'x', labels } });
    expect(made.createSecret.__typename).toBe('SecretPayload');
    // Mounted into a task that prints it, the secret would be in the service's logs.
    const printer = fixtures.name('printer');
    for (const [argument, input] of [
      [
        'input.secrets',
        serviceInput(printer, {
          command: ['cat', '/run/secrets/s'],
          secrets: [{ source: secret, target: 's' }],
        }),
      ],
      ['input.configs', serviceInput(printer, { configs: [{ source: secret, target: '/c' }] })],
    ] as const) {
      const refused = await deployer.execute(CreateService, { input });
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', argument });
      expect(refused.errors?.[0]?.message).toContain('"secrets" permission');
      expect(await inspectService(fixtures.manager, printer)).toBeNull();
    }
    // An administrator's service holding a password in its environment: a new command or image
    // would print it.
    const name = fixtures.name('env-holder');
    const service = await adminService(name, {
      env: [{ name: 'DB_PASSWORD', value: `pw-${fixtures.run}` }],
    });
    for (const input of [{ command: ['env'] }, { args: ['env'] }, { image: UPDATE_IMAGE }]) {
      const refused = await deployer.execute(UpdateService, { id: name, input });
      expect(refused.errors?.[0]?.extensions).toMatchObject({
        code: 'FORBIDDEN',
        argument: `input.${Object.keys(input)[0]}`,
      });
      expect(refused.errors?.[0]?.message).toContain('environment values');
    }
    const mount = await deployer.execute(UpdateService, {
      id: name,
      input: { secrets: [{ source: secret, target: 's' }] },
    });
    expect(mount.errors?.[0]?.extensions?.argument).toBe('input.secrets');
    const unchanged = must(await inspectService(fixtures.manager, name), 'service');
    expect(unchanged.Version.Index).toBe(service.Version.Index);
    // Its environment neither: a variable can send the password elsewhere (DB_HOST) or run
    // code (NODE_OPTIONS, LD_PRELOAD), and removing one can drop a safeguard.
    for (const input of [
      { env: [{ name: 'DB_HOST', value: 'collector.example' }] },
      { envRemove: ['DB_PASSWORD'] },
    ]) {
      const refused = await deployer.execute(UpdateService, { id: name, input });
      expect(refused.errors?.[0]?.extensions).toMatchObject({
        code: 'FORBIDDEN',
        argument: `input.${Object.keys(input)[0]}`,
      });
    }
    // What leaves what runs and its environment as they were stays the writer's: replicas.
    const scaled = await deployer.query(UpdateService, { id: name, input: { replicas: 0 } });
    expect(scaled.updateService.__typename).toBe('ServicePayload');
    // And an administrator, who holds "secrets", changes the command.
    const changed = await admin.query(UpdateService, { id: name, input: { command: ['env'] } });
    expect(changed.updateService.__typename).toBe('ServicePayload');
  });

  it('a writer without "secrets" may not empty the command or arguments of a service holding environment values: the tasks would run the image’s own', async () => {
    const name = fixtures.name('env-emptied');
    const service = await adminService(name, {
      env: [{ name: 'DB_PASSWORD', value: `pw-${fixtures.run}` }],
      args: ['3600'],
      command: ['sleep'],
    });
    for (const input of [{ command: [] }, { args: [] }]) {
      const refused = await deployer.execute(UpdateService, { id: name, input });
      expect(refused.errors?.[0]?.extensions).toMatchObject({
        code: 'FORBIDDEN',
        argument: `input.${Object.keys(input)[0]}`,
      });
    }
    const unchanged = must(await inspectService(fixtures.manager, name), 'service');
    expect(unchanged.Version.Index).toBe(service.Version.Index);
    expect(unchanged.Spec.TaskTemplate.ContainerSpec?.Command).toEqual(['sleep']);
  });

  it('an id prefix a hidden service shares finds, for a token limited to labels, its own service, and tells nothing of the hidden one', async () => {
    const own = fixtures.name('prefix-own');
    const created = await prefixed.query(CreateService, { input: serviceInput(own) });
    expect(created.createService.__typename).toBe('ServicePayload');
    const ownId = must(await inspectService(fixtures.manager, own), 'own service').ID;
    // Swarm ids are random: hidden services until one starts as the token's own does.
    let shared = '';
    for (let index = 0; index < 300 && shared === ''; index++) {
      const hidden = await adminService(fixtures.name(`prefix-hidden-${index}`));
      if (hidden.ID[0] === ownId[0]) shared = ownId.slice(0, 1);
    }
    expect(shared).not.toBe('');
    // The engine, asked, would answer that the prefix is ambiguous.
    const answer = await prefixed.execute(ServiceGlobalId, { id: shared });
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.service?.dockerId).toBe(ownId);
  });

  describe('live', () => {
    let live: LiveServer;
    let client: Client;

    beforeAll(async () => {
      live = await startLiveServer(inject('dockerHost'), { env });
      client = clientWithToken(live.server.url, tokens.team);
    });

    afterAll(async () => {
      await client?.dispose();
      await live?.close();
    });

    it('a token limited to labels follows its own service, and gets no event nor update of hidden services and secrets', async () => {
      const hidden = await adminService(fixtures.name('hidden-live'));
      const own = fixtures.name('own-live');
      const created = await limited.query(CreateService, { input: serviceInput(own) });
      const ownId = must(
        created.createService.__typename === 'ServicePayload'
          ? created.createService.service.dockerId
          : undefined,
        'own service',
      );
      type Event = { event: { actor: { id: string } } | null };
      type Update = { serviceId: string; service: { version: number } | null };
      const events = collectSubscription(
        'events',
        client.iterate<{ events: Event }>({ query: print(LimitedEvents) }),
      );
      const updates = collectSubscription(
        'serviceUpdated',
        client.iterate<{ serviceUpdated: Update }>({ query: print(LimitedServiceUpdates) }),
      );
      const first = await updates.until(
        (messages) => messages.find((message) => message.serviceId === ownId),
        30_000,
        'its own service',
      );
      const version = must(first.service, 'its own service').version;
      // The administrator changes a hidden service and makes a secret of other labels…
      await admin.query(UpdateService, {
        id: hidden.ID,
        input: { labelAdd: [{ name: 'touched', value: '1' }] },
      });
      const secret = fixtures.name('hidden-live-secret');
      const made = await admin.query(CreateSecret, {
        input: { name: secret, content: 'x', labels },
      });
      expect(made.createSecret.__typename).toBe('SecretPayload');
      // …then the token changes its own: its event comes after theirs, in the engine's order.
      const changed = await limited.query(UpdateService, {
        id: own,
        input: { labelAdd: [{ name: 'touched', value: '1' }] },
      });
      expect(changed.updateService.__typename).toBe('ServicePayload');
      await events.until(
        (messages) => messages.find((message) => message.event?.actor.id === ownId),
        30_000,
        'the event of its own service',
      );
      await updates.until(
        (messages) =>
          messages.find(
            (message) => message.serviceId === ownId && (message.service?.version ?? 0) > version,
          ),
        30_000,
        'its own service changed',
      );
      const seen = JSON.stringify([events.messages, updates.messages]);
      expect(seen).not.toContain(hidden.ID);
      expect(seen).not.toContain(secret);
      expect(events.errors).toEqual([]);
      expect(updates.errors).toEqual([]);
      await Promise.all([events.stop(), updates.stop()]);
    });
  });
});
