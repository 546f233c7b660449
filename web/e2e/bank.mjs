// Real-browser end-to-end test of the bankbridge customer web app.
//
// Given a running app (BASE_URL) and a customer with at least two open
// accounts (EMAIL, PASSWORD), it logs in with headless Chromium at phone
// width, reads the balances, moves money between the first two accounts
// through the confirmation step, checks the transfer is listed and both
// balances changed, and saves a screenshot to SCREENSHOT.
//
// Run by web/e2e_test.go; by hand:
//   cd web/e2e && npm ci && BASE_URL=http://127.0.0.1:8080 EMAIL=... PASSWORD=... SCREENSHOT=/tmp/bank.png node bank.mjs
// It exits 0 on success and 1 with "e2e: FAIL <step>: <reason>" otherwise.
import { env, step, currentStep, fail, launch } from './harness.mjs';

const BASE_URL = env('BASE_URL').replace(/\/$/, '');
const EMAIL = env('EMAIL');
const PASSWORD = env('PASSWORD');
const SCREENSHOT = env('SCREENSHOT');

// "1,234.56 USD" -> 123456 (minor units); the app never renders floats.
const minor = (text) => {
  const m = /(-|\u2212)?([\d,]+)\.(\d{2})\s+[A-Z]{3}/.exec(text);
  if (!m) fail(`cannot read an amount from ${JSON.stringify(text)}`);
  const v = Number(m[2].replaceAll(',', '')) * 100 + Number(m[3]);
  return m[1] ? -v : v;
};

const browser = await launch();
let page;
const problems = [];
try {
  // A fresh context is a fresh, empty profile: no cookies from any other run.
  const context = await browser.newContext({ viewport: { width: 375, height: 812 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  page = await context.newPage();
  page.setDefaultTimeout(15000);
  // Console errors include Content-Security-Policy violations: there must be none.
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 500) problems.push(`${r.status()} from ${r.url()}`); });

  step('log in');
  await page.goto(`${BASE_URL}/login`);
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await Promise.all([page.waitForURL(`${BASE_URL}/accounts`), page.getByRole('button', { name: 'Log in' }).click()]);

  step('read balances');
  const readBalances = async () => {
    const out = new Map();
    for (const card of await page.locator('li.account').all()) {
      const id = await card.getAttribute('data-account');
      out.set(id, minor(await card.locator('[data-field="balance"]').innerText()));
    }
    return out;
  };
  const before = await readBalances();
  if (before.size < 2) fail(`need two accounts on /accounts, found ${before.size}`);
  const [fromId, toId] = [...before.keys()];
  const styled = await page.locator('header.top').evaluate((el) => getComputedStyle(el).backgroundColor);
  if (styled !== 'rgb(11, 83, 148)') fail(`the style sheet is not applied (header background ${styled})`);

  step('fill the transfer form');
  const memo = `E2E ${Date.now().toString(36)}`;
  await page.getByRole('link', { name: 'Move money' }).first().click();
  await page.waitForURL(`${BASE_URL}/transfer`);
  await page.getByLabel('From').selectOption(fromId);
  await page.getByLabel('To', { exact: true }).selectOption(`a:${toId}`);
  await page.getByLabel('Amount').fill('12.34');
  await page.getByLabel('Note (optional)').fill(memo);
  await page.getByRole('button', { name: 'Continue' }).click();

  step('check the confirmation page');
  await page.getByRole('heading', { name: 'Check and confirm' }).waitFor();
  const shown = await page.locator('[data-field="amount"]').innerText();
  if (minor(shown) !== 1234) fail(`confirmation shows ${shown}, want 12.34`);
  const after0 = await readBalancesOf(page, BASE_URL, fromId);
  if (after0 !== before.get(fromId)) fail(`money moved before confirming: ${before.get(fromId)} -> ${after0}`);

  step('confirm');
  await Promise.all([page.waitForURL(/\/transfer\/receipt\/\d+$/), page.getByRole('button', { name: 'Confirm and send' }).click()]);
  await page.getByRole('heading', { name: 'Transfer sent' }).waitFor();

  step('see the transfer on the account page');
  await page.getByRole('link', { name: /^See / }).click();
  await page.waitForURL(`${BASE_URL}/accounts/${fromId}`);
  const entry = page.locator('li.entry', { hasText: memo });
  if ((await entry.count()) !== 1) fail(`the transfer "${memo}" is listed ${await entry.count()} times on /accounts/${fromId}, want once`);
  const amount = minor(await entry.locator('.amount').innerText());
  if (amount !== -1234) fail(`the listed amount is ${amount}, want -1234`);
  const fromBalance = minor(await page.locator('[data-field="balance"]').first().innerText());
  if (fromBalance !== before.get(fromId) - 1234) fail(`balance on the account page is ${fromBalance}, want ${before.get(fromId) - 1234}`);

  step('take a screenshot');
  await page.screenshot({ path: SCREENSHOT, fullPage: true });

  step('check both balances changed');
  await page.goto(`${BASE_URL}/accounts`);
  const after = await readBalances();
  if (after.get(fromId) !== before.get(fromId) - 1234) fail(`from balance ${before.get(fromId)} -> ${after.get(fromId)}, want -1234`);
  if (after.get(toId) !== before.get(toId) + 1234) fail(`to balance ${before.get(toId)} -> ${after.get(toId)}, want +1234`);

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

// readBalancesOf reads one account's balance in a second tab, leaving the
// page under test where it is.
async function readBalancesOf(page, base, id) {
  const tab = await page.context().newPage();
  try {
    await tab.goto(`${base}/accounts/${id}`);
    return minor(await tab.locator('[data-field="balance"]').first().innerText());
  } finally {
    await tab.close();
  }
}
