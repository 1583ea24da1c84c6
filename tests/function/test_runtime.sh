#!/usr/bin/env bash
# The NER function's Lambda custom runtime loop (`bootstrap` with
# AWS_LAMBDA_RUNTIME_API; its client is function/rtclient.c) against a
# scripted Runtime API in Python, to check what the local platform does not
# show: every call on one kept-alive connection (30 invocations), the exact
# /response and /error requests (path, error type header, Lambda's error
# shape), an event over 6 MB, a deadline already past (logged), the exit
# when /next fails; the Runtime API's errors answered as AWS's runtimes
# answer them: a 413 on /response posted as Function.ResponseSizeTooLarge,
# a 400 on /response logged and the loop going on, a 500 on /response, a
# 403 on /next and a lost connection each an exit with one line on stderr;
# a new connection when the Runtime API closes one (Connection: close, or
# silently while idle), chunked and read-to-the-close events, a host name
# (getaddrinfo) and a bad address; /init/error for a missing model, an
# unloadable one and a bad NERD_MAX_TEXT_BYTES (also when /init/error
# itself fails).
. tests/lib.sh
BOOT=$(cd "$(dirname "$BOOT")" && pwd)/bootstrap
MODEL=$(cd "$(dirname "$MODEL")" && pwd)/$(basename "$MODEL")

# the fast interpreter (the first python3 on PATH may be a slow shim)
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3

# the scripted Runtime API: serves the events of $tmp/events.json in order,
# then answers /next with 500; records every request in $tmp/calls.jsonl.
# An event may ask for: "next_status" (answer /next with that status and an
# error body instead), "raw" (the exact bytes of /next's answer, with
# REQUEST_ID and BODY substituted; "close": close after it),
# "response_status" / "error_status" (the answer to its /response or
# /error), "after" ("close": close the connection silently once the POST is
# answered; "close_header": answer with Connection: close).  API_INIT_STATUS:
# the answer to /init/error (default 202).
cat > "$tmp/api.py" <<'EOF'
import http.server, json, os, sys, time
events = json.load(open(sys.argv[1]))
by_id = {e["id"]: e for e in events if "id" in e}
log = open(sys.argv[2], "a")
ERR = {400: b'{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}',
       413: b'{"errorMessage":"Exceeded maximum allowed payload size (6291556 bytes).","errorType":"RequestEntityTooLarge"}',
       500: b'{"errorMessage":"boom","errorType":"InternalServerError"}'}
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def record(self, body):
        log.write(json.dumps({"method": self.command, "path": self.path, "peer": self.client_address[1],
                              "headers": {k.lower(): v for k, v in self.headers.items()},
                              "len": len(body), "body": body.decode("utf-8", "replace")[:4000]}) + "\n")
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
        if "next_status" in e:
            return self.reply(e["next_status"], b'{"errorMessage":"State transition failed","errorType":"InvalidStateTransition"}')
        body = e["body"].encode() if "body" in e else b'{"text":"' + b"a" * e.get("size", 0) + b'"}'
        if "raw" in e:
            raw = e["raw"].replace("REQUEST_ID", e["id"]).encode("latin-1").replace(b"BODY", body)
            self.wfile.write(raw)
            self.wfile.flush()
            self.close_connection = bool(e.get("close"))
            return
        deadline = int(time.time() * 1000) + e.get("deadline_in_ms", 10000)
        self.reply(200, body, [("Lambda-Runtime-Aws-Request-Id", e["id"]),
                               ("Lambda-Runtime-Deadline-Ms", str(deadline)),
                               ("Lambda-Runtime-Trace-Id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700"),
                               ("Content-Type", "application/json")])
    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        self.record(self.rfile.read(n))
        if self.path.endswith("/init/error"):
            st = int(os.environ.get("API_INIT_STATUS", "202"))
            return self.reply(st, ERR.get(st, b'{"status":"OK"}'))
        rid, kind = self.path.split("/")[-2:]
        e = by_id.get(rid, {})
        st = e.get(kind + "_status", 202)
        after = e.get("after")
        hs = [("Connection", "close")] if after == "close_header" else []
        self.reply(st, ERR.get(st, b'{"status":"OK"}'), hs)
        if after:
            self.close_connection = True
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
EOF
start_api() { # EVENTS-JSON -> sets api (pid) and AWS_LAMBDA_RUNTIME_API
    printf '%s' "$1" > "$tmp/events.json"; : > "$tmp/calls.jsonl"
    "$PY" "$tmp/api.py" "$tmp/events.json" "$tmp/calls.jsonl" > "$tmp/port" &
    api=$!; pids="$pids $api"
    # (up to 30 s: a loaded machine has taken over 5 s to start python3)
    for _ in $(seq 600); do [ -s "$tmp/port" ] && break; sleep 0.05; done
    [ -s "$tmp/port" ] || give_up "the stand-in Runtime API did not start in 30 s"
    export AWS_LAMBDA_RUNTIME_API=127.0.0.1:$(cat "$tmp/port")
}
stop_api() { kill $api 2>/dev/null; wait $api 2>/dev/null; api=; }

