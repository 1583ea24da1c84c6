#!/usr/bin/env bash
# The load lab end to end: `nerd bench --host URL --scenario FILE` against
# real servers on 127.0.0.1 — tests/loadgen/lg_testserver (fixed delay,
# a one-off 1 s stall, failures, Connection: close, chunked, a request
# never answered) and `nerd local start-api` with the trivial C runtime
# (provider metrics).  Asserts latencies within generous bands
# (correctness, not speed), exact request counts against the server's own
# count, the stall in the corrected p99 only, Locust's exact CSV headers,
# failure rows, timeouts, clear errors for bad input, a time-scaled
# built-in scenario, and the report's files.
. tests/lib.sh
BIN=$(cd "$(dirname "$NERD")" && pwd)

SRV=$BIN/tests/loadgen/lg_testserver
if [ ! -x "$SRV" ]; then
    SRV=$tmp/lg_testserver
    cc -O2 -Iinclude -o "$SRV" tests/loadgen/lg_testserver.c lib/http.c || give_up "cannot build lg_testserver"
fi

# start_server ARGS...: sets $port and $srv
start_server() {
    "$SRV" "$@" > "$tmp/srv.out" 2> "$tmp/srv.err" &
    srv=$!; pids="$pids $srv"
    port=""
    for _ in $(seq 50); do
        port=$(sed -n 's/^listening on //p' "$tmp/srv.out"); [ -n "$port" ] && break; sleep 0.1
    done
    [ -n "$port" ] || bad "test server did not start: $(cat "$tmp/srv.err")"
}
stop_server() { kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null; }
count() { curl -s "http://127.0.0.1:$port/count"; }
# json FILE EXPR: a value of summary.json (python3 expression over d)
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
# csv FILE ROW COLUMN: a field of a CSV file (row 1 = first data row)
csvf() { python3 -c "import csv,sys; r=list(csv.reader(open(sys.argv[1], newline=''))); h=r[0]; print(r[int(sys.argv[2])][h.index(sys.argv[3])])" "$1" "$2" "$3"; }
scn() { printf '%s\n' "$2" > "$tmp/$1.scn"; }
bench() { "$NERD" bench --quiet --no-provider "$@" > "$tmp/out" 2> "$tmp/err"; }

# ---- fixed 20 ms delay, closed model: p50 ~ 20 ms, counts exact ----------
start_server --delay-ms 20
scn closed 'name closed
model closed
stage 1.5s users 5'
bench --host "http://127.0.0.1:$port" --scenario "$tmp/closed.scn" --out "$tmp/r1"
rc=$?
[ $rc = 0 ] && ok || bad "closed run exit $rc: $(cat "$tmp/err")"
p50=$(json "$tmp/r1/summary.json" "d['latency_ms']['p50']")
python3 -c "import sys; sys.exit(not 20 <= $p50 <= 30)" && ok || bad "closed p50 $p50 ms, want 20..30"
n=$(csvf "$tmp/r1/closed_stats.csv" 1 "Request Count")
[ "$n" = "$(count)" ] && [ "$n" -gt 100 ] && ok || bad "closed: $n requests, server counted $(count)"
[ "$(csvf "$tmp/r1/closed_stats.csv" 2 Name)" = Aggregated ] && ok || bad "Aggregated row"
# Locust's median: rounded to 1 ms, but never below the exact minimum
med=$(csvf "$tmp/r1/closed_stats.csv" 1 "Median Response Time")
python3 -c "import sys; sys.exit(not 20 <= float('$med') <= 30)" && ok || bad "closed median $med"
[ "$(csvf "$tmp/r1/closed_stats.csv" 1 "Failure Count")" = 0 ] && ok || bad "closed failures"
[ "$(json "$tmp/r1/summary.json" "d['all']['connects']")" = 5 ] && ok || bad "5 users, 5 keep-alive connections"

# Locust's exact headers, CRLF rows, a history row a second
for f in stats.csv stats_history.csv failures.csv exceptions.csv; do
    want=$(awk -F'\t' -v f="$f" '$1 == f {print $2}' tests/data/loadgen/locust-2.12.1-headers.tsv)
    got=$(head -1 "$tmp/r1/closed_$f" | tr -d '\r')
    [ -n "$want" ] && [ "$got" = "$want" ] && ok || bad "$f header: $got"
