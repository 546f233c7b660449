// Real-browser check of paying someone at another bank.
//
// Given a running app (BASE_URL) whose customer (EMAIL, PASSWORD) has a
// funded checking account, and whose rails reach the emulator, it adds a
// payee with a mistyped routing number (the form names the check digit),
// corrects it, pays the payee instantly and reads "Settled" on the status
// page, then pays a closed account at another bank and reads the refusal
// in plain words. It saves a screenshot of the last page to SCREENSHOT.
//
// Run by web/payees_e2e_test.go; it exits 0 on success and 1 with
// "e2e: FAIL <step>: <reason>" otherwise.
import { env, step, currentStep, fail, launch } from './harness.mjs';

const BASE_URL = env('BASE_URL').replace(/\/$/, '');
const EMAIL = env('EMAIL');
const PASSWORD = env('PASSWORD');
const SCREENSHOT = env('SCREENSHOT');

const browser = await launch();
const page = await browser.newPage();
page.setDefaultTimeout(15000);
try {
  step('log in');
  await page.goto(`${BASE_URL}/login`);
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await Promise.all([page.waitForURL(`${BASE_URL}/accounts`), page.getByRole('button', { name: 'Log in' }).click()]);

  const addPayee = async (name, routing, number) => {
    await page.getByLabel('Name on the account').fill(name);
    await page.getByLabel('Nickname', { exact: true }).fill(name);
    await page.getByLabel('Routing number (9 digits)').fill(routing);
    await page.getByLabel('Account number', { exact: true }).fill(number);
    await page.getByRole('button', { name: 'Save payee' }).click();
    await page.waitForLoadState('domcontentloaded');
  };

  step('add a payee with a mistyped routing number');
  await page.getByRole('link', { name: 'Other banks' }).click();
  await addPayee('Sam Lee', '231380105', '123456789');
  const err = await page.getByRole('alert').first().textContent();
  if (!/check digit/.test(err)) fail(`the form said "${err}", want the check digit named`);

  step('correct it');
  await addPayee('Sam Lee', '231380104', '123456789');
  if (!(await page.getByText('Payee saved').isVisible())) fail('no confirmation that the payee was saved');
  if (!(await page.getByRole('cell', { name: /Sam Lee/ }).first().isVisible())) fail('the payee is not listed');

  const payInstant = async (row, amount) => {
    await page.goto(`${BASE_URL}/payees`);
    await page.locator('tr', { hasText: row }).getByRole('link', { name: 'Pay' }).click();
    await page.getByLabel('From').selectOption({ index: 1 });
    await page.getByLabel('Amount').fill(amount);
    await page.getByLabel(/Instant, within seconds/).check();
    await page.getByRole('button', { name: 'Continue' }).click();
    if (!(await page.locator('[data-field="settles"]').textContent()).startsWith('Within seconds')) fail('the confirmation does not say the payment is instant');
    await Promise.all([page.waitForURL(/\/payments\/ach\/\d+$/), page.getByRole('button', { name: 'Confirm and send' }).click()]);
    return (await page.locator('[data-field="status"]').textContent()).trim();
  };

  step('pay instantly');
  let status = await payInstant('Sam Lee', '42.50');
  if (!status.startsWith('Settled')) fail(`status "${status}", want Settled`);

  step('pay a closed account instantly');
  await page.goto(`${BASE_URL}/payees`);
  await addPayee('Cal Closed', '231380104', '2222222222');
  status = await payInstant('Cal Closed', '10.00');
  if (!/Not sent.*closed/.test(status)) fail(`status "${status}", want a refusal saying the account is closed`);

  step('see both on the payments page');
  await page.getByRole('link', { name: 'All payments to other banks' }).click();
  const rows = await page.locator('tbody tr').count();
  if (rows !== 2) fail(`${rows} payments listed, want 2`);
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  console.log('e2e: ok: a payee added, paid instantly, and a refusal read in words');
} catch (e) {
  console.error(`e2e: FAIL ${currentStep()}: ${e.message}`);
  await page.screenshot({ path: SCREENSHOT, fullPage: true }).catch(() => {});
  process.exitCode = 1;
} finally {
  await browser.close();
}
