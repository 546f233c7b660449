// Real-browser walk of the customer app in Spanish: on the English login
// page the footer's "Español" link switches the language (a cookie remembers
// it before login), then log in with the Spanish labels, read the accounts,
// move money through "Revisa y confirma" to the receipt, and check every
// page says <html lang="es">. After login the choice is the customer's:
// a fresh browser that asks for English gets Spanish once logged in.
//
// Run by web/i18n_e2e_test.go with BASE_URL, EMAIL, PASSWORD, SCREENSHOT.
import { env, step, currentStep, fail, launch } from './harness.mjs';

const BASE_URL = env('BASE_URL').replace(/\/$/, '');
const EMAIL = env('EMAIL');
const PASSWORD = env('PASSWORD');
const SCREENSHOT = env('SCREENSHOT');

const browser = await launch();
let page;
const problems = [];
const spanish = async (where) => {
  const lang = await page.evaluate(() => document.documentElement.lang);
  if (lang !== 'es') fail(`${where}: <html lang="${lang}">, want es`);
};
try {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'en-US' });
  page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 500) problems.push(`${r.status()} from ${r.url()}`); });

  step('open the login page in English');
  await page.goto(`${BASE_URL}/login`);
  await page.getByRole('button', { name: 'Log in' }).waitFor();

  step('switch to Spanish with the footer link');
  await Promise.all([page.waitForURL(`${BASE_URL}/login`), page.getByRole('link', { name: 'Español' }).click()]);
  await spanish('login');

  step('log in with the Spanish labels');
  await page.getByLabel('Correo electrónico').fill(EMAIL);
  await page.getByLabel('Contraseña').fill(PASSWORD);
  await Promise.all([page.waitForURL(`${BASE_URL}/accounts`), page.getByRole('button', { name: 'Iniciar sesión' }).click()]);
  await spanish('accounts');
  await page.getByRole('link', { name: 'Cuentas' }).first().waitFor();

  step('move money');
  await page.getByRole('link', { name: 'Mover dinero' }).first().click();
  await page.waitForURL(`${BASE_URL}/transfer`);
  await spanish('transfer');
  const from = page.getByLabel('Desde');
  const fromId = await from.locator('option').nth(1).getAttribute('value');
  await from.selectOption(fromId);
  const to = page.getByLabel('Hasta', { exact: true });
  const toOptions = await to.locator('option').evaluateAll((os) => os.map((o) => o.value).filter((v) => v.startsWith('a:')));
  const toId = toOptions.find((v) => v !== `a:${fromId}`);
  if (!toId) fail('no second account to move money to');
  await to.selectOption(toId);
  await page.getByLabel('Importe').fill('7.25');
  await page.getByRole('button', { name: 'Continuar' }).click();

  step('check and confirm');
  await page.getByRole('heading', { name: 'Revisa y confirma' }).waitFor();
  await spanish('confirm');
  await Promise.all([page.waitForURL(/\/transfer\/receipt\/\d+$/), page.getByRole('button', { name: 'Confirmar y enviar' }).click()]);
  await page.getByRole('heading', { name: 'Transferencia enviada' }).waitFor();
  await spanish('receipt');
  await page.screenshot({ path: SCREENSHOT, fullPage: true });

  step('the choice is the customer\'s on another browser');
  const other = await browser.newContext({ locale: 'en-US' });
  const p2 = await other.newPage();
  await p2.goto(`${BASE_URL}/login`);
  await p2.getByLabel('Email').fill(EMAIL);
  await p2.getByLabel('Password').fill(PASSWORD);
  await Promise.all([p2.waitForURL(`${BASE_URL}/accounts`), p2.getByRole('button', { name: 'Log in' }).click()]);
  const lang2 = await p2.evaluate(() => document.documentElement.lang);
  if (lang2 !== 'es') fail(`after login on an English browser the page is ${lang2}, want es (the customer's choice)`);
  await other.close();

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