done
python3 - "$tmp/r1" <<'EOF' && ok || bad "CSV shape"
import csv, sys
d = sys.argv[1]
for f in ("closed_stats.csv", "closed_stats_history.csv", "closed_failures.csv"):
    raw = open(f"{d}/{f}", "rb").read()
    assert raw.endswith(b"\r\n") and raw.count(b"\n") == raw.count(b"\r\n"), f
    rows = list(csv.reader(open(f"{d}/{f}", newline="")))
    assert all(len(r) == len(rows[0]) for r in rows), f
h = list(csv.reader(open(f"{d}/closed_stats_history.csv", newline="")))
assert len(h) >= 3 and all(r[3] == "Aggregated" for r in h[1:]), h
ts = [int(r[0]) for r in h[1:]]
assert ts == sorted(set(ts)) and ts[-1] - ts[0] <= 3, ts
assert int(h[-1][h[0].index("Total Request Count")]) > 100
EOF
stop_server

# ---- open model at 100/s against the same delay ----------------------------
start_server --delay-ms 20
scn open 'name open
model open
connections 16
stage 2s rate 100'
bench --host "http://127.0.0.1:$port" --scenario "$tmp/open.scn" --out "$tmp/r2"
p50=$(json "$tmp/r2/summary.json" "d['latency_ms']['p50']")
python3 -c "import sys; sys.exit(not 20 <= $p50 <= 30)" && ok || bad "open p50 $p50 ms, want 20..30"
n=$(json "$tmp/r2/summary.json" "d['requests']")
[ "$n" = 200 ] && [ "$(count)" = 200 ] && ok || bad "open: $n requests at 100/s for 2 s, server $(count)"
stop_server

# ---- a 1 s stall under the open model: corrected p99 shows it, uncorrected not
start_server --stall-at 150 --stall-ms 1000
scn stall 'name stall
model open
connections 2
stage 3s rate 200'
bench --host "http://127.0.0.1:$port" --scenario "$tmp/stall.scn" --out "$tmp/r3"
c99=$(json "$tmp/r3/summary.json" "d['latency_ms']['p99']")
u99=$(json "$tmp/r3/summary.json" "d['uncorrected_latency_ms']['p99']")
python3 -c "import sys; sys.exit(not $c99 >= 500)" && ok || bad "corrected p99 $c99 ms hides the stall"
python3 -c "import sys; sys.exit(not $u99 < 100)" && ok || bad "uncorrected p99 $u99 ms"
n=$(json "$tmp/r3/summary.json" "d['requests']")
[ "$n" = 600 ] && [ "$(count)" = 600 ] && ok || bad "stall: $n requests, server $(count)"
python3 - "$tmp/r3/per_second.csv" <<'EOF' && ok || bad "per-second series lacks the stall"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert max(float(r["p99_ms"]) for r in rows) >= 500
assert max(float(r["uncorrected_p99_ms"]) for r in rows) < 100
EOF
stop_server

# ---- a stall across a stage boundary and one at the very end: the arrivals
# owed when a stage ends still go out (oldest first, each timed from its own
# intended time), so counts stay exact and the stall shows
start_server --stall-at 250 --stall-ms 1000
scn stall2 'name stall2
model open
connections 2
stage 1500ms rate 200
stage 1500ms rate 200'
bench --host "http://127.0.0.1:$port" --scenario "$tmp/stall2.scn" --out "$tmp/r3b"
n=$(json "$tmp/r3b/summary.json" "d['requests']")
[ "$n" = 600 ] && [ "$(count)" = 600 ] && ok || bad "stall across stages: $n requests, server $(count)"
c99=$(json "$tmp/r3b/summary.json" "d['latency_ms']['p99']")
python3 -c "import sys; sys.exit(not $c99 >= 500)" && ok || bad "stall across stages: corrected p99 $c99 ms"
stop_server
start_server --stall-at 390 --stall-ms 1000
scn stall3 'name stall3
model open
connections 2
stage 2s rate 200'
bench --host "http://127.0.0.1:$port" --scenario "$tmp/stall3.scn" --out "$tmp/r3c"
n=$(json "$tmp/r3c/summary.json" "d['requests']")
f=$(json "$tmp/r3c/summary.json" "d['failures']")
[ "$n" = 400 ] && [ "$f" = 0 ] && [ "$(count)" = 400 ] && ok || bad "stall at the end: $n requests ($f failed), server $(count)"
max=$(json "$tmp/r3c/summary.json" "d['latency_ms']['max']")
python3 -c "import sys; sys.exit(not $max >= 900)" && ok || bad "stall at the end: corrected max $max ms"
stop_server

