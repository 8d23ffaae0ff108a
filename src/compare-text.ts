/**
 * Code-unit order of two strings (what `<` compares), for sorts that must give the same
 * order on every machine: cursors' keys and groups, label pairs, engine and context names.
 * `localeCompare` would follow the locale of the host.
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
