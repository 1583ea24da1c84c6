#!/usr/bin/env bash
# `make bench`, REST part: the same trivial C function (bench/restapi.yaml,
# limits off) behind an HTTP API route (/hello), a REST route
# (/Prod/hello) and a REST route that requires an API key in a usage plan
# with a throttle and a quota (/Prod/keyed, x-api-key: the key printed at
# start-up; counts written to a database in the run's temporary folder),
# all on one gateway: requests/s and p99 (wrk -t1 --latency,
# BENCH_SECONDS (5) per run) at BENCH_REST_CONNS (16) connections,
# BENCH_RUNS (3) runs per route interleaved, medians.  Goal: REST >= 90% of
# the HTTP API; the API key's cost is reported.
set -eu
NERD=${1:-build/nerd}
HELLO=$(cd "$(dirname "$NERD")" && pwd)/functions/hello
DUR=${BENCH_SECONDS:-5}
RUNS=${BENCH_RUNS:-3}
C=${BENCH_REST_CONNS:-16}
. bench/common.sh
wrkrun() { wrk -t1 -c"$C" -d"$1" --latency "${@:2}" 2>&1; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

"$NERD" local start-api --template bench/restapi.yaml --parameter-overrides "CodeDir=$HELLO" \
    --port 0 --no-limits --usage-db "$tmp/usage.sqlite3" > "$tmp/gw.log" 2>&1 & gw=$!; pids="$pids $gw"
base=$(listening_url "$tmp/gw.log")
key=$(sed -n 's/^API key RestApiKey: \([^ ]*\) (.*/\1/p' "$tmp/gw.log")
for p in /hello /Prod/hello; do
    [ "$(curl -s "$base$p")" = hello ] || { echo "restapi: $p does not answer" >&2; exit 1; }
done
[ "$(curl -s -H "x-api-key: $key" "$base/Prod/keyed")" = hello ] || { echo "restapi: /Prod/keyed refuses its key" >&2; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/Prod/keyed")" = 403 ] || { echo "restapi: /Prod/keyed without a key" >&2; exit 1; }
echo "restapi: HTTP API vs REST vs REST with an API key, one gateway, the C runtime; wrk -t1 -c$C --latency," \
     "${DUR} s per run, median of $RUNS runs (interleaved), $(nproc) cores"
wrkrun 1s "$base/hello" > /dev/null # one environment per connection, warm
hr=""; hp=""; rr=""; rp=""; kr=""; kp=""
for _ in $(seq "$RUNS"); do
    out=$(wrkrun "${DUR}s" "$base/hello"); hr="$hr $(echo "$out" | rps)"; hp="$hp $(echo "$out" | pct 99)"
    out=$(wrkrun "${DUR}s" "$base/Prod/hello"); rr="$rr $(echo "$out" | rps)"; rp="$rp $(echo "$out" | pct 99)"
    out=$(wrkrun "${DUR}s" -H "x-api-key: $key" "$base/Prod/keyed"); kr="$kr $(echo "$out" | rps)"
    kp="$kp $(echo "$out" | pct 99)"
done
echo "restapi: each run: HTTP API req/s$hr p99 us$hp | REST req/s$rr p99 us$rp | REST + API key req/s$kr p99 us$kp"
awk -v h="$(echo $hr | median)" -v r="$(echo $rr | median)" -v k="$(echo $kr | median)" \
    -v hp="$(echo $hp | median)" -v rp="$(echo $rp | median)" -v kp="$(echo $kp | median)" 'BEGIN {
    printf "restapi: HTTP API route %.0f req/s (p99 %d us); REST route %.0f req/s (p99 %d us): %.0f%% of the HTTP API (goal >= 90%%: %s)\n",
           h, hp, r, rp, 100 * r / h, (r / h >= 0.9 ? "ok" : "MISSED")
    printf "restapi: REST route with an API key (usage plan throttle and quota) %.0f req/s (p99 %d us): %.0f%% of the REST route, %.0f%% of the HTTP API\n",
           k, kp, 100 * k / r, 100 * k / h }'
