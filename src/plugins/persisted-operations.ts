import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GraphQLError } from 'graphql';
import type { Redis } from 'ioredis';
import { ConfigError } from '../config.ts';
import { describePrincipal, type Principal } from '../security/principal.ts';

/** SHA-256 of a document's text, hex: the id a registered operation is run by. */
export function operationHash(document: string): string {
  return createHash('sha256').update(document, 'utf8').digest('hex');
}

/** Where registered operations are looked up by hash: a file, or a Redis hash shared by replicas. */
export interface OperationRegistry {
  /** The setting that names it, for messages. */
  readonly source: string;
  /** The document registered under `hash`; throws when the registry cannot be reached. */
  get(hash: string): string | undefined | Promise<string | undefined>;
}

/** The registered operations of DOCKERGRAPH_PERSISTED_OPERATIONS_FILE, by hash. */
export class PersistedOperations implements OperationRegistry {
  readonly source = 'DOCKERGRAPH_PERSISTED_OPERATIONS_FILE';
  readonly #documents: ReadonlyMap<string, string>;

  private constructor(documents: ReadonlyMap<string, string>) {
    this.#documents = documents;
  }

  /**
   * Reads `{ "<sha256 hex of the document>": "<document>" }`; `source` names where it
   * came from in errors. Every key must be the hash of its document.
   */
  static parse(text: string, source: string): PersistedOperations {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new ConfigError(`${source} is not valid JSON: ${(error as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError(`${source} must hold a JSON object of SHA-256 hashes to documents`);
    }
    const documents = new Map<string, string>();
    for (const [hash, document] of Object.entries(parsed)) {
      if (typeof document !== 'string') {
        throw new ConfigError(`${source}: the operation "${hash}" must be a document (a string)`);
      }
      if (hash !== operationHash(document)) {
        throw new ConfigError(
          `${source}: "${hash}" is not the SHA-256 of its document (it is ${operationHash(document)}); "npm run persisted-operations" writes the file`,
        );
      }
      documents.set(hash, document);
    }
    return new PersistedOperations(documents);
  }

  /** Reads the file at `path`; a file that cannot be read or used stops the server at start. */
  static load(path: string): PersistedOperations {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new ConfigError(
        `DOCKERGRAPH_PERSISTED_OPERATIONS_FILE: cannot read ${path}: ${(error as Error).message}`,
      );
    }
    return PersistedOperations.parse(text, `DOCKERGRAPH_PERSISTED_OPERATIONS_FILE (${path})`);
  }

  /** The document registered under `hash`. */
  get(hash: string): string | undefined {
    return this.#documents.get(hash);
  }

  get size(): number {
    return this.#documents.size;
  }
}

/**
 * Registered operations in a Redis hash (field: the SHA-256 hex of the document, value:
 * the document), shared by every replica and changed without a restart
 * (`npm run persisted-operations -- --redis <url> --key <hash>`). A document whose
 * hash is not its field is not run: it was not registered by that tool.
 */
export class RedisPersistedOperations implements OperationRegistry {
  readonly source: string;
  readonly #redis: () => Promise<Redis>;
  readonly #key: string;

  constructor(redis: () => Promise<Redis>, key: string) {
    this.#redis = redis;
    this.#key = key;
    this.source = `DOCKERGRAPH_PERSISTED_OPERATIONS_REDIS_KEY (${key})`;
  }

  async get(hash: string): Promise<string | undefined> {
    const document = await (await this.#redis()).hget(this.#key, hash);
    return document !== null && operationHash(document) === hash ? document : undefined;
  }
}

/**
 * Who may send documents of their own: admin tokens (and the no-token local
 * admin). Every other role runs registered operations only, whatever its permissions.
 */
function mayRunArbitraryOperations(principal: Principal): boolean {
  return principal.role === 'admin';
}

/** The parts of a request (HTTP parameters, graphql-ws `subscribe` payload) that name an operation. */
export interface OperationParams {
  readonly query?: string | null | undefined;
  readonly documentId?: unknown;
  readonly extensions?: Readonly<Record<string, unknown>> | null | undefined;
}

/**
 * The hash of the registered operation a request names: `documentId`, or
 * Apollo's `extensions.persistedQuery.sha256Hash`; null when it names none.
 */
function persistedOperationId(params: OperationParams): string | null {
  if (typeof params.documentId === 'string') return params.documentId;
  const persisted = params.extensions?.persistedQuery;
  if (typeof persisted === 'object' && persisted !== null && 'sha256Hash' in persisted) {
    const { sha256Hash } = persisted;
    if (typeof sha256Hash === 'string') return sha256Hash;
  }
  return null;
}

/** A non-admin sent a document of its own. */
function persistedOnly(principal: Principal | undefined, source: string): GraphQLError {
  const who = principal ? describePrincipal(principal) : 'this request';
  return new GraphQLError(
    `${who} may run registered operations only: send the SHA-256 of one (extensions.persistedQuery.sha256Hash, or documentId) instead of a document (${source})`,
    { extensions: { code: 'PERSISTED_QUERY_ONLY', http: { status: 403 } } },
  );
}

function notFound(id: string | null, source: string): GraphQLError {
  return new GraphQLError(
    `no registered operation has the hash "${id ?? ''}" (${source})`,
    // Apollo clients know this code.
    { extensions: { code: 'PERSISTED_QUERY_NOT_FOUND', http: { status: 400 } } },
  );
}

function idRequired(): GraphQLError {
  return new GraphQLError(
    'the request has neither a document ("query") nor the hash of a registered operation (extensions.persistedQuery.sha256Hash, or documentId)',
    { extensions: { code: 'PERSISTED_QUERY_ID_REQUIRED', http: { status: 400 } } },
  );
}

/**
 * The document an operation runs in persisted-operations mode: its own when the
 * principal may send one, otherwise the registered one its hash names; or the
 * error to answer, for every transport (`operation-guards.ts`). Yoga's
 * persisted-operations plugin is not used: its hook runs in yoga's HTTP path only,
 * and WebSocket operations would need the same rule coded a second time.
 */
export async function resolvePersistedOperation(
  operations: OperationRegistry,
  principal: Principal | undefined,
  params: OperationParams,
  onStoreError: (error: unknown) => void,
): Promise<{ readonly query: string } | GraphQLError> {
  if (params.query) {
    return principal && mayRunArbitraryOperations(principal)
      ? { query: params.query }
      : persistedOnly(principal, operations.source);
  }
  const id = persistedOperationId(params);
  if (id === null) return idRequired();
  let document: string | undefined;
  try {
    document = await operations.get(id);
  } catch (error) {
    onStoreError(error);
    return new GraphQLError(
      `the registered operations cannot be read: ${operations.source} does not answer; retry shortly`,
      { extensions: { code: 'PERSISTED_QUERY_UNAVAILABLE', http: { status: 503 } } },
    );
  }
  return document === undefined ? notFound(id, operations.source) : { query: document };
}
