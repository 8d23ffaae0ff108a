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

/** Whether `host` (a name or address, no port) is one only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return (
    host === 'localhost' || host === '::1' || host === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(host)
  );
}

/**
 * Whether a request's Host header names this machine's loopback. A server
 * without tokens answers only such requests: a web page whose domain an
 * attacker re-points at 127.0.0.1 (DNS rebinding) is same-origin to the
 * browser, but still sends its own domain in Host.
 */
export function isLoopbackHostHeader(hostHeader: string | null | undefined): boolean {
  if (!hostHeader) return false;
  try {
    return isLoopbackHost(new URL(`http://${hostHeader}`).hostname);
  } catch {
    return false;
  }
}

/**
 * Whether a request that is not a CORS request (a link, an `<img>`, a form) comes
 * from a page of another site: its Origin, when sent, is not allowed, or the
 * browser's `Sec-Fetch-Site` says the page was on another site.
 */
export function isForeignPageRequest(request: Request, allowedOrigins: readonly string[]): boolean {
  const { headers } = request;
  const origin = headers.get('origin');
  if (origin !== null) return !isAllowedOrigin(origin, new URL(request.url).host, allowedOrigins);
  const site = headers.get('sec-fetch-site');
  return site === 'cross-site' || site === 'same-site';
}