# ---- the phase table: sub-second stages get their own requests ------------
start_server
scn phases 'name phases
model open
connections 8
stage 400ms rate 100
stage 300ms rate 200
stage 300ms rate 300'
bench --host "http://127.0.0.1:$port" --scenario "$tmp/phases.scn" --out "$tmp/r3d"
python3 - "$tmp/r3d/report.html" <<'EOF' && ok || bad "phase table: $(grep -o '<h2>Phases.*' "$tmp/r3d/report.html" | head -c 600)"
import re, sys
html = open(sys.argv[1]).read()
table = html[html.index("<h2>Phases</h2>"):]
rows = re.findall(r"<tr><td>(stage\d+)</td><td>[^<]*</td><td>[^<]*</td><td>(\d+)</td>", table)
assert [(p, int(n)) for p, n in rows] == [("stage1", 40), ("stage2", 60), ("stage3", 90)], rows
EOF
stop_server

# ---- failures, Connection: close and chunked answers ----------------------
start_server --fail-every 5 --close-every 3 --chunked
scn fails 'name fails
model closed
stage 1s users 3 think 5ms 10ms'
bench --host "http://127.0.0.1:$port" --scenario "$tmp/fails.scn" --out "$tmp/r4"
n=$(csvf "$tmp/r4/fails_stats.csv" 1 "Request Count")
f=$(csvf "$tmp/r4/fails_stats.csv" 1 "Failure Count")
[ "$n" = "$(count)" ] && [ "$f" = $((n / 5)) ] && ok || bad "fails: $n requests ($f failed), server $(count)"
want="HTTPError('500 Server Error: Internal Server Error for url: /ner')"
[ "$(csvf "$tmp/r4/fails_failures.csv" 1 Error)" = "$want" ] && ok || bad "failure message: $(cat "$tmp/r4/fails_failures.csv")"
[ "$(csvf "$tmp/r4/fails_failures.csv" 1 Occurrences)" = "$f" ] && ok || bad "failure occurrences"
[ "$(json "$tmp/r4/summary.json" "d['status']['500'] + d['status']['200'] == d['requests']")" = True ] && ok || bad "status counts"
cn=$(json "$tmp/r4/summary.json" "d['all']['connects']")
[ "$cn" -ge $((n / 3)) ] && ok || bad "Connection: close not honoured ($cn connects for $n requests)"
[ "$(json "$tmp/r4/summary.json" "d['connection_errors']")" = 0 ] && ok || bad "chunked/close errors"
stop_server

# ---- a request never answered: a timeout failure, the run still ends ------
start_server --hang-at 10
scn hang 'name hang
model closed
timeout 300ms
stage 1s users 2'
start=$(date +%s%N)
bench --host "http://127.0.0.1:$port" --scenario "$tmp/hang.scn" --out "$tmp/r5"
el=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$(json "$tmp/r5/summary.json" "d['timeouts']")" = 1 ] && ok || bad "timeouts: $(cat "$tmp/r5/summary.json")"
want="ReadTimeout(ReadTimeoutError(\"HTTPConnectionPool(host='127.0.0.1', port=$port): Read timed out. (read timeout=0.3)\"))"
[ "$(csvf "$tmp/r5/hang_failures.csv" 1 Error)" = "$want" ] && ok || bad "timeout row: $(cat "$tmp/r5/hang_failures.csv")"
[ "$el" -lt 5000 ] && ok || bad "hang run took $el ms"
n=$(json "$tmp/r5/summary.json" "d['requests']")
[ "$n" = "$(count)" ] && ok || bad "hang: $n requests, server $(count)"
stop_server

