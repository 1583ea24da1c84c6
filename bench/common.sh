# Shared by the bench scripts (bench/platform.sh, function.sh, loadgen.sh),
# sourced after `set -eu`: a temporary folder and the processes to stop at
# exit, a free loopback port, nginx's static reply as the baseline, and
# readers of wrk's output.
tmp=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# nginx (bench/nginx.conf, one worker) on a free port: sets np, waits until it answers
start_nginx() {
    np=$(freeport); mkdir -p "$tmp/nginx/tmp"
    sed "s/NGINX_PORT/$np/" bench/nginx.conf > "$tmp/nginx/nginx.conf"
    nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" & pids="$pids $!"
    for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$np/" && break; sleep 0.1; done
}
# wrk's Requests/sec; pct P: its P% latency line in microseconds (with --latency)
rps() { sed -nE 's/^Requests\/sec: +([0-9.]+).*/\1/p'; }
pct() { sed -nE "s/^ +$1% +([0-9.]+)(us|ms|s).*/\1 \2/p" | awk '{ v=$1; if ($2=="ms") v*=1000; if ($2=="s") v*=1e6; printf "%.0f", v }'; }
