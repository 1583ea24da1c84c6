#!/usr/bin/env python3
"""Writes docs/lab-results.md from the run folders of `make lab`
(loadgen/lab.sh): the AWS lab's tasks 2-5 against its products API on the
local platform, answering the lab's questions (average, maximum,
concurrency seen, throttles) beside the lab's own figures and goals
(../shared/seeds/lambda-speedup-lab.txt), with the provider's metrics for
each window.

    lab_results.py RUNS_DIR OUT.md
    lab_results.py --log-summary PLATFORM_LOG      (JSON on stdout)

Reads, per run folder RUNS_DIR/RUNTIME-taskN: summary.json (the client's
statistics, by request name too), provider_metrics.json (the platform's
per-second series for the window), provider_60s.json (per minute),
parameters.txt, limits.txt and log_summary.json (what --log-summary made
of the platform's START/END/REPORT lines: Duration percentiles, billed
duration, Max Memory Used, cold starts and their Init Duration).
"""
import json
import os
import platform
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from results import fmt, load, provider_totals  # noqa: E402  (loadgen/results.py)

TASKS = {
    "task2": {
        "title": "Task 2: the first load test (128 MB)",
        "quote": [
            "In the Average (ms) column, what is the average response time?",
            "In the Max (ms) column, what is the maximum response time?",
            "Your customers are expecting average response times that are less than 100 ms, "
            "and maximum response times near 1 second are unacceptable.",
            "The Concurrent executions graph indicates that at the peak of the load on your "
            "application, approximately 40 Lambda functions were executing concurrently.",
        ],
        "lab": {"avg": "< 100 ms (goal); \"on average, requests take longer\"",
                "max": "\"1 second or more\" occasionally; near 1 s is unacceptable",
                "rps": "about 200 req/s (the customers' load)",
                "conc": "approximately 40"},
    },
    "task3": {
        "title": "Task 3: MemorySize 3008 MB",
        "quote": [
            "Determine if there is a performance boost to your function by adjusting the "
            "memory to 3008 MB.",
            "According to the Statistics tab in Locust, you have decreased the average "
            "response time of the application.",
        ],
        "lab": {"avg": "lower than task 2's", "max": "—", "rps": "—", "conc": "—"},
    },
    "task4": {
        "title": "Task 4: provisioned concurrency = the peak concurrency seen",
        "quote": [
            "When you ran your stress test, you noticed in the Lambda monitor tab that the "
            "maximum concurrency was approximately 40. Set the provisioned concurrency for "
            "your function to 40 to prevent cold starts.",
            "In the Max (ms) column on the Statistics tab in Locust, you notice that the "
            "maximum response times have been reduced by nearly 60%.",
        ],
        "lab": {"avg": "—", "max": "about 60% below task 3's", "rps": "—",
                "conc": "40 provisioned", "cold": "none (\"eliminated cold starts\")"},
    },
    "task5": {
        "title": "Task 5: reserved concurrency",
        "quote": [
            "In AWS, each account has a maximum Lambda concurrency limit of 1,000. ... this "
            "can cause throttling if the concurrency limit has been used up",
            "Reserved concurrency guarantees the maximum number of concurrent instances for "
            "the function.",
        ],
        "lab": {"avg": "—", "max": "—", "rps": "—",
                "conc": "at most the reserved concurrency (the lab gives no number)",
                "thr": "throttles once the reserved concurrency is used up"},
    },
}
ORDER = ["task2", "task3", "task4", "task5"]
RUNTIME_NAME = {"c": "C", "python": "Python"}
# Lambda's x86 prices (us-east-1, first tier): per request and per GB-second
PRICE_REQUEST = 0.20 / 1e6
PRICE_GB_S = 0.0000166667


# ---- the platform's log ----------------------------------------------------

def pct(v, p):
    """Locust's rank rule on a sorted list: the value at min(floor(N p), N - 1)."""
    if not v:
        return None
    return v[min(int(len(v) * p), len(v) - 1)]


