#!/usr/bin/env bash
# nerd local start-api end to end: real gateway process, real runtimes
# (bash + curl, tests/data/functions/modes/bootstrap) behind it, curl as the
# client.  Routes, payload 2.0 events, 404/500/429/400, warm reuse,
# provisioned environments (no cold start), idle reaping, clean shutdown.
NERD=${1:-build/nerd}
T=tests/data/functions/gateway.yaml
pass=0; fail=0
ok()  { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*" >&2; }
tmp=$(mktemp -d)
"$NERD" local start-api --template "$T" --port 0 --idle-timeout 2 > "$tmp/log" 2>&1 &
gw=$!
trap 'kill $gw 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do grep -q "^listening on" "$tmp/log" && break; sleep 0.1; done
url=$(sed -nE 's/^listening on (http:[^ ]*)$/\1/p' "$tmp/log")
[ -n "$url" ] && ok || { bad "gateway did not start: $(cat "$tmp/log")"; echo "test_gateway.sh: $pass passed, $fail failed"; exit 1; }
nbs() { pgrep -fc "$PWD/tests/data/functions/modes/bootstrap" || true; }

# provisioned environment is up before the first request
grep -q "^INIT_REPORT Init Duration: [0-9.]* ms" "$tmp/log" && ok || bad "provisioned init report"

code=$(curl -s -D "$tmp/h" -o "$tmp/b" -w '%{http_code}' -X POST "$url/echo" \
       -H 'Content-Type: application/json' -H 'Cookie: a=1; b=2' -d '{"text":"Zoë"}')
[ "$code" = 200 ] && ok || bad "POST /echo: $code"
grep -qi '^apigw-requestid: ' "$tmp/h" && ok || bad "apigw-requestid header"
grep -qi '^content-type: application/json' "$tmp/h" && ok || bad "content-type"
for want in '"routeKey":"POST /echo"' '"rawPath":"/echo"' '"cookies":\["a=1","b=2"\]' \
            '"body":"{\\"text\\":\\"Zoë\\"}"' '"isBase64Encoded":false' '"version":"2.0"'; do
    grep -q -- "$want" "$tmp/b" && ok || bad "event lacks $want: $(cat "$tmp/b")"
done
curl -s "$url/items/42?x=1&x=2" > "$tmp/b"
grep -q '"pathParameters":{"id":"42"}' "$tmp/b" && ok || bad "path parameters: $(cat "$tmp/b")"
grep -q '"queryStringParameters":{"x":"1,2"}' "$tmp/b" && ok || bad "query parameters"

[ "$(curl -s -w ' %{http_code}' "$url/nope")" = '{"message":"Not Found"} 404' ] && ok || bad "404"
[ "$(curl -s -w ' %{http_code}' -X DELETE "$url/echo")" = '{"message":"Not Found"} 404' ] && ok || bad "wrong method 404"
[ "$(curl -s -w ' %{http_code}' "$url/error")" = '{"message":"Internal Server Error"} 500' ] && ok || bad "function error 500"

# warm reuse: a second request on Echo starts no new environment
curl -s -o /dev/null -X POST "$url/echo" -d '{}' -H 'Content-Type: application/json'
[ "$(grep -c 'fn=Echo ' "$tmp/log")" = 1 ] && ok || bad "Echo environment not reused"

# reserved concurrency 2: three parallel slow requests -> two 200, one 429
pids=""
for i in 1 2 3; do curl -s -m 20 -o "$tmp/s$i" -w '%{http_code}\n' "$url/sleep" > "$tmp/c$i" & pids="$pids $!"; done
wait $pids
codes=$(cat "$tmp/c1" "$tmp/c2" "$tmp/c3" | sort | tr '\n' ' ')
[ "$codes" = "200 200 429 " ] && ok || bad "concurrency: $codes"
grep -h '"message":"Too Many Requests"' "$tmp/s1" "$tmp/s2" "$tmp/s3" > /dev/null && ok || bad "429 body"
grep -h '^slept$' "$tmp/s1" "$tmp/s2" "$tmp/s3" > /dev/null && ok || bad "structured result body"

# provisioned: served by the environment initialised at start-up
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/warm")" = 200 ] && ok || bad "/warm"
[ "$(grep -c 'fn=Warm ' "$tmp/log")" = 1 ] && ok || bad "provisioned environment not used"

# malformed request: 400 and the gateway keeps serving
exec 3<>/dev/tcp/127.0.0.1/"${url##*:}"; printf 'GARBAGE\r\n\r\n' >&3
timeout 5 head -1 <&3 | grep -q '^HTTP/1.1 400' && ok || bad "400 on garbage"; exec 3<&-
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/items/1")" = 200 ] && ok || bad "serving after garbage"

# idle environments are reaped (the provisioned one stays)
sleep 3.5
n=$(nbs); [ "$n" = 1 ] && ok || bad "after idle timeout $n runtimes remain (want 1)"

kill -TERM $gw; wait $gw; rc=$?
[ $rc -eq 0 ] && ok || bad "gateway exit $rc"
sleep 0.5; n=$(nbs); [ "$n" = 0 ] && ok || bad "$n runtimes left after shutdown"
grep -qE $'^REPORT RequestId: [0-9a-f-]{36}\tDuration: ' "$tmp/log" && ok || bad "REPORT lines"
echo "test_gateway.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
