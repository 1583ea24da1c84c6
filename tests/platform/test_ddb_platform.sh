#!/usr/bin/env bash
# The DynamoDB service inside the platform (docs/dynamodb.md): `nerd local
# start-api` with a template that has tables starts it ("dynamodb listening
# on ..."), creates AWS::Serverless::SimpleTable and AWS::DynamoDB::Table
# (GSI) tables, gives functions AWS_ENDPOINT_URL_DYNAMODB, credentials and
# the names !Ref / !GetAtt give; a function (tests/data/functions/ddb,
# Debian's boto3 in a custom runtime) writes and reads through it; Debian's
# AWS CLI and boto3 (resource API, paginator, batch writer, waiter) talk to
# it from outside; data survive a restart, a changed index is rebuilt with
# the items kept; the default port taken: another; `nerd local dynamodb
# --template` alone; template errors
# name file and line.  Usage: bash tests/platform/test_ddb_platform.sh NERD [SHARED]
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
case $NERD in /*) ;; *) NERD=$PWD/$NERD ;; esac
[ -x "$NERD" ] || give_up "no nerd CLI at $NERD"
[ -x /usr/bin/aws ] && /usr/bin/python3 -c 'import boto3' 2> /dev/null ||
    give_up "needs Debian's awscli and python3-boto3 (make test-deps)"
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1 \
    AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=1
T=tests/data/functions/ddb.yaml
D=$tmp/ddb

start() { # template: start-api with the service on a free port; sets url, durl
    start_gateway --template "$1" --no-limits --dynamodb-port 0 --dynamodb-dir "$D"
    durl=$(sed -nE 's/^dynamodb listening on (http:[^ ]*).*/\1/p' "$tmp/log")
    [ -n "$durl" ] || give_up "no 'dynamodb listening on' line: $(head -5 "$tmp/log")"
}
stop() {
    kill "$gw"; wait "$gw" 2> /dev/null
}
aws_() { timeout 60 /usr/bin/aws dynamodb --endpoint-url "$durl" "$@" --output json; }

# ---- validate shows the tables' CreateTable requests ----
out=$("$NERD" local validate --template $T 2>&1)
echo "$out" | grep -q '^table Items: {"AttributeDefinitions":\[{"AttributeName":"id","AttributeType":"S"}\],"KeySchema":\[{"AttributeName":"id","KeyType":"HASH"}\],"BillingMode":"PAY_PER_REQUEST","TableName":"Items"}$' &&
    ok || bad "validate: SimpleTable: $out"
echo "$out" | grep -q '^table Counters: .*"ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5},"TableName":"nerd-local-counters"}$' &&
    ok || bad "validate: SimpleTable with PrimaryKey and throughput: $out"
echo "$out" | grep -q '^table Orders: .*"GlobalSecondaryIndexes":\[{"IndexName":"byStatus"' && ok || bad "validate: GSI: $out"

