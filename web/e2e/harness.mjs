// What every browser script here shares: required environment variables,
// named steps for the failure message, a bounded pool for work that may run
// side by side in one browser, and Debian's Chromium launched with the
// flags this machine's closed network needs (no background networking, no
// component updates, no sync), headless, in a fresh profile.
import { chromium } from 'playwright-core';

// env returns the variable, or fallback; a missing required one ends the
// script with status 2.
export const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined || v === '') {
    console.error(`e2e: FAIL setup: environment variable ${name} is required`);
    process.exit(2);
  }
  return v;
};

let current = 'setup';
// step names what the script does now; a failure message names it.
export const step = (name) => { current = name; console.log(`e2e: ${name}`); };
// currentStep is the step a failure happened in.
export const currentStep = () => current;
export const fail = (msg) => { throw new Error(msg); };

// WORKERS is how many jobs pool runs at once (E2E_WORKERS, default 1).
// Measured on this project's 2-core machine, one page at a time already
// keeps Chromium on about 1.6 cores: a second one saved no time and cost a
// quarter more CPU, which the other packages' tests running beside want.
// Raise it on a machine with more cores.
export const WORKERS = Math.max(1, Number(process.env.E2E_WORKERS) || 1);

// pool runs job(item, step, worker) for every item, at most limit at once,
// and returns when all have ended; worker (0 to limit-1) tells which of the
// limit lanes runs the job, so that a lane can keep its browser context
// from one job to the next. A job names what it does with its own step,
// so a failure is told with the step of the job that failed, not of one
// running beside it. The first failure stops new jobs from starting and is
// thrown once the running ones have ended.
export const pool = async (items, limit, job) => {
  let next = 0;
  let failed = null;
  const lane = async (worker) => {
    while (!failed && next < items.length) {
      const item = items[next++];
      let at = 'start';
      try {
        await job(item, (name) => { at = name; console.log(`e2e: ${name}`); }, worker);
      } catch (e) {
        failed ??= { e, at };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, (_, i) => lane(i)));
  if (failed) {
    current = failed.at;
    throw failed.e;
  }
};

// launch starts Chromium (CHROMIUM, default /usr/bin/chromium).
export const launch = () => chromium.launch({
  executablePath: env('CHROMIUM', '/usr/bin/chromium'),
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
