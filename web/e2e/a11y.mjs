// Accessibility scan of the bankbridge web app with axe-core in headless
// Chromium: every page of PLAN, for the customer and for each staff role,
// at 1280 px, at 390 px (a phone) and at 200% zoom (a 1280 px window
// zoomed to 200%: 640 CSS px at device scale 2), against the WCAG 2.0,
// 2.1 and 2.2 A and AA rules. Any violation, of any impact, fails. At
// 390 px and at 200% zoom the page must not scroll sideways (WCAG 1.4.10
// Reflow); tables scroll inside their own box. The first Tab on a page
// reaches the skip-to-content link.
//
// PLAN is JSON: [{"realm": "customer"|"staff"|"public", "email": "...",
// "name": "customer"|role, "lang": "es" (optional), "wave": n (optional,
// default 0), "pages": ["/accounts", ...]}]; PASSWORD logs each in. With
// SHOTS set, a screenshot of each page named in SHOT_PAGES (JSON {"path":
// "name"}) is kept there, at 1280 and 390 px.
//
// Each person logs in once; each view of each person scans in a browser
// context of its own, a few (E2E_WORKERS) at a time in one browser, wave
// after wave; the keyboard walk, which changes the data, comes after every
// scan.
// Run by web/a11y_e2e_test.go.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { env, step, currentStep, fail, launch, pool, WORKERS } from './harness.mjs';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BASE_URL = env('BASE_URL').replace(/\/$/, '');
const PASSWORD = env('PASSWORD');
const PLAN = JSON.parse(env('PLAN'));
const SCREENSHOT = env('SCREENSHOT');
const SHOTS = process.env.SHOTS ?? '';
const SHOT_PAGES = JSON.parse(process.env.SHOT_PAGES ?? '{}');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'];
const VIEWS = [
  { name: '1280', viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 },
  { name: '390', viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
  { name: 'zoom200', viewport: { width: 640, height: 450 }, deviceScaleFactor: 2 },
];

const browser = await launch();
const problems = [];
let scanned = 0;
// context is a new browser context at view, in who's language.
const context = (who, view) => browser.newContext({ viewport: view.viewport, deviceScaleFactor: view.deviceScaleFactor,
  isMobile: view.isMobile ?? false, hasTouch: view.hasTouch ?? false,
  // who.lang "es": the browser asks for Spanish (Accept-Language), so
  // the pages, and the login form's labels, are Spanish.
  locale: who.lang === 'es' ? 'es-MX' : 'en-US' });
// sessions are the cookies of those signed in, by key.
const sessions = new Map();
const key = (who) => `${who.realm} ${who.email} ${who.lang ?? ''}`;
// lanes[worker] holds the contexts a lane of the pool scans in, one per
// view and language, each with its page. A context goes from one person
// to the next by its cookies: cleared, then the person's session's set.
// They are all a browser keeps of this site (every page is Cache-Control:
// no-store), and a new context per person and view cost Chromium a
// renderer process each.
const lanes = [];
const tab = async (worker, who, view) => {
  const lane = (lanes[worker] ??= new Map());
  const k = `${view.name} ${who.lang ?? ''}`;
  let t = lane.get(k);
  if (!t) {
    const ctx = await context(who, view);
    // axe-core goes into every document through the DevTools protocol,
    // as the context's init script, sent once rather than with every
    // scan (it is half a megabyte); the page's CSP (script-src 'self')
    // stays on.
    await ctx.addInitScript({ content: axeSource });
    const page = await ctx.newPage();
    page.setDefaultTimeout(15000);
    t = { ctx, page, who };
    page.on('pageerror', (e) => problems.push(`${t.who.name} ${view.name}: page error: ${e.message}`));
    lane.set(k, t);
  }
  t.who = who;
  await t.ctx.clearCookies();
  const cookies = sessions.get(key(who)) ?? [];
  if (cookies.length) await t.ctx.addCookies(cookies);
  return t.page;
};
// scan scans who's pages at view.
const scan = async ({ who, view }, step, worker) => {
  const es = who.lang === 'es';
  const page = await tab(worker, who, view);
  for (const path of who.pages) {
    step(`scan ${path} as ${who.name} at ${view.name}`);
    await page.goto(`${BASE_URL}${path}`);
    // A lost session would scan the login page in the page's place.
    if (who.realm !== 'public' && new URL(page.url()).pathname.endsWith('/login')) fail(`${path} sent ${who.name} to ${page.url()}: not signed in`);
    if (es) {
      const lang = await page.evaluate(() => document.documentElement.lang);
      if (lang !== 'es') problems.push(`${who.name} ${view.name} ${path}: <html lang="${lang}">, want es`);
    }
    const result = await page.evaluate(async (tags) => {
      // eslint-disable-next-line no-undef
      const r = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
      return r.violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`);
    }, TAGS);
    scanned++;
    for (const v of result) problems.push(`${who.name} ${view.name} ${path}: ${v}`);
    if (view.name !== '1280') {
      const [sw, iw] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
      if (sw > iw + 1) problems.push(`${who.name} ${view.name} ${path}: scrolls sideways (${sw} px wide in a ${iw} px window)`);
    }
    const shot = SHOT_PAGES[path];
    if (SHOTS && shot && view.name !== 'zoom200') {
      await page.screenshot({ path: join(SHOTS, `${shot}-${view.name}.png`), fullPage: true });
    }
    // A page that puts focus in a field itself (the login form) has
    // the skip link before it, one Shift+Tab away.
    const autofocus = await page.evaluate(() => document.activeElement && document.activeElement !== document.body);
    if (view.name === '1280' && !autofocus) {
      await page.keyboard.press('Tab');
      const first = await page.evaluate(() => document.activeElement?.textContent?.trim());
      if (first !== (es ? 'Saltar al contenido principal' : 'Skip to main content')) problems.push(`${who.name} ${path}: the first Tab reaches "${first}", not the skip link`);
    }
  }
};
try {
  // Everyone who signs in does so once, through the login form, each at
  // the next of the three views in turn (so both login forms, in English
  // and in Spanish, are filled and sent at every width), and the session's
  // cookies are kept for the scans.
  const signingIn = [...new Map(PLAN.filter((who) => who.realm !== 'public').map((who) => [key(who), who])).values()]
    .map((who, i) => ({ who, view: VIEWS[i % VIEWS.length] }));
  await pool(signingIn, WORKERS, async ({ who, view }, step, worker) => {
    step(`log in as ${who.name} at ${view.name}`);
    const es = who.lang === 'es';
    const page = await tab(worker, who, view); // with no cookies yet
    const login = who.realm === 'staff' ? '/console/login' : '/login';
    await page.goto(`${BASE_URL}${login}`);
    await page.getByLabel(es ? 'Correo electrónico' : 'Email').fill(who.email);
    await page.getByLabel(es ? 'Contraseña' : 'Password').fill(PASSWORD);
    await Promise.all([page.waitForURL((u) => !u.pathname.endsWith('/login')), page.getByRole('button', { name: es ? 'Iniciar sesión' : 'Log in' }).click()]);
    sessions.set(key(who), await page.context().cookies());
  });
  // Then every page of every person at every view, a few contexts at a
  // time in this one browser, wave by wave: what some pages show depends
  // on what others did first (a member of staff who opens Ada's accounts
  // is listed on her disclosures page), so PLAN puts each person in a wave
  // (who.wave, default 0) and a wave starts when the one before it has
  // ended. In a wave, the people with the most pages go first, so that
  // the last to finish are short.
  const waves = [...new Set(PLAN.map((who) => who.wave ?? 0))].sort((a, b) => a - b);
  for (const wave of waves) {
    const scans = PLAN.filter((who) => (who.wave ?? 0) === wave).flatMap((who) => VIEWS.map((view) => ({ who, view })));
    scans.sort((a, b) => b.who.pages.length - a.who.pages.length);
    await pool(scans, WORKERS, scan);
  }
  // Keyboard only, as someone who cannot use a mouse: log in, freeze a
  // card through its confirmation, dispute a payment, move money through
  // "check and confirm", schedule a monthly payment. Tab moves, Space and
  // the arrows choose, Enter sends; every control is reached in order.
  const KEYS = process.env.KEYS ? JSON.parse(process.env.KEYS) : null;
  if (KEYS) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    page.setDefaultTimeout(15000);
    const tabTo = async (selector) => {
      for (let i = 0; i < 80; i++) {
        await page.keyboard.press('Tab');
        if (await page.evaluate((sel) => document.activeElement?.matches(sel) ?? false, selector)) return;
      }
      fail(`Tab never reaches ${selector} on ${page.url()}`);
    };
    step('keyboard: log in');
    await page.goto(`${BASE_URL}/login`);
    if (!(await page.evaluate(() => document.activeElement?.id === 'email'))) await tabTo('#email');
    await page.keyboard.type(KEYS.email);
    await tabTo('#password');
    await page.keyboard.type(PASSWORD);
    await Promise.all([page.waitForURL(`${BASE_URL}/accounts`), page.keyboard.press('Enter')]);
    step('keyboard: freeze a card');
    await page.goto(`${BASE_URL}/cards`);
    await tabTo('a[href$="/freeze"]');
    await Promise.all([page.waitForURL(/\/freeze$/), page.keyboard.press('Enter')]);
    await tabTo('main button[type="submit"]'); // not the header's Log out
    await Promise.all([page.waitForURL(/\/cards\?done=freeze$/), page.keyboard.press('Enter')]);
    step('keyboard: dispute a payment');
    await page.goto(`${BASE_URL}${KEYS.dispute}`);
    await tabTo('input[name="reason"]');
    await page.keyboard.press('Space');
    await tabTo('#words');
    await page.keyboard.type('Charged after I cancelled.');
    await tabTo('form[action="/disputes"] button[type="submit"]');
    await Promise.all([page.waitForURL(/\/cases\/\d+\?done=disputed$/), page.keyboard.press('Enter')]);
    // A screen reader hears each step's heading and, on an error, the
    // alert; the walk checks what it would hear, not only where it lands.
    const heading = async () => page.evaluate(() => document.querySelector('main h1')?.textContent?.trim());
    step('keyboard: move money, check and confirm');
    await page.goto(`${BASE_URL}/transfer`);
    await tabTo('#to');
    await page.keyboard.type(KEYS.to); // a select chooses the option its typed letters begin
    await tabTo('#amount');
    await page.keyboard.type('25');
    await Promise.all([page.waitForLoadState('load'), page.keyboard.press('Enter')]);
    await page.waitForFunction(() => document.querySelector('main h1')?.textContent?.trim() === 'Check and confirm');
    const said = await page.evaluate(() => document.querySelector('[data-field="amount"]')?.textContent?.trim());
    if (!said || !said.startsWith('25.00')) fail(`the confirmation reads the amount as "${said}"`);
    await tabTo('form[action="/transfer/confirm"] button[type="submit"]');
    await Promise.all([page.waitForURL(/\/transfer\/receipt\/\d+/), page.keyboard.press('Enter')]);
    step('keyboard: schedule a monthly payment');
    await page.goto(`${BASE_URL}/scheduled`);
    await tabTo('#to');
    await page.keyboard.type(KEYS.to);
    await tabTo('#amount');
    await page.keyboard.type('15');
    await tabTo('input[name="every"]');
    await page.keyboard.press('ArrowDown'); // every week
    await page.keyboard.press('ArrowDown'); // every month
    await tabTo('#count');
    await page.keyboard.type('6');
    await tabTo('form[action="/scheduled"] button[type="submit"]');
    await Promise.all([page.waitForURL(/\/scheduled\?done=created$/), page.keyboard.press('Enter')]);
    const status = await page.evaluate(() => document.querySelector('[role="status"]')?.textContent?.trim());
    if (!status?.startsWith('Payment scheduled')) fail(`after scheduling, the status announced is "${status}" (${await heading()})`);
    if (KEYS.edit) {
      // Change the monthly payment's amount from the list's Change link:
      // the link names the payee for a screen reader, the form keeps the
      // order's values, and the list then announces the change.
      step('keyboard: change a scheduled payment');
      await page.goto(`${BASE_URL}/scheduled`);
      await tabTo(`a[href="${KEYS.edit}"]`);
      const label = await page.evaluate(() => document.activeElement?.getAttribute('aria-label'));
      if (!label?.includes(KEYS.to)) fail(`the Change link reads "${label}", not naming the payee`);
      await Promise.all([page.waitForURL(new RegExp(`${KEYS.edit}$`)), page.keyboard.press('Enter')]);
      if ((await heading()) !== 'Change a scheduled payment') fail(`the edit page is headed "${await heading()}"`);
      await tabTo('#amount');
      await page.keyboard.press('ControlOrMeta+a');
      await page.keyboard.type('120');
      await tabTo('form[action$="/edit"] button[type="submit"]');
      await Promise.all([page.waitForURL(/\/scheduled\?done=changed$/), page.keyboard.press('Enter')]);
      const changed = await page.evaluate(() => document.querySelector('[role="status"]')?.textContent?.trim());
      if (changed !== 'Scheduled payment changed.') fail(`after the change, the status announced is "${changed}"`);
    }
    await ctx.close();
  }
  step('report');
  if (problems.length) fail(`${problems.length} problems on ${scanned} scans:\n  ${problems.sort().join('\n  ')}`);
  console.log(`e2e: PASS ${scanned} scans, 0 axe violations (${TAGS.join(', ')}), no sideways scrolling`);
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const p = await ctx.newPage();
  await p.goto(`${BASE_URL}/login`);
  await p.screenshot({ path: SCREENSHOT });
} catch (e) {
  console.error(`e2e: FAIL ${currentStep()}: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
