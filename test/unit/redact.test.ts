import { isInputObjectType, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.ts';
import {
  isSecretName,
  REDACTED,
  redactValue,
  redactVariables,
  scrubSecrets,
  secretVariablePositions,
} from '../../src/security/redact.ts';

/** A stand-in for the WHATWG File yoga hands resolvers for a multipart upload. */
function upload(name: string, content: string) {
  return new File([content], name);
}

describe('redactValue', () => {
  it('hides registry credentials whole, and every value under a secret-sounding name', () => {
    const secrets: string[] = [];
    const redacted = redactValue(
      {
        reference: '127.0.0.1:5001/app:1',
        auth: { username: 'jane', password: 'hunter22', serverAddress: '127.0.0.1:5001' },
        identityToken: 'id-token-1',
        registryToken: 'reg-token-1',
        credentials: ['a-credential'],
        clientSecret: 'shh-secret',
      },
      undefined,
      secrets,
    );
    expect(redacted).toEqual({
      reference: '127.0.0.1:5001/app:1',
      auth: REDACTED,
      identityToken: REDACTED,
      registryToken: REDACTED,
      credentials: REDACTED,
      clientSecret: REDACTED,
    });
    expect(secrets).toEqual(
      expect.arrayContaining([
        'hunter22',
        'jane',
        'id-token-1',
        'reg-token-1',
        'a-credential',
        'shh-secret',
      ]),
    );
  });

  it('keeps environment names and build argument names, hides their values', () => {
    const secrets: string[] = [];
    expect(
      redactValue(
        {
          image: 'app',
          env: [
            { name: 'API_KEY', value: 'k-123456' },
            { name: 'MODE', value: 'prod' },
          ],
          buildArgs: [{ name: 'NPM_TOKEN', value: 'npm-abcdef' }],
        },
        'input',
        secrets,
      ),
    ).toEqual({
      image: 'app',
      env: [
        { name: 'API_KEY', value: REDACTED },
        { name: 'MODE', value: REDACTED },
      ],
      buildArgs: [{ name: 'NPM_TOKEN', value: REDACTED }],
    });
    expect(secrets).toEqual(['k-123456', 'prod', 'npm-abcdef']);
  });

  it('redacts NAME=value strings and name-to-value maps under an environment name', () => {
    expect(redactValue(['A=1', 'B=two=2', 'INHERITED'], 'env')).toEqual([
      `A=${REDACTED}`,
      `B=${REDACTED}`,
      'INHERITED',
    ]);
    expect(redactValue({ A: '1', B: 'x' }, 'environment')).toEqual({ A: REDACTED, B: REDACTED });
  });

  it('hides a plugin setting written without its key whole, keeping the keys of the others', () => {
    const secrets: string[] = [];
    expect(redactValue(['DEBUG=1', 'hunter2-pasted-alone'], 'settings', secrets)).toEqual([
      `DEBUG=${REDACTED}`,
      REDACTED,
    ]);
    expect(secrets).toEqual(['1', 'hunter2-pasted-alone']);
  });

  it('hides process input and file contents, and ENV instructions of image changes', () => {
    expect(
      redactValue({
        stdin: 'my password\n',
        dockerfile: 'FROM x\nENV TOKEN=abc\n',
        files: [{ path: 'config.ini', content: 'password=abc', mode: 420 }],
        changes: ['CMD ["sh"]', 'ENV API_KEY=k-1 OTHER=2', 'LABEL a=b'],
      }),
    ).toEqual({
      stdin: REDACTED,
      dockerfile: REDACTED,
      files: [{ path: 'config.ini', content: REDACTED, mode: 420 }],
      changes: ['CMD ["sh"]', `ENV ${REDACTED}`, 'LABEL a=b'],
    });
  });

  it('keeps labels and options, except values of secret-named pairs and inline passwords', () => {
    const secrets: string[] = [];
    expect(
      redactValue(
        {
          labels: [
            { name: 'team', value: 'payments' },
            { name: 'db_password', value: 'pw-in-a-label' },
          ],
          driverOptions: [
            { name: 'type', value: 'cifs' },
            { name: 'o', value: 'addr=10.0.0.5,username=u,password=cifs-pw,vers=3.0' },
          ],
        },
        'input',
        secrets,
      ),
    ).toEqual({
      labels: [
        { name: 'team', value: 'payments' },
        { name: 'db_password', value: REDACTED },
      ],
      driverOptions: [
        { name: 'type', value: 'cifs' },
        { name: 'o', value: `addr=10.0.0.5,username=u,password=${REDACTED},vers=3.0` },
      ],
    });
    expect(secrets).toEqual(['pw-in-a-label', 'cifs-pw']);
  });

  it('shows uploads by name and size only', () => {
    expect(redactValue({ context: upload('ctx.tar', 'secret bytes'), path: '/tmp' })).toEqual({
      context: { file: 'ctx.tar', size: 12 },
      path: '/tmp',
    });
  });

  it('leaves null, numbers and booleans of ordinary fields as they are', () => {
    expect(redactValue({ id: 'web', force: true, timeoutSeconds: 3, auth: null })).toEqual({
      id: 'web',
      force: true,
      timeoutSeconds: 3,
      auth: null,
    });
  });
});

describe('secretVariablePositions', () => {
  it('finds variables bound to secret positions whatever they are called', () => {
    const document = parse(`
      mutation Pull($ref: String!, $user: String, $pw: String, $vars: [KeyValueInput!], $v: String!, $label: String!) {
        pullImage(reference: $ref, auth: { username: $user, password: $pw }) { __typename }
        createContainer(input: { image: $ref, env: $vars, labels: [{ name: "team", value: $label }] }) { __typename }
        other: createContainer(input: { image: "x", env: [{ name: "A", value: $v }] }) { __typename }
      }
    `);
    expect(Object.fromEntries(secretVariablePositions(document))).toEqual({
      user: 'secret',
      pw: 'password',
      vars: 'env',
      v: 'secret',
    });
  });

  it('treats the value of a pair named like a secret as secret', () => {
    const document = parse(`
      mutation ($v: String!) {
        createVolume(input: { labels: [{ name: "api_key", value: $v }] }) { __typename }
      }
    `);
    expect(secretVariablePositions(document).get('v')).toBe('secret');
  });
});

describe('redactVariables', () => {
  it('redacts by name, by content and by position, and lists what it hid', () => {
    const document = parse(`
      mutation Run($input: CreateContainerInput!, $pw: String, $password: String) {
        createContainer(input: $input, auth: { username: "u", password: $pw }) { __typename }
        other: pullImage(reference: "x", auth: { username: "u", password: $password }) { __typename }
      }
    `);
    const { variables, secrets } = redactVariables(
      {
        input: { image: 'app', name: 'web', env: [{ name: 'API_KEY', value: 'api-key-value' }] },
        pw: 'position-secret',
        password: 'named-secret',
      },
      document,
    );
    expect(variables).toEqual({
      input: { image: 'app', name: 'web', env: [{ name: 'API_KEY', value: REDACTED }] },
      pw: REDACTED,
      password: REDACTED,
    });
    expect(secrets).toEqual(
      expect.arrayContaining(['api-key-value', 'position-secret', 'named-secret']),
    );
    expect(JSON.stringify(variables)).not.toMatch(/api-key-value|position-secret|named-secret/);
  });

  it('answers null for an operation without variables', () => {
    expect(redactVariables(undefined)).toEqual({ variables: null, secrets: [] });
  });
});

describe('scrubSecrets', () => {
  it('replaces every occurrence, longest secrets first, ignoring very short ones', () => {
    expect(
      scrubSecrets('bad value "hunter22" (hunter22x) for 1', ['hunter22', 'hunter22x', '1']),
    ).toBe(`bad value "${REDACTED}" (${REDACTED}) for 1`);
  });
});

describe('the secret-bearing inputs of the schema', () => {
  it('are exactly the registry credentials, environments, build arguments, process input, file contents and swarm secrets', () => {
    const secretPositions: string[] = [];
    const note = (where: string, name: string) => {
      if (isSecretName(name)) secretPositions.push(`${where}.${name}`);
    };
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__')) continue;
      if (isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) note(type.name, field.name);
      }
    }
    for (const root of [schema.getMutationType(), schema.getSubscriptionType()]) {
      for (const field of Object.values(root?.getFields() ?? {})) {
        for (const arg of field.args) note(`${root?.name}.${field.name}`, arg.name);
      }
    }
    // A new input that carries a secret under another name must be added to src/security/redact.ts.
    expect(secretPositions.sort()).toEqual(
      [
        'BuildFileInput.content',
        'BuildImageInput.buildArgs',
        'BuildImageInput.dockerfile',
        'BuildImageInput.registryAuth',
        'RegistryAuthForBuild.identityToken',
        'RegistryAuthForBuild.password',
        'CreateContainerInput.env',
        'ExecDetachedInput.env',
        'ExecInput.env',
        'ExecInput.stdin',
        'Mutation.checkRegistryLogin.identityToken',
        'Mutation.checkRegistryLogin.password',
        'Mutation.commitContainer.changes',
        'Mutation.createContainer.auth',
        'Mutation.configurePlugin.settings',
        'Mutation.importImage.changes',
        'Mutation.installPlugin.auth',
        'Mutation.pullImage.auth',
        'Mutation.pushImage.auth',
        'Mutation.upgradePlugin.auth',
        'RegistryAuthInput.identityToken',
        'RegistryAuthInput.password',
        'Subscription.pullImageProgress.auth',
        // Swarm: service environments, secret and config contents, join tokens, the unlock
        // key; secret references and the rotate flags are redacted too (names, booleans).
        'CreateServiceInput.env',
        'CreateServiceInput.secrets',
        'CreateSwarmBlobInput.content',
        'JoinSwarmInput.joinToken',
        'Mutation.unlockSwarm.unlockKey',
        'RotateSwarmBlobInput.content',
        'UpdateServiceInput.env',
        'UpdateServiceInput.secrets',
        'UpdateSwarmInput.rotateManagerToken',
        'UpdateSwarmInput.rotateUnlockKey',
        'UpdateSwarmInput.rotateWorkerToken',
      ].sort(),
    );
  });
});
