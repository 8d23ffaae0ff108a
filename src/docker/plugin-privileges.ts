import type { PluginPrivilege } from './plugins.ts';

/**
 * The rule of plugin installs and upgrades: the privileges a client grants must be exactly
 * those the plugin asks for (`GET /plugins/privileges`), as `docker plugin install` shows
 * them and asks before pulling. Nothing is granted that the client did not name; naming
 * more than the plugin asks is refused too, since it means the client reviewed another
 * plugin than the one the registry serves now.
 *
 * @module
 */

/** One privilege as the client grants it: a kind and its values (order does not matter). */
export interface GrantedPrivilege {
  readonly name: string;
  readonly value: readonly string[];
}

/** "kind value" pairs, one per value; a privilege without values is the kind alone. */
function pairsOf(privileges: readonly { name: string; value: readonly string[] }[]): Set<string> {
  const pairs = new Set<string>();
  for (const { name, value } of privileges) {
    if (value.length === 0) pairs.add(name);
    for (const item of value) pairs.add(`${name} ${JSON.stringify(item)}`);
  }
  return pairs;
}

/**
 * What differs between the privileges asked and those granted, in words that name each
 * difference; null when they match.
 */
export function privilegeMismatch(
  asked: readonly PluginPrivilege[],
  granted: readonly GrantedPrivilege[],
): string | null {
  const askedPairs = pairsOf(
    asked.map((privilege) => ({ name: privilege.Name, value: privilege.Value })),
  );
  const grantedPairs = pairsOf(granted);
  const missing = [...askedPairs].filter((pair) => !grantedPairs.has(pair));
  const extra = [...grantedPairs].filter((pair) => !askedPairs.has(pair));
  if (missing.length === 0 && extra.length === 0) return null;
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`the plugin asks for ${missing.join(', ')}, not granted`);
  if (extra.length > 0)
    parts.push(`granted ${extra.join(', ')}, which the plugin does not ask for`);
  return `must be exactly the privileges the plugin asks for (see pluginPrivileges): ${parts.join('; ')}`;
}
