/**
 * Which web origins may use the server from a browser: those of
 * DOCKERGRAPH_ALLOWED_ORIGINS, and the server's own. CORS answers and
 * WebSocket upgrades are both decided here.
 */

/**
 * Whether a page of `origin` may use the server reached at `host` (the request's
 * Host header). Same-origin is judged by host alone, so that a server behind a
 * TLS-terminating proxy (https outside, http inside) still knows its own pages.
 */
export function isAllowedOrigin(
  origin: string,
  host: string | null | undefined,
  allowedOrigins: readonly string[],
): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    // "null" (sandboxed frames, file: pages) and anything unparsable.
    return false;
  }
  if (allowedOrigins.includes(url.origin)) return true;
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !host) return false;
  try {
    // Parsed the same way, "example.com:80" and "example.com" are one host.
    return new URL(`${url.protocol}//${host}`).host === url.host;
  } catch {
    return false;
  }
}
