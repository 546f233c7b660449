// Real-browser end-to-end test of banking inside WhatsApp, through the local
// Cloud API emulator (platformsim's WhatsAppSim, mounted at /sim/whatsapp/ by
// `serve --whatsapp-sim`): the same journey as messenger.mjs.
//
// Given a running demo bank (BASE_URL, its public URL as `serve` prints it)
// and a customer with a payee nicknamed "Sam" (EMAIL, PASSWORD), it opens
// the chat page of a simulated person (PERSON), writes "hi", taps the
// "Link your account" button (a CTA URL message), logs in at the bank,
// approves the consent, and is sent back through WhatsApp's click-to-chat
// link with the code in the message box; sending it links this person's
// wa_id. Then: balance (minimal, then full), pay Sam 20 with the "Confirm
// payment" reply button, unlink, and no more data. It saves a screenshot to
// SCREENSHOT.
//
// Run by cmd/bankbridge/browser_whatsapp_test.go. It exits 0 on success and
// 1 with "e2e: FAIL <step>: <reason>" otherwise.
import { env, step, currentStep, fail, launch } from './harness.mjs';

const BASE_URL = env('BASE_URL').replace(/\/$/, '');
const EMAIL = env('EMAIL');
const PASSWORD = env('PASSWORD');
const SCREENSHOT = env('SCREENSHOT');
const PERSON = env('PERSON', `e2e-${Date.now().toString(36)}`);
const CHAT = `${BASE_URL}/sim/whatsapp/chat/${encodeURIComponent(PERSON)}`;

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

  const bankMessages = () => page.locator('.chat li.bank .text').allInnerTexts();
  const submit = async () => {
    const before = (await bankMessages()).length;
    await Promise.all([page.waitForURL((u) => u.hash === '#end'), page.getByRole('button', { name: 'Send', exact: true }).click()]);
    const fresh = (await bankMessages()).slice(before);
    if (fresh.length === 0) fail(`no answer; page: ${await page.locator('main').innerText()}`);
    return fresh.join('\n');
  };
  // The bank answers the webhook once the message is stored and replies a
  // moment after; the chat page waits for the first message from the bank,
  // which may be another (an alert of the same payment): reload until the
  // one looked for is there.
  const waitBank = async (before, re) => {
    for (let i = 0; i < 40; i++) {
      const fresh = (await bankMessages()).slice(before).join('\n');
      if (re.test(fresh)) return fresh;
      await page.waitForTimeout(250);
      await page.reload();
    }
    return (await bankMessages()).slice(before).join('\n');
  };
  const send = async (text) => { await page.getByLabel('Message').fill(text); return submit(); };
  const expectIn = (what, text, re) => { if (!re.test(text)) fail(`${what}: ${JSON.stringify(text)} does not match ${re}`); };
  const expectNot = (what, text, re) => { if (re.test(text)) fail(`${what}: ${JSON.stringify(text)} should not match ${re}`); };
  const amountRe = /\d[\d,]*\.\d{2} [A-Z]{3}/;

  step('open the chat as a simulated person');
  await page.goto(CHAT);

  step('say hi');
  expectIn('hello', await send('hi'), /automated assistant/);
  if (!(await page.getByRole('link', { name: 'Link your account' }).last().isVisible())) fail('no account-link button after hello');

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
  // The bank redirects to its WhatsApp redirect, which sends the browser to
  // click-to-chat with the code in the message box.
  await Promise.all([page.waitForURL((u) => u.pathname.startsWith('/sim/whatsapp/chat/')), page.getByRole('button', { name: 'Approve and share' }).click()]);
  if (!page.url().startsWith(CHAT)) fail(`after the consent the browser is at ${page.url()}, want the chat`);
  const draft = await page.getByLabel('Message').inputValue();
  expectIn('the prefilled message', draft, /^Link my bank account, code [A-Za-z0-9_-]{43}$/);

  step('send the prefilled message: linked');
  expectIn('linked', await submit(), /Your bank account is linked\./);

  step('balance, minimal privacy by default');
  const minimal = await send('balance');
  expectNot('minimal balance', minimal, amountRe);

  step('balance, full privacy');
  expectIn('privacy full', await send('privacy full'), /[Pp]rivacy is now full/);
  expectIn('full balance', await send('balance'), amountRe);

  step('pay Sam 20, confirm');
  expectIn('payment request', await send('pay Sam 20'), /Pay Sam 20\.00 [A-Z]{3} from .*\? Nothing moves until you confirm\./);
  const before = (await bankMessages()).length;
  await Promise.all([page.waitForURL((u) => u.hash === '#end'), page.getByRole('button', { name: 'Confirm payment' }).last().click()]);
  const receipt = await waitBank(before, /Paid 20\.00 [A-Z]{3} to Sam\. Reference \d+\./);
  expectIn('receipt', receipt, /Paid 20\.00 [A-Z]{3} to Sam\. Reference \d+\./);

  step('unlink from the chat');
  expectIn('unlink', await send('unlink'), /Unlinked\./);

  step('no more data after the unlink');
  const after = await send('balance');
  expectNot('balance after unlink', after, amountRe);

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
