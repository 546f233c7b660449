// Real-browser test of the console's engagement page.
//
// Given a running app (BASE_URL) and a member of staff who may read
// engagement (EMAIL, PASSWORD: an analyst), it logs in to the console with
// headless Chromium at desktop width, opens /console/insights, checks the
// charts are there (inline SVG with an accessible name), each has a data
// table, the strategy summary is in words, the style sheet applies, the CSV
// export answers, the filters work, and the browser saw no error (a
// Content-Security-Policy violation would be one); then saves a full-page
// screenshot to SCREENSHOT.
//
// Run by web/insights_e2e_test.go; by hand:
//   cd web/e2e && BASE_URL=http://127.0.0.1:8080 EMAIL=analyst@bankbridge.example PASSWORD=bankbridge-staff SCREENSHOT=/tmp/insights.png node insights.mjs
import { env, step, currentStep, fail, launch } from './harness.mjs';

const BASE_URL = env('BASE_URL').replace(/\/$/, '');
const EMAIL = env('EMAIL');
const PASSWORD = env('PASSWORD');
const SCREENSHOT = env('SCREENSHOT');

const browser = await launch();
let page;
const problems = [];
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 500) problems.push(`${r.status()} from ${r.url()}`); });
  // Charts need no network beyond this origin: any other request is a failure.
  page.on('request', (r) => { if (!r.url().startsWith(BASE_URL) && !r.url().startsWith('data:')) problems.push(`request to ${r.url()}`); });

  step('log in to the console');
  await page.goto(`${BASE_URL}/console/login`);
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await Promise.all([page.waitForURL(`${BASE_URL}/console/`), page.getByRole('button', { name: 'Log in' }).click()]);

  step('open the engagement page');
  await page.goto(`${BASE_URL}/console/insights`);
  await page.getByRole('heading', { name: 'Engagement', level: 1 }).waitFor();

  step('check the charts');
  const charts = page.locator('svg.chart[role="img"]');
  const n = await charts.count();
  if (n < 6) fail(`found ${n} charts, want at least 6`);
  for (let i = 0; i < n; i++) {
    const label = await charts.nth(i).getAttribute('aria-label');
    if (!label) fail(`chart ${i} has no accessible name`);
  }
  if ((await page.locator('svg.chart path').count()) < 2) fail('no line drawn in the activity charts');
  if ((await page.locator('svg.heat rect').count()) < 10) fail('the cohort heat map has no cells');
  const tables = await page.locator('details table').count();
  if (tables < 6) fail(`found ${tables} data tables behind the charts, want at least 6`);
  const width = await page.locator('svg.chart').first().evaluate((el) => el.getBoundingClientRect().width);
  if (width < 300) fail(`charts are ${width}px wide: the page style sheet is not applied`);

  step('read the strategy summary');
  const summary = await page.locator('#strategy li').allInnerTexts();
  if (!summary.some((s) => /engaged with the bank/.test(s))) fail(`summary: ${JSON.stringify(summary)}`);

  step('open a data table');
  await page.locator('#dau summary').click();
  await page.locator('#dau table').waitFor();

  step('export a table as CSV');
  const csv = await page.request.get(BASE_URL + await page.locator('#intents a[download]').getAttribute('href'));
  if (csv.status() !== 200 || !(await csv.text()).startsWith('Intent,')) fail(`CSV export: ${csv.status()}`);

  step('take a screenshot');
  await page.locator('#dau summary').click();
  await page.screenshot({ path: SCREENSHOT, fullPage: true });

  step('filter by segment and channel');
  await page.getByLabel('Age band', { exact: true }).selectOption('65+');
  await page.getByLabel('Channel', { exact: true }).selectOption('messenger');
  await Promise.all([page.waitForURL(/band=65%2B/), page.getByRole('button', { name: 'Show' }).click()]);
  await page.getByRole('heading', { name: 'Engagement', level: 1 }).waitFor();
  if ((await page.getByLabel('Age band', { exact: true }).inputValue()) !== '65+') fail('the band filter did not stick');

  step('check the browser saw no errors');
  if (problems.length) fail(problems.join('; '));
  console.log('e2e: PASS');
} catch (e) {
  console.error(`e2e: FAIL ${currentStep()}: ${e.message}`);
  if (page) {
    console.error(`e2e: at ${page.url()}`);
    await page.screenshot({ path: SCREENSHOT, fullPage: true }).catch(() => {});
  }
  await browser.close().catch(() => {});
  process.exit(1);
}
await browser.close();
