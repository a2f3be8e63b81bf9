// Debian's Chromium driven by playwright-core for the dashboard's browser tests: launched headless
// and closed after the test, pages that collect what the browser complains about (a CSP refusal
// is a console error), the login, and screenshots when CAMGATE_DASHBOARD_SCREENSHOTS=<dir>.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startChromium } from '../../scripts/peers/chromium';

export async function launchChromium(t: { after(fn: () => unknown): void }): Promise<Browser> {
  const browser = await startChromium();
  t.after(() => browser.close());
  return browser;
}

/** A page that records what the browser complains about (CSP refusals are console errors). */
export async function newPage(browser: Browser, options: { locale?: string; timezoneId?: string } = {}): Promise<{ page: Page; complaints: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN', ...options });
  const page = await context.newPage();
  const complaints: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) complaints.push(m.text());
  });
  page.on('pageerror', (e) => complaints.push(e.message));
  return { page, complaints };
}

export async function logIn(page: Page, url: string, username: string, password: string): Promise<void> {
  await page.goto(`${url}/#/login`);
  await page.fill('[data-test=username]', username);
  await page.fill('[data-test=password]', password);
  await page.click('[data-test=login-submit]');
  await page.waitForSelector('[data-test=whoami]');
}

/** docs/images/dashboard-<name>.png when CAMGATE_DASHBOARD_SCREENSHOTS names a folder. */
export async function shot(page: Page, name: string): Promise<void> {
  const dir = process.env.CAMGATE_DASHBOARD_SCREENSHOTS;
  if (dir) await page.screenshot({ path: join(dir, `dashboard-${name}.png`) });
}
