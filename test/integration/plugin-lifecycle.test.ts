// Plugin writes against the real engine: a plugin made here (no plugin registry is reachable),
// pushed to the local registry in two versions, then installed, enabled, disabled, configured,
// upgraded and removed through GraphQL. The privileges granted must be exactly those asked;
// tokens without `dangerous` and a read-only server are refused over HTTP and WebSocket.
import { execFile } from 'node:child_process';
import { readFile, realpath } from 'node:fs/promises';
import { promisify } from 'node:util';
import { print } from 'graphql';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnginePlugin } from '../../src/docker/plugins.ts';
import { readProgress } from '../../src/docker/progress.ts';
import type { TarEntry } from '../../src/docker/tar.ts';
import { graphql } from '../generated/gql.ts';
import { randomToken, tokensEnv } from '../helpers/access.ts';
import { createTestApp, type GraphQLResponse } from '../helpers/app.ts';
import { createTar, EngineFixtures } from '../helpers/docker-fixtures.ts';
import { startRegistry } from '../helpers/engine.ts';
import { clientWithToken, finalAnswer } from '../helpers/graphql-ws.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';
import { expectType } from '../helpers/mutations.ts';

const run = promisify(execFile);

const PluginPrivileges = graphql(`
  query PluginPrivileges($remote: String!) {
    pluginPrivileges(remote: $remote) { name description value }
  }
`);

const PluginState = graphql(`
  query PluginState($name: String!) {
    plugin(name: $name) { name enabled reference description capabilities }
  }
`);

const InstallPlugin = graphql(`
  mutation InstallPlugin(
    $remote: String!
    $name: String
    $privileges: [PluginPrivilegeInput!]!
    $enable: Boolean
  ) {
    installPlugin(remote: $remote, name: $name, privileges: $privileges, enable: $enable) {
      __typename
      ... on MutationError { message }
      ... on InvalidInputError { field }
      ... on PluginPayload { plugin { name enabled reference description } }
    }
  }
`);

const EnablePlugin = graphql(`
  mutation EnablePlugin($name: String!) {
    enablePlugin(name: $name, timeoutSeconds: 10) {
      __typename
      ... on MutationError { message }
      ... on PluginPayload { plugin { name enabled } }
    }
  }
`);

const DisablePlugin = graphql(`
  mutation DisablePlugin($name: String!) {
    disablePlugin(name: $name) {
      __typename
      ... on MutationError { message }
      ... on PluginPayload { plugin { name enabled } }
    }
  }
`);

const ConfigurePlugin = graphql(`
  mutation ConfigurePlugin($name: String!, $settings: [String!]!) {
    configurePlugin(name: $name, settings: $settings) {
      __typename
      ... on MutationError { message }
      ... on InvalidInputError { field }
      ... on PluginPayload { plugin { name enabled } }
    }
  }
`);

const UpgradePlugin = graphql(`
  mutation UpgradePlugin($name: String!, $remote: String!, $privileges: [PluginPrivilegeInput!]!) {
    upgradePlugin(name: $name, remote: $remote, privileges: $privileges) {
      __typename
      ... on MutationError { message }
      ... on InvalidInputError { field }
      ... on PluginPayload { plugin { name enabled reference description } }
    }
  }
`);

const RemovePlugin = graphql(`
  mutation RemovePlugin($name: String!, $force: Boolean) {
    removePlugin(name: $name, force: $force) {
      __typename
      ... on MutationError { message }
      ... on RemovePluginPayload { name }
    }
  }
`);

/**
 * The plugin's program. The engine enables a plugin once something listens on its unix
 * socket, and busybox's `nc` cannot listen on one; the registry scripts/engine.sh installs
 * can (`http.net: unix`), and needs only the C library. What it answers does not matter to
 * a log driver nobody uses.
 */
const REGISTRY_BINARY = '/usr/bin/docker-registry';

