// `pullImageProgress`: a pull from the local registry streamed step by step, ending with the
// pulled image or the failure. The base image is pushed to the registry through the raw Engine
// API first, and its tag removed from the engine again, so that the pull has work to do.
import { print } from 'graphql';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRegistryAuth } from '../../src/docker/registry-auth.ts';
import { graphql } from '../generated/gql.ts';
import type { PullImageWithProgressSubscription } from '../generated/graphql.ts';
import { readSubscription } from '../helpers/collect-subscription.ts';
import { BASE_IMAGE, EngineFixtures } from '../helpers/docker-fixtures.ts';
import { startRegistry } from '../helpers/engine.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';

const PullProgressSubscription = graphql(`
  subscription PullImageWithProgress($reference: String!) {
    pullImageProgress(reference: $reference) {
      kind
      status
      layer
      current
      total
      error
      errorCode
      image { dockerId tags }
    }
  }
`);

type Message = PullImageWithProgressSubscription['pullImageProgress'];

describe('pullImageProgress subscription', () => {
  const fixtures = new EngineFixtures();
  let live: LiveServer | undefined;
  let client: Client;
  let repository = '';
  let imageId = '';

  async function untag(reference: string): Promise<void> {
    await fixtures.send(
      { method: 'DELETE', path: `/images/${reference}`, acceptStatus: [404] },
      `untag ${reference}`,
    );
  }

  /** Subscribes and reads the stream to its end. */
  function pull(reference: string): Promise<{ messages: Message[]; errors: unknown[] }> {
    return readSubscription(
      'pullImageProgress',
      client.iterate<{ pullImageProgress: Message }>({
        query: print(PullProgressSubscription),
        variables: { reference },
      }),
    );
  }

  beforeAll(async () => {
    const registry = await startRegistry();
    repository = `${registry}/dg-progress-${fixtures.run}/busybox`;
    // An image with a layer of its own, so that the pull downloads and extracts something.
    const maker = await fixtures.runContainer(
      fixtures.name('progress-layer'),
      { Image: BASE_IMAGE, Cmd: ['sh', '-c', 'head -c 400000 /dev/urandom > /blob'] },
      true,
    );
    imageId = (
      await fixtures.engine.json<{ Id: string }>(
        {
          method: 'POST',
          path: '/commit',
          query: { container: maker, repo: repository, tag: 'latest' },
        },
        'commit the layer image',
      )
    ).Id;
    const pushed = await fixtures.engine.request(
      {
        method: 'POST',
        path: `/images/${repository}/push`,
        query: { tag: 'latest' },
        headers: { 'x-registry-auth': encodeRegistryAuth(undefined) },
        timeoutMs: 120_000,
      },
      'push the layer image',
    );
    expect(await pushed.body.text()).not.toContain('"error"');
    // Untagging its only name deletes the image and its layer from the engine.
    await untag(`${repository}:latest`);

    live = await startLiveServer();
    ({ client } = live);
  }, 120_000);

  afterAll(async () => {
    try {
      await live?.close();
    } finally {
      if (repository !== '') await untag(`${repository}:latest`);
      await fixtures.cleanup();
    }
  });

  it('streams the steps of each layer, then the pulled image', async () => {
    const { messages, errors } = await pull(repository);
    expect(errors).toEqual([]);
    const steps = messages.slice(0, -1);
    expect(steps.length).toBeGreaterThan(0);
    expect(steps.every((message) => message.kind === 'PROGRESS')).toBe(true);
    // The base image's layer is known to the engine; the new one is fetched with byte counts.
    const layerSteps = steps.filter(
      (message) => message.layer !== null && message.layer !== 'latest',
    );
    for (const step of layerSteps) expect(step.layer).toMatch(/^[0-9a-f]{12}$/);
    const statuses = layerSteps.map((message) => message.status);
    expect(statuses).toContain('Already exists');
    expect(statuses).toContain('Pull complete');
    const downloading = layerSteps.filter((message) => message.status === 'Downloading');
    expect(downloading.length).toBeGreaterThan(0);
    for (const step of downloading) {
      expect(step.current).toBeGreaterThan(0);
      expect(step.total).toBeGreaterThanOrEqual(step.current ?? 0);
    }
    expect(steps.map((message) => message.status)).toContainEqual(
      expect.stringMatching(/^Digest: sha256:/),
    );
    expect(messages.at(-1)).toMatchObject({
      kind: 'DONE',
      error: null,
      image: { dockerId: imageId, tags: [`${repository}:latest`] },
    });
  });

  it('ends with FAILED and the registry’s reason when the image does not exist', async () => {
    const { messages, errors } = await pull(`${repository}:no-such-tag`);
    expect(errors).toEqual([]);
    expect(messages.at(-1)).toMatchObject({
      kind: 'FAILED',
      errorCode: 'NOT_FOUND',
      error: expect.stringMatching(/not found|manifest unknown/i),
      image: null,
    });
  });

  it('rejects an invalid reference before reaching the engine', async () => {
    const { messages, errors } = await pull('Not A Reference');
    expect(messages).toEqual([]);
    expect(JSON.stringify(errors)).toMatch(/reference/);
  });
});
