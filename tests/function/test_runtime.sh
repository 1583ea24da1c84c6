#!/usr/bin/env bash
# The NER function's Lambda custom runtime loop (`bootstrap` with
# AWS_LAMBDA_RUNTIME_API) against a scripted Runtime API in Python, to check
# what the local platform does not show: every call on one kept-alive
# connection, the exact /response and /error requests (path, error type
# header, Lambda's error shape), an event over 6 MB, a deadline already
# past (logged), the exit when /next fails, and /init/error for a missing
# model and for a bad NERD_MAX_TEXT_BYTES.
. tests/lib.sh
BOOT=$(cd "$(dirname "$BOOT")" && pwd)/bootstrap
MODEL=$(cd "$(dirname "$MODEL")" && pwd)/$(basename "$MODEL")

# the scripted Runtime API: serves the events of $tmp/events.json in order,
# then answers /next with 500; records every request in $tmp/calls.jsonl
cat > "$tmp/api.py" <<'PY'
import http.server, json, sys, time
events = json.load(open(sys.argv[1]))
log = open(sys.argv[2], "a")
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def record(self, body):
        log.write(json.dumps({"method": self.command, "path": self.path, "peer": self.client_address[1],
                              "headers": {k.lower(): v for k, v in self.headers.items()},
                              "body": body.decode("utf-8", "replace")[:4000]}) + "\n")
        log.flush()
    def reply(self, status, body, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        self.record(b"")
        if not self.path.endswith("/invocation/next"):
            return self.reply(404, b"{}")
        if not events:
            return self.reply(500, b'{"errorMessage":"gone","errorType":"Test"}')
        e = events.pop(0)
        body = e["body"].encode() if "body" in e else b'{"text":"' + b"a" * e["size"] + b'"}'
        deadline = int(time.time() * 1000) + e.get("deadline_in_ms", 10000)
        self.reply(200, body, [("Lambda-Runtime-Aws-Request-Id", e["id"]),
                               ("Lambda-Runtime-Deadline-Ms", str(deadline)),
                               ("Lambda-Runtime-Trace-Id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700"),
                               ("Content-Type", "application/json")])
    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        self.record(self.rfile.read(n))
        self.reply(202, b'{"status":"OK"}')
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
start_api() { # EVENTS-JSON -> sets api (pid) and AWS_LAMBDA_RUNTIME_API
    printf '%s' "$1" > "$tmp/events.json"; : > "$tmp/calls.jsonl"
    python3 "$tmp/api.py" "$tmp/events.json" "$tmp/calls.jsonl" > "$tmp/port" &
    api=$!; pids="$pids $api"
    for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
    export AWS_LAMBDA_RUNTIME_API=127.0.0.1:$(cat "$tmp/port")
}
stop_api() { kill $api 2>/dev/null; wait $api 2>/dev/null; api=; }

start_api '[{"id":"r1","body":"{\"text\":\"Alan Turing was born in London.\"}"},
            {"id":"r2","size":6300000},
            {"id":"r3","deadline_in_ms":-5000,"body":"{\"version\":\"2.0\",\"rawPath\":\"/ner\",\"requestContext\":{\"http\":{\"method\":\"PUT\"}}}"}]'
NERD_MODEL=$MODEL timeout 60 "$BOOT" > "$tmp/out" 2> "$tmp/err"; rc=$?
stop_api
[ $rc -eq 1 ] && grep -q '^bootstrap: GET /next: no request id (status 500)' "$tmp/err" && ok || bad "exit when /next fails: $rc $(cat "$tmp/err")"
python3 - "$tmp/calls.jsonl" <<'PY' && ok || bad "Runtime API calls: $(cat "$tmp/calls.jsonl" | cut -c1-300)"
import json, sys
calls = [json.loads(l) for l in open(sys.argv[1])]
got = [(c["method"], c["path"]) for c in calls]
want = [("GET", "/2018-06-01/runtime/invocation/next"), ("POST", "/2018-06-01/runtime/invocation/r1/response"),
        ("GET", "/2018-06-01/runtime/invocation/next"), ("POST", "/2018-06-01/runtime/invocation/r2/error"),
        ("GET", "/2018-06-01/runtime/invocation/next"), ("POST", "/2018-06-01/runtime/invocation/r3/response"),
        ("GET", "/2018-06-01/runtime/invocation/next")]
assert got == want, got
assert len({c["peer"] for c in calls}) == 1, "not one kept-alive connection: %s" % [c["peer"] for c in calls]
r1 = json.loads(calls[1]["body"])
assert r1["statusCode"] == 200 and r1["headers"]["content-type"] == "application/json", r1
assert json.loads(r1["body"]) == {"entities": [{"text": "Alan Turing", "label": "PERSON", "start": 0, "end": 11},
                                              {"text": "London", "label": "GPE", "start": 24, "end": 30}]}, r1
