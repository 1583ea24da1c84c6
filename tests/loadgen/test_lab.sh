#!/usr/bin/env bash
# `make lab`'s driver and results page on a small bounded run: loadgen/lab.sh
# runs the AWS lab's tasks 2-5 (C) at a 0.03 time scale (about 2 s of load
# each) on fresh platforms, then loadgen/lab_results.py writes the page.
# Checks: one run folder per task with its parameters (task 4's provisioned
# concurrency is task 3's peak ConcurrentExecutions, task 5 adds the reserved
# one), the platform log summarised (a REPORT line per request, cold starts
# without provisioned concurrency, and with it at most the users above the
# provisioned ones), and the page's figures taken from the folders; with a
# second runtime's folders (copies standing in for the Python function) the
# C against Python table and its cost per million requests.  About 25 s; loopback only.
. tests/lib.sh
PRODUCTS=$(dirname "$NERD")/functions/products/bootstrap
[ -x "$PRODUCTS" ] || give_up "no $PRODUCTS (make all)"
mkdir -p "$tmp/pkg/ProductApiFunction"; cp "$PRODUCTS" "$tmp/pkg/ProductApiFunction/bootstrap"
runs=$tmp/runs
loadgen/lab.sh "$NERD" "$tmp/pkg" "$runs" 0.03 c > "$tmp/lab.out" 2>&1 && ok ||
    give_up "lab.sh: $(tail -10 "$tmp/lab.out")"
for t in 2 3 4 5; do [ -s "$runs/c-task$t/summary.json" ] || bad "no c-task$t"; done
[ ! -e "$runs/c-task2.platform.log" ] && ok || bad "the platform log was kept"
/usr/bin/python3 - "$runs" <<'PY' && ok || bad "run folders"
import json, sys
runs = sys.argv[1]
def j(t, f): return json.load(open(f"{runs}/c-task{t}/{f}"))
def params(t): return open(f"{runs}/c-task{t}/parameters.txt").read().split()
peak = max(x["ConcurrentExecutions"] for s in j(3, "provider_metrics.json")["functions"].values() for x in s)
assert params(2) == ["MemorySize=128"] and params(3) == ["MemorySize=3008"], (params(2), params(3))
assert params(4) == ["MemorySize=3008", f"ProvisionedConcurrency={peak}"], params(4)
assert params(5) == params(4) + ["ReservedConcurrency=100"], params(5)
for t in (2, 3, 4, 5):
    s, lg = j(t, "summary.json"), j(t, "log_summary.json")
    assert s["requests"] > 50 and s["failures"] == 0, (t, s["requests"], s["failures"])
    assert lg["reports"] == s["requests"], (t, lg["reports"], s["requests"])
    assert lg["memory_size_mb"] == (128 if t == 2 else 3008), lg
    d = lg["duration_ms"]
    assert 0 < d["p50"] <= d["p95"] <= d["p99"] <= d["max"], d
    if t < 4:
        assert lg["cold_starts"] >= 1 and lg["provisioned_inits"] == 0, (t, lg)
    else:  # more users in flight at once than task 3's sampled peak meet cold starts
        assert lg["provisioned_inits"] == peak and lg["cold_starts"] <= 100 - peak, (t, peak, lg)
    assert open(f"{runs}/c-task{t}/limits.txt").read().startswith("limits:")
PY
/usr/bin/python3 loadgen/lab_results.py "$runs" "$tmp/lab.md" 2> /dev/null && ok || bad "lab_results.py"
for h in "## Summary" "## Task 2: the first load test (128 MB)" "## Task 3: MemorySize 3008 MB" \
         "## Task 4: provisioned concurrency" "## Task 5: reserved concurrency" \
         "> In the Max (ms) column, what is the maximum response time?" \
         "| **peak concurrency** (ConcurrentExecutions) |" "| GET /products/[id] |"; do
    grep -qF -- "$h" "$tmp/lab.md" || bad "no '$h' in the page"
done
/usr/bin/python3 - "$runs" "$tmp/lab.md" <<'PY' && ok || bad "page figures"
import json, sys
runs, md = sys.argv[1], open(sys.argv[2]).read()
for t in (2, 3, 4, 5):
    s = json.load(open(f"{runs}/c-task{t}/summary.json"))
    row = next(l for l in md.splitlines() if l.startswith(f"| {t} | C |"))
    cells = [c.strip() for c in row.split("|")[1:-1]]
    assert cells[3] == f"{s['requests']:,}", (cells, s["requests"])
    assert cells[8] == "0" and cells[9] == "0", cells
    avg = s["avg_ms"]
    assert cells[4] == (f"{avg:,.0f}" if avg >= 100 else f"{avg:.2f}"), (cells[4], avg)
assert "## C against Python" not in md
PY
# a second runtime: copies of the C folders stand in for the Python function's
for t in 2 3; do cp -r "$runs/c-task$t" "$runs/python-task$t"; done
/usr/bin/python3 loadgen/lab_results.py "$runs" "$tmp/lab2.md" 2> /dev/null && ok || bad "lab_results.py, two runtimes"
/usr/bin/python3 - "$runs" "$tmp/lab2.md" <<'PY' && ok || bad "C against Python"
import json, sys
runs, md = sys.argv[1], open(sys.argv[2]).read()
assert "## C against Python" in md and "| ours (C) | ours (Python) | the lab |" in md
rows = [l for l in md.split("## C against Python")[1].splitlines() if l.startswith("| C |") or l.startswith("| Python |")]
assert len(rows) == 4, rows
for t, mem, row in ((2, 128, rows[0]), (3, 3008, rows[2])):
    lg = json.load(open(f"{runs}/c-task{t}/log_summary.json"))
    cost = 1e6 * (0.20 / 1e6 + lg["billed_ms_avg"] / 1000 * mem / 1024 * 0.0000166667)
    assert row.split("|")[2].strip() == f"{mem} MB" and row.rstrip(" |").endswith(f"${cost:.4f}"), (row, cost)
PY
# bad arguments
loadgen/lab.sh "$NERD" "$tmp/pkg" "$tmp/r2" 0.03 cobol > "$tmp/bad.out" 2>&1
[ $? -eq 2 ] && grep -q "unknown runtime 'cobol'" "$tmp/bad.out" && ok || bad "unknown runtime: $(cat "$tmp/bad.out")"
/usr/bin/python3 loadgen/lab_results.py "$tmp/r2" "$tmp/x.md" > "$tmp/bad.out" 2>&1
[ $? -ne 0 ] && grep -q "no run folders" "$tmp/bad.out" && ok || bad "no runs: $(cat "$tmp/bad.out")"
finish
