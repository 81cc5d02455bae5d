import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium, driven by playwright-core (which cannot download a browser here). */
export const CHROMIUM = '/usr/bin/chromium';

/** Skipped on a machine without the browser, except in CI (`.ci/run` installs it), where missing must fail. */
export const browserAvailable = existsSync(CHROMIUM) || !!process.env.CI;

/** Headless Chromium with the flags this closed network needs (no background connections). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
