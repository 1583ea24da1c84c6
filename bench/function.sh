#!/usr/bin/env bash
# `make bench`, function part: the NER function on the study's sentence,
# measured three ways in the same run on this machine —
#   (a) the engine in process on every core (bench/calls.c), the ceiling;
#   (b) HTTP mode (`bootstrap --http`), driven by wrk;
#   (c) through the local platform (`nerd local start-api`, template.yaml,
#       limits off), driven by wrk;
# then p50/p99 at half of (c)'s maximum (bench/openloop.c, open loop, 1 s
# warm-up), the function's cold start (Init Duration: exec of bootstrap to
# its first /next, model loaded) over 20 `nerd local invoke` runs, and the
# resident memory of an environment after requests.
set -eu
NERD=${1:-build/nerd}; MODEL=${2:-models/en_core_web_sm-2.2.5.nerd}
B=$(dirname "$NERD")
DUR=${BENCH_SECONDS:-5}
TEXT="Alan Turing was born on June 23, 1912, in London, England."
. bench/common.sh
# bestc URL: the connection count (2, 4 or 8) with the most req/s
bestc() {
    local b=0 bc=2 r
    for c in 2 4 8; do
        r=$(wrk -t1 -c"$c" -d"${DUR}s" -s bench/post.lua "$1" 2>&1 | rps)
        if awk -v a="$r" -v b="$b" 'BEGIN { exit !(a > b) }'; then b=$r; bc=$c; fi
    done
    echo "$bc"
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

port=$(freeport)
"$B/bootstrap" --http --host 127.0.0.1 --port "$port" --model "$MODEL" > "$tmp/http.log" 2>&1 & hp=$!; pids="$pids $hp"
listening_url "$tmp/http.log" > /dev/null
burl="http://127.0.0.1:$port/ner"
mkdir -p "$tmp/pkg/NerFunction"; cp "$B/bootstrap" "$MODEL" "$tmp/pkg/NerFunction/"
"$NERD" local start-api --template template.yaml --build-dir "$tmp/pkg" --port 0 --no-limits \
    > "$tmp/gw.log" 2>&1 & gw=$!; pids="$pids $gw"
url=$(listening_url "$tmp/gw.log")/ner
# each server's best connection count, then ROUNDS rounds of (a), (b), (c)
# in turn: this VM's speed drifts by 10% and more from minute to minute, so
# each round's ratios are taken within the round, and their medians given
bc=$(bestc "$burl"); cc=$(bestc "$url")
ra=""; rb=""; rc=""; pb=""; pc=""
for i in $(seq "${ROUNDS:-3}"); do
    a=$("$B/calls" "$MODEL" "$(nproc)" "$DUR" "$TEXT" | sed -nE 's/.*: ([0-9.]+) calls\/s/\1/p')
    b=$(wrk -t1 -c"$bc" -d"${DUR}s" -s bench/post.lua "$burl" 2>&1 | rps)
    c=$(wrk -t1 -c"$cc" -d"${DUR}s" -s bench/post.lua "$url" 2>&1 | rps)
    echo "function: round $i: (a) $a calls/s, (b) $b req/s ($bc connections), (c) $c req/s ($cc connections): (b) $(awk -v x="$b" -v y="$a" 'BEGIN { printf "%.0f", 100 * x / y }')%, (c) $(awk -v x="$c" -v y="$a" 'BEGIN { printf "%.0f", 100 * x / y }')% of (a)"
    ra="$ra $a"; rb="$rb $b"; rc="$rc $c"
    pb="$pb $(awk -v x="$b" -v y="$a" 'BEGIN { printf "%.4f", x / y }')"
    pc="$pc $(awk -v x="$c" -v y="$a" 'BEGIN { printf "%.4f", x / y }')"
done
kill "$hp"; wait "$hp" 2>/dev/null || true
a=$(echo $ra | median); b=$(echo $rb | median); c=$(echo $rc | median)
echo "function: (a) engine in process, $(nproc) threads: $a calls/s (median of the rounds)"
echo "function: (b) HTTP mode (bootstrap --http): $b req/s; median of the rounds' ratios $(echo $pb | median | awk '{ printf "%.0f", 100 * $1 }')% of (a) (goal >= 80%)"
echo "function: (c) through the local platform: $c req/s; median of the rounds' ratios $(echo $pc | median | awk '{ printf "%.0f", 100 * $1 }')% of (a) (goal >= 60%)"
half=$(awk -v x="$c" 'BEGIN { printf "%d", x / 2 }')
printf '{"text":"%s"}' "$TEXT" > "$tmp/body.json"
# 16 environments, all warm first (cold starts are measured on their own below)
wrk -t1 -c16 -d1s -s bench/post.lua "$url" > /dev/null 2>&1
openloop_median "function: (c) at half its maximum ($half req/s, 16 connections)" \
    "$B/openloop" "$url" "$half" "$DUR" 16 "$tmp/body.json"
for k in $(pgrep -P "$gw"); do awk '/^VmRSS/ { print $2 }' "/proc/$k/status"; done | sort -n > "$tmp/rss"
awk '{ v[NR] = $1 } END { printf "function: resident memory per environment after the runs: %.1f-%.1f MB (%d environments)\n", v[1] / 1024, v[NR] / 1024, NR }' "$tmp/rss"
kill "$gw"; wait "$gw" 2>/dev/null || true

printf '{"text":"%s"}' "$TEXT" > "$tmp/ev.json"
for i in $(seq 20); do
    "$NERD" local invoke NerFunction --template template.yaml --build-dir "$tmp/pkg" --no-limits \
        --event "$tmp/ev.json" 2>&1 >/dev/null | grep -oE 'Init Duration: [0-9.]+' | awk '{ print $3 }'
done | sort -n > "$tmp/init"
awk '{ v[NR] = $1 } END { printf "function: cold start (exec to first /next, model loaded; %d starts): median %.2f ms, p95 %.2f ms\n", NR, v[int(NR / 2) + 1], v[int(NR * 0.95) + 1] }' "$tmp/init"
t=$(python3 - "$B/bootstrap" <<'PY'
import subprocess, sys, time
ts = []
for _ in range(21):
    t = time.perf_counter(); subprocess.run([sys.argv[1], "--help"], stdout=subprocess.DEVNULL); ts.append(time.perf_counter() - t)
print("%.2f" % (sorted(ts)[10] * 1000))
PY
)
echo "function: of which exec + dynamic linking of bootstrap (glibc only: $(ldd "$B/bootstrap" | wc -l) entries in ldd): median $t ms"
