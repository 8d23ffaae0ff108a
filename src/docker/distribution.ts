import { createHash } from 'node:crypto';
import type { DockerClient, EngineCall } from './client.ts';
import { encodePathSegment } from './filters.ts';
import { registryOf } from './image-reference.ts';
import { registryFailure } from './progress.ts';
import { encodeRegistryAuth, type RegistryCredentials } from './registry-auth.ts';

/** One platform of `GET /distribution/{name}/json`. */
export interface EngineDistributionPlatform {
  architecture: string;
  os: string;
  'os.version'?: string;
  variant?: string;
}

/** `GET /distribution/{name}/json`: what the registry holds under a reference. */
export interface EngineDistributionInspect {
  Descriptor: { mediaType: string; digest: string; size: number };
  /** The platforms of a multi-platform index; one entry for a single manifest. */
  Platforms: EngineDistributionPlatform[] | null;
}

/** The call of {@link inspectDistribution}, also what the admission gate reviews before a cached answer. */
export function distributionCall(
  reference: string,
  credentials: RegistryCredentials | undefined,
): EngineCall {
  return {
    path: `/distribution/${encodePathSegment(reference, true)}/json`,
    headers: { 'x-registry-auth': encodeRegistryAuth(credentials) },
    timeoutMs: 60_000,
  };
}

/**
 * `GET /distribution/{name}/json`: asks the registry, through the engine, for the
 * manifest digest and platforms of `reference` (`docker manifest inspect`, without
 * pulling). Refused credentials throw a `RegistryAuthError`, a registry out of reach a
 * `RegistryUnreachableError`, a tag it does not have an `EngineNotFoundError`.
 */
export async function inspectDistribution(
  client: DockerClient,
  reference: string,
  credentials?: RegistryCredentials,
): Promise<EngineDistributionInspect> {
  const what = `inspect "${reference}" in its registry`;
  return client
    .json<EngineDistributionInspect>(distributionCall(reference, credentials), what)
    .catch((error: unknown) => {
      throw registryFailure(error, what, registryOf(reference));
    });
}

/** The cache key of credentials: a hash, so that the cache keeps no secret in the clear. */
export function credentialsKey(credentials: RegistryCredentials | undefined): string {
  if (!credentials) return '';
  return createHash('sha256').update(encodeRegistryAuth(credentials)).digest('hex');
}

/** Most references a {@link DistributionCache} holds; the oldest go first. */
const MAX_CACHED = 1_000;

/**
 * Answers of `GET /distribution/{name}/json`, reused for `ttlMs` across requests (a
 * registry rate-limits manifest reads: Docker Hub counts them). Keyed by reference and
 * a hash of the credentials, so an answer got with some credentials is not reused with
 * others. Failures are not kept. Whoever reads it must have passed admission for the
 * call first: the cache does not know who asks.
 */
export class DistributionCache {
  readonly #entries = new Map<string, { at: number; answer: Promise<EngineDistributionInspect> }>();

  constructor(
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The answer for `reference` with `credentials`, asked of the registry through `client` when not fresh. */
  read(
    client: DockerClient,
    reference: string,
    credentials: RegistryCredentials | undefined,
  ): Promise<EngineDistributionInspect> {
    const key = `${reference}\n${credentialsKey(credentials)}`;
    const now = this.now();
    const cached = this.#entries.get(key);
    if (cached && now - cached.at < this.ttlMs) return cached.answer;
    const answer = inspectDistribution(client, reference, credentials);
    if (this.ttlMs > 0) {
      this.#entries.delete(key);
      this.#entries.set(key, { at: now, answer });
      if (this.#entries.size > MAX_CACHED) {
        const oldest = this.#entries.keys().next().value;
        if (oldest !== undefined) this.#entries.delete(oldest);
      }
      answer.catch(() => {
        if (this.#entries.get(key)?.answer === answer) this.#entries.delete(key);
      });
    }
    return answer;
  }
}
