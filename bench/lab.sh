#!/usr/bin/env bash
# `make bench`, the AWS lab's part: its products API (lab/template.yaml,
# the C function at the default 128 MB with the platform's limits on, as
# `make run-lab` serves it, and the platform's own DynamoDB service) at the
# lab's "about 200 requests per second", open loop (`nerd bench`, model
# open: each latency measured from the request's intended send time, so a
# stall shows), with the lab's mix (create, get, list a page of 20,
# delete: the request lines of scenarios/lab-products.scn).  BENCH_RUNS
# (3) runs of BENCH_LAB_SECONDS (10) after a 3 s warm-up each (the first
# meets the cold starts), medians.  Goals (issue 13): average <= 2 ms and
# p99 <= 10 ms, against the lab's customers' < 100 ms.
# Usage: bench/lab.sh NERD
set -eu
NERD=${1:-build/nerd}
PRODUCTS=$(cd "$(dirname "$NERD")" && pwd)/functions/products/bootstrap
SECS=${BENCH_LAB_SECONDS:-10}
RUNS=${BENCH_RUNS:-3}
RATE=200
. bench/common.sh
[ -x "$PRODUCTS" ] || { echo "lab: skipped (no $PRODUCTS: make all)"; exit 0; }
mkdir -p "$tmp/pkg/ProductApiFunction"; cp "$PRODUCTS" "$tmp/pkg/ProductApiFunction/bootstrap"
"$NERD" local start-api --template lab/template.yaml --build-dir "$tmp/pkg" --port 0 \
    --dynamodb-port 0 --dynamodb-dir "$tmp/ddb" > "$tmp/gw.log" 2>&1 & gw=$!; pids="$pids $gw"
base=$(listening_url "$tmp/gw.log" 20) || { echo "lab: the platform did not start" >&2; tail -5 "$tmp/gw.log" >&2; exit 1; }
{ echo "name lab-200"; echo "model open"; echo "connections 64"
  echo "warmup 3s rate $RATE"; echo "stage ${SECS}s rate $RATE"
  grep '^request ' scenarios/lab-products.scn; } > "$tmp/lab-200.scn"
echo "lab: the products API (lab/template.yaml, C, 128 MB, limits on) at $RATE req/s open loop," \
     "the lab's mix; ${SECS} s after a 3 s warm-up, $RUNS runs, $(nproc) cores"
for i in $(seq "$RUNS"); do
    "$NERD" bench --host "$base/Prod" --scenario "$tmp/lab-200.scn" --out "$tmp/run$i" --quiet --seed "$i" > /dev/null
    python3 - "$tmp/run$i/summary.json" <<'PY' | tee -a "$tmp/runs"
import json, sys
s = json.load(open(sys.argv[1]))
l, u = s["latency_ms"], s["uncorrected_latency_ms"]
print(f"{s['avg_ms']:.3f} {l['p99']:.3f} {s['requests']} {s['failures']} {s['rps']:.1f} {l['p50']:.3f} {l['max']:.3f} {u['p99']:.3f}")
PY
done > /dev/null
awk '{ printf "lab: run %d: %d requests, %d failures, %.1f req/s; avg %.3f ms, p50 %.3f ms, p99 %.3f ms, max %.3f ms (uncorrected p99 %.3f ms)\n",
       NR, $3, $4, $5, $1, $6, $2, $7, $8 }' "$tmp/runs"
cold=$(grep -c 'Init Duration' "$tmp/gw.log" || true)
sort -g -k1,1 "$tmp/runs" | awk -v n="$RUNS" 'NR == int((n + 1) / 2) { print $1 }' > "$tmp/avg"
sort -g -k2,2 "$tmp/runs" | awk -v n="$RUNS" 'NR == int((n + 1) / 2) { print $2 }' > "$tmp/p99"
awk -v a="$(cat "$tmp/avg")" -v p="$(cat "$tmp/p99")" -v c="$cold" -v r="$RATE" 'BEGIN {
    printf "lab: products API at %d req/s, 128 MB: median average %.3f ms (goal <= 2 ms: %s), median p99 %.3f ms (goal <= 10 ms: %s); the lab'"'"'s customers want < 100 ms; %d cold starts in all\n",
           r, a, a <= 2 ? "met" : "missed", p, p <= 10 ? "met" : "missed", c
}'
