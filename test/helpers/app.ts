// A dockergraph app over the private test engine, with every engine call recorded.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { expect, inject } from 'vitest';
import { type App, createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { DockerClient, type EngineCallRecord } from '../../src/docker/client.ts';
import { resolveDockerEndpoint } from '../../src/docker/docker-host.ts';
import { createLogger } from '../../src/logger.ts';
import { createRequestGuards } from '../../src/plugins/request-guards.ts';

/** What a client receives for one operation. */
export interface GraphQLResponse<TData> {
  data?: TData | null;
  errors?: {
    message: string;
    path?: (string | number)[];
    extensions?: { code?: string; argument?: string; [key: string]: unknown };
  }[];
}

/** The data of an answer, failing the test if it has errors or no data. */
export function dataOf<TData>(result: GraphQLResponse<TData>): TData {
  if (result.errors?.length || !result.data) {
    throw new Error(`operation failed: ${JSON.stringify(result.errors ?? result)}`);
  }
  return result.data;
}

/**
 * Checks that an answer failed with one error only, a BAD_USER_INPUT naming
 * `argument` both in its extensions and in its message.
 */
export function expectArgumentError(result: GraphQLResponse<unknown>, argument: string): void {
  expect(result.errors).toHaveLength(1);
  expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument });
  expect(result.errors?.[0]?.message).toContain(`"${argument}"`);
}

export interface TestApp {
  readonly app: App;
  readonly docker: DockerClient;
  /** Every engine call made so far, oldest first. */
  readonly calls: EngineCallRecord[];
  /** Runs one operation through HTTP, as a client would. */
  execute<TData, TVariables>(
    document: TypedDocumentNode<TData, TVariables>,
    ...variables: TVariables extends Record<string, never> ? [] : [TVariables]
  ): Promise<GraphQLResponse<TData>>;
  /** Like {@link execute}, failing the test if the answer has errors or no data. */
  query<TData, TVariables>(
    document: TypedDocumentNode<TData, TVariables>,
    ...variables: TVariables extends Record<string, never> ? [] : [TVariables]
  ): Promise<TData>;
  /** Engine calls made while `run` ran, as "METHOD /path" strings. */
  callsDuring(run: () => Promise<unknown>): Promise<string[]>;
  close(): Promise<void>;
}

/** Environment overrides for the app's configuration (DOCKER_HOST defaults to the test engine). */
export type TestEnvironment = Record<string, string | undefined>;

/** How a test app's requests present themselves. */
export interface TestAppOptions {
  /** Sent as `Authorization: Bearer <token>` with every request of `execute` and `query`. */
  readonly token?: string;
  /** The rate limiter's clock in milliseconds, for tests that move time by hand. */
  readonly clock?: () => number;
}

export function createTestApp(env: TestEnvironment = {}, options: TestAppOptions = {}): TestApp {
  const config = loadConfig({
    HOME: '/nonexistent',
    DOCKER_HOST: inject('dockerHost'),
    LOG_LEVEL: 'silent',
    DOCKERGRAPH_AUDIT: 'off',
    ...env,
  });
  const docker = DockerClient.create(resolveDockerEndpoint(config.docker), {
    connectTimeoutMs: config.engineConnectTimeoutMs,
    requestTimeoutMs: config.engineRequestTimeoutMs,
  });
  const calls: EngineCallRecord[] = [];
  docker.observe((call) => calls.push(call));
  const app = createApp(config, {
    docker,
    logger: createLogger(config.logLevel),
    ...(options.clock ? { guards: createRequestGuards(config, options.clock) } : {}),
  });

  async function execute<TData, TVariables>(
    document: TypedDocumentNode<TData, TVariables>,
    ...variables: unknown[]
  ): Promise<GraphQLResponse<TData>> {
    const response = await app.fetch('http://dockergraph.test/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      },
      body: JSON.stringify({ query: print(document), variables: variables[0] ?? {} }),
    });
    return (await response.json()) as GraphQLResponse<TData>;
  }

  return {
    app,
    docker,
    calls,
    execute,
    async query(document, ...variables) {
      return dataOf(await execute(document, ...variables));
    },
    async callsDuring(run) {
      const start = calls.length;
      await run();
      return calls.slice(start).map((call) => `${call.method} ${call.path}`);
    },
    close: () => docker.close(),
  };
}
