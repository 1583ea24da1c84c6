#!/usr/bin/env bash
# Python functions (tests/data/functions/python/, python.yaml) on the
# platform's python3.x runtime: Debian's /usr/bin/python3 running
# runtimes/python/bootstrap.py.  Through `nerd local invoke`: the event,
# every context field, the environment AWS sets, sys.path, JSON results
# (Decimal, NaN, non-ASCII by runtime version, bytes), every init and
# invocation error with AWS's type, message and stack trace, the log
# (START/END/REPORT around the handler's lines, the logging module's
# format, AWS_LAMBDA_LOG_LEVEL, the error line), timeouts, crashes, the
# memory limit and CPU quota.  Through the gateway (HTTP API and REST): the
# events, warm reuse without a second import (one INIT_START, a
# module-level counter), errors, timeouts and crashes as for `provided`.
. tests/lib.sh
T=tests/data/functions/python.yaml
TASK=$(cd tests/data/functions/python && pwd)
printf '{"text":"Alan Turing","n":[1,2.5]}' > "$tmp/event.json"
inv() { # FUNCTION [OVERRIDES...] -> $tmp/out, $tmp/log, $rc
    local fn=$1; shift
    timeout 30 "$NERD" local invoke "$fn" --template "$T" --event "$tmp/event.json" \
        --parameter-overrides "$@" > "$tmp/out" 2> "$tmp/log"; rc=$?
}
has() { grep -qE -- "$2" "$tmp/$1" && ok || bad "$3: /$2/ not in $1: $(head -c 800 "$tmp/$1")"; }
py() { # LABEL SCRIPT: python asserts on $tmp/out (as `out`) and $tmp/log (as `log`)
    python3 - "$tmp/out" "$tmp/log" "$TASK" > "$tmp/py" 2>&1 <<EOF && ok || bad "$1: $(tail -3 "$tmp/py")"
import json, re, sys
out = open(sys.argv[1], encoding="utf-8", newline="").read()
log = open(sys.argv[2], encoding="utf-8", newline="").read()
TASK = sys.argv[3]
$2
EOF
}