# ---- Ctrl-C while the run drains a request that never ends: stops within
# about 2 s with status 130, the cut-off request not counted as a timeout
start_server --hang-at 3
scn drain 'name drain
model closed
timeout 60s
stage 300ms users 1 think 10ms 10ms'
start=$(date +%s%N)
"$NERD" bench --quiet --no-provider --host "http://127.0.0.1:$port" --scenario "$tmp/drain.scn" \
    --out "$tmp/r5b" > "$tmp/out" 2> "$tmp/err" &
b=$!
sleep 1.2; kill -INT $b; wait $b; rc=$?
el=$(( ($(date +%s%N) - start) / 1000000 ))
[ $rc = 130 ] && [ "$el" -lt 4500 ] && ok || bad "Ctrl-C in the drain: exit $rc after $el ms"
[ "$(json "$tmp/r5b/summary.json" "d['interrupted']")" = True ] && [ "$(json "$tmp/r5b/summary.json" "d['timeouts']")" = 0 ] &&
    [ "$(json "$tmp/r5b/summary.json" "d['requests']")" = 2 ] && ok || bad "Ctrl-C in the drain: $(head -c 400 "$tmp/r5b/summary.json")"
stop_server

# ---- nothing listening: connection errors, bounded ------------------------
scn refused 'name refused
model closed
stage 500ms users 2'
bench --host "http://127.0.0.1:$port" --scenario "$tmp/refused.scn" --out "$tmp/r6"
rc=$?
[ $rc = 0 ] && ok || bad "refused run exit $rc"
grep -q "ConnectionRefusedError(111, 'Connection refused')" "$tmp/r6/refused_failures.csv" \
    && ok || bad "refused row: $(cat "$tmp/r6/refused_failures.csv")"
f=$(json "$tmp/r6/summary.json" "d['failures'] == d['requests'] > 0 and d['requests'] < 200")
[ "$f" = True ] && ok || bad "refused: every request failed, with a back-off"

# ---- warm-up: statistics reset, the server saw both parts ------------------
start_server
scn warm 'name warm
model closed
think 1ms 2ms
warmup 1s users 2 spawn-rate 10
stage 1s users 3'
bench --host "http://127.0.0.1:$port" --scenario "$tmp/warm.scn" --out "$tmp/r7"
all=$(json "$tmp/r7/summary.json" "d['all']['requests']")
main=$(json "$tmp/r7/summary.json" "d['requests']")
[ "$all" = "$(count)" ] && [ "$main" -lt "$all" ] && [ "$main" -gt 0 ] && ok || bad "warm-up: $main of $all, server $(count)"
[ "$(csvf "$tmp/r7/warm_stats.csv" 1 "Request Count")" = "$main" ] && ok || bad "stats.csv excludes the warm-up"
[ "$(json "$tmp/r7/summary.json" "0.9 < d['reset_epoch'] - d['start_epoch'] < 1.2")" = True ] && ok || bad "reset time"
grep -q '^[0-9]*,warmup,0,' "$tmp/r7/per_second.csv" && grep -q '^[0-9]*,stage1,1,3,' "$tmp/r7/per_second.csv" \
    && ok || bad "per-second phases: $(cat "$tmp/r7/per_second.csv")"

# ---- a built-in scenario, time-scaled: light-c in 3.9 s ---------------------
"$NERD" bench --host "http://127.0.0.1:$port" --scenario light-c --time-scale 0.01 \
    --no-provider --out "$tmp/r8" > "$tmp/out" 2> "$tmp/err"
rc=$?
[ $rc = 0 ] && ok || bad "light-c exit $rc: $(cat "$tmp/err")"
grep -q '^\[ *[0-9.]*s\] stage 2/3 *users *8 *req/s' "$tmp/err" && ok || bad "progress line: $(head -5 "$tmp/err")"
python3 - "$tmp/r8" <<'EOF' && ok || bad "light-c shape"
import csv, json, sys
d = sys.argv[1]
rows = list(csv.DictReader(open(f"{d}/per_second.csv")))
users = {r["phase"]: int(r["users"]) for r in rows}
assert users["stage2"] == 8 and max(users.values()) == 8, users
h = list(csv.reader(open(f"{d}/light-c_stats_history.csv", newline="")))
assert max(int(r[1]) for r in h[1:]) == 8
s = json.load(open(f"{d}/summary.json"))
assert s["scenario"] == "light-c" and s["warmup"] and s["failures"] == 0 and s["requests"] > 100
EOF
grep -q '^stage 2.4s users 8 think 0.002s 0.01s$' "$tmp/r8/scenario.scn" && ok || bad "scenario as run: $(cat "$tmp/r8/scenario.scn")"
stop_server

