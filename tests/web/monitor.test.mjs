// Browser test of the monitor page (web/monitor.html at /__nerd/) in
// Debian's headless Chromium, driven by playwright-core: BASE_URL is a
// gateway serving tests/data/templates/monitor.yaml (tests/web/
// test_monitor.sh).  Invocations, errors and throttles are driven here
// (Node's fetch) while the page is open; the checks read the DOM: the
// totals table's cells, each chart's caption figure and its drawn series
// (inside the viewBox), labels and units, the page following new
// invocations without a reload, the time range, the Live switch, an
// unreachable metrics/json shown and recovered from, contrast of the text in
// light and dark schemes, no page or console errors, and no request leaving
// the page's origin.  SCREENSHOT=path saves a full-page screenshot (dark
// when DARK=1).  Prints "web: N passed, N failed".
import { check, env, run } from "./harness.mjs";

const base = env("BASE_URL");
const get = (path) => fetch(base + path).then((r) => r.status);

// WCAG contrast ratio of two computed CSS colours ("rgb(r, g, b)").
function contrast(a, b) {
  const lum = (c) => {
    const [r, g, bl] = c.match(/[\d.]+/g).slice(0, 3).map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

await run(async (browser) => {
  const context = await browser.newContext({ colorScheme: "light", viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const errors = [], outside = [], polls = [];
  let outage = false;   // while metrics/json is made to fail, its failed loads are expected
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error" && !(outage && m.text().includes("net::ERR_FAILED"))) errors.push(m.text());
  });
  page.on("request", (r) => {
    if (!r.url().startsWith(base + "/")) outside.push(r.url());
    else if (r.url().includes("/__nerd/metrics/json")) polls.push(r.url());
  });
  await page.goto(base + "/__nerd/");
  check(await page.title() === "nerd — monitor", "title: " + await page.title());

  const row = (fn) => `#totals tr[data-function="${fn}"]`;
  const cell = (fn, m) => page.textContent(`${row(fn)} td[data-metric="${m}"]`);
  const waitCell = (fn, m, want) => page.waitForFunction(([sel, w]) =>
    document.querySelector(sel)?.textContent === w, [`${row(fn)} td[data-metric="${m}"]`, want], { timeout: 20000 });
  const agg = (fn, chart) => page.getAttribute(`details[data-function="${fn}"] figure[data-chart="${chart}"] .agg`, "data-value");

  // the table: a row per function in the template's order, labelled columns with units
  await waitCell("Busy", "Invocations", "0");
  check(JSON.stringify(await page.$$eval("#totals tbody th[scope=row]", (ts) => ts.map((t) => t.textContent))) ===
        JSON.stringify(["Ok", "Fail", "Busy"]), "a row per function");
  const heads = await page.$$eval("#totals thead th", (ts) => ts.map((t) => t.textContent));
  for (const h of ["Function", "Invocations", "Errors", "Throttles", "Cold starts", "Init Duration avg (ms)",
                   "Duration avg (ms)", "Duration p95 (ms)", "Duration max (ms)", "Concurrent now", "Concurrent max"])
    check(heads.includes(h), `column "${h}" (have ${heads.join(" | ")})`);
  check(await page.$$eval("#totals thead th", (ts) => ts.every((t) => t.getAttribute("scope") === "col")), "column headers scoped");
  check(await cell("Ok", "Invocations") === "0" && await cell("Ok", "DurationAvg") === "—", "nothing yet");
  check(await page.isVisible("label[for=window]") && await page.$eval("#live", (c) => !!c.labels.length), "controls labelled");

  // drive: 3 answered, 2 failed, Busy (reserved concurrency 1) held 3 s with 2 throttled
  for (let i = 0; i < 3; i++) check(await get("/ok") === 200, "GET /ok");
  for (let i = 0; i < 2; i++) check(await get("/fail") === 500, "GET /fail");
  const busy = get("/busy");
  await waitCell("Busy", "ConcurrentExecutions", "1");   // the page sees it running
  check(await get("/busy") === 429 && await get("/busy") === 429, "two throttled while Busy runs");
  check(await busy === 200, "the busy invocation answered");

  await waitCell("Ok", "Invocations", "3");
  await waitCell("Fail", "Errors", "2");
  await waitCell("Busy", "Throttles", "2");
  await waitCell("Busy", "Invocations", "1");
  await waitCell("Busy", "ConcurrentExecutions", "0");
  const rowText = (fn) => page.$eval(row(fn), (tr) => Object.fromEntries([...tr.querySelectorAll("td")].map((td) =>
    [td.dataset.metric, td.textContent])));
  const ok = await rowText("Ok"), fail = await rowText("Fail"), bz = await rowText("Busy");
  check(ok.Errors === "0" && ok.Throttles === "0" && ok.ColdStarts === "1" && ok.ConcurrentExecutionsMax === "1" &&
        ok.ReservedConcurrentExecutions === "none", "Ok's row: " + JSON.stringify(ok));
  check(/^\d+(\.\d+)?$/.test(ok.InitDurationAvg) && /^\d+(\.\d+)?$/.test(ok.DurationAvg) &&
        Number(ok.DurationP95) <= Number(ok.DurationMax), "Ok's durations: " + JSON.stringify(ok));
  check(fail.Invocations === "2" && fail.Throttles === "0", "Fail's row: " + JSON.stringify(fail));
  const marked = (fn) => page.$eval(`${row(fn)} td[data-metric=Errors]`, (td) => td.classList.contains("bad"));
  check(await marked("Fail") && !await marked("Ok"), "errors marked");
  check(bz.Errors === "0" && bz.ReservedConcurrentExecutions === "1" && bz.ConcurrentExecutionsMax === "1" &&
        Number(bz.DurationMax) >= 3000, "Busy's row: " + JSON.stringify(bz));

  // the charts: their window's figures, once the last second is in
  await page.waitForFunction(() => document.querySelector(
    'details[data-function="Busy"] figure[data-chart="Throttles"] .agg')?.dataset.value === "2", null, { timeout: 20000 });
  const charts = ["Invocations", "Duration", "Errors", "Throttles", "ConcurrentExecutions", "ColdStarts", "InitDuration"];
  for (const fn of ["Ok", "Fail", "Busy"])
    check(JSON.stringify(await page.$$eval(`details[data-function="${fn}"] figure`, (fs) => fs.map((f) => f.dataset.chart))) ===
          JSON.stringify(charts), `${fn}'s charts`);
  check(await agg("Ok", "Invocations") === "3" && await agg("Fail", "Invocations") === "2" &&
        await agg("Busy", "Invocations") === "1", "Invocations in the window");
  check(await agg("Fail", "Errors") === "2" && await agg("Ok", "Errors") === "0", "Errors in the window");
  check((await page.textContent('details[data-function="Fail"] figure[data-chart="Errors"] .agg')).includes("success rate 0.0 %"),
        "Fail's success rate");
  check(await agg("Busy", "Throttles") === "2" && await agg("Ok", "Throttles") === "0", "Throttles in the window");
  check(await agg("Busy", "ConcurrentExecutions") === "1", "Busy's peak concurrency");
  check(await agg("Ok", "ColdStarts") === "1" && await agg("Fail", "ColdStarts") === "1" &&
        await agg("Busy", "ColdStarts") === "1", "cold starts in the window");
  check(Number(await agg("Busy", "Duration")) >= 3000 && Number(await agg("Ok", "InitDuration")) > 0,
        "Busy's longest duration, Ok's Init Duration");
  const drawn = await page.$$eval("svg", (ss) => ss.map((s) => {
    const paths = [...s.querySelectorAll("path")].map((p) => {
      const nums = (p.getAttribute("d").match(/-?[\d.]+/g) || []).map(Number);
      return { series: p.dataset.series, points: +p.dataset.points,
               inside: nums.every((v) => v >= 0 && v <= 360) };
    });
    return { fn: s.closest("details").dataset.function, chart: s.closest("figure").dataset.chart,
             role: s.getAttribute("role"), label: s.getAttribute("aria-label") || "", paths };
  }));
  check(drawn.length === 21, "21 charts: " + drawn.length);
  check(drawn.every((c) => c.role === "img" && c.label.includes(c.fn) && c.paths.every((p) => p.inside)),
        "charts labelled, paths inside the viewBox: " + JSON.stringify(drawn.filter((c) => !c.label || !c.paths.every((p) => p.inside))));
  const pts = (fn, chart, s) => drawn.find((c) => c.fn === fn && c.chart === chart).paths.find((p) => p.series === s).points;
  check(pts("Ok", "Invocations", "Invocations") >= 1 && pts("Fail", "Errors", "Errors") >= 1 &&
        pts("Busy", "Throttles", "Throttles") >= 1 && pts("Busy", "Duration", "DurationP95") === 1 &&
        pts("Ok", "Throttles", "Throttles") === 0 && pts("Ok", "InitDuration", "InitDurationAvg") === 1,
        "series drawn where there is data: " + JSON.stringify(drawn.filter((c) => c.fn === "Busy")));
  check(JSON.stringify(await page.$$eval('figure[data-chart="Duration"] ul.legend', (us) => us[0].textContent)) ===
        JSON.stringify("Averagep95Maximum"), "Duration's legend");

  // live: new invocations appear without a reload
  check(await get("/ok") === 200 && await get("/ok") === 200, "two more /ok");
  await waitCell("Ok", "Invocations", "5");

  // the time range: the last minute, fetched again
  const before = polls.length;
  await page.selectOption("#window", "60");
  await page.waitForFunction(() => document.querySelector(
    'details[data-function="Ok"] figure[data-chart="Invocations"] .agg')?.textContent.endsWith("in the last minute"), null, { timeout: 10000 });
  check(polls.slice(before).some((u) => u.endsWith("/__nerd/metrics/json?last=60")), "the minute fetched: " + polls.slice(before));
  check(await agg("Ok", "Invocations") === "5" && await agg("Busy", "Throttles") === "2", "a minute's figures");
  check(polls.length >= 5 && polls.every((u) => /\/__nerd\/metrics\/json\?(last|from)=\d+$/.test(u)), "polls: " + polls.slice(0, 6));

  // Live off: no more polls; on again: they resume
  await page.uncheck("#live");
  const paused = polls.length;
  await page.waitForTimeout(2500);
  check(polls.length <= paused + 1, `paused: ${polls.length - paused} polls`);
  const resumed = polls.length;
  await page.check("#live");
  for (let i = 0; i < 100 && polls.length < resumed + 2; i++) await page.waitForTimeout(100);
  check(polls.length >= resumed + 2, "polls resume");

  // metrics/json unreachable: said, and cleared when it answers again
  outage = true;
  await page.route("**/__nerd/metrics/json*", (r) => r.abort());
  await page.waitForFunction(() => document.getElementById("error").textContent.startsWith("Cannot read metrics/json"),
    null, { timeout: 10000 });
  check(await page.getAttribute("#error", "role") === "alert", "the error is an alert");
  await page.unroute("**/__nerd/metrics/json*");
  await page.waitForFunction(() => document.getElementById("error").textContent === "", null, { timeout: 10000 });
  outage = false;
  check(await cell("Ok", "Invocations") === "5", "figures kept through the outage");

  // legible in both schemes: text against its background
  async function legible(p, scheme) {
    const cs = await p.evaluate(() => {
      const c = (sel, prop) => getComputedStyle(document.querySelector(sel))[prop];
      return { fg: c("body", "color"), bg: c("html", "backgroundColor"), muted: c("#updated", "color"),
               panel: c("figure", "backgroundColor"), axis: c("svg text", "fill"), bad: c("td.bad", "color") };
    });
    check(contrast(cs.fg, cs.bg) >= 7, `${scheme}: text contrast ${contrast(cs.fg, cs.bg).toFixed(1)} ${JSON.stringify(cs)}`);
    check(contrast(cs.muted, cs.bg) >= 4.5 && contrast(cs.axis, cs.panel) >= 4.5 && contrast(cs.bad, cs.bg) >= 4.5,
          `${scheme}: muted ${contrast(cs.muted, cs.bg).toFixed(1)}, axis ${contrast(cs.axis, cs.panel).toFixed(1)}, ` +
          `errors ${contrast(cs.bad, cs.bg).toFixed(1)}`);
    return cs.bg;
  }
  const lightBg = await legible(page, "light");
  const dark = await browser.newContext({ colorScheme: "dark", viewport: { width: 1400, height: 900 } });
  const dpage = await dark.newPage();
  dpage.on("pageerror", (e) => errors.push(String(e)));
  dpage.on("request", (r) => { if (!r.url().startsWith(base + "/")) outside.push(r.url()); });
  await dpage.goto(base + "/__nerd/");
  await dpage.waitForFunction(() => document.querySelector('#totals tr[data-function="Fail"] td.bad'), null, { timeout: 10000 });
  check(await legible(dpage, "dark") !== lightBg, "dark scheme has its own background");
  if (process.env.SCREENSHOT)
    await (process.env.DARK === "1" ? dpage : page).screenshot({ path: process.env.SCREENSHOT, fullPage: true });
  await dark.close();

  check(errors.length === 0, "page or console errors: " + errors.join("; "));
  check(outside.length === 0, "requests leaving the origin: " + outside.join(" "));
});
