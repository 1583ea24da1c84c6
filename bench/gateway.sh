#!/usr/bin/env bash
# `make bench`, gateway part: `nerd local start-api` as an HTTP front end,
# measured against nginx as a reverse proxy in the same run, and what the
# gateway and the environments cost in memory:
#   - requests/s and p99 (wrk -t1 --latency, BENCH_SECONDS (5) per run) at
#     4, 16 and 64 connections, the trivial C runtime (bench/hello.yaml,
#     limits off) through the gateway vs nginx 1.22 (bench/nginx-proxy.conf,
#     one worker, upstream keep-alive) in front of nginx's static reply
#     (bench/nginx.conf); BENCH_RUNS (3) runs per cell, gateway and nginx
#     interleaved, medians; one warm-up second per connection count (one
#     environment per connection); goals: gateway >= 90% of nginx's req/s
#     at each count, p99 at 64 connections <= 1.5x nginx's;
#   - memory per idle client connection: the gateway's VmRSS before and
#     after BENCH_IDLE_CONNS (5,000) connections are opened and left idle,
#     with nothing sent and after one request each (bench/idleconns.py);
#     goal <= 16 KB per connection;
#   - resident memory per NER environment: template.yaml's NerFunction
#     (packaged as bench/function.sh does, limits off, reserved concurrency
#     unset) after BENCH_ENVS (8) concurrent connections of POST /ner: the
#     sum of the runtimes' VmRSS and of their PSS (/proc/PID/smaps_rollup,
#     which counts the shared mmap'd model once), per environment; goal
#     <= 16 MB per environment.
set -eu
NERD=${1:-build/nerd}; MODEL=${2:-models/en_core_web_sm-2.2.5.nerd}
B=$(dirname "$NERD")
HELLO=$(cd "$B" && pwd)/functions/hello
DUR=${BENCH_SECONDS:-5}
RUNS=${BENCH_RUNS:-3}
IDLE=${BENCH_IDLE_CONNS:-5000}
ENVS=${BENCH_ENVS:-8}
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
. bench/common.sh
# the gateway holds a descriptor per client connection
want=$((IDLE + 1024))
if [ "$(ulimit -Sn)" != unlimited ] && [ "$(ulimit -Sn)" -lt "$want" ]; then
    hard=$(ulimit -Hn)
    if [ "$hard" = unlimited ] || [ "$hard" -ge "$want" ]; then ulimit -Sn "$want"; else ulimit -Sn "$hard"; fi
