// Attacks on the admission policy (src/security/admission.ts, src/docker/admission-gate.ts) by a
// custom role with read, logs, lifecycle and write (no dangerous, no secrets), at the baseline
// level and at the restricted level. Each test states what the policy should guarantee and fails
// while the hole it names is open.
import { afterAll, describe, expect, it } from 'vitest';
import { reviewContainerCreate } from '../../src/security/admission.ts';
import { hashToken } from '../../src/security/principal.ts';
import { admissionControlsOf, randomToken, tokensEnv } from '../helpers/access.ts';
import { createTestApp, type GraphQLResponse, type TestApp } from '../helpers/app.ts';
import { BASE_IMAGE, EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { execInEngineNetns } from '../helpers/engine.ts';
import { waitFor } from '../helpers/wait-for.ts';

const PERMISSIONS = ['read', 'logs', 'lifecycle', 'write'];

function attackerEnv() {
  const baseline = randomToken();
  const restricted = randomToken();
  const env = {
    DOCKERGRAPH_TOKENS: JSON.stringify({
      roles: {
        attacker: PERMISSIONS,
        confined: { permissions: PERMISSIONS, admission: 'restricted' },
      },
      tokens: [
        { id: 'attacker', role: 'attacker', sha256: hashToken(baseline) },
        { id: 'confined', role: 'confined', sha256: hashToken(restricted) },
      ],
    }),
  };
  return { env, baseline, restricted };
}

type Answer = GraphQLResponse<Record<string, unknown>>;

async function gql(app: TestApp, query: string, variables: Record<string, unknown> = {}) {
  const answer = await app.post<Answer>({ query, variables });
  return answer.body;
}

const LOGS = `query ($id: String!) { container(idOrName: $id) { logs(timestamps: false) { lines { message } } } }`;

async function logsOf(app: TestApp, id: string): Promise<string> {
  const answer = await gql(app, LOGS, { id });
  const container = answer.data?.container as { logs: { lines: { message: string }[] } } | null;
  return (container?.logs.lines ?? []).map((line) => line.message).join('\n');
}

/**
 * Adds a veth pair, `parent` and `<parent>p`, in the engine's namespace: a host interface, as an
 * administrator's macvlan network would sit on one. The caller deletes `parent` (and so the pair).
 */
async function addHostInterface(parent: string): Promise<void> {
  const peer = `${parent}p`;
  await execInEngineNetns('ip', ['link', 'add', parent, 'type', 'veth', 'peer', 'name', peer]);
}

describe('admission attacks', () => {
  const fixtures = new EngineFixtures();
  const runLabel = { name: TEST_LABEL, value: fixtures.run };
  const { env, baseline, restricted } = attackerEnv();
  const attacker = createTestApp(env, { token: baseline });
  const confined = createTestApp(env, { token: restricted });

  afterAll(async () => {
    await fixtures.cleanup();
    await Promise.all([attacker.close(), confined.close()]);
  });

  // HOLE 1: the gate memoises one verdict per distinct write for the whole operation, and the
  // verdict of `networkMode: "container:<name>"` depends on which container <name> names at
  // review time. Two identical creates in one operation, with renames in between, make the
  // second create reuse the first verdict while <name> now names a host-network container.
  it('baseline: a second identical create in one operation is reviewed again (no memoised container: verdict)', async () => {
    // An administrator's monitoring agent on the host network (admitted at privileged).
    const agent = fixtures.name('agent');
    await fixtures.runContainer(agent, { HostConfig: { NetworkMode: 'host' } });
    // Refused on its own: the policy does know the agent is out of bounds.
    const direct = await gql(
      attacker,
      `mutation ($input: CreateContainerInput!) { createContainer(input: $input) { __typename } }`,
      { input: { image: BASE_IMAGE, labels: [runLabel], networkMode: `container:${agent}` } },
    );
    expect(direct.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const decoy = fixtures.name('decoy');
    const made = await gql(
      attacker,
      `mutation ($input: CreateContainerInput!) { createContainer(input: $input, start: true) { __typename } }`,
      { input: { image: BASE_IMAGE, name: decoy, labels: [runLabel], cmd: ['sleep', '3600'] } },
    );
    expect(made.errors).toBeUndefined();

    const spec = {
      image: BASE_IMAGE,
      labels: [runLabel],
      networkMode: `container:${decoy}`,
      cmd: ['cat', '/proc/net/dev'],
    };
    const answer = await gql(
      attacker,
      `mutation ($spec: CreateContainerInput!, $decoy: String!, $old: String!, $agent: String!) {
        a: createContainer(input: $spec) { __typename }
        r1: renameContainer(id: $decoy, newName: $old) { __typename }
        r2: renameContainer(id: $agent, newName: $decoy) { __typename }
        b: createContainer(input: $spec, start: true) {
          __typename
          ... on ContainerPayload { container { dockerId } }
          ... on MutationError { message }
        }
      }`,
      { spec, decoy, old: `${decoy}-old`, agent },
    );
    const second = answer.data?.b as { container?: { dockerId: string } } | null | undefined;
    if (second?.container) {
      const id = second.container.dockerId;
      let interfaces = '';
      await waitFor(
        async () => {
          interfaces = await logsOf(attacker, id);
          return interfaces.includes('lo:');
        },
        { timeoutMs: 20_000, what: 'the interface list' },
      );
      // docker0 is an interface of the engine host's own network namespace.
      expect(interfaces).not.toContain('docker0');
    } else {
      expect(answer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
  });

  // HOLE 2: createNetwork's IPAM config (subnet, gateway, ipRange) is not reviewed. A bridge
  // whose subnet is someone else's address (a public DNS resolver, a cloud metadata address, the
  // LAN's gateway) installs a more specific route on the host: the host's own traffic to that
  // address goes to the attacker's container.
  for (const level of ['baseline', 'restricted'] as const) {
    it(`${level}: a network may not take over host routes with its IPAM subnet`, async () => {
      const app = level === 'baseline' ? attacker : confined;
      const subnet = level === 'baseline' ? '8.8.8.0/24' : '1.1.1.0/24';
      const target = level === 'baseline' ? '8.8.8.8' : '1.1.1.1';
      const name = fixtures.name(`hijack-${level}`);
      const answer = await gql(
        app,
        `mutation ($input: CreateNetworkInput!) { createNetwork(input: $input) {
          __typename ... on NetworkPayload { network { dockerId } } ... on MutationError { message } } }`,
        {
          input: {
            name,
            labels: [runLabel],
            ipam: { config: [{ subnet, gateway: subnet.replace(/0\/24$/, '254') }] },
          },
        },
      );
      // Refused: the subnet is outside DOCKERGRAPH_NETWORK_POOLS (none are listed here), so the
      // engine host never routes ${target} to a bridge.
      expect(answer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(admissionControlsOf(answer.errors?.[0])).toContain('network-addresses');
      // The routes of the engine host that cover the target: none leads to a bridge.
      const routes = await execInEngineNetns('ip', ['route', 'show', 'match', target]);
      expect(routes.stdout).not.toMatch(/ dev br-/);
    });
  }

  it('baseline: a network over a public address, to receive the host’s own traffic to it, is refused', async () => {
    const name = fixtures.name('hijack-listen');
    const made = await gql(
      attacker,
      `mutation ($input: CreateNetworkInput!) { createNetwork(input: $input) { __typename } }`,
      {
        input: {
          name,
          labels: [runLabel],
          ipam: { config: [{ subnet: '9.9.9.0/24', gateway: '9.9.9.254' }] },
        },
      },
    );
    // Refused before the engine makes the bridge: nothing can listen on 9.9.9.9 for the host.
    expect(made.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(admissionControlsOf(made.errors?.[0])).toContain('network-addresses');
  });

  // HOLE 4: only `POST /networks/create` is reviewed for network drivers; creating a container on,
  // or connecting one to, an existing network is not. A network an administrator made on a host
  // interface (macvlan/ipvlan over the LAN NIC, a bridge over an existing host bridge) is open to
  // every writer, though the baseline level says "no host interface".
  it('baseline: a container may not join an existing macvlan network on a host interface', async () => {
    const parent = `dga${fixtures.run.slice(0, 6)}`;
    await addHostInterface(parent);
    await execInEngineNetns('ip', ['link', 'set', parent, 'up']);
    try {
      const lan = fixtures.name('admin-lan');
      await fixtures.createNetwork(lan, {
        Driver: 'macvlan',
        Options: { parent },
        IPAM: { Config: [{ Subnet: '192.168.77.0/24' }] },
      });
      // Refused when the attacker creates such a network itself.
      const own = await gql(
        attacker,
        `mutation ($input: CreateNetworkInput!) { createNetwork(input: $input) { __typename } }`,
        {
          input: {
            name: fixtures.name('own-lan'),
            labels: [runLabel],
            driver: 'macvlan',
            options: [{ name: 'parent', value: parent }],
          },
        },
      );
      expect(own.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const created = await gql(
        attacker,
        `mutation ($input: CreateContainerInput!) { createContainer(input: $input) {
          __typename ... on ContainerPayload { container { dockerId } } ... on MutationError { message } } }`,
        {
          input: {
            image: BASE_IMAGE,
            labels: [runLabel],
            network: { name: lan },
            cmd: ['sleep', '3600'],
          },
        },
      );
      const joined = (created.data?.createContainer as { container?: { dockerId: string } })
        ?.container;
      expect
        .soft({ joined: joined ?? null, errors: created.errors?.[0]?.extensions?.code })
        .toEqual({
          joined: null,
          errors: 'FORBIDDEN',
        });
      // And through connectContainerToNetwork.
      const plainId = await fixtures.createContainer(fixtures.name('plain'));
      const connect = await gql(
        attacker,
        `mutation ($network: String!, $container: String!) {
          connectContainerToNetwork(network: $network, container: $container) { __typename } }`,
        { network: lan, container: plainId },
      );
      expect.soft(connect.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    } finally {
      await execInEngineNetns('ip', ['link', 'del', parent]);
    }
  });

  // HOLE 5 (latent: restricted creates cannot be sent through GraphQL today, since no input sets
  // SecurityOpt): the restricted level's run-as-root check reads "0", "root" and "" only, while the
  // engine parses a numeric user with Go's Atoi, so "00" and "+0" run as uid 0.
  it('restricted: a numeric user spelled "00" or "+0" is root', async () => {
    for (const user of ['00', '+0']) {
      const body = {
        Image: BASE_IMAGE,
        User: user,
        Cmd: ['id', '-u'],
        HostConfig: {
          NetworkMode: 'none',
          CapDrop: ['ALL'],
          SecurityOpt: ['no-new-privileges'],
        },
      };
      const id = await fixtures.runContainer(
        fixtures.name(`uid-${user.replace('+', 'p')}`),
        body,
        true,
      );
      expect(await logsOf(attacker, id)).toBe('0');
      const findings = await reviewContainerCreate(
        body,
        'restricted',
        { bindAllowList: [], volumeDrivers: [], networkPools: [], registries: ['docker.io'] },
        {
          volume: async () => null,
          container: async () => null,
          network: async () => null,
          imageUser: async () => '',
        },
      );
      expect.soft(findings.map((item) => item.control)).toContain('run-as-root');
    }
  });

  // HOLE 3: pulls (and pushes) make the engine connect to any host:port the caller names; the
  // policy reviews none of it (searchImages refuses other registries for this very reason).
  for (const level of ['baseline', 'restricted'] as const) {
    it(`${level}: pullImage may not make the engine connect to an arbitrary host and port`, async () => {
      const app = level === 'baseline' ? attacker : confined;
      // Some internal service (here a container the administrator runs) on port 9999.
      const service = fixtures.name(`internal-${level}`);
      const serviceId = await fixtures.runContainer(service, {
        Cmd: ['sh', '-c', 'timeout 8 nc -l -p 9999 | head -c 3 | od -An -tx1; echo end'],
      });
      const inspect = await fixtures.engine.json<{ NetworkSettings: { IPAddress: string } }>(
        { path: `/containers/${serviceId}/json` },
        'inspect',
      );
      const address = inspect.NetworkSettings.IPAddress;
      await new Promise((resolve) => setTimeout(resolve, 500));
      const pull = await gql(
        app,
        `mutation ($reference: String!) { pullImage(reference: $reference) {
          __typename ... on MutationError { message } } }`,
        { reference: `${address}:9999/anything:1` },
      );
      await fixtures.waitContainer(serviceId);
      const logs = await logsOf(attacker, serviceId);
      // A TLS ClientHello (16 03 01) reached the internal service: the engine connected to it.
      expect({ logs, pull }).not.toMatchObject({ logs: expect.stringContaining('16 03') });
    });
  }

  // The docker-run inputs that reach the host, tried at the level that should refuse them and
  // through the ways around the review a hostile writer would try first.
  const CREATE = `mutation ($input: CreateContainerInput!) { createContainer(input: $input, start: true) {
    __typename ... on ContainerPayload { container { dockerId } } ... on MutationError { message } } }`;

  /** The container named `name`, as the engine has it; null when there is none. */
  async function engineContainer(name: string) {
    return fixtures.engine.jsonOrNull<{ Id: string }>(
      { path: `/containers/${name}/json` },
      `inspect ${name}`,
    );
  }

  /** Asks `app` to create (and start) container `name`, of this run, from the base image with `input`. */
  function create(app: TestApp, name: string, input: Record<string, unknown>) {
    return gql(app, CREATE, { input: { image: BASE_IMAGE, name, labels: [runLabel], ...input } });
  }

  /** The create of `name` was refused by `control`, and the engine holds no such container. */
  async function expectRefusedCreate(answer: Answer, name: string, control: string) {
    expect(answer.errors?.[0]?.extensions?.code, JSON.stringify(answer)).toBe('FORBIDDEN');
    expect(admissionControlsOf(answer.errors?.[0])).toContain(control);
    expect(await engineContainer(name)).toBeNull();
  }

  it('restricted: no-new-privileges may not be turned off again by a later security option', async () => {
    const name = fixtures.name('nnp-off');
    const answer = await create(confined, name, {
      user: '1000',
      capDrop: ['ALL'],
      // The engine reads the entries in order: the last one would leave the bit off.
      securityOptions: ['no-new-privileges', 'no-new-privileges:false'],
    });
    await expectRefusedCreate(answer, name, 'security-options');
  });

  for (const [level, app] of [
    ['baseline', attacker],
    ['restricted', confined],
  ] as const) {
    const confinedInput = { user: '1000', capDrop: ['ALL'], noNewPrivileges: true };
    const attempts: { what: string; control: string; input: Record<string, unknown> }[] = [
      {
        what: 'the host kernel log through a device',
        control: 'devices',
        input: { devices: [{ pathOnHost: '/dev/kmsg' }], cmd: ['head', '-c', '1', '/dev/kmsg'] },
      },
      {
        what: 'every block device through a device cgroup rule',
        control: 'devices',
        input: { deviceCgroupRules: ['b *:* rwm'] },
      },
      {
        what: 'the host core pattern (runs a program on the host at every crash)',
        control: 'sysctls',
        input: { sysctls: [{ name: 'kernel.core_pattern', value: '|/tmp/x' }] },
      },
      {
        what: 'an unconfined seccomp profile',
        control: 'security-options',
        input: { securityOptions: ['seccomp=unconfined'] },
      },
      {
        what: 'an allow-all seccomp profile given as JSON',
        control: 'security-options',
        input: { securityOptions: ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}'] },
      },
      {
        what: 'no AppArmor profile',
        control: 'security-options',
        input: { securityOptions: ['apparmor=unconfined'] },
      },
      {
        what: 'no SELinux labels',
        control: 'security-options',
        input: { securityOptions: ['label=disable'] },
      },
      {
        what: 'logs sent to a host of its choosing',
        control: 'engine-settings',
        input: {
          logConfig: {
            driver: 'gelf',
            options: [{ name: 'gelf-address', value: 'udp://10.9.9.9:12201' }],
          },
        },
      },
      {
        what: 'real-time priority ahead of the host',
        control: 'engine-settings',
        input: { ulimits: [{ name: 'rtprio', soft: -1, hard: -1 }] },
      },
      {
        what: 'a /dev/shm of 64 GiB without a memory limit',
        control: 'shm-size',
        input: { shmSizeBytes: 64 * 1024 * 1024 * 1024 },
      },
    ];
    for (const attempt of attempts) {
      it(`${level}: ${attempt.what} is refused (${attempt.control})`, async () => {
        const name = fixtures.name(`run-${attempt.control}`);
        const answer = await create(app, name, {
          ...(level === 'restricted' ? confinedInput : {}),
          ...attempt.input,
        });
        await expectRefusedCreate(answer, name, attempt.control);
      });
    }
  }

  it('baseline: a net.* sysctl may not reach into another container’s network namespace', async () => {
    // A container the attacker may run itself; sharing its namespace is admitted, but a sysctl
    // set through the sharer would change the other container's network.
    const victim = fixtures.name('sysctl-victim');
    await fixtures.runContainer(victim);
    const name = fixtures.name('sysctl-sharer');
    const answer = await create(attacker, name, {
      networkMode: `container:${victim}`,
      sysctls: [{ name: 'net.ipv4.ip_forward', value: '1' }],
    });
    await expectRefusedCreate(answer, name, 'sysctls');
    expect(admissionControlsOf(answer.errors?.[0])).toEqual(['sysctls']);
  });

  it('baseline: a host-interface network given second (connected after the create) is refused before anything is made', async () => {
    const parent = `dgb${fixtures.run.slice(0, 6)}`;
    await addHostInterface(parent);
    try {
      const lan = fixtures.name('admin-macvlan');
      await fixtures.createNetwork(lan, { Driver: 'macvlan', Options: { parent } });
      const name = fixtures.name('second-net');
      const answer = await create(attacker, name, {
        networks: [{ name: 'bridge' }, { name: lan }],
      });
      await expectRefusedCreate(answer, name, 'network-drivers');
    } finally {
      await execInEngineNetns('ip', ['link', 'del', parent]);
    }
  });

  it('a token limited to labels may not take the volumes of a container it cannot see', async () => {
    const limitedToken = randomToken();
    const limited = createTestApp(
      tokensEnv([
        {
          id: 'team',
          role: 'admin',
          token: limitedToken,
          labels: { [TEST_LABEL]: fixtures.run, team: 'a' },
        },
      ]),
      { token: limitedToken },
    );
    try {
      const hidden = fixtures.name('hidden-data');
      await fixtures.createContainer(hidden, { Volumes: { '/secrets': {} } });
      const attempt = async (container: string) =>
        gql(limited, CREATE, {
          input: {
            image: BASE_IMAGE,
            name: fixtures.name('thief'),
            volumesFrom: [{ container }],
          },
        });
      const hiddenAnswer = await attempt(hidden);
      const missingName = fixtures.name('no-such-container');
      const missingAnswer = await attempt(missingName);
      const payload = hiddenAnswer.data?.createContainer as { __typename: string; message: string };
      expect(payload.__typename, JSON.stringify(hiddenAnswer)).toBe('NotFoundError');
      // The same answer as for a container that does not exist, but for the name.
      const missing = missingAnswer.data?.createContainer as {
        __typename: string;
        message: string;
      };
      expect(missing.__typename).toBe('NotFoundError');
      expect(payload.message.replaceAll(hidden, 'X')).toBe(
        missing.message.replaceAll(missingName, 'X'),
      );
    } finally {
      await limited.close();
    }
  });
});
