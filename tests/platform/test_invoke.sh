#!/usr/bin/env bash
# nerd local invoke with a real custom runtime (bash + curl, as in AWS's
# tutorial: tests/data/functions/modes/bootstrap) in a real process, over a
# real Runtime API socket: success, handled error, crash, timeout, init
# error, bad request id / unknown route, oversized and chunked responses,
# missing bootstrap; the START/END/REPORT and INIT_REPORT lines and the
# payloads.  Runtimes are checked by the PIDs they log (their process
# groups), never by name.
. tests/lib.sh
T=tests/data/functions/modes.yaml
printf '{"text":"Alan Turing"}' > "$tmp/event.json"
inv() { # FUNCTION -> $tmp/out, $tmp/log, $rc
    timeout 30 "$NERD" local invoke "$1" --template "$T" --event "$tmp/event.json" \
        > "$tmp/out" 2> "$tmp/log"; rc=$?
}
has() { grep -qE -- "$2" "$tmp/$1" && ok || bad "$3: /$2/ not in $1: $(head -c 600 "$tmp/$1")"; }
gone() { # LABEL: the runtimes this invocation logged (and their children) have all exited
    local g; g=$(logged_pids "$tmp/log")
    [ -n "$g" ] || { bad "$1: no runtime pid in the log"; return; }
    groups_exit $g && ok || bad "$1: still running in process group(s) $g"
}

inv Echo
[ $rc -eq 0 ] && ok || bad "echo exit $rc"
[ "$(cat "$tmp/out")" = '{"echo":{"text":"Alan Turing"}}' ] && ok || bad "echo payload: $(cat "$tmp/out")"
has log '^INIT_START Runtime Version: provided:al2023' "init line"
has log '^START RequestId: [0-9a-f-]{36} Version: \$LATEST$' "START"
has log '^END RequestId: [0-9a-f-]{36}$' "END"
has log $'^REPORT RequestId: [0-9a-f-]{36}\tDuration: [0-9]+\\.[0-9]{2} ms\tBilled Duration: [0-9]+ ms\tMemory Size: 256 MB\tMax Memory Used: [0-9]+ MB\tInit Duration: [0-9]+\\.[0-9]{2} ms\t$' "REPORT with Init Duration"
has log '^init mode=echo fn=Echo mem=256 pid=[0-9]+$' "environment variables and function output"
has log '^deadline header ok$' "Lambda-Runtime-Deadline-Ms"
has log '^arn header ok$' "Lambda-Runtime-Invoked-Function-Arn"

inv Error
[ $rc -eq 1 ] && ok || bad "error exit $rc"
[ "$(cat "$tmp/out")" = '{"errorMessage":"bad input","errorType":"Handled"}' ] && ok || bad "error payload"

inv Crash
[ $rc -eq 1 ] && ok || bad "crash exit $rc"
has out '"errorType":"Runtime.ExitError"' "crash type"
has out 'Runtime exited with error: exit status 42' "crash message"
has log '^crashing$' "output before the crash"

# a runtime that exits leaving a child holding its stdout: answered at once
t0=$(date +%s)
inv Orphan
[ $rc -eq 1 ] && [ $(( $(date +%s) - t0 )) -lt 10 ] && ok || bad "orphan: exit $rc after $(( $(date +%s) - t0 )) s"
has out 'Runtime exited with error: exit status 3' "orphan message"
has log '^orphan pid=[0-9]+$' "orphan's pid logged"
gone "orphan child"  # it is in its runtime's process group

# MemorySize is enforced: the runtime outgrows 128 MB and is stopped
limits=$(head -1 "$tmp/log")
inv Hog
[ $rc -eq 1 ] && ok || bad "hog exit $rc"
has out '"errorType":"Runtime.ExitError"' "hog error type"
case "$limits" in
  *"cgroup v"*) has out 'Runtime exited with error: signal: killed' "hog killed by the memory cgroup"
                has log 'Memory Size: 128 MB	Max Memory Used: 1[0-9][0-9] MB' "hog peak memory near the limit" ;;
  *RLIMIT_AS*)  has out 'Runtime exited with error: exit status 1' "hog: allocation refused (RLIMIT_AS)" ;;
  *) bad "limits line: $limits" ;;
