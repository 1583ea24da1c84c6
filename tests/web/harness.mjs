// Shared by the browser tests (tests/web/*.test.mjs): check() counts one
// check (printing FAIL: msg when it fails), env(NAME) returns a required
// variable, and run(body) launches Debian's Chromium (CHROMIUM overrides
// its path) through playwright-core, awaits body(browser), where an
// exception counts as one failure, closes the browser and prints
// "web: N passed, N failed", exiting 1 after any failure.
import { chromium } from "playwright-core";

let pass = 0, fail = 0;
export const check = (cond, msg) => { if (cond) pass++; else { fail++; console.error("FAIL: " + msg); } };

function finish() {
  console.log(`web: ${pass} passed, ${fail} failed`);
  process.exit(fail ? 1 : 0);
}

export function env(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`${name} is not set`);
    fail++;
    finish();
  }
  return v;
}

export async function run(body) {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
                                          args: ["--no-sandbox"] });
  try {
    await body(browser);
  } catch (e) {
    check(false, "exception: " + e.stack);
  } finally {
    await browser.close();
  }
  finish();
}
