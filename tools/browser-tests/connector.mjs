// Signs in to the dashboard with an API key in Debian's Chromium, opens a connector's page, pauses it with a reason
// and resumes it, saving a screenshot of the page, and prints as JSON what the page showed at each step.
// Usage: node connector.mjs <hub-url> <key-file> <connector-id> <screenshot.png>
import { launch, signIn } from './hub.mjs';

const [hub, keyFile, id, screenshot] = process.argv.slice(2);
if (!hub || !keyFile || !id || !screenshot) {
  console.error('usage: node connector.mjs <hub-url> <key-file> <connector-id> <screenshot.png>');
  process.exit(2);
}

const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(`${hub}/ui/login`);
  await signIn(page, keyFile);
  await Promise.all([page.waitForURL(u => u.pathname.endsWith(`/connectors/${id}`)), page.click(`a[href="/ui/connectors/${id}"]`)]);
  const before = await page.textContent('#lifecycle');

  const act = async (button, reason) => {
    await page.fill('#reason', reason);
    await Promise.all([page.waitForLoadState('load'), page.click(`#actions button[value=${button}]`)]);
    await page.waitForSelector('#message');
    return { lifecycle: await page.textContent('#lifecycle'), reason: await page.textContent('#lifecycle-reason'), message: await page.textContent('#message') };
  };
  const paused = await act('pause', 'vendor maintenance tonight');
  await page.screenshot({ path: screenshot, fullPage: true });
  const resumed = await act('resume', 'maintenance over');
  const synced = await act('sync', 'checking after maintenance');
  console.log(JSON.stringify({ before, paused, resumed, synced }));
} finally {
  await browser.close();
}