def dist(v):
    v = sorted(v)
    if not v:
        return None
    return {"avg": sum(v) / len(v), "p50": pct(v, 0.5), "p95": pct(v, 0.95),
            "p99": pct(v, 0.99), "max": v[-1], "n": len(v)}


REPORT = re.compile(r"^REPORT RequestId: \S+\tDuration: ([0-9.]+) ms\tBilled Duration: ([0-9]+) ms\t"
                    r"Memory Size: ([0-9]+) MB\tMax Memory Used: ([0-9]+) MB\t(?:Init Duration: ([0-9.]+) ms\t)?")
INIT_OK = re.compile(r"^INIT_REPORT Init Duration: ([0-9.]+) ms\tPhase: init\tStatus: success")


def log_summary(path):
    """What CloudWatch Logs Insights would compute from the REPORT lines."""
    dur, billed, mem, inits, prov = [], [], [], [], []
    size = None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = REPORT.match(line)
            if m:
                dur.append(float(m.group(1)))
                billed.append(int(m.group(2)))
                size = int(m.group(3))
                mem.append(int(m.group(4)))
                if m.group(5):
                    inits.append(float(m.group(5)))
                continue
            m = INIT_OK.match(line)
            if m:
                prov.append(float(m.group(1)))
    return {"reports": len(dur), "duration_ms": dist(dur),
            "billed_ms_avg": sum(billed) / len(billed) if billed else None,
            "memory_size_mb": size, "max_memory_used_mb": dist(mem),
            "cold_starts": len(inits), "init_ms": dist(inits),
            "provisioned_inits": len(prov), "provisioned_init_ms": dist(prov)}


# ---- run folders --------------------------------------------------------------

def run(runs, rid):
    d = os.path.join(runs, rid)
    s = load(d, "summary.json")
    if not s:
        return None
    e = {"id": rid, "s": s, "params": (load(d, "parameters.txt", "text") or "").split(),
         "limits": (load(d, "limits.txt", "text") or "").strip(),
         "loadavg": (load(d, "loadavg.txt", "text") or "").strip(),
         "log": load(d, "log_summary.json") or {}}
    e.update(provider_totals(load(d, "provider_metrics.json"), load(d, "provider_60s.json")))
    e["throttled"] = int(s.get("status", {}).get("429", 0))
    return e


def param(e, name):
    return next((x.split("=", 1)[1] for x in e["params"] if x.startswith(name + "=")), None)


def cost_per_million(e):
    lg = e["log"]
    if not lg.get("billed_ms_avg") or not lg.get("memory_size_mb"):
        return None
    gb_s = lg["billed_ms_avg"] / 1000 * lg["memory_size_mb"] / 1024
    return 1e6 * (PRICE_REQUEST + gb_s * PRICE_GB_S)


def rows_for(e):
    """The lab's questions for one run: (label, value, lab key)."""
    s, lat, lg = e["s"], e["s"]["latency_ms"], e["log"]
    d = lg.get("duration_ms") or {}
    rng = e.get("p95_min")
    cold = lg.get("cold_starts")
    init = lg.get("init_ms") or {}
    prov = lg.get("provisioned_inits") or 0
    return [
        ("template parameters", " ".join(f"`{x}`" for x in e["params"]) or "defaults", None),
        ("requests (failures)", f"{fmt(s['requests'])} ({fmt(s['failures'])})", None),
        ("req/s", fmt(s["rps"], 1), "rps"),
        ("**average** (ms)", fmt(s.get("avg_ms")), "avg"),
        ("p50 / p95 / p99 (ms)", f"{fmt(lat['p50'])} / {fmt(lat['p95'])} / {fmt(lat['p99'])}", None),
        ("**maximum** (ms)", fmt(lat["max"]), "max"),
        ("throttles: 429 answers / provider Throttles", f"{fmt(e['throttled'])} / {fmt(e.get('thr'))}", "thr"),
        ("**peak concurrency** (ConcurrentExecutions)", fmt(e.get("conc")), "conc"),
        ("cold starts (REPORT lines with Init Duration)"
         + (" + provisioned inits" if prov else ""),
         f"{fmt(cold)}" + (f" + {prov}" if prov else "")
         + (f" (Init Duration median {fmt(init.get('p50'))} ms, max {fmt(init.get('max'))} ms)" if init else ""),
         "cold"),
        ("Duration avg / p95 / max (ms, REPORT lines, the window)",
         f"{fmt(d.get('avg'), 3)} / {fmt(d.get('p95'), 3)} / {fmt(d.get('max'), 3)}", None),
        ("Duration p95 by minute (ms, the platform's metrics)",
         f"{rng[0]:.3f}–{rng[1]:.3f}" if rng else "—", None),
        ("Invocations (provider) / Errors", f"{fmt(e.get('inv'))} / {fmt(e.get('err'))}", None),
    ]


