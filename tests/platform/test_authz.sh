#!/usr/bin/env bash
# Authorizers end to end (../shared/specs/apigw-rest-auth-runtimes.md §3):
# `nerd local start-api` serving tests/data/functions/authz.yaml, whose
# authorizer function (tests/data/functions/authz/bootstrap, a Python custom
# runtime) answers what its token asks for.  Each authorizer type allows,
# denies, throws, times out (its function's Timeout; the HTTP API's own 10 s)
# and is cached, and one's function is throttled, with the exact answers of
# §3.1.6 and §3.4 and requestContext.authorizer as the function receives it;
# invocations of the authorizer and of the backend are counted from the
# lines they log in the platform's log, so every refusal is shown to reach
# no function.  JWT and Cognito authorizers run with keys made here by
# `nerd local jwt`, read from a file (--jwks) and from a loopback issuer's
# /.well-known (python3's http.server); the security cases (alg none, HS256
# with the public key, expired, not yet valid, wrong issuer or audience,
# missing scope, unknown kid, truncated or non-base64url tokens, a 1 MB
# token, a policy for another method) are each refused with nothing
# reaching the backend.  CORS preflights: SAM's REST MOCK with and without
# the default authorizer, HTTP API preflights without it.
. tests/lib.sh
T=tests/data/functions/authz.yaml
ISS=https://issuer.example.com
POOL=arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_test
POOL_ISS=https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test
jwt() { "$NERD" local jwt "$@"; }

# keys, and a loopback issuer serving them
jwt --new-key "$tmp/k.pem" 2> /dev/null && jwt --key "$tmp/k.pem" --jwks > "$tmp/jwks.json" ||
    give_up "nerd local jwt could not make a key"
kid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["keys"][0]["kid"])' "$tmp/jwks.json")
mkdir -p "$tmp/idp/.well-known"
cp "$tmp/jwks.json" "$tmp/idp/.well-known/jwks.json"
(cd "$tmp/idp" && exec python3 -u -m http.server 0 --bind 127.0.0.1) > "$tmp/http.log" 2>&1 &
pids="$pids $!"
for _ in $(seq 100); do
    iport=$(sed -nE 's/^Serving HTTP on [^ ]+ port ([0-9]+).*/\1/p' "$tmp/http.log" 2>/dev/null)
    [ -n "$iport" ] && break
    sleep 0.1
done
[ -n "$iport" ] || give_up "python3 http.server did not start: $(cat "$tmp/http.log")"
LOOP=http://127.0.0.1:$iport

# a --jwks that cannot be read, or that names no authorizer: refused at start-up
out=$("$NERD" local start-api --template "$T" --port 0 --usage-db "$tmp/usage.sqlite3" --jwks "$ISS=$tmp/missing.json" 2>&1)
[ $? = 1 ] && [[ $out == *"authorizer Jwt: JWKS $tmp/missing.json: "* ]] && ok ||
    bad "a missing JWKS file: $out"
out=$("$NERD" local start-api --template "$T" --port 0 --usage-db "$tmp/usage.sqlite3" --jwks "nobody=$tmp/jwks.json" 2>&1)
[ $? = 1 ] && [[ $out == *"--jwks nobody=...: no JWT or Cognito authorizer"* ]] && ok ||
    bad "a --jwks naming no authorizer: $out"

start_gateway --template "$T" --usage-db "$tmp/usage.sqlite3" --parameter-overrides "LoopIssuer=$LOOP" \
    --jwks "$ISS=$tmp/jwks.json" --jwks "$POOL=$tmp/jwks.json"
port=${url##*:}

authz_n() { grep -c '^authz: ' "$tmp/log"; }
backend_n() { grep -c '^backend: ' "$tmp/log"; }
# requestContext.authorizer of the event the backend echoed, compact, with
# an integer integrationLatency shown as N (L0 when 0)
ctx_auth() {
    python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))["requestContext"].get("authorizer")
if isinstance(a, dict) and isinstance(a.get("integrationLatency"), int):
    a["integrationLatency"] = "L0" if a["integrationLatency"] == 0 else "N"
