# Shared by the bench scripts (bench/platform.sh, function.sh, loadgen.sh,
# restapi.sh, auth.sh),
# sourced after `set -eu`: a temporary folder and the processes to stop at
# exit, a free loopback port, listening_url (tools/listening.sh), nginx's
# static reply as the baseline, and readers of wrk's output.
tmp=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
. tools/listening.sh
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# nginx (bench/nginx.conf, one worker) on a free port: sets np, waits until it answers
start_nginx() {
    np=$(freeport); mkdir -p "$tmp/nginx/tmp"
    sed "s/NGINX_PORT/$np/" bench/nginx.conf > "$tmp/nginx/nginx.conf"
    nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" & pids="$pids $!"
    for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$np/" && break; sleep 0.1; done
}
# nginx as a reverse proxy (bench/nginx-proxy.conf, one worker, upstream
# keep-alive) in front of start_nginx's static reply: sets npx (call
# start_nginx first), waits until it answers
start_nginx_proxy() {
    npx=$(freeport); mkdir -p "$tmp/nginx-proxy/tmp"
    sed -e "s/NGINX_PORT/$npx/" -e "s/UPSTREAM_PORT/$np/" bench/nginx-proxy.conf > "$tmp/nginx-proxy/nginx.conf"
    nginx -p "$tmp/nginx-proxy" -c "$tmp/nginx-proxy/nginx.conf" & pids="$pids $!"
    for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$npx/" && break; sleep 0.1; done
}
# wrk's Requests/sec; pct P: its P% latency line in microseconds (with --latency)
rps() { sed -nE 's/^Requests\/sec: +([0-9.]+).*/\1/p'; }
pct() { sed -nE "s/^ +$1% +([0-9.]+)(us|ms|s).*/\1 \2/p" | awk '{ v=$1; if ($2=="ms") v*=1000; if ($2=="s") v*=1e6; printf "%.0f", v }'; }
# openloop_median LABEL OPENLOOP URL RATE SECONDS CONNS [BODY]: three
# bench/openloop.c runs (1 s warm-up each), each printed after LABEL, then
# the median of their corrected p99s: this VM stalls for 5-10 ms now and
# then (nginx's own tail shows it), so one 5 s run's p99 is noisy.
openloop_median() {
    local label=$1 bin=$2; shift 2
    local out p99s=""
    for _ in 1 2 3; do
        out=$(OPENLOOP_WARMUP=1 "$bin" "$@")
        echo "$label: ${out#openloop: }"
        p99s="$p99s $(echo "$out" | sed -nE 's/.*[|] corrected p50 [0-9]+ p99 ([0-9]+) .*/\1/p' | head -1)"
    done
    echo "$label: median corrected p99 of 3 runs: $(echo $p99s | tr ' ' '\n' | sort -n | sed -n 2p) us"
}
# run NAME URL [WRK ARGS...]: one wrk run (-c$C, DUR seconds) against the
# gateway $gw; appends "req/s p99_us gateway_us runtimes_us" to $tmp/NAME,
# the last two the CPU time (utime + stime from /proc: less sensitive than
# requests/s to what else runs on the machine) per request of the gateway
# and of its runtimes; med NAME COLUMN: the median of a column of $tmp/NAME.
HZ=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
kid_ticks() { local s=0 k; for k in $(pgrep -P "$1"); do s=$((s + $(ticks "$k"))); done; echo "$s"; }
# run NAME URL [WRK ARGS...]: one wrk run; appends "req/s p99_us gateway_us
# runtimes_us" (CPU per request) to $tmp/NAME
run() {
    local name=$1 u=$2 out g0 f0 g1 f1; shift 2
    g0=$(ticks "$gw"); f0=$(kid_ticks "$gw")
    out=$(wrk -t1 -c"$C" -d"${DUR}s" --latency "$@" "$u" 2>&1)
    g1=$(ticks "$gw"); f1=$(kid_ticks "$gw")
    echo "$(echo "$out" | rps) $(echo "$out" | pct 99) $(echo "$out" | awk '/requests in/ { print $1 }')" \
         "$g0 $g1 $f0 $f1" | awk -v hz="$HZ" '{ printf "%s %s %.1f %.1f\n", $1, $2,
                                               ($5 - $4) * 1e6 / hz / $3, ($7 - $6) * 1e6 / hz / $3 }' >> "$tmp/$name"
}
# med NAME COLUMN: the median of a column of $tmp/NAME
med() { awk -v c="$2" '{ print $c }' "$tmp/$1" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