# ---- start-api: the service, the tables, the function's variables ----
start $T
port=${durl##*:}
ok
env=$(curl -s -m 30 "$url/env")
exp=$(/usr/bin/python3 -c 'import json,sys; print(json.dumps({"AWS_ENDPOINT_URL_DYNAMODB":sys.argv[1],"TABLE_NAME":"Items","ORDERS":"nerd-orders","ORDERS_ARN":"arn:aws:dynamodb:us-east-1:123456789012:table/nerd-orders","SUB":"Items/arn:aws:dynamodb:us-east-1:123456789012:table/nerd-orders","AWS_ACCESS_KEY_ID":"local","AWS_SECRET_ACCESS_KEY":"local","AWS_SESSION_TOKEN":"local","AWS_REGION":"us-east-1"}, sort_keys=True))' "$durl")
got=$(echo "$env" | /usr/bin/python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))' 2>&1)
[ "$got" = "$exp" ] && ok || bad "function environment: $got (want $exp)"
tables=$(aws_ list-tables | tr -d ' \n')
[ "$tables" = '{"TableNames":["Items","nerd-local-counters","nerd-orders"]}' ] && ok || bad "list-tables: $tables"
desc=$(aws_ describe-table --table-name nerd-orders | tr -d ' \n')
case $desc in *'"IndexName":"byStatus"'*'"IndexStatus":"ACTIVE"'*'"TableStatus":"ACTIVE"'*) ok ;; *'"TableStatus":"ACTIVE"'*'"IndexName":"byStatus"'*) ok ;; *) bad "describe-table: $desc" ;; esac
# the function writes through the service (boto3 in the environment)
code=$(curl -s -m 30 -o "$tmp/put" -w '%{http_code}' "$url/put" -H 'content-type: application/json' -d '{"id":"a","n":"12.50"}')
[ "$code" = 200 ] && grep -q '"ok": true' "$tmp/put" && ok || bad "function put: $code $(cat "$tmp/put")"
code=$(curl -s -m 30 -o "$tmp/put" -w '%{http_code}' "$url/put" -H 'content-type: application/json' -d '{"id":"a"}')
[ "$code" = 409 ] && ok || bad "function put twice: $code $(cat "$tmp/put")"
got=$(curl -s -m 30 "$url/get?id=a")
[ "$got" = '{"id": {"S": "a"}, "n": {"N": "12.5"}}' ] && ok || bad "function get: $got"
got=$(aws_ get-item --table-name Items --key '{"id":{"S":"a"}}' | tr -d ' \n')
[ "$got" = '{"Item":{"id":{"S":"a"},"n":{"N":"12.5"}}}' ] && ok || bad "aws get-item: $got"
# the index, through the CLI
for i in 1 2 3; do
    aws_ put-item --table-name nerd-orders --item "{\"customerId\":{\"S\":\"c$i\"},\"orderTs\":{\"N\":\"$i\"},\"status\":{\"S\":\"open\"}}" > /dev/null || bad "put order $i"
done
got=$(aws_ query --table-name nerd-orders --index-name byStatus --key-condition-expression '#s = :o' \
      --expression-attribute-names '{"#s":"status"}' --expression-attribute-values '{":o":{"S":"open"}}' \
      --no-scan-index-forward --query 'Items[].customerId.S' | tr -d ' \n')
[ "$got" = '["c3","c2","c1"]' ] && ok || bad "GSI query descending: $got"

# ---- boto3 from outside: resource API, paginator, batch writer, waiter, errors ----
timeout 120 /usr/bin/python3 - "$durl" > "$tmp/boto3.out" 2>&1 <<'PY'
import sys
from decimal import Decimal
import boto3, botocore.config
url = sys.argv[1]
cfg = botocore.config.Config(retries={"max_attempts": 1})
res = boto3.resource("dynamodb", endpoint_url=url, region_name="us-east-1", config=cfg)
cl = res.meta.client
t = res.create_table(TableName="Boto", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                     {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "N"}],
                     BillingMode="PAY_PER_REQUEST")
t.wait_until_exists()                       # one DescribeTable: ACTIVE at once
print("status", t.table_status)
with t.batch_writer() as b:
    for i in range(60):
        b.put_item(Item={"pk": "p", "sk": i, "price": Decimal("0.1") * i, "name": "item %d" % i})
t.reload()
print("count", t.item_count)
pages = list(cl.get_paginator("query").paginate(TableName="Boto", KeyConditionExpression="pk = :p",
             ExpressionAttributeValues={":p": "p"}, PaginationConfig={"PageSize": 7}))
print("pages", len(pages), sum(p["Count"] for p in pages))
items = t.scan()["Items"]
print("sum", sum(i["price"] for i in items))
r = t.update_item(Key={"pk": "p", "sk": 3}, UpdateExpression="SET price = price + :d, #n = :n",
                  ExpressionAttributeNames={"#n": "name"},
                  ExpressionAttributeValues={":d": Decimal("0.05"), ":n": "renamed"},
                  ReturnValues="UPDATED_NEW")
print("updated", r["Attributes"]["price"], r["Attributes"]["name"])
try:
    t.put_item(Item={"pk": "p", "sk": 3}, ConditionExpression="attribute_not_exists(pk)")
