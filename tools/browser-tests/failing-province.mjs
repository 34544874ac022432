// The operator's scenario of a failing province, in Debian's Chromium: sign in, watch the overview (which refreshes
// itself) until the connector shows as failing, open it and read its failure reason, pause it with a reason, ask the
// test to bring the province back, resume it, and watch the overview until a successful run after the resume shows it
// on time again. Screenshots of the overview and the connector page are saved.
// Talks to the test over stdio: prints {"ask": "recover"} and waits for a line on stdin before resuming; the last
// line printed is the result as JSON.
// Usage: node failing-province.mjs <hub-url> <key-file> <connector-id> <screenshot-folder>
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { launch, signIn } from './hub.mjs';

const [hub, keyFile, id, screenshots] = process.argv.slice(2);
if (!hub || !keyFile || !id || !screenshots) {
  console.error('usage: node failing-province.mjs <hub-url> <key-file> <connector-id> <screenshot-folder>');
  process.exit(2);
}

const input = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const ask = async question => {
  console.log(JSON.stringify({ ask: question }));
  const { value, done } = await input.next();
  if (done || value.trim() !== 'ok') throw new Error(`the test did not answer ${question}: ${value}`);
};

const row = `tr[data-connector-id="${id}"]`;
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  const foreign = [];
  page.on('request', r => { if (!r.url().startsWith(hub)) foreign.push(r.url()); });
  await page.goto(`${hub}/ui`);
  await signIn(page, keyFile);
  await page.waitForSelector(row);
  const firstSeen = await page.getAttribute(row, 'data-freshness');

  // A marker on the window: if the page reloaded instead of refreshing its table in place, the marker is gone.
  await page.evaluate(() => { window.hubMarker = 'kept'; });
  await page.waitForSelector(`${row}[data-freshness="failing"]`, { timeout: 180_000 });
  const failingSeenAt = new Date().toISOString();
  const refreshedInPlace = await page.evaluate(() => window.hubMarker === 'kept');
  const failingWhy = await page.getAttribute(`${row} td.freshness`, 'title');
  await page.screenshot({ path: join(screenshots, 'scenario-overview-failing.png'), fullPage: true });

  await Promise.all([page.waitForURL(u => u.pathname.endsWith(`/connectors/${id}`)), page.click(`${row} a[href="/ui/connectors/${id}"]`)]);
  const freshness = await page.textContent('#freshness');
  const failure = await page.textContent('#runs tbody tr:has(td.state.failed) td.failure');
  await page.screenshot({ path: join(screenshots, 'scenario-connector-failing.png'), fullPage: true });

  const act = async (button, reason) => {
    await page.fill('#reason', reason);
    await Promise.all([page.waitForLoadState('load'), page.click(`#actions button[value=${button}]`)]);
    await page.waitForSelector('#message');
    return { lifecycle: await page.textContent('#lifecycle'), reason: await page.textContent('#lifecycle-reason'), message: await page.textContent('#message') };
  };
  const paused = await act('pause', 'province API answers 503; vendor called');
  await ask('recover');
  const resumedAt = new Date().toISOString();
  const resumed = await act('resume', 'vendor fixed their API');

  await page.goto(`${hub}/ui`);
  await page.evaluate(() => { window.hubMarker = 'kept'; });
  await page.waitForFunction(([selector, after]) => {
    const r = document.querySelector(selector);
    return r && r.dataset.freshness === 'onTime' && r.dataset.lastSuccess && new Date(r.dataset.lastSuccess) > new Date(after);
  }, [row, resumedAt], { timeout: 120_000, polling: 250 });
  const onTimeSeenAt = new Date().toISOString();
  const recoveredInPlace = await page.evaluate(() => window.hubMarker === 'kept');
  const lastSuccess = await page.getAttribute(row, 'data-last-success');
  await page.screenshot({ path: join(screenshots, 'scenario-overview-recovered.png'), fullPage: true });
  await Promise.all([page.waitForURL(u => u.pathname.endsWith(`/connectors/${id}`)), page.click(`${row} a[href="/ui/connectors/${id}"]`)]);
  await page.screenshot({ path: join(screenshots, 'scenario-connector-recovered.png'), fullPage: true });

  console.log(JSON.stringify({
    firstSeen, failingSeenAt, refreshedInPlace, failingWhy, freshness, failure, paused, resumedAt, resumed,
    onTimeSeenAt, recoveredInPlace, lastSuccess, foreign,
  }));
} finally {
  await browser.close();
  process.stdin.destroy();
}
