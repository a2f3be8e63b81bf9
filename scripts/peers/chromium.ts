// Debian's Chromium (/usr/bin/chromium, installed by scripts/install-deps.sh) headless through
// playwright-core, for the browser tests and the dashboard benchmark: software rendering, nothing
// fetched in the background, no sandbox (the tests may run as root).
import { chromium, type Browser } from 'playwright-core';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface ChromiumOptions {
  /** More command-line switches (an autoplay policy, say). */
  args?: string[];
  /** The browser's environment (a HOME of its own gives it its own certificate store). */
  env?: Record<string, string | undefined>;
}

export function startChromium(options: ChromiumOptions = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
    ...(options.env ? { env: options.env } : {}),
    timeout: 60_000,
  });
}
