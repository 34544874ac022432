// Shared by the dashboard scripts: Debian's Chromium through playwright-core (no browser download), and signing in.
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

/** Launches headless Chromium: --no-sandbox for root, the rest keeps it off a network it does not have. */
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/** Signs in on the page shown (the sign-in page) with the key in keyFile, and waits to leave it. */
export async function signIn(page, keyFile) {
  await page.fill('#key', readFileSync(keyFile, 'utf8').trim());
  await Promise.all([page.waitForURL(u => !u.pathname.endsWith('/login')), page.click('form.login button[type=submit]')]);
}
