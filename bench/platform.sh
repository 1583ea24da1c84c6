#!/usr/bin/env bash
# `make bench`, platform part: the local serverless platform with the
# trivial C runtime (bench/functions/hello.c) behind `nerd local start-api`,
# and nginx's static reply as the baseline, both driven by wrk from the same
# machine in the same run.  Prints:
#   - requests/s through the gateway (best of several connection counts) and
#     nginx's with the same wrk settings;
#   - p50/p99 at half the gateway's maximum rate: bench/openloop.c, an
#     open-loop client timing each request from its intended send time,
#     after a 1 s warm-up, three runs and their median p99, beside nginx's
#     at the same rate (the machine's own tail);
#   - the gateway's overhead per request: latency over nginx's at one
#     connection, and the gateway's and the runtime's CPU per request;
#   - cold start of the C runtime: Init Duration (spawn to first /next) of
#     50 cold starts, from the REPORT lines.
set -eu
NERD=${1:-build/nerd}
OPENLOOP=$(dirname "$NERD")/openloop
HELLO=$(cd "$(dirname "$NERD")" && pwd)/functions/hello
DUR=${BENCH_SECONDS:-5}
. bench/common.sh
wrkrun() { wrk -t1 -c"$1" -d"${DUR}s" --latency "${@:3}" "$2" 2>&1; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# nginx baseline
start_nginx
# the platform: limits off so the figures are the platform's own
"$NERD" local start-api --template bench/hello.yaml --parameter-overrides "CodeDir=$HELLO" \
    --port 0 --no-limits > "$tmp/gw.log" 2>&1 & gw=$!; pids="$pids $gw"
url=$(listening_url "$tmp/gw.log")/hello
curl -sf "$url" > /dev/null
echo "platform: nginx $(nginx -v 2>&1 | sed 's/.*\///'), wrk -t1, ${DUR} s per run, $(nproc) cores"

best=0; bestc=0
for c in 4 8 16 32; do
    out=$(wrkrun "$c" "$url"); r=$(echo "$out" | rps)
    n=$(wrkrun "$c" "http://127.0.0.1:$np/" | rps)
    printf 'platform: %2d connections: gateway %8.0f req/s, p50 %5s us, p99 %5s us | nginx %8.0f req/s\n' \
        "$c" "$r" "$(echo "$out" | pct 50)" "$(echo "$out" | pct 99)" "$n"
    if awk -v a="$r" -v b="$best" 'BEGIN { exit !(a > b) }'; then best=$r; bestc=$c; nbest=$n; fi
done
printf 'platform: max through the gateway %.0f req/s (%d connections); nginx static reply %.0f req/s (%.0f%% of it)\n' \
    "$best" "$bestc" "$nbest" "$(awk -v a="$best" -v b="$nbest" 'BEGIN { print 100 * a / b }')"

half=$(awk -v b="$best" 'BEGIN { printf "%d", b / 2 }')
for c in 16 64; do
    # one environment per connection, all warm first: cold starts are
    # measured on their own below, not in the steady-state tail
    wrkrun "$c" "$url" -d1s > /dev/null
    openloop_median "platform: at half the maximum ($half req/s offered, $c connections)" \
        "$OPENLOOP" "$url" "$half" "$DUR" "$c"
    openloop_median "platform:   nginx at the same rate ($c connections)" \
        "$OPENLOOP" "http://127.0.0.1:$np/" "$half" "$DUR" "$c"
done

# overhead at one connection, and CPU per request
g=$(wrkrun 1 "$url"); n=$(wrkrun 1 "http://127.0.0.1:$np/")
gp=$(echo "$g" | pct 50); npp=$(echo "$n" | pct 50)
printf 'platform: 1 connection: gateway p50 %s us vs nginx p50 %s us: overhead %s us per request\n' \
    "$gp" "$npp" "$((gp - npp))"
kids_ticks() { local t=0; for k in $(pgrep -P "$1"); do t=$((t + $(cpu_ticks "$k"))); done; echo $t; }
t0=$(cpu_ticks "$gw"); r0=$(kids_ticks "$gw")
out=$(wrkrun 8 "$url"); reqs=$(echo "$out" | sed -nE 's/^ +([0-9]+) requests in.*/\1/p')
t1=$(cpu_ticks "$gw"); r1=$(kids_ticks "$gw")
awk -v g=$((t1 - t0)) -v r=$((r1 - r0)) -v n="$reqs" -v hz="$(getconf CLK_TCK)" 'BEGIN {
    printf "platform: CPU per request at 8 connections: gateway %.1f us, runtimes %.1f us\n", g / hz * 1e6 / n, r / hz * 1e6 / n }'
kill "$gw"; wait "$gw" 2>/dev/null || true

# cold starts, on a fresh gateway: crash the only environment, so the next
# request starts a new one
"$NERD" local start-api --template bench/hello.yaml --parameter-overrides "CodeDir=$HELLO" \
    --port 0 --no-limits > "$tmp/cold.log" 2>&1 & pids="$pids $!"
url=$(listening_url "$tmp/cold.log")/hello
for i in $(seq 50); do curl -s -o /dev/null "$url"; curl -s -o /dev/null "${url}/crash"; done
sleep 0.2
grep -oE 'Init Duration: [0-9.]+' "$tmp/cold.log" | awk '{ print $3 }' | sort -n > "$tmp/init"
awk '{ v[NR] = $1 } END { printf "platform: C runtime cold start (spawn to first /next, %d starts): median %.2f ms, p95 %.2f ms, max %.2f ms\n", NR, v[int(NR * 0.5) + 1], v[int(NR * 0.95) + 1], v[NR] }' "$tmp/init"
