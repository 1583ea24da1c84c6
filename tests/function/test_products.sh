#!/usr/bin/env bash
# The products API against a real DynamoDB endpoint, in C (function/products/)
# or, with NERD_PRODUCTS_RUNTIME=python (tests/lab/test_products_python.sh),
# in Python (lab/python/app.py, the template's ProductsRuntime=python): the
# same behaviour cases (3) for both.  The endpoint: $NERD_DDB_ENDPOINT when
# it is a URL (any DynamoDB endpoint, e.g. the platform's standalone `nerd
# local dynamodb` on a port of its own), else AWS's own DynamoDB Local
# started here (tests/ddblocal/ddblocal.sh, stopped at exit).
# NERD_DDB_ENDPOINT=platform (Python's default) uses the service `nerd local
# start-api` runs for the template's table instead (on a free port, data in
# the test's folder; its "dynamodb listening on URL" line gives the
# endpoint; NERD_LAB_START_ARGS adds options to start-api): no table is
# made and no endpoint passed.
#  1. C: `make build-ProductApiFunction` (what `sam build` runs for
#     lab/template.yaml) in a fresh build directory: bootstrap only;
#  2. the handler's own tests against the endpoint, their counts joining
#     this test's: C build/tests/function/test_products with
#     NERD_DDB_ENDPOINT (the handler end to end on a table of its own);
#     Python tests/lab/app_checks.py (the same cases for app.handler in
#     process: bodies, numbers, items, tokens, payload 1.0 and 2.0 events,
#     a table of its own, a missing table, an unreachable DynamoDB);
#  3. lab/template.yaml through `nerd local start-api` (REST API, stage
#     Prod) with this build's bootstrap or app.py, and the endpoint as the
#     template's LocalDynamoDBEndpoint: create → get → list in pages of 5
#     past the first page (every product once) → delete → 404, prices exact,
#     an item another tool wrote, bad bodies and requests answered with
#     their JSON errors (400, 405 with Allow, OPTIONS, 413, 415) and the REST
#     gateway's 403 for an unknown path; one cold start for all of it (a
#     warm environment answers every later request without a new init: for
#     Python, without importing app again); no error in the function's log;
#  4. C: the bootstrap without its configuration: exit 2 without a Runtime
#     API, and Runtime.ConfigInvalid (TABLE_NAME) through `nerd local
#     invoke`.
. tests/lib.sh
. tests/ddblocal/ddblocal.sh
BIN=$(dirname "$NERD")
RUNTIME=${NERD_PRODUCTS_RUNTIME:-c}
PBOOT=$BIN/functions/products/bootstrap
if [ "$RUNTIME" = python ]; then
    PY=${NERD_PYTHON:-/usr/bin/python3}
    "$PY" -c 'import boto3' 2> /dev/null || give_up "$PY cannot import boto3 (make test-deps: python3-boto3)"
    : "${NERD_DDB_ENDPOINT:=platform}"
    LAB=(--template lab/template.yaml --no-limits --parameter-overrides ProductsRuntime=python)
else
    [ "$RUNTIME" = c ] || give_up "NERD_PRODUCTS_RUNTIME is c or python, not $RUNTIME"
    [ -x "$PBOOT" ] || give_up "no $PBOOT (make all)"

    # 1. sam build's target, in a fresh build directory (without the sanitizer
    # flags `make san` passes down, as sam build runs it)
    env -u MAKEFLAGS -u MAKELEVEL -u EXTRA_CFLAGS make -s build-ProductApiFunction \
        ARTIFACTS_DIR="$tmp/sam/ProductApiFunction" BUILD="$tmp/build" > "$tmp/make.log" 2>&1 && ok ||
        bad "make build-ProductApiFunction: $(tail -5 "$tmp/make.log")"
    [ "$(ls -A "$tmp/sam/ProductApiFunction" 2>/dev/null | tr '\n' ' ')" = "bootstrap " ] && ok ||
        bad "the package should hold bootstrap only: $(ls -A "$tmp/sam/ProductApiFunction" | tr '\n' ' ')"

    # the lab's stack on the platform with this build's bootstrap
    mkdir -p "$tmp/pkg/ProductApiFunction"
    cp "$PBOOT" "$tmp/pkg/ProductApiFunction/bootstrap"
    LAB=(--template lab/template.yaml --no-limits --build-dir "$tmp/pkg")
