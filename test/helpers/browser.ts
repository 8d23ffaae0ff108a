// Debian's Chromium driven by playwright-core, with every request to a host other than the
// ones a test allows blocked, and every console error, page error and blocked request kept,
// so that a page needing a CDN (or throwing) fails its test.
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { type Browser, chromium, type Page } from 'playwright-core';
import { inject } from 'vitest';

/** Where the tests write their screenshots (gitignored; a CI artifact). */
export const ARTIFACTS = new URL('../../artifacts/', import.meta.url);

export const CHROMIUM = process.env.DOCKERGRAPH_CHROMIUM ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
}

/** A page and what went wrong on it. */
export interface WatchedPage {
  readonly page: Page;
  /** Requests to hosts not allowed, aborted. */
  readonly blocked: string[];
  /** Console errors and uncaught page errors. */
  readonly errors: string[];
}

/** A new page (its own context: own sessionStorage) that may only reach `hosts` ("127.0.0.1:4000"). */
export async function watchedPage(
  browser: Browser,
  hosts: readonly string[],
  viewport = { width: 1280, height: 800 },
): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const blocked: string[] = [];
  const errors: string[] = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || url.protocol === 'blob:' || hosts.includes(url.host)) {
      return route.continue();
    }
    blocked.push(route.request().url());
    return route.abort('blockedbyclient');
  });
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page: ${error.message}`));
  return { page, blocked, errors };
}

/** Saves a screenshot as artifacts/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = new URL(`${name}.png`, ARTIFACTS).pathname;
  await page.screenshot({ path });
  return path;
}

const run = promisify(execFile);

/** Runs the docker CLI against the test engine; its standard output, trimmed. */
export async function dockerCli(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, {
    env: { ...process.env, DOCKER_HOST: inject('dockerHost') },
  });
  return stdout.trim();
}
