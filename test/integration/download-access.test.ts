// The download routes (`/files/…`) under the rules of `/graphql`: a valid token, the `dangerous`
// permission (a container's files and an image's layers may hold any secret), and the label
// limit of the token, which answers what it may not see as missing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomToken, tokensEnv } from '../helpers/access.ts';
import { createTestApp } from '../helpers/app.ts';
import { BASE_IMAGE, EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';

const fixtures = new EngineFixtures();
const tokens = { viewer: randomToken(), admin: randomToken(), limited: randomToken() };
const LIMIT = { [TEST_LABEL]: fixtures.run, team: 'payments' };
const app = createTestApp(
  tokensEnv([
    { id: 'viewer', role: 'viewer', token: tokens.viewer },
    { id: 'admin', role: 'admin', token: tokens.admin },
    { id: 'payments', role: 'admin', token: tokens.limited, labels: LIMIT },
  ]),
);

const payName = fixtures.name('pay');
const otherName = fixtures.name('other');
const payImage = `dg-dl-pay-${fixtures.run}:1`;
const otherImage = `dg-dl-other-${fixtures.run}:1`;

beforeAll(async () => {
  await fixtures.buildImage(payImage, `FROM ${BASE_IMAGE}\n`, { team: 'payments' });
  await fixtures.buildImage(otherImage, `FROM ${BASE_IMAGE}\nLABEL purpose=other\n`);
  await fixtures.createContainer(payName, { Labels: { team: 'payments' } });
  await fixtures.createContainer(otherName);
}, 120_000);

afterAll(async () => {
  await fixtures.cleanup();
  await app.close();
});

/** Fetches a download link with `token` (none when undefined); the engine calls it made. */
async function download(link: string, token: string | undefined) {
  let response: Response | undefined;
  const calls = await app.callsDuring(async () => {
    response = await app.app.fetch(`http://dockergraph.test${link}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
  });
  if (!response) throw new Error('no response');
  const body =
    response.headers.get('content-type') === 'application/x-tar'
      ? { tarBytes: (await response.arrayBuffer()).byteLength }
      : ((await response.json()) as { error?: { code: string; message: string } });
  return { status: response.status, body, calls };
}

const routes = [
  {
    name: 'archive',
    link: (container: string) => `/files/local/containers/${container}/archive?path=/etc/hostname`,
  },
  { name: 'export', link: (container: string) => `/files/local/containers/${container}/export` },
  {
    name: 'image save',
    link: (_container: string, image = otherImage) =>
      `/files/local/images/save?reference=${encodeURIComponent(image)}`,
  },
];

describe.each(routes)('the $name download', ({ link }) => {
  it('needs a token (401) before any engine call', async () => {
    const { status, body, calls } = await download(link(otherName), undefined);
    expect(status).toBe(401);
    expect(JSON.stringify(body)).toContain('UNAUTHENTICATED');
    expect(calls).toEqual([]);
  });

  it('needs the dangerous permission (403 for a viewer) before any engine call', async () => {
    const { status, body, calls } = await download(link(otherName), tokens.viewer);
    expect(status).toBe(403);
    expect(body).toEqual({
      errors: [
        {
          message:
            'token "viewer" (role "viewer") may not download container files or images: it needs the "dangerous" permission',
          extensions: { code: 'FORBIDDEN' },
        },
      ],
    });
    expect(calls).toEqual([]);
  });

  it('serves an admin', async () => {
    const { status, body } = await download(link(otherName), tokens.admin);
    expect(status).toBe(200);
    expect(body).toMatchObject({ tarBytes: expect.any(Number) });
  });

  it('answers a token limited to labels 404 for what it may not see, as for what is missing', async () => {
    const refused = await download(link(otherName, otherImage), tokens.limited);
    expect(refused.status).toBe(404);
    expect(refused.body).toMatchObject({ errors: [{ extensions: { code: 'NOT_FOUND' } }] });
    const missingName = fixtures.name('missing');
    const missing = await download(link(missingName, `dg-missing-${fixtures.run}:1`), tokens.admin);
    expect(missing.status).toBe(404);
    const words = (answer: typeof missing, ...names: string[]) =>
      names.reduce((text, name) => text.replaceAll(name, '<name>'), JSON.stringify(answer.body));
    expect(words(refused, otherName, otherImage)).toBe(
      words(missing, `dg-missing-${fixtures.run}:1`, missingName),
    );
    expect(refused.calls.filter((call) => !call.startsWith('GET '))).toEqual([]);
    // Nothing was read from the container or image.
    expect(refused.calls.filter((call) => /\/(archive|export|images\/get)$/.test(call))).toEqual(
      [],
    );
    const own = await download(link(payName, payImage), tokens.limited);
    expect(own.status).toBe(200);
  });
});
