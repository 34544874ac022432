// Signs in to the dashboard with an API key in Debian's Chromium, opens a connector's page, counts the records of a
// date range at its source, then back-fills the range, saving a screenshot of the page after the count, and prints as
// JSON what the page showed at each step.
// Usage: node backfill.mjs <hub-url> <key-file> <connector-id> <from yyyy-mm-dd> <to yyyy-mm-dd> <screenshot.png>
import { launch, signIn } from './hub.mjs';

const [hub, keyFile, id, from, to, screenshot] = process.argv.slice(2);
if (!hub || !keyFile || !id || !from || !to || !screenshot) {
  console.error('usage: node backfill.mjs <hub-url> <key-file> <connector-id> <from> <to> <screenshot.png>');
  process.exit(2);
}

const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
try {
  await page.goto(`${hub}/ui/login`);
  await signIn(page, keyFile);
  await page.goto(`${hub}/ui/connectors/${id}`);
  const offeredBefore = await page.locator('#backfill button[value=backfill]').count();

  await page.fill('#backfill-from', from);
  await page.fill('#backfill-to', to);
  await page.fill('#backfill-reason', 'records lost in the vendor outage');
  await Promise.all([page.waitForLoadState('load'), page.click('#backfill button[value=count]')]);
  await page.waitForSelector('#message');
  const counted = {
    message: await page.textContent('#message'),
    button: (await page.textContent('#backfill button[value=backfill]')).trim(),
    from: await page.inputValue('#backfill-from'),
    to: await page.inputValue('#backfill-to'),
    reason: await page.inputValue('#backfill-reason'),
  };
  await page.screenshot({ path: screenshot, fullPage: true });

  await Promise.all([page.waitForLoadState('load'), page.click('#backfill button[value=backfill]')]);
  await page.waitForSelector('#message');
  const queued = { message: await page.textContent('#message') };
  console.log(JSON.stringify({ offeredBefore, counted, queued }));
} catch (e) {
  // What the page showed instead, for the test's failure message.
  console.error(page.url(), (await page.content()).slice(0, 4000));
  throw e;
} finally {
  await browser.close();
}
