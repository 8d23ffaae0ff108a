// Attacks on the built server (dist/server/index.mjs under plain node): requests must not
// change the code cache it writes beside its bundle, nor add files there; and with
// NODE_ENV=production it must refuse introspection and hide the schema's names in errors
// exactly as the server run from source (`npm start`) does with NODE_ENV=production.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTargets, TARGETS } from '../../scripts/build.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { startBuiltServer } from '../helpers/built-server.ts';
import { BUILT_SERVER_DIRECTORY, stopServerProcesses } from '../helpers/server-process.ts';
import { waitFor } from '../helpers/wait-for.ts';

const home = mkdtempSync(join(tmpdir(), 'dg-attack-built-'));

async function startBuilt(env: Record<string, string>): Promise<string> {
  return (await startBuiltServer(home, env)).url;
}

/** Every file beside the bundle with the SHA-256 of its content. */
function snapshot(): Record<string, string> {
  return Object.fromEntries(
    readdirSync(BUILT_SERVER_DIRECTORY)
      .sort()
      .map((file) => [
        file,
        createHash('sha256')
          .update(readFileSync(join(BUILT_SERVER_DIRECTORY, file)))
          .digest('hex'),
      ]),
  );
}

/** Requests that differ between production and development, or try to reach the disk. */
const PROBES: readonly { readonly name: string; readonly body: unknown }[] = [
  { name: 'introspection', body: { query: '{ __schema { queryType { name } } }' } },
  { name: 'type lookup', body: { query: '{ __type(name: "Container") { name } }' } },
  { name: 'misspelt field', body: { query: '{ containerz }' } },
  {
    name: 'misspelt enum',
    body: {
      query: 'query ($s: [ContainerState!]) { containers(filter: { states: $s }) { totalCount } }',
      variables: { s: ['RUNNIN'] },
    },
  },
  { name: 'syntax error', body: { query: '{ engine { ' } },
  { name: 'typename', body: { query: '{ __typename }' } },
];

async function answersOf(
  post: (body: unknown) => Promise<{ status: number; text: string }>,
): Promise<Record<string, { status: number; body: unknown }>> {
  const answers: Record<string, { status: number; body: unknown }> = {};
  for (const probe of PROBES) {
    const { status, text } = await post(probe.body);
    answers[probe.name] = { status, body: JSON.parse(text) };
  }
  return answers;
}

describe('the built server: attacks', () => {
  let source: TestApp;

  beforeAll(async () => {
    await buildTargets(TARGETS.filter((target) => target.name === 'server'));
    source = createTestApp({ NODE_ENV: 'production', DOCKERGRAPH_AUDIT: 'off' });
  }, 180_000);

  afterAll(async () => {
    await source?.close();
    await stopServerProcesses();
  });

  it('answers as `npm start` does with NODE_ENV=production, and requests leave its folder as it was', async () => {
    const url = await startBuilt({ NODE_ENV: 'production' });
    const post = async (body: unknown) => {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json',
        },
        body: JSON.stringify(body),
      });
      return { status: response.status, text: await response.text() };
    };
    // The first start writes its code cache once it has answered a GraphQL request, not before
    // (the build emptied the folder).
    expect(Object.keys(snapshot()).filter((file) => file.endsWith('.cache'))).toEqual([]);
    await post({ query: '{ __typename }' });
    const written = await waitFor(
      () => {
        const files = snapshot();
        return Object.keys(files).some((file) => file.endsWith('.cache')) && files;
      },
      { timeoutMs: 30_000, what: 'the built server to write its code cache' },
    );
    expect(Object.keys(written).filter((file) => file.endsWith('.cache'))).toHaveLength(1);
    const built = await answersOf(post);
    const fromSource = await answersOf((body) => source.post(body));
    expect(built).toEqual(fromSource);
    expect(JSON.stringify(built)).not.toContain('Did you mean');
    expect(JSON.stringify(built.introspection)).toContain('INTROSPECTION_DISABLED');

    // Requests naming files, caches and the bundle reach no file beside it.
    for (const path of [
      '/graphql?query=%7B__typename%7D',
      '/bundle.cjs',
      '/index.mjs',
      `/${Object.keys(written).find((file) => file.endsWith('.cache')) ?? ''}`,
      '/..%2fbundle.cjs',
      '/graphiql.cjs',
    ]) {
      const response = await fetch(`${url}${path}`);
      const text = await response.text();
      expect(text, path).not.toContain('__DG_BUNDLE__');
      expect(text.length < 100_000, `${path} answered a large file`).toBe(true);
    }
    // A second start reads the cache and does not rewrite it; nothing was added beside.
    await startBuilt({ NODE_ENV: 'production' });
    expect(snapshot()).toEqual(written);
  });
});