# ---- bad input: clear errors, exit 2 ----------------------------------------
"$NERD" bench --host http://example.com:80 --scenario light-a > /dev/null 2> "$tmp/err"
[ $? = 2 ] && grep -q "not a loopback address" "$tmp/err" && ok || bad "non-loopback: $(cat "$tmp/err")"
"$NERD" bench --host https://127.0.0.1:443 --scenario light-a > /dev/null 2> "$tmp/err"
[ $? = 2 ] && grep -q "https is not supported" "$tmp/err" && ok || bad "https: $(cat "$tmp/err")"
scn broken 'model closed
stage 5s users lots'
"$NERD" bench --host http://127.0.0.1:9 --scenario "$tmp/broken.scn" > /dev/null 2> "$tmp/err"
[ $? = 2 ] && grep -q "broken.scn:2: users: expected an integer" "$tmp/err" && ok || bad "bad scenario: $(cat "$tmp/err")"
"$NERD" bench --host http://127.0.0.1:9 --scenario no-such > /dev/null 2> "$tmp/err"
[ $? = 2 ] && grep -q "built in: heavy-a" "$tmp/err" && ok || bad "unknown scenario: $(cat "$tmp/err")"
"$NERD" bench --host http://127.0.0.1:9 --scenario light-a --time-scale 1000 > /dev/null 2> "$tmp/err"
[ $? = 2 ] && ok || bad "time scale out of range"
"$NERD" bench --host http://127.0.0.1:9 --scenario light-a --texts /nonexistent > /dev/null 2> "$tmp/err"
[ $? = 2 ] && grep -q "/nonexistent" "$tmp/err" && ok || bad "missing texts: $(cat "$tmp/err")"

# ---- against the local platform: the provider's metrics, same window -------
HELLO=$BIN/functions/hello
if [ -x "$HELLO/bootstrap" ]; then
    start_gateway --template tests/data/loadgen/platform.yaml --parameter-overrides "CodeDir=$HELLO"
    scn plat 'name plat
model closed
stage 1.5s users 3 think 5ms 20ms'
    "$NERD" bench --quiet --host "$url" --scenario "$tmp/plat.scn" --out "$tmp/r9" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    [ $rc = 0 ] && [ -s "$tmp/r9/provider_metrics.json" ] && ok || bad "platform run $rc: $(cat "$tmp/err")"
    python3 - "$tmp/r9" <<'EOF' && ok || bad "provider metrics do not match the client's count"
import json, sys
d = sys.argv[1]
p = json.load(open(f"{d}/provider_metrics.json"))
s = json.load(open(f"{d}/summary.json"))
inv = sum(x["Invocations"] for x in p["functions"]["Ner"])
assert s["requests"] > 20 and s["failures"] == 0, s
assert inv == s["requests"], (inv, s["requests"])
assert max(x["ConcurrentExecutions"] for x in p["functions"]["Ner"]) >= 1
assert sum(x["ColdStarts"] for x in p["functions"]["Ner"]) >= 1
EOF
    python3 - "$tmp/r9/report.html" <<'EOF' && ok || bad "report.html"
import re, sys
h = open(sys.argv[1]).read()
assert h.count("<svg") >= 8, h.count("<svg")
for t in ("Requests per second", "Response time", "Users", "Invocations per second",
          "Duration p95", "ConcurrentExecutions", "Request statistics", "Failures statistics"):
    assert t in h, t
# self-contained: no scripts, stylesheets or images fetched from anywhere
assert not re.search(r'(src|href)\s*=', h) and "<script" not in h and "@import" not in h
EOF
    kill $gw; wait $gw 2>/dev/null
else
    bad "no $HELLO/bootstrap (make all builds it)"
fi
finish