# --- the handler's world -------------------------------------------------
inv PyFn PyHandler=app.handler
[ $rc -eq 0 ] && ok || bad "handler exit $rc: $(tail -3 "$tmp/log")"
py "context and environment" '
b = json.loads(out)
rid = re.search(r"^START RequestId: ([0-9a-f-]{36}) Version: \$LATEST$", log, re.M).group(1)
assert b["event"] == {"text": "Alan Turing", "n": [1, 2.5]}, b["event"]
assert b["count"] == 1, b
assert b["function_name"] == "PyFn" and b["function_version"] == "$LATEST", b
assert b["invoked_function_arn"] == "arn:aws:lambda:us-east-1:123456789012:function:PyFn", b
assert b["memory_limit_in_mb"] == "256", b  # a string, as AWS gives it
assert b["aws_request_id"] == rid, (b, rid)
assert b["log_group_name"] == "/aws/lambda/PyFn" and b["log_stream_name"] == "$LATEST", b
assert b["identity"] == ["CognitoIdentity", None, None], b
assert b["client_context"] is None, b
assert 0 < b["remaining"] <= 3000, b
e = b["env"]
assert e["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.11", e
assert e["LAMBDA_TASK_ROOT"] == TASK and b["cwd"] == TASK and b["sys_path0"] == TASK, b
assert e["LAMBDA_RUNTIME_DIR"].endswith("/runtimes/python"), e
assert e["PYTHONPATH"] == e["LAMBDA_RUNTIME_DIR"], e
assert e["_HANDLER"] == "app.handler" and e["TZ"] == ":UTC" and e["LANG"] == "en_US.UTF-8", e
assert e["PATH"] == "/usr/local/bin:/usr/bin/:/bin:/opt/bin", e
assert e["AWS_LAMBDA_FUNCTION_NAME"] == "PyFn" and e["AWS_REGION"] == "us-east-1", e
assert re.fullmatch(r"127\.0\.0\.1:[0-9]+", e["AWS_LAMBDA_RUNTIME_API"]), e
assert e["GREETING"] == "hello", e
assert e["_X_AMZN_TRACE_ID"].startswith("Root=1-"), e
assert b["executable"] == "/usr/bin/python3.11" or b["executable"] == "/usr/bin/python3", b
'
py "log order: init output, START, handler lines, END, REPORT with Init Duration" '
lines = log.split("\n")
i = lambda p: next(k for k, l in enumerate(lines) if re.match(p, l))
assert i(r"^INIT_START Runtime Version: python:3\.11\.v1\t") < i(r"^init app pid=") < i(r"^START ") < i(r"^handling -$") < i(r"^END ") < i(r"^REPORT "), lines
assert re.search(r"^REPORT RequestId: [0-9a-f-]{36}\tDuration: [0-9.]+ ms\tBilled Duration: [0-9]+ ms\tMemory Size: 256 MB\tMax Memory Used: [0-9]+ MB\tInit Duration: [0-9]+\.[0-9]{2} ms\t$", log, re.M), log
assert re.search(r"^nerd: function PyFn: python3\.11 on /usr/bin/python3(\.11)? \(Python 3\.11\.[0-9]+\), runtime client the platform.s .*/runtimes/python/bootstrap\.py$", log, re.M), log
'

# nested packages, both spellings of the handler
for h in pkg/sub/mod.handler pkg.sub.mod.handler; do
    inv PyFn PyHandler=$h
    [ "$(cat "$tmp/out")" = '{"module": "pkg.sub.mod"}' ] && ok || bad "$h: $(cat "$tmp/out")"
done

# --- results: as AWS's marshaller writes them -----------------------------
inv PyFn PyHandler=app.decimals
[ "$(cat "$tmp/out")" = '{"price": 1.10, "big": 12345678901234567890.5, "nan": NaN, "inf": Infinity, "dnan": NaN, "text": "caf\u00e9"}' ] &&
    ok || bad "decimals (python3.11): $(cat "$tmp/out")"
# python3.12 writes UTF-8; Debian's 3.11 runs it, with a warning
inv PyFn PyHandler=app.decimals PyRuntime=python3.12
[ "$(cat "$tmp/out")" = '{"price": 1.10, "big": 12345678901234567890.5, "nan": NaN, "inf": Infinity, "dnan": NaN, "text": "café"}' ] &&
    ok || bad "decimals (python3.12): $(cat "$tmp/out")"
has log '^nerd: warning: function PyFn: Runtime python3.12 but /usr/bin/python3 is Python 3\.11\.[0-9]+: run anyway \(NERD_PYTHON names another interpreter\)$' "version warning"
has log '^INIT_START Runtime Version: python:3\.12\.v1' "INIT_START names the template's runtime"
inv PyFn PyHandler=app.raw
[ $rc -eq 0 ] && [ "$(od -An -c "$tmp/out" | tr -s ' ')" = "$(printf 'raw \0 bytes\n' | od -An -c | tr -s ' ')" ] &&
    ok || bad "bytes result: $(od -c "$tmp/out" | head -3)"

# --- invocation errors ------------------------------------------------------
inv PyFn PyHandler=app.fail
[ $rc -eq 1 ] && ok || bad "fail exit $rc"
py "handler exception: document and log" '
b = json.loads(out)
rid = re.search(r"^START RequestId: ([0-9a-f-]{36})", log, re.M).group(1)
src = open(TASK + "/app.py").read().splitlines()
line = next(k + 1 for k, l in enumerate(src) if "raise ValueError" in l)
frame = "  File \"%s/app.py\", line %d, in fail\n    raise ValueError(\"boom\")\n" % (TASK, line)
assert list(b) == ["errorMessage", "errorType", "requestId", "stackTrace"], b
assert b == {"errorMessage": "boom", "errorType": "ValueError", "requestId": rid, "stackTrace": [frame]}, b
assert out.startswith("{\"errorMessage\": \"boom\", \"errorType\": \"ValueError\", "), out
nb = "\u00a0"
want = "[ERROR] ValueError: boom\rTraceback (most recent call last):\r" + nb * 2 + "File \"%s/app.py\", line %d, in fail\r" % (TASK, line) + nb * 4 + "raise ValueError(\"boom\")\n"
assert want in log, repr(log)
'
inv PyFn PyHandler=app.marshal
[ "$(sed -E 's/"requestId": "[0-9a-f-]{36}"/"requestId": "ID"/' "$tmp/out")" = '{"errorMessage": "Unable to marshal response: Object of type set is not JSON serializable", "errorType": "Runtime.MarshalError", "requestId": "ID", "stackTrace": []}' ] &&
    ok || bad "marshal error: $(cat "$tmp/out")"
has log $'^\\[ERROR\\] Runtime.MarshalError: Unable to marshal response: Object of type set is not JSON serializable\rTraceback \\(most recent call last\\):$' "marshal error log line"
inv PyFn PyHandler=app.notcallable
has out '^\{"errorMessage": "'"'"'int'"'"' object is not callable", "errorType": "TypeError", ' "handler not callable: found at invoke"
printf 'not json' > "$tmp/bad.json"
timeout 30 "$NERD" local invoke PyFn --template "$T" --event "$tmp/bad.json" > "$tmp/out" 2> "$tmp/log"
has out '^\{"errorMessage": "Unable to unmarshal input: Expecting value: line 1 column 1 \(char 0\)", "errorType": "Runtime.UnmarshalError", "requestId": "[0-9a-f-]{36}", "stackTrace": \[\]\}$' "unmarshal error"

# --- init errors: AWS's types and messages, posted to /init/error ----------
init_error() { # HANDLER TYPE MESSAGE [STACK-REGEX]
    inv PyFn PyHandler=$1
    local doc
    doc=$(sed -E 's/"stackTrace": \[.*\]\}$/"stackTrace": []}/' "$tmp/out")
    [ $rc -eq 1 ] && [ "$doc" = "{\"errorMessage\": \"$3\", \"errorType\": \"$2\", \"requestId\": \"\", \"stackTrace\": []}" ] &&
        ok || bad "$1: $(cat "$tmp/out")"
    [ -z "${4:-}" ] || has out "$4" "$1: stack trace"
    has log $'^\\[WARNING\\]\t[0-9T:.-]+Z\t\tLAMBDA_WARNING: Unhandled exception\\. The most likely cause is an issue in the function code\\. .* see https://docs\\.aws\\.amazon\\.com/lambda/latest/dg/runtimes-update\\.html\r$' "$1: LAMBDA_WARNING line"
    has log "^\\[ERROR\\] $2: " "$1: error line"
    has log $'^INIT_REPORT Init Duration: [0-9.]+ ms\tPhase: init\tStatus: error\tError Type: '"$2"'$' "$1: INIT_REPORT (init)"
    has log $'^INIT_REPORT Init Duration: [0-9.]+ ms\tPhase: invoke\tStatus: error\tError Type: '"$2"'$' "$1: INIT_REPORT (invoke: Lambda's retry)"
    has log $'^REPORT RequestId: .*\tStatus: error\tError Type: '"$2"'$' "$1: REPORT"
}
init_error nosuch.handler Runtime.ImportModuleError "Unable to import module 'nosuch': No module named 'nosuch'"
init_error needsdep.handler Runtime.ImportModuleError "Unable to import module 'needsdep': No module named 'notinstalled'"
init_error app.nope Runtime.HandlerNotFound "Handler 'nope' missing on module 'app'"
init_error broken.handler Runtime.UserCodeSyntaxError "Syntax error in module 'broken': invalid syntax (broken.py, line 2)" \
    '"stackTrace": \["  File \\"'"$TASK"'/broken.py\\" Line 2\\n    def f\(:\\n"\]'
init_error app Runtime.MalformedHandlerName "Bad handler 'app': not enough values to unpack (expected 2, got 1)"
init_error sys.handler Runtime.BuiltInModuleConflict "Cannot use built-in module sys as a handler module"
init_error raises.handler KeyError "'missing'" '"stackTrace": \[.*raises\.py\\", line 2, in <module>'

# an interpreter or runtime client that is not there: Runtime.InvalidEntrypoint
NERD_PYTHON=/nonexistent/python3 inv PyFn
has out '^\{"errorMessage":"RequestId: [0-9a-f-]{36} Error: fork/exec /nonexistent/python3: no such file or directory \(the python3.11 interpreter; NERD_PYTHON chooses another\)","errorType":"Runtime.InvalidEntrypoint"\}$' "missing interpreter"
has log '^nerd: warning: function PyFn: python3.11: interpreter /nonexistent/python3 not found' "missing interpreter: warning"
NERD_RUNTIMES=/nonexistent inv PyFn
has out '"errorType":"Runtime.InvalidEntrypoint"' "missing runtime client"
has out 'the runtime client for python3.11 was not found \(looked for /nonexistent/python/bootstrap.py; NERD_RUNTIMES names the directory holding python/ and node/\)' "missing runtime client: message"

# --- logs -------------------------------------------------------------------
inv PyFn PyHandler=app.logs
[ "$(cat "$tmp/out")" = '"logged"' ] && ok || bad "logs result $(cat "$tmp/out")"
py "log lines: prints as written, logging in Lambda's format, INFO dropped by default" '
rid = re.search(r"^START RequestId: ([0-9a-f-]{36})", log, re.M).group(1)
body = log[log.index("START RequestId"):log.index("END RequestId")].split("\n")[1:-1]
ts = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z"
assert body[:3] == ["plain print", "two", "lines"], body
assert re.fullmatch(r"\[WARNING\]\t%s\t%s\ta warning formatted" % (ts, rid), body[3]), body
assert re.fullmatch(r"\[ERROR\]\t%s\t%s\tan error line" % (ts, rid), body[4]), body
assert body[5:] == ["context.log line", "to stderr"], body
assert "an info line" not in log, log
'
inv PyFn PyHandler=levels.handler LogLevel=INFO
[ "$(cat "$tmp/out")" = 20 ] && ok || bad "AWS_LAMBDA_LOG_LEVEL=INFO sets the root level: $(cat "$tmp/out")"
has log $'^\\[INFO\\]\t[0-9T:.-]+Z\t[0-9a-f-]{36}\tan info line$' "INFO shown at AWS_LAMBDA_LOG_LEVEL=INFO"
grep -q 'a debug line' "$tmp/log" && bad "DEBUG shown at INFO" || ok
inv PyFn PyHandler=levels.handler LogLevel=TRACE
[ "$(cat "$tmp/out")" = 10 ] && ok || bad "TRACE is DEBUG: $(cat "$tmp/out")"

inv PyFn PyHandler=app.logs LogFormat=JSON
py "AWS_LAMBDA_LOG_FORMAT=JSON: one object per logging record" '
rid = re.search(r"^START RequestId: ([0-9a-f-]{36})", log, re.M).group(1)
recs = [json.loads(l) for l in log.split("\n") if l.startswith("{")]
ts = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"  # no milliseconds
assert [r["message"] for r in recs] == ["a warning formatted", "an error line"], recs
for r, level in zip(recs, ("WARNING", "ERROR")):
    assert list(r) == ["timestamp", "level", "message", "logger", "requestId"], r
    assert re.fullmatch(ts, r["timestamp"]) and r["level"] == level and r["logger"] == "root" and r["requestId"] == rid, r
'
inv PyFn PyHandler=app.fail LogFormat=JSON
py "AWS_LAMBDA_LOG_FORMAT=JSON: the error record" '
r = json.loads(next(l for l in log.split("\n") if l.startswith("{")))
assert list(r) == ["timestamp", "log_level", "errorMessage", "errorType", "requestId", "stackTrace"], r
assert r["log_level"] == "ERROR" and r["errorType"] == "ValueError" and r["errorMessage"] == "boom", r
'

# --- AWS_LAMBDA_EXEC_WRAPPER, as AWS's /var/runtime/bootstrap -------------
inv PyWrapped Wrapper="$TASK/wrapper.sh"
[ $rc -eq 0 ] && grep -q '"WRAPPED": "yes"' "$tmp/out" && ok || bad "wrapper: $rc $(head -c 300 "$tmp/out")"
has log '^wrapper ran: /usr/bin/python3(\.11)? bootstrap\.py$' "the wrapper gets the interpreter and the client"
inv PyWrapped
has out 'Runtime exited with error: exit status 127' "a missing wrapper: exit 127"
has log '^/nonexistent-wrapper: does not exist$' "a missing wrapper: AWS's message"
inv PyWrapped Wrapper="$TASK/app.py"
has out 'Runtime exited with error: exit status 126' "a wrapper that is not executable: exit 126"
has log "^$TASK/app.py: is not an executable\$" "a wrapper that is not executable: AWS's message"

# --- timeouts, crashes, limits: the platform's, as for provided ------------
inv PySlow
has out '^\{"errorMessage":"RequestId: [0-9a-f-]{36} Error: Task timed out after 1.00 seconds","errorType":"Sandbox.Timedout"\}$' "timeout"
has log 'Z [0-9a-f-]{36} Task timed out after 1.00 seconds$' "timeout log line"
has log '^sleeping$' "output before the timeout"
inv PyCrash
has out '^\{"errorMessage":"RequestId: [0-9a-f-]{36} Error: Runtime exited with error: exit status 3","errorType":"Runtime.ExitError"\}$' "crash"
has log '^crashing$' "output before the crash"
limits=$(head -1 "$tmp/log")
inv PyHog
[ $rc -eq 1 ] && ok || bad "hog exit $rc"
case "$limits" in
  *"cgroup v"*) has out 'Runtime exited with error: signal: killed' "the interpreter outgrowing 128 MB is killed" ;;
  *RLIMIT_AS*)  has out '"errorType": "MemoryError"' "the interpreter's allocation refused (RLIMIT_AS)" ;;
  *) bad "limits line: $limits" ;;
