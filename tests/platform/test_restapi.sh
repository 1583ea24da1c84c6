#!/usr/bin/env bash
# REST APIs (`Type: Api` events) through real processes and sockets:
# `nerd local start-api` serving tests/data/functions/rest.yaml, whose
# functions run a Python custom runtime (tests/data/functions/rest/bootstrap)
# that answers with the payload 1.0 result its `mode` query parameter picks.
# Checked against ../shared/specs/apigw-rest-auth-runtimes.md: every answer
# the gateway gives by itself (§1.5: status, body byte for byte,
# x-amzn-ErrorType, the request id headers), the routing table of §1.3, the
# 1.0 event field by field against the spec's captured one (§1.6:
# tests/data/functions/rest/capture.json holds its tail verbatim; ids, times
# and addresses aside), result mapping (§1.7), CORS as SAM sets it up,
# MethodSettings throttling (§1.9), --no-stage, and an HTTP API with
# PayloadFormatVersion 1.0 (§1.8).
. tests/lib.sh
T=tests/data/functions/rest.yaml
start_gateway --template "$T"
port=${url##*:}

uuid='^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'

# REST's own headers on every answer: x-amzn-RequestId (a UUID),
# x-amz-apigw-id, X-Amzn-Trace-Id; no HTTP API apigw-requestid
rest_headers() {
    [[ $(hdr x-amzn-RequestId) =~ $uuid ]] && [[ $(hdr x-amz-apigw-id) =~ ^[A-Za-z0-9_-]{15}=$ ]] &&
        [[ $(hdr X-Amzn-Trace-Id) =~ ^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$ ]] &&
        ! grep -qi '^apigw-requestid:' "$tmp/h"
}

# ---- the gateway's own answers (§1.5) ----
# what | METHOD | PATH | status | body (byte for byte) | x-amzn-ErrorType
while IFS='|' read -r what m p status body etype; do
    [ -z "$what" ] && continue
    req "$m" "$p" -H 'Accept: image/png'
    [ "$code" = "$status" ] && ok || bad "$what: $m $p: $code, want $status ($(cat "$tmp/b"))"
    [ "$(cat "$tmp/b")" = "$body" ] && ok || bad "$what: body '$(cat "$tmp/b")', want '$body'"
    [ "$(hdr x-amzn-ErrorType)" = "$etype" ] && ok || bad "$what: x-amzn-ErrorType '$(hdr x-amzn-ErrorType)'"
    [ "$(hdr Content-Type)" = application/json ] && ok || bad "$what: Content-Type $(hdr Content-Type)"
    [ "$(hdr Content-Length)" = "${#body}" ] && ok || bad "$what: Content-Length $(hdr Content-Length)"
    rest_headers && ok || bad "$what: request id headers: $(cat "$tmp/h")"
done <<'EOF'
unknown path|GET|/Prod/nope|403|{"message":"Missing Authentication Token"}|MissingAuthenticationTokenException
unknown method|DELETE|/Prod/products|403|{"message":"Missing Authentication Token"}|MissingAuthenticationTokenException
root of a greedy API|GET|/v1/|403|{"message":"Missing Authentication Token"}|MissingAuthenticationTokenException
preflight without Cors|OPTIONS|/Prod/products|403|{"message":"Missing Authentication Token"}|MissingAuthenticationTokenException
unknown stage|GET|/beta/products|403|{"message":"Forbidden"}|ForbiddenException
no stage|GET|/|403|{"message":"Forbidden"}|ForbiddenException
function error|GET|/Prod/products/1?mode=error|502|{"message": "Internal server error"}|InternalServerErrorException
runtime crash|GET|/Prod/products/1?mode=crash|502|{"message": "Internal server error"}|InternalServerErrorException
a 2.0 key (cookies)|GET|/Prod/products/1?mode=cookies|502|{"message": "Internal server error"}|InternalServerErrorException
body not a string|GET|/Prod/products/1?mode=bodyobj|502|{"message": "Internal server error"}|InternalServerErrorException
result not an object|GET|/Prod/products/1?mode=string|502|{"message": "Internal server error"}|InternalServerErrorException
Lambda throttle|GET|/Prod/throttled|500|{"message": "Internal server error"}|InternalServerErrorException
integration timeout|GET|/Prod/slow?mode=sleep|504|{"message": "Endpoint request timed out"}|InternalServerErrorException
base64 that is not|GET|/dev/items/1?mode=badb64|500|{"message": "Internal server error"}|InternalServerErrorException
EOF

# MethodSettings: GET /limited has a burst of 1 (and 0.01 a second)
req GET /dev/limited
[ "$code" = 200 ] && ok || bad "throttled route, first: $code"
req GET /dev/limited
[ "$code" = 429 ] && [ "$(cat "$tmp/b")" = '{"message":"Too Many Requests"}' ] &&
    [ "$(hdr x-amzn-ErrorType)" = TooManyRequestsException ] && rest_headers && ok ||
    bad "throttled route, second: $code $(cat "$tmp/b") $(hdr x-amzn-ErrorType)"
req GET /dev/items/7
[ "$code" = 200 ] && ok || bad "a route without its own MethodSettings is not throttled: $code"

# 413: the event over Lambda's 6 MB; the body over API Gateway's 10 MB
head -c 7000000 /dev/zero | tr '\0' 'a' > "$tmp/big"
req POST /Prod/products --data-binary @"$tmp/big" -H 'Content-Type: text/plain'
[ "$code" = 413 ] && [ "$(cat "$tmp/b")" = '{"message": "Request Too Long"}' ] &&
    [ "$(hdr x-amzn-ErrorType)" = BadRequestException ] && ok ||
    bad "7 MB: $code $(cat "$tmp/b") $(hdr x-amzn-ErrorType)"
python3 - "$port" > "$tmp/r413" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"POST /Prod/products HTTP/1.1\r\nHost: x\r\nContent-Length: 11000000\r\n\r\n")
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
sys.stdout.write(data.decode())
PY
grep -q $'^HTTP/1.1 413 ' "$tmp/r413" && grep -qi $'^content-type: text; charset=utf-8\r$' "$tmp/r413" &&
    [ "$(tail -c 44 "$tmp/r413")" = 'HTTP content length exceeded 10485760 bytes.' ] && ok ||
    bad "11 MB: $(cat "$tmp/r413")"

