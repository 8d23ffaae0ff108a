// Engine plugins, read only: the test engine has none installed (no plugin registry is
// reachable from its network namespace), so the list is empty and a lookup answers null;
// a label-limited token may not read them at all (plugins serve every label).
import { afterAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/gql.ts';
import { randomToken, tokensEnv } from '../helpers/access.ts';
import { createTestApp, expectArgumentError } from '../helpers/app.ts';

const Plugins = graphql(`
  query Plugins($name: String!) {
    plugins { dockerId name enabled reference description capabilities }
    plugin(name: $name) { name enabled }
  }
`);

describe('plugins', () => {
  const admin = createTestApp();
  const limitedToken = randomToken();
  const limited = createTestApp(
    tokensEnv([{ id: 'team', role: 'viewer', token: limitedToken, labels: { team: 'web' } }]),
    { token: limitedToken },
  );

  afterAll(async () => {
    await Promise.all([admin.close(), limited.close()]);
  });

  it('lists the engine’s plugins (none here) and answers null for a missing one', async () => {
    let data: Awaited<ReturnType<typeof admin.query<unknown, unknown>>> | undefined;
    const calls = await admin.callsDuring(async () => {
      data = await admin.query(Plugins, { name: 'dockergraph/no-such-plugin' });
    });
    expect(data).toEqual({ plugins: [], plugin: null });
    // (The first call of a client negotiates the API version with `HEAD /_ping`.)
    expect(calls.filter((call) => call !== 'HEAD /_ping')).toEqual([
      'GET /plugins',
      'GET /plugins/dockergraph/no-such-plugin/json',
    ]);
  });

  it('refuses an empty name', async () => {
    expectArgumentError(await admin.execute(Plugins, { name: ' ' }), 'name');
  });

  it('shows no plugin to a label-limited token', async () => {
    const answer = await limited.execute(Plugins, { name: 'x' });
    expect(answer.data ?? null).toBeNull();
    expect(answer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