fi
wrkrun() { wrk -t1 -c"$1" -d"${DUR}s" --latency "${@:3}" "$2" 2>&1; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

start_nginx
start_nginx_proxy
"$NERD" local start-api --template bench/hello.yaml --parameter-overrides "CodeDir=$HELLO" \
    --port 0 --no-limits > "$tmp/gw.log" 2>&1 & gw=$!; pids="$pids $gw"
base=$(listening_url "$tmp/gw.log")
url=$base/hello
curl -sf "$url" > /dev/null
[ "$(curl -s "http://127.0.0.1:$npx/")" = hello ] || { echo "gateway: nginx proxy does not answer" >&2; exit 1; }
echo "gateway: vs nginx $(nginx -v 2>&1 | sed 's/.*\///') reverse proxy (1 worker, upstream keep-alive) to its static reply;" \
     "wrk -t1 --latency, ${DUR} s per run, median of $RUNS runs (interleaved), $(nproc) cores"
printf 'gateway: %5s | %13s %13s %6s %-8s | %10s %10s %6s %-8s\n' conns "gateway req/s" "nginx req/s" ratio "(>=90%)" \
    "gateway p99" "nginx p99" ratio "(<=1.5x)"
for c in 4 16 64; do
    wrkrun "$c" "$url" -d1s > /dev/null # one environment per connection, warm
    wrkrun "$c" "http://127.0.0.1:$npx/" -d1s > /dev/null
    gr=""; gp=""; nr=""; npp=""
    for _ in $(seq "$RUNS"); do
        out=$(wrkrun "$c" "$url"); gr="$gr $(echo "$out" | rps)"; gp="$gp $(echo "$out" | pct 99)"
        out=$(wrkrun "$c" "http://127.0.0.1:$npx/"); nr="$nr $(echo "$out" | rps)"; npp="$npp $(echo "$out" | pct 99)"
    done
    echo "gateway: $c connections, each run: gateway req/s$gr p99 us$gp | nginx req/s$nr p99 us$npp" >> "$tmp/runs"
    awk -v c="$c" -v gr="$(echo $gr | median)" -v nr="$(echo $nr | median)" \
        -v gp="$(echo $gp | median)" -v np="$(echo $npp | median)" 'BEGIN {
        r = gr / nr; p = gp / np
        printf "gateway: %5d | %13.0f %13.0f %5.0f%% %-8s | %7.0f us %7.0f us %5.2fx %-8s\n", c, gr, nr, 100 * r,
               (r >= 0.9 ? "ok" : "MISSED"), gp, np, p, (c == 64 ? (p <= 1.5 ? "ok" : "MISSED") : "-") }'
done
cat "$tmp/runs"

# memory per idle client connection
"$PY" bench/idleconns.py "${base##*:}" "$gw" "$IDLE" /hello > "$tmp/idle" 2>&1 || true
while read -r line; do
    set -- $line
    mode=${2#mode=}; open=${4#open=}; kb=${!#}; kb=${kb#kb_per_conn=}
    printf 'gateway: idle client connections (%s): %s of %s held open, VmRSS %s -> %s kB: %s KB per connection (goal <= 16)\n' \
        "$([ "$mode" = none ] && echo "nothing sent" || echo "after one request each")" "$open" "${3#conns=}" \
        "$(echo "$line" | sed -nE 's/.*rss0_kb=([0-9]+).*/\1/p')" "$(echo "$line" | sed -nE 's/.*rss1_kb=([0-9]+).*/\1/p')" "$kb"
done < <(grep '^idle: ' "$tmp/idle")
grep -q '^idle: ' "$tmp/idle" || echo "gateway: idle connections: $(tail -3 "$tmp/idle")"
kill "$gw"; wait "$gw" 2>/dev/null || true

# resident memory per NER environment
mkdir -p "$tmp/pkg/NerFunction"; cp "$B/bootstrap" "$MODEL" "$tmp/pkg/NerFunction/"
"$NERD" local start-api --template template.yaml --build-dir "$tmp/pkg" --port 0 --no-limits \
    > "$tmp/ner.log" 2>&1 & gw=$!; pids="$pids $gw"
url=$(listening_url "$tmp/ner.log")/ner
g0=$(rss_kb "$gw")
wrk -t1 -c"$ENVS" -d2s -s bench/post.lua "$url" > /dev/null 2>&1
sleep 0.3
g1=$(rss_kb "$gw")
n=0; rss=0; pss=0
for k in $(pgrep -P "$gw"); do
    r=$(rss_kb "$k"); p=$(awk '/^Pss:/ { print $2 }' "/proc/$k/smaps_rollup" 2>/dev/null || echo 0)
    n=$((n + 1)); rss=$((rss + r)); pss=$((pss + ${p:-0}))
done
awk -v n="$n" -v r="$rss" -v p="$pss" -v g="$((g1 - g0))" -v c="$ENVS" 'BEGIN {
    if (!n) { print "gateway: NER environments: none found"; exit }
    printf "gateway: NER function, %d environments warm after %d concurrent connections: VmRSS %.1f MB per environment (%.1f MB in all), PSS %.1f MB per environment (%.1f MB in all, the shared model counted once); goal <= 16 MB: %s; the gateway itself grew %.0f KB per environment\n",
        n, c, r / n / 1024, r / 1024, p / n / 1024, p / 1024, (p / n <= 16384 ? "ok (PSS)" : "MISSED"), g / n }'
