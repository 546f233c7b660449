// Real-browser check of money coming back in from other banks.
//
// Given a running app (BASE_URL) whose customer (EMAIL, PASSWORD) has a
// checking account, a verified payee holding their own account at another
// bank (PAYEE, its nickname) and a settled instant payment (INSTANT, its
// status page), it collects from the payee: the confirmation shows the
// authorisation in words, the browser will not send it unticked, and once
// ticked the status page says the collection is scheduled. Then it asks
// the instant payment back with a reason and reads the other bank's
// answer. It saves a screenshot of the last page to SCREENSHOT.
//
// Run by web/payees_e2e_test.go; it exits 0 on success and 1 with
// "e2e: FAIL <step>: <reason>" otherwise.
import { env, step, currentStep, fail, launch } from './harness.mjs';

const BASE_URL = env('BASE_URL').replace(/\/$/, '');
const EMAIL = env('EMAIL');
const PASSWORD = env('PASSWORD');
const PAYEE = env('PAYEE');
const INSTANT = env('INSTANT');
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

  step('open the collection form from the payees page');
  await page.getByRole('link', { name: 'Other banks' }).click();
  await page.getByRole('link', { name: `Collect money from ${PAYEE}` }).click();
  await page.getByLabel('Into').selectOption({ index: 1 });
  await page.getByLabel('Amount').fill('120.00');
  await page.getByRole('button', { name: 'Continue' }).click();

  step('read the authorisation');
  const terms = (await page.locator('[data-field="terms"]').textContent()).trim();
  if (!/^I authorise .+ to debit 120\.00 USD once from my account/.test(terms)) fail(`the authorisation reads "${terms}"`);

  step('the browser does not send it unticked');
  await page.getByRole('button', { name: 'Authorise and collect' }).click();
  await page.waitForTimeout(300);
  if (!/\/collect$/.test(page.url())) fail(`sent without the authorisation ticked: now at ${page.url()}`);

  step('authorise and collect');
  await page.getByLabel('I agree, and authorise this debit').check();
  await Promise.all([page.waitForURL(/\/payments\/ach\/\d+$/), page.getByRole('button', { name: 'Authorise and collect' }).click()]);
  const status = (await page.locator('[data-field="status"]').textContent()).trim();
  if (!status.startsWith('Scheduled: we ask the other bank')) fail(`status "${status}", want Scheduled`);
  if (!(await page.getByRole('heading', { level: 1, name: /^Collection from/ }).isVisible())) fail('the page is not headed as a collection');

  step('ask an instant payment back');
  await page.goto(`${BASE_URL}${INSTANT}`);
  await page.getByRole('link', { name: 'Ask for this payment back' }).click();
  await page.getByLabel('I sent it twice').check();
  await Promise.all([page.waitForURL(/\?done=recall$/), page.getByRole('button', { name: 'Ask for it back' }).click()]);
  const answer = (await page.locator('[data-field="recall"]').textContent()).trim();
  if (!/agreed to return it/.test(answer)) fail(`the answer reads "${answer}"`);
  if (await page.getByRole('link', { name: 'Ask for this payment back' }).count()) fail('the payment can still be asked back');
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  console.log('e2e: ok: a collection authorised in words, and an instant payment asked back');
} catch (e) {
  console.error(`e2e: FAIL ${currentStep()}: ${e.message}`);
  await page.screenshot({ path: SCREENSHOT, fullPage: true }).catch(() => {});
  process.exitCode = 1;
} finally {
  await browser.close();
}