fi

# the endpoint, and the lab's stack on the platform
if [ "${NERD_DDB_ENDPOINT:-}" = platform ]; then
    # shellcheck disable=SC2086
    start_gateway "${LAB[@]}" --dynamodb-port 0 --dynamodb-dir "$tmp/ddb" ${NERD_LAB_START_ARGS:-}
    DDB_ENDPOINT=$(sed -nE 's/^.*dynamodb listening on (http:[^ ]*).*$/\1/p' "$tmp/log" | head -1)
    [ -n "$DDB_ENDPOINT" ] || give_up "start-api printed no 'dynamodb listening on' line: $(head -5 "$tmp/log")"
else
    ddb_endpoint
    ct=$(ddb_call CreateTable '{"TableName":"ProductsTable","AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],"KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}') ||
        case $ct in *ResourceInUseException*) ;; *) bad "CreateTable ProductsTable: $ct" ;; esac
    start_gateway "${LAB[@]}" --parameter-overrides "LocalDynamoDBEndpoint=$DDB_ENDPOINT"
fi

# 2. the handler's own tests against the endpoint
if [ "$RUNTIME" = python ]; then
    out=$(timeout 300 "$PY" tests/lab/app_checks.py "$DDB_ENDPOINT" 2>&1); rc=$?
else
    out=$(NERD_DDB_ENDPOINT=$DDB_ENDPOINT timeout 300 "$BIN/tests/function/test_products" 2>&1); rc=$?
