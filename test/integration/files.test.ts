import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/gql.ts';
import { createTestApp } from '../helpers/app.ts';
import { useAppWithFixtures } from '../helpers/app-with-fixtures.ts';
import { BASE_IMAGE, createTar } from '../helpers/docker-fixtures.ts';
import { startFaultProxy } from '../helpers/fault-proxy.ts';
import { must } from '../helpers/must.ts';
import { expectType } from '../helpers/mutations.ts';
import { readTar, tarEntry } from '../helpers/tar.ts';

const CopyToContainer = graphql(`
  mutation CopyToContainer($id: String!, $path: String!, $archive: File!, $noOverwriteDirNonDir: Boolean) {
    copyToContainer(id: $id, path: $path, archive: $archive, noOverwriteDirNonDir: $noOverwriteDirNonDir) {
      __typename
      ... on ContainerFilesPayload { path container { dockerId name } }
      ... on MutationError { message }
      ... on InvalidInputError { field }
      ... on EngineFailureError { code engineStatus }
    }
  }
`);

const ReadBack = graphql(`
  mutation ReadBackCopiedFiles($id: String!) {
    execInContainer(id: $id, input: { cmd: ["sh", "-c", "cat /tmp/upload/hello.txt /tmp/upload/sub/nested.txt"] }) {
      __typename
      ... on ExecResult { exitCode stdout }
      ... on MutationError { message }
    }
  }
`);

const ContainerFiles = graphql(`
  query ContainerFiles($name: String!, $path: String!) {
    container(idOrName: $name) {
      exportUrl
      archiveUrl(path: $path)
      file(path: $path) { path name type sizeBytes permissions modifiedAt linkTarget }
    }
  }
`);

const ImageSaveLink = graphql(`
  query ImageSaveLink($reference: String!) {
    image(reference: $reference) { dockerId tags saveUrl }
  }
`);

/** What the download routes answer on failure. */
interface DownloadFailure {
  errors: [{ message: string; extensions: { code: string } }];
}

