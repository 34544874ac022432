// Opens Hangfire's dashboard of the hub as an operator in Debian's Chromium: /ui/hangfire sends to the sign-in page,
// signing in comes back to it; on the recurring jobs page, triggers the given job with Hangfire's own button (its script
// sends the page's antiforgery token), saves a screenshot and prints JSON:
// {"signInFirst", "title", "listed", "triggerStatus", "failed": [urls answered >= 400], "foreign": [urls of other hosts]}.
// Usage: node jobs.mjs <hub-url> <key-file> <recurring-job-id> <screenshot.png>
import { launch, signIn } from './hub.mjs';

const [hub, keyFile, jobId, screenshot] = process.argv.slice(2);
if (!hub || !keyFile || !jobId || !screenshot) {
  console.error('usage: node jobs.mjs <hub-url> <key-file> <recurring-job-id> <screenshot.png>');
  process.exit(2);
}

const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const foreign = [];
  const failed = [];
  page.on('request', r => { if (!r.url().startsWith(hub)) foreign.push(r.url()); });
  page.on('response', r => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`); });
  page.on('dialog', d => d.accept());
  await page.goto(`${hub}/ui/hangfire`);
  const signInFirst = new URL(page.url()).pathname === '/ui/login';
  await signIn(page, keyFile);
  await page.waitForURL(u => u.pathname.startsWith('/ui/hangfire'));
  const title = await page.title();
  await page.goto(`${hub}/ui/hangfire/recurring`);
  const box = page.locator(`input.js-jobs-list-checkbox[value="${jobId}"]`);
  const listed = await box.count() === 1;
  let triggerStatus = null;
  if (listed) {
    await box.check();
    const [response] = await Promise.all([
      page.waitForResponse(r => r.url().endsWith('/recurring/trigger') && r.request().method() === 'POST'),
      page.click('button.js-jobs-list-command[data-url$="/recurring/trigger"]'),
    ]);
    triggerStatus = response.status();
    await page.waitForLoadState('load');
  }

  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({ signInFirst, title, listed, triggerStatus, failed, foreign }));
} finally {
  await browser.close();
}
