#!/usr/bin/env bash
# `make bench`, batch part: texts per second through `make run`'s server —
# `nerd local start-api --template template.yaml` (its limits as `make run`
# has them) serving the function packaged as `make build-NerFunction` does
# (bootstrap and the model) — with one text per request
# ({"text"}) against batches of 32 ({"texts": [32 texts]}), in the same run,
# driven by wrk.  The texts: the first 32 of the shared wnut17.dev.jsonl
# (short posts, read in place), else the study's sentence 32 times.  Each
# side at its best of 2, 4, 8 and 16 connections (one run each), then 3 rounds
# of one run of each side, interleaved; the medians of the 3 are quoted,
# with their ratio.  Runs with errors or non-2xx answers stop the bench.
# Last, the bound batching has on this machine: a request's CPU (cores /
# the single rate) over NER's own cost per text (in process, same texts).
# Usage: bench/batch.sh NERD MODEL [SHARED]; BENCH_SECONDS per run (5).
set -eu
NERD=${1:-build/nerd}; MODEL=${2:-models/en_core_web_sm-2.2.5.nerd}; SHARED=${3:-../shared}
B=$(dirname "$NERD")
DUR=${BENCH_SECONDS:-5}
N=32
. bench/common.sh

# as `make build-NerFunction` packages it
pkg=$tmp/pkg/NerFunction
mkdir -p "$pkg"
cp "$B/bootstrap" "$pkg/bootstrap"; chmod 755 "$pkg/bootstrap"
cp "$MODEL" "$pkg/"

ref=$SHARED/data/reference/wnut17.dev.jsonl
[ -f "$ref" ] || ref=
# two wrk scripts: the 32 texts one per request (in turn), and all 32 in one
python3 - "$ref" "$N" "$tmp" <<'PY'
import json, sys
ref, n, tmp = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if ref:
    texts = [json.loads(l)["text"] for _, l in zip(range(n), open(ref, encoding="utf-8"))]
else:
    texts = ["Alan Turing was born on June 23, 1912, in London, England."] * n
lua = lambda s: "[==[" + s + "]==]"
head = 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
bodies = ",\n".join(lua(json.dumps({"text": t})) for t in texts)
open(tmp + "/single.lua", "w").write(head + "local b = {" + bodies + "}\nlocal i = 0\n"
    "request = function() i = i % #b + 1; return wrk.format(nil, nil, nil, b[i]) end\n")
open(tmp + "/batch.lua", "w").write(head + "wrk.body = " + lua(json.dumps({"texts": texts})) + "\n")
open(tmp + "/texts100.txt", "w").write(("\n".join(t.replace("\n", " ") for t in texts) + "\n") * 100)
print("batch: %d texts, %d bytes in all (%s)" % (len(texts), sum(len(t.encode()) for t in texts),
      ref.split("/")[-1] if ref else "the study sentence"))
PY

"$NERD" local start-api --template template.yaml --build-dir "$tmp/pkg" --port 0 \
    > "$tmp/gw.log" 2>&1 & gw=$!; pids="$pids $gw"
url=$(listening_url "$tmp/gw.log")/ner
echo "batch: server: nerd local start-api --template template.yaml ($(head -1 "$tmp/gw.log" | cut -c1-120))"

# wrk once: requests/s, refusing runs with errors or non-2xx answers
run() { # SCRIPT CONNS
    local out
    out=$(wrk -t1 -c"$2" -d"${DUR}s" -s "$tmp/$1.lua" "$url" 2>&1)
    if echo "$out" | grep -qE 'Non-2xx|Socket errors'; then
        echo "batch: wrk $1 -c$2 had errors:" >&2; echo "$out" >&2; exit 1
    fi
    echo "$out" | rps
}
best_conns() { # SCRIPT -> the connection count of 2, 4, 8, 16 with the most requests/s
    local best=0 bc=2 r
    for c in 2 4 8 16; do
        r=$(run "$1" "$c")
        if awk -v a="$r" -v b="$best" 'BEGIN { exit !(a > b) }'; then best=$r; bc=$c; fi
    done
    echo "$bc"
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# every environment warm first (cold starts are function.sh's subject)
wrk -t1 -c16 -d1s -s "$tmp/single.lua" "$url" > /dev/null 2>&1
wrk -t1 -c16 -d1s -s "$tmp/batch.lua" "$url" > /dev/null 2>&1
sc=$(best_conns single); bc=$(best_conns batch)
# then 3 rounds of one single run and one batch run each, interleaved so
# that both sides see the same machine (other load comes and goes)
singles=""; batches=""; ratios=""
for _ in 1 2 3; do
    s=$(run single "$sc"); b=$(run batch "$bc")
    s=$(awk -v x="$s" 'BEGIN { printf "%.0f", x }'); b=$(awk -v x="$b" -v n="$N" 'BEGIN { printf "%.0f", x * n }')
    singles="$singles $s"; batches="$batches $b"
    ratios="$ratios $(awk -v b="$b" -v s="$s" 'BEGIN { printf "%.2f", b / s }')"
done
s_med=$(echo $singles | median); b_med=$(echo $batches | median)
echo "batch: one text per request: median of 3 runs $s_med texts/s (runs:$singles; $sc connections)"
echo "batch: $N texts per request: median of 3 runs $b_med texts/s (runs:$batches; $bc connections)"
awk -v b="$b_med" -v s="$s_med" -v n="$N" -v r="$ratios" 'BEGIN {
    printf "batch: ratio %d-text batches vs one text per request: %.1fx the texts/s (medians; per round:%s; goal >= 3x)\n", n, b / s, r }'
# the same-run bound: batching saves the per-request cost, not NER's own;
# NER of these texts in process (nerd extract, 100 x the 32 texts, minus
# its start-up; median of 3) against the CPU each single request takes
# (all cores / the single rate)
e_us=$(python3 - "$NERD" "$MODEL" "$tmp/texts100.txt" "$N" <<'PY'
import subprocess, sys, time
nerd, model, path, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def t(stdin):
    with open(stdin) as f:
        t0 = time.perf_counter(); subprocess.run([nerd, "extract", "--model", model], stdin=f, stdout=subprocess.DEVNULL, check=True)
        return time.perf_counter() - t0
runs = sorted(t(path) - t("/dev/null") for _ in range(3))
print("%.1f" % (runs[1] / (100 * n) * 1e6))
PY
)
awk -v e="$e_us" -v s="$s_med" -v c="$(nproc)" 'BEGIN {
    r = c * 1e6 / s
    printf "batch: bound: one text per request costs %.0f us of CPU (%d cores / %.0f texts/s); NER alone %.0f us per text (in process, same texts): batching can give at most %.1fx here\n", r, c, s, e, r / e }'
kill "$gw"; wait "$gw" 2>/dev/null || true
