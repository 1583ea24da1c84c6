#!/usr/bin/env bash
# Event invocations through the Invoke API, as Lambda's async queue runs
# them: 202 at once with x-amzn-RequestId, up to 1 + MaximumRetryAttempts
# attempts, the outcome written to the EventInvokeConfig OnFailure /
# OnSuccess destination as Lambda's invocation record, one JSON line each.
. tests/lib.sh
T=tests/data/functions/edges.yaml
start_gateway --template "$T" --destinations "$tmp/dest"
inv=$url/2015-03-31/functions
event() { curl -s -D "$tmp/h.$1" -o /dev/null -w '%{http_code}' -X POST "$inv/$1/invocations" \
               -H 'X-Amz-Invocation-Type: Event' -d "$2"; }

t0=$(date +%s%N)
[ "$(event Failing '{"order":17}')" = 202 ] && ok || bad "Event → 202"
[ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 1000 ] && ok || bad "202 not immediate"
fid=$(tr -d '\r' < "$tmp/h.Failing" | sed -nE 's/^x-amzn-requestid: (.*)$/\1/Ip')
[[ "$fid" =~ ^[0-9a-f-]{36}$ ]] && ok || bad "x-amzn-RequestId: '$fid'"
[ "$(event FailingOnce '{"n":1}')" = 202 ] && ok || bad "Event → 202 (FailingOnce)"
[ "$(event Succeeding '{"ok":true}')" = 202 ] && ok || bad "Event → 202 (Succeeding)"

# Failing: 3 attempts (1 s and 2 s apart), then OnFailure
f=$tmp/dest/Failing-OnFailure.jsonl
for _ in $(seq 100); do [ -s "$f" ] && break; sleep 0.1; done
python3 - "$f" "$fid" <<'PY' && ok || bad "Failing record: $(cat "$f" 2>&1)"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
r = json.loads(lines[0])
assert r["version"] == "1.0"
assert r["requestContext"]["requestId"] == sys.argv[2], r
assert r["requestContext"]["condition"] == "RetriesExhausted"
assert r["requestContext"]["approximateInvokeCount"] == 3
assert r["requestContext"]["functionArn"].endswith(":function:Failing:$LATEST")
assert r["requestPayload"] == {"order": 17}
assert r["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
assert r["responsePayload"] == {"errorMessage": "bad input", "errorType": "Handled"}
assert r["timestamp"].endswith("Z") and "T" in r["timestamp"]
PY
[ "$(grep -c 'fn=Failing ' "$tmp/log")" -ge 1 ] && ok || bad "Failing ran"
[ "$(grep -c '^START RequestId' "$tmp/log")" -ge 5 ] && ok || bad "attempts logged"

# FailingOnce: MaximumRetryAttempts 0 → one attempt; the crash is the payload
f=$tmp/dest/FailingOnce-OnFailure.jsonl
for _ in $(seq 50); do [ -s "$f" ] && break; sleep 0.1; done
python3 - "$f" <<'PY' && ok || bad "FailingOnce record: $(cat "$f" 2>&1)"
import json, sys
r = json.loads(open(sys.argv[1]).read())
assert r["requestContext"]["approximateInvokeCount"] == 1, r
assert r["responsePayload"]["errorType"] == "Runtime.ExitError", r
assert r["requestPayload"] == {"n": 1}
PY
# Succeeding: OnSuccess record, no functionError
f=$tmp/dest/Succeeding-OnSuccess.jsonl
for _ in $(seq 50); do [ -s "$f" ] && break; sleep 0.1; done
python3 - "$f" <<'PY' && ok || bad "Succeeding record: $(cat "$f" 2>&1)"
import json, sys
r = json.loads(open(sys.argv[1]).read())
assert r["requestContext"]["condition"] == "Success", r
assert r["requestContext"]["approximateInvokeCount"] == 1
assert "functionError" not in r["responseContext"]
assert r["responsePayload"] == {"echo": {"ok": True}}
PY
grep -q "nerd: async Failing $fid: RetriesExhausted after 3 attempts -> " "$tmp/log" && ok || bad "log line for the failure"

kill -TERM $gw; wait $gw; rc=$?
[ $rc -eq 0 ] && ok || bad "gateway exit $rc"
finish
