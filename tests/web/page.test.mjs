// Browser test of the NER page (web/index.html) in Debian's headless
// Chromium, driven by playwright-core: BASE_URL serves the page and the API
// (tests/web/test_page.sh starts `nerd local start-api` with template.yaml,
// as `make run` does).  Prints "web: N passed, N failed".
import { chromium } from "playwright-core";

const base = process.env.BASE_URL;
let pass = 0, fail = 0;
const check = (cond, msg) => { if (cond) pass++; else { fail++; console.error("FAIL: " + msg); } };

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
                                        args: ["--no-sandbox"] });
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(base + "/");
  check(await page.inputValue("#endpoint") === base + "/ner", "endpoint defaults to the page's origin + /ner");

  async function run(text) {
    await page.fill("#text", text);
    const resp = page.waitForResponse((r) => r.url().endsWith("/ner") || r.url().endsWith("/nope"));
    await page.click("#submit");
    await resp;
    await page.waitForFunction(() => !document.getElementById("submit").disabled);
  }
  const marks = () => page.$$eval("#result mark", (ms) => ms.map((m) => ({
    text: m.querySelector(".ent").textContent, label: m.dataset.label,
    start: +m.dataset.start, end: +m.dataset.end })));

  await run("Alan Turing was born on June 23, 1912, in London, England.");
  const got = await marks();
  check(JSON.stringify(got) === JSON.stringify([
    { text: "Alan Turing", label: "PERSON", start: 0, end: 11 },
    { text: "June 23, 1912", label: "DATE", start: 24, end: 37 },
    { text: "London", label: "GPE", start: 42, end: 48 },
    { text: "England", label: "GPE", start: 50, end: 57 }]), "study sentence marks: " + JSON.stringify(got));
  check(await page.textContent("#result") === "Alan TuringPERSON was born on June 23, 1912DATE, in LondonGPE, EnglandGPE.",
        "highlighted text: " + await page.textContent("#result"));
  const legend = await page.$$eval("#legend li", (ls) => ls.map((l) => l.dataset.label));
  check(JSON.stringify(legend) === '["PERSON","DATE","GPE"]', "legend: " + legend);
  check(/^200 in [0-9.]+ ms$/.test(await page.textContent("#latency")), "latency: " + await page.textContent("#latency"));
  const json = JSON.parse(await page.textContent("#json"));
  check(json.entities.length === 4, "raw JSON shown");
  check(await page.$$eval("#table tbody tr", (r) => r.length) === 4, "entity table");

  // astral characters (emoji) and accents before entities: code point offsets
  const text = "😀🎉 Zoë Saldaña visited São Paulo with Angela Merkel.";
  await run(text);
  const resp = JSON.parse(await page.textContent("#json"));
  const m2 = await marks();
  check(m2.length === resp.entities.length && m2.length > 0, "marks for every entity: " + JSON.stringify(m2));
  check(m2.every((m, i) => m.text === resp.entities[i].text), "marks slice the text: " + JSON.stringify(m2));
  check(await page.evaluate(() => document.getElementById("result").textContent.startsWith("😀🎉 ")),
        "text before the first entity intact");

  // an error from the API is shown
  await page.fill("#endpoint", base + "/nope");
  await run("Paris");
  const err = await page.textContent("#error");
  check(/^Error 404: no route for POST \/nope$/.test(err), "error shown: " + err);
  check(errors.length === 0, "no page errors: " + errors.join("; "));
  await page.fill("#endpoint", base + "/ner");
  await run("Alan Turing was born on June 23, 1912, in London, England.");
  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
} catch (e) {
  check(false, "exception: " + e.stack);
} finally {
  await browser.close();
}
console.log(`web: ${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);