# ---- routing (§1.3): METHOD PATH | resource served | its path parameters ----
while IFS='|' read -r mp resource params; do
    [ -z "$mp" ] && continue
    m=${mp%% *} p=${mp#* }
    req "$m" "$p"
    got=$(python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); print(e["resource"] + "|" + json.dumps(e["pathParameters"], separators=(",",":")))' "$tmp/b" 2>/dev/null)
    [ "$code" = 200 ] && [ "$got" = "$resource|$params" ] && ok ||
        bad "$m $p: $code '$got', want '$resource|$params'"
done <<'EOF'
GET /v1/jobs/reboot|/jobs/{op}|{"op":"reboot"}
GET /v1/jobs|/{proxy+}|{"proxy":"jobs"}
POST /v1/jobs|/{proxy+}|{"proxy":"jobs"}
POST /v1/jobs/reboot|/{proxy+}|{"proxy":"jobs/reboot"}
GET /Prod/users/me|/users/{userId}|{"userId":"me"}
PATCH /Prod/users/me|/users/me|null
POST /Prod/things/real|/things/{proxy+}|{"proxy":"real"}
GET /Prod/things/real|/things/real|null
GET /Prod/things/a/b%20c|/things/{proxy+}|{"proxy":"a/b%20c"}
GET /Prod/products/|/products|null
GET /Prod|/|null
GET /Stage/products|/products|null
DELETE /Prod/products/9|/products/{id}|{"id":"9"}
EOF
req POST /Prod/users/me
[ "$code" = 403 ] && ok || bad "POST /users/me: $code (no method, no fallback)"
req GET /Stage/jobs/x # Jobs sets OpenApiVersion: SAM gives it no Stage stage
[ "$code" = 403 ] && [ "$(hdr x-amzn-ErrorType)" = MissingAuthenticationTokenException ] && ok ||
    bad "/Stage on an API with OpenApiVersion: $code"

# ---- the 1.0 event, field by field against the spec's capture (§1.6) ----
req POST /prod/no-auth -H 'User-Agent: HTTPie/3.2.2' -H 'X-Dup: a' -H 'X-Dup: b' -H 'X-Custom-Header: v'
[ "$code" = 200 ] && ok || bad "POST /prod/no-auth: $code"
python3 - "$tmp/b" tests/data/functions/rest/capture.json "$tmp/h" "$port" <<'PY' && ok || bad "event vs capture: $(cat "$tmp/b")"
import json, re, sys, time
ev = json.load(open(sys.argv[1]))
cap = json.load(open(sys.argv[2]))
hdrs = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in open(sys.argv[3]) if ":" in l}
port = sys.argv[4]
# ids, times, addresses and the API's name differ; each is checked for its form
aside = {"resourceId": r"[0-9a-z]{6}", "extendedRequestId": r"[A-Za-z0-9_-]{15}=",
         "requestTime": r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000",
         "requestId": r"[0-9a-f-]{36}", "deploymentId": r"[0-9a-z]{6}", "apiId": "capture",
         "domainPrefix": "capture", "domainName": r"capture\.execute-api\.us-east-1\.amazonaws\.com",
         "sourceIp": r"127\.0\.0\.1"}