print(json.dumps(a, separators=(",", ":")))' "$tmp/b" 2>/dev/null
}
# check WHAT WANT_STATUS WANT_BODY AUTHZ_DELTA BACKEND_DELTA METHOD PATH [CURL ARGS...]
check() {
    local what=$1 st=$2 body=$3 da=$4 db=$5
    shift 5
    local a0 b0
    a0=$(authz_n); b0=$(backend_n)
    req "$@"
    sleep 0.1 # the runtimes' lines reach the log
    local a1 b1
    a1=$(authz_n); b1=$(backend_n)
    [ "$code" = "$st" ] && ok || bad "$what: status $code, want $st ($(head -c 300 "$tmp/b"))"
    [ -z "$body" ] || [ "$(cat "$tmp/b")" = "$body" ] && ok || bad "$what: body '$(head -c 300 "$tmp/b")', want '$body'"
    [ "$((a1 - a0))" = "$da" ] && ok || bad "$what: the authorizer ran $((a1 - a0)) times, want $da"
    [ "$((b1 - b0))" = "$db" ] && ok || bad "$what: the backend ran $((b1 - b0)) times, want $db"
}
U='{"message":"Unauthorized"}'
DENY='{"Message":"User is not authorized to access this resource"}'
XDENY='{"Message":"User is not authorized to access this resource with an explicit deny"}'
NULL500='{"message": null}'
FORBIDDEN='{"message":"Forbidden"}'
ISE='{"message":"Internal Server Error"}'

# ---- REST TOKEN authorizer (the API's default; ValidationExpression; cache 300 s) ----
check "TOKEN: no token" 401 "$U" 0 0 GET /prod/items/1
[ "$(hdr x-amzn-ErrorType)" = UnauthorizedException ] && [[ $(hdr x-amzn-RequestId) =~ ^[0-9a-f-]{36}$ ]] &&
    ok || bad "TOKEN 401 headers: $(cat "$tmp/h")"
check "TOKEN: not the ValidationExpression's" 401 "$U" 0 0 GET /prod/items/1 -H 'Authorization: Basic abc'
check "TOKEN: allow" 200 "" 1 1 GET /prod/items/1 -H 'Authorization: Bearer allow-a'
want='{"principalId":"user-allow-a","integrationLatency":"N","user":"allow-a","n":"7","ok":"true","pi":"0.5","none":null}'
[ "$(ctx_auth)" = "$want" ] && ok || bad "REST authorizer context: $(ctx_auth), want $want"
check "TOKEN: cached, another path" 200 "" 0 1 GET /prod/items/2 -H 'Authorization: Bearer allow-a'
want='{"principalId":"user-allow-a","integrationLatency":"L0","user":"allow-a","n":"7","ok":"true","pi":"0.5","none":null}'
[ "$(ctx_auth)" = "$want" ] && ok || bad "cached: $(ctx_auth), want $want"
check "TOKEN: cached, another method" 200 "" 0 1 POST /prod/items/2 -H 'Authorization: Bearer allow-a'
check "TOKEN: a policy for this method only" 200 "" 1 1 GET /prod/items/3 -H 'Authorization: Bearer onlythis-b'
check "TOKEN: that policy cached, another method" 403 "$DENY" 0 0 POST /prod/items/3 -H 'Authorization: Bearer onlythis-b'
[ "$(hdr x-amzn-ErrorType)" = AccessDeniedException ] && ok || bad "403 x-amzn-ErrorType $(hdr x-amzn-ErrorType)"
check "TOKEN: a policy for another method ARN" 403 "$DENY" 1 0 GET /prod/items/1 -H 'Authorization: Bearer other-c'
check "TOKEN: explicit deny" 403 "$XDENY" 1 0 GET /prod/items/1 -H 'Authorization: Bearer deny-d'
check "TOKEN: Unauthorized" 401 "$U" 1 0 GET /prod/items/1 -H 'Authorization: Bearer unauthorized-e'
check "TOKEN: Unauthorized is not cached" 401 "$U" 1 0 GET /prod/items/1 -H 'Authorization: Bearer unauthorized-e'
check "TOKEN: throws" 500 "$NULL500" 1 0 GET /prod/items/1 -H 'Authorization: Bearer throw-f'
[ "$(hdr x-amzn-ErrorType)" = AuthorizerConfigurationException ] && ok || bad "500 x-amzn-ErrorType $(hdr x-amzn-ErrorType)"
check "TOKEN: malformed answer" 500 "$NULL500" 1 0 GET /prod/items/1 -H 'Authorization: Bearer malformed-g'
check "TOKEN: an object in the context" 500 "$NULL500" 1 0 GET /prod/items/1 -H 'Authorization: Bearer ctxobj-h'
check "TOKEN: times out (Timeout 1 s)" 500 "$NULL500" 1 0 GET /prod/items/1 -H 'Authorization: Bearer sleep-i'
grep -q '^nerd: authorizer Token: ' "$tmp/log" && ok || bad "failures logged with the authorizer's name"
check "TOKEN: usageIdentifierKey" 200 "" 1 1 GET /prod/items/1 -H 'Authorization: Bearer key-j'
check "TOKEN: its function throttled (ReservedConcurrentExecutions 0)" 500 "$NULL500" 0 0 GET /prod/throttled -H 'Authorization: Bearer allow-z'
grep -q '^nerd: authorizer Throttled: its function is at its concurrency limit' "$tmp/log" && ok ||
    bad "the throttled authorizer logged: $(grep '^nerd: ' "$tmp/log" | tail -3)"