start_api '[{"id":"r1","body":"{\"text\":\"Alan Turing was born in London.\"}"},
            {"id":"r2","size":6300000},
            {"id":"r3","deadline_in_ms":-5000,"body":"{\"version\":\"2.0\",\"rawPath\":\"/ner\",\"requestContext\":{\"http\":{\"method\":\"PUT\"}}}"}]'
NERD_MODEL=$MODEL timeout 60 "$BOOT" > "$tmp/out" 2> "$tmp/err"; rc=$?
stop_api
[ $rc -eq 1 ] && grep -q '^bootstrap: GET /next: the Runtime API answered 500 Internal Server Error: {"errorMessage":"gone","errorType":"Test"}; exiting$' "$tmp/err" && ok || bad "exit when /next fails: $rc $(cat "$tmp/err")"
"$PY" - "$tmp/calls.jsonl" <<'EOF' && ok || bad "Runtime API calls: $(cat "$tmp/calls.jsonl" | cut -c1-300)"
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
EOF
grep -q '^bootstrap: request r3 finished [0-9]* ms after its deadline' "$tmp/err" && ok || bad "late response not logged: $(cat "$tmp/err")"
grep -q 'request r1' "$tmp/err" && bad "r1 reported late" || ok

# no model: /init/error with the places tried, then exit 1 without /next
start_api '[{"id":"x1","body":"{\"text\":\"Paris\"}"}]'
mkdir -p "$tmp/root"
(cd "$tmp/root" && env -u NERD_MODEL LAMBDA_TASK_ROOT="$tmp/root" timeout 20 "$BOOT") > "$tmp/out" 2> "$tmp/err"; rc=$?
stop_api
"$PY" - "$tmp/calls.jsonl" "$tmp/root" <<'EOF' && ok || bad "init error: $(cat "$tmp/calls.jsonl" | cut -c1-400)"
import json, sys
calls = [json.loads(l) for l in open(sys.argv[1])]
assert [(c["method"], c["path"]) for c in calls] == [("POST", "/2018-06-01/runtime/init/error")], calls
assert calls[0]["headers"]["lambda-runtime-function-error-type"] == "Runtime.ModelLoadError", calls[0]["headers"]
e = json.loads(calls[0]["body"])
assert e["errorType"] == "Runtime.ModelLoadError", e
assert e["errorMessage"].startswith("no model: NERD_MODEL is not set") and sys.argv[2] + " (LAMBDA_TASK_ROOT)" in e["errorMessage"], e
EOF
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
"$PY" - "$tmp/calls.jsonl" <<'EOF' && ok || bad "config error: $(cat "$tmp/calls.jsonl" | cut -c1-400)"
import json, sys
calls = [json.loads(l) for l in open(sys.argv[1])]
assert [(c["method"], c["path"]) for c in calls] == [("POST", "/2018-06-01/runtime/init/error")], calls
assert calls[0]["headers"]["lambda-runtime-function-error-type"] == "Runtime.ConfigInvalid", calls[0]["headers"]
e = json.loads(calls[0]["body"])
assert e["errorType"] == "Runtime.ConfigInvalid" and "NERD_MAX_TEXT_BYTES" in e["errorMessage"], e
EOF
[ $rc -eq 1 ] && ok || bad "config error exit $rc"

