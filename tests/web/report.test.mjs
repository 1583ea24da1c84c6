// Browser test of the load lab's report.html in Debian's headless Chromium,
// driven by playwright-core: REPORT is a run folder's report.html (written
// by tests/web/test_report.sh against the local platform).  Checks that the
// page renders self-contained (no script, no request leaves file://, no
// page error), that the client's three charts and the provider's panels are
// drawn with data (a polyline of many points each, inside the chart's
// viewBox), and the study's tables (request and response-time statistics
// with the run's counts).  SCREENSHOT=path saves a full-page screenshot.
// Prints "web: N passed, N failed".
import { check, env, run } from "./harness.mjs";

const report = env("REPORT");
const want = Number(process.env.WANT_REQUESTS || "0");
await run(async (browser) => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = [], requests = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => { if (!r.url().startsWith("file:")) requests.push(r.url()); });
  await page.goto("file://" + report);
  check(errors.length === 0, "page errors: " + errors.join("; "));
  check(requests.length === 0, "requests beyond the file: " + requests.join(" "));
  check(await page.locator("script").count() === 0, "no scripts");

  const charts = await page.$$eval("svg.chart", (svgs) => svgs.map((s) => {
    const vb = s.viewBox.baseVal, box = s.getBoundingClientRect();
    const lines = [...s.querySelectorAll("polyline")].map((p) => {
      const pts = p.points;
      let inside = true;
      for (let i = 0; i < pts.numberOfItems; i++) {
        const q = pts.getItem(i);
        if (q.x < 0 || q.x > vb.width || q.y < 0 || q.y > vb.height) inside = false;
      }
      return { n: pts.numberOfItems, inside };
    });
    return { title: s.querySelector("text")?.textContent || "", w: box.width, h: box.height, lines };
  }));
  const titles = charts.map((c) => c.title);
  for (const t of ["Requests per second", "Users", "Response time", "Invocations per second",
                   "Duration p95", "ConcurrentExecutions", "Throttles per second", "Cold starts per second"])
    check(titles.some((x) => x.startsWith(t)), `a chart titled "${t}" (have: ${titles.join(" | ")})`);
  for (const c of charts) {
    check(c.w > 300 && c.h > 150, `chart "${c.title}" is drawn (${c.w}x${c.h})`);
    check(c.lines.length >= 1 && c.lines.every((l) => l.n >= 5 && l.inside),
          `chart "${c.title}" has series of points inside it: ${JSON.stringify(c.lines)}`);
  }
  const rt = await page.locator("svg.chart", { hasText: "Response time" }).first().locator("polyline").count();
  check(rt >= 3, `response time chart has p50, p95 and p99 (${rt} series)`);

  const h2 = await page.$$eval("h2", (hs) => hs.map((h) => h.textContent));
  for (const t of ["Request statistics", "Response time statistics", "Failures statistics"])
    check(h2.includes(t), `section "${t}"`);
  const agg = await page.$$eval("table tr", (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent.trim())));
  const aggRow = agg.find((r) => r[1] === "Aggregated");
  check(aggRow && Number(aggRow[2].replace(/,/g, "")) === want, `Aggregated row has ${want} requests: ${aggRow}`);
  if (process.env.SCREENSHOT)
    await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
});
