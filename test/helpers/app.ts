// A dockergraph app over the private test engine, with every engine call recorded.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { expect, inject } from 'vitest';
import { type App, createApp, registryOptionsOf, singleEngineRegistry } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { DockerClient, EngineCallRecord } from '../../src/docker/client.ts';
import { createDockerClient } from '../../src/docker/create-docker-client.ts';
import type { EngineRegistry } from '../../src/docker/engine-registry.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/plugins/metrics.ts';
import { createRequestGuards } from '../../src/plugins/request-guards.ts';

/** Where the app answers GraphQL over HTTP in tests. */
const ENDPOINT = 'http://dockergraph.test/graphql';

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

/** What an HTTP request was answered: status, headers, the raw text and its JSON. */
export interface HttpAnswer<TBody = GraphQLResponse<unknown>> {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed body when it is JSON; `{}` otherwise (a page, a stream, nothing). */
  readonly body: TBody;
}

/** Reads `response` whole into an {@link HttpAnswer}. */
export async function readAnswer<TBody = GraphQLResponse<unknown>>(
  response: Response,
): Promise<HttpAnswer<TBody>> {
  const text = await response.text();
  const json = /json/.test(response.headers.get('content-type') ?? '') && text !== '';
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: (json ? JSON.parse(text) : {}) as TBody,
  };
}

/** How a POST to /graphql presents itself. */
export interface PostOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string | undefined;
  /** Further headers, which win over the defaults. */
  readonly headers?: Readonly<Record<string, string>>;
}

type Fetch = (url: string, init: RequestInit) => Response | Promise<Response>;

/**
 * POSTs `payload` to `url` as a GraphQL client does: a form as it is, a string
 * as a JSON body, anything else JSON-encoded. It accepts
 * `application/graphql-response+json`, so that refusals answer their own HTTP
 * status (with `application/json`, GraphQL over HTTP has validation errors
 * answer 200).
 */
async function postTo<TBody>(
  fetch: Fetch,
  url: string,
  payload: unknown,
  { token, headers = {} }: PostOptions,
): Promise<HttpAnswer<TBody>> {
  const form = payload instanceof FormData;
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      ...(form ? {} : { 'content-type': 'application/json' }),
      accept: 'application/graphql-response+json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: form || typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
  return readAnswer<TBody>(response);
}

/** POSTs one typed operation to a started server's `/graphql` (`serverUrl`) with `token`. */
export function postOperation<TData, TVariables>(
  serverUrl: string,
  token: string,
  document: TypedDocumentNode<TData, TVariables>,
  variables: TVariables,
): Promise<HttpAnswer<GraphQLResponse<TData>>> {
  return postTo(fetch, `${serverUrl}/graphql`, { query: print(document), variables }, { token });
}

/** What counts the engine calls made while something runs: a test app or a live server. */
export interface EngineCallRecorder {
  /** Engine calls made while `run` ran, as "METHOD /path" strings. */
  callsDuring(run: () => Promise<unknown>): Promise<string[]>;
}

/** Runs `send` and answers what it returned with the engine calls it made. */
async function recordCalls<T>(
  recorder: EngineCallRecorder,
  send: () => Promise<T>,
): Promise<{ value: T; calls: string[] }> {
  let result: { readonly value: T } | undefined;
  const calls = await recorder.callsDuring(async () => {
    result = { value: await send() };
  });
  if (!result) throw new Error('no answer');
  return { value: result.value, calls };
}

/** Runs `send`, failing the test if it made any engine call; returns what `send` returned. */
export async function withoutEngineCalls<T>(
  recorder: EngineCallRecorder,
  send: () => Promise<T>,
): Promise<T> {
  const { value, calls } = await recordCalls(recorder, send);
  expect(calls).toEqual([]);
  return value;
}

/**
 * Runs `send`, failing the test if it made any engine write: only reads (the
 * lookups an admission review makes) may be sent. Returns what `send` returned.
 */
export async function withoutEngineWrites<T>(
  recorder: EngineCallRecorder,
  send: () => Promise<T>,
): Promise<T> {
  const { value, calls } = await recordCalls(recorder, send);
  expect(calls.filter((call) => !/^(?:GET|HEAD) /.test(call))).toEqual([]);
  return value;
}