describe('container files and downloads', () => {
  const { app, fixtures } = useAppWithFixtures();
  const runningName = fixtures.name('files-running');
  const createdName = fixtures.name('files-created');
  let runningId = '';

  beforeAll(async () => {
    runningId = await fixtures.runContainer(runningName);
    await fixtures.createContainer(createdName);
  });

  function download(link: string, init: RequestInit = {}) {
    expect(link).toMatch(/^\/files\//);
    return app.app.fetch(`http://dockergraph.test${link}`, init);
  }

  async function downloadTar(link: string) {
    const response = await download(link);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-tar');
    return { response, entries: await readTar(Buffer.from(await response.arrayBuffer())) };
  }

  async function expectFailure(link: string, status: number, code: string) {
    const response = await download(link);
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as DownloadFailure;
    const [error] = body.errors;
    expect(error.extensions.code).toBe(code);
    // Connection details never reach clients.
    expect(error.message).not.toMatch(/docker\.sock|\/tmp\/dockergraph-engine/);
    return error.message;
  }

  it('copies an uploaded tar into a container, and downloads it back through the link', async () => {
    const content = 'hello from dockergraph\nsecond line\n';
    const archive = createTar({ 'upload/hello.txt': content, 'upload/sub/nested.txt': 'nested\n' });
    const copied = await app.upload(CopyToContainer, { id: runningName, path: '/tmp' }, archive);
    const payload = expectType(copied.copyToContainer, 'ContainerFilesPayload');
    expect(payload).toMatchObject({
      path: '/tmp',
      container: { dockerId: runningId, name: runningName },
    });

    const { execInContainer } = await app.query(ReadBack, { id: runningName });
    expect(expectType(execInContainer, 'ExecResult')).toEqual({
      __typename: 'ExecResult',
      exitCode: 0,
      stdout: `${content}nested\n`,
    });

    const { container } = await app.query(ContainerFiles, {
      name: runningName,
      path: '/tmp/upload/hello.txt',
    });
    const files = must(container, 'the container');
    expect(files.file).toMatchObject({
      path: '/tmp/upload/hello.txt',
      name: 'hello.txt',
      type: 'FILE',
      sizeBytes: Buffer.byteLength(content),
      permissions: '0644',
      linkTarget: null,
    });
    expect(new Date(must(files.file?.modifiedAt, 'modifiedAt')).getTime()).toBeGreaterThan(0);

    const { response, entries } = await downloadTar(files.archiveUrl);
    expect(response.headers.get('content-disposition')).toBe(
      'attachment; filename="hello.txt.tar"',
    );
    expect(tarEntry(entries, 'hello.txt').content.toString('utf8')).toBe(content);

    // A folder comes with what is in it.
    const folder = await app.query(ContainerFiles, { name: runningName, path: '/tmp/upload' });
    const folderTar = await downloadTar(must(folder.container, 'the container').archiveUrl);
    expect(tarEntry(folderTar.entries, 'upload/sub/nested.txt').content.toString()).toBe(
      'nested\n',
    );
    expect(tarEntry(folderTar.entries, 'upload/sub').type).toBe('directory');
  });

  it('copies into a container that was never started', async () => {
    const result = await app.upload(
      CopyToContainer,
      { id: createdName, path: '/' },
      createTar({ 'created.txt': 'made before start\n' }),
    );
    expectType(result.copyToContainer, 'ContainerFilesPayload');
    const { container } = await app.query(ContainerFiles, {
      name: createdName,
      path: '/created.txt',
    });
    const { entries } = await downloadTar(must(container, 'the container').archiveUrl);
    expect(tarEntry(entries, 'created.txt').content.toString()).toBe('made before start\n');
  });

  it('describes directories and symbolic links; a missing path is null', async () => {
    const tmp = await app.query(ContainerFiles, { name: runningName, path: '/tmp' });
    expect(tmp.container?.file).toMatchObject({
      name: 'tmp',
      type: 'DIRECTORY',
      permissions: '1777',
    });
    const shell = await app.query(ContainerFiles, { name: runningName, path: '/bin/sh' });
    expect(shell.container?.file).toMatchObject({ type: 'SYMLINK', linkTarget: '/bin/busybox' });
    const missing = await app.query(ContainerFiles, { name: runningName, path: '/no/such/file' });
    expect(missing.container?.file).toBeNull();

    const relative = await app.execute(ContainerFiles, { name: runningName, path: 'etc/passwd' });
    expect(relative.errors?.length).toBeGreaterThan(0);
    for (const error of relative.errors ?? []) {
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'path' });
      expect(error.message).toContain('not an absolute path');
    }
  });

  it('answers a missing directory, a file as target and a missing container with typed errors', async () => {
    const archive = createTar({ 'a.txt': 'a\n' });
    const noDir = await app.upload(
      CopyToContainer,
      { id: runningName, path: '/no/such/dir' },
      archive,
    );
    expect(expectType(noDir.copyToContainer, 'NotFoundError').message).toContain('/no/such/dir');

    const notDir = await app.upload(
      CopyToContainer,
      { id: runningName, path: '/etc/passwd' },
      archive,
    );
    const failure = expectType(notDir.copyToContainer, 'EngineFailureError');
    expect(failure.message).toContain('not a directory');
    expect(failure.engineStatus).toBe(500);

    const missing = await app.upload(
      CopyToContainer,
      { id: fixtures.name('no-such-container'), path: '/tmp' },
      archive,
    );
    expect(expectType(missing.copyToContainer, 'NotFoundError').message).toContain(
      'No such container',
    );

    // With noOverwriteDirNonDir, a directory is not replaced by a file.
    const made = await app.upload(
      CopyToContainer,
      { id: runningName, path: '/tmp' },
      createTar({ 'clash/inner.txt': 'inside\n' }),
    );
    expectType(made.copyToContainer, 'ContainerFilesPayload');
    const clash = await app.upload(
      CopyToContainer,
      { id: runningName, path: '/tmp', noOverwriteDirNonDir: true },
      createTar({ clash: 'a file where a directory is\n' }),
    );
    expect(expectType(clash.copyToContainer, 'EngineFailureError').message).toContain(
      'cannot overwrite directory',
    );
    const kept = await app.query(ContainerFiles, { name: runningName, path: '/tmp/clash' });
    expect(kept.container?.file?.type).toBe('DIRECTORY');
  });

  it('refuses a relative path and an upload that is no tar before the engine', async () => {
    const calls = await app.callsDuring(async () => {
      const relative = await app.upload(
        CopyToContainer,
        { id: runningName, path: 'tmp' },
        createTar({ 'a.txt': 'a\n' }),
      );
      expect(expectType(relative.copyToContainer, 'InvalidInputError')).toMatchObject({
        field: 'path',
      });
      const garbage = await app.upload(
        CopyToContainer,
        { id: runningName, path: '/tmp' },
        Buffer.from('this is plain text, not a tar archive\n'.repeat(20)),
      );
      const error = expectType(garbage.copyToContainer, 'InvalidInputError');
      expect(error.field).toBe('archive');
      expect(error.message).toContain('not a tar archive');
      const empty = await app.upload(
        CopyToContainer,
        { id: runningName, path: '/tmp' },
        Buffer.alloc(0),
      );
      expect(expectType(empty.copyToContainer, 'InvalidInputError').message).toContain('empty');
    });
    expect(calls.filter((call) => call !== 'HEAD /_ping')).toEqual([]);
  });

  it('exports a container through its link', async () => {
    const { container } = await app.query(ContainerFiles, { name: runningName, path: '/' });
    const exportUrl = must(container, 'the container').exportUrl;
    expect(exportUrl).toBe(`/files/local/containers/${runningId}/export`);
    const { response, entries } = await downloadTar(exportUrl);
    expect(response.headers.get('content-disposition')).toBe(
      `attachment; filename="${runningId.slice(0, 12)}.tar"`,
    );
    expect(tarEntry(entries, 'bin/busybox').type).toBe('file');
    expect(tarEntry(entries, 'bin/busybox').content.length).toBeGreaterThan(100_000);
  });

  it('saves an image with its tags through its link', async () => {
    const tag = `dockergraph-test/saved:${fixtures.run}`;
    const imageId = await fixtures.buildImage(tag, `FROM ${BASE_IMAGE}\nLABEL purpose=save-test\n`);
    const { image } = await app.query(ImageSaveLink, { reference: tag });
    const saveUrl = must(image, 'the image').saveUrl;
    expect(saveUrl).toBe(`/files/local/images/save?reference=${encodeURIComponent(tag)}`);
    let saved: Awaited<ReturnType<typeof downloadTar>> | undefined;
    const calls = await app.callsDuring(async () => {
      saved = await downloadTar(saveUrl);
    });
    // One image: the engine's per-image route.
    expect(calls.filter((call) => call.startsWith('GET /images/'))).toEqual([
      `GET /images/${encodeURIComponent(tag).replaceAll('%2F', '/')}/get`,
    ]);
    const { response, entries } = must(saved, 'the download');
    expect(response.headers.get('content-disposition')).toBe(
      `attachment; filename="dockergraph-test_saved_${fixtures.run}.tar"`,
    );
    const manifest = JSON.parse(tarEntry(entries, 'manifest.json').content.toString('utf8')) as {
      Config: string;
      RepoTags: string[] | null;
    }[];
    expect(manifest).toHaveLength(1);
    expect(manifest[0]?.RepoTags).toEqual([tag]);
    expect(manifest[0]?.Config).toBe(`${imageId.replace(/^sha256:/, '')}.json`);
  });

  it('saves several images in one archive', async () => {
    const first = `dockergraph-test/saved-a:${fixtures.run}`;
    const second = `dockergraph-test/saved-b:${fixtures.run}`;
    await fixtures.buildImage(first, `FROM ${BASE_IMAGE}\nLABEL purpose=save-a\n`);
    await fixtures.buildImage(second, `FROM ${BASE_IMAGE}\nLABEL purpose=save-b\n`);
    let saved: Awaited<ReturnType<typeof downloadTar>> | undefined;
    const calls = await app.callsDuring(async () => {
      saved = await downloadTar(
        `/files/local/images/save?reference=${encodeURIComponent(first)}&reference=${encodeURIComponent(second)}`,
      );
    });
    expect(calls.filter((call) => call.startsWith('GET /images/'))).toEqual(['GET /images/get']);
    const manifest = JSON.parse(
      tarEntry(must(saved, 'the download').entries, 'manifest.json').content.toString('utf8'),
    ) as { RepoTags: string[] | null }[];
    expect(manifest.flatMap((entry) => entry.RepoTags ?? []).sort()).toEqual([first, second]);
  });

  it('answers JSON errors with the right status for what is missing or malformed', async () => {
    const missingContainer = fixtures.name('no-such-container');
    expect(
      await expectFailure(
        `/files/local/containers/${missingContainer}/archive?path=/etc`,
        404,
        'NOT_FOUND',
      ),
    ).toContain('No such container');
    await expectFailure(`/files/local/containers/${missingContainer}/export`, 404, 'NOT_FOUND');
    expect(
      await expectFailure(
        `/files/local/containers/${runningName}/archive?path=/no/such/file`,
        404,
        'NOT_FOUND',
      ),
    ).toContain('/no/such/file');
    await expectFailure(
      `/files/local/containers/${runningName}/archive?path=etc`,
      400,
      'BAD_REQUEST',
    );
    await expectFailure(`/files/local/containers/${runningName}/archive`, 400, 'BAD_REQUEST');
    await expectFailure(
      `/files/local/images/save?reference=${fixtures.run}-missing:1`,
      404,
      'NOT_FOUND',
    );
    await expectFailure(
      '/files/local/images/save?reference=Not%20A%20Reference',
      400,
      'BAD_REQUEST',
    );
    await expectFailure('/files/local/images/save', 400, 'BAD_REQUEST');
    await expectFailure(`/files/elsewhere/containers/${runningName}/export`, 404, 'NOT_FOUND');
    await expectFailure('/files/local/volumes/x/export', 404, 'NOT_FOUND');

    const post = await download(`/files/local/containers/${runningName}/export`, {
      method: 'POST',
    });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
  });

  it('cancels the engine call when the client aborts or stops reading a download', async () => {
    const proxy = await startFaultProxy();
    const proxied = createTestApp({ DOCKER_HOST: proxy.dockerHost });
    const exportPath = `/files/local/containers/${runningId}/export`;
    const engineExport = /\/containers\/[0-9a-f]+\/export/;

    /** Starts a download, reads its first chunk and returns the engine connection serving it. */
    async function startReading(signal?: AbortSignal) {
      const since = proxy.requestsSeen;
      const response = await proxied.app.fetch(`http://dockergraph.test${exportPath}`, {
        ...(signal ? { signal } : {}),
      });
      expect(response.status).toBe(200);
      const reader = must(response.body, 'a body').getReader();
      expect((await reader.read()).done).toBe(false);
      const connection = await proxy.waitForRequest(engineExport, { since });
      expect(connection.closed).toBeNull();
      return { reader, connection };
    }

    let passed = false;
    try {
      // The request's signal aborts, as when an HTTP client disconnects.
      const abort = new AbortController();
      const aborted = await startReading(abort.signal);
      abort.abort();
      await proxy.waitForClose(aborted.connection);
      expect(aborted.connection.closed).toMatchObject({ byClient: true });

      // The body is cancelled, as a server does when it can no longer write to the client.
      const cancelled = await startReading();
      await cancelled.reader.cancel();
      await proxy.waitForClose(cancelled.connection);
      expect(cancelled.connection.closed).toMatchObject({ byClient: true });
      passed = true;
    } finally {
      await proxy.close();
      // A download the app failed to cancel keeps its pool from closing: do not wait for it
      // then, so that the assertion that failed is what the run reports.
      if (passed) await proxied.close();
      else void proxied.close();
    }
  });
});
