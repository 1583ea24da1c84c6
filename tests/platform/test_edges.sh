#!/usr/bin/env bash
# The gateway's answers at the edges: the integration timeout (503 while the
# function runs on to its own deadline), per-route RouteSettings throttling
# (the API's map and the event's own), malformed JSON from a function (500),
# oversized requests (413), slow clients (408) and idle keep-alive
# connections (closed), malformed requests (400) — and it keeps serving.
. tests/lib.sh
T=tests/data/functions/edges.yaml
start_gateway --template "$T" --client-timeout 1 --destinations "$tmp/d"
port=${url##*:}

# integration timeout: TimeoutInMillis 500 → 503 after ~0.5 s; Lambda's
# 3 s timeout still ends the invocation (REPORT, Task timed out)
t0=$(date +%s%N)
out=$(curl -s -D "$tmp/h" -w ' %{http_code}' -m 10 "$url/slow")
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$out" = '{"message":"Service Unavailable"} 503' ] && ok || bad "integration timeout: $out"
[ "$ms" -ge 450 ] && [ "$ms" -lt 2500 ] && ok || bad "503 after $ms ms (want ~500)"
grep -qi '^apigw-requestid: ' "$tmp/h" && ok || bad "503 has apigw-requestid"
for _ in $(seq 60); do grep -q 'Task timed out after 3.00 seconds' "$tmp/log" && break; sleep 0.1; done
grep -q 'Task timed out after 3.00 seconds' "$tmp/log" && ok || bad "function ran on to its own timeout"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/free")" = 200 ] && ok || bad "serving after 503"

# RouteSettings: the API's map (burst 2) and the event's own (burst 1);
# a route without settings is not throttled
codes=""; for i in 1 2 3; do codes="$codes$(curl -s -o /dev/null -w '%{http_code}' "$url/routed") "; done
[ "$codes" = "200 200 429 " ] && ok || bad "API RouteSettings: $codes"
codes=""; for i in 1 2; do codes="$codes$(curl -s -o /dev/null -w '%{http_code}' "$url/own") "; done
[ "$codes" = "200 429 " ] && ok || bad "event RouteSettings: $codes"
codes=""; for i in 1 2 3 4; do codes="$codes$(curl -s -o /dev/null -w '%{http_code}' "$url/free") "; done
[ "$codes" = "200 200 200 200 " ] && ok || bad "unthrottled route: $codes"

# malformed JSON from the function → 500
[ "$(curl -s -w ' %{http_code}' "$url/badjson")" = '{"message":"Internal Server Error"} 500' ] && ok || bad "bad JSON → 500"

# 10 MB HTTP API payload limit → 413
head -c $((10 * 1024 * 1024 + 10)) /dev/zero | tr '\0' a > "$tmp/big"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X GET "$url/free" --data-binary @"$tmp/big")" = 413 ] && ok || bad "413"

# a slow client (half a request, then nothing) gets 408 after --client-timeout
exec 3<>/dev/tcp/127.0.0.1/$port
printf 'GET /free HTTP/1.1\r\nHost: x\r\n' >&3
t0=$(date +%s%N)
line=$(timeout 5 head -1 <&3 | tr -d '\r')
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
exec 3<&-
[ "$line" = "HTTP/1.1 408 Request Timeout" ] && ok || bad "slow client: '$line'"
[ "$ms" -ge 700 ] && [ "$ms" -lt 3000 ] && ok || bad "408 after $ms ms"
# an idle keep-alive connection is closed
exec 3<>/dev/tcp/127.0.0.1/$port
t0=$(date +%s%N); timeout 5 cat <&3 > /dev/null; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 )); exec 3<&-
[ $rc -eq 0 ] && [ "$ms" -lt 3000 ] && ok || bad "idle connection not closed (rc $rc, $ms ms)"
# malformed requests: 400 / 505 / 501, and the gateway keeps serving
for req in 'GET /free HTTP/1.1\r\nHost x\r\n\r\n' 'GET /free HTTP/9.9\r\n\r\n' \
           'POST /free HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n' '\x00\x01\x02\r\n\r\n'; do
    exec 3<>/dev/tcp/127.0.0.1/$port; printf "$req" >&3
    line=$(timeout 5 head -1 <&3 | tr -d '\r'); exec 3<&-
    [[ "$line" =~ ^HTTP/1.1\ (400|501|505)\  ]] && ok || bad "malformed '$req' → '$line'"
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/free")" = 200 ] && ok || bad "serving at the end"

kill -TERM $gw; wait $gw; rc=$?
[ $rc -eq 0 ] && ok || bad "gateway exit $rc"
finish
