#!/usr/bin/env bash
# `make bench`, REST part: the same trivial C function (bench/restapi.yaml,
# limits off) behind an HTTP API route (/hello), a REST route
# (/Prod/hello) and a REST route that requires an API key in a usage plan
# with a throttle and a quota (/Prod/keyed, x-api-key: the key printed at
# start-up; counts written to a database in the run's temporary folder),
# all on one gateway: requests/s and p99 (wrk -t1 --latency,
# BENCH_SECONDS (5) per run) at BENCH_REST_CONNS (16) connections,
# BENCH_RUNS (3) runs per route interleaved, medians; and the CPU time per
# request of the gateway and of the runtimes (utime + stime from /proc,
# less sensitive than requests/s to what else runs on the machine).  Goal:
# REST >= 90% of the HTTP API; the API key's cost is reported.
set -eu
NERD=${1:-build/nerd}
HELLO=$(cd "$(dirname "$NERD")" && pwd)/functions/hello
DUR=${BENCH_SECONDS:-5}
RUNS=${BENCH_RUNS:-3}
C=${BENCH_REST_CONNS:-16}
. bench/common.sh

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
wrk -t1 -c"$C" -d1s "$base/hello" > /dev/null 2>&1 # one environment per connection, warm
for _ in $(seq "$RUNS"); do
    run http "$base/hello"
    run rest "$base/Prod/hello"
    run keyed "$base/Prod/keyed" -H "x-api-key: $key"
done
for r in http rest keyed; do
    echo "restapi: each run ($r): $(tr '\n' ';' < "$tmp/$r" | sed 's/;$//; s/;/ | /g') (req/s, p99 us, gateway and runtime CPU us per request)"
done
awk -v h="$(med http 1)" -v r="$(med rest 1)" -v k="$(med keyed 1)" \
    -v hp="$(med http 2)" -v rp="$(med rest 2)" -v kp="$(med keyed 2)" \
    -v hg="$(med http 3)" -v rg="$(med rest 3)" -v kg="$(med keyed 3)" \
    -v hf="$(med http 4)" -v rf="$(med rest 4)" -v kf="$(med keyed 4)" 'BEGIN {
    printf "restapi: HTTP API route %.0f req/s (p99 %d us; CPU per request: gateway %.1f us, runtime %.1f us)\n", h, hp, hg, hf
    printf "restapi: REST route %.0f req/s (p99 %d us; gateway %.1f us, runtime %.1f us): %.0f%% of the HTTP API'"'"'s req/s (goal >= 90%%: %s), CPU per request %.0f%% of its\n",
           r, rp, rg, rf, 100 * r / h, (r / h >= 0.9 ? "ok" : "MISSED"), 100 * (rg + rf) / (hg + hf)
    printf "restapi: REST route with an API key (usage plan throttle and quota) %.0f req/s (p99 %d us; gateway %.1f us, runtime %.1f us): %.0f%% of the REST route, %.0f%% of the HTTP API\n",
           k, kp, kg, kf, 100 * k / r, 100 * k / h }'
