#!/usr/bin/env bash
# nerd local start-api end to end: real gateway process, real runtimes
# (bash + curl, tests/data/functions/modes/bootstrap) behind it, curl as the
# client.  Routes, payload 2.0 events, 404/500/429/400, warm reuse,
# provisioned environments (no cold start), idle reaping, clean shutdown.
# Runtimes are counted as the gateway's own children (each bootstrap is one),
# and after shutdown checked by the process groups they logged.
. tests/lib.sh
T=tests/data/functions/gateway.yaml
start_gateway --template "$T" --idle-timeout 2
nbs() { pgrep -P "$gw" | wc -l; }

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
cpids=""
for i in 1 2 3; do curl -s -m 20 -o "$tmp/s$i" -w '%{http_code}\n' "$url/sleep" > "$tmp/c$i" & cpids="$cpids $!"; done
wait $cpids
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

# CORS preflight answered by the gateway; CORS headers on the response
curl -s -D "$tmp/h" -o /dev/null -X OPTIONS "$url/limited" -H 'Origin: https://app.example.com' \
     -H 'Access-Control-Request-Method: GET'
head -1 "$tmp/h" | grep -q '^HTTP/1.1 204' && ok || bad "preflight status: $(head -1 "$tmp/h")"
grep -qi '^access-control-allow-origin: https://app.example.com' "$tmp/h" && ok || bad "preflight origin"
grep -qi '^access-control-allow-methods: GET, POST' "$tmp/h" && ok || bad "preflight methods"
grep -qi '^access-control-max-age: 600' "$tmp/h" && ok || bad "preflight max-age"
curl -s -D "$tmp/h" -o /dev/null -X OPTIONS "$url/limited" -H 'Origin: https://evil.example' \
     -H 'Access-Control-Request-Method: GET'
grep -qi '^access-control-allow-origin' "$tmp/h" && bad "foreign origin allowed" || ok
curl -s -D "$tmp/h" -o /dev/null "$url/limited" -H 'Origin: https://app.example.com'
grep -qi '^access-control-expose-headers: x-trace' "$tmp/h" && ok || bad "CORS on response"
# token bucket (burst 2, 0.5/s): the third request in a row is throttled
c3=$(curl -s -o /dev/null -w '%{http_code}' "$url/limited"); c4=$(curl -s -w ' %{http_code}' "$url/limited")
[ "$c3" = 200 ] && [ "$c4" = '{"message":"Too Many Requests"} 429' ] && ok || bad "throttle: $c3 / $c4"

# the Invoke API, as Lambda answers it
inv=$url/2015-03-31/functions
curl -s -D "$tmp/h" -o "$tmp/b" -X POST "$inv/Echo/invocations" -d '{"a":1}'
head -1 "$tmp/h" | grep -q ' 200' && [ "$(cat "$tmp/b")" = '{"echo":{"a":1}}' ] && ok || bad "invoke: $(cat "$tmp/b")"
grep -qi '^x-amz-executed-version: \$LATEST' "$tmp/h" && ok || bad "executed version"
curl -s -D "$tmp/h" -o "$tmp/b" -X POST "$inv/Error/invocations" -d '{}'
head -1 "$tmp/h" | grep -q ' 200' && grep -qi '^x-amz-function-error: Unhandled' "$tmp/h" && ok || bad "function error: 200 + X-Amz-Function-Error"
curl -s -D "$tmp/h" -o /dev/null -X POST "$inv/Nope/invocations" -d '{}'
head -1 "$tmp/h" | grep -q ' 404' && grep -qi 'x-amzn-errortype: ResourceNotFoundException' "$tmp/h" && ok || bad "unknown function"
curl -s -D "$tmp/h" -o /dev/null -X POST "$inv/Echo/invocations" -d 'not json'
head -1 "$tmp/h" | grep -q ' 400' && grep -qi 'InvalidRequestContentException' "$tmp/h" && ok || bad "invalid JSON"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$inv/Echo/invocations" -H 'X-Amz-Invocation-Type: Event' -d '{}')" = 202 ] && ok || bad "Event 202"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$inv/Echo/invocations" -H 'X-Amz-Invocation-Type: DryRun' -d '{}')" = 204 ] && ok || bad "DryRun 204"

# metrics: Prometheus totals and the JSON series of the window
curl -s "$url/metrics" > "$tmp/m"
for want in 'nerd_lambda_invocations_total{function="Sleepy"} 2' \
            'nerd_lambda_throttles_total{function="Sleepy"} 1' \
            'nerd_lambda_errors_total{function="Error"} 2' \
            'nerd_lambda_cold_starts_total{function="Warm"} 0' \
            'nerd_lambda_provisioned_invocations_total{function="Warm"} 1' \
            'nerd_lambda_concurrent_executions_max{function="Sleepy"} 2' \
            'nerd_lambda_cold_starts_total{function="Echo"} 1'; do
    grep -qF "$want" "$tmp/m" && ok || bad "metrics lack: $want"
done
grep -qE '^nerd_lambda_duration_ms\{function="Sleepy",quantile="0.95"\} 1[0-9]{3}\.' "$tmp/m" && ok || bad "Sleepy p95 about 1 s: $(grep 'Sleepy",quantile="0.95' "$tmp/m")"
now=$(date +%s)
curl -s "$url/metrics/json?from=$((now - 120))&to=$now&period=1" > "$tmp/j"
python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
s=d["functions"]["Sleepy"]
assert d["period"]==1 and len(s)>=100, len(s)
assert sum(x["Throttles"] for x in s)==1 and sum(x["Invocations"] for x in s)==2
assert max(x["ConcurrentExecutions"] for x in s)==2
assert max(x["DurationP99"] for x in s)>=1000
' "$tmp/j" && ok || bad "metrics JSON series: $(head -c 300 "$tmp/j")"

# idle environments are reaped (the provisioned one stays)
sleep 3.5
n=$(nbs); [ "$n" = 1 ] && ok || bad "after idle timeout $n runtimes remain (want 1)"

kill -TERM $gw; wait $gw; rc=$?
[ $rc -eq 0 ] && ok || bad "gateway exit $rc"
rts=$(logged_pids "$tmp/log")
[ "$(echo $rts | wc -w)" -ge 5 ] && ok || bad "runtime pids in the log: $rts"
groups_exit $rts && ok || bad "runtimes left after shutdown in groups: $rts"
grep -qE $'^REPORT RequestId: [0-9a-f-]{36}\tDuration: ' "$tmp/log" && ok || bad "REPORT lines"
finish