# calls: prints "METHOD PATH" of each recorded call, one a line
calls() { "$PY" -c 'import json,sys; [print(json.loads(l)["method"], json.loads(l)["path"]) for l in open(sys.argv[1])]' "$tmp/calls.jsonl"; }
peers() { "$PY" -c 'import json,sys; print(len({json.loads(l)["peer"] for l in open(sys.argv[1])}))' "$tmp/calls.jsonl"; }
run_boot() { NERD_MODEL=$MODEL timeout 60 "$BOOT" > "$tmp/out" 2> "$tmp/err"; rc=$?; }
N=/2018-06-01/runtime/invocation

# keep-alive: 30 invocations, every call on one connection
"$PY" -c 'import json; print(json.dumps([{"id": "k%d" % i, "body": "{\"text\":\"Paris %d\"}" % i} for i in range(30)]))' > "$tmp/ev30"
start_api "$(cat "$tmp/ev30")"
run_boot
stop_api
[ "$(calls | grep -c "^POST $N/k[0-9]*/response$")" = 30 ] && [ "$(calls | grep -c "^GET $N/next$")" = 31 ] && ok || bad "30 invocations: $(calls | sort | uniq -c | head)"
[ "$(peers)" = 1 ] && ok || bad "30 invocations on $(peers) connections, want 1"

# 413 on /response: the result posted as an invocation error instead, then
# the loop goes on; a 400 on /response is logged and the loop goes on too.
# This scripted server refuses results far under 6 MB, which no Runtime
# API does: pipelining is off for it (NERD_RUNTIME_PIPELINE=0)
start_api '[{"id":"big","body":"{\"text\":\"Paris\"}","response_status":413},
            {"id":"gone","body":"{\"text\":\"Paris\"}","response_status":400},
            {"id":"ok","body":"{\"text\":\"Paris\"}"}]'
NERD_RUNTIME_PIPELINE=0 run_boot
stop_api
[ "$(calls | tr '\n' ' ')" = "GET $N/next POST $N/big/response POST $N/big/error GET $N/next POST $N/gone/response GET $N/next POST $N/ok/response GET $N/next " ] && ok || bad "413 and 400 on /response: $(calls | tr '\n' ' ')"
"$PY" - "$tmp/calls.jsonl" <<'EOF' && ok || bad "413 error post: $(sed -n 3p "$tmp/calls.jsonl" | cut -c1-600)"
import json, sys
c = [json.loads(l) for l in open(sys.argv[1])][2]
assert c["headers"]["lambda-runtime-function-error-type"] == "Function.ResponseSizeTooLarge", c["headers"]
e = json.loads(c["body"])
assert e["errorType"] == "Function.ResponseSizeTooLarge", e
assert e["errorMessage"].startswith("Response payload size (") and e["errorMessage"].endswith(
    " bytes) exceeded the maximum allowed payload size (the Runtime API answered 413)"), e
EOF
grep -q '^bootstrap: POST /response for request big: the Runtime API answered 413 .*Exceeded maximum allowed payload size (6291556 bytes).*; posting the error instead$' "$tmp/err" &&
    grep -q '^bootstrap: POST /response for request gone: the Runtime API answered 400 Bad Request: {"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}$' "$tmp/err" &&
    ok || bad "413/400 not logged: $(cat "$tmp/err")"

# 400 on /response with the next /next pipelined behind it: logged, and
# the event that /next brings is served (nothing is lost)
start_api '[{"id":"gone","body":"{\"text\":\"Paris\"}","response_status":400},
            {"id":"ok","body":"{\"text\":\"Paris\"}"}]'
run_boot
stop_api
[ "$(calls | tr '\n' ' ')" = "GET $N/next POST $N/gone/response GET $N/next POST $N/ok/response GET $N/next " ] &&
    [ "$(peers)" = 1 ] && ok || bad "pipelined /next after a 400: $(calls | tr '\n' ' ') on $(peers) connections"

