// Browser test of the NER page (web/index.html) in Debian's headless
// Chromium, driven by playwright-core: BASE_URL serves the page and the API
// (tests/web/test_page.sh starts `nerd local start-api` with template.yaml,
// as `make run` does).  Checks the endpoint default, the highlighted marks
// for the study sentence, code point offsets with astral characters and
// accents, the legend, table, raw JSON and latency, that API errors (400,
// 404, 413) and network errors reach #error, the scores checkbox (?scores=1,
// a score in each mark and a table column) and batch mode (one request of
// {"texts"} for the non-blank lines, each line's entities in its own block,
// a line column, the 256-text limit's 413).  SCREENSHOT=path saves a
// full-page screenshot.  Prints "web: N passed, N failed".
import net from "node:net";
import { check, env, run } from "./harness.mjs";

const STUDY = "Alan Turing was born on June 23, 1912, in London, England.";
const base = env("BASE_URL");

// A port on 127.0.0.1 that refuses connections: bound, then closed.
const closedPort = await new Promise((resolve) => {
  const s = net.createServer().listen(0, "127.0.0.1", () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});

await run(async (browser) => {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(base + "/");
  check(await page.inputValue("#endpoint") === base + "/ner", "endpoint defaults to the page's origin + /ner");
  check(await page.inputValue("#text") === STUDY, "the study sentence is the default text");

  // Submits (the button, or Ctrl+Enter) and waits until the answer is shown:
  // the handler disables the button synchronously and enables it at the end.
  async function submit(how) {
    if (how === "keys") {
      await page.focus("#text");
      await page.keyboard.press("Control+Enter");
    } else {
      await page.click("#submit");
    }
    await page.waitForFunction(() => !document.getElementById("submit").disabled, null, { timeout: 60000 });
  }
  async function run(text, how) {
    await page.fill("#text", text);
    await submit(how);
  }
  const marks = () => page.$$eval("#result mark", (ms) => ms.map((m) => ({
    text: m.querySelector(".ent").textContent, label: m.dataset.label,
    start: +m.dataset.start, end: +m.dataset.end })));
  const text = (sel) => page.textContent(sel);

  // 1. the study sentence, submitted with Ctrl+Enter
  await run(STUDY, "keys");
  const got = await marks();
  check(JSON.stringify(got) === JSON.stringify([
    { text: "Alan Turing", label: "PERSON", start: 0, end: 11 },
    { text: "June 23, 1912", label: "DATE", start: 24, end: 37 },
    { text: "London", label: "GPE", start: 42, end: 48 },
    { text: "England", label: "GPE", start: 50, end: 57 }]), "study sentence marks: " + JSON.stringify(got));
  check(await page.$$eval("#result mark .lbl", (ls) => ls.map((l) => l.textContent).join()) ===
        "PERSON,DATE,GPE,GPE", "a label after each entity");
  check(await text("#result") === "Alan TuringPERSON was born on June 23, 1912DATE, in LondonGPE, EnglandGPE.",
        "highlighted text: " + await text("#result"));
  check(await page.inputValue("#text") === STUDY, "Ctrl+Enter submits without adding a newline");
  const legend = await page.$$eval("#legend li", (ls) => ls.map((l) => l.dataset.label + ":" + l.textContent));
  check(JSON.stringify(legend) === JSON.stringify([
    "PERSON:PERSON — People, including fictional",
    "DATE:DATE — Absolute or relative dates or periods",
    "GPE:GPE — Countries, cities, states"]), "legend: " + legend);
  check(/^200 in [0-9]+\.[0-9] ms$/.test(await text("#latency")), "latency: " + await text("#latency"));
  const json = JSON.parse(await text("#json"));
  check(JSON.stringify(json.entities.map((e) => [e.text, e.label, e.start, e.end])) ===
        JSON.stringify(got.map((m) => [m.text, m.label, m.start, m.end])), "raw JSON shown: " + JSON.stringify(json));
  const rows = await page.$$eval("#table tbody tr", (rs) => rs.map((r) => r.innerText.split("\t").join("|")));
  check(rows.length === 4 && rows[1] === "June 23, 1912|DATE|24|37", "entity table: " + JSON.stringify(rows));
  check(await text("#error") === "", "no error shown");

  // 2. astral characters (emoji) and accents before entities: code point offsets
  const astral = "😀🎉 Zoë Saldaña visited São Paulo with Angela Merkel.";
  await run(astral);
  const resp = JSON.parse(await text("#json"));
  const m2 = await marks();
  const cps = Array.from(astral);
  check(m2.length === resp.entities.length && m2.length >= 2, "marks for every entity: " + JSON.stringify(m2));
  check(m2.every((m, i) => m.text === resp.entities[i].text && m.start === resp.entities[i].start &&
                           m.text === cps.slice(m.start, m.end).join("")),
        "marks slice the text by code points: " + JSON.stringify(m2) + " vs " + JSON.stringify(resp));
  check(m2.some((m) => m.text === "São Paulo" && m.start === 23), "São Paulo at code point 23: " + JSON.stringify(m2));
  check(await page.evaluate(() => document.getElementById("result").textContent.startsWith("😀🎉 ")),
        "text before the first entity intact");
  check(await page.$$eval("#result mark", (ms) => ms.every((m) => m.children.length === 2)),
        "marks hold only the entity and its label");

  // 3. HTML in the text stays text
  await run("<img src=x onerror=alert(1)> Barack Obama visited Paris.");
  check(await page.$$eval("#result img", (is) => is.length) === 0, "no markup injected from the text");
  check((await text("#result")).startsWith("<img src=x onerror=alert(1)> "), "markup shown as text");

  // 4. empty text: the function answers 200 with no entities
  await run("");
  check(await page.$$eval("#result mark", (ms) => ms.length) === 0 && await text("#error") === "" &&
        /^200 in /.test(await text("#latency")), "empty text: no entities, no error");
  check(await page.$$eval("#legend li", (ls) => ls.length) === 0 && await page.isHidden("#table"),
        "empty text: legend and table cleared");

  // 5. the server's 400: a lone surrogate that JSON.stringify escapes as \ud800
  await page.evaluate(() => { document.getElementById("text").value = String.fromCharCode(0xd800) + " Paris"; });
  await submit();
  let err = await text("#error");
  check(/^Error 400: the body is not valid JSON: .*\\uD800/.test(err), "400 shown: " + err);
  check(/^400 in /.test(await text("#latency")), "status in the latency line: " + await text("#latency"));
  check(JSON.parse(await text("#json")).error === "InvalidJSON", "400 JSON shown: " + await text("#json"));
  check(await page.$$eval("#result mark", (ms) => ms.length) === 0, "no marks after an error");

  // 6. the server's 413: one byte over the default 1 MiB text limit
  await page.evaluate(() => { document.getElementById("text").value = "a".repeat(1048577); });
  await submit();
  err = await text("#error");
  check(err === "Error 413: text is 1048577 bytes; the limit is 1048576 bytes", "413 shown: " + err);

  // 7. the function's 404 for another path
  await page.fill("#endpoint", base + "/nope");
  await run("Paris");
  err = await text("#error");
  check(err === "Error 404: no route for POST /nope", "404 shown: " + err);

  // 8. a network error: nothing listens on the port
  await page.fill("#endpoint", `http://127.0.0.1:${closedPort}/ner`);
  await run("Paris");
  err = await text("#error");
  check(/^Network error: /.test(err) && await text("#latency") === "", "network error shown: " + err);

  // an error clears on the next good answer
  await page.fill("#endpoint", base + "/ner");
  await run(STUDY);
  check(await text("#error") === "" && (await marks()).length === 4, "error cleared after a good answer");

  // 9. scores: the checkbox adds ?scores=1; each mark and table row shows its score
  const posts = [];
  page.on("request", (r) => { if (r.method() === "POST") posts.push({ url: r.url(), body: r.postData() }); });
  await page.check("#scores");
  await run(STUDY);
  check(posts.length === 1 && posts[0].url === base + "/ner?scores=1" && posts[0].body === JSON.stringify({ text: STUDY }),
        "scores: one POST to ?scores=1: " + JSON.stringify(posts));
  check(JSON.stringify(await page.$$eval("#result mark", (ms) => ms.map((m) => m.dataset.score))) ===
        JSON.stringify(["0.9997", "0.8231", "1.0000", "1.0000"]), "scores on the marks");
  check(await page.$$eval("#result mark .score", (ss) => ss.map((x) => x.textContent).join()) === "1.00,0.82,1.00,1.00",
        "score shown after each label");
  check(await page.$$eval("#table thead th", (ts) => ts.map((t) => t.textContent).join()) === "Entity,Label,Start,End,Score",
        "score column");
  let rowsS = await page.$$eval("#table tbody tr", (rs) => rs.map((r) => r.innerText.split("\t").join("|")));
  check(rowsS[1] === "June 23, 1912|DATE|24|37|0.8231", "scored row: " + JSON.stringify(rowsS));
  check(JSON.parse(await text("#json")).entities[0].score === 0.9997, "score in the raw JSON");
  await page.uncheck("#scores");
  await run(STUDY);
  check(await page.$$eval("#result mark .score", (ss) => ss.length) === 0 &&
        await page.$$eval("#table thead th", (ts) => ts.length) === 4 && posts[1].url === base + "/ner",
        "scores off again: no ?scores, no score shown");

  // 10. batch mode: the non-blank lines in one request, each line's entities in its block
  await page.check("#batch");
  posts.length = 0;
  const lines = ["Alan Turing was born in London.", "", "Paris", "nothing to see here", "😀 Zoë Saldaña visited São Paulo."];
  await run(lines.join("\n"));
  const sent = lines.filter((l) => l !== "");
  check(posts.length === 1 && posts[0].url === base + "/ner" && posts[0].body === JSON.stringify({ texts: sent }),
        "batch: one POST of the non-blank lines: " + JSON.stringify(posts));
  const docs = await page.$$eval("#result .doc", (ds) => ds.map((d) => ({ line: d.dataset.line,
    marks: [...d.querySelectorAll("mark")].map((m) => m.querySelector(".ent").textContent + "/" + m.dataset.label) })));
  check(JSON.stringify(docs.map((d) => d.line)) === JSON.stringify(["1", "3", "4", "5"]), "a block per text, by line: " + JSON.stringify(docs));
  check(JSON.stringify(docs[0].marks) === JSON.stringify(["Alan Turing/PERSON", "London/GPE"]) &&
        JSON.stringify(docs[1].marks) === JSON.stringify(["Paris/GPE"]) && docs[2].marks.length === 0,
        "each block its own entities: " + JSON.stringify(docs));
  const bres = JSON.parse(await text("#json")).results;
  const cps5 = Array.from(lines[4]);
  check(bres.length === 4 && bres[3].entities.length > 0 &&
        bres[3].entities.every((e) => cps5.slice(e.start, e.end).join("") === e.text) &&
        await page.$$eval("#result .doc[data-line='5'] mark", (ms) => ms.length) === bres[3].entities.length,
        "code point offsets per text in a batch: " + JSON.stringify(bres[3]));
  check(/^200 in [0-9]+\.[0-9] ms for 4 texts$/.test(await text("#latency")), "batch latency: " + await text("#latency"));
  const rowsB = await page.$$eval("#table tbody tr", (rs) => rs.map((r) => r.innerText.split("\t").join("|")));
  check(rowsB[0] === "1|Alan Turing|PERSON|0|11" && rowsB[2] === "3|Paris|GPE|0|5" &&
        await page.$$eval("#table thead th", (ts) => ts.map((t) => t.textContent).join()) === "Line,Entity,Label,Start,End",
        "batch table with a line column: " + JSON.stringify(rowsB));

  // 11. batch with scores: every mark scored, the line and score columns
  await page.check("#scores");
  await run("Alan Turing was born in London.\nParis");
  check(posts[posts.length - 1].url === base + "/ner?scores=1", "batch with ?scores=1");
  check(JSON.stringify(await page.$$eval("#result .doc mark", (ms) => ms.map((m) => m.dataset.score))) ===
        JSON.stringify(["0.9997", "1.0000", "0.9878"]), "batch scores on the marks");
  rowsS = await page.$$eval("#table tbody tr", (rs) => rs.map((r) => r.innerText.split("\t").join("|")));
  check(rowsS[2] === "2|Paris|GPE|0|5|0.9878", "batch scored row: " + JSON.stringify(rowsS));
  await page.uncheck("#scores");

  // 12. more texts than a batch takes: the function's 413 reaches #error
  await run(Array.from({ length: 257 }, (_, i) => "Text " + i).join("\n"));
  err = await text("#error");
  check(err === "Error 413: texts has 257 items; the limit is 256 texts", "batch 413 shown: " + err);
  check(await page.$$eval("#result mark", (ms) => ms.length) === 0 &&
        await page.$$eval("#result .doc", (ds) => ds.length) === 257, "the texts shown unmarked after the error");
  await page.uncheck("#batch");
  await run(STUDY);
  check(await text("#error") === "" && (await marks()).length === 4 &&
        await page.$$eval("#result .doc", (ds) => ds.length) === 0, "single mode again");
  check(errors.length === 0, "no page errors: " + errors.join("; "));
  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
});
