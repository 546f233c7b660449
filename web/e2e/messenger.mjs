// Real-browser end-to-end test of banking inside a messenger, through the
// local platform emulator (platformsim, mounted at /sim/ by the demo).
//
// Given a running demo bank (BASE_URL, the sim at BASE_URL/sim/; use the
// bank's public URL as `serve` prints it, since the bank redirects there) and a
// customer with a payee nicknamed "Sam" (EMAIL, PASSWORD), it opens the chat
// page as a simulated person (PERSON) in headless Chromium, writes "hi", taps
// the account-link button, logs in at the bank, approves the consent, comes
// back to the chat, asks "balance" (minimal privacy by default: the answer
// links to the bank's page and carries no amount), switches privacy to full
// and sees an amount, pays Sam 20 with an explicit confirmation and sees the
// receipt, unlinks from the chat and sees that data is no longer answered.
// It saves a screenshot of the chat to SCREENSHOT.
//
// Run by cmd/bankbridge/browser_messenger_test.go; by hand, against
// `bankbridge serve` (demo):
//   cd web/e2e && npm ci && BASE_URL=http://localhost:8080 EMAIL=demo@bankbridge.example \
//     PASSWORD=bankbridge-demo SCREENSHOT=/tmp/messenger.png node messenger.mjs
// It exits 0 on success and 1 with "e2e: FAIL <step>: <reason>" otherwise.
import { env, step, currentStep, fail, launch } from './harness.mjs';

