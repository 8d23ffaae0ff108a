// "A test greps everything the server wrote (logs, audit, errors) after operations with registry
// credentials and secret environment variables, and finds none of the secret values." The server
// runs as a real process (`node --import tsx src/server.ts`) at debug level; every byte of its
// stdout and stderr, and of its audit file, is kept and searched.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AuditRecord } from '../../src/plugins/audit-log.ts';
import { REDACTED } from '../../src/security/redact.ts';
import { graphql } from '../generated/gql.ts';
import { tokensEnv } from '../helpers/access.ts';
import { type GraphQLResponse, postOperation } from '../helpers/app.ts';
import { auditRecordsIn } from '../helpers/audit-lines.ts';
import { EngineFixtures } from '../helpers/docker-fixtures.ts';
import { type AuthRegistry, execInEngineNetns, startAuthRegistry } from '../helpers/engine.ts';
import { clientWithToken, closeAfterConnectionInit } from '../helpers/graphql-ws.ts';
import { expectType } from '../helpers/mutations.ts';
import { waitFor } from '../helpers/wait-for.ts';

const REPOSITORY_ROOT = fileURLToPath(new URL('../..', import.meta.url));

const CreateContainer = graphql(`
  mutation LeakCreateContainer(
    $input: CreateContainerInput!, $start: Boolean, $pull: PullPolicy, $auth: RegistryAuthInput
  ) {
    createContainer(input: $input, start: $start, pull: $pull, auth: $auth) {
      __typename
      ... on ContainerPayload { container { id name } }
      ... on MutationError { message }
    }
  }
`);

const InspectEnvironment = graphql(`
  query LeakInspectEnvironment($id: String!) {
    container(idOrName: $id) { config { env { name value redacted } } }
  }
`);

const PushImage = graphql(`
  mutation LeakPushImage($reference: String!, $auth: RegistryAuthInput) {
    pushImage(reference: $reference, auth: $auth) {
      __typename
      ... on PushImagePayload { digest }
      ... on MutationError { message }
    }
  }
`);

const PullImage = graphql(`
  mutation LeakPullImage($reference: String!, $auth: RegistryAuthInput) {
    pullImage(reference: $reference, auth: $auth) {
      __typename
      ... on MutationError { message }
    }
  }
`);

const PullProgress = graphql(`
  subscription LeakPullProgress($reference: String!, $auth: RegistryAuthInput) {
    pullImageProgress(reference: $reference, auth: $auth) { kind error }
  }
`);

const Exec = graphql(`
  mutation LeakExec($id: String!, $input: ExecInput!) {
    execInContainer(id: $id, input: $input) {
      __typename
      ... on ExecResult { exitCode stdout }
      ... on MutationError { message }
    }
  }
`);

const Build = graphql(`
  mutation LeakBuild($input: BuildImageInput!) {
    buildImage(input: $input) {
      __typename
      ... on BuildImagePayload { image { id } }
      ... on MutationError { message }
    }
  }
`);

/** A value nobody else writes: found anywhere, it leaked. */
function secret(what: string): string {
  return `dgleak-${what}-${randomUUID()}`;
}

const ADMIN_TOKEN = secret('admin-token');
const VIEWER_TOKEN = secret('viewer-token');
const WRONG_TOKEN = secret('wrong-token');
const SECRETS = {
  containerEnv: secret('container-env'),
  wrongPassword: secret('wrong-password'),
  identityToken: secret('identity-token'),
  execEnv: secret('exec-env'),
  execStdin: secret('exec-stdin'),
  buildArg: secret('build-arg'),
  failingEnv: secret('failing-env'),
  invalidAuth: secret('invalid-auth'),
  subscriptionPassword: secret('subscription-password'),
};

/** A dockergraph server process and everything it wrote. */
interface ServerProcess {
  readonly url: string;
  /** stdout and stderr so far. */
  output(): { stdout: string; stderr: string };
  /** SIGTERM, then waits for the process to exit; resolves with its exit code. */
  stop(): Promise<number | null>;
}

