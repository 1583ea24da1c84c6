#!/usr/bin/env bash
# Unmodified Node.js handlers (tests/data/functions/node/index.mjs behind an
# HTTP API, rest.mjs behind a REST API) run by AWS's own runtime interface
# client, npm's aws-lambda-ric (pinned in
# tests/platform/node/package-lock.json; its native client is built by its
# install script, which needs cmake, autoconf, automake, libtool and g++ from
# Debian), answering through `nerd local start-api` and `nerd local invoke`.
. tests/lib.sh
ric=$PWD/tests/platform/node
if [ ! -e "$ric/node_modules/aws-lambda-ric/rapid-client.node" ]; then
    # node-gyp builds the native client against the installed Node's headers
    # (Debian's libnode-dev) instead of downloading them from nodejs.org
    [ -e /usr/include/node/common.gypi ] && export npm_config_nodedir=/usr
    (cd "$ric" && npm ci --no-audit --no-fund) > /tmp/nerd-npm-ric.log 2>&1 ||
        give_up "npm ci aws-lambda-ric failed: $(tail -5 /tmp/nerd-npm-ric.log)"
fi
[ -e "$ric/node_modules/aws-lambda-ric/rapid-client.node" ] && ok ||
    give_up "aws-lambda-ric has no native client: $(tail -5 /tmp/nerd-npm-ric.log)"

T=tests/data/functions/node.yaml
start_gateway --template "$T" --parameter-overrides "RicDir=$ric"

code=$(curl -s -m 30 -D "$tmp/h" -o "$tmp/b" -w '%{http_code}' "$url/node/ada")
[ "$code" = 200 ] && ok || bad "GET /node/ada: $code $(cat "$tmp/b") $(tail "$tmp/log")"
grep -qi '^x-runtime: aws-lambda-ric' "$tmp/h" && ok || bad "handler's header"
python3 - "$tmp/b" <<'PY' && ok || bad "body: $(cat "$tmp/b")"
import json, re, sys
b = json.load(open(sys.argv[1]))
assert b["routeKey"] == "GET /node/{name}", b
assert b["name"] == "ada", b
assert b["functionName"] == "NodeFn", b
assert b["memory"] == "256", b
assert b["remainingMs"] is True, b
assert re.fullmatch(r"[0-9a-f-]{36}", b["requestId"]), b
PY
rid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["requestId"])' "$tmp/b")
for _ in $(seq 50); do grep -q "^REPORT RequestId: $rid" "$tmp/log" && break; sleep 0.1; done
grep -q "^START RequestId: $rid" "$tmp/log" && ok || bad "START line"
grep -q "^REPORT RequestId: $rid.*Init Duration: " "$tmp/log" && ok || bad "REPORT with Init Duration (cold)"
grep -q "node handler saw GET /node/{name}" "$tmp/log" && ok || bad "function output in the log"

# warm: the same environment answers again, no second init
code=$(curl -s -m 30 -o "$tmp/b2" -w '%{http_code}' "$url/node/grace")
[ "$code" = 200 ] && grep -q '"name":"grace"' "$tmp/b2" && ok || bad "second request: $code"
[ "$(grep -c '^INIT_START' "$tmp/log")" = 1 ] && ok || bad "warm reuse: $(grep -c '^INIT_START' "$tmp/log") inits"

# a thrown error: RIC posts /error; HTTP API answers 500
[ "$(curl -s -m 30 -w ' %{http_code}' "$url/node/fail")" = '{"message":"Internal Server Error"} 500' ] && ok || bad "error → 500"
code=$(curl -s -m 30 -o /dev/null -w '%{http_code}' "$url/node/again")
[ "$code" = 200 ] && ok || bad "serving after the error: $code"

# an unmodified REST handler (rest.mjs) behind a REST route: payload 1.0
code=$(curl -s -m 30 -D "$tmp/rh" -o "$tmp/rb" -w '%{http_code}' "$url/Prod/products/p7?tag=a&tag=b")
[ "$code" = 200 ] && ok || bad "GET /Prod/products/p7: $code $(cat "$tmp/rb") $(tail "$tmp/log")"
python3 - "$tmp/rb" <<'PY' && ok || bad "REST body: $(cat "$tmp/rb")"
import json, re, sys
b = json.load(open(sys.argv[1]))
assert b["id"] == "p7" and b["resource"] == "/products/{id}", b
assert b["stage"] == "Prod" and b["contextPath"] == "/Prod/products/p7", b
assert b["tags"] == ["a", "b"] and b["functionName"] == "NodeRest", b
assert re.fullmatch(r"[0-9a-f-]{36}", b["requestId"]), b
PY
[ "$(grep -ci '^X-Served-By:' "$tmp/rh")" = 2 ] && grep -qi '^x-amzn-RequestId: ' "$tmp/rh" && ok ||
    bad "REST headers: $(cat "$tmp/rh")"
[ "$(curl -s -m 30 -w ' %{http_code}' "$url/Prod/products/fail")" = '{"message": "Internal server error"} 502' ] &&
    ok || bad "REST: a thrown error → 502"

# nerd local invoke: the function error comes back in Lambda's shape
printf '{"rawPath":"/node/fail","routeKey":"GET /node/fail"}' > "$tmp/ev.json"
"$NERD" local invoke NodeFn --template "$T" --parameter-overrides "RicDir=$ric" --event "$tmp/ev.json" \
    > "$tmp/out" 2> "$tmp/err"
grep -q '"errorType":"TypeError"' "$tmp/out" && ok || bad "invoke error type: $(cat "$tmp/out") $(tail -3 "$tmp/err")"
grep -q '"errorMessage":"handler failed on purpose"' "$tmp/out" && ok || bad "invoke error message"
kill $gw; wait $gw 2>/dev/null
# the runtimes this test started (gateway and invoke), by the PIDs they logged
rts=$(logged_pids "$tmp/log" "$tmp/err")
[ "$(echo $rts | wc -w)" -ge 2 ] && ok || bad "node runtime pids logged: '$rts'"
groups_exit $rts && ok || bad "node runtimes left running in groups: $rts"
finish