def same(a, b, where):
    key = where.rsplit(".", 1)[-1]
    if key in aside:
        assert isinstance(a, str) and re.fullmatch(aside[key], a), (where, a)
    elif key == "requestTimeEpoch":
        assert isinstance(a, int) and abs(a - time.time() * 1000) < 60000, (where, a)
    elif isinstance(b, dict):
        assert isinstance(a, dict) and list(a) == list(b), (where, list(a), list(b))
        for k in b:
            same(a[k], b[k], where + "." + k)
    else:
        assert a == b, (where, a, b)
top = [k for k in ev if k not in ("headers", "multiValueHeaders")]
assert list(ev)[3:5] == ["headers", "multiValueHeaders"], list(ev)
same({k: ev[k] for k in top}, cap, "event")
assert "authorizer" not in ev["requestContext"]
assert ev["requestContext"]["requestId"] == hdrs["x-amzn-requestid"], hdrs
assert ev["requestContext"]["extendedRequestId"] == hdrs["x-amz-apigw-id"], hdrs
h, mv = ev["headers"], ev["multiValueHeaders"]
assert h["X-Custom-Header"] == "v" and h["User-Agent"] == "HTTPie/3.2.2", h
assert h["X-Dup"] == "b" and mv["X-Dup"] == ["a", "b"], (h, mv)
assert h["X-Forwarded-For"] == "127.0.0.1" and h["X-Forwarded-Proto"] == "http", h
assert h["X-Forwarded-Port"] == port, h
assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", h["X-Amzn-Trace-Id"]), h
assert all(mv[k][-1] == v for k, v in h.items()), (h, mv)
PY

