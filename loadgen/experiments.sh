#!/usr/bin/env bash
# `make experiments`: the study's table (../shared/seeds/serverless-ner-study.txt
# §5.6, §6) and the AWS lab's provisioned-concurrency step
# (../shared/seeds/lambda-speedup-lab.txt, tasks 2-4) run with the load lab
# against the local platform serving template.yaml — each experiment on a
# fresh `nerd local start-api` (so its warm-up meets cold environments, as
# a fresh deployment does), with the template parameters the study or the
# lab used — then loadgen/results.py writes docs/results.md from the run
# folders.
#
#   loadgen/experiments.sh NERD BUILD_DIR OUT_DIR [TIME_SCALE] [ONLY]
#
# NERD: the nerd binary; BUILD_DIR: sam build's layout (BUILD_DIR/NerFunction
# holds bootstrap and the model); OUT_DIR: one run folder per experiment
# plus provider_60s.json (the platform's per-minute series for the
# window).  TIME_SCALE (default 1: the study's real durations, about 70
# minutes in all) is passed to `nerd bench --time-scale`.  ONLY: a
# space-separated list of experiment ids to run (default: all).
set -eu
NERD=${1:?nerd binary}; BUILD_DIR=${2:?build dir}; OUT=${3:?output dir}
SCALE=${4:-1}; ONLY=${5:-}
. tools/listening.sh
mkdir -p "$OUT"
gw=
trap '[ -n "$gw" ] && kill "$gw" 2>/dev/null; wait 2>/dev/null || true' EXIT

# id, scenario, template parameter overrides
EXPERIMENTS="
light-a       light-a       MemorySize=1024
heavy-a       heavy-a       MemorySize=1024
light-b       light-b       MemorySize=1024
heavy-b       heavy-b       MemorySize=1024
heavy-b-512   heavy-b       MemorySize=512
light-c       light-c       MemorySize=1024
heavy-c       heavy-c       MemorySize=1024
very-heavy-a  very-heavy-a  MemorySize=1024
lab-128       lab-stress    MemorySize=128
lab-3008      lab-stress    MemorySize=3008
lab-3008-pc   lab-stress    MemorySize=3008,ProvisionedConcurrency=@lab-3008
"

# the largest ConcurrentExecutions in a run folder's provider metrics (the
# lab sets provisioned concurrency to the peak its previous run showed)
peak() {
    python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
print(max([x["ConcurrentExecutions"] for s in d["functions"].values() for x in s] or [1]))' \
        "$OUT/$1/provider_metrics.json"
}

while read -r id scn params <&3; do
    [ -n "$id" ] || continue
    if [ -n "$ONLY" ] && ! echo " $ONLY " | grep -q " $id "; then continue; fi
    overrides=()
    for kv in ${params//,/ }; do
        v=${kv#*=}
        if [ "${v#@}" != "$v" ]; then v=$(peak "${v#@}"); fi
        overrides+=("${kv%%=*}=$v")
    done
    log="$OUT/$id.platform.log"
    "$NERD" local start-api --template template.yaml --build-dir "$BUILD_DIR" --port 0 \
        --parameter-overrides "${overrides[@]}" > "$log" 2>&1 &
    gw=$!
    url=$(listening_url "$log" 20) || { echo "experiments: $id: the platform did not start:" >&2; tail -5 "$log" >&2; exit 1; }
    echo "experiments: $id: scenario $scn, ${overrides[*]}, time scale $SCALE" >&2
    rm -rf "$OUT/$id"
    "$NERD" bench --host "$url" --scenario "$scn" --time-scale "$SCALE" \
        --out "$OUT/$id" --seed 1
    # the provider's per-minute series for the same window, as CloudWatch
    # exported it for the study (60 s resolution)
    read -r from to < <(python3 -c 'import json,math,sys; s=json.load(open(sys.argv[1]))
print(math.floor(s["reset_epoch"]), math.ceil(s["end_epoch"]))' "$OUT/$id/summary.json")
    curl -sf "$url/__nerd/metrics/json?from=$from&to=$to&period=60" > "$OUT/$id/provider_60s.json"
    printf '%s\n' "${overrides[@]}" > "$OUT/$id/parameters.txt"
    head -1 "$log" > "$OUT/$id/limits.txt"
    kill -TERM "$gw"; wait "$gw" || true; gw=
done 3<<< "$EXPERIMENTS"