# ApiKeySourceType AUTHORIZER: the authorizer's usageIdentifierKey is the API key
check "key from the authorizer" 200 "" 1 1 GET /keyed/k -H 'Authorization: Bearer key-1'
got=$(python3 -c 'import json,sys; i=json.load(open(sys.argv[1]))["requestContext"]["identity"]; print(i["apiKey"], i["apiKeyId"])' "$tmp/b" 2>&1)
[ "$got" = "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk AuthKey" ] && ok || bad "identity.apiKey from the authorizer: $got"
check "no key from the authorizer" 403 "$FORBIDDEN" 1 0 GET /keyed/k -H 'Authorization: Bearer allow-2'
[ "$(hdr x-amzn-ErrorType)" = ForbiddenException ] && ok || bad "403 x-amzn-ErrorType $(hdr x-amzn-ErrorType)"
check "x-api-key does not count" 403 "$FORBIDDEN" 1 0 GET /keyed/k -H 'Authorization: Bearer allow-3' \
    -H 'x-api-key: kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk'
check "the authorizer first: no token, no key check" 401 "$U" 0 0 GET /keyed/k
check "no authorizer (Authorizer: NONE)" 200 "" 0 1 GET /prod/open
[ "$(ctx_auth)" = null ] && ok || bad "no authorizer, no requestContext.authorizer: $(ctx_auth)"

# ---- REST REQUEST authorizers: sources required with a cache, not without ----
check "REQUEST: a source missing" 401 "$U" 0 0 GET '/prod/req?q=1'
check "REQUEST: allow" 200 "" 1 1 GET '/prod/req?q=1' -H 'X-Token: allow-k'
check "REQUEST: cached" 200 "" 0 1 GET '/prod/req?q=1' -H 'X-Token: allow-k'
check "REQUEST: another query value is another key" 200 "" 1 1 GET '/prod/req?q=2' -H 'X-Token: allow-k'
check "REQUEST: deny" 403 "$XDENY" 1 0 GET '/prod/req?q=1' -H 'X-Token: deny-l'
check "REQUEST without cache: sources not required" 200 "" 1 1 GET /prod/req0
check "REQUEST without cache: invoked each time" 200 "" 1 1 GET /prod/req0

# ---- CORS preflights: SAM's MOCK has the default authorizer unless told not ----
P=(-H 'Origin: https://x.example' -H 'Access-Control-Request-Method: GET')
check "REST preflight without a token" 401 "$U" 0 0 OPTIONS /prod/items/1 "${P[@]}"
check "REST preflight with one" 200 '{}' 0 0 OPTIONS /prod/items/1 "${P[@]}" -H 'Authorization: Bearer allow-a'
check "REST preflight, AddDefaultAuthorizerToCorsPreflight false" 200 '{}' 0 0 OPTIONS /quiet/q "${P[@]}"
check "HTTP API preflight: no authorizer" 204 "" 0 0 OPTIONS /jwt "${P[@]}"