esac
grep -q '^allocated' "$tmp/log" && bad "hog allocated 400 MB under a 128 MB limit" || ok
case "$limits" in
  *"cgroup v"*cgroup*)
    inv PyFn PyHandler=app.cgroup
    [ "$(cat "$tmp/out")" = '{"memory": "268435456", "cpu": "2894", "period": "20000"}' ] && ok ||
        bad "the interpreter's cgroups: 256 MB and 256/1769 of a CPU in 20 ms periods: $(cat "$tmp/out")" ;;
esac

# --- through the gateway ------------------------------------------------------
start_gateway --template "$T"
has log '^nerd: function PyFn: python3\.11 on ' "start-up names the interpreter"
code=$(curl -s -m 30 -D "$tmp/h" -o "$tmp/out" -w '%{http_code}' "$url/py/ada?x=1")
[ "$code" = 200 ] && ok || bad "HTTP API: $code $(cat "$tmp/out")"
grep -qi '^x-runtime: python' "$tmp/h" && ok || bad "HTTP API headers: $(cat "$tmp/h")"
py "HTTP API event (payload 2.0), cold" '
b = json.loads(out)
assert b["count"] == 1 and b["event"]["version"] == "2.0", b
assert b["event"]["routeKey"] == "GET /py/{name}" and b["event"]["pathParameters"] == {"name": "ada"}, b
assert b["event"]["queryStringParameters"] == {"x": "1"}, b
'
code=$(curl -s -m 30 -o "$tmp/out" -w '%{http_code}' "$url/Prod/py/grace")
[ "$code" = 200 ] && ok || bad "REST: $code $(cat "$tmp/out")"
py "REST event (payload 1.0), warm: the module imported once" '
b = json.loads(out)
assert b["count"] == 2, b
ev = b["event"]
assert ev["resource"] == "/py/{name}" and ev["path"] == "/py/grace" and ev["httpMethod"] == "GET", ev
assert ev["requestContext"]["stage"] == "Prod", ev
'
for _ in $(seq 50); do [ "$(grep -c '^REPORT' "$tmp/log")" -ge 2 ] && break; sleep 0.1; done
[ "$(grep -c '^INIT_START' "$tmp/log")" = 1 ] && [ "$(grep -c '^init app pid=' "$tmp/log")" = 1 ] &&
    ok || bad "warm: $(grep -c '^INIT_START' "$tmp/log") INIT_START, $(grep -c '^init app' "$tmp/log") imports"
