import { createHash, timingSafeEqual } from 'node:crypto';
import type { SecurityConfig, TokenEntry } from '../config.ts';
import type { AdmissionLevel } from './admission.ts';
import { BUILT_IN_ROLES, createRoleTable, type Permission, type RoleTable } from './roles.ts';

/** Who runs an operation: a token's identity, role, permissions and label limit. */
export interface Principal {
  /** The token's id from the token configuration; null when no authentication is configured. */
  readonly tokenId: string | null;
  readonly role: string;
  readonly permissions: ReadonlySet<Permission>;
  /**
   * Labels every container (and image, volume, network) this token sees or changes
   * must carry, e.g. `{ team: 'payments' }`; null when the token is not limited.
   */
  readonly labels: Readonly<Record<string, string>> | null;
  /**
   * Engines it may see and use: names or label selectors of engines (`env=staging`);
   * null for every engine. An engine outside answers like one that does not exist.
   */
  readonly engines: readonly string[] | null;
  /** What its engine writes may ask of the host (`src/security/admission.ts`). */
  readonly admission: AdmissionLevel;
}

/** What runs when no token is configured: the server listens on loopback only, as admin. */
export const LOCAL_ADMIN: Principal = {
  tokenId: null,
  role: 'admin',
  permissions: new Set(BUILT_IN_ROLES.admin),
  labels: null,
  engines: null,
  admission: 'privileged',
};

/**
 * The admission level of a role: `privileged` with the `dangerous` permission
 * (that is what it means), else the role's own level or the server's default.
 */
export function admissionLevelOf(
  permissions: ReadonlySet<Permission>,
  roleLevel: AdmissionLevel | undefined,
  defaultLevel: AdmissionLevel,
): AdmissionLevel {
  if (permissions.has('dangerous')) return 'privileged';
  return roleLevel ?? defaultLevel;
}

/** Whether `principal` holds `permission`. */
export function can(principal: Principal, permission: Permission): boolean {
  return principal.permissions.has(permission);
}

/** Who an access error names: the token and its role, or the role alone without tokens. */
export function describePrincipal(principal: Principal): string {
  return principal.tokenId === null
    ? `role "${principal.role}"`
    : `token "${principal.tokenId}" (role "${principal.role}")`;
}

/** The SHA-256 of a token, hex: what the token configuration stores instead of the token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Why a request was not let in. */
export interface AuthenticationFailure {
  readonly message: string;
}

export type AuthenticationResult =
  | { readonly principal: Principal; readonly failure?: undefined }
  | { readonly principal?: undefined; readonly failure: AuthenticationFailure };

/**
 * The bearer token of an `Authorization` header value, or of a WebSocket
 * `connection_init` payload field, which may hold it with or without "Bearer ".
 */
export function bearerTokenOf(value: string | null | undefined): string | null | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const match = /^\s*(?:Bearer\s+)?(\S+)\s*$/i.exec(value);
  return match?.[1] ?? null;
}

/** Checks bearer tokens against the configured hashes. */
export class Authenticator {
  readonly #entries: readonly { entry: TokenEntry; hash: Buffer }[];
  readonly #roles: RoleTable;
  readonly #roleAdmission: Readonly<Record<string, AdmissionLevel>>;
  readonly #defaultAdmission: AdmissionLevel;
  /** Whether tokens are configured; without them every operation runs as {@link LOCAL_ADMIN}. */
  readonly required: boolean;

  constructor(
    config: Pick<SecurityConfig, 'tokens' | 'roles'> &
      Partial<Pick<SecurityConfig, 'roleAdmission' | 'defaultAdmission'>>,
  ) {
    this.#roles = createRoleTable(config.roles);
    this.#roleAdmission = config.roleAdmission ?? {};
    this.#defaultAdmission = config.defaultAdmission ?? 'baseline';
    this.#entries = config.tokens.map((entry) => ({
      entry,
      hash: Buffer.from(entry.sha256, 'hex'),
    }));
    this.required = this.#entries.length > 0;
  }

  /** The principal of a request carrying `authorization` (a header value or a bare token). */
  authenticate(authorization: string | null | undefined): AuthenticationResult {
    if (!this.required) return { principal: LOCAL_ADMIN };
    const token = bearerTokenOf(authorization);
    if (token === undefined) {
      return {
        failure: {
          message:
            'authentication required: send "Authorization: Bearer <token>" (over WebSocket: {"authorization": "Bearer <token>"} in the connection_init payload)',
        },
      };
    }
    if (token === null) {
      return { failure: { message: 'the Authorization header must be "Bearer <token>"' } };
    }
    const hash = Buffer.from(hashToken(token), 'hex');
    // Every entry is compared, in constant time, so the answer's timing tells nothing.
    let found: TokenEntry | undefined;
    for (const { entry, hash: expected } of this.#entries) {
      if (timingSafeEqual(hash, expected)) found ??= entry;
    }
    if (!found) return { failure: { message: 'the token is not valid' } };
    const permissions = this.#roles.get(found.role) ?? new Set<Permission>();
    return {
      principal: {
        tokenId: found.id,
        role: found.role,
        permissions,
        labels: found.labels,
        engines: found.engines ?? null,
        admission: admissionLevelOf(
          permissions,
          this.#roleAdmission[found.role],
          this.#defaultAdmission,
        ),
      },
    };
  }
}