# query, path parameters, stage variables, a text body; a binary body on an
# API with BinaryMediaTypes
req POST "/dev/upload?x=1&x=2&y=a%20b&e=" -H 'Content-Type: text/plain' --data-binary 'héllo'
python3 - "$tmp/b" <<'PY' && ok || bad "query, stage variables, text body: $(cat "$tmp/b")"
import json, sys
e = json.load(open(sys.argv[1]))
assert e["queryStringParameters"] == {"x": "2", "y": "a b", "e": ""}, e["queryStringParameters"]
assert e["multiValueQueryStringParameters"] == {"x": ["1", "2"], "y": ["a b"], "e": [""]}, e
assert e["stageVariables"] == {"table": "items-dev", "color": "blue"}, e["stageVariables"]
assert e["body"] == "héllo" and e["isBase64Encoded"] is False, e["body"]
assert e["requestContext"]["stage"] == "dev" and e["requestContext"]["path"] == "/dev/upload", e
assert e["pathParameters"] is None and e["resource"] == "/upload", e
PY
printf '\x89PNG\r\n\x1a\n\x00\xff' > "$tmp/png"
req POST /dev/upload -H 'Content-Type: image/png' --data-binary @"$tmp/png"
python3 - "$tmp/b" "$tmp/png" <<'PY' && ok || bad "binary body: $(cat "$tmp/b")"
import base64, json, sys
e = json.load(open(sys.argv[1]))
assert e["isBase64Encoded"] is True and base64.b64decode(e["body"]) == open(sys.argv[2], "rb").read(), e
PY
req GET /dev/items/1?mode=binary -H 'Accept: image/png'
cmp -s "$tmp/b" "$tmp/png" && [ "$(hdr Content-Type)" = image/png ] && ok ||
    bad "binary result for Accept: image/png: $(od -c "$tmp/b" | head -2)"
req GET /dev/items/1?mode=binary -H 'Accept: application/json'
[ "$(cat "$tmp/b")" = "$(base64 < "$tmp/png")" ] && ok || bad "binary result, text Accept: $(cat "$tmp/b")"
req GET /Prod/products/1?mode=binary -H 'Accept: image/png'
[ "$(cat "$tmp/b")" = "$(base64 < "$tmp/png")" ] && ok || bad "binary result without BinaryMediaTypes"

# result mapping (§1.7): headers and multiValueHeaders merged, statusCode default
req GET /Prod/products/1?mode=multi
[ "$code" = 201 ] && [ "$(cat "$tmp/b")" = multi ] && [ "$(hdr X-One)" = a ] &&
    [ "$(grep -ci '^X-Multi:' "$tmp/h")" = 2 ] && [ "$(grep -ci '^X-Dup: same' "$tmp/h")" = 1 ] &&
    [ "$(hdr Content-Type)" = application/json ] && rest_headers && ok || bad "multi: $code $(cat "$tmp/h")"
req GET /Prod/products/1?mode=nostatus
[ "$code" = 200 ] && [ "$(cat "$tmp/b")" = 'no status' ] && ok || bad "no statusCode: $code"

