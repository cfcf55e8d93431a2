// Headless Chromium for the browser tests: Debian's chromium package, driven
// by playwright-core (no browser download), with a throwaway profile, and
// the helpers that drive the demo page (example/web).
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Where the screenshots go (ignored by git). */
export const artifacts = fileURLToPath(new URL('../../artifacts/', import.meta.url));

/**
 * Starts Chromium with a new profile and returns its context, its page, the
 * page errors and console errors seen (`problems`; refused requests, which
 * Chromium logs as errors, are left out), `act` and `close`.
 */
export async function launchBrowser() {
  await mkdir(artifacts, { recursive: true });
  const profile = await mkdtemp(join(tmpdir(), 'jwtguard-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width: 1200, height: 1000 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    // Chromium logs every 4xx answer; those are the refusals the demo shows.
    if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) problems.push(`console: ${msg.text()}`);
  });

  /** Clicks a button and returns the finished step the page logs for it. */
  async function act(buttonId, step) {
    const before = await page.locator('#log > li').count();
    await page.click(`#${buttonId}`);
    await page.waitForFunction(
      ([n, name]) => {
        const li = document.querySelector('#log > li');
        return document.querySelectorAll('#log > li').length > n && li.dataset.step === name && li.dataset.outcome !== 'pending';
      },
      [before, step],
      { timeout: 20_000 },
    );
    return page.evaluate(() => {
      const li = document.querySelector('#log > li');
      return {
        outcome: li.dataset.outcome,
        text: li.querySelector('.outcome').textContent,
        exchanges: [...li.querySelectorAll('.exchange')].map((x) => `${x.dataset.method} ${x.dataset.path} ${x.dataset.status}`),
      };
    });
  }

  return {
    context,
    page,
    problems,
    act,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
