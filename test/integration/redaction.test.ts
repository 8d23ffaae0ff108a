// Secrets the engine reports are withheld from tokens without the "secrets" permission
// (viewer, operator): environment variable values of containers and images, ENV/ARG values and
// build arguments in image history, credentials in driver options. Admin sees them all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/gql.ts';
import { makeRoleTokens, type RoleName } from '../helpers/access.ts';
import { createTestApp } from '../helpers/app.ts';
import { BASE_IMAGE, EngineFixtures } from '../helpers/docker-fixtures.ts';

const SecretsOfContainer = graphql(`
  query SecretsOfContainer($name: String!, $volume: String!) {
    container(idOrName: $name) {
      config { env { name value redacted } }
      image {
        config { env { name value redacted } }
        history { createdBy redacted }
      }
    }
    volume(name: $volume) { options { name value redacted } }
  }
`);

describe('secret redaction', () => {
  const fixtures = new EngineFixtures();
  const { tokens, env } = makeRoleTokens();
  const secrets = {
    container: `container-secret-${fixtures.run}`,
    image: `image-secret-${fixtures.run}`,
    argument: `argument-secret-${fixtures.run}`,
    volume: `volume-secret-${fixtures.run}`,
  };
  const image = `dg-secrets-${fixtures.run}:1`;
  const container = fixtures.name('secrets');
  const volume = fixtures.name('secret-volume');
  const apps = {
    viewer: createTestApp(env, { token: tokens.viewer }),
    operator: createTestApp(env, { token: tokens.operator }),
    admin: createTestApp(env, { token: tokens.admin }),
  };

  beforeAll(async () => {
    await fixtures.buildImage(
      image,
      [
        `FROM ${BASE_IMAGE}`,
        `ARG DEPLOY_TOKEN=${secrets.argument}`,
        `ENV IMAGE_PASSWORD=${secrets.image}`,
        'RUN test -n "$DEPLOY_TOKEN"',
      ].join('\n'),
    );
    await fixtures.createContainer(container, {
      Image: image,
      // An entry without "=" takes its value from the engine's environment: nothing to withhold.
      Env: [`DB_PASSWORD=${secrets.container}`, 'FROM_ENGINE'],
    });
    await fixtures.createVolume(volume, {
      DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: `size=1m,password=${secrets.volume}` },
    });
  });

  afterAll(async () => {
    await fixtures.cleanup();
    await Promise.all(Object.values(apps).map((app) => app.close()));
  });

  function read(role: Exclude<RoleName, 'deployer'>) {
    return apps[role].execute(SecretsOfContainer, { name: container, volume });
  }

  it.each(['viewer', 'operator'] as const)(
    'shows %s the names but none of the values',
    async (role) => {
      const answer = await read(role);
      expect(answer.errors).toBeUndefined();
      const text = JSON.stringify(answer);
      for (const secret of Object.values(secrets)) expect(text).not.toContain(secret);

      const containerEnv = answer.data?.container?.config?.env ?? [];
      expect(containerEnv).toContainEqual({ name: 'DB_PASSWORD', value: null, redacted: true });
      expect(containerEnv).toContainEqual({ name: 'FROM_ENGINE', value: null, redacted: false });
      // The image's variables, also inherited into the container's.
      for (const variables of [containerEnv, answer.data?.container?.image?.config?.env ?? []]) {
        expect(variables).toContainEqual({ name: 'IMAGE_PASSWORD', value: null, redacted: true });
        expect(variables).toContainEqual({ name: 'PATH', value: null, redacted: true });
      }

      const history = answer.data?.container?.image?.history ?? [];
      expect(history).toContainEqual({
        createdBy: expect.stringMatching(/ENV IMAGE_PASSWORD=\[redacted\]$/),
        redacted: true,
      });
      expect(history).toContainEqual({
        createdBy: expect.stringMatching(/ARG DEPLOY_TOKEN=\[redacted\]$/),
        redacted: true,
      });
      expect(history).toContainEqual({
        createdBy: '|1 DEPLOY_TOKEN=[redacted] /bin/sh -c test -n "$DEPLOY_TOKEN"',
        redacted: true,
      });

      expect(answer.data?.volume?.options).toEqual([
        { name: 'device', value: 'tmpfs', redacted: false },
        { name: 'o', value: 'size=1m,password=[redacted]', redacted: true },
        { name: 'type', value: 'tmpfs', redacted: false },
      ]);
    },
  );

  it('shows admin every value', async () => {
    const answer = await read('admin');
    expect(answer.errors).toBeUndefined();
    const containerEnv = answer.data?.container?.config?.env ?? [];
    expect(containerEnv).toContainEqual({
      name: 'DB_PASSWORD',
      value: secrets.container,
      redacted: false,
    });
    expect(answer.data?.container?.image?.config?.env).toContainEqual({
      name: 'IMAGE_PASSWORD',
      value: secrets.image,
      redacted: false,
    });
    const history = answer.data?.container?.image?.history ?? [];
    expect(history).toContainEqual({
      createdBy: `|1 DEPLOY_TOKEN=${secrets.argument} /bin/sh -c test -n "$DEPLOY_TOKEN"`,
      redacted: false,
    });
    expect(history.every((step) => !step.redacted)).toBe(true);
    expect(answer.data?.volume?.options).toContainEqual({
      name: 'o',
      value: `size=1m,password=${secrets.volume}`,
      redacted: false,
    });
  });
});
