// The example operations of examples/ (and the README) run as documented against the real engine.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.ts';
import { EngineFixtures } from '../helpers/docker-fixtures.ts';

const example = (name: string) =>
  readFileSync(new URL(`../../examples/${name}.graphql`, import.meta.url), 'utf8');

interface Answer {
  data?: Record<string, { __typename?: string; message?: string } & Record<string, unknown>>;
  errors?: unknown[];
}

describe('examples/', () => {
  const app = createTestApp();
  const fixtures = new EngineFixtures();

  async function run(name: string, variables: Record<string, unknown> = {}): Promise<Answer> {
    const response = await app.app.fetch('http://dockergraph.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: example(name), variables }),
    });
    const answer = (await response.json()) as Answer;
    expect(answer.errors).toBeUndefined();
    for (const [field, result] of Object.entries(answer.data ?? {})) {
      expect({ field, message: result?.message }).toEqual({ field, message: undefined });
    }
    return answer;
  }

  afterAll(async () => {
    // The examples use fixed names, as a reader would.
    const engine = fixtures.engine;
    await engine
      .request(
        { method: 'DELETE', path: '/containers/web', query: { force: true }, acceptStatus: [404] },
        'remove web',
      )
      .then((r) => r.body.dump());
    await engine
      .request(
        { method: 'DELETE', path: '/networks/backend', acceptStatus: [404] },
        'remove backend',
      )
      .then((r) => r.body.dump());
    await engine
      .request(
        { method: 'DELETE', path: '/volumes/web-data', acceptStatus: [404] },
        'remove web-data',
      )
      .then((r) => r.body.dump());
    await engine
      .request(
        { method: 'DELETE', path: '/images/hello:1', query: { force: true }, acceptStatus: [404] },
        'remove hello:1',
      )
      .then((r) => r.body.dump());
    await fixtures.cleanup();
    await app.close();
  });

  it('runs the README walk-through: run a web server, exec in it, join a network, build an image', async () => {
    const runWeb = await run('run-web');
    expect(runWeb.data?.createContainer).toMatchObject({
      __typename: 'ContainerPayload',
      container: { name: 'web', state: 'RUNNING' },
    });

    const exec = await run('exec');
    expect(exec.data?.execInContainer).toMatchObject({
      exitCode: 0,
      stderr: 'done\n',
      truncated: false,
    });

    const backend = await run('network');
    expect(backend.data?.createNetwork).toMatchObject({ network: { name: 'backend' } });
    expect(JSON.stringify(backend.data?.connectContainerToNetwork)).toContain('"aliases":["db"');

    const build = await run('build');
    expect(build.data?.buildImage).toMatchObject({ image: { tags: ['hello:1'] } });
  });

  it('runs the example queries', async () => {
    for (const name of ['overview', 'disk-usage']) await run(name);
    await run('container-logs', { idOrName: 'web' });
    await run('running-with-stats', { project: 'none' });
  });
});
