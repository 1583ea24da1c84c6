#!/usr/bin/env bash
# Node.js functions (tests/data/functions/nodejs/, nodejs.yaml) on the
# platform's nodejs runtimes, run by /usr/bin/node with each runtime client
# in turn: the platform's own (runtimes/node/index.mjs), then AWS's
# aws-lambda-ric 3.3.0 (runtimes/node/ric.mjs, where `make test-deps` or
# `make node-ric` installed it under runtimes/node/node_modules; else that
# pass is skipped and said so).  The same assertions for both, where AWS's published 3.3.0
# differs from the behaviour the spec takes from AWS's current source, the
# difference is asserted per client (the callback-handler warning, and
# Runtime.NodeJsExit for an async handler that never settles: 3.3.0 answers
# null).  Through `nerd local invoke`: CommonJS, ES modules (.mjs, .js under
# "type": "module"), .cjs, a module root, nested properties; async, callback,
# context.succeed, callbackWaitsForEmptyEventLoop both ways, a handler that
# never completes; the context and environment; every init and invocation
# error with AWS's type and message; the log lines (format, levels,
# AWS_LAMBDA_LOG_LEVEL); timeouts, uncaught exceptions, the memory limit.
# Through the gateway (HTTP API and REST): events, warm reuse, errors.
. tests/lib.sh
T=tests/data/functions/nodejs.yaml
TASK=$(cd tests/data/functions/nodejs && pwd)
RT=$PWD/runtimes/node
printf '{"text":"Alan Turing"}' > "$tmp/event.json"
inv() { # FUNCTION [OVERRIDES...] -> $tmp/out, $tmp/log, $rc
    local fn=$1; shift
    timeout 30 "$NERD" local invoke "$fn" --template "$T" --event "$tmp/event.json" \
        --parameter-overrides "$@" > "$tmp/out" 2> "$tmp/log"; rc=$?
}
has() { grep -qE -- "$2" "$tmp/$1" && ok || bad "$client: $3: /$2/ not in $1: $(head -c 800 "$tmp/$1")"; }
is() { [ "$(cat "$tmp/out")" = "$2" ] && ok || bad "$client: $1: $(head -c 600 "$tmp/out")"; }
py() { # LABEL SCRIPT: python asserts on $tmp/out (out) and $tmp/log (log)
    python3 - "$tmp/out" "$tmp/log" "$TASK" > "$tmp/py" 2>&1 <<EOF && ok || bad "$client: $1: $(tail -3 "$tmp/py")"
import json, re, sys
out = open(sys.argv[1], encoding="utf-8", newline="").read()
log = open(sys.argv[2], encoding="utf-8", newline="").read()
TASK = sys.argv[3]
TS = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z"
RID = (re.search(r"^START RequestId: ([0-9a-f-]{36})", log, re.M) or re.search("()", "")).group(1)
$2
EOF
}
init_error() { # HANDLER TYPE MESSAGE-PREFIX
    inv NodeFn NodeHandler=$1
    py "$1" '
d = json.loads(out)
assert d["errorType"] == "'"$2"'", d
assert d["errorMessage"].startswith("""'"$3"'"""), d
assert d["trace"][0].startswith("'"$2"': " + d["errorMessage"].split("\n")[0]), d
assert re.search(r"^%s\tundefined\tERROR\tUncaught Exception \t\{\"errorType\":\"'"$2"'\"" % TS, log, re.M), log
for phase in ("init", "invoke"):
    assert "INIT_REPORT Init Duration: " in log and "\tPhase: %s\tStatus: error\tError Type: '"$2"'\n" % phase in log, log
'
}

