// Every mutation of the schema, and every subscription that writes, under the two admission
// levels below privileged: a role with read, logs, lifecycle, secrets and write ("baseline", the
// default) and the same permissions with "admission": "restricted". The fields come from the
// built schema and each must have an entry in the table below, or this test fails naming it:
// - `admission`: inputs each level must refuse (FORBIDDEN, `admissionLevel` that level, the
//   finding's control, no engine write); inputs only `restricted` refuses are admitted at
//   `baseline`, which shows where the levels differ;
// - `dangerous`: the field needs the "dangerous" permission, so both levels are refused by
//   permission before any engine call;
// - `admitted`: the field acts on objects admitted when they were made (or sends nothing the
//   policy reviews); the reason is stated, and the field runs harmlessly, not FORBIDDEN.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permissionsFor } from '../../src/schema/access-rules.ts';
import { schema } from '../../src/schema/index.ts';
import type { AdmissionControl } from '../../src/security/admission.ts';
import type { Permission } from '../../src/security/roles.ts';
import {
  type ArgumentSamples,
  admissionControlsOf,
  harmlessOperation,
  harmlessSamples,
  type RootFieldOperation,
  randomToken,
  rootFieldNames,
  rootFieldOperation,
  sendOperation,
  tokensEnv,
} from '../helpers/access.ts';
import { createTestApp, type GraphQLResponse, type TestApp } from '../helpers/app.ts';
import { BASE_IMAGE, EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { clientWithToken, firstAnswer } from '../helpers/graphql-ws.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';

type Level = 'baseline' | 'restricted';
const LEVELS: readonly Level[] = ['baseline', 'restricted'];

/** Objects the table's inputs name, made by an administrator (the fixtures) before the tests. */
interface Objects {
  readonly runLabel: { name: string; value: string };
  /** A name unique to this run. */
  name(base: string): string;
  /** A container running with the host's PID namespace. */
  readonly hostPid: string;
  /** A container holding a host device. */
  readonly withDevice: string;
  /** A local volume bound over the host root. */
  readonly rootVolume: string;
  /** An ordinary container. */
  readonly plain: string;
  /** A folder in the bind allow-list, writable (":rw"). */
  readonly allowed: string;
  /** A plain user-defined bridge network. */
  readonly lan: string;
}

/** One input refused from `level` up. */
interface RefusedInput {
  readonly what: string;
  /** The lowest level that refuses it: `baseline` ones are refused by `restricted` too. */
  readonly from: Level;
  /** The control whose finding the refusal holds. */
  readonly control: AdmissionControl;
  readonly args: (objects: Objects) => ArgumentSamples;
}

type Entry =
  | { readonly kind: 'admission'; readonly inputs: readonly RefusedInput[] }
  | { readonly kind: 'dangerous' }
  | {
      readonly kind: 'admitted';
      readonly reason: string;
      /** Arguments to run it with instead of the harmless samples of test/helpers/access.ts. */
      readonly args?: (objects: Objects) => ArgumentSamples;
    };

/** What a restricted container needs besides a non-root user. */
const confined = { capDrop: ['ALL'], noNewPrivileges: true };

/** The input of a create named for this run and carrying its label. */
const named = (
  objects: Objects,
  name: string,
  input: Readonly<Record<string, unknown>>,
): ArgumentSamples => ({
  input: { name: objects.name(name), labels: [objects.runLabel], ...input },
});

const network = named;

/** A container's input, and a service's: both name the image they run. */
const container = (
  objects: Objects,
  name: string,
  input: Readonly<Record<string, unknown>>,
): ArgumentSamples => named(objects, name, { image: BASE_IMAGE, ...input });

const service = container;

const volume = (
  objects: Objects,
  name: string,
  options: Readonly<Record<string, string>>,
  driver?: string,
): ArgumentSamples =>
  named(objects, name, {
    ...(driver ? { driver } : {}),
    driverOptions: Object.entries(options).map(([key, value]) => ({ name: key, value })),
  });

const ACTS_ON_A_CONTAINER = 'acts on a container that was admitted when it was created';

const MUTATIONS: Readonly<Record<string, Entry>> = {
  createContainer: {
    kind: 'admission',
    inputs: [
      {
        what: 'privileged',
        from: 'baseline',
        control: 'privileged',
        args: (o) => container(o, 'lv-privileged', { privileged: true, user: '1000', ...confined }),
      },
      {
        what: 'host network',
        from: 'baseline',
        control: 'host-namespaces',
        args: (o) => container(o, 'lv-hostnet', { networkMode: 'host', user: '1000', ...confined }),
      },
      {
        what: 'host PID, through a container that has it',
        from: 'baseline',
        control: 'shared-namespaces',
        args: (o) =>
          container(o, 'lv-hostpid', {
            networkMode: `container:${o.hostPid}`,
            user: '1000',
            ...confined,
          }),
      },
      {
        what: 'a host device, through a container that has it',
        from: 'baseline',
        control: 'shared-namespaces',
        args: (o) =>
          container(o, 'lv-device', {
            networkMode: `container:${o.withDevice}`,
            user: '1000',
            ...confined,
          }),
      },
      {
        what: 'SYS_ADMIN',
        from: 'baseline',
        control: 'capabilities',
        args: (o) => container(o, 'lv-sysadmin', { capAdd: ['SYS_ADMIN'] }),
      },
      {
        what: 'a bind outside the allow-list',
        from: 'baseline',
        control: 'host-paths',
        args: (o) =>
          container(o, 'lv-bind-etc', {
            user: '1000',
            ...confined,
            mounts: [{ type: 'BIND', source: '/etc', target: '/etc-host', readOnly: true }],
          }),
      },
      {
        what: 'a volume bound over the host root',
        from: 'baseline',
        control: 'host-paths',
        args: (o) =>
          container(o, 'lv-root-volume', {
            user: '1000',
            ...confined,
            mounts: [{ type: 'VOLUME', source: o.rootVolume, target: '/host' }],
          }),
      },
      {
        what: 'a host device',
        from: 'baseline',
        control: 'devices',
        args: (o) =>
          container(o, 'lv-dev', {
            user: '1000',
            ...confined,
            devices: [{ pathOnHost: '/dev/kmsg' }],
          }),
      },
      {
        what: 'a device cgroup rule',
        from: 'baseline',
        control: 'devices',
        args: (o) =>
          container(o, 'lv-devrule', {
            user: '1000',
            ...confined,
            deviceCgroupRules: ['b *:* rwm'],
          }),
      },
      ...[
        'seccomp=unconfined',
        'apparmor=unconfined',
        'label=disable',
        'systempaths=unconfined',
      ].map(
        (option): RefusedInput => ({
          what: `security option ${option}`,
          from: 'baseline',
          control: 'security-options',
          args: (o) =>
            container(o, `lv-secopt-${option.split('=')[0]}`, {
              user: '1000',
              ...confined,
              securityOptions: [option],
            }),
        }),
      ),
      {
        what: 'a sysctl of the host kernel',
        from: 'baseline',
        control: 'sysctls',
        args: (o) =>
          container(o, 'lv-sysctl', {
            user: '1000',
            ...confined,
            sysctls: [{ name: 'kernel.core_pattern', value: '|/bin/sh' }],
          }),
      },
      {
        what: 'volumes from a container holding a host device',
        from: 'baseline',
        control: 'shared-namespaces',
        args: (o) =>
          container(o, 'lv-volfrom', {
            user: '1000',
            ...confined,
            volumesFrom: [{ container: o.withDevice }],
          }),
      },
      {
        what: 'a log driver that sends logs off the engine',
        from: 'baseline',
        control: 'engine-settings',
        args: (o) =>
          container(o, 'lv-syslog', { user: '1000', ...confined, logConfig: { driver: 'syslog' } }),
      },
      {
        what: 'real-time priority',
        from: 'baseline',
        control: 'engine-settings',
        args: (o) =>
          container(o, 'lv-rtprio', {
            user: '1000',
            ...confined,
            ulimits: [{ name: 'rtprio', soft: 99, hard: 99 }],
          }),
      },
      {
        what: 'a /dev/shm beyond the memory limit',
        from: 'baseline',
        control: 'shm-size',
        args: (o) =>
          container(o, 'lv-shm', {
            user: '1000',
            ...confined,
            shmSizeBytes: 8 * 1024 * 1024 * 1024,
          }),
      },
      {
        what: 'a fixed IPv6 address on a second network, outside the pools',
        from: 'baseline',
        control: 'network-addresses',
        args: (o) =>
          container(o, 'lv-ipv6', {
            user: '1000',
            ...confined,
            networks: [{ name: 'bridge' }, { name: o.lan, ipv6Address: '2001:db8::66' }],
          }),
      },
      {
        what: 'running as root (the image sets no user)',
        from: 'restricted',
        control: 'run-as-root',
        args: (o) => container(o, 'lv-root', { ...confined }),
      },
      {
        what: 'capabilities not dropped',
        from: 'restricted',
        control: 'capabilities',
        args: (o) => container(o, 'lv-caps', { user: '1000', noNewPrivileges: true }),
      },
      {
        what: 'no no-new-privileges',
        from: 'restricted',
        control: 'security-options',
        args: (o) => container(o, 'lv-nnp', { user: '1000', capDrop: ['ALL'] }),
      },
      {
        what: 'a host bind, even allow-listed',
        from: 'restricted',
        control: 'host-paths',
        args: (o) =>
          container(o, 'lv-allowed-bind', {
            user: '1000',
            ...confined,
            mounts: [{ type: 'BIND', source: o.allowed, target: '/data', readOnly: true }],
          }),
      },
    ],
  },
  createVolume: {
    kind: 'admission',
    inputs: [
      {
        what: 'a bind of a host folder outside the allow-list',
        from: 'baseline',
        control: 'host-paths',
        args: (o) => volume(o, 'lv-etc', { type: 'none', o: 'bind', device: '/etc' }),
      },
      {
        what: 'an overlay of host folders',
        from: 'baseline',
        control: 'volume-drivers',
        args: (o) =>
          volume(o, 'lv-overlay', { type: 'overlay', device: 'overlay', o: 'lowerdir=/etc' }),
      },
      {
        what: 'a driver not listed',
        from: 'baseline',
        control: 'volume-drivers',
        args: (o) => volume(o, 'lv-driver', {}, 'rexray'),
      },
      {
        what: 'a bind of a writable allow-listed folder',
        from: 'restricted',
        control: 'host-paths',
        args: (o) => volume(o, 'lv-allowed', { type: 'none', o: 'bind', device: o.allowed }),
      },
    ],
  },
  createNetwork: {
    kind: 'admission',
    inputs: [
      {
        what: 'a driver on a host interface (macvlan)',
        from: 'baseline',
        control: 'network-drivers',
        args: (o) => network(o, 'lv-macvlan', { driver: 'macvlan' }),
      },
      {
        what: 'an existing host bridge',
        from: 'baseline',
        control: 'network-drivers',
        args: (o) =>
          network(o, 'lv-bridge', {
            options: [{ name: 'com.docker.network.bridge.name', value: 'lo' }],
          }),
      },
    ],
  },
  updateContainer: {
    kind: 'admitted',
    reason:
      'its inputs reach only resource limits and the restart policy, which reviewContainerUpdate admits (it refuses devices and fields it does not know, which no input sends)',
    args: (o) => ({
      id: o.plain,
      input: { resources: { pidsLimit: 200 }, restartPolicy: { name: 'NO' } },
    }),
  },
  startContainer: { kind: 'admitted', reason: ACTS_ON_A_CONTAINER },
  stopContainer: { kind: 'admitted', reason: ACTS_ON_A_CONTAINER },
  restartContainer: { kind: 'admitted', reason: ACTS_ON_A_CONTAINER },
  killContainer: { kind: 'admitted', reason: ACTS_ON_A_CONTAINER },
  pauseContainer: { kind: 'admitted', reason: ACTS_ON_A_CONTAINER },
  unpauseContainer: { kind: 'admitted', reason: ACTS_ON_A_CONTAINER },
  waitContainer: { kind: 'admitted', reason: ACTS_ON_A_CONTAINER },
  renameContainer: { kind: 'admitted', reason: ACTS_ON_A_CONTAINER },
  removeContainer: { kind: 'admitted', reason: 'removes an object' },
  removeImage: { kind: 'admitted', reason: 'removes an object' },
  removeVolume: { kind: 'admitted', reason: 'removes an object' },
  updateVolume: {
    kind: 'admitted',
    reason: 'changes the availability of a cluster volume; runs nothing',
  },
  removeNetwork: { kind: 'admitted', reason: 'removes an object' },
  pruneContainers: { kind: 'admitted', reason: 'removes unused objects' },
  pruneImages: { kind: 'admitted', reason: 'removes unused objects' },
  pruneVolumes: { kind: 'admitted', reason: 'removes unused objects' },
  pruneNetworks: { kind: 'admitted', reason: 'removes unused objects' },
  connectContainerToNetwork: {
    kind: 'admitted',
    reason: 'joins an admitted container to a network reviewed when it was created',
  },
  disconnectContainerFromNetwork: { kind: 'admitted', reason: 'takes a network away' },
  commitContainer: {
    kind: 'admitted',
    reason:
      'makes an image of an admitted container and runs nothing; it needs "secrets" besides "write", which these roles hold',
  },
  pullImage: {
    kind: 'admission',
    inputs: [
      {
        what: 'a registry not in DOCKERGRAPH_REGISTRIES',
        from: 'baseline',
        control: 'registries',
        args: () => ({ reference: 'registry.invalid:5000/tools/shell:1' }),
      },
    ],
  },
  pushImage: { kind: 'admitted', reason: 'sends an image; runs nothing' },
  checkRegistryLogin: {
    kind: 'admission',
    inputs: [
      {
        what: 'a registry not in DOCKERGRAPH_REGISTRIES',
        from: 'baseline',
        control: 'registries',
        args: () => ({ registry: 'registry.invalid:5000', username: 'u', password: 'p' }),
      },
    ],
  },
  tagImage: { kind: 'admitted', reason: 'names an image; runs nothing' },
  // The engine of this suite is no swarm manager: a service spec is reviewed before it is
  // sent, so a refusal shows here; what the engine then does is tested on a real swarm
  // (test/swarm).
  createService: {
    kind: 'admission',
    inputs: [
      {
        what: 'a host bind mount',
        from: 'baseline',
        control: 'host-paths',
        args: (o) =>
          service(o, 'lv-svc-bind', {
            mounts: [{ type: 'BIND', source: '/etc', target: '/host-etc' }],
          }),
      },
      {
        what: 'an added capability',
        from: 'baseline',
        control: 'capabilities',
        args: (o) => service(o, 'lv-svc-caps', { capAdd: ['SYS_ADMIN'] }),
      },
      {
        what: 'the host network',
        from: 'baseline',
        control: 'host-namespaces',
        args: (o) => service(o, 'lv-svc-hostnet', { networks: [{ target: 'host' }] }),
      },
    ],
  },
  updateService: {
    kind: 'admitted',
    reason:
      'sends the reviewed spec of createService once it has read the current one, which needs a swarm: refusals are tested in test/swarm/services.test.ts',
  },
  scaleService: { kind: 'admitted', reason: 'changes how many tasks an admitted service runs' },
  rollbackService: {
    kind: 'admitted',
    reason:
      'returns a service to the previous spec the swarm keeps, which needs a swarm: that spec is reviewed, refusals are tested in test/swarm/attacks-2026-12-swarm.test.ts',
  },
  removeService: { kind: 'admitted', reason: 'removes an object' },
  createSecret: { kind: 'admitted', reason: 'stores data; runs nothing' },
  rotateSecret: { kind: 'admitted', reason: 'stores data; runs nothing' },
  removeSecret: { kind: 'admitted', reason: 'removes an object' },
  createConfig: { kind: 'admitted', reason: 'stores data; runs nothing' },
  rotateConfig: { kind: 'admitted', reason: 'stores data; runs nothing' },
  removeConfig: { kind: 'admitted', reason: 'removes an object' },
  updateSwarmNode: {
    kind: 'admitted',
    reason: "changes a node's role, availability or labels; runs nothing",
  },
  removeSwarmNode: { kind: 'admitted', reason: 'removes an object' },
  initSwarm: { kind: 'dangerous' },
  joinSwarm: { kind: 'dangerous' },
  leaveSwarm: { kind: 'dangerous' },
  updateSwarm: { kind: 'dangerous' },
  unlockSwarm: { kind: 'dangerous' },
  execInContainer: { kind: 'dangerous' },
  execDetached: { kind: 'dangerous' },
  copyToContainer: { kind: 'dangerous' },
  buildImage: { kind: 'dangerous' },
  installPlugin: { kind: 'dangerous' },
  enablePlugin: { kind: 'dangerous' },
  disablePlugin: { kind: 'dangerous' },
  configurePlugin: { kind: 'dangerous' },
  upgradePlugin: { kind: 'dangerous' },
  removePlugin: { kind: 'dangerous' },
  pruneBuildCache: { kind: 'dangerous' },
  importImage: { kind: 'dangerous' },
  loadImages: { kind: 'dangerous' },
};

/** Subscriptions that write (their field needs `write` or `dangerous`). */
const SUBSCRIPTIONS: Readonly<Record<string, Entry>> = {
  pullImageProgress: {
    kind: 'admitted',
    reason:
      'pulls from a listed registry (the sample one is listed); unlisted ones are refused as pullImage shows',
  },
  buildImageProgress: { kind: 'dangerous' },
};

const PERMISSIONS: readonly Permission[] = ['read', 'logs', 'lifecycle', 'secrets', 'write'];

const mutations = rootFieldNames(schema, 'Mutation');
const writingSubscriptions = rootFieldNames(schema, 'Subscription').filter((field) =>
  (permissionsFor('Subscription', field) ?? []).some(
    (permission) => permission === 'write' || permission === 'dangerous',
  ),
);

/** The entry of a field; the test fails naming a field without one. */
function entryOf(kind: 'Mutation' | 'Subscription', field: string): Entry {
  const entry = (kind === 'Mutation' ? MUTATIONS : SUBSCRIPTIONS)[field];
  if (!entry) {
    throw new Error(
      `${kind}.${field} has no entry in the admission table of test/integration/admission-levels.test.ts`,
    );
  }
  return entry;
}

type Answer = GraphQLResponse<unknown>;

/** Whether the field itself answered (a payload, a typed error, an error of its own). */
function reached(answer: Answer, field: string): boolean {
  const data = answer.data as Record<string, unknown> | null | undefined;
  return (
    (data?.[field] !== undefined && data?.[field] !== null) ||
    (answer.errors !== undefined &&
      answer.errors.length > 0 &&
      answer.errors.every((error) => error.path?.[0] === field))
  );
}

function expectNotForbidden(answer: Answer, what: string, field: string) {
  const detail = `${what}: ${JSON.stringify(answer)}`;
  expect(
    (answer.errors ?? []).map((error) => error.extensions?.code),
    detail,
  ).not.toContain('FORBIDDEN');
  expect(reached(answer, field), detail).toBe(true);
}

function expectForbiddenByPermission(answer: Answer, what: string, level: Level, field: string) {
  expect(answer.errors, what).toHaveLength(1);
  expect(answer.errors?.[0]?.extensions?.code, what).toBe('FORBIDDEN');
  expect(answer.errors?.[0]?.extensions?.admissionLevel, what).toBeUndefined();
  expect(answer.errors?.[0]?.message, what).toBe(
    `token "${level}" (role "${level === 'baseline' ? 'writer' : 'restricted-writer'}") may not use ${field}: it needs the "dangerous" permission`,
  );
}

describe('the admission table', () => {
  it('has an entry for every mutation and every subscription that writes, and no other', () => {
    const missing = [
      ...mutations.filter((field) => !MUTATIONS[field]).map((field) => `Mutation.${field}`),
      ...writingSubscriptions
        .filter((field) => !SUBSCRIPTIONS[field])
        .map((field) => `Subscription.${field}`),
    ];
    expect(missing, 'fields without an entry in the admission table').toEqual([]);
    expect(Object.keys(MUTATIONS).filter((field) => !mutations.includes(field))).toEqual([]);
    expect(
      Object.keys(SUBSCRIPTIONS).filter((field) => !writingSubscriptions.includes(field)),
    ).toEqual([]);
  });

  it('marks as dangerous exactly the fields that need the dangerous permission', () => {
    for (const [kind, table] of [
      ['Mutation', MUTATIONS],
      ['Subscription', SUBSCRIPTIONS],
    ] as const) {
      for (const [field, entry] of Object.entries(table)) {
        const needsDangerous = (permissionsFor(kind, field) ?? []).includes('dangerous');
        expect(entry.kind === 'dangerous', `${kind}.${field}`).toBe(needsDangerous);
      }
    }
  });

  it('has baseline inputs in every admission entry, and restricted-only ones somewhere', () => {
    const levels = Object.entries(MUTATIONS).flatMap(([field, entry]) => {
      if (entry.kind !== 'admission') return [];
      expect(
        entry.inputs.some((input) => input.from === 'baseline'),
        field,
      ).toBe(true);
      return entry.inputs.map((input) => input.from);
    });
    expect(new Set(levels)).toEqual(new Set(LEVELS));
  });
});

describe('admission levels', () => {
  const fixtures = new EngineFixtures();
  const samples = harmlessSamples(randomUUID().slice(0, 8));
  const allowed = mkdtempSync(join(tmpdir(), 'dg-levels-'));
  const tokens: Record<Level, string> = { baseline: randomToken(), restricted: randomToken() };
  const env = {
    ...tokensEnv(
      [
        { id: 'baseline', role: 'writer', token: tokens.baseline },
        { id: 'restricted', role: 'restricted-writer', token: tokens.restricted },
      ],
      {
        writer: PERMISSIONS,
        'restricted-writer': { permissions: PERMISSIONS, admission: 'restricted' },
      },
    ),
    DOCKERGRAPH_BIND_ALLOWLIST: `${allowed}:rw`,
    // The harmless pull sample names 127.0.0.1:1, where nothing listens.
    DOCKERGRAPH_REGISTRIES: 'docker.io,127.0.0.1:1',
  };
  const apps: Record<Level, TestApp> = {
    baseline: createTestApp(env, { token: tokens.baseline }),
    restricted: createTestApp(env, { token: tokens.restricted }),
  };
  const objects: Objects = {
    runLabel: { name: TEST_LABEL, value: fixtures.run },
    name: (base) => fixtures.name(base),
    hostPid: fixtures.name('lv-fixture-hostpid'),
    withDevice: fixtures.name('lv-fixture-device'),
    rootVolume: fixtures.name('lv-fixture-root'),
    plain: fixtures.name('lv-fixture-plain'),
    allowed,
    lan: fixtures.name('lv-fixture-lan'),
  };

  beforeAll(async () => {
    await fixtures.createContainer(objects.hostPid, { HostConfig: { PidMode: 'host' } });
    await fixtures.createContainer(objects.withDevice, {
      HostConfig: {
        Devices: [
          { PathOnHost: '/dev/null', PathInContainer: '/dev/host-null', CgroupPermissions: 'rwm' },
        ],
      },
    });
    await fixtures.createContainer(objects.plain);
    await fixtures.createNetwork(objects.lan);
    await fixtures.createVolume(objects.rootVolume, {
      Driver: 'local',
      DriverOpts: { type: 'none', o: 'bind', device: '/' },
    });
  });

  afterAll(async () => {
    await fixtures.cleanup();
    await Promise.all(LEVELS.map((level) => apps[level].close()));
    rmSync(allowed, { recursive: true, force: true });
  });

  async function send(level: Level, operation: RootFieldOperation) {
    const app = apps[level];
    let sent: { status: number; answer: Answer } | undefined;
    const calls = await app.callsDuring(async () => {
      sent = await sendOperation(app, tokens[level], operation);
    });
    if (!sent) throw new Error('no answer');
    return { ...sent, calls, writes: calls.filter((call) => !/^(?:GET|HEAD) /.test(call)) };
  }

  const cases = mutations.flatMap((field) => {
    const entry = MUTATIONS[field];
    if (entry?.kind !== 'admission') return [{ field, what: entry?.kind ?? 'no entry' }];
    return entry.inputs.map((input) => ({ field, what: input.what }));
  });

  it.each(cases)('Mutation.$field: $what', async ({ field, what }) => {
    const entry = entryOf('Mutation', field);
    if (entry.kind === 'dangerous') {
      const operation = harmlessOperation(schema, samples, 'Mutation', field);
      for (const level of LEVELS) {
        const { answer, status, calls } = await send(level, operation);
        expectForbiddenByPermission(answer, `${field} at ${level}`, level, `Mutation.${field}`);
        expect(status).toBe(403);
        expect(calls).toEqual([]);
      }
      return;
    }
    if (entry.kind === 'admitted') {
      const operation = entry.args
        ? rootFieldOperation(schema, 'Mutation', field, entry.args(objects), samples.missing)
        : harmlessOperation(schema, samples, 'Mutation', field);
      for (const level of LEVELS) {
        const { answer } = await send(level, operation);
        expectNotForbidden(answer, `${field} at ${level} (${entry.reason})`, field);
      }
      return;
    }
    const input = entry.inputs.find((candidate) => candidate.what === what);
    if (!input) throw new Error(`no input "${what}" for ${field}`);
    for (const level of LEVELS) {
      const operation = rootFieldOperation(
        schema,
        'Mutation',
        field,
        input.args(objects),
        samples.missing,
      );
      const { answer, status, writes } = await send(level, operation);
      const label = `${field} (${what}) at ${level}: ${JSON.stringify(answer)}`;
      if (level === 'baseline' && input.from === 'restricted') {
        // Where the levels differ: baseline admits what only restricted refuses.
        expectNotForbidden(answer, label, field);
        expect((answer.data as Record<string, { __typename?: string }>)[field]?.__typename).toMatch(
          /Payload$/,
        );
        continue;
      }
      expect(answer.errors, label).toHaveLength(1);
      const [error] = answer.errors ?? [];
      expect(error?.extensions?.code, label).toBe('FORBIDDEN');
      expect(status, label).toBe(403);
      expect(error?.extensions?.admissionLevel, label).toBe(level);
      expect(error?.message, label).toContain(`the "${level}" admission level refuses`);
      expect(admissionControlsOf(error), label).toContain(input.control);
      expect(writes, label).toEqual([]);
    }
  });

  it('admits at restricted a container that runs confined as a non-root user', async () => {
    const operation = rootFieldOperation(
      schema,
      'Mutation',
      'createContainer',
      container(objects, 'lv-confined', { user: '1000:1000', ...confined }),
      samples.missing,
    );
    const { answer } = await send('restricted', operation);
    expect(answer.errors, JSON.stringify(answer)).toBeUndefined();
    expect((answer.data as { createContainer: { __typename: string } }).createContainer).toEqual({
      __typename: 'ContainerPayload',
    });
  });

  describe('subscriptions that write, over WebSocket', () => {
    let live: LiveServer;
    const clients = new Map<Level, Client>();

    beforeAll(async () => {
      live = await startLiveServer(undefined, { env });
      for (const level of LEVELS)
        clients.set(level, clientWithToken(live.server.url, tokens[level]));
    });

    afterAll(async () => {
      await Promise.all([...clients.values()].map((client) => client.dispose()));
      await live?.close();
    });

    it.each(writingSubscriptions)('Subscription.%s', async (field) => {
      const entry = entryOf('Subscription', field);
      const operation = harmlessOperation(schema, samples, 'Subscription', field);
      for (const level of LEVELS) {
        const client = clients.get(level);
        if (!client) throw new Error(`no client for ${level}`);
        let answer: Answer = {};
        const calls = await live.callsDuring(async () => {
          answer = await firstAnswer(client, operation);
        });
        if (entry.kind === 'dangerous') {
          expectForbiddenByPermission(
            answer,
            `${field} at ${level}`,
            level,
            `Subscription.${field}`,
          );
          expect(calls).toEqual([]);
        } else if (entry.kind === 'admitted') {
          expectNotForbidden(answer, `${field} at ${level} (${entry.reason})`, field);
        } else {
          throw new Error(`Subscription.${field}: admission entries take mutations only`);
        }
      }
    });
  });
});
