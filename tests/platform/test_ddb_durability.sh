#!/usr/bin/env bash
# Durability of the DynamoDB service (docs/dynamodb.md): 16 clients write
# through the gateway to 16 environments of the test function
# (tests/data/functions/ddb: boto3 PutItem with attribute_not_exists), so
# 16 functions write to the service at once.  Round 1 stops the platform
# with SIGTERM: no SQLITE_BUSY was met, every acknowledged item is there.
# Round 2 kills the platform with SIGKILL in the middle of the load; after
# a restart every acknowledged PutItem is there and nothing else is (an
# item sent but never answered may or may not be: the kill came first),
# and SQLite finds the file whole.  Bounded: a round is stopped at most 32 s
# in.
# Usage: bash tests/platform/test_ddb_durability.sh NERD [SHARED]
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
case $NERD in /*) ;; *) NERD=$PWD/$NERD ;; esac
[ -x "$NERD" ] || give_up "no nerd CLI at $NERD"
/usr/bin/python3 -c 'import boto3' 2> /dev/null || give_up "needs Debian's python3-boto3 (make test-deps)"
T=tests/data/functions/ddb.yaml
D=$tmp/ddb

check() { # ROUND MIN: every acked id stored, every stored id attempted, MIN acked
    timeout 120 /usr/bin/python3 - "$durl" "$tmp/load" > "$tmp/check" 2>&1 <<'PY'
import sys, boto3, botocore.config
url, out = sys.argv[1], sys.argv[2]
c = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1", aws_access_key_id="local",
                 aws_secret_access_key="local", config=botocore.config.Config(retries={"max_attempts": 1}))
stored = set()
for page in c.get_paginator("scan").paginate(TableName="Items"):
    stored |= {i["id"]["S"] for i in page["Items"] if i["id"]["S"].startswith("w")}
acked = set(open(out + ".acked").read().split())
attempted = set(open(out + ".attempted").read().split())
print("acked", len(acked), "stored", len(stored), "attempted", len(attempted))
print("lost", sorted(acked - stored)[:5], len(acked - stored))
print("unknown", sorted(stored - attempted)[:5], len(stored - attempted))
PY
    sed -n 1p "$tmp/check" >&2
    grep -q '^lost \[\] 0$' "$tmp/check" && ok || bad "$1: acknowledged writes lost: $(cat "$tmp/check")"
    grep -q '^unknown \[\] 0$' "$tmp/check" && ok || bad "$1: items never written: $(cat "$tmp/check")"
    n=$(sed -n 's/^acked \([0-9]*\) .*/\1/p' "$tmp/check")
    [ "${n:-0}" -ge "$2" ] && ok || bad "$1: only ${n:-0} writes acknowledged"
}
start() {
    start_gateway --template $T --no-limits --dynamodb-port 0 --dynamodb-dir "$D"
    durl=$(sed -nE 's/^dynamodb listening on (http:[^ ]*).*/\1/p' "$tmp/log")
    [ -n "$durl" ] || give_up "no 'dynamodb listening on' line: $(head -5 "$tmp/log")"
}

# ROUND SIGNAL PREFIX: 16 writers; once 200 writes went through the function (at
# most 30 s) and 2 s more, the platform gets SIGNAL in the middle of the load
round() {
    local before
    before=$(grep -c '^START RequestId' "$tmp/log")
    timeout 120 /usr/bin/python3 tests/platform/ddb_writers.py "$url" 16 60 "$tmp/load" "$3" > "$tmp/w" 2>&1 &
    wpid=$!
    for _ in $(seq 300); do
        [ $(($(grep -c '^START RequestId' "$tmp/log") - before)) -ge 200 ] && break
        sleep 0.1
    done
    sleep 2
    kill -"$2" "$gw"
    wait "$gw" 2> /dev/null
    wait "$wpid" 2> /dev/null
    cat "$tmp/w" >&2
    envs=$(grep -c '^ddb runtime pid=' "$tmp/log")
    [ "$envs" -ge 8 ] && ok || bad "$1: only $envs environments wrote (16 clients)"
    # the runtimes die with the platform (PR_SET_PDEATHSIG): their groups go
    for p in $(logged_pids "$tmp/log"); do groups_exit "$p" || bad "$1: runtime $p outlived the platform"; done
}

start
round "round 1 (SIGTERM)" TERM a
grep -q '^dynamodb: stopped (.*, 0 SQLITE_BUSY waits)$' "$tmp/log" && ok ||
    bad "round 1: $(grep '^dynamodb: stopped' "$tmp/log")"
start
check "round 1 (SIGTERM)" 100
mv "$tmp/load.acked" "$tmp/r1.acked"; mv "$tmp/load.attempted" "$tmp/r1.attempted"

round "round 2 (SIGKILL)" KILL b
cat "$tmp/r1.acked" >> "$tmp/load.acked"; cat "$tmp/r1.attempted" >> "$tmp/load.attempted"
grep -q '^dynamodb: stopped' "$tmp/log" && bad "round 2: the service was not killed"
/usr/bin/python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])' \
    "$D/dynamodb.db" > "$tmp/integrity" 2>&1
[ "$(cat "$tmp/integrity")" = ok ] && ok || bad "integrity_check after SIGKILL: $(cat "$tmp/integrity")"
start
n1=$(wc -l < "$tmp/r1.acked")
check "round 2 (SIGKILL)" $((n1 + 100))
kill "$gw"; wait "$gw" 2> /dev/null
finish
