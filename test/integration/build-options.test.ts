// The options buildImage gives the RUN steps of a build (network, extra hosts, limits), seen from
// inside the steps on the private engine.
import { afterAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.ts';
import { BASE_IMAGE, EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';

type Answer = {
  data?: Record<string, { __typename: string; log?: string[]; message?: string }> | null;
  errors?: { message: string }[];
};

const BUILD = `mutation ($input: BuildImageInput!) {
  buildImage(input: $input) {
    __typename
    ... on BuildImagePayload { log }
    ... on MutationError { message }
  }
}`;

describe('buildImage: options of the RUN steps', () => {
  const app = createTestApp();
  const fixtures = new EngineFixtures();

  afterAll(async () => {
    await fixtures.engine
      .request(
        {
          method: 'POST',
          path: '/images/prune',
          query: {
            filters: JSON.stringify({
              label: [`${TEST_LABEL}=${fixtures.run}`],
              dangling: ['false'],
            }),
          },
        },
        'prune',
      )
      .then((response) => response.body.dump());
    await fixtures.cleanup();
    await app.close();
  });

  it('runs the steps without a network, with extra hosts and a memory limit', async () => {
    const answer = (
      await app.post<Answer>({
        query: BUILD,
        variables: {
          input: {
            dockerfile: [
              `FROM ${BASE_IMAGE}`,
              // Only the loopback interface: the step has no network.
              'RUN test ! -e /sys/class/net/eth0 && echo no-network',
              'RUN grep db.local /etc/hosts',
              'RUN cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max 2>/dev/null || true',
            ].join('\n'),
            tags: [`dg-build-options-${fixtures.run}:1`],
            labels: [{ name: TEST_LABEL, value: fixtures.run }],
            networkMode: 'none',
            extraHosts: ['db.local:10.1.2.3'],
            memoryBytes: 64 * 1024 * 1024,
            memorySwapBytes: -1,
            noCache: true,
          },
        },
      })
    ).body;
    expect(answer.errors, JSON.stringify(answer)).toBeUndefined();
    const payload = answer.data?.buildImage;
    expect(payload?.__typename, JSON.stringify(payload)).toBe('BuildImagePayload');
    const log = (payload?.log ?? []).join('\n');
    expect(log).toContain('no-network');
    expect(log).toMatch(/10\.1\.2\.3\s+db\.local/);
    expect(log).toContain(String(64 * 1024 * 1024));
  });
});