[ "$(grep -c 'Init Duration' "$tmp/log")" = 1 ] && ok || bad "Init Duration once: $(grep REPORT "$tmp/log")"
[ "$(curl -s -m 30 -w ' %{http_code}' "$url/pyfail")" = '{"message":"Internal Server Error"} 500' ] && ok || bad "HTTP API: function error"
[ "$(curl -s -m 30 -w ' %{http_code}' "$url/Prod/pyfail")" = '{"message": "Internal server error"} 502' ] && ok || bad "REST: function error"
[ "$(curl -s -m 30 -w ' %{http_code}' "$url/pyinit")" = '{"message":"Internal Server Error"} 500' ] && ok || bad "HTTP API: init error"
[ "$(curl -s -m 30 -w ' %{http_code}' "$url/Prod/pyinit")" = '{"message": "Internal server error"} 502' ] && ok || bad "REST: init error"
[ "$(curl -s -m 30 -w ' %{http_code}' "$url/pyslow")" = '{"message":"Internal Server Error"} 500' ] && ok || bad "HTTP API: timeout"
[ "$(curl -s -m 30 -w ' %{http_code}' "$url/pycrash")" = '{"message":"Internal Server Error"} 500' ] && ok || bad "HTTP API: crash"
code=$(curl -s -m 30 -o "$tmp/out" -w '%{http_code}' "$url/py/again")
[ "$code" = 200 ] && grep -q '"count": 3' "$tmp/out" && ok || bad "serving on after the others' failures: $code $(cat "$tmp/out")"
grep -q 'Task timed out after 1.00 seconds' "$tmp/log" && ok || bad "gateway log: timeout"
grep -q 'Runtime exited with error: exit status 3' "$tmp/log" && ok || bad "gateway log: crash"
kill $gw; wait $gw 2>/dev/null
rts=$(logged_pids "$tmp/log")
[ -n "$rts" ] && groups_exit $rts && ok || bad "python runtimes left running: $rts"
finish
