// checkRegistryLogin against the local registry that asks for credentials (127.0.0.1:5001,
// reachable by the engine only): good and bad credentials, the password never echoed, and the
// registry allow-list enforced below the privileged level.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/gql.ts';
import { admissionControlsOf, randomToken, tokensEnv } from '../helpers/access.ts';
import { createTestApp } from '../helpers/app.ts';
import { type AuthRegistry, startAuthRegistry } from '../helpers/engine.ts';
import { expectType } from '../helpers/mutations.ts';

const CheckLogin = graphql(`
  mutation CheckLogin(
    $registry: String!
    $username: String
    $password: String
    $identityToken: String
  ) {
    checkRegistryLogin(
      registry: $registry
      username: $username
      password: $password
      identityToken: $identityToken
    ) {
      __typename
      ... on RegistryLoginCheck { registry valid message identityTokenIssued }
      ... on MutationError { message }
      ... on InvalidInputError { field }
    }
  }
`);

describe('checkRegistryLogin', () => {
  let registry: AuthRegistry;
  const admin = createTestApp();
  const restrictedToken = randomToken();
  const baselineToken = randomToken();
  const env = {
    ...tokensEnv(
      [
        { id: 'restricted', role: 'restricted-writer', token: restrictedToken },
        { id: 'baseline', role: 'writer', token: baselineToken },
      ],
      {
        writer: ['read', 'write'],
        'restricted-writer': { permissions: ['read', 'write'], admission: 'restricted' },
      },
    ),
    DOCKERGRAPH_REGISTRIES: '127.0.0.1:5001',
  };
  const restricted = createTestApp(env, { token: restrictedToken });
  const baseline = createTestApp(env, { token: baselineToken });

  beforeAll(async () => {
    registry = await startAuthRegistry();
  });

  afterAll(async () => {
    await Promise.all([admin.close(), restricted.close(), baseline.close()]);
  });

  it('says the right credentials work, without storing or echoing them', async () => {
    const answer = await admin.execute(CheckLogin, {
      registry: registry.address,
      username: registry.username,
      password: registry.password,
    });
    const check = expectType(answer.data?.checkRegistryLogin, 'RegistryLoginCheck');
    expect(check).toMatchObject({
      registry: registry.address,
      valid: true,
      message: 'Login Succeeded',
      // A basic-auth registry issues no identity token.
      identityTokenIssued: false,
    });
    expect(JSON.stringify(answer)).not.toContain(registry.password);
  });

  it('says a wrong password does not work, and never echoes it', async () => {
    const wrong = `wrong-${randomToken()}`;
    const answer = await admin.execute(CheckLogin, {
      registry: registry.address,
      username: registry.username,
      password: wrong,
    });
    const check = expectType(answer.data?.checkRegistryLogin, 'RegistryLoginCheck');
    expect(check.valid).toBe(false);
    expect(check.identityTokenIssued).toBe(false);
    expect(check.message).toMatch(/401|unauthorized/i);
    expect(JSON.stringify(answer)).not.toContain(wrong);
  });

  it('refuses a registry that is not "host[:port]" and a password without a user', async () => {
    const bad = await admin.query(CheckLogin, {
      registry: 'http://127.0.0.1:5001/v2',
      username: 'u',
      password: 'p',
    });
    expect(expectType(bad.checkRegistryLogin, 'InvalidInputError').field).toBe('registry');
    const noUser = await admin.query(CheckLogin, { registry: registry.address, password: 'p' });
    expect(expectType(noUser.checkRegistryLogin, 'InvalidInputError').field).toBe('username');
  });

  it('lets a restricted token check a listed registry', async () => {
    const answer = await restricted.query(CheckLogin, {
      registry: registry.address,
      username: registry.username,
      password: registry.password,
    });
    expect(expectType(answer.checkRegistryLogin, 'RegistryLoginCheck').valid).toBe(true);
  });

  it.each([
    ['restricted', restricted],
    ['baseline', baseline],
  ] as const)(
    'refuses at %s a registry outside DOCKERGRAPH_REGISTRIES, under any of its spellings, before the engine is asked',
    async (level, app) => {
      // The same host spelled another way is still another registry: only the listed one passes.
      for (const other of ['127.0.0.1:5000', 'localhost:5001', '169.254.169.254']) {
        let answer: Awaited<ReturnType<typeof app.execute<unknown, unknown>>> | undefined;
        const calls = await app.callsDuring(async () => {
          answer = await app.execute(CheckLogin, {
            registry: other,
            username: registry.username,
            password: registry.password,
          });
        });
        const error = answer?.errors?.[0];
        expect(error?.extensions?.code, other).toBe('FORBIDDEN');
        expect(error?.extensions?.admissionLevel, other).toBe(level);
        expect(admissionControlsOf(error), other).toContain('registries');
        expect(JSON.stringify(answer)).not.toContain(registry.password);
        expect(calls.filter((call) => call.startsWith('POST'))).toEqual([]);
      }
    },
  );
});