const BASE_URL = env('BASE_URL').replace(/\/$/, '');
const EMAIL = env('EMAIL');
const PASSWORD = env('PASSWORD');
const SCREENSHOT = env('SCREENSHOT');
const PERSON = env('PERSON', `e2e-${Date.now().toString(36)}`);
const CHAT = `${BASE_URL}/sim/chat/${encodeURIComponent(PERSON)}`;

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const browser = await launch();
let page;
const problems = [];
try {
  const context = await browser.newContext({ viewport: { width: 420, height: 900 }, deviceScaleFactor: 1 });
  page = await context.newPage();
  page.setDefaultTimeout(20000);
  // Console errors include Content-Security-Policy violations: there must be
  // none. The sim's pages declare no icon, so the browser's own request for
  // /favicon.ico (not a page resource) may 404.
  page.on('console', (m) => {
    const at = m.location()?.url ?? '';
    if (m.type() === 'error' && !at.endsWith('/favicon.ico')) problems.push(`console error: ${m.text()} (${at})`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()} from ${r.url()}`); });

  // The page's messages in the chat, oldest first.
  const pageMessages = () => page.locator('.chat .msg.page p').allInnerTexts();
  const notes = () => page.locator('.chat p.note').allInnerTexts();
  // send writes text in the chat and returns the page's messages that
  // answered it (the form posts, the sim delivers a signed webhook, the bank
  // answers through the Send API, and the chat is shown again).
  const send = async (text) => {
    const before = (await pageMessages()).length;
    const box = page.getByPlaceholder('Write a message');
    await box.fill(text);
    await Promise.all([page.waitForURL((u) => u.pathname.startsWith('/sim/chat/')  && u.hash === '#end'), page.getByRole('button', { name: 'Send', exact: true }).click()]);
    await page.locator('.chat .msg.me p', { hasText: new RegExp(`^${escape(text)}$`) }).last().waitFor();
    const all = await pageMessages();
    const fresh = all.slice(before);
    if (fresh.length === 0) fail(`no answer to ${JSON.stringify(text)}; notes: ${JSON.stringify(await notes())}`);
    return fresh.join('\n');
  };
  const expectIn = (what, text, re) => { if (!re.test(text)) fail(`${what}: ${JSON.stringify(text)} does not match ${re}`); };
  const expectNot = (what, text, re) => { if (re.test(text)) fail(`${what}: ${JSON.stringify(text)} should not match ${re}`); };
  const amountRe = /\d[\d,]*\.\d{2} [A-Z]{3}/;

  step('open the chat as a simulated person');
  await page.goto(`${BASE_URL}/sim/`);
  await page.getByLabel('Your name').fill(PERSON);
  await Promise.all([page.waitForURL(CHAT), page.getByRole('button', { name: 'Open chat' }).click()]);
  const styled = await page.locator('.msg, form.say').first().evaluate((el) => getComputedStyle(el).display);
  if (styled !== 'flex') fail(`the sim's style sheet is not applied (display ${styled})`);

  step('say hi');
  const hello = await send('hi');
  expectIn('hello', hello, /I'm the bank's automated assistant\./);
  const linkButton = page.getByRole('link', { name: 'Link your account' }).last();
  if (!(await linkButton.isVisible())) fail('no account-link button after hello');

  step('an unlinked chat answers no data');
  const early = await send('balance');
  expectIn('unlinked balance', early, /link/i);
  expectNot('unlinked balance', early, amountRe);

  step('tap the account-link button: the bank login');
  await Promise.all([page.waitForURL(/\/login\?/), page.getByRole('link', { name: 'Link your account' }).last().click()]);
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await Promise.all([page.waitForURL(/\/consent/), page.getByRole('button', { name: 'Log in' }).click()]);

  step('approve the consent, by keyboard alone');
  await page.getByRole('heading', { name: /Connect .* to your bank/ }).waitFor();
  const boxes = page.locator('input[type=checkbox][name=account]');
  const n = await boxes.count();
  if (n === 0) fail('the consent page offers no account');
  // What a screen reader announces: each box by its account ("Account
  // ending 0012"), in a group named by its question.
  const named = await page.getByRole('group', { name: 'Which accounts may it see?' }).getByRole('checkbox', { name: /Account ending \d{4}/ }).count();
  if (named !== n) fail(`${named} of ${n} account boxes are announced by their account`);
  const tabTo = async (selector) => {
    for (let i = 0; i < 80; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate((sel) => document.activeElement?.matches(sel) ?? false, selector)) return;
    }
    fail(`Tab never reaches ${selector} on ${page.url()}`);
  };
  const ids = await boxes.evaluateAll((els) => els.map((e) => e.id));
  for (const id of ids) {
    await tabTo(`#${id}`);
    if (!(await page.locator(`#${id}`).isChecked())) await page.keyboard.press('Space');
  }
  for (let i = 0; i < n; i++) if (!(await boxes.nth(i).isChecked())) fail('Space did not tick an account box');
  // The bank redirects to the platform's account-linking redirect, which
  // delivers the account_linking webhook and shows the chat again.
  await tabTo('button[value="approve"]');
  await page.keyboard.press('Enter');
  await page.locator('.chat p.note', { hasText: 'You linked your bank account.' }).waitFor();
  if (!page.url().startsWith(CHAT)) fail(`after the consent the browser is at ${page.url()}, want the chat`);

  step('back in the chat, linked');
  const linkedNotes = (await notes()).join('\n');
  expectIn('platform notice', linkedNotes, /You linked your bank account\./);
  expectIn('bank message', (await pageMessages()).join('\n'), /Your bank account is linked\./);
  if (!(await page.locator('header', { hasText: 'account linked' }).isVisible())) fail('the chat header does not say the account is linked');

  step('balance, minimal privacy by default');
  const minimal = await send('balance');
  expectIn('minimal balance', minimal, /Your balances? (is|are) ready\. For your privacy it is on the bank's own page\./);
  expectNot('minimal balance', minimal, amountRe);
  const view = page.getByRole('link', { name: 'View it' }).last();
  const href = await view.getAttribute('href');
  if (href !== `${BASE_URL}/accounts`) fail(`the minimal answer links to ${href}, want ${BASE_URL}/accounts`);

  step('balance, full privacy');
  expectIn('privacy full', await send('privacy full'), /[Pp]rivacy is now full/);
  const full = await send('balance');
  expectIn('full balance', full, amountRe);

  step('pay Sam 20, confirm');
  const ask = await send('pay Sam 20');
  expectIn('payment request', ask, /Pay Sam 20\.00 [A-Z]{3} from .*\? Nothing moves until you confirm\./);
  await Promise.all([page.waitForURL((u) => u.hash === '#end'), page.getByRole('button', { name: 'Confirm payment' }).click()]);
  // The webhook is answered once the tap is stored and the receipt follows
  // a moment later; the chat page waits for the bank's first message, which
  // may be the payment's alert: reload until the receipt is there.
  const receipt = page.locator('.chat .msg.page p', { hasText: /Paid 20\.00 [A-Z]{3} to Sam\. Reference \d+\./ });
  for (let i = 0; i < 40 && (await receipt.count()) === 0; i++) {
    await page.waitForTimeout(250);
    await page.reload();
  }
  await receipt.first().waitFor();
  const receipts = (await pageMessages()).filter((t) => /Paid 20\.00 [A-Z]{3} to Sam/.test(t)).length;
  if (receipts !== 1) fail(`${receipts} receipts in the chat, want 1`);
  if ((await page.getByRole('button', { name: 'Confirm payment' }).count()) !== 0) fail('the confirmation is still offered after the receipt');

  step('unlink from the chat');
  expectIn('unlink', await send('unlink'), /^Unlinked\. This chat can no longer see or do anything with your accounts\./m);
  if (await page.locator('header', { hasText: 'account linked' }).count()) fail('the chat header still says the account is linked');

  step('no more data after the unlink');
  const after = await send('balance');
  expectIn('balance after unlink', after, /need your bank account linked to this chat/);
  expectNot('balance after unlink', after, amountRe);
  expectNot('balance after unlink', after, /is ready/);
  if (!(await page.getByRole('link', { name: 'Link your account' }).last().isVisible())) fail('no account-link button after the unlink');
  const pay = await send('pay Sam 20');
  expectNot('pay after unlink', pay, /Nothing moves until you confirm/);

  step('take a screenshot');
  await page.locator('#end').scrollIntoViewIfNeeded();
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
