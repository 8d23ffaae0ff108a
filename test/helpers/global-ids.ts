/** A global ID as the server writes it: base64url of `Type:engine:objectId`. */
export function encodeGlobalId(type: string, engine: string, objectId: string): string {
  return Buffer.from(`${type}:${engine}:${objectId}`, 'utf8').toString('base64url');
}

/** The four root lookups, each by the argument that may hold a global ID of its type. */
export const LOOKUPS = {
  container: { argument: 'idOrName', type: 'Container' },
  image: { argument: 'reference', type: 'Image' },
  volume: { argument: 'name', type: 'Volume' },
  network: { argument: 'idOrName', type: 'Network' },
} as const;

/** A root lookup of {@link LOOKUPS}. */
export type LookupField = keyof typeof LOOKUPS;
