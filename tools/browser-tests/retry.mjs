// Signs in to the dashboard with an API key in Debian's Chromium, opens a connector's page and retries one of its
// failed runs with a reason, and prints as JSON what the page offered and showed.
// Usage: node retry.mjs <hub-url> <key-file> <connector-id> <run-id>
import { launch, signIn } from './hub.mjs';

const [hub, keyFile, id, runId] = process.argv.slice(2);
if (!hub || !keyFile || !id || !runId) {
  console.error('usage: node retry.mjs <hub-url> <key-file> <connector-id> <run-id>');
  process.exit(2);
}

const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
try {
  await page.goto(`${hub}/ui/login`);
  await signIn(page, keyFile);
  await page.goto(`${hub}/ui/connectors/${id}`);
  const offered = await page.$$eval('#runs tr[data-run-id]', rows => rows.filter(r => r.querySelector('form.retry')).map(r => r.dataset.runId));
  const row = `#runs tr[data-run-id="${runId}"]`;
  await page.fill(`${row} form.retry input[name=reason]`, 'source answers again');
  await Promise.all([page.waitForLoadState('load'), page.click(`${row} form.retry button[value=retry]`)]);
  await page.waitForSelector('#message');
  console.log(JSON.stringify({ offered, message: await page.textContent('#message') }));
} catch (e) {
  // What the page showed instead, for the test's failure message.
  console.error(page.url(), (await page.content()).slice(0, 4000));
  throw e;
} finally {
  await browser.close();
}
