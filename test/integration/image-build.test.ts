import { gzipSync } from 'node:zlib';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/gql.ts';
import type { GraphQLResponse } from '../helpers/app.ts';
import { useAppWithFixtures } from '../helpers/app-with-fixtures.ts';
import { BASE_IMAGE, createTar, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { REGISTRY_ADDRESS, startRegistry } from '../helpers/engine.ts';
import { expectType } from '../helpers/mutations.ts';

const BuildImage = graphql(`
  mutation BuildImageForTest($input: BuildImageInput!, $context: File) {
    buildImage(input: $input, context: $context) {
      __typename
      ... on BuildImagePayload {
        log
        logTruncated
        image {
          dockerId
          tags
          labels { name value }
          config { cmd workingDir env { name value } }
          history { createdBy }
        }
      }
      ... on BuildFailedError { log logTruncated }
      ... on MutationError { message }
      ... on InvalidInputError { field }
    }
  }
`);

const ImportImage = graphql(`
  mutation ImportImageForTest(
    $archive: File!
    $repository: String
    $tag: String
    $message: String
    $changes: [String!]
  ) {
    importImage(
      archive: $archive
      repository: $repository
      tag: $tag
      message: $message
      changes: $changes
    ) {
      __typename
      ... on ImportImagePayload {
        image { dockerId tags comment labels { name value } config { cmd } history { createdBy } }
      }
      ... on MutationError { message }
      ... on InvalidInputError { field }
    }
  }
`);

const LoadImages = graphql(`
  mutation LoadImagesForTest($archive: File!) {
    loadImages(archive: $archive) {
      __typename
      ... on LoadImagesPayload { images { dockerId tags label(name: "dg.kind") } }
      ... on MutationError { message }
      ... on InvalidInputError { field }
    }
  }
`);

const ImageByReference = graphql(`
  query ImageByReferenceForBuild($reference: String!) {
    image(reference: $reference) { dockerId tags }
  }
`);

describe('image build, import and load', () => {
  const { app, fixtures, runLabel } = useAppWithFixtures();
  const repository = fixtures.name('build');

  /**
   * Sends an operation as a GraphQL multipart request: each file replaces the
   * variable of the same name, as a client library would send it.
   */
  async function executeWithFiles<TData, TVariables>(
    document: TypedDocumentNode<TData, TVariables>,
    variables: Omit<TVariables, 'archive' | 'context'>,
    files: Record<string, Uint8Array>,
  ): Promise<GraphQLResponse<TData>> {
    const names = Object.keys(files);
    const form = new FormData();
    form.set(
      'operations',
      JSON.stringify({
        query: print(document),
        variables: { ...variables, ...Object.fromEntries(names.map((name) => [name, null])) },
      }),
    );
    form.set(
      'map',
      JSON.stringify(Object.fromEntries(names.map((name, i) => [i, [`variables.${name}`]]))),
    );
    names.forEach((name, i) => {
      form.set(String(i), new Blob([Buffer.from(files[name] ?? '')]), `${name}.tar`);
    });
    const response = await app.app.fetch('http://dockergraph.test/graphql', {
      method: 'POST',
      // Multipart is a form content type: CSRF prevention asks for this header.
      headers: { 'x-graphql-yoga-csrf': 'upload' },
      body: form,
    });
    return (await response.json()) as GraphQLResponse<TData>;
  }

  async function queryWithFiles<TData, TVariables>(
    document: TypedDocumentNode<TData, TVariables>,
    variables: Omit<TVariables, 'archive' | 'context'>,
    files: Record<string, Uint8Array>,
  ): Promise<TData> {
    const result = await executeWithFiles(document, variables, files);
    if (result.errors?.length || !result.data) {
      throw new Error(`operation failed: ${JSON.stringify(result.errors ?? result)}`);
    }
    return result.data;
  }

  /** The whole body of a raw engine answer: exports and saves. */
  async function download(path: string): Promise<Buffer> {
    const response = await fixtures.engine.request({ path }, `download ${path}`);
    const chunks: Buffer[] = [];
    for await (const chunk of response.body) chunks.push(Buffer.from(chunk as Uint8Array));
    return Buffer.concat(chunks);
  }

  /** Runs a container of `image` to its end and gives its exit code. */
  let containersRun = 0;
  async function exitCodeOf(image: string, cmd: string[]): Promise<number> {
    containersRun += 1;
    const id = await fixtures.createContainer(fixtures.name(`run${containersRun}`), {
      Image: image,
      Cmd: cmd,
    });
    await fixtures.startContainer(id);
    return fixtures.waitContainer(id);
  }

  const withoutEnginePing = (calls: string[]) => calls.filter((call) => call !== 'HEAD /_ping');

  describe('buildImage', () => {
    it('builds an inline Dockerfile with files, a build arg, labels and tags, and returns the image and log', async () => {
      const { buildImage } = await app.query(BuildImage, {
        input: {
          dockerfile: [
            `FROM ${BASE_IMAGE}`,
            'ARG GREETING=unset',
            'COPY greet.sh /app/greet.sh',
            'COPY conf/ /app/conf/',
            'RUN echo "built with $GREETING" > /app/built.txt && cat /app/built.txt',
            'LABEL org.example.stage=final',
            'ENV APP_HOME=/app',
            'WORKDIR /app',
            'CMD ["/app/greet.sh"]',
          ].join('\n'),
          files: [
            { path: 'greet.sh', content: '#!/bin/sh\nexec cat /app/conf/app.ini\n', mode: 0o755 },
            { path: 'conf/app.ini', content: `run=${fixtures.run}\n` },
          ],
          tags: [`${repository}:v1`, `${repository}:latest`],
          buildArgs: [{ name: 'GREETING', value: `hi-${fixtures.run}` }],
          labels: [runLabel, { name: 'dg.kind', value: 'inline' }],
        },
      });
      const { image, log, logTruncated } = expectType(buildImage, 'BuildImagePayload');
      expect(image.tags.sort()).toEqual([`${repository}:latest`, `${repository}:v1`]);
      expect(image.labels).toEqual(
        expect.arrayContaining([
          runLabel,
          { name: 'dg.kind', value: 'inline' },
          { name: 'org.example.stage', value: 'final' },
        ]),
      );
      expect(image.config?.cmd).toEqual(['/app/greet.sh']);
      expect(image.config?.workingDir).toBe('/app');
      expect(image.config?.env).toContainEqual({ name: 'APP_HOME', value: '/app' });
      // The classic builder records the build args a RUN saw in front of its command.
      expect(image.history.map((layer) => layer.createdBy)).toContainEqual(
        expect.stringMatching(new RegExp(`GREETING=hi-${fixtures.run} .*echo "built with`)),
      );
      // Labels of the input become LABEL steps of their own after the Dockerfile's nine.
      expect(log).toContain(`Step 1/11 : FROM ${BASE_IMAGE}`);
      expect(log).toContain(`Step 11/11 : LABEL ${TEST_LABEL}=${fixtures.run}`);
      expect(log).toContain(`built with hi-${fixtures.run}`);
      expect(log).toContain(`Successfully built ${image.dockerId.slice(7, 19)}`);
      expect(log).toContain(`Successfully tagged ${repository}:v1`);
      expect(log.filter((line) => line.includes('\n') || line.includes('\r'))).toEqual([]);
      expect(logTruncated).toBe(false);
      // The script runs only when its mode 0755 reached the image.
      expect(await exitCodeOf(`${repository}:v1`, ['/app/greet.sh'])).toBe(0);
      expect(
        await exitCodeOf(`${repository}:v1`, ['grep', '-q', fixtures.run, '/app/conf/app.ini']),
      ).toBe(0);
    });

    it('builds the target stage of a multi-stage Dockerfile, or the last stage without one', async () => {
      const dockerfile = [
        `FROM ${BASE_IMAGE} AS builder`,
        `RUN echo compiled-${fixtures.run} > /artifact`,
        'LABEL org.example.stage=builder',
        `FROM ${BASE_IMAGE} AS final`,
        'COPY --from=builder /artifact /artifact',
        'LABEL org.example.stage=final',
      ].join('\n');
      const stage = await app.query(BuildImage, {
        input: { dockerfile, target: 'builder', labels: [runLabel] },
      });
      const builder = expectType(stage.buildImage, 'BuildImagePayload');
      expect(builder.image.labels).toContainEqual({ name: 'org.example.stage', value: 'builder' });
      expect(builder.log.join('\n')).not.toContain('COPY --from=builder');

      const whole = await app.query(BuildImage, { input: { dockerfile, labels: [runLabel] } });
      const final = expectType(whole.buildImage, 'BuildImagePayload');
      expect(final.image.labels).toContainEqual({ name: 'org.example.stage', value: 'final' });
      expect(final.log.join('\n')).toContain('COPY --from=builder /artifact /artifact');
      expect(final.image.dockerId).not.toBe(builder.image.dockerId);
    });

    it('builds an uploaded, gzip-compressed context with its Dockerfile at a custom path', async () => {
      const context = gzipSync(
        createTar([
          {
            path: 'build/app.Dockerfile',
            content: [
              `FROM ${BASE_IMAGE}`,
              'COPY data/hello.txt /hello.txt',
              'RUN cat /hello.txt',
            ].join('\n'),
          },
          { path: 'data/hello.txt', content: `hello from upload ${fixtures.run}\n` },
        ]),
      );
      const { buildImage } = await queryWithFiles(
        BuildImage,
        {
          input: {
            dockerfilePath: 'build/app.Dockerfile',
            tags: [`${repository}:uploaded`],
            labels: [runLabel],
          },
        },
        { context },
      );
      const { image, log } = expectType(buildImage, 'BuildImagePayload');
      expect(image.tags).toEqual([`${repository}:uploaded`]);
      expect(log).toContain(`hello from upload ${fixtures.run}`);
    });

    it('reuses cached steps, and runs them again with noCache', async () => {
      const input = {
        dockerfile: `FROM ${BASE_IMAGE}\nRUN echo cache-probe-${fixtures.run}\n`,
        labels: [runLabel],
      };
      const first = expectType(
        (await app.query(BuildImage, { input })).buildImage,
        'BuildImagePayload',
      );
      expect(first.log).toContain(`cache-probe-${fixtures.run}`);

      const cached = expectType(
        (await app.query(BuildImage, { input })).buildImage,
        'BuildImagePayload',
      );
      expect(cached.log).toContain(' ---> Using cache');
      expect(cached.log).not.toContain(`cache-probe-${fixtures.run}`);
      expect(cached.image.dockerId).toBe(first.image.dockerId);

      const fresh = expectType(
        (await app.query(BuildImage, { input: { ...input, noCache: true } })).buildImage,
        'BuildImagePayload',
      );
      expect(fresh.log.join('\n')).not.toContain('Using cache');
      expect(fresh.log).toContain(`cache-probe-${fixtures.run}`);
    });

    it('answers a failing RUN step with BuildFailedError carrying the log so far', async () => {
      const { buildImage } = await app.query(BuildImage, {
        input: {
          // The engine keeps the image of the last step that succeeded; labelled this early,
          // it goes with the other fixtures.
          dockerfile: [
            `FROM ${BASE_IMAGE}`,
            `LABEL ${TEST_LABEL}=${fixtures.run}`,
            `RUN echo before-failure-${fixtures.run}`,
            'RUN echo about to fail >&2 && exit 3',
            'RUN echo never',
          ].join('\n'),
        },
      });
      const error = expectType(buildImage, 'BuildFailedError');
      expect(error.message).toBe(
        "build image: The command '/bin/sh -c echo about to fail >&2 && exit 3' returned a non-zero code: 3",
      );
      expect(error.log).toContain(`before-failure-${fixtures.run}`);
      expect(error.log).toContain('Step 4/5 : RUN echo about to fail >&2 && exit 3');
      // The engine wraps stderr in colour codes; the log has the text alone.
      expect(error.log).toContain('about to fail');
      expect(error.log.join('\n')).not.toContain('\u001b');
      expect(error.log.join('\n')).not.toContain('RUN echo never');
      expect(error.logTruncated).toBe(false);
    });

    it('answers a FROM image that no registry has with NotFoundError', async () => {
      await startRegistry();
      const missing = `${REGISTRY_ADDRESS}/dg-missing-${fixtures.run}:latest`;
      const { buildImage } = await app.query(BuildImage, {
        input: { dockerfile: `FROM ${missing}\nRUN true\n`, labels: [runLabel] },
      });
      expect(expectType(buildImage, 'NotFoundError').message).toContain(
        `manifest for ${missing} not found`,
      );
    });

    it('keeps the last lines of a log longer than the cap, and says so', async () => {
      const { buildImage } = await app.query(BuildImage, {
        input: {
          dockerfile: `FROM ${BASE_IMAGE}\nRUN seq 1 12000 && echo long-${fixtures.run}\n`,
          labels: [runLabel],
        },
      });
      const { log, logTruncated } = expectType(buildImage, 'BuildImagePayload');
      expect(logTruncated).toBe(true);
      expect(log).toHaveLength(10_000);
      expect(log).toContain(`long-${fixtures.run}`);
      expect(log.at(-1)).toMatch(/^Successfully built [0-9a-f]{12}$/);
      expect(log).not.toContain(`Step 1/2 : FROM ${BASE_IMAGE}`);
    });

    it('names the input the engine refused: Dockerfile text, target, Dockerfile path, context', async () => {
      const unparsable = await app.query(BuildImage, {
        input: { dockerfile: `FROM ${BASE_IMAGE}\nFROB the widget\n`, labels: [runLabel] },
      });
      const parseError = expectType(unparsable.buildImage, 'InvalidInputError');
      expect(parseError.field).toBe('input.dockerfile');
      expect(parseError.message).toContain('unknown instruction: FROB');

      const noStage = await app.query(BuildImage, {
        input: { dockerfile: `FROM ${BASE_IMAGE} AS one\n`, target: 'two', labels: [runLabel] },
      });
      const targetError = expectType(noStage.buildImage, 'InvalidInputError');
      expect(targetError.field).toBe('input.target');
      expect(targetError.message).toContain('failed to reach build target two');

      const elsewhere = await queryWithFiles(
        BuildImage,
        { input: { dockerfilePath: 'sub/Dockerfile', labels: [runLabel] } },
        { context: createTar({ Dockerfile: `FROM ${BASE_IMAGE}\n` }) },
      );
      const pathError = expectType(elsewhere.buildImage, 'InvalidInputError');
      expect(pathError.field).toBe('input.dockerfilePath');
      expect(pathError.message).toContain('Cannot locate specified Dockerfile: sub/Dockerfile');

      const notTar = await queryWithFiles(
        BuildImage,
        { input: { labels: [runLabel] } },
        { context: Buffer.from('this is not a tar archive') },
      );
      expect(expectType(notTar.buildImage, 'InvalidInputError').field).toBe('context');
    });

    it('refuses both or neither of dockerfile and context, bad tags and bad file paths, before the engine', async () => {
      const calls = await app.callsDuring(async () => {
        const neither = await app.query(BuildImage, { input: { labels: [runLabel] } });
        const neitherError = expectType(neither.buildImage, 'InvalidInputError');
        expect(neitherError.field).toBe('input.dockerfile');
        expect(neitherError.message).toContain('or an uploaded context');

        const both = await queryWithFiles(
          BuildImage,
          { input: { dockerfile: `FROM ${BASE_IMAGE}\n` } },
          { context: createTar({ Dockerfile: `FROM ${BASE_IMAGE}\n` }) },
        );
        const bothError = expectType(both.buildImage, 'InvalidInputError');
        expect(bothError.field).toBe('input.dockerfile');
        expect(bothError.message).toContain('not both');

        const badTag = await app.query(BuildImage, {
          input: { dockerfile: `FROM ${BASE_IMAGE}\n`, tags: [`${repository}:ok`, 'Upper/Case:x'] },
        });
        const tagError = expectType(badTag.buildImage, 'InvalidInputError');
        expect(tagError.field).toBe('input.tags[1]');
        expect(tagError.message).toContain('"Upper"');

        const outside = await app.query(BuildImage, {
          input: {
            dockerfile: `FROM ${BASE_IMAGE}\n`,
            files: [
              { path: 'ok.txt', content: '' },
              { path: '../etc/passwd', content: '' },
            ],
          },
        });
        expect(expectType(outside.buildImage, 'InvalidInputError').field).toBe(
          'input.files[1].path',
        );

        const clash = await app.query(BuildImage, {
          input: {
            dockerfile: `FROM ${BASE_IMAGE}\n`,
            files: [{ path: 'Dockerfile', content: '' }],
          },
        });
        const clashError = expectType(clash.buildImage, 'InvalidInputError');
        expect(clashError.field).toBe('input.files[0].path');
        expect(clashError.message).toContain('input.dockerfilePath');
      });
      expect(withoutEnginePing(calls)).toEqual([]);
    });
  });

  describe('importImage', () => {
    let exported: Buffer;

    beforeAll(async () => {
      const id = await fixtures.createContainer(fixtures.name('export'));
      exported = await download(`/containers/${id}/export`);
    });

    it('imports a container export with a repository, tag, message and changes', async () => {
      const importRepository = fixtures.name('import');
      const { importImage } = await queryWithFiles(
        ImportImage,
        {
          repository: importRepository,
          tag: 'v1',
          message: `imported by ${fixtures.run}`,
          changes: ['CMD ["sh"]', `LABEL ${TEST_LABEL}=${fixtures.run}`],
        },
        { archive: exported },
      );
      const { image } = expectType(importImage, 'ImportImagePayload');
      expect(image.tags).toEqual([`${importRepository}:v1`]);
      expect(image.comment).toBe(`imported by ${fixtures.run}`);
      expect(image.config?.cmd).toEqual(['sh']);
      expect(image.labels).toContainEqual(runLabel);
      expect(image.history).toHaveLength(1);
      // The imported file system is the base image's: its shell runs.
      expect(await exitCodeOf(image.dockerId, ['sh', '-c', 'exit 7'])).toBe(7);
    });

    it('refuses a non-tar upload with the engine’s words, naming the archive', async () => {
      const { importImage } = await queryWithFiles(
        ImportImage,
        { repository: fixtures.name('notar') },
        { archive: Buffer.from('this is not a tar archive') },
      );
      const error = expectType(importImage, 'InvalidInputError');
      expect(error.field).toBe('archive');
      expect(error.message).toContain('Error processing tar file');
      const { image } = await app.query(ImageByReference, { reference: fixtures.name('notar') });
      expect(image).toBeNull();
    });

    it('refuses a tag without repository and an unknown change instruction, before the engine', async () => {
      const archive = createTar({ 'file.txt': 'x' });
      const calls = await app.callsDuring(async () => {
        const tagOnly = await queryWithFiles(ImportImage, { tag: 'v1' }, { archive });
        expect(expectType(tagOnly.importImage, 'InvalidInputError').field).toBe('tag');
        const badChange = await queryWithFiles(
          ImportImage,
          { repository: fixtures.name('bad'), changes: ['CMD ["sh"]', 'RUN rm -rf /'] },
          { archive },
        );
        const changeError = expectType(badChange.importImage, 'InvalidInputError');
        expect(changeError.field).toBe('changes[1]');
        const withTag = await queryWithFiles(
          ImportImage,
          { repository: `${fixtures.name('bad')}:v1` },
          { archive },
        );
        expect(expectType(withTag.importImage, 'InvalidInputError').field).toBe('repository');
      });
      expect(withoutEnginePing(calls)).toEqual([]);
    });
  });

  describe('loadImages', () => {
    it('loads a saved image back after it was removed', async () => {
      const tag = `${fixtures.name('saved')}:v1`;
      const id = await fixtures.buildImage(
        tag,
        `FROM ${BASE_IMAGE}\nRUN echo saved-${fixtures.run} > /saved.txt\n`,
        { 'dg.kind': 'saved' },
      );
      const archive = await download(`/images/${tag}/get`);
      await fixtures.send({ method: 'DELETE', path: `/images/${tag}` }, `remove ${tag}`);
      expect((await app.query(ImageByReference, { reference: tag })).image).toBeNull();

      const { loadImages } = await queryWithFiles(LoadImages, {}, { archive });
      const { images } = expectType(loadImages, 'LoadImagesPayload');
      expect(images).toEqual([{ dockerId: id, tags: [tag], label: 'saved' }]);
      expect((await app.query(ImageByReference, { reference: tag })).image).toEqual({
        dockerId: id,
        tags: [tag],
      });
    });

    it('refuses an upload that is not a tar, or a tar that is not an image archive', async () => {
      const garbage = await queryWithFiles(
        LoadImages,
        {},
        { archive: Buffer.from('this is not a tar archive') },
      );
      const garbageError = expectType(garbage.loadImages, 'InvalidInputError');
      expect(garbageError.field).toBe('archive');
      expect(garbageError.message).toContain('Error processing tar file');

      const plainTar = await queryWithFiles(
        LoadImages,
        {},
        { archive: createTar({ 'notes.txt': 'not an image\n' }) },
      );
      const plainError = expectType(plainTar.loadImages, 'InvalidInputError');
      expect(plainError.field).toBe('archive');
      expect(plainError.message).toContain('not an image archive');
      // The engine's own message names its data folder; the answer does not.
      expect(plainError.message).not.toMatch(/docker-import|\/tmp\//);
    });
  });
});
