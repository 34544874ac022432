// Signs in to the dashboard as an auditor, opens a dossier's page, follows its first exchange into the audit view,
// reads the payload with a reason, saves a screenshot and prints as JSON what the pages showed:
// {"landing", "nav", "exchangeLinks", "entry": {path, kind, direction, connector, leaf, sha256}, "payload", "recordedAs", "foreign"}.
// Usage: node audit.mjs <hub-url> <key-file> <dossier-code> <reason> <screenshot.png>
import { launch, signIn } from './hub.mjs';

const [hub, keyFile, code, reason, screenshot] = process.argv.slice(2);
if (!hub || !keyFile || !code || !reason || !screenshot) {
  console.error('usage: node audit.mjs <hub-url> <key-file> <dossier-code> <reason> <screenshot.png>');
  process.exit(2);
}

const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const foreign = [];
  page.on('request', r => { if (!r.url().startsWith(hub)) foreign.push(r.url()); });
  // Through the overview, which sends an auditor to the dossier lookup.
  await page.goto(`${hub}/ui`);
  await signIn(page, keyFile);
  await page.waitForSelector('#lookup');
  const landing = new URL(page.url()).pathname;
  const nav = await page.$$eval('header nav a', links => links.map(a => a.textContent.trim()));

  await page.fill('#code', code);
  await Promise.all([page.waitForURL(u => u.pathname !== '/ui/dossiers'), page.click('#lookup button[type=submit]')]);
  await page.waitForSelector('#exchanges');
  const exchangeLinks = await page.$$eval('#exchanges a[href^="/ui/exchanges/"]', links => links.map(a => a.getAttribute('href')));
  await Promise.all([page.waitForURL(u => u.pathname.startsWith('/ui/exchanges/')), page.click('#exchanges a[href^="/ui/exchanges/"]')]);
  await page.waitForSelector('#entry');
  const text = async selector => (await page.textContent(selector)).trim();
  const entry = {
    path: new URL(page.url()).pathname,
    kind: await text('#kind'),
    direction: await text('#direction'),
    connector: await text('#connector'),
    leaf: await text('#leaf'),
    sha256: await text('#payload-sha256'),
  };

  await page.fill('#read-reason', reason);
  await Promise.all([page.waitForLoadState('load'), page.click('#read-payload button[type=submit]')]);
  await page.waitForSelector('#payload');
  await page.screenshot({ path: screenshot, fullPage: true });
  const payload = await page.textContent('#payload');
  const recordedAs = Number(await page.getAttribute('#read-recorded', 'data-entry-id'));
  console.log(JSON.stringify({ landing, nav, exchangeLinks, entry, payload, recordedAs, foreign }));
} finally {
  await browser.close();
}