export interface TestApp extends EngineCallRecorder {
  readonly app: App;
  readonly docker: DockerClient;
  /** The one engine the app serves (its event hub, its read model when on). */
  readonly engines: EngineRegistry;
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
  /**
   * POSTs `payload` to `/graphql` (see {@link postTo}), with the app's token
   * unless `options` give another.
   */
  post<TBody = GraphQLResponse<unknown>>(
    payload: unknown,
    options?: PostOptions,
  ): Promise<HttpAnswer<TBody>>;
  /**
   * Runs an operation with one `archive` upload, as the GraphQL multipart
   * request spec has it, failing the test if the answer has errors or no data.
   */
  upload<TData, TVariables>(
    document: TypedDocumentNode<TData, TVariables>,
    variables: Omit<TVariables, 'archive'>,
    archive: Uint8Array,
  ): Promise<TData>;
  /** Ends the engines' live streams, then closes the engine client. */
  close(): Promise<void>;
}

/** Environment overrides for the app's configuration (DOCKER_HOST defaults to the test engine). */
export type TestEnvironment = Record<string, string | undefined>;

/** How a test app's requests present themselves. */
export interface TestAppOptions {
  /** Sent as `Authorization: Bearer <token>` with every request the app's methods make. */
  readonly token?: string;
  /** The rate limiter's clock in milliseconds, for tests that move time by hand. */
  readonly clock?: () => number;
  /** Count metrics and serve `GET /metrics` (to tokens with the "metrics" permission). */
  readonly metrics?: boolean;
}

/** An app over the test engine configured by `env`, whose requests present `options`. */
export function createTestApp(env: TestEnvironment = {}, options: TestAppOptions = {}): TestApp {
  const config = loadConfig({
    HOME: '/nonexistent',
    DOCKER_HOST: inject('dockerHost'),
    LOG_LEVEL: 'silent',
    DOCKERGRAPH_AUDIT: 'off',
    ...env,
  });
  const docker = createDockerClient(config);
  const calls: EngineCallRecord[] = [];
  docker.observe((call) => calls.push(call));
  const logger = createLogger(config.logLevel);
  // As createApp makes it when given a client, kept here for tests that look inside.
  const engines = singleEngineRegistry(
    config.engineName,
    docker,
    logger,
    registryOptionsOf(config, false),
  );
  const metrics = options.metrics ? createMetrics(config, engines) : null;
  const app = createApp(config, {
    engines,
    logger,
    ...(options.clock ? { guards: createRequestGuards(config, options.clock) } : {}),
    ...(metrics ? { metrics: metrics.metrics } : {}),
  });

  const appFetch: Fetch = (url, init) => app.fetch(url, init);
  const post = <TBody>(payload: unknown, postOptions: PostOptions = {}) =>
    postTo<TBody>(appFetch, ENDPOINT, payload, { token: options.token, ...postOptions });

  async function execute<TData, TVariables>(
    document: TypedDocumentNode<TData, TVariables>,
    ...variables: unknown[]
  ): Promise<GraphQLResponse<TData>> {
    const answer = await post<GraphQLResponse<TData>>({
      query: print(document),
      variables: variables[0] ?? {},
    });
    return answer.body;
  }

  async function upload<TData, TVariables>(
    document: TypedDocumentNode<TData, TVariables>,
    variables: Omit<TVariables, 'archive'>,
    archive: Uint8Array,
  ): Promise<TData> {
    const form = new FormData();
    form.set(
      'operations',
      JSON.stringify({ query: print(document), variables: { ...variables, archive: null } }),
    );
    form.set('map', JSON.stringify({ 0: ['variables.archive'] }));
    form.set('0', new Blob([new Uint8Array(archive)]), 'upload.tar');
    // Multipart is a form content type: CSRF prevention asks for this header.
    const answer = await post<GraphQLResponse<TData>>(form, {
      headers: { 'x-graphql-yoga-csrf': 'upload' },
    });
    return dataOf(answer.body);
  }

  return {
    app,
    docker,
    engines,
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
    post,
    upload,
    close: () => {
      // Live streams first (the read model's event stream among them): the client's close
      // waits for the calls in flight, which only ending them ends.
      engines.endLiveStreams('test finished');
      metrics?.dispose();
      return docker.close();
    },
  };
}
