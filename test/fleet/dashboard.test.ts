// The dashboard over three engines in real Chromium, every other host blocked: one container
// table with each container's engine, the engine filter narrowing it to one engine, the engine
// overview, an engine that goes down named in a banner while the others' rows stay, gone with a
// re-list once the engine is back; and the terminal and the stop button on a container's own engine.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.ts';
import { randomToken, tokensEnv } from '../helpers/access.ts';
import { launchChromium, screenshot, type WatchedPage, watchedPage } from '../helpers/browser.ts';
import {
  FLEET_ENGINE_NAMES,
  fleetTestRun,
  runDockerCli,
  startFleetServer,
  whileFleetEngineDown,
} from '../helpers/fleet.ts';

const testRun = fleetTestRun('dashboard');
const adminToken = randomToken();
/** One container per engine, named after it. */
const containerOf = (engine: string) => `${testRun.run}-${engine}`;

let server: RunningServer;
let browser: Browser;
let admin: WatchedPage;

beforeAll(async () => {
  server = await startFleetServer(tokensEnv([{ id: 'root', role: 'admin', token: adminToken }]));
  await Promise.all(
    FLEET_ENGINE_NAMES.map((engine) => testRun.runIdleContainer(engine, containerOf(engine))),
  );
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await Promise.all(
    FLEET_ENGINE_NAMES.map((engine) =>
      runDockerCli(engine, ['rm', '-f', containerOf(engine)]).catch(() => undefined),
    ),
  );
});

/** The row of the test's container on `engine`. */
const rowOf = (engine: string) => admin.page.locator(`tr[data-container="${containerOf(engine)}"]`);

describe('dashboard over several engines', () => {
  it('lists the containers of all three engines, each with its engine name', async () => {
    admin = await watchedPage(browser, [new URL(server.url).host]);
    const { page } = admin;
    await page.goto(`${server.url}/dashboard`);
    await page.getByLabel('Token').fill(adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    for (const engine of FLEET_ENGINE_NAMES) {
      await expect
        .poll(() => rowOf(engine).getByTestId('state').innerText(), { timeout: 60_000 })
        .toBe('running');
      expect(await rowOf(engine).locator('td[data-label="Engine"]').innerText()).toBe(engine);
    }
    await screenshot(page, 'dashboard-fleet');
    expect(admin.blocked).toEqual([]);
    expect(admin.errors).toEqual([]);
  });

  it('narrows the table to one engine with the engine filter', async () => {
    const { page } = admin;
    await page.getByLabel('Engine').selectOption('fleet-b');
    await expect.poll(() => rowOf('fleet-a').count()).toBe(0);
    await expect.poll(() => rowOf('fleet-c').count()).toBe(0);
    expect(await rowOf('fleet-b').count()).toBe(1);
    const shownEngines = await page
      .locator('table.containers td[data-label="Engine"]')
      .allInnerTexts();
    expect(new Set(shownEngines)).toEqual(new Set(['fleet-b']));
    await page.getByLabel('Engine').selectOption('');
    await expect.poll(() => rowOf('fleet-a').count()).toBe(1);
    await expect.poll(() => rowOf('fleet-c').count()).toBe(1);
    expect(admin.errors).toEqual([]);
  });

  it('shows every engine as reachable in the engine overview', async () => {
    const { page } = admin;
    await page.locator('nav a[href="#engine"]').click();
    const overview = page.getByTestId('engines');
    for (const engine of FLEET_ENGINE_NAMES) {
      await expect
        .poll(() =>
          overview.locator(`tr[data-engine="${engine}"]`).getByTestId('reachable').innerText(),
        )
        .toBe('reachable');
    }
    await page.locator('nav a[href="#containers"]').click();
    await expect.poll(() => rowOf('fleet-a').count()).toBe(1);
  });

  it('names an engine that is down in a banner and keeps showing the others, until it is back', async () => {
    const { page } = admin;
    const banner = page.locator('.banner-engine[data-engine="fleet-c"]');
    await whileFleetEngineDown('fleet-c', async () => {
      await page.reload();
      await banner.waitFor({ timeout: 60_000 });
      expect(await banner.innerText()).toContain('Engine fleet-c is unreachable');
      for (const engine of ['fleet-a', 'fleet-b']) {
        await expect
          .poll(() => rowOf(engine).getByTestId('state').innerText(), { timeout: 60_000 })
          .toBe('running');
      }
      expect(await rowOf('fleet-c').count()).toBe(0);
      await screenshot(page, 'dashboard-fleet-engine-down');

      await page.locator('nav a[href="#engine"]').click();
      const overview = page.getByTestId('engines');
      await expect
        .poll(() =>
          overview.locator('tr[data-engine="fleet-c"]').getByTestId('reachable').innerText(),
        )
        .toBe('unreachable');
      expect(
        await overview.locator('tr[data-engine="fleet-a"]').getByTestId('reachable').innerText(),
      ).toBe('reachable');
      expect(admin.blocked).toEqual([]);
      expect(admin.errors).toEqual([]);
    });

    // Back: the banner goes and the container of fleet-c (killed with its engine) is listed again.
    await page.locator('nav a[href="#containers"]').click();
    await banner.waitFor({ state: 'detached', timeout: 60_000 });
    await expect
      .poll(() => rowOf('fleet-c').getByTestId('state').innerText(), { timeout: 60_000 })
      .toBe('exited');
    expect(admin.errors).toEqual([]);
  });

  it('opens a terminal and stops a container on their own engine', async () => {
    const { page } = admin;
    const name = containerOf('fleet-b');
    await rowOf('fleet-b').getByRole('button', { name }).click();
    const status = page.getByTestId('terminal-status');
    await page.getByRole('button', { name: 'exec sh' }).click();
    await expect.poll(() => status.innerText(), { timeout: 60_000 }).toBe('connected');
    await page.getByTestId('terminal').click();
    // Only the shell of fleet-b's container knows its host name (its short id there).
    await page.keyboard.type('hostname');
    await page.keyboard.press('Enter');
    const { stdout } = await runDockerCli('fleet-b', [
      'inspect',
      '-f',
      '{{.Config.Hostname}}',
      name,
    ]);
    await expect
      .poll(() => page.getByTestId('terminal').locator('.xterm-rows').innerText(), {
        timeout: 60_000,
      })
      .toContain(stdout.trim());
    await page.getByRole('button', { name: 'disconnect' }).click();

    await rowOf('fleet-b').getByRole('button', { name: 'stop' }).click();
    await expect
      .poll(() => rowOf('fleet-b').getByTestId('state').innerText(), { timeout: 60_000 })
      .toBe('exited');
    const state = await runDockerCli('fleet-b', ['inspect', '-f', '{{.State.Status}}', name]);
    expect(state.stdout.trim()).toBe('exited');
    expect(await rowOf('fleet-a').getByTestId('state').innerText()).toBe('running');
    expect(admin.blocked).toEqual([]);
    expect(admin.errors).toEqual([]);
  });
});