# 500 on /response: exit at once (no /next after it)
start_api '[{"id":"e1","body":"{\"text\":\"Paris\"}","response_status":500},{"id":"e2","body":"{}"}]'
NERD_RUNTIME_PIPELINE=0 run_boot
stop_api
[ $rc -eq 1 ] && [ "$(calls | tr '\n' ' ')" = "GET $N/next POST $N/e1/response " ] &&
    grep -q '^bootstrap: POST /response for request e1: the Runtime API answered 500 Internal Server Error: .*; exiting$' "$tmp/err" && ok || bad "500 on /response: $rc $(calls | tr '\n' ' ') $(cat "$tmp/err")"

# 403 on /next (a 4xx): exit 1 with the Runtime API's answer on stderr
start_api '[{"next_status":403}]'
run_boot
stop_api
[ $rc -eq 1 ] && grep -q '^bootstrap: GET /next: the Runtime API answered 403 Forbidden: {"errorMessage":"State transition failed","errorType":"InvalidStateTransition"}; exiting$' "$tmp/err" &&
    [ "$(calls | wc -l)" = 1 ] && ok || bad "403 on /next: $rc $(cat "$tmp/err")"

# the Runtime API closes connections: with Connection: close, silently
# after an answer (the next request finds it closed: sent again on a new
# one), and after a read-to-the-close event; chunked events; a 200 without
# a request id ends the loop
start_api '[{"id":"c1","body":"{\"text\":\"Paris\"}","after":"close_header"},
            {"id":"c2","body":"{\"text\":\"Paris\"}","after":"close"},
            {"id":"c3","body":"{\"text\":\"Berlin\"}","raw":"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: REQUEST_ID\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"tex\r\n0C;ext=1\r\nt\":\"Berlin\"}\r\n0\r\nX-Trailer: 1\r\n\r\n"},
            {"id":"c4","body":"{\"text\":\"London\"}","raw":"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: REQUEST_ID\r\nConnection: close\r\n\r\nBODY","close":true},
            {"id":"c5","raw":"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"}]'
run_boot
stop_api
[ $rc -eq 1 ] && [ "$(calls | grep -c '/response$')" = 4 ] && grep -q '^bootstrap: GET /next: no request id (status 200); exiting$' "$tmp/err" && ok || bad "closed connections: $rc $(calls | tr '\n' ' ') $(cat "$tmp/err")"
[ "$(peers)" = 4 ] && ok || bad "closed connections: $(peers) connections, want 4"
grep -q "\"path\": \"$N/c3/response\", .*Berlin" "$tmp/calls.jsonl" && grep -q "\"path\": \"$N/c4/response\", .*London" "$tmp/calls.jsonl" && ok || bad "chunked / to-the-close events: $(grep -E 'c3|c4' "$tmp/calls.jsonl" | cut -c1-300)"

