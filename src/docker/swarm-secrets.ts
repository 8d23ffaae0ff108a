import type { DockerClient } from './client.ts';
import { EngineConflictError, EngineError } from './errors.ts';
import { encodeFilters, encodePathSegment } from './filters.ts';
import type { EngineObjectVersion } from './swarm.ts';

/**
 * Secrets and configs: named blobs the swarm stores (in its encrypted raft log)
 * and mounts into tasks as files. The engine never answers a secret's data; a
 * config's data is answered base64 encoded.
 */

/** Which of the two kinds: the endpoints are `/secrets…` and `/configs…`. */
export type SwarmBlobKind = 'secret' | 'config';

/** A secret or config as the list and inspect describe it. */
export interface EngineSwarmBlob {
  ID: string;
  Version: EngineObjectVersion;
  CreatedAt: string;
  UpdatedAt: string;
  Spec: {
    Name: string;
    Labels?: Record<string, string> | null;
    /** Base64; configs only (the engine leaves it out of secrets). */
    Data?: string;
    Driver?: { Name: string; Options?: Record<string, string> | null } | null;
    Templating?: { Name: string; Options?: Record<string, string> | null } | null;
  };
}

/** Typed filters of the secret and config lists. */
export interface SwarmBlobFilters {
  readonly ids?: readonly string[];
  readonly labels?: readonly string[];
  readonly names?: readonly string[];
}

const pathOf = (kind: SwarmBlobKind) => (kind === 'secret' ? '/secrets' : '/configs');

/** `GET /secrets` or `GET /configs`: the objects matching the filters. */
export function listSwarmBlobs(
  client: DockerClient,
  kind: SwarmBlobKind,
  filters: SwarmBlobFilters = {},
): Promise<EngineSwarmBlob[]> {
  return client.json<EngineSwarmBlob[]>(
    {
      path: pathOf(kind),
      query: {
        filters: encodeFilters({ id: filters.ids, label: filters.labels, name: filters.names }),
      },
    },
    `list ${kind}s`,
  );
}

/** `GET /secrets/{id}` or `GET /configs/{id}`: one object by id or name; `null` when missing. */
export function inspectSwarmBlob(
  client: DockerClient,
  kind: SwarmBlobKind,
  id: string,
): Promise<EngineSwarmBlob | null> {
  return client.jsonOrNull<EngineSwarmBlob>(
    { path: `${pathOf(kind)}/${encodePathSegment(id)}` },
    `inspect ${kind} "${id}"`,
  );
}

/** What `POST /secrets/create` and `POST /configs/create` take. */
export interface SwarmBlobSpec {
  readonly name: string;
  readonly data: Buffer;
  readonly labels?: Readonly<Record<string, string>>;
  /** Go templates in the data, expanded per task (`golang`). */
  readonly templatingDriver?: string;
}

/**
 * `POST /secrets/create` or `POST /configs/create`; answers the new id. A name in
 * use is a conflict (409).
 */
export async function createSwarmBlob(
  client: DockerClient,
  kind: SwarmBlobKind,
  spec: SwarmBlobSpec,
): Promise<string> {
  const answer = await client.json<{ ID: string }>(
    {
      method: 'POST',
      path: `${pathOf(kind)}/create`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        Name: spec.name,
        Labels: spec.labels,
        Data: spec.data.toString('base64'),
        Templating: spec.templatingDriver ? { Name: spec.templatingDriver } : undefined,
      }),
    },
    `create ${kind} "${spec.name}"`,
  );
  return answer.ID;
}

/**
 * `DELETE /secrets/{id}` or `DELETE /configs/{id}`. One a service uses is a
 * conflict: the engine answers 400 "is in use by the following service".
 */
export async function removeSwarmBlob(
  client: DockerClient,
  kind: SwarmBlobKind,
  id: string,
): Promise<void> {
  try {
    const response = await client.request(
      { method: 'DELETE', path: `${pathOf(kind)}/${encodePathSegment(id)}` },
      `remove ${kind} "${id}"`,
    );
    await response.body.dump();
  } catch (error) {
    if (error instanceof EngineError && /in use by/i.test(error.message)) {
      throw new EngineConflictError('CONFLICT', error.message, error.status, { cause: error });
    }
    throw error;
  }
}
