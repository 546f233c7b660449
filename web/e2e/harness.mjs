// What every browser script here shares: required environment variables,
// named steps for the failure message, and Debian's Chromium launched with
// the flags this machine's closed network needs (no background networking,
// no component updates, no sync), headless, in a fresh profile.
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

// launch starts Chromium (CHROMIUM, default /usr/bin/chromium).
export const launch = () => chromium.launch({
  executablePath: env('CHROMIUM', '/usr/bin/chromium'),
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