# a host name (getaddrinfo: localhost may give ::1 first, where nothing listens)
start_api '[{"id":"h1","body":"{\"text\":\"Paris\"}"}]'
AWS_LAMBDA_RUNTIME_API=localhost:${AWS_LAMBDA_RUNTIME_API##*:} run_boot
stop_api
grep -q "\"path\": \"$N/h1/response\"" "$tmp/calls.jsonl" && ok || bad "host name: $(cat "$tmp/err")"

# the Runtime API vanishes mid-answer, or is not there at all: exit 1, one clear line
start_api '[{"id":"t1","raw":"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: REQUEST_ID\r\nContent-Length: 100\r\n\r\n{\"te","close":true}]'
run_boot
stop_api
[ $rc -eq 1 ] && grep -q "^bootstrap: GET /next: 127.0.0.1:[0-9]* closed the connection in the middle of its answer$" "$tmp/err" && ok || bad "cut answer: $rc $(cat "$tmp/err")"
port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
AWS_LAMBDA_RUNTIME_API=127.0.0.1:$port run_boot
[ $rc -eq 1 ] && grep -q "^bootstrap: GET /next: cannot connect to 127.0.0.1:$port: Connection refused$" "$tmp/err" && ok || bad "refused: $rc $(cat "$tmp/err")"
AWS_LAMBDA_RUNTIME_API=127.0.0.1 run_boot
[ $rc -eq 2 ] && grep -q '^bootstrap: AWS_LAMBDA_RUNTIME_API=127.0.0.1: want host:port' "$tmp/err" && ok || bad "bad address: $rc $(cat "$tmp/err")"

# a model that cannot be loaded: /init/error (Runtime.ModelLoadError); a
# failing /init/error is logged and the exit status is still 1
head -c 4096 /dev/urandom > "$tmp/junk.nerd"
API_INIT_STATUS=500 start_api '[{"id":"j1","body":"{}"}]'
NERD_MODEL=$tmp/junk.nerd timeout 20 "$BOOT" > "$tmp/out" 2> "$tmp/err"; rc=$?
stop_api
"$PY" - "$tmp/calls.jsonl" <<'EOF' && ok || bad "unloadable model: $(cut -c1-400 "$tmp/calls.jsonl")"
import json, sys
calls = [json.loads(l) for l in open(sys.argv[1])]
assert [(c["method"], c["path"]) for c in calls] == [("POST", "/2018-06-01/runtime/init/error")], calls
assert calls[0]["headers"]["lambda-runtime-function-error-type"] == "Runtime.ModelLoadError", calls[0]["headers"]
assert json.loads(calls[0]["body"])["errorType"] == "Runtime.ModelLoadError", calls[0]
EOF
[ $rc -eq 1 ] && grep -q '^bootstrap: init failed: ' "$tmp/err" &&
    grep -q '^bootstrap: POST /init/error: the Runtime API answered 500 Internal Server Error: ' "$tmp/err" && ok || bad "unloadable model exit $rc: $(cat "$tmp/err")"

# a model whose weights are corrupt (one byte flipped, structure intact):
# the runtime trusts its package and serves; NERD_MODEL_VERIFY=1 checks the
# checksum at init and reports Runtime.ModelLoadError; --check-model (what
# build-NerFunction runs) refuses it with exit 1
cp "$MODEL" "$tmp/flipped.nerd"
printf '\x55' | dd of="$tmp/flipped.nerd" bs=1 seek=3000000 conv=notrunc 2>/dev/null
start_api '[{"id":"f1","body":"{\"text\":\"Paris\"}"}]'
NERD_MODEL=$tmp/flipped.nerd timeout 20 "$BOOT" > "$tmp/out" 2> "$tmp/err"; rc=$?
stop_api
grep -q '"path": "/2018-06-01/runtime/invocation/f1/response"' "$tmp/calls.jsonl" && ok || bad "trusted corrupt model: $(cat "$tmp/err")"
start_api '[{"id":"f2","body":"{}"}]'
NERD_MODEL=$tmp/flipped.nerd NERD_MODEL_VERIFY=1 timeout 20 "$BOOT" > "$tmp/out" 2> "$tmp/err"; rc=$?
stop_api
"$PY" - "$tmp/calls.jsonl" <<'EOF' && ok || bad "NERD_MODEL_VERIFY=1: $(cut -c1-400 "$tmp/calls.jsonl")"
import json, sys
calls = [json.loads(l) for l in open(sys.argv[1])]
assert [(c["method"], c["path"]) for c in calls] == [("POST", "/2018-06-01/runtime/init/error")], calls
e = json.loads(calls[0]["body"])
assert e["errorType"] == "Runtime.ModelLoadError" and e["errorMessage"].endswith("model file checksum mismatch (corrupt file)"), e
EOF
"$BOOT" --check-model --model "$tmp/flipped.nerd" > "$tmp/out" 2> "$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q 'flipped.nerd: model file checksum mismatch' "$tmp/err" && ok || bad "--check-model on a corrupt file: $rc $(cat "$tmp/err")"
"$BOOT" --check-model --model "$MODEL" > "$tmp/out" 2> "$tmp/err"; rc=$?
[ $rc -eq 0 ] && grep -q 'checksum and structure good' "$tmp/out" && ok || bad "--check-model on the model: $rc $(cat "$tmp/err")"

# no Runtime API and no --http: a clear message, exit 2
unset AWS_LAMBDA_RUNTIME_API
env -u PORT timeout 10 "$BOOT" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q 'AWS_LAMBDA_RUNTIME_API is not set' "$tmp/err" && ok || bad "no Runtime API: $rc $(cat "$tmp/err")"
finish
