import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // graphql ships both CommonJS and ESM builds; one instance must serve the schema and the tests.
    alias: { graphql: 'graphql/index.js' },
  },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          // test/browser: real Chromium (Debian's) against the private engine, in the same
          // one-file-at-a-time run as the other engine tests.
          include: ['test/integration/**/*.test.ts', 'test/browser/**/*.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts'],
          // One private engine serves every file; one file at a time keeps the
          // machine (2 cores) from starving engine calls that tests time-bound.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'fleet',
          include: ['test/fleet/**/*.test.ts'],
          // Three private engines at once, in netns and folders of their own
          // (DOCKERGRAPH_FLEET_PREFIX, default dgfleet), for several engines in one graph.
          globalSetup: ['test/helpers/fleet-setup.ts'],
          fileParallelism: false,
          // Engines are stopped and started again inside tests, and pages wait for them.
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'swarm',
          include: ['test/swarm/**/*.test.ts'],
          // A real swarm of three engines (scripts/swarm.sh), shared by every file of the run.
          globalSetup: ['test/helpers/swarm-setup.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'podman',
          include: ['test/podman/**/*.test.ts'],
          // A private rootful Podman serving the Docker-compatible API (test/helpers/podman-setup.ts).
          globalSetup: ['test/helpers/podman-setup.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'serverless',
          include: ['test/serverless/**/*.test.ts'],
          // The remote engine (mutual TLS) the targets reach, and the built artifacts.
          globalSetup: ['test/helpers/serverless-setup.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