except cl.exceptions.ConditionalCheckFailedException as e:
    print("error", e.response["Error"]["Code"], e.response["Error"]["Message"])
try:
    t.put_item(Item={"pk": "p", "sk": 4}, ConditionExpression="name = :n",
               ExpressionAttributeValues={":n": "x"})
except cl.exceptions.ClientError as e:
    print("error", e.response["Error"]["Code"], e.response["Error"]["Message"])
try:
    res.Table("Nope").get_item(Key={"pk": "x", "sk": 1})
except cl.exceptions.ResourceNotFoundException as e:
    print("error", e.response["Error"]["Code"], e.response["Error"]["Message"])
t.delete()
t.wait_until_not_exists()
print("deleted")
PY
want='status ACTIVE
count 60
pages 9 60
sum 177.0
updated 0.35 renamed
error ConditionalCheckFailedException The conditional request failed
error ValidationException Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: name
error ResourceNotFoundException Requested resource not found
deleted'
[ "$(cat "$tmp/boto3.out")" = "$want" ] && ok || bad "boto3: $(cat "$tmp/boto3.out")"
stop

# ---- a restart keeps the data; a changed index is rebuilt, items kept ----
sed 's/IndexName: byStatus/IndexName: byStatus2/' $T > "$tmp/changed.yaml"
cp -r tests/data/functions/ddb "$tmp/ddb-fn"
start $T
got=$(aws_ get-item --table-name Items --key '{"id":{"S":"a"}}' | tr -d ' \n')
[ "$got" = '{"Item":{"id":{"S":"a"},"n":{"N":"12.5"}}}' ] && ok || bad "after restart: $got"
grep -q 'definition changed' "$tmp/log" && bad "unchanged tables recreated: $(grep definition "$tmp/log")" || ok
stop
start "$tmp/changed.yaml"
grep -q '^dynamodb: table nerd-orders: its definition changed in the template: recreated (items kept when its key schema is the same)$' "$tmp/log" &&
    ok || bad "no redefinition line: $(grep dynamodb "$tmp/log")"
got=$(aws_ query --table-name nerd-orders --index-name byStatus2 --key-condition-expression '#s = :o' \
      --expression-attribute-names '{"#s":"status"}' --expression-attribute-values '{":o":{"S":"open"}}' \
      --query 'Count')
[ "$got" = 3 ] && ok || bad "rebuilt index: $got"
got=$(aws_ query --table-name nerd-orders --index-name byStatus --key-condition-expression '#s = :o' \
      --expression-attribute-names '{"#s":"status"}' --expression-attribute-values '{":o":{"S":"open"}}' 2>&1)
case $got in *'The table does not have the specified index: byStatus'*) ok ;; *) bad "old index: $got" ;; esac
stop
grep -q '^dynamodb: stopped (.*, 0 SQLITE_BUSY waits)$' "$tmp/log" && ok || bad "stop line: $(tail -3 "$tmp/log")"

# ---- start-api's default port 8000 taken: another one, the functions told ----
# (held here when free; when something else holds it, it is taken anyway)
/usr/bin/python3 -c 'import socket, time
s = socket.socket()
try:
    s.bind(("127.0.0.1", 8000)); s.listen()
except OSError:
    pass
print("held", flush=True); time.sleep(120)' > "$tmp/hold.log" 2>&1 &
hold=$!
pids="$pids $hold"
for _ in $(seq 100); do grep -qs held "$tmp/hold.log" && break; sleep 0.05; done
start_gateway --template $T --no-limits --dynamodb-dir "$tmp/d8000"
grep -q '^dynamodb: 127.0.0.1:8000 is in use: listening on another port$' "$tmp/log" && ok ||
    bad "no port-taken line: $(grep dynamodb "$tmp/log")"
