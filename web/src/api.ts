// The dashboard's GraphQL clients: urql on its defaults for queries (GET) and mutations (POST),
// graphql-ws for subscriptions (see useSubscription in live.ts), both carrying the token signed
// in with.
import {
  type AnyVariables,
  Client,
  type CombinedError,
  type DocumentInput,
  fetchExchange,
} from '@urql/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';

const TOKEN_KEY = 'dockergraph.token';

/** The token of this tab: sessionStorage, gone when the tab closes; never in a URL. */
export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

/** A problem the page shows as a banner, by the code the server gave. */
export interface Problem {
  readonly code: string;
  readonly message: string;
  /** The engine it concerns (`extensions.engine`), when the server named one. */
  readonly engine?: string;
}

/**
 * What to tell the user for a failed operation, one problem per GraphQL error: a list that
 * several engines answered may carry an error per engine that did not answer (its `data`
 * still holds the others' objects). Empty when it did not fail.
 */
export function problemsOf(error: CombinedError | undefined): Problem[] {
  if (!error) return [];
  if (error.graphQLErrors.length > 0) return problemsOfErrors(error.graphQLErrors);
  const response = error.response as Response | undefined;
  if (response?.status === 401) {
    return [{ code: 'UNAUTHENTICATED', message: 'The token is missing or not valid.' }];
  }
  return [{ code: 'NETWORK', message: error.networkError?.message ?? error.message }];
}

/** A GraphQL error as the server sends it (urql's GraphQLError and graphql-ws' payloads are both). */
export interface ServerError {
  readonly message: string;
  readonly extensions?: { readonly [key: string]: unknown } | undefined;
}

/** One problem per GraphQL error, by its `extensions.code`. */
export function problemsOfErrors(errors: readonly ServerError[]): Problem[] {
  return errors.map((error) => {
    const code = String(error.extensions?.code ?? 'ERROR');
    const engine = error.extensions?.engine;
    return typeof engine === 'string'
      ? { code, message: error.message, engine }
      : { code, message: error.message };
  });
}

/** The first problem of a failed operation, or null when it did not fail. */
export function problemOf(error: CombinedError | undefined): Problem | null {
  return problemsOf(error)[0] ?? null;
}

/** The clients of one signed-in session. */
export interface Api {
  readonly client: Client;
  readonly ws: WsClient;
  /** The signed-in token, for the terminal WebSocket (which carries it as a subprotocol). */
  readonly token: string | null;
  dispose(): void;
}

export function createApi(token: string | null): Api {
  const authorization = token ? `Bearer ${token}` : undefined;
  const wsUrl = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/graphql`;
  const ws = createWsClient({
    url: wsUrl,
    lazy: true,
    connectionParams: authorization ? { authorization } : {},
    // Reconnects after the server restarts or the network drops; subscriptions resume.
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => true,
  });
  const client = new Client({
    url: '/graphql',
    requestPolicy: 'network-only',
    fetchOptions: () => (authorization ? { headers: { authorization } } : {}),
    // No subscriptionExchange: subscriptions go to `ws` directly (useSubscription, live.ts).
    exchanges: [fetchExchange],
  });
  return { client, ws, token, dispose: () => void ws.dispose() };
}

/**
 * Runs a query once; its data and its problems. Both may come together: urql keeps the
 * `data` of an answer that also has `errors` (a partial answer, e.g. one engine down).
 */
export async function runQuery<Data, Variables extends AnyVariables>(
  api: Api,
  document: DocumentInput<Data, Variables>,
  variables: Variables,
): Promise<{ data: Data | undefined; problems: Problem[] }> {
  const result = await api.client.query(document, variables).toPromise();
  return { data: result.data, problems: problemsOf(result.error) };
}

/** Runs a mutation; the data, or the problem. */
export async function runMutation<Data, Variables extends AnyVariables>(
  api: Api,
  document: DocumentInput<Data, Variables>,
  variables: Variables,
): Promise<{ data: Data | undefined; problem: Problem | null }> {
  const result = await api.client.mutation(document, variables).toPromise();
  return { data: result.data, problem: problemOf(result.error) };
}