async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  let stdout = '';
  let stderr = '';
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: REPOSITORY_ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const url = await waitFor(
    () => {
      if (child.exitCode !== null) {
        throw new Error(`the server exited with ${child.exitCode}: ${stderr}${stdout}`);
      }
      // The server reports where it listens in a log line: {"msg":"dockergraph listening","url":…}.
      const listening = /"msg":"dockergraph listening","url":"(http:\/\/[^"]+)\/graphql"/.exec(
        stdout,
      );
      return listening?.[1];
    },
    { timeoutMs: 60_000, what: 'the server process to listen' },
  );
  return {
    url,
    output: () => ({ stdout, stderr }),
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

describe.each(['stdout', 'file'] as const)(
  'nothing the server writes holds a secret (audit to %s)',
  (auditTo) => {
    const fixtures = new EngineFixtures();
    let folder = '';
    let auditPath = '';
    let registry: AuthRegistry;
    let server: ServerProcess;
    let exitCode: number | null = null;
    const pushedDigests: string[] = [];
    /** Everything the server wrote, once it has stopped. */
    let written = { stdout: '', stderr: '', audit: '' };
    let auditRecords: AuditRecord[] = [];

    async function post<TData, TVariables>(
      token: string,
      document: TypedDocumentNode<TData, TVariables>,
      variables: TVariables,
    ): Promise<GraphQLResponse<TData>> {
      return (await postOperation(server.url, token, document, variables)).body;
    }

    const labels = () =>
      Object.entries(fixtures.labels()).map(([name, value]) => ({ name, value }));

    beforeAll(async () => {
      folder = mkdtempSync(join(tmpdir(), 'dg-leaks-'));
      auditPath = join(folder, 'audit.log');
      registry = await startAuthRegistry();
      server = await startServerProcess({
        DOCKER_HOST: inject('dockerHost'),
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'debug',
        DOCKERGRAPH_AUDIT: auditTo === 'file' ? auditPath : 'stdout',
        DOCKERGRAPH_MAX_COST: '1000000',
        ...tokensEnv([
          { id: 'leak-admin', role: 'admin', token: ADMIN_TOKEN },
          { id: 'leak-viewer', role: 'viewer', token: VIEWER_TOKEN },
        ]),
      });
    });

    afterAll(async () => {
      if (exitCode === null) await server?.stop();
      await fixtures.cleanup();
      for (const digest of pushedDigests) {
        await execInEngineNetns('curl', [
          '-fsS',
          '-o',
          '/dev/null',
          '-u',
          `${registry.username}:${registry.password}`,
          '-X',
          'DELETE',
          `http://${registry.address}/v2/dg-leak-${fixtures.run}/app/manifests/${digest}`,
        ]);
      }
      rmSync(folder, { recursive: true, force: true });
    });

    it('runs operations that carry secrets, then stops', async () => {
      const image = `${registry.address}/dg-leak-${fixtures.run}/app:v1`;
      const right = { username: registry.username, password: registry.password };
      const wrong = { username: registry.username, password: SECRETS.wrongPassword };

      // A container whose environment holds a secret, running, inspected by admin and viewer.
      const created = await post(ADMIN_TOKEN, CreateContainer, {
        input: {
          image: 'dockergraph/busybox:latest',
          name: fixtures.name('leak-env'),
          cmd: ['sleep', '3600'],
          env: [{ name: 'API_KEY', value: SECRETS.containerEnv }],
          labels: labels(),
        },
        start: true,
      });
      const container = expectType(created.data?.createContainer, 'ContainerPayload').container;
      const id = container?.name ?? '';
      const asAdmin = await post(ADMIN_TOKEN, InspectEnvironment, { id });
      expect(asAdmin.data?.container?.config?.env).toContainEqual({
        name: 'API_KEY',
        value: SECRETS.containerEnv,
        redacted: false,
      });
      const asViewer = await post(VIEWER_TOKEN, InspectEnvironment, { id });
      expect(asViewer.data?.container?.config?.env).toContainEqual({
        name: 'API_KEY',
        value: null,
        redacted: true,
      });

      // Registry credentials, right and wrong, to push, pull, and create with a pull.
      await fixtures.buildImage(image, 'FROM dockergraph/busybox:latest\nLABEL leak=test\n');
      const pushed = await post(ADMIN_TOKEN, PushImage, { reference: image, auth: right });
      pushedDigests.push(expectType(pushed.data?.pushImage, 'PushImagePayload').digest ?? '');
      const pushRefused = await post(ADMIN_TOKEN, PushImage, { reference: image, auth: wrong });
      expectType(pushRefused.data?.pushImage, 'RegistryAuthError');
      const pulled = await post(ADMIN_TOKEN, PullImage, { reference: image, auth: right });
      expectType(pulled.data?.pullImage, 'ImagePayload');
      const pullRefused = await post(ADMIN_TOKEN, PullImage, { reference: image, auth: wrong });
      expectType(pullRefused.data?.pullImage, 'RegistryAuthError');
      const tokenRefused = await post(ADMIN_TOKEN, PullImage, {
        reference: image,
        auth: { identityToken: SECRETS.identityToken },
      });
      expect(tokenRefused.data?.pullImage.__typename).toMatch(/Error$/);
      const createPulled = await post(ADMIN_TOKEN, CreateContainer, {
        input: { image, name: fixtures.name('leak-pulled'), labels: labels() },
        pull: 'ALWAYS',
        auth: right,
      });
      expectType(createPulled.data?.createContainer, 'ContainerPayload');
      const createRefused = await post(ADMIN_TOKEN, CreateContainer, {
        input: { image, name: fixtures.name('leak-refused'), labels: labels() },
        pull: 'ALWAYS',
        auth: wrong,
      });
      expectType(createRefused.data?.createContainer, 'RegistryAuthError');

      // A pull progress subscription (WebSocket) with a wrong password.
      const client = clientWithToken(server.url, ADMIN_TOKEN);
      try {
        const progress: unknown[] = [];
        for await (const message of client.iterate({
          query: print(PullProgress),
          variables: {
            reference: image,
            auth: { username: registry.username, password: SECRETS.subscriptionPassword },
          },
        })) {
          progress.push(message);
        }
        expect(JSON.stringify(progress)).toMatch(/error/i);
      } finally {
        await client.dispose();
      }

      // exec with a secret in its environment and on its standard input.
      const exec = await post(ADMIN_TOKEN, Exec, {
        id,
        input: {
          cmd: ['sh', '-c', 'echo "$EXEC_SECRET"; cat'],
          env: [{ name: 'EXEC_SECRET', value: SECRETS.execEnv }],
          stdin: SECRETS.execStdin,
        },
      });
      const execResult = expectType(exec.data?.execInContainer, 'ExecResult');
      expect(execResult.stdout).toContain(SECRETS.execEnv);
      expect(execResult.stdout).toContain(SECRETS.execStdin);

      // A build argument.
      const built = await post(ADMIN_TOKEN, Build, {
        input: {
          dockerfile:
            'FROM dockergraph/busybox:latest\nARG BUILD_SECRET\nRUN test -n "$BUILD_SECRET"\n',
          buildArgs: [{ name: 'BUILD_SECRET', value: SECRETS.buildArg }],
          labels: labels(),
          tags: [`dg-leak-build-${fixtures.run}:latest`],
        },
      });
      expectType(built.data?.buildImage, 'BuildImagePayload');

      // Failing mutations whose input holds a secret: a typed error, and a variable the server
      // cannot use, whose value GraphQL quotes back in its error message.
      const failing = await post(ADMIN_TOKEN, CreateContainer, {
        input: {
          image: `dg-no-such-image-${fixtures.run}`,
          env: [{ name: 'DB_PASSWORD', value: SECRETS.failingEnv }],
          labels: labels(),
        },
      });
      expectType(failing.data?.createContainer, 'NotFoundError');
      const invalid = await post(ADMIN_TOKEN, CreateContainer, {
        input: { image: 'dockergraph/busybox:latest', labels: labels() },
        auth: SECRETS.invalidAuth as unknown as { password: string },
      });
      expect(invalid.errors?.[0]?.message).toContain(SECRETS.invalidAuth);

      // A wrong bearer token, over HTTP and WebSocket.
      const refused = await postOperation(server.url, WRONG_TOKEN, PullImage, { reference: image });
      expect(refused.status).toBe(401);
      const closed = await closeAfterConnectionInit(server.url, { authorization: WRONG_TOKEN });
      expect(closed.code).toBe(4403);

      exitCode = await server.stop();
      expect(exitCode).toBe(0);
      const { stdout, stderr } = server.output();
      written = {
        stdout,
        stderr,
        audit: auditTo === 'file' ? readFileSync(auditPath, 'utf8') : '',
      };
      auditRecords = auditRecordsIn(auditTo === 'file' ? written.audit : written.stdout);
    });

    it('wrote none of the secrets, nor the tokens, anywhere', () => {
      // The server did write: request lines at debug level, audit lines, its stop.
      expect(written.stdout).toContain('"msg":"request"');
      expect(written.stdout).toContain('"msg":"stopped"');
      const everything = `${written.stdout}\n${written.stderr}\n${written.audit}`;
      const found = [
        ...Object.entries(SECRETS),
        ['registry password', registry.password] as const,
        ['admin token', ADMIN_TOKEN] as const,
        ['viewer token', VIEWER_TOKEN] as const,
        ['wrong token', WRONG_TOKEN] as const,
      ].filter(([, value]) => everything.includes(value));
      expect(found.map(([name]) => name)).toEqual([]);
    });

    it('audited each of those operations, with their secrets redacted', () => {
      const of = (name: string) => auditRecords.filter((record) => record.operationName === name);
      const [createdLine, pulledLine, refusedLine, failingLine] = of('LeakCreateContainer');
      expect(createdLine).toMatchObject({
        tokenId: 'leak-admin',
        role: 'admin',
        operationType: 'mutation',
        outcome: 'ok',
        variables: { input: { env: [{ name: 'API_KEY', value: REDACTED }] }, start: true },
      });
      expect(pulledLine).toMatchObject({ outcome: 'ok', variables: { auth: REDACTED } });
      expect(refusedLine).toMatchObject({
        outcome: 'error',
        variables: { auth: REDACTED },
        errors: [{ field: 'createContainer', code: 'RegistryAuthError' }],
      });
      expect(failingLine).toMatchObject({
        outcome: 'error',
        variables: { input: { env: [{ name: 'DB_PASSWORD', value: REDACTED }] } },
        errors: [{ field: 'createContainer', code: 'NotFoundError' }],
      });
      expect(of('LeakCreateContainer')[4]).toMatchObject({
        outcome: 'error',
        variables: { auth: REDACTED },
        errors: [{ message: expect.stringContaining(REDACTED) }],
      });
      expect(of('LeakPushImage').map((record) => [record.outcome, record.variables])).toEqual([
        ['ok', { reference: expect.any(String), auth: REDACTED }],
        ['error', { reference: expect.any(String), auth: REDACTED }],
      ]);
      expect(of('LeakPullImage').map((record) => record.outcome)).toEqual(['ok', 'error', 'error']);
      expect(of('LeakPullImage').every((record) => record.variables?.auth === REDACTED)).toBe(true);
      expect(of('LeakPullProgress')).toEqual([
        expect.objectContaining({
          operationType: 'subscription',
          transport: 'websocket',
          variables: { reference: expect.any(String), auth: REDACTED },
        }),
      ]);
      expect(of('LeakExec')).toEqual([
        expect.objectContaining({
          outcome: 'ok',
          variables: {
            id: expect.any(String),
            input: {
              cmd: ['sh', '-c', 'echo "$EXEC_SECRET"; cat'],
              env: [{ name: 'EXEC_SECRET', value: REDACTED }],
              stdin: REDACTED,
            },
          },
        }),
      ]);
      expect(of('LeakBuild')).toEqual([
        expect.objectContaining({
          outcome: 'ok',
          variables: {
            input: expect.objectContaining({
              buildArgs: [{ name: 'BUILD_SECRET', value: REDACTED }],
              dockerfile: REDACTED,
            }),
          },
        }),
      ]);
      // The wrong token, refused over HTTP and WebSocket, named by neither line.
      expect(
        auditRecords
          .filter((record) => record.errors?.[0]?.code === 'UNAUTHENTICATED')
          .map((record) => [record.transport, record.tokenId, record.errors?.[0]?.message]),
      ).toEqual([
        ['http', null, 'the token is not valid'],
        ['websocket', null, 'the token is not valid'],
      ]);
    });
  },
);