suite() {
    export NERD_NODE_CLIENT=$client
    # --- the handler's world ---------------------------------------------
    inv NodeFn NodeHandler=index.handler
    [ $rc -eq 0 ] && ok || bad "$client: handler exit $rc: $(tail -3 "$tmp/log")"
    py "context and environment" '
b = json.loads(out)
assert b["event"] == {"text": "Alan Turing"} and b["count"] == 1, b
assert b["functionName"] == "NodeFn" and b["functionVersion"] == "$LATEST", b
assert b["invokedFunctionArn"] == "arn:aws:lambda:us-east-1:123456789012:function:NodeFn", b
assert b["memoryLimitInMB"] == "256" and b["awsRequestId"] == RID, b
assert b["logGroupName"] == "/aws/lambda/NodeFn" and b["logStreamName"] == "$LATEST", b
assert b["identity"] == "undefined" and b["clientContext"] == "undefined", b
assert 0 < b["remaining"] <= 3000 and b["waits"] is True, b
e = b["env"]
assert e["AWS_EXECUTION_ENV"] == "AWS_Lambda_nodejs20.x" and e["_HANDLER"] == "index.handler", e
assert e["LAMBDA_TASK_ROOT"] == TASK and b["cwd"] == TASK, b
assert e["LAMBDA_RUNTIME_DIR"].endswith("/runtimes/node"), e
rt = e["LAMBDA_RUNTIME_DIR"]
assert e["NODE_PATH"] == "/opt/nodejs/node_modules:/opt/nodejs/node20/node_modules:%s/node_modules:%s:%s" % (rt, rt, TASK), e
assert e["TZ"] == ":UTC" and e["LANG"] == "en_US.UTF-8" and e["GREETING"] == "hello", e
assert e["PATH"] == "/usr/local/bin:/usr/bin/:/bin:/opt/bin", e
assert e["_X_AMZN_TRACE_ID"].startswith("Root=1-"), e
assert b["execPath"] == "/usr/bin/node", b
'
    py "log order and line format" '
lines = log.split("\n")
i = lambda p: next(k for k, l in enumerate(lines) if re.match(p, l))
assert i(r"^INIT_START Runtime Version: nodejs:20\.v1\t") < i(r"^%s\tundefined\tINFO\tinit index pid=" % TS) < i(r"^START ") < i(r"^%s\t%s\tINFO\thandling -$" % (TS, RID)) < i(r"^END ") < i(r"^REPORT .*\tInit Duration: "), lines
'
    # module kinds, module root, nested properties
    for case in 'esm.handler {"kind":"mjs","fn":"NodeFn"}' 'esmpkg/app.handler {"kind":"esm .js","meta":"string"}' \
                'cjs.handler {"kind":"cjs"}' 'src/handlers/deep.handler {"kind":"deep","dir":"src/handlers"}' \
                'index.nested.deeper.fn {"nested":true}'; do
        inv NodeFn NodeHandler=${case%% *}
        is "${case%% *}" "${case#* }"
    done

    # --- completion -------------------------------------------------------
    inv NodeFn NodeHandler=index.cb
    is "callback" '{"style":"callback","count":1}'
    if [ "$client" = nerd ]; then
        has log $'\tundefined\tWARN\tAWS Lambda plans to remove support for callback-based function handlers starting with Node.js 24\\. ' "callback-handler warning"
    fi
    inv NodeFn NodeHandler=index.succeed
    is "context.succeed (the second ignored)" '{"style":"succeed"}'
    inv NodeFn NodeHandler=index.waits
    is "callbackWaitsForEmptyEventLoop" '"after the timer"'
    py "the result waits for the timer" '
assert log.index("\tINFO\ttimer fired") < log.index("END RequestId"), log
'
    inv NodeFn NodeHandler=index.nowait
    is "callbackWaitsForEmptyEventLoop = false" '"before the timer"'
    grep -q 'late timer' "$tmp/log" && bad "$client: nowait waited for the timer" || ok
    inv NodeFn NodeHandler=index.nothing
    is "a handler that never completes: null" 'null'
    inv NodeFn NodeHandler=index.never
    if [ "$client" = nerd ]; then
        py "an async handler that never settles: Runtime.NodeJsExit" '
d = json.loads(out)
assert d["errorType"] == "Runtime.NodeJsExit", d
assert d["errorMessage"] == "The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled. For more information, see https://nodejs.org/docs/latest/api/process.html#exit-codes", d
'
    else
        is "an async handler that never settles (aws-lambda-ric 3.3.0)" 'null'
    fi

    # --- invocation errors ---------------------------------------------------
    inv NodeFn NodeHandler=index.thrower
    [ $rc -eq 1 ] && ok || bad "$client: thrower exit $rc"
    py "a thrown error: document and log" '
d = json.loads(out)
assert list(d) == ["errorType", "errorMessage", "trace"], d
assert d["errorType"] == "TypeError" and d["errorMessage"] == "boom", d
assert d["trace"][0] == "TypeError: boom" and TASK + "/index.js:" in d["trace"][1], d
m = re.search(r"^%s\t%s\tERROR\tInvoke Error \t(\{.*\})$" % (TS, RID), log, re.M)
logged = json.loads(m.group(1))
assert logged["errorType"] == "TypeError" and logged["errorMessage"] == "boom" and logged["extra"] == 5, logged
assert logged["stack"][0] == "TypeError: boom", logged
'
    inv NodeFn NodeHandler=index.syncthrow
    has out '^\{"errorType":"RangeError","errorMessage":"sync boom","trace":\["RangeError: sync boom",' "a synchronous throw"
    inv NodeFn NodeHandler=index.cberr
    is 'callback("Unauthorized")' '{"errorType":"string","errorMessage":"Unauthorized","trace":[]}'
    has log $'\tERROR\tInvoke Error \t\\{"errorType":"Error","errorMessage":"Unauthorized",' "callback error logged"
    inv NodeFn NodeHandler=index.uncaught
    has out '^\{"errorType":"Error","errorMessage":"thrown in a timer","trace":\["Error: thrown in a timer",' "an uncaught exception during the invocation"
    has log $'\tERROR\tUncaught Exception \t\\{"errorType":"Error","errorMessage":"thrown in a timer"' "uncaught exception logged"
    inv NodeFn NodeHandler=index.rejects
    has out '^\{"errorType":"Runtime.UnhandledPromiseRejection","errorMessage":"Error: nobody catches this","trace":\[' "an unhandled rejection"
    has log $'\tERROR\tUnhandled Promise Rejection \t\\{"errorType":"Runtime.UnhandledPromiseRejection"' "unhandled rejection logged"

    # --- init errors ---------------------------------------------------------
    init_error nosuch.handler Runtime.ImportModuleError "Error: Cannot find module 'nosuch'
Require stack:
- "
    init_error needsdep.handler Runtime.ImportModuleError "Error: Cannot find module 'notinstalled'
Require stack:
- $TASK/needsdep.js"
    init_error index.missing Runtime.HandlerNotFound "index.missing is undefined or not exported"
    init_error index.notfn Runtime.HandlerNotFound "index.notfn is not a function"
    init_error broken.handler Runtime.UserCodeSyntaxError "SyntaxError: Unexpected token ';'"
    init_error ../x.handler Runtime.MalformedHandlerName "'../x.handler' is not a valid handler name. Use absolute paths when specifying root directories in handler names."
    init_error index Runtime.MalformedHandlerName "Bad handler"

    # --- logs ------------------------------------------------------------------
    inv NodeFn NodeHandler=index.logs
    is "logs result" '"logged"'
    py "console in Lambda log lines: levels, formatting, newlines as CR" '
body = log[log.index("START RequestId"):log.index("END RequestId")].split("\n")[1:-1]
want = [("INFO", "a log line { a: [ 1, 2 ] }"), ("INFO", "info formatted"), ("WARN", "two\rlines"),
        ("ERROR", "an error"), ("DEBUG", "a debug line"), ("TRACE", "a trace line")]
for (level, text), line in zip(want, body):
    assert re.fullmatch(r"%s\t%s\t%s\t%s" % (TS, RID, level, re.escape(text)), line), (line, level, text)
assert body[6:] == ["raw write"], body
'
    inv NodeFn NodeHandler=index.logs LogLevel=WARN
    py "AWS_LAMBDA_LOG_LEVEL=WARN" '
body = log[log.index("START RequestId"):log.index("END RequestId")].split("\n")[1:-1]
assert [l.split("\t")[2] for l in body[:2]] == ["WARN", "ERROR"] and body[2:] == ["raw write"], body
'

    inv NodeFn NodeHandler=index.logs LogFormat=JSON
    py "AWS_LAMBDA_LOG_FORMAT=JSON" '
recs = [json.loads(l) for l in log.split("\n") if l.startswith("{")][1:]  # (after init'"'"'s)
assert [(r["level"], r["message"]) for r in recs] == [("INFO", "a log line { a: [ 1, 2 ] }"), ("INFO", "info formatted"), ("WARN", "two\nlines"), ("ERROR", "an error"), ("DEBUG", "a debug line"), ("TRACE", "a trace line")], recs
for r in recs:
    assert list(r) == ["timestamp", "level", "requestId", "message"] and re.fullmatch(TS, r["timestamp"]) and r["requestId"] == RID, r
'
    inv NodeFn NodeHandler=index.thrower LogFormat=JSON
    py "AWS_LAMBDA_LOG_FORMAT=JSON: an invoke error logged as an object" '
r = json.loads([l for l in log.split("\n") if l.startswith("{")][1])
assert r["level"] == "ERROR" and r["message"]["errorType"] == "TypeError" and r["message"]["errorMessage"] == "boom", r
assert r["message"]["stackTrace"][0] == "TypeError: boom" and r["message"]["extra"] == 5, r
'

    # --- timeouts, crashes, limits -------------------------------------------------
    inv NodeSlow
    has out '^\{"errorMessage":"RequestId: [0-9a-f-]{36} Error: Task timed out after 1.00 seconds","errorType":"Sandbox.Timedout"\}$' "timeout"
    inv NodeHog
    [ $rc -eq 1 ] && ok || bad "$client: hog exit $rc"
    case "$(head -1 "$tmp/log")" in
      *"cgroup v"*) has out 'Runtime exited with error: signal: killed' "node outgrowing 128 MB is killed" ;;
      *) has out '"errorType":"Runtime.ExitError"' "node outgrowing 128 MB fails" ;;
    esac
    grep -q 'allocated 400 MB' "$tmp/log" && bad "$client: hog allocated 400 MB under 128 MB" || ok

    # --- through the gateway ---------------------------------------------------------
    start_gateway --template "$T"
    code=$(curl -s -m 30 -D "$tmp/h" -o "$tmp/out" -w '%{http_code}' "$url/node/ada")
    [ "$code" = 200 ] && grep -qi '^x-runtime: node' "$tmp/h" && ok || bad "$client: HTTP API: $code $(cat "$tmp/out")"
    py "HTTP API event, cold" '