# CORS as SAM configures it: a MOCK OPTIONS on each path; nothing added to
# the function's answers
req OPTIONS /dev/items/1 -H 'Origin: https://app.example.com' -H 'Access-Control-Request-Method: GET'
[ "$code" = 200 ] && [ "$(cat "$tmp/b")" = '{}' ] &&
    [ "$(hdr Access-Control-Allow-Origin)" = https://app.example.com ] &&
    [ "$(hdr Access-Control-Allow-Methods)" = GET,OPTIONS ] &&
    [ "$(hdr Access-Control-Allow-Headers)" = Content-Type,X-Api-Key ] &&
    [ "$(hdr Access-Control-Max-Age)" = 600 ] && ! grep -qi '^Access-Control-Allow-Credentials' "$tmp/h" &&
    rest_headers && ok || bad "preflight: $code $(cat "$tmp/b") $(cat "$tmp/h")"
req GET /dev/items/1 -H 'Origin: https://app.example.com'
[ "$code" = 200 ] && ! grep -qi '^Access-Control-' "$tmp/h" && ok || bad "CORS headers added to a proxy answer"

kill "$gw"; wait "$gw" 2>/dev/null
rts=$(logged_pids "$tmp/log")
[ -n "$rts" ] && groups_exit $rts && ok || bad "runtimes left running: '$rts'"

# ---- --no-stage: the bare paths of `sam local start-api` ----
start_gateway --template "$T" --no-stage
req GET /products?x=1
python3 - "$tmp/b" <<'PY' && [ "$code" = 200 ] && ok || bad "--no-stage: $code $(cat "$tmp/b")"
import json, sys
e = json.load(open(sys.argv[1]))
assert e["path"] == "/products" and e["requestContext"]["stage"] == "Prod", e
assert e["requestContext"]["path"] == "/products", e["requestContext"]
PY
req GET /users/me
grep -q '"resource": "/users/{userId}"' "$tmp/b" && ok || bad "--no-stage routing: $(head -c 300 "$tmp/b")"
# several APIs at /: a resource that is not greedy wins, else the first API
# (Jobs' /{proxy+} takes what the others do not serve)
req GET /Prod/products
grep -q '"pathParameters": {"proxy": "Prod/products"}' "$tmp/b" && ok ||
    bad "--no-stage: a stage in the path is part of it: $(head -c 300 "$tmp/b")"
req POST /
[ "$code" = 403 ] && [ "$(cat "$tmp/b")" = '{"message":"Missing Authentication Token"}' ] &&
    [ "$(hdr x-amzn-ErrorType)" = MissingAuthenticationTokenException ] && ok ||
    bad "--no-stage POST /: $code $(cat "$tmp/b")"
kill "$gw"; wait "$gw" 2>/dev/null
rts=$(logged_pids "$tmp/log")
[ -n "$rts" ] && groups_exit $rts && ok || bad "runtimes left running (--no-stage): '$rts'"

# ---- an HTTP API with PayloadFormatVersion 1.0 (§1.8) ----
start_gateway --template tests/data/functions/httpv1.yaml
req GET "/v1/items/5?a=1&a=2" -H 'X-Mixed-Case: yes'
[ "$code" = 200 ] && [ -n "$(hdr apigw-requestid)" ] && ok || bad "HTTP API 1.0: $code"
python3 - "$tmp/b" <<'PY' && ok || bad "HTTP API 1.0 event: $(cat "$tmp/b")"
import json, sys
e = json.load(open(sys.argv[1]))
assert list(e)[0] == "version" and e["version"] == "1.0", list(e)
assert e["resource"] == "/v1/items/{id}" and e["path"] == "/v1/items/5", e
assert e["headers"]["x-mixed-case"] == "yes" and "X-Mixed-Case" not in e["headers"], e["headers"]
assert e["multiValueQueryStringParameters"] == {"a": ["1", "2"]}, e
assert e["queryStringParameters"] == {"a": "2"} and e["pathParameters"] == {"id": "5"}, e
c = e["requestContext"]
assert c["authorizer"] == {"claims": None, "scopes": None} and c["resourceId"] is None, c
assert c["stage"] == "$default" and c["path"] == "/v1/items/5" and "deploymentId" not in c, c
assert e["stageVariables"] is None and e["body"] is None, e
PY
# mode | status | body
while IFS='|' read -r mode status body; do
    [ -z "$mode" ] && continue
    req GET "/v1/items/5?mode=$mode"
    [ "$code" = "$status" ] && [ "$(cat "$tmp/b")" = "$body" ] && [ -z "$(hdr x-amzn-ErrorType)" ] && ok ||
        bad "HTTP API 1.0 mode=$mode: $code $(cat "$tmp/b")"
done <<'EOF'
error|500|{"message":"Internal Server Error"}
string|500|{"message":"Internal Server Error"}
nostatus|500|{"message":"Internal Server Error"}
cookies|200|x
EOF
req GET /v1/items/5?mode=binary
cmp -s "$tmp/b" "$tmp/png" && ok || bad "HTTP API 1.0 decodes base64 whatever Accept says"
req GET /nope
[ "$code" = 404 ] && [ "$(cat "$tmp/b")" = '{"message":"Not Found"}' ] && ok || bad "HTTP API 404: $code"
kill "$gw"; wait "$gw" 2>/dev/null
rts=$(logged_pids "$tmp/log")
[ -n "$rts" ] && groups_exit $rts && ok || bad "runtimes left running (HTTP 1.0): '$rts'"
finish
