// GraphiQL in real Chromium with every other host blocked: it loads from this server alone,
// runs its example query, and shows a subscription's events as they happen.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dockerCli,
  launchChromium,
  screenshot,
  type WatchedPage,
  watchedPage,
} from '../helpers/browser.ts';
import { EngineFixtures } from '../helpers/docker-fixtures.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';

/** The response pane's text, its editor's spacing (non-breaking spaces) made plain. */
async function responseText(page: WatchedPage['page']): Promise<string> {
  return (await page.locator('.graphiql-response').innerText()).replace(/\s+/g, ' ');
}

describe('GraphiQL', () => {
  const fixtures = new EngineFixtures();
  let live: LiveServer;
  let browser: Browser;
  let watched: WatchedPage;

  beforeAll(async () => {
    live = await startLiveServer();
    browser = await launchChromium();
    watched = await watchedPage(browser, [new URL(live.server.url).host], {
      width: 1400,
      height: 900,
    });
  });
  afterAll(async () => {
    await browser?.close();
    await live?.close();
    await fixtures.cleanup();
  });

  it('loads with no other host, and runs the example query', async () => {
    const { page } = watched;
    await page.goto(`${live.server.url}/graphql`);
    await page.locator('.graphiql-execute-button').click();
    await expect
      .poll(() => responseText(page), { timeout: 30_000 })
      .toContain('"apiVersion": "1.41"');
    await expect.poll(() => responseText(page)).toContain('"totalCount"');
    await screenshot(page, 'graphiql-query');
    expect(watched.blocked).toEqual([]);
    expect(watched.errors).toEqual([]);
  });

  it('shows the events of a subscription as they happen', async () => {
    const { page } = watched;
    let attempt = 0;
    await page.locator('.graphiql-query-editor .monaco-editor').first().click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(
      `subscription Watch { events(filter: { types: [VOLUME], actions: ["create"] }) { kind event { action actor { id } } } }`,
    );
    await page.locator('.graphiql-execute-button').click();
    // A new volume each try until the subscription (it runs until stopped) shows one.
    await expect
      .poll(
        async () => {
          const text = await responseText(page);
          // GraphiQL reads the operation names from the editor after a debounce: a click that
          // comes first still names the example's "Overview". Run again, as a person would.
          if (text.includes('Cannot infer operation')) {
            await page.locator('.graphiql-execute-button').click();
            return text;
          }
          if (!text.includes('"create"')) {
            attempt += 1;
            const name = fixtures.name(`gql-sub-${attempt}`);
            await dockerCli(
              'volume',
              'create',
              '--label',
              `dockergraph.test=${fixtures.run}`,
              name,
            );
          }
          return text;
        },
        { timeout: 30_000, interval: 1_000 },
      )
      .toContain('"action": "create"');
    await screenshot(page, 'graphiql-subscription');
    expect(watched.blocked).toEqual([]);
    expect(watched.errors).toEqual([]);
  });
});
