import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/gql.ts';
import { createTestApp } from '../helpers/app.ts';
import { BASE_IMAGE, createTar, EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { ENGINE_NETNS, execInEngineNetns, startAuthRegistry } from '../helpers/engine.ts';
import { expectType } from '../helpers/mutations.ts';
import { waitFor } from '../helpers/wait-for.ts';

const BuildRemote = graphql(`
  mutation BuildRemoteForTest($input: BuildImageInput!) {
    buildImage(input: $input) {
      __typename
      ... on BuildImagePayload { log image { tags labels { name value } } }
      ... on MutationError { message }
      ... on InvalidInputError { field }
    }
  }
`);

const PushForBuild = graphql(`
  mutation PushForBuildTest($reference: String!, $auth: RegistryAuthInput) {
    pushImage(reference: $reference, auth: $auth) {
      __typename
      ... on MutationError { message }
    }
  }
`);

const ImportFromUrl = graphql(`
  mutation ImportFromUrlForTest($fromUrl: String!, $repository: String, $tag: String, $changes: [String!]) {
    importImage(fromUrl: $fromUrl, repository: $repository, tag: $tag, changes: $changes) {
      __typename
      ... on ImportImagePayload { image { dockerId tags } }
      ... on MutationError { message }
      ... on InvalidInputError { field }
    }
  }
`);

const PruneBuildCache = graphql(`
  mutation PruneBuildCacheForTest($all: Boolean, $keep: SafeInt) {
    pruneBuildCache(all: $all, keepStorageBytes: $keep) {
      __typename
      ... on PruneBuildCachePayload { cachesDeleted spaceReclaimedBytes }
      ... on MutationError { message }
      ... on InvalidInputError { field }
    }
  }
`);

/**
 * Files served over HTTP inside the engine's network namespace, where the engine (not the test
 * process) downloads remote contexts and import archives from 127.0.0.1.
 */
class NetnsFileServer {
  readonly port = 20_000 + Math.floor(Math.random() * 20_000);
  private readonly dir = mkdtempSync(join(tmpdir(), 'dg-remote-'));
  private process: ChildProcess | null = null;

  url(name: string): string {
    return `http://127.0.0.1:${this.port}/${name}`;
  }

  put(name: string, content: Buffer): string {
    writeFileSync(join(this.dir, name), content);
    return this.url(name);
  }

  async start(): Promise<void> {
    this.put('ready', Buffer.from('ok'));
    this.process = spawn(
      'nsenter',
      [
        `--net=/var/run/netns/${ENGINE_NETNS}`,
        'python3',
        '-m',
        'http.server',
        '--bind',
        '127.0.0.1',
        '--directory',
        this.dir,
        String(this.port),
      ],
      { stdio: 'ignore' },
    );
    await waitFor(
      async () => (await execInEngineNetns('curl', ['-fsS', this.url('ready')])).stdout === 'ok',
      { timeoutMs: 15_000, what: 'the file server in the engine netns' },
    );
  }

  stop(): void {
    this.process?.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe('remote build contexts, imports from a URL and the build cache prune', () => {
  const app = createTestApp();
  const fixtures = new EngineFixtures();
  const runLabel = { name: TEST_LABEL, value: fixtures.run };
  const server = new NetnsFileServer();
  const withoutEnginePing = (calls: string[]) => calls.filter((call) => call !== 'HEAD /_ping');

  beforeAll(async () => {
    await server.start();
  });

  afterAll(async () => {
    server.stop();
    await fixtures.cleanup();
    await app.close();
  });

  it('builds from a tar archive the engine downloads, with the Dockerfile path in it', async () => {
    const url = server.put(
      'context.tar',
      createTar({
        'build/Dockerfile': `FROM ${BASE_IMAGE}\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt\n`,
        'hello.txt': `remote-${fixtures.run}\n`,
      }),
    );
    const tag = `${fixtures.name('remote')}:v1`;
    const { buildImage } = await app.query(BuildRemote, {
      input: {
        remoteContext: url,
        dockerfilePath: 'build/Dockerfile',
        tags: [tag],
        labels: [runLabel],
      },
    });
    const payload = expectType(buildImage, 'BuildImagePayload');
    expect(payload.image.tags).toEqual([tag]);
    expect(payload.image.labels).toContainEqual(runLabel);
    expect(payload.log).toContain(`remote-${fixtures.run}`);
  });

  it('names input.remoteContext when the engine cannot download it', async () => {
    const { buildImage } = await app.query(BuildRemote, {
      input: { remoteContext: server.url('missing.tar'), labels: [runLabel] },
    });
    expect(expectType(buildImage, 'InvalidInputError').field).toBe('input.remoteContext');
  });

  it('refuses a URL with credentials, another scheme, or beside an inline Dockerfile, before the engine', async () => {
    const calls = await app.callsDuring(async () => {
      for (const input of [
        { remoteContext: `http://user:hunter2@127.0.0.1:${server.port}/context.tar` },
        { remoteContext: 'file:///etc/passwd' },
        { remoteContext: server.url('context.tar'), dockerfile: `FROM ${BASE_IMAGE}\n` },
      ]) {
        const { buildImage } = await app.query(BuildRemote, { input });
        const error = expectType(buildImage, 'InvalidInputError');
        expect(error.message).not.toContain('hunter2');
        expect(['input.remoteContext', 'input.dockerfile']).toContain(error.field);
      }
    });
    expect(withoutEnginePing(calls)).toEqual([]);
  });

  it('imports an archive the engine downloads, tagged with repository and tag', async () => {
    const id = await fixtures.createContainer(fixtures.name('export'));
    const response = await fixtures.engine.request(
      { path: `/containers/${id}/export` },
      'export container',
    );
    const chunks: Buffer[] = [];
    for await (const chunk of response.body) chunks.push(Buffer.from(chunk as Uint8Array));
    const url = server.put('rootfs.tar', Buffer.concat(chunks));
    const repository = fixtures.name('fromurl');
    const { importImage } = await app.query(ImportFromUrl, {
      fromUrl: url,
      repository,
      tag: 'v2',
      changes: [`LABEL ${TEST_LABEL}=${fixtures.run}`],
    });
    expect(expectType(importImage, 'ImportImagePayload').image.tags).toEqual([`${repository}:v2`]);
  });

  it('refuses an import URL that is not http(s) before the engine', async () => {
    const calls = await app.callsDuring(async () => {
      const { importImage } = await app.query(ImportFromUrl, {
        fromUrl: 'git://127.0.0.1/rootfs.git',
      });
      expect(expectType(importImage, 'InvalidInputError').field).toBe('fromUrl');
    });
    expect(withoutEnginePing(calls)).toEqual([]);
  });

  it('prunes the build cache: bytes reclaimed and no unused cache left', async () => {
    const { pruneBuildCache } = await app.query(PruneBuildCache, { all: true });
    const report = expectType(pruneBuildCache, 'PruneBuildCachePayload');
    expect(report.spaceReclaimedBytes).toBeGreaterThanOrEqual(0);
    expect(report.cachesDeleted).toEqual(expect.any(Array));
    const usage = await fixtures.engine.json<{
      BuildCache: { ID: string; InUse: boolean }[] | null;
    }>({ path: '/system/df', query: { type: 'build-cache' } }, 'build cache usage');
    expect((usage.BuildCache ?? []).filter((record) => !record.InUse)).toEqual([]);
  });

  it('refuses a negative keepStorageBytes naming it', async () => {
    const { pruneBuildCache } = await app.query(PruneBuildCache, { keep: -1 });
    expect(expectType(pruneBuildCache, 'InvalidInputError').field).toBe('keepStorageBytes');
  });

  it('pulls a FROM image from a registry that asks for credentials with registryAuth, never echoing them', async () => {
    const { address, username, password } = await startAuthRegistry();
    const repository = `${address}/dockergraph-test/build-from-${fixtures.run}`;
    const reference = `${repository}:v1`;
    await fixtures.send(
      { method: 'POST', path: `/images/${BASE_IMAGE}/tag`, query: { repo: repository, tag: 'v1' } },
      'tag the base image for the registry',
    );
    const { pushImage } = await app.query(PushForBuild, {
      reference,
      auth: { username, password, serverAddress: address },
    });
    expect(pushImage.__typename).toBe('PushImagePayload');
    await fixtures.send({ method: 'DELETE', path: `/images/${reference}` }, 'remove the local tag');
    const dockerfile = `FROM ${reference}\nRUN echo from-private\n`;

    const refused = await app.query(BuildRemote, { input: { dockerfile, labels: [runLabel] } });
    expect(refused.buildImage.__typename).toBe('RegistryAuthError');

    const built = await app.query(BuildRemote, {
      input: {
        dockerfile,
        labels: [runLabel],
        registryAuth: [{ registry: address, username, password }],
      },
    });
    expect(expectType(built.buildImage, 'BuildImagePayload').log).toContain('from-private');
    expect(JSON.stringify([refused, built])).not.toContain(password);
    await fixtures.send(
      { method: 'DELETE', path: `/images/${reference}` },
      'remove the pulled image',
    );
  });
});