/** The files of the program and of the libraries `ldd` says it loads, at the same paths. */
async function programFiles(): Promise<TarEntry[]> {
  const { stdout } = await run('ldd', [REGISTRY_BINARY], { encoding: 'utf8' });
  const paths = [REGISTRY_BINARY];
  for (const line of stdout.split('\n')) {
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (match?.[1]) paths.push(match[1]);
  }
  return Promise.all(
    paths.map(async (path) => ({
      path: `rootfs${path}`,
      content: await readFile(await realpath(path)),
      mode: 0o755,
    })),
  );
}

/** The `POST /plugins/create` archive of a log driver plugin asking for `capabilities`. */
function pluginArchive(
  program: readonly TarEntry[],
  description: string,
  capabilities: readonly string[],
): Buffer {
  const config = {
    description,
    documentation: 'https://example.invalid/dockergraph-test-plugin',
    entrypoint: [REGISTRY_BINARY, 'serve', '/etc/registry.yml'],
    interface: { types: ['docker.logdriver/1.0'], socket: 'plugin.sock' },
    network: { type: 'host' },
    linux: { capabilities },
    env: [{ name: 'DEBUG', description: 'debug output', settable: ['value'], value: '0' }],
  };
  const registryConfig = [
    'version: 0.1',
    'storage:',
    '  inmemory: {}',
    'http:',
    '  net: unix',
    '  addr: /run/docker/plugins/plugin.sock',
    '',
  ].join('\n');
  return createTar([
    { path: 'config.json', content: JSON.stringify(config) },
    { path: 'rootfs/etc/registry.yml', content: registryConfig },
    { path: 'rootfs/run/docker/plugins', type: 'folder' },
    { path: 'rootfs/tmp', type: 'folder', mode: 0o1777 },
    ...program,
  ]);
}

