// What every serverless target is held to, each started in its own runtime: a query, a
// mutation and, where the platform can stream, an SSE subscription, against the remote engine.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { print } from 'graphql';
import { createClient as createSseClient } from 'graphql-sse';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { graphql } from '../generated/gql.ts';
import type { ServerlessEventsSubscription } from '../generated/graphql.ts';
import { randomToken, tokensEnv } from './access.ts';
import { waitFor } from './wait-for.ts';

/** A target's process, listening. */
export interface RunningTarget {
  /** The GraphQL endpoint, e.g. `http://127.0.0.1:41234/graphql`. */
  readonly url: string;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Spawns `command` and waits for it to print `dockergraph listening on <url>` (or, with
 * `listening`, a line the pattern matches, whose first group is the GraphQL URL).
 */
export async function spawnTarget(
  command: string,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  options: {
    readonly cwd?: string;
    /** A line the target prints once it listens; its first group is its address. */
    readonly listening?: RegExp;
    /** Appended to that address to make the GraphQL URL. */
    readonly path?: string;
  } = {},
): Promise<RunningTarget> {
  const child: ChildProcess = spawn(command, args, {
    cwd: options.cwd,
    // Only what the target is given, plus PATH and HOME: the runtime sees no test setting.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let exited: string | null = null;
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const ended = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = `exited with ${code ?? signal}`;
      resolve();
    });
  });
  const pattern = options.listening ?? /dockergraph listening on (http:\/\/\S+)/;
  const url = await waitFor(
    () => {
      if (exited !== null) throw new Error(`${command} ${exited}:\n${output}`);
      return pattern.exec(output)?.[1];
    },
    { timeoutMs: 60_000, what: `${command} to listen`, intervalMs: 50 },
  ).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return {
    url: `${url}${options.path ?? ''}`,
    output: () => output,
    async stop() {
      if (exited === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await ended;
        clearTimeout(killer);
      }
    },
  };
}

/** The environment a target gets: the remote engine over mutual TLS, as PEM text, and a token. */
export function targetEnvironment(token: string): Record<string, string> {
  const engine = inject('remoteEngine');
  return {
    DOCKER_HOST: engine.dockerHost,
    DOCKER_TLS_CA: engine.ca,
    DOCKER_TLS_CERT: engine.cert,
    DOCKER_TLS_KEY: engine.key,
    ...tokensEnv([{ id: 'serverless', role: 'admin', token }]),
    DOCKERGRAPH_AUDIT: 'off',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: '0',
  };
}

const RemoteQuery = graphql(`
  query ServerlessRemote {
    engine { ping { apiVersion } }
    images(filter: { references: ["dockergraph/busybox"] }) { edges { node { tags } } }
  }
`);

const CreateVolumeMutation = graphql(`
  mutation ServerlessCreateVolume($input: CreateVolumeInput!) {
    createVolume(input: $input) {
      __typename
      ... on VolumePayload { volume { name labels { name value } } }
    }
  }
`);

const RemoveVolumeMutation = graphql(`
  mutation ServerlessRemoveVolume($name: String!) {
    removeVolume(name: $name) {
      __typename
      ... on RemoveVolumePayload { name }
      ... on NotFoundError { message }
    }
  }
`);

const EventsSubscription = graphql(`
  subscription ServerlessEvents($filter: EventFilter, $since: DateTime) {
    events(filter: $filter, since: $since) {
      kind
      event { type action actor { id } }
    }
  }
`);

interface GraphQLAnswer {
  readonly status: number;
  readonly body: { data?: Record<string, unknown> | null; errors?: { message: string }[] };
}

async function post(
  url: string,
  token: string | null,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<GraphQLAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as GraphQLAnswer['body'] };
}

/** How a target answers SSE subscriptions. */
export type SubscriptionSupport =
  | { readonly supported: true }
  | {
      readonly supported: false;
      /** What an SSE request is answered. */
      readonly status: number;
      readonly message: RegExp;
    };

/**
 * Defines the tests of one target: `start` launches it in its runtime with `env` (from
 * {@link targetEnvironment}) and returns it listening.
 */