# ---- HTTP API Lambda authorizers ----
check "2.0: no identity" 401 "$U" 0 0 GET /v2
check "2.0: allow" 200 "" 1 1 GET /v2 -H 'Authorization: allow-m'
want='{"lambda":{"user":"allow-m","n":7,"ok":true,"pi":0.5,"none":null}}'
[ "$(ctx_auth)" = "$want" ] && ok || bad "2.0 authorizer: $(ctx_auth), want $want"
check "2.0: cached" 200 "" 0 1 GET /v2 -H 'Authorization: allow-m'
check "2.0: deny" 403 "$FORBIDDEN" 1 0 GET /v2 -H 'Authorization: deny-n'
check "2.0: Unauthorized is a failure" 500 "$ISE" 1 0 GET /v2 -H 'Authorization: unauthorized-o'
check "2.0: throws" 500 "$ISE" 1 0 GET /v2 -H 'Authorization: throw-p'
check "2.0: times out" 500 "$ISE" 1 0 GET /v2 -H 'Authorization: sleep-q'
check "2.0: a route's policy" 200 "" 1 1 GET /v2 -H 'Authorization: onlythis-r'
check "2.0: cached for another route" 403 "$FORBIDDEN" 0 0 POST /v2 -H 'Authorization: onlythis-r'
check "2.0 authorizer, 1.0 integration" 200 "" 1 1 GET /v2fmt1 -H 'Authorization: allow-s'
want='{"principalId":"user-allow-s","integrationLatency":"N","user":"allow-s","n":7,"ok":true,"pi":0.5,"none":null}'
[ "$(ctx_auth)" = "$want" ] && ok || bad "1.0 integration's authorizer: $(ctx_auth), want $want"
check "simple: yes" 200 "" 1 1 GET /simple -H 'Authorization: yes-t'
want='{"lambda":{"user":"yes-t","list":[1,2],"map":{"a":1}}}'
[ "$(ctx_auth)" = "$want" ] && ok || bad "simple response context: $(ctx_auth), want $want"
check "simple: cached" 200 "" 0 1 GET /simple -H 'Authorization: yes-t'
check "simple: no" 403 "$FORBIDDEN" 1 0 GET /simple -H 'Authorization: no-u'
# the HTTP API's own authorizer timeout (10 s) before the function's (15 s)
check "2.0: no answer within 10 s" 500 "$ISE" 1 0 GET /slow -H 'Authorization: longsleep-x'
grep -q '^nerd: authorizer Slow: no answer within 10000 ms' "$tmp/log" && ok ||
    bad "the authorizer timeout logged: $(grep '^nerd: ' "$tmp/log" | tail -3)"
sleep 1.5 # its late answer comes, and is dropped
check "1.0: allow" 200 "" 1 1 GET /v1 -H 'Authorization: allow-v'
check "1.0: no cache (ReauthorizeEvery 0)" 200 "" 1 1 GET /v1 -H 'Authorization: allow-v'
check "1.0: deny" 403 "$FORBIDDEN" 1 0 GET /v1 -H 'Authorization: deny-w'

# ---- JWT (HTTP API) ----
now=$(date +%s)
mint() { jwt --key "$tmp/k.pem" --claims "$1" "${@:2}"; }
good=$(mint "{\"iss\":\"$ISS\",\"aud\":\"app\",\"sub\":\"u1\",\"scope\":\"read write\",\"groups\":[\"a\",\"b\"]}")
check "JWT: valid" 200 "" 0 1 GET /jwt -H "Authorization: Bearer $good"
got=$(python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))["requestContext"]["authorizer"]["jwt"]
c = a["claims"]
print(sorted(c) == list(c), all(isinstance(v, str) for v in c.values()), c["groups"], c["aud"],
      int(c["exp"]) - int(c["iat"]), a["scopes"])' "$tmp/b" 2>&1)