def names_table(p, e):
    by = e["s"].get("by_name") or []
    if not by:
        return
    p("| request | requests | failures | avg ms | p50 ms | p95 ms | p99 ms | max ms |")
    p("|---|---|---|---|---|---|---|---|")
    for r in by:
        lat = r["latency_ms"]
        p(f"| {r['method']} {r['name']} | {fmt(r['requests'])} | {fmt(r['failures'])} | {fmt(r['avg_ms'])} "
          f"| {fmt(lat['p50'])} | {fmt(lat['p95'])} | {fmt(lat['p99'])} | {fmt(lat['max'])} |")
    p("")


def change(a, b):
    return f"{100 * (b - a) / a:+.0f}%" if a else "—"


def write(runs, out):
    found = {}
    for name in sorted(os.listdir(runs)):
        m = re.fullmatch(r"([a-z]+)-(task[2-5])", name)
        if m and os.path.isdir(os.path.join(runs, name)):
            e = run(runs, name)
            if e:
                found.setdefault(m.group(1), {})[m.group(2)] = e
    if not found:
        sys.exit("lab_results.py: no run folders (RUNTIME-taskN) in " + runs)
    rts = [r for r in ("c", "python") if r in found] + sorted(set(found) - {"c", "python"})
    allruns = [e for r in rts for e in found[r].values()]
    first = min(e["s"]["start"] for e in allruns)
    scale = sorted({e["s"]["time_scale"] for e in allruns})
    w = []
    p = w.append
    p("# Lab results: the AWS lab's tasks on the local platform\n")
    p("Written by `make lab` (loadgen/lab.sh, then loadgen/lab_results.py) from the run folders in")
    p(f"`{os.path.relpath(runs)}` — do not edit by hand; rerun to refresh.  The lab: ")
    p("../shared/seeds/lambda-speedup-lab.txt (\"How to Speed Up Your AWS Lambda Functions\");")
    p("the API, the template and how the tasks map onto it: [lab.md](lab.md).\n")
    p(f"- Runs started {first} on {platform.node() or 'this machine'}: {os.cpu_count()} CPUs "
      f"({platform.processor() or platform.machine()}), Linux {platform.release()}; "
      f"written {time.strftime('%Y-%m-%d', time.gmtime())}.  Load average (1, 5, 15 min) as each "
      "task started, other work on the machine included: "
      + "; ".join(f"{e['id']} {e['loadavg'] or '?'}" for e in allruns) + ".")
    p(f"- Runtimes: {', '.join(RUNTIME_NAME.get(r, r) for r in rts)}.  Time scale: "
      f"{', '.join(str(x) for x in scale)} (1 = the lab's load as below; `make lab TIME_SCALE=0.5` "
      "halves every duration and doubles the spawn rate).")
    p("- The load: `nerd bench --scenario lab-products` — the lab's Locust test, 100 users spawned "
      "at 3/s and held 30 s once all are up, no think time, each user creating a generated "
      "product, getting it, listing a page of 20 and deleting it (lab/locustfile.py is the same "
      "mix for Locust itself).  Generator and platform share this machine's CPUs over loopback: "
      "100 users without think time send the next request as soon as the last is answered, "
      "so the rate is whatever the machine sustains (the lab saw about 200 req/s from Locust "
      "over the Internet) and latencies here are mostly waiting for a CPU.  The lab's 200 req/s "
      "as a fixed, open-loop rate is `make bench`'s figure (bench/lab.sh, docs/lab.md).")
    p("- Each task on a fresh `nerd local start-api` (lab/template.yaml, its own DynamoDB service "
      "on a fresh directory), so its load meets cold environments and an empty table, as after a "
      "deployment.  Limits applied: "
      + re.sub(r"^limits: ", "", allruns[0]["limits"] or "?") + ".")
    p("- Client figures (average, percentiles, maximum, req/s) are the load generator's over the "
      "whole run, as Locust's Statistics tab shows them; the provider's are the platform's own "
      "for the same window: `/__nerd/metrics/json` (ConcurrentExecutions, Throttles, Invocations, "
      "Duration p95 per minute as the Monitor tab graphs it) and the REPORT lines of its log "
      "(Duration over the window, cold starts with their Init Duration, Max Memory Used), as "
      "CloudWatch Logs Insights would read them.\n")

    p("## Summary\n")
    p("| task | runtime | template | requests | avg ms | p99 ms | max ms | req/s | failures | 429 | peak concurrency | cold starts | Duration p95 ms |")
    p("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for t in ORDER:
        for r in rts:
            e = found[r].get(t)
            if not e:
                continue
            s, lg = e["s"], e["log"]
            d = lg.get("duration_ms") or {}
            p(f"| {t[4:]} | {RUNTIME_NAME.get(r, r)} | {' '.join(e['params'])} | {fmt(s['requests'])} "
              f"| {fmt(s.get('avg_ms'))} | {fmt(s['latency_ms']['p99'])} | {fmt(s['latency_ms']['max'])} "
              f"| {fmt(s['rps'], 1)} | {fmt(s['failures'])} | {fmt(e['throttled'])} | {fmt(e.get('conc'))} "
              f"| {fmt(lg.get('cold_starts'))}{' + ' + str(lg['provisioned_inits']) + ' provisioned' if lg.get('provisioned_inits') else ''} "
              f"| {fmt(d.get('p95'), 3)} |")
    p("")

    for t in ORDER:
        runs_t = [(r, found[r][t]) for r in rts if t in found[r]]
        if not runs_t:
            continue
        info = TASKS[t]
        p(f"## {info['title']}\n")
        for q in info["quote"]:
            p(f"> {q}")
        p("")
        p("| question | " + " | ".join(f"ours ({RUNTIME_NAME.get(r, r)})" for r, _ in runs_t) + " | the lab |")
        p("|---|" + "---|" * len(runs_t) + "---|")
        tables = [rows_for(e) for _, e in runs_t]
        for i, (label, _, key) in enumerate(tables[0]):
            lab = info["lab"].get(key, "") if key else ""
            p(f"| {label} | " + " | ".join(tb[i][1] for tb in tables) + f" | {lab} |")
        p("")
        for r, e in runs_t:
            s = e["s"]
            avg, mx = s.get("avg_ms") or 0, s["latency_ms"]["max"]
            words = (f"**{RUNTIME_NAME.get(r, r)}**: the average is {avg:.2f} ms "
                     f"({'under' if avg < 100 else 'over'} the customers' 100 ms), the maximum "
                     f"{mx:.1f} ms ({'far from' if mx < 500 else 'near' if mx < 1000 else 'past'} 1 s); "
                     f"{fmt(e.get('conc'))} environments ran at once at the peak (the lab saw about 40); "
                     f"{fmt(e['throttled'])} requests were throttled.")
            prev = found[r].get({"task3": "task2", "task4": "task3"}.get(t, ""))
            if prev and t == "task3":
                words += (f"  Against task 2: average {change(prev['s'].get('avg_ms'), avg)}, "
                          f"maximum {change(prev['s']['latency_ms']['max'], mx)}.")
            if prev and t == "task4":
                words += (f"  Against task 3: maximum {change(prev['s']['latency_ms']['max'], mx)} "
                          "(the lab: about −60%), "
                          f"average {change(prev['s'].get('avg_ms'), avg)}; "
                          f"cold starts {fmt(prev['log'].get('cold_starts'))} → "
                          f"{fmt(e['log'].get('cold_starts'))}.")
            init_max = (e["log"].get("init_ms") or {}).get("max")
            if init_max and init_max >= 0.5 * mx:
                words += (f"  The slowest requests include the cold starts: Init Duration up to "
                          f"{init_max:.0f} ms at this memory size's CPU share.")
            if t == "task2" and e.get("conc") and e["conc"] >= 0.9 * 100:
                words += ("  Concurrency is the user count here: with no think time and loopback "
                          "round trips each user has a request in the function nearly all the "
                          "time, where the lab's users spent part of each cycle on the Internet.")
            res = param(e, "ReservedConcurrency")
            if res:
                words += (f"  Reserved concurrency {res} caps the function's environments at {res}; "
                          f"with {res} for 100 users nothing waits for one, "
                          f"{'and nothing was throttled' if not e['throttled'] else 'yet some requests were throttled'} "
                          "(below the peak, the surplus would be answered 429: the Monitor tab's Throttles).")
            p(words)
            p("")
        for r, e in runs_t:
            if len(runs_t) > 1:
                p(f"By request ({RUNTIME_NAME.get(r, r)}):\n")
            else:
                p("By request:\n")
            names_table(p, e)

    if len(rts) > 1 and "c" in found and "python" in found:
        p("## C against Python\n")
        p("The same API, load and tasks; the runtime is the template's `ProductsRuntime` parameter. "
          "Cost per million requests at Lambda's x86 prices (us-east-1: $0.20 per million requests, "
          f"${PRICE_GB_S:.10f} per GB-second) for the billed duration measured (REPORT lines: each "
          "invocation rounded up to the millisecond, a cold start's Init Duration included) at the "
          "task's memory size.\n")
        p("| runtime | memory | cold starts | Init Duration median ms | avg ms | p99 ms | max ms | Duration p95 ms | Max Memory Used MB | billed ms per request | $ per million requests |")
        p("|---|---|---|---|---|---|---|---|---|---|---|")
        for t in ("task2", "task3"):
            for r in ("c", "python"):
                e = found[r].get(t)
                if not e:
                    continue
                lg, s = e["log"], e["s"]
                c = cost_per_million(e)
                p(f"| {RUNTIME_NAME[r]} | {param(e, 'MemorySize') or '?'} MB | {fmt(lg.get('cold_starts'))} "
                  f"| {fmt((lg.get('init_ms') or {}).get('p50'))} | {fmt(s.get('avg_ms'))} "
                  f"| {fmt(s['latency_ms']['p99'])} | {fmt(s['latency_ms']['max'])} "
                  f"| {fmt((lg.get('duration_ms') or {}).get('p95'), 3)} "
                  f"| {fmt((lg.get('max_memory_used_mb') or {}).get('max'))} "
                  f"| {fmt(lg.get('billed_ms_avg'), 3)} | {('$%.4f' % c) if c else '—'} |")
        p("")
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(w))
    print(f"lab_results.py: wrote {out} ({len(allruns)} runs)", file=sys.stderr)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--log-summary":
        json.dump(log_summary(sys.argv[2]), sys.stdout)
        sys.stdout.write("\n")
        return
    if len(sys.argv) != 3:
        sys.exit("usage: lab_results.py RUNS_DIR OUT.md | lab_results.py --log-summary LOG")
    write(sys.argv[1], sys.argv[2])


if __name__ == "__main__":
    main()