export function describeTarget(
  name: string,
  start: (env: Record<string, string>) => Promise<RunningTarget>,
  subscriptions: SubscriptionSupport,
): void {
  describe(name, () => {
    const token = randomToken();
    const run = randomBytes(4).toString('hex');
    let target: RunningTarget;

    beforeAll(async () => {
      target = await start(targetEnvironment(token));
    });

    afterAll(async () => {
      await target?.stop();
    });

    it('answers a query from the remote engine over mutual TLS, and only with a token', async () => {
      const answer = await post(target.url, token, print(RemoteQuery));
      expect(answer.body.errors, target.output()).toBeUndefined();
      expect(answer.status).toBe(200);
      expect(answer.body.data).toEqual({
        engine: { ping: { apiVersion: '1.41' } },
        images: { edges: [{ node: { tags: ['dockergraph/busybox:latest'] } }] },
      });
      const anonymous = await post(target.url, null, print(RemoteQuery));
      expect(anonymous.status).toBe(401);
    });

    it('answers identical queries sent together, each in full', async () => {
      // Requests the runtime serves at once may share engine reads (src/docker/shared-reads.ts)
      // where that is safe: every one of them must still get its whole answer.
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => post(target.url, token, print(RemoteQuery))),
      );
      for (const answer of answers) {
        expect(answer.body.errors, target.output()).toBeUndefined();
        expect(answer.body.data).toEqual({
          engine: { ping: { apiVersion: '1.41' } },
          images: { edges: [{ node: { tags: ['dockergraph/busybox:latest'] } }] },
        });
      }
    });

    it('runs mutations on the remote engine', async () => {
      const volume = `dg-serverless-${run}-m`;
      const created = await post(target.url, token, print(CreateVolumeMutation), {
        input: { name: volume, labels: [{ name: 'dg-serverless', value: run }] },
      });
      expect(created.body).toEqual({
        data: {
          createVolume: {
            __typename: 'VolumePayload',
            volume: { name: volume, labels: [{ name: 'dg-serverless', value: run }] },
          },
        },
      });
      const removed = await post(target.url, token, print(RemoveVolumeMutation), { name: volume });
      expect(removed.body).toEqual({
        data: { removeVolume: { __typename: 'RemoveVolumePayload', name: volume } },
      });
      const again = await post(target.url, token, print(RemoveVolumeMutation), { name: volume });
      expect(again.body.data?.removeVolume).toMatchObject({ __typename: 'NotFoundError' });
    });

    const volume = `dg-serverless-${run}-s`;
    const variables = {
      filter: { types: ['VOLUME'], volumes: [volume] },
      // Replays from before the volume exists: the event arrives however late the stream opens.
      since: new Date(Date.now() - 1_000).toISOString(),
    };

    if (subscriptions.supported) {
      it('streams a subscription over SSE', async () => {
        const client = createSseClient({
          url: target.url,
          retryAttempts: 0,
          headers: { authorization: `Bearer ${token}` },
        });
        const messages: ServerlessEventsSubscription['events'][] = [];
        const errors: unknown[] = [];
        const iterator = client.iterate<ServerlessEventsSubscription>({
          query: print(EventsSubscription),
          variables,
        });
        const reading = (async () => {
          try {
            for await (const result of iterator) {
              if (result.errors) errors.push(...result.errors);
              if (result.data) messages.push(result.data.events);
            }
          } catch (error) {
            errors.push(error);
          }
        })();
        try {
          const created = await post(target.url, token, print(CreateVolumeMutation), {
            input: { name: volume },
          });
          expect(created.body.data?.createVolume).toMatchObject({ __typename: 'VolumePayload' });
          await post(target.url, token, print(RemoveVolumeMutation), { name: volume });
          await waitFor(() => messages.some((message) => message.event?.action === 'destroy'), {
            timeoutMs: 30_000,
            what: `the destroy event of ${volume} over SSE`,
          });
        } finally {
          await iterator.return?.();
          client.dispose();
          await reading;
        }
        expect(errors).toEqual([]);
        expect(messages.map((message) => [message.kind, message.event?.action])).toEqual([
          ['EVENT', 'create'],
          ['EVENT', 'destroy'],
        ]);
        expect(messages.every((message) => message.event?.actor.id === volume)).toBe(true);
      });
    } else {
      it('refuses SSE subscriptions, saying what to use instead', async () => {
        const response = await fetch(target.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'text/event-stream',
            authorization: `Bearer ${token}`,
          },
          body: JSON.stringify({ query: print(EventsSubscription), variables }),
        });
        expect(response.status).toBe(subscriptions.status);
        const body = (await response.json()) as { errors: { message: string }[] };
        expect(body.errors[0]?.message).toMatch(subscriptions.message);
      });
    }

    // Last, so that it covers what the runtime printed while serving the tests above.
    it('printed no warning or deprecation notice while starting and serving', () => {
      expect(target.output()).not.toMatch(/warn|deprecat|legacy/i);
    });
  });
}
