// A hostile page served from another origin on loopback (a second port), open in Chromium
// next to a dockergraph without tokens: it can neither cause a change nor read an answer.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerCli, launchChromium, watchedPage } from '../helpers/browser.ts';
import { EngineFixtures } from '../helpers/docker-fixtures.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';

describe('a page of another site', () => {
  const fixtures = new EngineFixtures();
  const names = { plain: fixtures.name('xs-text'), form: fixtures.name('xs-form') };
  let live: LiveServer;
  let hostile: Server;
  let browser: Browser;

  beforeAll(async () => {
    live = await startLiveServer();
    const target = `${live.server.url}/graphql`;
    const mutation = (name: string) =>
      `mutation { createVolume(input: { name: "${name}" }) { __typename } }`;
    const page = `<!doctype html><html><body>
<iframe name="sink"></iframe>
<form id="f" method="POST" target="sink" action="${target}">
  <input name="query" value='${mutation(names.form)}'>
</form>
<script>
  window.results = {};
  document.getElementById('f').submit();
  fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' },
    body: JSON.stringify({ query: ${JSON.stringify(mutation(names.plain))} }) }).then(() => { results.noCors = 'sent'; }, () => { results.noCors = 'failed'; });
  fetch(${JSON.stringify(`${target}?query=${encodeURIComponent('{ engine { version { version } } }')}`)})
    .then((r) => r.text()).then((t) => { results.read = t; }, () => { results.read = 'refused'; });
  const source = new EventSource(${JSON.stringify(`${target}?query=${encodeURIComponent('subscription { events { kind } }')}`)});
  source.onmessage = () => { results.events = 'read'; };
  source.onerror = () => { results.events = 'refused'; source.close(); };
  const socket = new WebSocket(${JSON.stringify(target.replace('http:', 'ws:'))}, 'graphql-transport-ws');
  socket.onopen = () => { results.socket = 'open'; };
  socket.onerror = () => { results.socket = 'refused'; };
</script></body></html>`;
    hostile = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(page);
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => hostile?.close(resolve));
    await live?.close();
    await fixtures.cleanup();
  });

  it('cannot create anything, nor read answers, events or a WebSocket', async () => {
    const hostileHost = `127.0.0.1:${(hostile.address() as AddressInfo).port}`;
    const watched = await watchedPage(browser, [hostileHost, new URL(live.server.url).host]);
    await watched.page.goto(`http://${hostileHost}/`);
    await expect
      .poll(
        () =>
          watched.page.evaluate(
            () => (window as unknown as { results: Record<string, string> }).results,
          ),
        { timeout: 20_000 },
      )
      .toMatchObject({ noCors: 'sent', read: 'refused', events: 'refused', socket: 'refused' });
    // The form's answer arrived in the frame, so the request was made and refused.
    await expect
      .poll(() => watched.page.frame({ name: 'sink' })?.content() ?? '', { timeout: 20_000 })
      .toContain('CROSS_SITE_REFUSED');
    for (const name of Object.values(names)) {
      await expect(dockerCli('volume', 'inspect', name)).rejects.toThrow(/no such volume/i);
    }
  });
});