esac
grep -q '^allocated' "$tmp/log" && bad "hog allocated 400 MB under a 128 MB limit" || ok
has log '^limits: memory = MemorySize via ' "limits line at start-up"

inv Slow
[ $rc -eq 1 ] && ok || bad "timeout exit $rc"
has out '"errorType":"Sandbox.Timedout"' "timeout type"
has out 'Task timed out after 1.00 seconds' "timeout message"
has log 'Z [0-9a-f-]{36} Task timed out after 1.00 seconds$' "timeout log line"
gone "timed-out runtime"

inv InitErr
[ $rc -eq 1 ] && ok || bad "init error exit $rc"
[ "$(cat "$tmp/out")" = '{"errorMessage":"cannot load model","errorType":"Runtime.Boom"}' ] && ok || bad "init error payload: $(cat "$tmp/out")"
has log $'^INIT_REPORT Init Duration: [0-9]+\\.[0-9]{2} ms\tPhase: init\tStatus: error\tError Type: Runtime.Boom$' "INIT_REPORT, init phase"
has log $'^INIT_REPORT Init Duration: [0-9]+\\.[0-9]{2} ms\tPhase: invoke\tStatus: error\tError Type: Runtime.Boom$' "INIT_REPORT, Lambda's retry in the invoke phase"
has log '^RequestId: [0-9a-f-]{36} Error: cannot load model$' "init error message logged"
has log $'\tMax Memory Used: [0-9]+ MB\tStatus: error\tError Type: Runtime.Boom$' "REPORT with Status: error"
[ "$(grep -c '^init mode=initerror ' "$tmp/log")" = 2 ] && ok || bad "init not retried once: $(grep -c '^init mode=initerror ' "$tmp/log") runs"
gone "runtime after its init error"

inv BadId
[ $rc -eq 0 ] && ok || bad "badid exit $rc"
has log '^wrong id: 400$' "400 InvalidRequestID"
has log '^unknown route: 404$' "404 unknown route"
has log '^late init error: 403$' "403 /init/error once init is over"
[ "$(cat "$tmp/out")" = '"first"' ] && ok || bad "badid payload"

inv Big
[ $rc -eq 1 ] && ok || bad "big exit $rc"
has out '"errorType":"Function.ResponseSizeTooLarge"' "413 mapped to ResponseSizeTooLarge"

inv Chunked
[ $rc -eq 0 ] && ok || bad "chunked exit $rc"
[ "$(cat "$tmp/out")" = '{"chunked":true}' ] && ok || bad "chunked payload: $(cat "$tmp/out")"

inv Missing
[ $rc -eq 1 ] && ok || bad "missing exit $rc"
has out '"errorType":"Runtime.InvalidEntrypoint"' "missing bootstrap"
has out "Error: Couldn't find valid bootstrap\\(s\\): \\[$PWD/tests/data/functions/no-such-dir/bootstrap\\]\"" "missing bootstrap message"
has log $'^INIT_REPORT Init Duration: [0-9]+\\.[0-9]{2} ms\tPhase: init\tStatus: error\tError Type: Runtime.InvalidEntrypoint$' "missing bootstrap: INIT_REPORT"

# usage errors
"$NERD" local invoke Nope --template "$T" > /dev/null 2>&1; [ $? -eq 2 ] && ok || bad "unknown function"
"$NERD" local invoke --template /nonexistent.yaml > /dev/null 2> "$tmp/err"; [ $? -eq 2 ] && ok || bad "missing template"
grep -q "/nonexistent.yaml" "$tmp/err" && ok || bad "template error message"
"$NERD" local validate --template "$T" > "$tmp/v"; [ $? -eq 0 ] && ok || bad "validate"
grep -q "^function Slow: .*modes/bootstrap, provided.al2023, x86_64, 256 MB, 1 s timeout" "$tmp/v" && ok || bad "validate output: $(cat "$tmp/v")"
finish