durl=$(sed -nE 's/^dynamodb listening on (http:[^ ]*).*/\1/p' "$tmp/log")
case $durl in http://127.0.0.1:8000 | "") bad "listening on: '$durl'" ;; *) ok ;; esac
got=$(curl -s -m 30 "$url/env" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["AWS_ENDPOINT_URL_DYNAMODB"])' 2>&1)
[ "$got" = "$durl" ] && ok || bad "the function's endpoint: $got (want $durl)"
stop
# given explicitly, the port must be free
out=$(timeout 30 "$NERD" local start-api --template $T --port 0 --dynamodb-port 8000 \
      --dynamodb-dir "$tmp/d8000" 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q '^nerd local: dynamodb: 127.0.0.1:8000: Address already in use$' && ok ||
    bad "--dynamodb-port 8000 taken: $out"
kill $hold; wait $hold 2> /dev/null

# ---- nerd local dynamodb alone, with the template's tables ----
"$NERD" local dynamodb --port 0 --dir "$tmp/alone" --template $T > "$tmp/alone.log" 2>&1 &
apid=$!
pids="$pids $apid"
for _ in $(seq 100); do grep -qs "^dynamodb listening on" "$tmp/alone.log" && break; sleep 0.05; done
durl=$(sed -nE 's/^dynamodb listening on (http:[^ ]*).*/\1/p' "$tmp/alone.log")
tables=$(aws_ list-tables | tr -d ' \n')
[ "$tables" = '{"TableNames":["Items","nerd-local-counters","nerd-orders"]}' ] && ok || bad "alone: $tables"
code=$(curl -s -m 5 -o "$tmp/health" -w '%{http_code}' "$durl/")
[ "$code" = 200 ] && [ "$(cat "$tmp/health")" = "healthy: dynamodb.us-east-1.amazonaws.com " ] && ok ||
    bad "GET /: $code $(cat "$tmp/health")"
code=$(curl -s -m 5 -o "$tmp/noauth" -w '%{http_code}' "$durl/" -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
       -H 'Content-Type: application/x-amz-json-1.0' -d '{}')
[ "$code" = 400 ] && [ "$(cat "$tmp/noauth")" = '{"__type":"com.amazon.coral.service#MissingAuthenticationTokenException","message":"Request is missing Authentication Token"}' ] &&
    ok || bad "unsigned request: $code $(cat "$tmp/noauth")"
kill $apid; wait $apid 2> /dev/null

# ---- template errors name the file and line ----
bad_tpl() { # NAME WANT (a grep -E pattern) YAML
    printf '%s\n' "$3" > "$tmp/bad.yaml"
    local o
    o=$("$NERD" local validate --template "$tmp/bad.yaml" 2>&1)
    if [ $? -ne 0 ] && echo "$o" | grep -qE "$2"; then ok; else bad "$1: $o"; fi
}
FN='  F:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: ddb, Runtime: provided.al2023, Handler: x}'
bad_tpl "no key schema" 'bad.yaml:[0-9]+: Tab: 1 validation error detected: Value null at .keySchema. failed to satisfy constraint: Member must not be null' "Resources:
$FN
  Tab:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]"
bad_tpl "unknown property" 'bad.yaml:[0-9]+: KeySchemas: unknown key in T' "Resources:
$FN
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchemas: []"
bad_tpl "SimpleTable type" "bad.yaml:[0-9]+: Type: 'Text' is not String, Number or Binary" "Resources:
$FN
  T:
    Type: AWS::Serverless::SimpleTable
    Properties:
      PrimaryKey: {Name: k, Type: Text}"
bad_tpl "two tables, one name" 'table name same is used by A too' "Resources:
$FN
  A:
    Type: AWS::Serverless::SimpleTable
    Properties: {TableName: same}
  B:
    Type: AWS::Serverless::SimpleTable
    Properties: {TableName: same}"
bad_tpl "GetAtt of an unknown attribute" '!GetAtt T.Nope: a table has Arn and StreamArn' "Resources:
  F:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ddb
      Runtime: provided.al2023
      Handler: x
      Environment: {Variables: {X: !GetAtt T.Nope}}
  T:
    Type: AWS::Serverless::SimpleTable"
finish
