// Real-browser check of the post-login destination (/login?next=...).
//
// Given a running app (BASE_URL), a customer (EMAIL, PASSWORD) and the
// forms to try (FORMS: JSON [{name, next, kept}], from web's NextForms),
// it logs in once per form, with no cookie of this site, starting at
// /login?next=<form>, and checks where Chromium lands: always on this site
// (same origin), and on /accounts when the form is not kept. A few raw
// query strings are tried as an attacker would type them, too. The forms
// run a few (E2E_WORKERS) at a time in one browser. It saves a screenshot
// of the last page, or of the failing one, to SCREENSHOT.
//
// Run by web/next_test.go; it exits 0 on success and 1 with
// "e2e: FAIL <step>: <reason>" otherwise.
import { env, currentStep, fail, launch, pool, WORKERS } from './harness.mjs';

const BASE_URL = env('BASE_URL').replace(/\/$/, '');
const EMAIL = env('EMAIL');
const PASSWORD = env('PASSWORD');
const SCREENSHOT = env('SCREENSHOT');
const FORMS = JSON.parse(env('FORMS'));
const origin = new URL(BASE_URL).origin;

// Query strings written by hand, not by encodeURIComponent: the browser's
// own stripping (a literal tab) and the server's decoding both apply.
const RAW = [
  { name: 'RawEncodedTab', query: 'next=/%09/evil.example/x' },
  { name: 'RawLiteralTab', query: 'next=/\t/evil.example/x' },
  { name: 'RawLiteralNewline', query: 'next=/\n/evil.example/x' },
  { name: 'RawEncodedLeadingTab', query: 'next=%09//evil.example/x' },
  { name: 'RawBackslash', query: 'next=/\\evil.example/x' },
  { name: 'RawEncodedBackslash', query: 'next=/%5Cevil.example/x' },
  { name: 'RawDoubleEncodedSlash', query: 'next=/%252F/evil.example/x' },
];

const browser = await launch();
// lanes are the pool's contexts, each with its page; failed is the page of
// the first form that failed, for the screenshot.
const lanes = [];
let failed;
let tried = 0;
try {
  const cases = [
    ...FORMS.map((f) => ({ name: f.name, url: `${BASE_URL}/login?next=${encodeURIComponent(f.next)}`, kept: f.kept })),
    ...RAW.map((r) => ({ name: r.name, url: `${BASE_URL}/login?${r.query}`, kept: false })),
  ];
  // Each lane of the pool keeps one browser context and one page, and
  // starts each form logged out: its cookies (the session, the device
  // cookie) cleared, which is all a browser keeps of this site, since
  // every answer but the style sheet's is Cache-Control: no-store. A new
  // context per form cost Chromium a renderer process each, most of the
  // test's time.
  await pool(cases, WORKERS, async (c, step, worker) => {
    step(`form ${c.name}`);
    lanes[worker] ??= await lane();
    const l = lanes[worker];
    await l.context.clearCookies();
    l.offsite.length = 0;
    l.blocked.length = 0;
    try {
      await login(c, l);
    } catch (e) {
      failed ??= l.page;
      throw e;
    }
    tried++;
  });
  await lanes[0].page.screenshot({ path: SCREENSHOT, fullPage: true });
  console.log(`e2e: ok: ${tried} forms, every one landed on ${origin}`);
} catch (e) {
  console.error(`e2e: FAIL ${currentStep()}: ${e.message}`);
  const page = failed ?? lanes[0]?.page;
  if (page) await page.screenshot({ path: SCREENSHOT, fullPage: true }).catch(() => {});
  process.exitCode = 1;
} finally {
  await browser.close();
}

// lane opens a context and its page, which records the requests that leave
// this origin (the redirect we are closing: it fails here, with no
// network, so the page may look unmoved) and the navigations that failed.
async function lane() {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const l = { context, page, offsite: [], blocked: [] };
  page.on('request', (r) => { if (new URL(r.url()).origin !== origin) l.offsite.push(r.url()); });
  page.on('requestfailed', (r) => r.isNavigationRequest() && l.blocked.push(`${r.url()} (${r.failure()?.errorText})`));
  return l;
}

// login logs in from form c's link in lane l, then follows the link again
// while logged in, and checks where the browser is after each.
async function login(c, { page, offsite, blocked }) {
  const check = (how) => {
    if (offsite.length > 0) fail(`${how}, the browser went to ${offsite[0]}`);
    // Chromium refuses a form's redirect to another origin under the
    // page's CSP form-action 'self': that is a redirect we answered.
    if (blocked.length > 0) fail(`${how}, the browser refused to follow our answer: ${blocked[0]}`);
    const landed = new URL(page.url());
    if (landed.origin !== origin) fail(`${how}, the browser is at ${page.url()}, not on ${origin}`);
    if (landed.pathname.startsWith('/login')) fail(`${how}, still on the login page (${page.url()})`);
    if (!c.kept && landed.pathname !== '/accounts') fail(`${how}, a refused form landed on ${landed.pathname}, want /accounts`);
  };

  // Logging in: the form posts next back, and the answer is a redirect.
  await page.goto(c.url);
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith('/login') || u.origin !== origin, { waitUntil: 'commit' }).catch(() => {}),
    page.getByRole('button', { name: 'Log in' }).click(),
  ]);
  await page.waitForLoadState('domcontentloaded').catch(() => {});
  check('after logging in');

  // Already logged in: the same link redirects at once, with no form
  // (and no form-action policy) in between.
  await page.goto(c.url).catch(() => {});
  await page.waitForLoadState('domcontentloaded').catch(() => {});
  check('following the link while logged in');
}
