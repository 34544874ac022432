// Signs in to the hub's dashboard with an API key in Debian's Chromium (playwright-core, no browser download), saves a
// screenshot of the overview and prints what the page shows as JSON: {"principal", "connectors": [ids], "freshness": {id: state}, "title"}.
// Usage: node dashboard.mjs <hub-url> <key-file> <screenshot.png>
import { launch, signIn } from './hub.mjs';

const [hub, keyFile, screenshot] = process.argv.slice(2);
if (!hub || !keyFile || !screenshot) {
  console.error('usage: node dashboard.mjs <hub-url> <key-file> <screenshot.png>');
  process.exit(2);
}

const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  // Anything the page asks of another host is a failure: the dashboard needs no network but the hub.
  const foreign = [];
  page.on('request', r => { if (!r.url().startsWith(hub)) foreign.push(r.url()); });
  await page.goto(`${hub}/ui`);
  if (!page.url().includes('/ui/login')) throw new Error(`not sent to the sign-in page: ${page.url()}`);
  await signIn(page, keyFile);
  await page.waitForSelector('#connectors');
  await page.screenshot({ path: screenshot, fullPage: true });
  const connectors = await page.$$eval('[data-connector-id]', rows => rows.map(r => r.getAttribute('data-connector-id')));
  const freshness = Object.fromEntries(await page.$$eval('[data-connector-id]', rows => rows.map(r => [r.getAttribute('data-connector-id'), r.getAttribute('data-freshness')])));
  const principal = await page.getAttribute('[data-principal]', 'data-principal');
  const title = await page.title();
  // Signing out ends the session: the overview sends to the sign-in page again.
  await Promise.all([page.waitForURL(u => u.pathname.endsWith('/login')), page.click('header button[type=submit]')]);
  await page.goto(`${hub}/ui`);
  const afterSignOut = new URL(page.url()).pathname;
  console.log(JSON.stringify({ principal, connectors, freshness, title, afterSignOut, foreign }));
} finally {
  await browser.close();
}
