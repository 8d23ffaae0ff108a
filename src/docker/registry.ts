import type { DockerClient } from './client.ts';
import { RegistryAuthError } from './errors.ts';
import { registryFailure } from './progress.ts';

/**
 * Calls that ask the engine to talk to a registry without moving an image:
 * a login check and a distribution inspect. Credentials travel as pulls send
 * them (see `registry-auth.ts`) and never appear in errors.
 *
 * @module
 */

/** Credentials for a login check: a user and password, or an identity token. */
export interface RegistryLogin {
  /** host[:port]; "docker.io" for Docker Hub. */
  readonly registry: string;
  readonly username?: string;
  readonly password?: string;
  readonly identityToken?: string;
}

/** What the registry said to a login (`POST /auth`). */
export interface RegistryLoginResult {
  /** The engine's words, e.g. "Login Succeeded". */
  readonly status: string;
  /** Whether the registry answered an identity token (OAuth registries do; basic auth ones do not). */
  readonly identityTokenIssued: boolean;
}

/**
 * `POST /auth`: asks the engine to log in to a registry with `login`, which checks
 * the credentials without storing them. Refused credentials throw a
 * `RegistryAuthError` (the engine answers HTTP 401); a registry out of reach a
 * `RegistryUnreachableError`. The identity token is not returned, only whether one came.
 */
export async function checkRegistryLogin(
  client: DockerClient,
  login: RegistryLogin,
): Promise<RegistryLoginResult> {
  const body: Record<string, string> = { serveraddress: login.registry };
  if (login.username !== undefined) body.username = login.username;
  if (login.password !== undefined) body.password = login.password;
  if (login.identityToken !== undefined) body.identitytoken = login.identityToken;
  const what = `log in to registry "${login.registry}"`;
  const answer = await client
    .json<{ Status?: string; IdentityToken?: string }>(
      {
        method: 'POST',
        path: '/auth',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        timeoutMs: 60_000,
      },
      what,
    )
    .catch((error: unknown) => {
      // The engine's 401 names no registry: the one asked is known here.
      if (error instanceof RegistryAuthError && error.registry === null) {
        throw new RegistryAuthError(login.registry, error.message, { cause: error });
      }
      throw registryFailure(error, what, login.registry);
    });
  return {
    status: answer.Status ?? '',
    identityTokenIssued: typeof answer.IdentityToken === 'string' && answer.IdentityToken !== '',
  };
}