fi
line=$(printf '%s\n' "$out" | grep -E '^(test_products|app_checks): [0-9]+ passed, [0-9]+ failed' | tail -1)
if [ -n "$line" ]; then
    p=$(echo "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')
    f=$(echo "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')
    pass=$((pass + p)); fail=$((fail + f))
    [ "$rc" -eq 0 ] && [ "$f" -eq 0 ] || printf '%s\n' "$out" | grep -E '^FAIL' | head -20 >&2
else
    bad "the handler's tests did not finish (exit $rc): $(printf '%s\n' "$out" | tail -5)"
fi

# 3. the lab's products API through the gateway
P=$url/Prod/products
J='content-type: application/json'
code() { curl -s -m 30 -o "$tmp/b" -w '%{http_code}' "$@"; }
body() { cat "$tmp/b"; }
# exact STATUS BODY LABEL CURL-ARGS...: the answer is that status and body, byte for byte
exact() {
    local st=$1 want=$2 what=$3 got
    shift 3
    got=$(code "$@")
    [ "$got" = "$st" ] && [ "$(body)" = "$want" ] && ok || bad "$what: $got $(body)"
}

[ "$(code "$P" -H "$J" -d '{"id":"lab-1","name":"Coffee mug","price":12.50}')" = 201 ] &&
    [ "$(body)" = '{"id":"lab-1","name":"Coffee mug","price":12.5}' ] && ok || bad "create: $(body)"
[ "$(code "$P/lab-1")" = 200 ] && [ "$(body)" = '{"id":"lab-1","name":"Coffee mug","price":12.5}' ] && ok ||
    bad "get: $(body)"
ids="lab-1"
for i in $(seq 1 12); do
    c=$(code "$P" -H "$J" -d "{\"name\":\"Product $i\",\"price\":$i.50}")
    id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$tmp/b" 2>/dev/null)
    [ "$c" = 201 ] && [ ${#id} = 36 ] && grep -q "\"price\":$i.5}" "$tmp/b" && ok || bad "create $i: $c $(body)"
    ids="$ids $id"
done
[ "$(code "$P" -H "$J" -d '{"id":"lab-1","name":"again","price":1}')" = 409 ] &&
    [ "$(body)" = '{"error":"Conflict","message":"a product with id lab-1 exists"}' ] && ok || bad "409: $(body)"
# every page of 5, following next: each product exactly once, past the first page
python3 - "$P" $ids <<'PY' && ok || bad "list in pages of 5"
import json, sys, urllib.parse, urllib.request
url, want = sys.argv[1], sys.argv[2:]
seen, pages, nxt = [], 0, None
while True:
    q = {"limit": "5"}
    if nxt:
        q["next"] = nxt
    with urllib.request.urlopen(url + "?" + urllib.parse.urlencode(q), timeout=30) as r:
        assert r.status == 200 and r.headers["content-type"] == "application/json"
        page = json.load(r)
    pages += 1
    assert len(page["products"]) <= 5 and set(page) <= {"products", "next"}, page
    seen += [p["id"] for p in page["products"]]
    nxt = page.get("next")
    if not nxt:
        break
    assert pages < 100
mine = [s for s in seen if s in want]
assert sorted(mine) == sorted(want), (len(mine), len(want))
assert pages >= 3, pages
print(f"list: {len(seen)} products in {pages} pages of at most 5")
PY
[ "$(code -X DELETE "$P/lab-1")" = 200 ] && [ "$(body)" = '{"message":"Product deleted","id":"lab-1"}' ] && ok ||
    bad "delete: $(body)"
[ "$(code "$P/lab-1")" = 404 ] && [ "$(body)" = '{"error":"NotFound","message":"no product with id lab-1"}' ] && ok ||
    bad "404 after delete: $(body)"
[ "$(code -X DELETE "$P/lab-1")" = 404 ] && ok || bad "delete again: $(body)"

# exact prices and names as sent and as read back, and an item another tool
# wrote (every type, other attributes after id, name, price in key order)
exact 201 '{"id":"lab-2","name":"Zoë \"q\"","price":100}' "1e2" "$P" -H "$J" \
    -d '{"price":1e2,"name":"Zo\u00eb \"q\"","id":"lab-2"}'
exact 200 '{"id":"lab-2","name":"Zoë \"q\"","price":100}' "get 1e2" "$P/lab-2"
big=123456789012345678901234567890.12345678
exact 201 "{\"id\":\"lab-3\",\"name\":\"big\",\"price\":$big}" "38 digits" "$P" -H "$J" \
    -d "{\"id\":\"lab-3\",\"name\":\"big\",\"price\":${big}0}"
exact 200 "{\"id\":\"lab-3\",\"name\":\"big\",\"price\":$big}" "get 38 digits" "$P/lab-3"
tiny=0.$(printf '0%.0s' $(seq 129))1
exact 201 "{\"id\":\"lab-4\",\"name\":\"tiny\",\"price\":$tiny}" "1E-130" "$P" -H "$J" \
    -d '{"id":"lab-4","name":"tiny","price":1E-130}'
exact 200 "{\"id\":\"lab-4\",\"name\":\"tiny\",\"price\":$tiny}" "get 1E-130" "$P/lab-4"
exact 201 '{"id":"lab-5","name":"free","price":0}' "-0.0" "$P" -H "$J" -d '{"id":"lab-5","name":"free","price":-0.0}'
ddb_call PutItem '{"TableName":"ProductsTable","Item":{"id":{"S":"lab-w"},"price":{"N":"5"},
    "name":{"S":"Kettle"},"stock":{"N":"3"},"tags":{"SS":["a"]},"sizes":{"NS":["2.0"]},"bin":{"B":"AAEC"},
    "bs":{"BS":["AQI="]},"empty":{"M":{}},"meta":{"M":{"new":{"BOOL":true},"dims":{"L":[{"N":"1.50"},{"NULL":true}]}}}}}' \
    > "$tmp/put" && ok || bad "PutItem lab-w: $(cat "$tmp/put")"
exact 200 '{"id":"lab-w","name":"Kettle","price":5,"bin":"AAEC","bs":["AQI="],"empty":{},"meta":{"dims":[1.5,null],"new":true},"sizes":[2],"stock":3,"tags":["a"]}' \
    "another tool's item" "$P/lab-w"
for id in lab-2 lab-3 lab-4 lab-5 lab-w; do
    exact 200 "{\"message\":\"Product deleted\",\"id\":\"$id\"}" "delete $id" -X DELETE "$P/$id"
done

# bad requests, with their JSON errors
[ "$(code "$P" -H "$J" -d '{bad')" = 400 ] && grep -q '^{"error":"InvalidJSON","message":"the body is not valid JSON: ' "$tmp/b" && ok || bad "400 JSON: $(body)"
[ "$(code "$P" -H "$J" -d '{"name":"x"}')" = 400 ] &&
    [ "$(body)" = '{"error":"InvalidProduct","message":"the product has no \"price\""}' ] && ok || bad "400 price: $(body)"
[ "$(code "$P" -H "$J" -d '{"name":"x","price":"12.5"}')" = 400 ] && grep -q '"price\\" must be a number' "$tmp/b" && ok || bad "400 price string: $(body)"
[ "$(code "$P" -H "$J" -d '{"name":"x","price":-1}')" = 400 ] && grep -q 'must not be negative' "$tmp/b" && ok || bad "400 negative: $(body)"
[ "$(code "$P" -H "$J" -d '{"name":"x","price":1,"colour":"red"}')" = 400 ] && grep -q 'unknown field \\"colour\\"' "$tmp/b" && ok || bad "400 unknown field: $(body)"
[ "$(code "$P" -H 'content-type: text/plain' -d 'x')" = 415 ] &&
    [ "$(body)" = '{"error":"UnsupportedMediaType","message":"Content-Type must be application/json, not text/plain"}' ] && ok || bad "415: $(body)"
[ "$(code "$P" -H "$J" -d '{"name":"x","price":1,"name":"y"}')" = 400 ] &&
    grep -q '^{"error":"InvalidJSON","message":"the body is not valid JSON: duplicate object key' "$tmp/b" && ok ||
    bad "400 duplicate key: $(body)"
exact 400 '{"error":"InvalidRequest","message":"the body must be a JSON object: {\"name\": \"...\", \"price\": 12.5}"}' \
    "400 array" "$P" -H "$J" -d '[1]'
exact 400 '{"error":"InvalidProduct","message":"\"name\" must be a non-empty string of at most 1024 bytes"}' \
    "400 empty name" "$P" -H "$J" -d '{"name":"","price":1}'
exact 400 '{"error":"InvalidProduct","message":"\"price\" has more than 38 significant digits"}' \
    "400 39 digits" "$P" -H "$J" -d '{"name":"x","price":1.23456789012345678901234567890123456789}'
exact 400 '{"error":"InvalidProduct","message":"\"price\" is out of DynamoDB'"'"'s range (1E-130 to 9.9999999999999999999999999999999999999E+125)"}' \
    "400 1e126" "$P" -H "$J" -d '{"name":"x","price":1e126}'
exact 400 '{"error":"InvalidId","message":"id must be 1 to 128 characters of A-Z a-z 0-9 . _ ~ - (not . or ..)"}' \
    "400 body id" "$P" -H "$J" -d '{"id":"a/b","name":"x","price":1}'
[ "$(code -D "$tmp/h" -X PUT "$P" -H "$J" -d '{}')" = 405 ] && grep -qi '^allow: GET, POST, OPTIONS' "$tmp/h" &&
    [ "$(body)" = '{"error":"MethodNotAllowed","message":"PUT is not allowed here; use GET, POST, OPTIONS"}' ] &&
    ok || bad "405: $(body) $(cat "$tmp/h")"
[ "$(code -D "$tmp/h" -X PATCH "$P/x")" = 405 ] && grep -qi '^allow: GET, DELETE, OPTIONS' "$tmp/h" && ok || bad "405 item: $(body)"
[ "$(code -D "$tmp/h" -X OPTIONS "$P")" = 204 ] && grep -qi '^allow: GET, POST, OPTIONS' "$tmp/h" && [ ! -s "$tmp/b" ] &&
    ok || bad "OPTIONS: $(body) $(cat "$tmp/h")"
python3 -c 'import json; open("'"$tmp"'/big.json","w").write(json.dumps({"name": "n" * 70000, "price": 1}))'
[ "$(code "$P" -H "$J" --data-binary @"$tmp/big.json")" = 413 ] &&
    [ "$(body)" = '{"error":"PayloadTooLarge","message":"the body is 70024 bytes; the limit is 65536 bytes"}' ] && ok || bad "413: $(body)"
exact 400 '{"error":"InvalidId","message":"the id must be 1 to 128 characters of A-Z a-z 0-9 . _ ~ - (not . or ..)"}' \
    "400 id" "$P/bad%20id"
for q in limit=0 limit=101 limit=abc limit=; do
    exact 400 '{"error":"InvalidRequest","message":"limit must be a whole number from 1 to 100"}' "400 $q" "$P?$q"
done
exact 400 '{"error":"InvalidToken","message":"next is not a token this API gave"}' "400 token" "$P?next=xyz"
# a token of another key schema ({"sku":{"S":"x"}}): DynamoDB's ValidationException
[ "$(code "$P?next=eyJza3UiOnsiUyI6IngifX0")" = 400 ] &&
    grep -q '^{"error":"InvalidToken","message":"next does not fit this table'"'"'s key: ' "$tmp/b" && ok ||
    bad "400 token of another key: $(body)"
[ "$(code "$url/Prod/nope")" = 403 ] && [ "$(body)" = '{"message":"Missing Authentication Token"}' ] && ok || bad "403 unknown path: $(body)"

# the log: one cold start served everything, and no error from the function
for _ in $(seq 50); do [ "$(grep -c '^REPORT' "$tmp/log")" -ge 30 ] && break; sleep 0.1; done
[ "$(grep -c '^INIT_START' "$tmp/log")" = 1 ] && ok || bad "cold starts: $(grep -c '^INIT_START' "$tmp/log")"
errs=$(grep -E '^(products|bootstrap): |Runtime\.[A-Za-z]+|Sandbox\.|Task timed out|ERROR' "$tmp/log")
[ -z "$errs" ] && ok || bad "errors in the log: $errs"

[ "$RUNTIME" = c ] || finish

# 4. without configuration
env -i "$PBOOT" > "$tmp/o" 2>&1; rc=$?
[ $rc = 2 ] && grep -q '^products: AWS_LAMBDA_RUNTIME_API is not set$' "$tmp/o" && ok || bad "no Runtime API: $rc $(cat "$tmp/o")"
"$PBOOT" --help | grep -q 'TABLE_NAME' && ok || bad "--help"
mkdir -p "$tmp/noconf"
cp "$PBOOT" "$tmp/noconf/bootstrap"
cat > "$tmp/noconf.yaml" <<EOF
Resources:
  Products:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: $tmp/noconf, Handler: bootstrap, Runtime: provided.al2023}
EOF
"$NERD" local invoke --template "$tmp/noconf.yaml" --no-limits > "$tmp/o" 2> "$tmp/e"; rc=$?
[ $rc = 1 ] && grep -q '"errorType":"Runtime.ConfigInvalid"' "$tmp/o" && grep -q 'TABLE_NAME is not set' "$tmp/o" &&
    grep -q '^products: init failed: TABLE_NAME is not set' "$tmp/e" && ok || bad "no TABLE_NAME: $rc $(cat "$tmp/o") $(tail -3 "$tmp/e")"
finish
