#!/usr/bin/env bash
# `make lab`: the AWS lab's tasks 2-5 (../shared/seeds/lambda-speedup-lab.txt)
# against its products API (lab/template.yaml) on the local platform, in
# order, each on a fresh `nerd local start-api` with a fresh DynamoDB
# directory (as after a deployment: the load meets cold environments and an
# empty table), loaded by `nerd bench --scenario lab-products` (the lab's
# Locust load: 100 users spawned at 3/s, held 30 s, no think time; each user
# creates, gets, lists and deletes products):
#
#   task2  MemorySize=128                         the baseline
#   task3  MemorySize=3008                        memory (and CPU) up
#   task4  ... ProvisionedConcurrency=PEAK        PEAK: the largest
#          ConcurrentExecutions that task 3 showed (the lab's "about 40")
#   task5  ... ReservedConcurrency=RESERVED       the lab gives no number:
#          100, one per Locust user (>= the provisioned PEAK)
#
# Then loadgen/lab_results.py writes the results page (docs/lab-results.md).
#
#   loadgen/lab.sh NERD BUILD_DIR OUT_DIR [TIME_SCALE] [RUNTIMES] [TASKS]
#
# NERD: the nerd binary; BUILD_DIR: sam build's layout for the C function
# (BUILD_DIR/ProductApiFunction/bootstrap, `make build-ProductApiFunction`);
# OUT_DIR: one run folder per task and runtime, OUT_DIR/RUNTIME-taskN
# (nerd bench's CSV files, report.html, summary.json, provider_metrics.json,
# plus provider_60s.json: the platform's per-minute series for the window,
# parameters.txt, limits.txt, loadavg.txt (the machine's load average when
# the task started) and log_summary.json: what the platform's
# START/END/REPORT lines say, from which the platform log itself is then
# deleted, as it holds three lines per request).  TIME_SCALE (default 1)
# goes to `nerd bench --time-scale`: durations times X, spawn rate over X.
# RUNTIMES (default "c"): each task runs once per runtime; "python" adds
# the template parameter ProductsRuntime=python (the Python version of the
# function, run from the template's CodeUri as it is, without BUILD_DIR).
# TASKS (default "2 3 4 5"): a subset (task 4 needs task 3's folder).
set -eu
NERD=${1:?nerd binary}; BUILD_DIR=${2:?build dir}; OUT=${3:?output dir}
SCALE=${4:-1}; RUNTIMES=${5:-c}; TASKS=${6:-2 3 4 5}
RESERVED=${LAB_RESERVED:-100}
. tools/listening.sh
mkdir -p "$OUT"
gw=; data=
trap '[ -n "$gw" ] && kill "$gw" 2>/dev/null; wait 2>/dev/null; [ -n "$data" ] && rm -rf "$data"; true' EXIT

# the largest ConcurrentExecutions in a run folder's provider metrics
peak() {
    python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
print(max([x["ConcurrentExecutions"] for s in d["functions"].values() for x in s] or [1]) or 1)' \
        "$OUT/$1/provider_metrics.json"
}

for rt in $RUNTIMES; do
    for task in $TASKS; do
        id=$rt-task$task
        case $task in
            2) params="MemorySize=128" ;;
            3) params="MemorySize=3008" ;;
            4) params="MemorySize=3008 ProvisionedConcurrency=$(peak "$rt-task3")" ;;
            5) params="MemorySize=3008 ProvisionedConcurrency=$(peak "$rt-task3") ReservedConcurrency=$RESERVED" ;;
            *) echo "lab: no task $task (2 to 5)" >&2; exit 2 ;;
        esac
        build=(--build-dir "$BUILD_DIR")
        case $rt in
            c) ;;
            python) params="$params ProductsRuntime=python"; build=() ;;
            *) echo "lab: unknown runtime '$rt' (c or python)" >&2; exit 2 ;;
        esac
        log="$OUT/$id.platform.log"
        data=$(mktemp -d "${TMPDIR:-/tmp}/nerd-lab-ddb.XXXXXX")
        # shellcheck disable=SC2086 # params: one NAME=VALUE per word
        "$NERD" local start-api --template lab/template.yaml "${build[@]}" --port 0 \
            --dynamodb-port 0 --dynamodb-dir "$data" --parameter-overrides $params > "$log" 2>&1 &
        gw=$!
        # provisioned environments initialise before the gateway listens: a
        # Python one takes about half a second of this machine's CPU
        url=$(listening_url "$log" 300) || { echo "lab: $id: the platform did not start:" >&2; tail -5 "$log" >&2; exit 1; }
        echo "lab: $id: $params, time scale $SCALE" >&2
        rm -rf "${OUT:?}/$id"
        load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || true)
        "$NERD" bench --host "$url/Prod" --scenario lab-products --time-scale "$SCALE" \
            --out "$OUT/$id" --seed 1 --quiet
        read -r from to < <(python3 -c 'import json,math,sys; s=json.load(open(sys.argv[1]))
print(math.floor(s["reset_epoch"]), math.ceil(s["end_epoch"]))' "$OUT/$id/summary.json")
        curl -sf "$url/__nerd/metrics/json?from=$from&to=$to&period=60" > "$OUT/$id/provider_60s.json"
        printf '%s\n' $params > "$OUT/$id/parameters.txt"
        echo "$load" > "$OUT/$id/loadavg.txt"
        kill -TERM "$gw"; wait "$gw" || true; gw=
        rm -rf "$data"; data=
        head -1 "$log" > "$OUT/$id/limits.txt"
        python3 loadgen/lab_results.py --log-summary "$log" > "$OUT/$id/log_summary.json"
        rm -f "$log"
    done
done
