/**
 * Links to the binary download routes that `src/downloads.ts` serves beside
 * `/graphql`, relative to the origin serving it.
 */

/** Where the download routes start. */
export const DOWNLOADS_PREFIX = '/files/';

/** Links to the download routes, relative to the origin serving `/graphql`. */
export const downloadLinks = {
  /** A tar archive of `path` in a container. */
  containerArchive(engine: string, container: string, path: string): string {
    return `${DOWNLOADS_PREFIX}${encodeURIComponent(engine)}/containers/${encodeURIComponent(container)}/archive?path=${encodeURIComponent(path)}`;
  },
  /** The container's whole filesystem as a tar archive. */
  containerExport(engine: string, container: string): string {
    return `${DOWNLOADS_PREFIX}${encodeURIComponent(engine)}/containers/${encodeURIComponent(container)}/export`;
  },
  /** Images as a `docker save` tar archive, under the given references. */
  imageSave(engine: string, references: readonly string[]): string {
    const query = references.map((reference) => `reference=${encodeURIComponent(reference)}`);
    return `${DOWNLOADS_PREFIX}${encodeURIComponent(engine)}/images/save?${query.join('&')}`;
  },
};
