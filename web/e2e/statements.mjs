// Real-browser test of statements and transaction details in the customer
// web app.
//
// Given a running app (BASE_URL) and a customer (EMAIL, PASSWORD) whose
// account ACCOUNT has a card purchase described PURCHASE at merchant
// MERCHANT in month MONTH ("February 2026"), it logs in with headless
// Chromium, opens the account, follows the purchase to its detail page
// (merchant, category, card, status, date, amount), comes back with the
// keyboard, opens Statements and downloads that month as PDF and as CSV,
// checking both files; then both pages must fit a 390 px phone screen. Screenshots: SCREENSHOT (the statements page) and
// SCREENSHOT with "-transaction" before ".png" (the detail page).
//
// Run by web/statements_e2e_test.go. It exits 0 on success and 1 with
// "e2e: FAIL <step>: <reason>" otherwise.
import { readFile } from 'node:fs/promises';
import { env, step, currentStep, fail, launch } from './harness.mjs';

const BASE_URL = env('BASE_URL').replace(/\/$/, '');
const EMAIL = env('EMAIL');
const PASSWORD = env('PASSWORD');
const ACCOUNT = env('ACCOUNT');
const PURCHASE = env('PURCHASE');
const MERCHANT = env('MERCHANT');
const MONTH = env('MONTH');
const SCREENSHOT = env('SCREENSHOT');
const DETAIL_SHOT = SCREENSHOT.replace(/\.png$/, '') + '-transaction.png';

const browser = await launch();
let page;
const problems = [];
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()} from ${r.url()}`); });

  step('log in');
  await page.goto(`${BASE_URL}/login`);
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await Promise.all([page.waitForURL(`${BASE_URL}/accounts`), page.getByRole('button', { name: 'Log in' }).click()]);

  step('open the account');
  await page.goto(`${BASE_URL}/accounts/${ACCOUNT}`);
  await page.getByRole('heading', { level: 2, name: 'Transactions' }).waitFor();

  step('follow the purchase from the history to its details');
  await Promise.all([page.waitForURL(new RegExp(`/accounts/${ACCOUNT}/transactions/\\d+$`)),
    page.getByRole('link', { name: PURCHASE, exact: true }).click()]);
  await page.getByRole('heading', { level: 1, name: PURCHASE }).waitFor();
  const field = async (name) => (await page.locator(`[data-field="${name}"]`).innerText()).trim();
  const want = { merchant: MERCHANT, category: 'Fast food', card: 'Visa', status: 'Completed', amount: '\u221212.34 USD' };
  for (const [name, text] of Object.entries(want)) {
    const got = await field(name);
    if (!got.includes(text)) fail(`${name} reads ${JSON.stringify(got)}, want ${JSON.stringify(text)}`);
  }
  if (!(await field('card')).includes('4242')) fail(`the card does not show its last four digits: ${await field('card')}`);
  if (!/\d{1,2} [A-Z][a-z]{2} \d{4}/.test(await field('date'))) fail(`no date: ${await field('date')}`);
  // A screen reader hears "ending 4242", not four bullets.
  const cardName = await page.locator('[data-field="card"]').evaluate((el) => {
    const hidden = [...el.querySelectorAll('[aria-hidden="true"]')].map((e) => e.textContent);
    return { text: el.textContent, hidden };
  });
  if (!cardName.text.includes('ending') || !cardName.hidden.includes('••••')) fail(`the card's number is not announced as "ending": ${JSON.stringify(cardName)}`);
  const detailURL = page.url();
  await page.screenshot({ path: DETAIL_SHOT, fullPage: true });

  step('skip to the content with the keyboard');
  await page.keyboard.press('Tab');
  const first = await page.evaluate(() => document.activeElement?.textContent?.trim());
  if (first !== 'Skip to main content') fail(`the first Tab reaches ${JSON.stringify(first)}, not the skip link`);
  await page.keyboard.press('Enter');
  const focused = await page.evaluate(() => document.activeElement?.id);
  if (focused !== 'main') fail(`the skip link moved focus to ${JSON.stringify(focused)}, not main`);

  step('go back to the history with the keyboard');
  const back = page.getByRole('link', { name: 'Back to transactions' });
  await back.focus();
  await Promise.all([page.waitForURL(`${BASE_URL}/accounts/${ACCOUNT}`), page.keyboard.press('Enter')]);

  step('open the statements');
  await Promise.all([page.waitForURL(`${BASE_URL}/accounts/${ACCOUNT}/statements`), page.getByRole('link', { name: 'Statements', exact: true }).click()]);
  await page.getByRole('heading', { level: 1, name: 'Statements' }).waitFor();
  const row = page.getByRole('row', { name: new RegExp(MONTH) });
  if ((await row.count()) !== 1) fail(`${MONTH} is listed ${await row.count()} times`);
  const current = new Date().toLocaleString('en-US', { month: 'long', year: 'numeric', timeZone: 'UTC' });
  if ((await page.getByRole('row', { name: new RegExp(`^${current}`) }).count()) !== 0) fail(`the month in progress (${current}) is offered`);
  await page.screenshot({ path: SCREENSHOT, fullPage: true });

  step('download the PDF');
  const [pdf] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: `PDF statement for ${MONTH}` }).click()]);
  if (!/^statement-\d{4}-\d{4}-\d{2}\.pdf$/.test(pdf.suggestedFilename())) fail(`PDF file name ${pdf.suggestedFilename()}`);
  const pdfBytes = await readFile(await pdf.path());
  if (pdfBytes.subarray(0, 5).toString() !== '%PDF-' || pdfBytes.length < 1500) fail(`the download is not a PDF (${pdfBytes.length} bytes)`);

  step('download the CSV');
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: `CSV of ${MONTH}` }).click()]);
  const text = (await readFile(await csv.path())).toString();
  const lines = text.trim().split('\n');
  if (lines[0] !== 'date,description,category,amount,balance,currency') fail(`CSV header ${lines[0]}`);
  if (!text.includes(`${PURCHASE},Fast food,-12.34,`)) fail(`the purchase is not in the CSV:\n${text}`);
  if (!lines[lines.length - 1].startsWith(`${lines[lines.length - 1].slice(0, 10)},Closing balance,`)) fail(`no closing balance row: ${lines[lines.length - 1]}`);

  step('fit a 390 px phone screen');
  await page.setViewportSize({ width: 390, height: 844 });
  for (const path of [`/accounts/${ACCOUNT}/statements`, new URL(detailURL).pathname]) {
    await page.goto(`${BASE_URL}${path}`);
    const [scroll, width] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    if (scroll > width) fail(`${path} is ${scroll} px wide on a ${width} px screen`);
  }

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
