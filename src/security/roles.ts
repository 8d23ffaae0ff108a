/**
 * The role model: what each permission allows and which permissions each role
 * holds. Every access rule of dockergraph is expressed with these permissions;
 * `src/schema/access-rules.ts` says which one each GraphQL field needs.
 */

/**
 * What a token may do, from least to most powerful:
 *
 * - `read`: containers, images, volumes, networks, the engine, their events and stats;
 * - `logs`: container logs;
 * - `lifecycle`: start, stop, restart, pause, unpause, kill and wait for containers;
 * - `secrets`: environment variable values and other secrets (redacted without it);
 * - `write`: create, change and remove containers, images, volumes and networks; pull,
 *   push, tag and prune;
 * - `dangerous`: privileged containers, host bind mounts outside the allow-list, host
 *   namespaces, added capabilities, devices, exec, file copy, archive and export
 *   downloads, image builds, loads and saves.
 *
 * Beside them, not above nor below:
 *
 * - `metrics`: `GET /metrics` (request and engine-call counts, durations, and the names
 *   of the operations run by every token). Admins hold it; a monitoring role of the
 *   tokens file may hold it alone.
 */
export const PERMISSIONS = [
  'read',
  'logs',
  'lifecycle',
  'secrets',
  'write',
  'dangerous',
  'metrics',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

/** The roles every deployment has; a token file may add its own. */
export const BUILT_IN_ROLES: Readonly<Record<string, readonly Permission[]>> = {
  viewer: ['read'],
  operator: ['read', 'logs', 'lifecycle'],
  admin: PERMISSIONS,
};

/** Role name to the permissions it holds. */
export type RoleTable = ReadonlyMap<string, ReadonlySet<Permission>>;

/** Whether `value` names a permission. */
export function isPermission(value: string): value is Permission {
  return (PERMISSIONS as readonly string[]).includes(value);
}

/** The built-in roles plus `custom` ones (which may not redefine a built-in role). */
export function createRoleTable(
  custom: Readonly<Record<string, readonly Permission[]>> = {},
): RoleTable {
  const table = new Map<string, ReadonlySet<Permission>>();
  for (const [name, permissions] of Object.entries({ ...custom, ...BUILT_IN_ROLES })) {
    table.set(name, new Set(permissions));
  }
  return table;
}
