// Real-browser end-to-end test of banking inside Telegram, through the
// local Bot API emulator (platformsim's TelegramSim, mounted at
// /sim/telegram/ by `serve --telegram-sim`).
//
// Given a running demo bank (BASE_URL, its public URL as `serve` prints it)
// and a customer (EMAIL, PASSWORD), it opens the chat page of a simulated
// person (PERSON), writes "hi", taps "Link your account", logs in at the
// bank, approves the consent, and is sent back through the bot's deep link
// (t.me/<bot>?start=<code>), which starts the bot with "/start <code>" in
// this person's chat; the chat says the account is linked; with privacy
// full, "balance" answers an amount. It saves a screenshot to SCREENSHOT.
//
// Run by cmd/bankbridge/browser_telegram_test.go. It exits 0 on success and
// 1 with "e2e: FAIL <step>: <reason>" otherwise.
import { env, step, currentStep, fail, launch } from './harness.mjs';

const BASE_URL = env('BASE_URL').replace(/\/$/, '');
const EMAIL = env('EMAIL');
const PASSWORD = env('PASSWORD');
const SCREENSHOT = env('SCREENSHOT');
const PERSON = env('PERSON', `e2e-${Date.now().toString(36)}`);
const CHAT = `${BASE_URL}/sim/telegram/chat/${encodeURIComponent(PERSON)}`;

const browser = await launch();
let page;
const problems = [];
try {
  const context = await browser.newContext({ viewport: { width: 420, height: 900 }, deviceScaleFactor: 1 });
  page = await context.newPage();
  page.setDefaultTimeout(20000);
  page.on('console', (m) => {
    const at = m.location()?.url ?? '';
    if (m.type() === 'error' && !at.endsWith('/favicon.ico')) problems.push(`console error: ${m.text()} (${at})`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()} from ${r.url()}`); });

  const botMessages = () => page.locator('.chat li.bot .text').allInnerTexts();
  const send = async (text) => {
    const before = (await botMessages()).length;
    await page.getByLabel('Message').fill(text);
    await Promise.all([page.waitForURL((u) => u.hash === '#end'), page.getByRole('button', { name: 'Send', exact: true }).click()]);
    const fresh = (await botMessages()).slice(before);
    if (fresh.length === 0) fail(`no answer to ${JSON.stringify(text)}; page: ${await page.locator('main').innerText()}`);
    return fresh.join('\n');
  };
  const expectIn = (what, text, re) => { if (!re.test(text)) fail(`${what}: ${JSON.stringify(text)} does not match ${re}`); };
  const expectNot = (what, text, re) => { if (re.test(text)) fail(`${what}: ${JSON.stringify(text)} should not match ${re}`); };
  const amountRe = /\d[\d,]*\.\d{2} [A-Z]{3}/;

  step('open the chat as a simulated person');
  await page.goto(CHAT);

  step('say hi');
  expectIn('hello', await send('hi'), /automated assistant/);

  step('an unlinked chat answers no data');
  expectNot('unlinked balance', await send('balance'), amountRe);

  step('tap the link button: the bank login');
  await Promise.all([page.waitForURL(/\/login\?/), page.getByRole('link', { name: 'Link your account' }).last().click()]);
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await Promise.all([page.waitForURL(/\/consent/), page.getByRole('button', { name: 'Log in' }).click()]);

  step('approve the consent');
  await page.getByRole('heading', { name: /Connect .* to your bank/ }).waitFor();
  const boxes = page.locator('input[type=checkbox][name=account]');
  const n = await boxes.count();
  if (n === 0) fail('the consent page offers no account');
  for (let i = 0; i < n; i++) await boxes.nth(i).check();
  // The bank redirects to its Telegram redirect, which sends the browser
  // to the bot's deep link; the emulator starts the bot with the code and
  // shows the chat.
  await Promise.all([page.waitForURL((u) => u.pathname.startsWith('/sim/telegram/chat/')), page.getByRole('button', { name: 'Approve and share' }).click()]);
  if (!page.url().startsWith(CHAT)) fail(`after the consent the browser is at ${page.url()}, want the chat`);

  step('back in the chat, linked');
  const all = (await botMessages()).join('\n');
  expectIn('linked', all, /Your bank account is linked\./);
  if (!(await page.locator('.chat li.me', { hasText: /\/start [A-Za-z0-9_-]{43}/ }).count())) fail('the chat shows no /start <code> from the deep link');

  step('balance, full privacy');
  expectIn('privacy full', await send('privacy full'), /[Pp]rivacy is now full/);
  expectIn('full balance', await send('balance'), amountRe);

  step('take a screenshot');
  await page.screenshot({ path: SCREENSHOT, fullPage: true });

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
