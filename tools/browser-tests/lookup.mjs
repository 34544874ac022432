// Signs in to the dashboard, looks up each dossier code through the lookup form, then opens the indicators page;
// saves a screenshot of the first lookup and of the indicators, and prints as JSON what the pages showed:
// {"landing", "nav", "lookups": [{code, path, problem, status, onTime, dueAt, agency, history, steps, exchanges}],
//  "indicators": [{agency, procedure, total, dossiers, onTimeRate, online, paidOnline, overdueNow, inProgress, synced}], "foreign"}.
// Usage: node lookup.mjs <hub-url> <key-file> <screenshot-prefix> <code>...
import { launch, signIn } from './hub.mjs';

const [hub, keyFile, prefix, ...codes] = process.argv.slice(2);
if (!hub || !keyFile || !prefix || codes.length === 0) {
  console.error('usage: node lookup.mjs <hub-url> <key-file> <screenshot-prefix> <code>...');
  process.exit(2);
}

const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const foreign = [];
  page.on('request', r => { if (!r.url().startsWith(hub)) foreign.push(r.url()); });
  await page.goto(`${hub}/ui/login`);
  await signIn(page, keyFile);
  const landing = new URL(page.url()).pathname;
  const nav = await page.$$eval('header nav a', links => links.map(a => a.textContent.trim()));
  const text = async selector => (await page.$(selector)) ? (await page.textContent(selector)).trim() : null;
  const attribute = async (selector, name) => (await page.$(selector)) ? await page.getAttribute(selector, name) : null;

  const lookups = [];
  for (const [i, code] of codes.entries()) {
    await page.goto(`${hub}/ui/dossiers`);
    await page.fill('#code', code);
    await Promise.all([page.waitForLoadState('load'), page.waitForURL(u => u.search !== '' || u.pathname !== '/ui/dossiers'), page.click('#lookup button[type=submit]')]);
    await page.waitForSelector('#problem, #dossier-code');
    if (i === 0) await page.screenshot({ path: `${prefix}-lookup.png`, fullPage: true });
    lookups.push({
      code,
      path: decodeURIComponent(new URL(page.url()).pathname),
      problem: await text('#problem'),
      status: await attribute('#status', 'data-status'),
      statusText: await text('#status'),
      onTime: await attribute('#on-time', 'data-outcome'),
      dueAt: await text('#due-at'),
      agency: await text('#agency'),
      history: await page.$$eval('#history tbody tr', rows => rows.map(r => ({ status: Number(r.dataset.status), transition: r.dataset.transition }))),
      steps: await page.$$eval('#steps tbody tr td.action', cells => cells.map(c => c.textContent.trim())),
      exchanges: await page.$$eval('#exchanges tbody tr', rows => rows.map(r => ({
        id: Number(r.dataset.entryId),
        link: r.querySelector('a[href^="/ui/exchanges/"]')?.getAttribute('href') ?? null,
      }))),
    });
  }

  await page.goto(`${hub}/ui/indicators`);
  await page.waitForSelector('#indicators');
  await page.screenshot({ path: `${prefix}-indicators.png`, fullPage: true });
  const indicators = await page.$$eval('#indicators tbody tr', rows => rows.map(r => {
    const cell = name => r.querySelector(`td.${name}`)?.textContent.trim();
    return {
      agency: r.dataset.agency, procedure: r.dataset.procedure, total: r.classList.contains('agency'),
      dossiers: Number(cell('dossiers')), onTimeRate: cell('on-time-rate'), online: cell('online'), paidOnline: cell('paid-online'),
      overdueNow: Number(cell('overdue-now')), inProgress: Number(cell('in-progress')), synced: cell('synced'),
    };
  }));
  console.log(JSON.stringify({ landing, nav, lookups, indicators, foreign }));
} finally {
  await browser.close();
}