b = json.loads(out)
assert b["count"] == 1 and b["event"]["routeKey"] == "GET /node/{name}", b
assert b["event"]["pathParameters"] == {"name": "ada"}, b
'
    code=$(curl -s -m 30 -o "$tmp/out" -w '%{http_code}' "$url/Prod/node/grace")
    [ "$code" = 200 ] && ok || bad "$client: REST: $code $(cat "$tmp/out")"
    py "REST event, warm" '
b = json.loads(out)
assert b["count"] == 2 and b["event"]["resource"] == "/node/{name}" and b["event"]["path"] == "/node/grace", b
'
    [ "$(grep -c '^INIT_START' "$tmp/log")" = 1 ] && ok || bad "$client: warm reuse: $(grep -c '^INIT_START' "$tmp/log") inits"
    [ "$(curl -s -m 30 -w ' %{http_code}' "$url/nodefail")" = '{"message":"Internal Server Error"} 500' ] && ok || bad "$client: HTTP API: function error"
    [ "$(curl -s -m 30 -w ' %{http_code}' "$url/Prod/nodefail")" = '{"message": "Internal server error"} 502' ] && ok || bad "$client: REST: function error"
    [ "$(curl -s -m 30 -w ' %{http_code}' "$url/nodeinit")" = '{"message":"Internal Server Error"} 500' ] && ok || bad "$client: HTTP API: init error"
    [ "$(curl -s -m 30 -w ' %{http_code}' "$url/nodeslow")" = '{"message":"Internal Server Error"} 500' ] && ok || bad "$client: HTTP API: timeout"
    [ "$(curl -s -m 30 -w ' %{http_code}' "$url/nodecrash")" = '{"message":"Internal Server Error"} 500' ] && ok || bad "$client: HTTP API: uncaught exception"
    # the environment that threw exits (129) once its error is posted: a
    # request may still reach it before its exit is seen (then it fails as
    # Runtime.ExitError), the next starts another environment
    for _ in 1 2; do
        [ "$(curl -s -m 30 -w ' %{http_code}' "$url/nodecrash")" = '{"message":"Internal Server Error"} 500' ] && ok || bad "$client: HTTP API: uncaught exception, again"
    done
    for _ in $(seq 50); do [ "$(grep -c '^INIT_START' "$tmp/log")" -ge 6 ] && break; sleep 0.1; done
    [ "$(grep -c 'Runtime Version: nodejs:20' "$tmp/log")" -ge 6 ] && ok || bad "$client: cold start after the crash: $(grep -c '^INIT_START' "$tmp/log")"
    kill $gw; wait $gw 2>/dev/null
    rts=$(logged_pids "$tmp/log")
    [ -n "$rts" ] && groups_exit $rts && ok || bad "$client: node runtimes left running: $rts"
    unset NERD_NODE_CLIENT
}

client=nerd
suite

# AWS's aws-lambda-ric, where `make test-deps` (or `make node-ric`) installed it
if [ -e "$RT/node_modules/aws-lambda-ric/dist/rapid-client.node" ]; then
    client=aws
    suite
else
    echo "note: AWS's aws-lambda-ric is not installed (make node-ric): its pass skipped" >&2
fi
finish
