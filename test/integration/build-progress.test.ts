// `buildImageProgress`: a build from an inline Dockerfile streamed line by line over
// graphql-ws, ending with the built image or the failure of its step.
import { print } from 'graphql';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/gql.ts';
import type { BuildImageInput, BuildImageWithProgressSubscription } from '../generated/graphql.ts';
import { readSubscription } from '../helpers/collect-subscription.ts';
import { BASE_IMAGE, EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const BuildProgressSubscription = graphql(`
  subscription BuildImageWithProgress($input: BuildImageInput!) {
    buildImageProgress(input: $input) {
      kind
      line
      step
      stepCount
      error
      errorCode
      image { dockerId tags label(name: "dockergraph.test") }
    }
  }
`);

type Message = BuildImageWithProgressSubscription['buildImageProgress'];

describe('buildImageProgress subscription', () => {
  const fixtures = new EngineFixtures();
  const runLabel = { name: TEST_LABEL, value: fixtures.run };
  let live: LiveServer | undefined;
  let client: Client;

  /** Subscribes and reads the stream to its end. */
  function build(input: BuildImageInput): Promise<{ messages: Message[]; errors: unknown[] }> {
    return readSubscription(
      'buildImageProgress',
      client.iterate<{ buildImageProgress: Message }>({
        query: print(BuildProgressSubscription),
        variables: { input },
      }),
    );
  }

  beforeAll(async () => {
    live = await startLiveServer();
    ({ client } = live);
  });

  afterAll(async () => {
    try {
      await live?.close();
    } finally {
      await fixtures.cleanup();
    }
  });

  it('streams the step headers and command output in order, then the built image', async () => {
    const tag = `${fixtures.name('build-progress')}:1`;
    const { messages, errors } = await build({
      dockerfile: [
        `FROM ${BASE_IMAGE}`,
        `RUN echo first-line-${fixtures.run} && echo second-line-${fixtures.run}`,
      ].join('\n'),
      tags: [tag],
      labels: [runLabel],
      noCache: true,
    });
    expect(errors).toEqual([]);
    const steps = messages.slice(0, -1);
    expect(steps.every((message) => message.kind === 'PROGRESS')).toBe(true);
    const lines = steps.map((message) => message.line);
    const header = lines.indexOf(
      `Step 2/3 : RUN echo first-line-${fixtures.run} && echo second-line-${fixtures.run}`,
    );
    const first = lines.indexOf(`first-line-${fixtures.run}`);
    const second = lines.indexOf(`second-line-${fixtures.run}`);
    expect(header).toBeGreaterThan(0);
    expect(first).toBeGreaterThan(header);
    expect(second).toBe(first + 1);
    expect(steps[header]).toMatchObject({ step: 2, stepCount: 3 });
    expect(lines[0]).toBe(`Step 1/3 : FROM ${BASE_IMAGE}`);
    expect(lines).toContain(`Step 3/3 : LABEL ${TEST_LABEL}=${fixtures.run}`);
    const last = messages.at(-1);
    expect(last).toMatchObject({
      kind: 'DONE',
      error: null,
      errorCode: null,
      line: null,
      image: { tags: [tag], label: fixtures.run },
    });
    expect(lines).toContain(`Successfully built ${last?.image?.dockerId.slice(7, 19)}`);
  });

  it('ends with FAILED and the engine’s reason when a RUN step fails', async () => {
    const { messages, errors } = await build({
      // The label comes first, so that the image the failed build leaves is cleaned up.
      dockerfile: [
        `FROM ${BASE_IMAGE}`,
        `LABEL ${TEST_LABEL}=${fixtures.run}`,
        'RUN echo about to fail && exit 3',
      ].join('\n'),
      labels: [runLabel],
      noCache: true,
    });
    expect(errors).toEqual([]);
    const lines = messages.map((message) => message.line);
    expect(lines).toContain('Step 3/4 : RUN echo about to fail && exit 3');
    expect(lines).toContain('about to fail');
    expect(messages.at(-1)).toEqual({
      kind: 'FAILED',
      line: null,
      step: null,
      stepCount: null,
      errorCode: 'BUILD_FAILED',
      error:
        "build image: The command '/bin/sh -c echo about to fail && exit 3' returned a non-zero code: 3",
      image: null,
    });
  });

  it('stops the build when the subscriber leaves', async () => {
    const started = `started-${fixtures.run}`;
    // The label comes first: the step's container inherits it, which finds it here.
    const dockerfile = [
      `FROM ${BASE_IMAGE}`,
      `LABEL ${TEST_LABEL}=${fixtures.run}`,
      `RUN echo ${started} && sleep 120`,
    ].join('\n');
    const stepContainers = async () =>
      (
        await fixtures.engine.json<{ Id: string; Command: string }[]>(
          {
            path: '/containers/json',
            query: {
              all: true,
              filters: JSON.stringify({ label: [`${TEST_LABEL}=${fixtures.run}`] }),
            },
          },
          'list build containers',
        )
      ).filter((container) => container.Command.includes(started));
    let runningDuringStep = 0;
    for await (const result of client.iterate<{ buildImageProgress: Message }>({
      query: print(BuildProgressSubscription),
      variables: { input: { dockerfile, labels: [runLabel], noCache: true } },
    })) {
      if (result.data?.buildImageProgress.line === started) {
        runningDuringStep = (await stepContainers()).length;
        break;
      }
      expect(result.data?.buildImageProgress.kind).toBe('PROGRESS');
    }
    expect(runningDuringStep).toBe(1);
    await waitFor(async () => (await stepContainers()).length === 0, {
      timeoutMs: 30_000,
      what: 'the build step’s container to be removed',
    });
  });

  it('rejects a build without Dockerfile or context before reaching the engine', async () => {
    const { messages, errors } = await build({ labels: [runLabel] });
    expect(messages).toEqual([]);
    expect(JSON.stringify(errors)).toContain(
      'give an inline Dockerfile (input.dockerfile), a remote context (input.remoteContext) or an uploaded context (context)',
    );
  });
});
