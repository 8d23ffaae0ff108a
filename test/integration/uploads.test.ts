// Uploads as a hostile client sends them (finding 9): a file is accepted only for an operation
// that takes one and only from a token allowed to use that field, decided before a byte of the
// file is read; accepted files are streamed to private temporary files, removed afterwards.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomToken, tokensEnv } from '../helpers/access.ts';
import { createTestApp, type GraphQLResponse, withoutEngineCalls } from '../helpers/app.ts';
import { auditRecordsIn } from '../helpers/audit-lines.ts';
import { createTar, EngineFixtures } from '../helpers/docker-fixtures.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';
import { usePrivateTmpdir } from '../helpers/private-tmpdir.ts';
import { waitFor } from '../helpers/wait-for.ts';

const MiB = 1_024 * 1_024;
const BOUNDARY = 'dockergraph-upload-test';

function part(name: string, value: string): string {
  return `--${BOUNDARY}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
}

/**
 * POSTs a multipart request to `url`: `operations`, `map`, then one file of `fileBytes`
 * zero bytes named "0", written until the server answers. Returns the answer and how
 * many bytes of the file were sent by then.
 */
function postUpload(
  url: string,
  token: string,
  operations: unknown,
  map: unknown,
  fileBytes: number,
): Promise<{ status: number; body: GraphQLResponse<unknown>; sentFileBytes: number }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, {
      method: 'POST',
      headers: {
        'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
        authorization: `Bearer ${token}`,
        'x-graphql-yoga-csrf': 'upload',
        accept: 'application/graphql-response+json',
      },
    });
    const chunk = Buffer.alloc(256 * 1_024);
    let sentFileBytes = 0;
    let answered = false;
    const writeMore = () => {
      while (!answered && sentFileBytes < fileBytes) {
        const piece = chunk.subarray(0, Math.min(chunk.length, fileBytes - sentFileBytes));
        sentFileBytes += piece.length;
        if (!request.write(piece)) {
          request.once('drain', writeMore);
          return;
        }
      }
      if (!answered) request.end(`\r\n--${BOUNDARY}--\r\n`);
    };
    request.on('response', (response) => {
      answered = true;
      const parts: Buffer[] = [];
      response.on('data', (data: Buffer) => parts.push(data));
      response.on('end', () => {
        request.destroy();
        resolve({
          status: response.statusCode ?? 0,
          body: JSON.parse(Buffer.concat(parts).toString('utf8')) as GraphQLResponse<unknown>,
          sentFileBytes,
        });
      });
    });
    // Once answered, the server closes the connection under the rest of the body.
    request.on('error', (error) => {
      if (!answered) reject(error);
    });
    request.write(
      part('operations', JSON.stringify(operations)) +
        part('map', JSON.stringify(map)) +
        `--${BOUNDARY}\r\ncontent-disposition: form-data; name="0"; filename="big.tar"\r\ncontent-type: application/x-tar\r\n\r\n`,
    );
    writeMore();
  });
}

describe('uploads', () => {
  const fixtures = new EngineFixtures();
  const admin = randomToken();
  const viewer = randomToken();
  // The server's temporary directory, private to this file: what it leaves there is seen.
  const temporary = usePrivateTmpdir('dg-uploads-test-');
  const { uploadFolders } = temporary;
  let live: LiveServer;
  let url: string;

  beforeAll(async () => {
    live = await startLiveServer(undefined, {
      env: {
        ...tokensEnv([
          { id: 'admin', role: 'admin', token: admin },
          { id: 'viewer', role: 'viewer', token: viewer },
        ]),
      },
    });
    url = `${live.server.url}/graphql`;
  });

  afterAll(async () => {
    await live?.close();
    await fixtures.cleanup();
  });

  it('refuses a 150 MiB file sent with a query that takes none, before reading it', async () => {
    const calls = await live.callsDuring(async () => {
      const answer = await postUpload(
        url,
        admin,
        { query: 'query Q($f: String) { engine { name } }', variables: { f: null } },
        { 0: ['variables.f'] },
        150 * MiB,
      );
      expect(answer.status).toBe(400);
      expect(answer.body.errors?.[0]).toMatchObject({
        message:
          'file "0" refused: the operation takes no file in $f (only variables of type File, of fields that take one, receive uploads)',
        extensions: { code: 'UPLOAD_REFUSED' },
      });
      expect(answer.sentFileBytes).toBeLessThan(32 * MiB);
    });
    expect(calls).toEqual([]);
    expect(uploadFolders()).toEqual([]);
  });

  it('refuses a file mapped to no variable at all, or sent before the map', async () => {
    const answer = await postUpload(
      url,
      admin,
      { query: '{ engine { name } }' },
      { 0: ['variables.archive'] },
      4 * MiB,
    );
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.[0]?.extensions?.code).toBe('UPLOAD_REFUSED');
  });

  it('refuses a viewer’s 150 MiB importImage before reading it', async () => {
    const calls = await live.callsDuring(async () => {
      const answer = await postUpload(
        url,
        viewer,
        {
          query: 'mutation I($archive: File!) { importImage(archive: $archive) { __typename } }',
          variables: { archive: null },
        },
        { 0: ['variables.archive'] },
        150 * MiB,
      );
      expect(answer.status).toBe(403);
      expect(answer.body.errors?.[0]).toMatchObject({
        message:
          'token "viewer" (role "viewer") may not use Mutation.importImage: it needs the "dangerous" permission',
        extensions: { code: 'FORBIDDEN' },
      });
      expect(answer.sentFileBytes).toBeLessThan(32 * MiB);
    });
    expect(calls).toEqual([]);
    expect(uploadFolders()).toEqual([]);
  });

  it('imports an uploaded archive for an admin, through a temporary file removed afterwards', async () => {
    const repository = fixtures.name('upload-import');
    const archive = createTar({ 'hello.txt': 'hello\n' });
    const form = new FormData();
    form.set(
      'operations',
      JSON.stringify({
        query:
          'mutation I($archive: File!, $repository: String, $changes: [String!]) { importImage(archive: $archive, repository: $repository, changes: $changes) { __typename ... on ImportImagePayload { image { tags } } } }',
        variables: {
          archive: null,
          repository,
          changes: [`LABEL dockergraph.test=${fixtures.run}`],
        },
      }),
    );
    form.set('map', JSON.stringify({ 0: ['variables.archive'] }));
    form.set('0', new Blob([new Uint8Array(archive)]), 'rootfs.tar');
    const response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'x-graphql-yoga-csrf': 'upload' },
      body: form,
    });
    const body = (await response.json()) as GraphQLResponse<unknown>;
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({
      importImage: { __typename: 'ImportImagePayload', image: { tags: [`${repository}:latest`] } },
    });
    await waitFor(() => uploadFolders().length === 0, {
      timeoutMs: 5_000,
      what: 'the upload folder to be removed',
    });
  });

  it('removes a half-sent upload when the client goes away', async () => {
    const request = httpRequest(url, {
      method: 'POST',
      headers: {
        'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
        authorization: `Bearer ${admin}`,
        'x-graphql-yoga-csrf': 'upload',
      },
    });
    request.on('error', () => {});
    request.write(
      part(
        'operations',
        JSON.stringify({
          query: 'mutation L($archive: File!) { loadImages(archive: $archive) { __typename } }',
          variables: { archive: null },
        }),
      ) +
        part('map', JSON.stringify({ 0: ['variables.archive'] })) +
        `--${BOUNDARY}\r\ncontent-disposition: form-data; name="0"; filename="half.tar"\r\n\r\n`,
    );
    request.write(Buffer.alloc(4 * MiB));
    // The file is being written to the server's temporary folder…
    await waitFor(() => uploadFolders().length === 1, {
      timeoutMs: 10_000,
      what: 'the upload folder to be made',
    });
    const [folder = ''] = uploadFolders();
    const inFolder = join(temporary.path(), folder);
    expect(statSync(inFolder).mode & 0o777).toBe(0o700);
    const [file = ''] = await waitFor(
      () => {
        const names = readdirSync(inFolder);
        return names.length > 0 ? names : undefined;
      },
      {
        timeoutMs: 10_000,
        what: 'the upload to be written',
      },
    );
    expect(statSync(join(inFolder, file)).mode & 0o777).toBe(0o600);
    // …until the client leaves: then it is removed.
    request.destroy();
    await waitFor(() => uploadFolders().length === 0, {
      timeoutMs: 10_000,
      what: 'the upload folder to be removed',
    });
  });

  it('answers a clear input error for a File written in the document or sent as JSON', async () => {
    const post = async (payload: unknown) =>
      (await (
        await fetch(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
          body: JSON.stringify(payload),
        })
      ).json()) as GraphQLResponse<unknown>;
    const literal = await post({
      query: 'mutation { loadImages(archive: "AAAA") { __typename } }',
    });
    expect(literal.errors?.[0]?.message).toBe(
      'a File cannot be written in the document: send it as a multipart upload, in a variable of type File',
    );
    const asJson = await post({
      query: 'mutation L($archive: File!) { loadImages(archive: $archive) { __typename } }',
      variables: { archive: 'AAAA' },
    });
    expect(asJson.errors?.[0]?.message).toMatch(
      /^Variable "\$archive" got invalid value "AAAA"; a File is sent as a multipart upload/,
    );
    expect(asJson.errors?.[0]?.extensions?.code).not.toBe('INTERNAL_SERVER_ERROR');
  });

  it('refuses a viewer’s upload through the fetch handler’s app alike, and audits it', async () => {
    const auditFile = join(temporary.path(), 'audit.log');
    const app = createTestApp({
      ...tokensEnv([{ id: 'viewer', role: 'viewer', token: viewer }]),
      DOCKERGRAPH_AUDIT: auditFile,
    });
    try {
      const form = new FormData();
      form.set(
        'operations',
        JSON.stringify({
          query: 'mutation Load($archive: File!) { loadImages(archive: $archive) { __typename } }',
          variables: { archive: null },
        }),
      );
      form.set('map', JSON.stringify({ 0: ['variables.archive'] }));
      form.set('0', new Blob([new Uint8Array(64 * 1_024)]), 'images.tar');
      const answer = await withoutEngineCalls(app, () =>
        app.post(form, { token: viewer, headers: { 'x-graphql-yoga-csrf': 'upload' } }),
      );
      expect(answer.status).toBe(403);
      expect(answer.body.errors?.[0]?.message).toBe(
        'token "viewer" (role "viewer") may not use Mutation.loadImages: it needs the "dangerous" permission',
      );
      const records = auditRecordsIn(readFileSync(auditFile, 'utf8'));
      expect(
        records.map((record) => [record.operationName, record.outcome, record.errors?.[0]?.code]),
      ).toEqual([['Load', 'denied', 'FORBIDDEN']]);
      expect(uploadFolders()).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