describe('plugin writes', () => {
  const fixtures = new EngineFixtures();
  const admin = createTestApp();
  const writerToken = randomToken();
  const viewerToken = randomToken();
  // Every permission but `dangerous`.
  const rolesEnv = tokensEnv(
    [
      { id: 'writer', role: 'writer', token: writerToken },
      { id: 'viewer', role: 'viewer', token: viewerToken },
    ],
    {
      writer: {
        permissions: ['read', 'logs', 'lifecycle', 'secrets', 'write'],
        admission: 'baseline',
      },
    },
  );
  const writer = createTestApp(rolesEnv, { token: writerToken });
  const readOnly = createTestApp({ DOCKERGRAPH_READ_ONLY: 'true' });
  let live: LiveServer | undefined;
  let writerSocket: Client | undefined;

  const local = `dg-plugin-${fixtures.run}:latest`;
  let remote1 = '';
  let remote2 = '';
  const privileges1 = [
    { name: 'network', value: ['host'] },
    { name: 'capabilities', value: ['CAP_SYS_NICE'] },
  ];
  const privileges2 = [
    { name: 'network', value: ['host'] },
    { name: 'capabilities', value: ['CAP_IPC_LOCK', 'CAP_SYS_NICE'] },
  ];
  /** Every plugin name this file may have made, removed in afterAll. */
  const made: string[] = [local];

  const inspect = (name: string) =>
    fixtures.engine.jsonOrNull<EnginePlugin & { Settings: { Env: string[] } }>(
      { path: `/plugins/${name}/json` },
      `inspect plugin ${name}`,
    );

  beforeAll(async () => {
    const registry = await startRegistry();
    remote1 = `${registry}/dg-plugins-${fixtures.run}/logdriver:1`;
    remote2 = `${registry}/dg-plugins-${fixtures.run}/logdriver:2`;
    made.push(remote1, remote2);
    const program = await programFiles();
    for (const [remote, description, capabilities] of [
      [remote1, 'dockergraph test log driver v1', ['CAP_SYS_NICE']],
      [remote2, 'dockergraph test log driver v2', ['CAP_SYS_NICE', 'CAP_IPC_LOCK']],
    ] as const) {
      await fixtures.send(
        {
          method: 'POST',
          path: '/plugins/create',
          query: { name: remote },
          headers: { 'content-type': 'application/x-tar' },
          body: pluginArchive(program, description, capabilities),
          timeoutMs: 120_000,
        },
        `create plugin ${remote}`,
      );
      const pushed = await fixtures.engine.request(
        {
          method: 'POST',
          path: `/plugins/${remote}/push`,
          headers: { 'x-registry-auth': 'e30=' },
          timeoutMs: 120_000,
          bodyTimeoutMs: 120_000,
        },
        `push plugin ${remote}`,
      );
      await readProgress(pushed.body, `push plugin ${remote}`);
      // Installed from the registry below, not from this local copy.
      await fixtures.send(
        { method: 'DELETE', path: `/plugins/${remote}`, query: { force: true } },
        `remove plugin ${remote}`,
      );
    }
    live = await startLiveServer(undefined, { env: rolesEnv });
    writerSocket = clientWithToken(live.server.url, writerToken);
  }, 240_000);

  afterAll(async () => {
    for (const name of made) {
      await fixtures.engine
        .request({ method: 'DELETE', path: `/plugins/${name}`, query: { force: true } }, 'remove')
        .then((response) => response.body.dump())
        .catch(() => undefined);
    }
    await writerSocket?.dispose();
    await live?.close();
    await Promise.all([admin.close(), writer.close(), readOnly.close()]);
    await fixtures.cleanup();
  });

  it('shows what an install would grant', async () => {
    const data = await admin.query(PluginPrivileges, { remote: remote1 });
    expect(data.pluginPrivileges).toEqual([
      { name: 'network', description: expect.any(String), value: ['host'] },
      { name: 'capabilities', description: expect.any(String), value: ['CAP_SYS_NICE'] },
    ]);
  });

  it('refuses an install whose privileges differ from those asked, naming the difference', async () => {
    const missing = await admin.query(InstallPlugin, {
      remote: remote1,
      name: local,
      privileges: [{ name: 'network', value: ['host'] }],
    });
    const refused = expectType(missing.installPlugin, 'InvalidInputError');
    expect(refused.field).toBe('privileges');
    expect(refused.message).toContain(
      'the plugin asks for capabilities "CAP_SYS_NICE", not granted',
    );

    const extra = await admin.query(InstallPlugin, {
      remote: remote1,
      name: local,
      privileges: [...privileges1, { name: 'mount', value: ['/'] }],
    });
    expect(expectType(extra.installPlugin, 'InvalidInputError').message).toContain(
      'granted mount "/", which the plugin does not ask for',
    );
    // Nothing was pulled.
    expect(await inspect(local)).toBeNull();
  });

  it('installs with exactly the privileges asked, disabled', async () => {
    const data = await admin.query(InstallPlugin, {
      remote: remote1,
      name: local,
      privileges: [...privileges1].reverse(),
    });
    expect(expectType(data.installPlugin, 'PluginPayload').plugin).toEqual({
      name: local,
      enabled: false,
      reference: remote1,
      description: 'dockergraph test log driver v1',
    });
  });

  it('refuses every plugin write to tokens without dangerous, over HTTP and WebSocket', async () => {
    const forbidden = (answer: GraphQLResponse<unknown>) => {
      expect(answer.data ?? null).toBeNull();
      expect(answer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    };
    const calls = await writer.callsDuring(async () => {
      forbidden(await writer.execute(EnablePlugin, { name: local }));
      forbidden(await writer.execute(RemovePlugin, { name: local, force: true }));
      forbidden(await writer.execute(ConfigurePlugin, { name: local, settings: ['DEBUG=1'] }));
      forbidden(
        await writer.execute(InstallPlugin, {
          remote: remote2,
          name: 'x',
          privileges: privileges2,
        }),
      );
      forbidden(await writer.execute(PluginPrivileges, { remote: remote1 }));
    });
    expect(calls).toEqual([]);
    const socket = writerSocket;
    if (!socket) throw new Error('no WebSocket client');
    forbidden(
      await finalAnswer(socket, { query: print(EnablePlugin), variables: { name: local } }),
    );
    forbidden(
      await finalAnswer(socket, {
        query: print(UpgradePlugin),
        variables: { name: local, remote: remote2, privileges: privileges2 },
      }),
    );
    const viewer = clientWithToken(live?.server.url ?? '', viewerToken);
    try {
      forbidden(
        await finalAnswer(viewer, {
          query: print(RemovePlugin),
          variables: { name: local, force: true },
        }),
      );
    } finally {
      await viewer.dispose();
    }
    // And a read-only server refuses admin.
    forbidden(await readOnly.execute(EnablePlugin, { name: local }));
    expect((await inspect(local))?.Enabled).toBe(false);
  });

  it('enables it; enabling again, configuring or removing without force is a conflict', async () => {
    const enabled = await admin.query(EnablePlugin, { name: local });
    expect(expectType(enabled.enablePlugin, 'PluginPayload').plugin).toEqual({
      name: local,
      enabled: true,
    });
    const state = await admin.query(PluginState, { name: local });
    expect(state.plugin).toMatchObject({ enabled: true, capabilities: ['docker.logdriver/1.0'] });

    const again = await admin.query(EnablePlugin, { name: local });
    expect(expectType(again.enablePlugin, 'ConflictError').message).toContain('already enabled');
    const configured = await admin.query(ConfigurePlugin, { name: local, settings: ['DEBUG=1'] });
    expectType(configured.configurePlugin, 'ConflictError');
    const removed = await admin.query(RemovePlugin, { name: local });
    expect(expectType(removed.removePlugin, 'ConflictError').message).toContain('is enabled');
    expect((await inspect(local))?.Enabled).toBe(true);
  });

  it('disables and configures it', async () => {
    const disabled = await admin.query(DisablePlugin, { name: local });
    expect(expectType(disabled.disablePlugin, 'PluginPayload').plugin.enabled).toBe(false);

    const bad = await admin.query(ConfigurePlugin, { name: local, settings: ['=1'] });
    expect(expectType(bad.configurePlugin, 'InvalidInputError').field).toBe('settings[0]');
    const configured = await admin.query(ConfigurePlugin, { name: local, settings: ['DEBUG=1'] });
    expectType(configured.configurePlugin, 'PluginPayload');
    expect((await inspect(local))?.Settings.Env).toEqual(['DEBUG=1']);
  });

  it('upgrades it only with the new version’s privileges, keeping its settings', async () => {
    const refused = await admin.query(UpgradePlugin, {
      name: local,
      remote: remote2,
      privileges: privileges1,
    });
    const error = expectType(refused.upgradePlugin, 'InvalidInputError');
    expect(error.field).toBe('privileges');
    expect(error.message).toContain('capabilities "CAP_IPC_LOCK", not granted');

    const upgraded = await admin.query(UpgradePlugin, {
      name: local,
      remote: remote2,
      privileges: privileges2,
    });
    expect(expectType(upgraded.upgradePlugin, 'PluginPayload').plugin).toEqual({
      name: local,
      enabled: false,
      reference: remote2,
      description: 'dockergraph test log driver v2',
    });
    expect((await inspect(local))?.Settings.Env).toEqual(['DEBUG=1']);
  });

  it('removes an enabled plugin with force', async () => {
    expectType((await admin.query(EnablePlugin, { name: local })).enablePlugin, 'PluginPayload');
    const removed = await admin.query(RemovePlugin, { name: local, force: true });
    expect(expectType(removed.removePlugin, 'RemovePluginPayload').name).toBe(local);
    expect((await admin.query(PluginState, { name: local })).plugin).toBeNull();
    const missing = await admin.query(RemovePlugin, { name: local });
    expectType(missing.removePlugin, 'NotFoundError');
  });

  it('installs and enables in one step, under the remote name when no name is given', async () => {
    const data = await admin.query(InstallPlugin, {
      remote: remote2,
      privileges: privileges2,
      enable: true,
    });
    expect(expectType(data.installPlugin, 'PluginPayload').plugin).toMatchObject({
      name: remote2,
      enabled: true,
    });
    const removed = await admin.query(RemovePlugin, { name: remote2, force: true });
    expect(expectType(removed.removePlugin, 'RemovePluginPayload').name).toBe(remote2);
  });
});