[ "$got" = "True True [a b] app 3600 ['read', 'write']" ] && ok || bad "JWT claims: $got"
check "JWT: payload 1.0 integration" 200 "" 0 1 GET /jwt1 -H "Authorization: $good"
got=$(python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))["requestContext"]["authorizer"]
print(sorted(a), a["claims"]["sub"], a["scopes"])' "$tmp/b" 2>&1)
[ "$got" = "['claims', 'scopes'] u1 ['read', 'write']" ] && ok || bad "JWT, 1.0 event: $got"
admin=$(mint "{\"iss\":\"$ISS\",\"aud\":\"app\",\"scope\":\"admin\"}")
check "JWT: the route's scope" 200 "" 0 1 GET /jwt/admin -H "Authorization: Bearer $admin"
loop=$(mint "{\"iss\":\"$LOOP\",\"client_id\":\"app\"}")
check "JWT: keys from a loopback issuer's /.well-known (client_id for aud)" 200 "" 0 1 GET /loop -H "Authorization: Bearer $loop"
check "JWT: another issuer's token on it" 401 "$U" 0 0 GET /loop -H "Authorization: Bearer $good"
check "no authorizer on an HTTP API route" 200 "" 0 1 GET /free

# the security cases: each refused, nothing reaches the function
b64() { python3 -c 'import base64,sys; print(base64.urlsafe_b64encode(sys.argv[1].encode()).decode().rstrip("="))' "$1"; }
body=$(b64 "{\"iss\":\"$ISS\",\"aud\":\"app\",\"exp\":$((now + 3600))}")
none="$(b64 "{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"$kid\"}").$body."
if command -v openssl > /dev/null; then openssl pkey -in "$tmp/k.pem" -pubout > "$tmp/pub.pem" 2> /dev/null
else cp "$tmp/jwks.json" "$tmp/pub.pem"; fi # (any bytes of the public key will do)
hs=$(python3 -c '
import base64, hashlib, hmac, sys
e = lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")
head = e(("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}" % sys.argv[2]).encode())
msg = head + "." + sys.argv[3]
print(msg + "." + e(hmac.new(open(sys.argv[1], "rb").read(), msg.encode(), hashlib.sha256).digest()))' \
    "$tmp/pub.pem" "$kid" "$body")
expired=$(mint "{\"iss\":\"$ISS\",\"aud\":\"app\",\"iat\":$((now - 7200)),\"exp\":$((now - 3600))}")
early=$(mint "{\"iss\":\"$ISS\",\"aud\":\"app\",\"nbf\":$((now + 3600))}")
wrongiss=$(mint "{\"iss\":\"https://elsewhere.example.com\",\"aud\":\"app\"}")
wrongaud=$(mint "{\"iss\":\"$ISS\",\"aud\":\"other\"}")
otherkid=$(mint "{\"iss\":\"$ISS\",\"aud\":\"app\"}" --kid not-in-the-jwks)
truncated=${good:0:$((${#good} - 10))}
notb64="${good:0:20}*${good:21}"
while IFS='|' read -r what token path st body desc; do
    [ -z "$what" ] && continue
    check "JWT: $what" "$st" "$body" 0 0 GET "$path" -H "Authorization: Bearer ${!token}"
    [ -z "$desc" ] || [[ $(hdr www-authenticate) == *"$desc"* ]] && ok ||
        bad "JWT: $what: www-authenticate '$(hdr www-authenticate)', want ...$desc"
done <<EOF
alg none|none|/jwt|401|$U|error="invalid_token"
HS256 signed with the RSA public key|hs|/jwt|401|$U|error="invalid_token"
expired|expired|/jwt|401|$U|error_description="the token has expired"
not yet valid|early|/jwt|401|$U|error="invalid_token"
wrong issuer|wrongiss|/jwt|401|$U|error="invalid_token"
wrong audience|wrongaud|/jwt|401|$U|error_description="the token does not have a valid audience"
missing scope|good|/jwt/admin|403|$FORBIDDEN|Bearer scope="admin" error="insufficient_scope"
kid absent from the JWKS|otherkid|/jwt|401|$U|error="invalid_token"
truncated|truncated|/jwt|401|$U|error="invalid_token"
not base64url|notb64|/jwt|401|$U|error="invalid_token"
EOF
check "JWT: no token" 401 "$U" 0 0 GET /jwt
# a token seen before (the worker's verified tokens) is still checked each time
soon=$(mint "{\"iss\":\"$ISS\",\"aud\":\"app\",\"exp\":$(($(date +%s) + 4))}")
check "JWT: about to expire" 200 "" 0 1 GET /jwt -H "Authorization: Bearer $soon"
sleep 5
check "JWT: the same token, expired since" 401 "$U" 0 0 GET /jwt -H "Authorization: Bearer $soon"
[[ $(hdr www-authenticate) == *'error_description="the token has expired"'* ]] && ok ||
    bad "expired since: www-authenticate $(hdr www-authenticate)"
# a 1 MB token: the gateway's header limit (10,240 bytes) answers first
python3 - "$port" > "$tmp/big" <<'PY'
import select, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
head = b"GET /jwt HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + b"a" * (1 << 20) + b"\r\n\r\n"
data = b""
try:  # in pieces, until the gateway answers
    for i in range(0, len(head), 4096):
        s.sendall(head[i:i + 4096])
        if select.select([s], [], [], 0.01)[0]:
            break
except OSError:
    pass
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
except OSError:
    pass
sys.stdout.write(data.decode(errors="replace"))
PY
grep -q $'^HTTP/1.1 431 ' "$tmp/big" && ok || bad "1 MB token: $(head -c 300 "$tmp/big")"
check "JWT: the same route still serves" 200 "" 0 1 GET /jwt -H "Authorization: Bearer $good"

# ---- REST Cognito user pool ----
id=$(mint "{\"iss\":\"$POOL_ISS\",\"aud\":\"client1\",\"token_use\":\"id\",\"sub\":\"u2\",\"email\":\"a@b.c\"}")
check "Cognito: ID token" 200 "" 0 1 GET /prod/cog -H "Authorization: $id"
got=$(python3 -c '
import json, re, sys
a = json.load(open(sys.argv[1]))["requestContext"]["authorizer"]
c = a["claims"]
print(sorted(a), all(isinstance(v, str) for v in c.values()), c["email"],
      bool(re.match(r"^[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d UTC \d{4}$", c["exp"])))' "$tmp/b" 2>&1)
[ "$got" = "['claims'] True a@b.c True" ] && ok || bad "Cognito claims: $got"
acc=$(mint "{\"iss\":\"$POOL_ISS\",\"token_use\":\"access\",\"client_id\":\"client1\",\"scope\":\"admin\"}")
check "Cognito: an access token with the scope" 200 "" 0 1 GET /prod/cog/admin -H "Authorization: Bearer $acc"
got=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["requestContext"]["authorizer"]["scopes"])' "$tmp/b" 2>&1)
[ "$got" = "['admin']" ] && ok || bad "Cognito access token scopes: $got"
check "Cognito: without the scope" 401 "$U" 0 0 GET /prod/cog/admin -H "Authorization: $id"
cexp=$(mint "{\"iss\":\"$POOL_ISS\",\"token_use\":\"id\",\"iat\":$((now - 7200)),\"exp\":$((now - 3600))}")
check "Cognito: expired" 401 '{"message":"The incoming token has expired"}' 0 0 GET /prod/cog -H "Authorization: $cexp"
check "Cognito: another issuer" 401 "$U" 0 0 GET /prod/cog -H "Authorization: $good"
check "Cognito: no token_use" 401 "$U" 0 0 GET /prod/cog -H "Authorization: $(mint "{\"iss\":\"$POOL_ISS\"}")"
check "Cognito: no token" 401 "$U" 0 0 GET /prod/cog
check "Cognito: alg none" 401 "$U" 0 0 GET /prod/cog -H "Authorization: $none"

# the platform still serves, and stops cleanly
check "after all that" 200 "" 0 1 GET /prod/items/1 -H 'Authorization: Bearer allow-a'
kill "$gw"
wait "$gw" 2>/dev/null
grep -qi 'AddressSanitizer\|runtime error' "$tmp/log" && bad "sanitizer report: $(grep -i -m3 'Sanitizer\|runtime error' "$tmp/log")" || ok
finish