assert "lambda-runtime-function-error-type" not in calls[1]["headers"], calls[1]["headers"]
assert calls[3]["headers"]["lambda-runtime-function-error-type"] == "Runtime.EventTooLarge", calls[3]["headers"]
assert json.loads(calls[3]["body"]) == {"errorMessage": "the event exceeds 6 MB", "errorType": "Runtime.EventTooLarge"}
r3 = json.loads(calls[5]["body"])
assert r3["statusCode"] == 405 and r3["headers"]["allow"] == "POST, OPTIONS", r3
assert json.loads(r3["body"])["error"] == "MethodNotAllowed", r3
PY
grep -q '^bootstrap: request r3 finished [0-9]* ms after its deadline' "$tmp/err" && ok || bad "late response not logged: $(cat "$tmp/err")"
grep -q 'request r1' "$tmp/err" && bad "r1 reported late" || ok

# no model: /init/error with the places tried, then exit 1 without /next
start_api '[{"id":"x1","body":"{\"text\":\"Paris\"}"}]'
mkdir -p "$tmp/root"
(cd "$tmp/root" && env -u NERD_MODEL LAMBDA_TASK_ROOT="$tmp/root" timeout 20 "$BOOT") > "$tmp/out" 2> "$tmp/err"; rc=$?
stop_api
python3 - "$tmp/calls.jsonl" "$tmp/root" <<'PY' && ok || bad "init error: $(cat "$tmp/calls.jsonl" | cut -c1-400)"
import json, sys
calls = [json.loads(l) for l in open(sys.argv[1])]
assert [(c["method"], c["path"]) for c in calls] == [("POST", "/2018-06-01/runtime/init/error")], calls
assert calls[0]["headers"]["lambda-runtime-function-error-type"] == "Runtime.ModelLoadError", calls[0]["headers"]
e = json.loads(calls[0]["body"])
assert e["errorType"] == "Runtime.ModelLoadError", e
assert e["errorMessage"].startswith("no model: NERD_MODEL is not set") and sys.argv[2] + " (LAMBDA_TASK_ROOT)" in e["errorMessage"], e
PY
[ $rc -eq 1 ] && grep -q '^bootstrap: init failed: no model' "$tmp/err" && ok || bad "init error exit $rc: $(cat "$tmp/err")"
# the model from LAMBDA_TASK_ROOT
ln -s "$MODEL" "$tmp/root/en_core_web_sm-2.2.5.nerd"
start_api '[{"id":"x2","body":"{\"text\":\"Paris\"}"}]'
(cd "$tmp" && env -u NERD_MODEL LAMBDA_TASK_ROOT="$tmp/root" timeout 20 "$BOOT") > "$tmp/out" 2> "$tmp/err"; rc=$?
stop_api
grep -q '"path": "/2018-06-01/runtime/invocation/x2/response", .*Paris' "$tmp/calls.jsonl" && ok || bad "model from LAMBDA_TASK_ROOT: $(cat "$tmp/err")"

# a bad setting: /init/error with Runtime.ConfigInvalid
start_api '[]'
NERD_MODEL=$MODEL NERD_MAX_TEXT_BYTES=12abc timeout 20 "$BOOT" > "$tmp/out" 2> "$tmp/err"; rc=$?
stop_api
python3 - "$tmp/calls.jsonl" <<'PY' && ok || bad "config error: $(cat "$tmp/calls.jsonl" | cut -c1-400)"
import json, sys
calls = [json.loads(l) for l in open(sys.argv[1])]
assert [(c["method"], c["path"]) for c in calls] == [("POST", "/2018-06-01/runtime/init/error")], calls
assert calls[0]["headers"]["lambda-runtime-function-error-type"] == "Runtime.ConfigInvalid", calls[0]["headers"]
e = json.loads(calls[0]["body"])
assert e["errorType"] == "Runtime.ConfigInvalid" and "NERD_MAX_TEXT_BYTES" in e["errorMessage"], e
PY
[ $rc -eq 1 ] && ok || bad "config error exit $rc"

# no Runtime API and no --http: a clear message, exit 2
unset AWS_LAMBDA_RUNTIME_API
env -u PORT timeout 10 "$BOOT" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q 'AWS_LAMBDA_RUNTIME_API is not set' "$tmp/err" && ok || bad "no Runtime API: $rc $(cat "$tmp/err")"
finish
