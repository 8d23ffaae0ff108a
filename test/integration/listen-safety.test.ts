// The server refuses to listen beyond loopback while no tokens are configured, saying what to
// set; with tokens it listens there. `npm start` prints the refusal and exits non-zero.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createDockerClient } from '../../src/docker/create-docker-client.ts';
import { createLogger } from '../../src/logger.ts';
import { type RunningServer, startServer, UnsafeListenError } from '../../src/server.ts';
import { makeRoleTokens } from '../helpers/access.ts';

const REFUSAL =
  'refusing to listen on 0.0.0.0 without authentication: anyone who reaches it would control Docker. Configure tokens (DOCKERGRAPH_TOKENS_FILE or DOCKERGRAPH_TOKENS; "npm run token" makes one), or listen on 127.0.0.1 (HOST)';

const run = promisify(execFile);

function configFor(env: Record<string, string>) {
  return loadConfig({
    HOME: '/nonexistent',
    DOCKER_HOST: inject('dockerHost'),
    PORT: '0',
    LOG_LEVEL: 'silent',
    DOCKERGRAPH_AUDIT: 'off',
    ...env,
  });
}

function clientFor(config: ReturnType<typeof loadConfig>) {
  return createDockerClient(config);
}

describe('listening beyond loopback', () => {
  const { tokens, env } = makeRoleTokens();
  let running: RunningServer | undefined;

  afterAll(async () => {
    await running?.stop(0);
  });

  it('is refused without tokens, with what to set', async () => {
    const config = configFor({ HOST: '0.0.0.0' });
    const docker = clientFor(config);
    try {
      const start = startServer(config, docker, createLogger('silent'));
      await expect(start).rejects.toBeInstanceOf(UnsafeListenError);
      await expect(start).rejects.toThrow(REFUSAL);
    } finally {
      await docker.close();
    }
  });

  it('is allowed on loopback without tokens', async () => {
    for (const host of ['127.0.0.1', 'localhost']) {
      const config = configFor({ HOST: host });
      const server = await startServer(config, clientFor(config), createLogger('silent'));
      await server.stop(0);
    }
  });

  it('listens with tokens, and lets in only requests that carry one', async () => {
    const config = configFor({ HOST: '0.0.0.0', ...env });
    running = await startServer(config, clientFor(config), createLogger('silent'));
    const port = new URL(running.url).port;
    expect(running.url).toBe(`http://0.0.0.0:${port}`);
    const graphqlAt = `http://127.0.0.1:${port}/graphql`;
    const ask = (headers: Record<string, string>) =>
      fetch(graphqlAt, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: '{ engine { name } }' }),
      });
    expect((await ask({})).status).toBe(401);
    const answer = await ask({ authorization: `Bearer ${tokens.viewer}` });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ data: { engine: { name: 'local' } } });
  });

  it('stops `npm start` with the refusal on stderr and a non-zero exit, without a stack trace', async () => {
    const root = join(import.meta.dirname, '..', '..');
    const failure = await run(join(root, 'node_modules', '.bin', 'tsx'), ['src/server.ts'], {
      cwd: root,
      // Only what the server needs: no tokens, and no engine is looked for before the refusal.
      env: {
        PATH: process.env.PATH ?? '',
        HOME: '/nonexistent',
        HOST: '0.0.0.0',
        PORT: '0',
        DOCKER_HOST: inject('dockerHost'),
        DOCKERGRAPH_EMBEDDED_ENGINE: 'false',
      },
    }).then(
      () => null,
      (error: unknown) => error as { code: number; stdout: string; stderr: string },
    );
    expect(failure).not.toBeNull();
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toBe(`dockergraph: ${REFUSAL}\n`);
    expect(failure?.stdout).toBe('');
  });
});
