import { readFile } from 'node:fs/promises';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../context.ts';

/**
 * Where `npm install` (the `prepare` script, web/build.ts) puts the built dashboard.
 * Resolved on use, not at import: in workerd `import.meta.url` is not a hierarchical URL
 * and a module-level `new URL` would stop the worker from starting.
 */
function distFile(file: string): URL {
  return new URL(file, new URL('../../web/dist/', import.meta.url));
}

/** The built files the dashboard page loads, by the path they are served at. */
const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  '/dashboard/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
  '/dashboard/dashboard.js.map': { file: 'dashboard.js.map', type: 'application/json' },
  '/dashboard/dashboard.css.map': { file: 'dashboard.css.map', type: 'application/json' },
  '/dashboard/dashboard.js.LEGAL.txt': {
    file: 'dashboard.js.LEGAL.txt',
    type: 'text/plain; charset=utf-8',
  },
  // xterm.js's stylesheet carries its licence.
  '/dashboard/dashboard.css.LEGAL.txt': {
    file: 'dashboard.css.LEGAL.txt',
    type: 'text/plain; charset=utf-8',
  },
};

/**
 * Headers of every page and asset: everything from this server only (no CDN, no inline
 * script), and no framing, so that a page of another site cannot overlay the dashboard's
 * buttons and have them clicked (clickjacking). Inline styles are allowed, scripts never:
 * xterm.js (the terminal) sizes its cells with `<style>` elements it writes at run time,
 * whose contents change with the font and the window, so no hash can list them.
 */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

function dashboardPage(tokensRequired: boolean): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>dockergraph dashboard</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="/dashboard/dashboard.css" />
  </head>
  <body data-tokens="${tokensRequired ? 'required' : 'none'}">
    <div id="app"><p class="loading">Loading the dashboard…</p></div>
    <noscript>The dashboard needs JavaScript.</noscript>
    <script type="module" src="/dashboard/dashboard.js"></script>
  </body>
</html>
`;
}

function landingPage(graphiql: boolean): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>dockergraph</title>
    <link rel="icon" href="data:," />
  </head>
  <body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem">
    <h1>dockergraph</h1>
    <p>A GraphQL facade over the Docker Engine API.</p>
    <ul>
      <li><a href="/dashboard">Dashboard</a>: containers, logs, images, volumes, networks and events, live.</li>
      ${graphiql ? '<li><a href="/graphql">GraphiQL</a>: explore and run operations.</li>' : ''}
      <li>GraphQL endpoint: <code>/graphql</code> (HTTP, server-sent events, WebSocket).</li>
    </ul>
  </body>
</html>
`;
}

function page(body: string, status = 200): Response {
  return new Response(body, {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', ...PAGE_HEADERS },
  });
}

/**
 * Serves the dashboard (`/dashboard`, built from web/ into web/dist) and a landing page
 * at `/`, to everyone: they hold no data, the dashboard asks for a token itself and
 * sends it with each operation.
 */
export function useDashboard({
  graphiql,
  tokensRequired,
}: {
  graphiql: boolean;
  /** Whether the page asks for a token before its first operation. */
  tokensRequired: boolean;
}): Plugin<GraphQLContext> {
  return {
    async onRequest({ request, url, endResponse }) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return;
      if (url.pathname === '/') {
        endResponse(page(landingPage(graphiql)));
        return;
      }
      if (url.pathname === '/dashboard' || url.pathname === '/dashboard/') {
        endResponse(page(dashboardPage(tokensRequired)));
        return;
      }
      const asset = ASSETS[url.pathname];
      if (!asset) return;
      try {
        const body = await readFile(distFile(asset.file));
        endResponse(
          new Response(new Uint8Array(body), {
            headers: { ...PAGE_HEADERS, 'content-type': asset.type },
          }),
        );
      } catch {
        endResponse(
          new Response(
            'The dashboard is not built: run "npm run build:web" (npm install runs it).\n',
            { status: 503, headers: { 'content-type': 'text/plain; charset=utf-8' } },
          ),
        );
      }
    },
  };
}
