// The dashboard in real Chromium, every other host blocked, against the private engine behind
// a fault proxy: sign-in, containers appearing live, the stop button, logs, a viewer's page
// without actions, and an engine outage shown and recovered from. Screenshots go to artifacts/.
import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readContainerLogs } from '../../src/docker/containers.ts';
import { randomToken, tokensEnv } from '../helpers/access.ts';
import {
  dockerCli,
  launchChromium,
  screenshot,
  type WatchedPage,
  watchedPage,
} from '../helpers/browser.ts';
import { BASE_IMAGE, EngineFixtures, TEST_LABEL } from '../helpers/docker-fixtures.ts';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.ts';
import { type LiveServer, startLiveServer } from '../helpers/live-server.ts';

const tokens = { admin: randomToken(), viewer: randomToken() };

describe('dashboard', () => {
  const fixtures = new EngineFixtures();
  const name = fixtures.name('dash');
  let proxy: FaultProxy;
  let live: LiveServer;
  let browser: Browser;
  let admin: WatchedPage;

  /** Opens the dashboard in a page of its own and signs in with `token`. */
  async function signIn(
    token: string,
    viewport?: { width: number; height: number },
    prepare?: (page: Page) => Promise<void>,
  ) {
    const watched = await watchedPage(browser, [new URL(live.server.url).host], viewport);
    await prepare?.(watched.page);
    await watched.page.goto(`${live.server.url}/dashboard`);
    await watched.page.getByLabel('Token').fill(token);
    await watched.page.getByRole('button', { name: 'Sign in' }).click();
    await watched.page.locator('table.containers').waitFor();
    return watched;
  }

  /** Creates a container of this run that is never started (a create event, a new row). */
  async function createStopped(container: string) {
    await dockerCli(
      'create',
      '--name',
      container,
      '--label',
      `${TEST_LABEL}=${fixtures.run}`,
      BASE_IMAGE,
      'true',
    );
  }

  /**
   * Signs in with a page whose WebSockets to the server pass through the test, which can drop
   * them as a network failure would (`drop`) and refuse new ones until `restore`; graphql-ws
   * keeps trying, then connects again and subscribes anew (`reconnected`).
   */
  async function signInDroppable() {
    const connections: { page: WebSocketRoute; server: WebSocketRoute }[] = [];
    let down = false;
    let dropped = 0;
    const watched = await signIn(tokens.admin, undefined, (opened) =>
      opened.routeWebSocket(/\/graphql$/, (socket) => {
        if (down) {
          void socket.close({ code: 1001, reason: 'network still down' });
          return;
        }
        connections.push({ page: socket, server: socket.connectToServer() });
      }),
    );
    return {
      ...watched,
      async drop() {
        down = true;
        dropped = connections.length;
        for (const connection of connections) {
          await connection.server.close();
          await connection.page.close({ code: 1001, reason: 'network dropped' });
        }
      },
      async restore() {
        down = false;
        await expect.poll(() => connections.length, { timeout: 30_000 }).toBeGreaterThan(dropped);
      },
    };
  }

  beforeAll(async () => {
    proxy = await startFaultProxy();
    live = await startLiveServer(proxy.dockerHost, {
      env: {
        ...tokensEnv([
          { id: 'ada', role: 'admin', token: tokens.admin },
          { id: 'vic', role: 'viewer', token: tokens.viewer },
        ]),
        // As deployed: the dashboard's lists come from the server's read model.
        DOCKERGRAPH_READ_MODEL: 'on',
      },
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await live?.close();
    await proxy?.close();
    await fixtures.cleanup();
  });

  it('signs in, keeping the token out of the URL', async () => {
    admin = await signIn(tokens.admin);
    await expect.poll(() => admin.page.getByTestId('viewer').innerText()).toBe('ada (admin)');
    expect(admin.page.url()).not.toContain(tokens.admin);
    expect(await admin.page.evaluate(() => sessionStorage.getItem('dockergraph.token'))).toBe(
      tokens.admin,
    );
  });

  it('shows a container started with the docker CLI without a reload, and its logs', async () => {
    const { page } = admin;
    await dockerCli(
      'run',
      '-d',
      '--name',
      name,
      '--label',
      `${TEST_LABEL}=${fixtures.run}`,
      '--label',
      'com.docker.compose.project=shop',
      '--stop-timeout',
      '1',
      BASE_IMAGE,
      'sh',
      '-c',
      'i=0; while true; do echo "line $i"; echo "warn $i" >&2; i=$((i+1)); sleep 0.3; done',
    );
    const row = page.locator(`tr[data-container="${name}"]`);
    await expect
      .poll(() => row.getByTestId('state').innerText(), { timeout: 20_000 })
      .toBe('running');
    await expect
      .poll(() => page.locator('tr.group', { hasText: 'compose project shop' }).count())
      .toBe(1);
    await row.getByRole('button', { name }).click();
    // The details panel: the container's own facts, as the engine tells them.
    const details = page.getByRole('complementary', { name: 'Container details' });
    const shortId = (await dockerCli('inspect', '-f', '{{.Id}}', name)).slice(0, 12);
    await expect
      .poll(async () => (await details.locator('dl').allTextContents()).join(''), {
        timeout: 20_000,
      })
      .toContain(shortId);
    const facts = (await details.locator('dl').textContent()) ?? '';
    expect(facts).toContain(BASE_IMAGE);
    expect(facts).toContain('echo "line $i"');
    const logs = page.getByTestId('logs');
    await expect.poll(() => logs.innerText(), { timeout: 20_000 }).toMatch(/line \d+/);
    await expect.poll(() => page.locator('.logs .stderr').count()).toBeGreaterThan(0);
    // CPU and memory come from containerStats.
    await expect
      .poll(() => row.locator('td[data-label="Memory"]').innerText(), { timeout: 20_000 })
      .toMatch(/B \(/);
    await screenshot(page, 'dashboard');
    expect(admin.blocked).toEqual([]);
    expect(admin.errors).toEqual([]);
  });

  it('opens a terminal on the running container (exec sh) and on another (attach)', async () => {
    const { page } = admin;
    const terminal = page.getByTestId('terminal');
    const status = page.getByTestId('terminal-status');
    await page.getByRole('button', { name: 'exec sh' }).click();
    await expect.poll(() => status.innerText(), { timeout: 20_000 }).toBe('connected');
    await terminal.click();
    // The terminal echoes what is typed; only the shell prints the sum.
    await page.keyboard.type('echo $((40+2))');
    await page.keyboard.press('Enter');
    await expect
      .poll(() => terminal.locator('.xterm-rows').innerText(), { timeout: 20_000 })
      .toMatch(/^42$/m);
    await screenshot(page, 'dashboard-terminal');
    await page.keyboard.type('exit 4');
    await page.keyboard.press('Enter');
    await expect
      .poll(() => status.innerText(), { timeout: 20_000 })
      .toBe('closed (1000: exit code 4)');
    await page.getByRole('button', { name: 'disconnect' }).click();

    const attached = fixtures.name('dash-tty');
    await dockerCli(
      'run',
      '-dit',
      '--name',
      attached,
      '--label',
      `${TEST_LABEL}=${fixtures.run}`,
      BASE_IMAGE,
      'sh',
    );
    const row = page.locator(`tr[data-container="${attached}"]`);
    await expect
      .poll(() => row.getByTestId('state').innerText(), { timeout: 20_000 })
      .toBe('running');
    await row.getByRole('button', { name: attached }).click();
    await page.getByRole('button', { name: 'attach' }).click();
    await expect.poll(() => status.innerText(), { timeout: 20_000 }).toBe('connected');
    await terminal.click();
    await page.keyboard.type('echo $((6*7))');
    await page.keyboard.press('Enter');
    await expect
      .poll(() => terminal.locator('.xterm-rows').innerText(), { timeout: 20_000 })
      .toMatch(/^42$/m);
    await page.getByRole('button', { name: 'disconnect' }).click();
    // Detaching leaves the container running.
    expect(await dockerCli('inspect', '-f', '{{.State.Status}}', attached)).toBe('running');
    await page.locator(`tr[data-container="${name}"]`).getByRole('button', { name }).click();
    expect(admin.blocked).toEqual([]);
    expect(admin.errors).toEqual([]);
  });

  it('after its connection to the server dropped and came back, shows each log line once and what changed meanwhile', async () => {
    const { page, blocked, drop, restore } = await signInDroppable();
    await page.locator(`tr[data-container="${name}"]`).getByRole('button', { name }).click();
    const lines = page.locator('[data-testid="logs"] .line');
    await expect.poll(() => lines.count(), { timeout: 20_000 }).toBeGreaterThan(4);
    const before = await lines.allTextContents();
    await drop();
    // Meanwhile a container appears, whose event no subscription of the page receives.
    const offline = fixtures.name('dash-offline');
    await createStopped(offline);
    await restore();
    // The list is read again once the connection is back.
    await expect
      .poll(() => page.locator(`tr[data-container="${offline}"]`).count(), { timeout: 20_000 })
      .toBe(1);
    // The tail comes again after the new connection: lines written after the drop appear,
    // and every line ("line 7", "warn 7": each text is written once) is shown once.
    await expect
      .poll(async () => (await lines.allTextContents()).some((line) => !before.includes(line)), {
        timeout: 20_000,
      })
      .toBe(true);
    const after = await lines.allTextContents();
    expect(new Set(after).size).toBe(after.length);
    // Nothing lost at the seam: the last line shown before the drop is still there.
    expect(after).toContain(before.at(-1));
    expect(blocked).toEqual([]);
    await page.context().close();
    await dockerCli('rm', offline);
  });

  it('after its connection to the server dropped and came back, shows the events of the outage, each once', async () => {
    const { page, blocked, drop, restore } = await signInDroppable();
    await page.getByRole('link', { name: 'events' }).click();
    const events = page.getByTestId('events');
    const shownOf = (container: string) => events.locator('li', { hasText: container }).count();
    // The view shows what happens once its subscription is set up, which the page does not
    // announce: containers are made until one is shown (an earlier one may have come first).
    const probes: string[] = [];
    await expect
      .poll(
        async () => {
          const shown = await Promise.all(probes.map(shownOf));
          if (shown.some((count) => count > 0)) return true;
          const probe = fixtures.name(`dash-seen-${probes.length}`);
          probes.push(probe);
          await createStopped(probe);
          return false;
        },
        { timeout: 30_000 },
      )
      .toBe(true);
    // The last one made is then the last event shown before the drop.
    const seen = probes.at(-1) ?? '';
    await expect.poll(() => shownOf(seen), { timeout: 20_000 }).toBe(1);
    await drop();
    const missed = fixtures.name('dash-missed');
    await createStopped(missed);
    await restore();
    // Replayed from the engine's own record once the connection is back.
    await expect.poll(() => shownOf(missed), { timeout: 20_000 }).toBe(1);
    // The replay starts at the last event shown, which is not shown twice (nor any before it).
    expect(await shownOf(seen)).toBe(1);
    for (const probe of probes) expect(await shownOf(probe)).toBeLessThanOrEqual(1);
    expect(blocked).toEqual([]);
    await page.context().close();
    await dockerCli('rm', ...probes, missed);
  });

  it('puts a container under its compose project, and those of no project under a header of their own', async () => {
    const { page } = admin;
    // The headers of the section holding `container` (allInnerTexts does not wait for one).
    const headerAbove = (container: string) =>
      page
        .locator('tbody', { has: page.locator(`tr[data-container="${container}"]`) })
        .locator('tr.group')
        .allInnerTexts();
    await expect.poll(() => headerAbove(name)).toEqual(['compose project shop']);
    await expect.poll(() => headerAbove(fixtures.name('dash-tty'))).toEqual(['no compose project']);
    // Projects come first, in name order; the section of no project is the last.
    const headers = await page.locator('tr.group').allInnerTexts();
    expect(headers.at(-1)).toBe('no compose project');
    const projects = headers.slice(0, -1);
    expect(projects).toEqual([...projects].sort((a, b) => a.localeCompare(b)));
    await page.getByLabel('group by project').uncheck();
    await expect.poll(() => page.locator('tr.group').count()).toBe(0);
    await expect.poll(() => page.locator(`tr[data-container="${name}"]`).count()).toBe(1);
    await page.getByLabel('group by project').check();
    await expect.poll(() => headerAbove(name)).toEqual(['compose project shop']);
    expect(admin.errors).toEqual([]);
  });

  it('stops the container with its stop button, and shows the new state', async () => {
    const row = admin.page.locator(`tr[data-container="${name}"]`);
    await row.getByRole('button', { name: 'stop' }).click();
    await expect
      .poll(() => row.getByTestId('state').innerText(), { timeout: 30_000 })
      .toBe('exited');
    await expect.poll(() => row.getByRole('button', { name: 'start' }).count()).toBe(1);
    expect(await dockerCli('inspect', '-f', '{{.State.Status}}', name)).toBe('exited');
    expect(admin.errors).toEqual([]);
  });

  it("ends the stopped container's logs with its last line, shown once", async () => {
    const { page } = admin;
    // The container's log stream ends when it stops; the panel says so, and holds no more.
    await page.getByTestId('logs-ended').waitFor({ timeout: 20_000 });
    const shown = await page
      .getByTestId('logs')
      .locator('.line')
      .evaluateAll((lines) =>
        lines.map(
          (line) =>
            `${line.classList.contains('stderr') ? 'stderr' : 'stdout'} ${line.textContent}`,
        ),
      );
    // What the engine keeps: the panel shows its last lines in its order, each once.
    const kept = await readContainerLogs(
      fixtures.engine,
      name,
      { timestamps: false, stdout: true, stderr: true, tty: false },
      { maxLines: 100_000, maxBytes: 16 * 1024 * 1024 },
    );
    expect(kept.truncated).toBe(false);
    const expected = kept.lines.map((line) => `${line.stream} ${line.message}`);
    expect(shown.length).toBeGreaterThan(0);
    expect(shown).toEqual(expected.slice(-shown.length));
    expect(admin.errors).toEqual([]);
  });

  it('shows no action buttons to a viewer token, on a laptop and on a phone', async () => {
    const viewer = await signIn(tokens.viewer);
    const row = viewer.page.locator(`tr[data-container="${name}"]`);
    await expect
      .poll(() => row.getByTestId('state').innerText(), { timeout: 20_000 })
      .toBe('exited');
    expect(await viewer.page.locator('button.action').count()).toBe(0);
    await viewer.page.setViewportSize({ width: 390, height: 844 });
    await screenshot(viewer.page, 'dashboard-viewer-phone');
    expect(await viewer.page.locator('button.action').count()).toBe(0);
    expect(viewer.blocked).toEqual([]);
    expect(viewer.errors).toEqual([]);
  });

  it('shows a clear banner while the engine is unreachable, and recovers', async () => {
    const { page } = admin;
    const banner = page.locator('.banner-ENGINE_UNAVAILABLE');
    proxy.setMode({ kind: 'refuse' });
    proxy.cutAll();
    await banner.waitFor({ timeout: 30_000 });
    expect(await banner.innerText()).toContain('The Docker engine cannot be reached');
    await screenshot(page, 'dashboard-engine-unavailable');
    proxy.setMode({ kind: 'pass' });
    await banner.waitFor({ state: 'detached', timeout: 30_000 });
    // Re-listed after the outage.
    const row = page.locator(`tr[data-container="${name}"]`);
    await expect
      .poll(() => row.getByTestId('state').innerText(), { timeout: 20_000 })
      .toBe('exited');
    // The only console errors: the browser's notes of the failed readiness checks (503).
    for (const error of admin.errors) {
      expect(error).toMatch(/Failed to load resource: the server responded with a status of 503/);
    }
    expect(admin.blocked).toEqual([]);
  });
});
