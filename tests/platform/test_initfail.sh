#!/usr/bin/env bash
# Functions that cannot start, under `nerd local start-api`
# (tests/data/functions/initfail.yaml): the start-up warnings naming a
# missing or non-executable bootstrap; the lines Lambda logs for a failed
# init (INIT_REPORT for the init phase and for its retry in the invoke
# phase, the error inside START..END, REPORT with Status: error and the
# Error Type) for Runtime.InvalidEntrypoint, a runtime's own
# /runtime/init/error and Runtime.ExitError; the answers: 500
# {"message":"Internal Server Error"} from the HTTP API, 200 with
# X-Amz-Function-Error: Unhandled and the error JSON from the Invoke API,
# X-Amz-Log-Result with those lines; and the gateway keeps serving.
. tests/lib.sh
T=tests/data/functions/initfail.yaml
D=$PWD/tests/data/functions
start_gateway --template "$T"
inv=$url/2015-03-31/functions
has() { grep -qE -- "$1" "$tmp/log" && ok || bad "$2: /$1/ not in the log: $(tail -20 "$tmp/log")"; }
lines() { grep -cE -- "$1" "$tmp/log"; }
ir() { printf '^INIT_REPORT Init Duration: [0-9]+\\.[0-9]{2} ms\tPhase: %s\tStatus: error\tError Type: %s$' "$1" "$2"; }
report() { printf '^REPORT RequestId: %s\tDuration: [0-9]+\\.[0-9]{2} ms\tBilled Duration: [0-9]+ ms\tMemory Size: 128 MB\tMax Memory Used: [0-9]+ MB\tStatus: error\tError Type: %s$' "$1" "$2"; }
invoke() { # FUNCTION -> $tmp/h, $tmp/b; $rid: the invocation's request id
    curl -s -D "$tmp/h" -o "$tmp/b" -X POST "$inv/$1/invocations" -H 'X-Amz-Log-Type: Tail' -d '{}'
    rid=$(tr -d '\r' < "$tmp/h" | sed -nE 's/^x-amzn-requestid: (.*)$/\1/Ip')
}
unhandled() { # LABEL: 200, X-Amz-Function-Error: Unhandled
    head -1 "$tmp/h" | grep -q '^HTTP/1.1 200' && grep -qi '^x-amz-function-error: Unhandled' "$tmp/h" &&
        ok || bad "$1: want 200 + X-Amz-Function-Error: Unhandled, got $(head -1 "$tmp/h")"
}

# start-up: each function without a runnable bootstrap is named, once
has "^nerd: warning: function NoBoot: CodeUri tests/data/functions/no-such-dir does not exist; its invocations will fail with Runtime.InvalidEntrypoint$" "warning: no CodeUri"
has "^nerd: warning: function NotExec: tests/data/functions/notexec/bootstrap is not executable; its invocations will fail with Runtime.InvalidEntrypoint$" "warning: not executable"
[ "$(lines '^nerd: warning: ')" = 2 ] && ok || bad "warnings: $(grep '^nerd: warning' "$tmp/log")"

# no bootstrap: the HTTP API answers 500, the log says why
[ "$(curl -s -w ' %{http_code}' "$url/noboot")" = '{"message":"Internal Server Error"} 500' ] && ok || bad "/noboot: want 500"
has "$(ir init Runtime.InvalidEntrypoint)" "INIT_REPORT, init phase"
has "$(ir invoke Runtime.InvalidEntrypoint)" "INIT_REPORT, invoke phase"
has "^RequestId: [0-9a-f-]{36} Error: Couldn't find valid bootstrap\(s\): \[$D/no-such-dir/bootstrap\]$" "InvalidEntrypoint message"
has '^Runtime.InvalidEntrypoint$' "error type line"
has "$(report '[0-9a-f-]{36}' Runtime.InvalidEntrypoint)" "REPORT with Status: error"
invoke NoBoot
unhandled "Invoke NoBoot"
[ "$(cat "$tmp/b")" = "{\"errorMessage\":\"RequestId: $rid Error: Couldn't find valid bootstrap(s): [$D/no-such-dir/bootstrap]\",\"errorType\":\"Runtime.InvalidEntrypoint\"}" ] &&
    ok || bad "Invoke NoBoot body: $(cat "$tmp/b")"
# the log tail: INIT_START, both INIT_REPORTs, START, the error, END, REPORT
tr -d '\r' < "$tmp/h" | sed -nE 's/^x-amz-log-result: (.*)$/\1/Ip' | base64 -d > "$tmp/tail"
cat > "$tmp/want" <<EOF
INIT_START
INIT_REPORT Phase: init Runtime.InvalidEntrypoint
INIT_REPORT Phase: invoke Runtime.InvalidEntrypoint
START RequestId: $rid Version: \$LATEST
RequestId: $rid Error: Couldn't find valid bootstrap(s): [$D/no-such-dir/bootstrap]
Runtime.InvalidEntrypoint
END RequestId: $rid
REPORT RequestId: $rid Runtime.InvalidEntrypoint
EOF
sed -E -e 's/^(INIT_START) .*/\1/' -e 's/^(INIT_REPORT) .*\t(Phase: [a-z]+)\t.*Error Type: (.*)$/\1 \2 \3/' \
    -e 's/^(REPORT RequestId: [^\t]*)\t.*Error Type: (.*)$/\1 \2/' "$tmp/tail" > "$tmp/got"
cmp -s "$tmp/want" "$tmp/got" && ok || bad "log tail: $(diff "$tmp/want" "$tmp/got")"

# a bootstrap that is there but not executable
[ "$(curl -s -w ' %{http_code}' "$url/notexec")" = '{"message":"Internal Server Error"} 500' ] && ok || bad "/notexec: want 500"
has "^RequestId: [0-9a-f-]{36} Error: fork/exec $D/notexec/bootstrap: permission denied$" "not executable: message"

# the runtime posts /runtime/init/error (Runtime.Boom) and exits
[ "$(curl -s -w ' %{http_code}' "$url/initerror")" = '{"message":"Internal Server Error"} 500' ] && ok || bad "/initerror: want 500"
has "$(ir init Runtime.Boom)" "init error: INIT_REPORT, init phase"
has "$(ir invoke Runtime.Boom)" "init error: INIT_REPORT, invoke phase"
has '^RequestId: [0-9a-f-]{36} Error: cannot load model$' "init error: its message"
has '^Runtime.Boom$' "init error: its type"
has "$(report '[0-9a-f-]{36}' Runtime.Boom)" "init error: REPORT"
[ "$(lines '^init mode=initerror ')" = 2 ] && ok || bad "init error: init ran $(lines '^init mode=initerror ') times (want 2: Lambda retries it once)"
invoke InitErr
unhandled "Invoke InitErr"
[ "$(cat "$tmp/b")" = '{"errorMessage":"cannot load model","errorType":"Runtime.Boom"}' ] && ok || bad "Invoke InitErr: the posted body, got $(cat "$tmp/b")"

# the runtime exits (status 1) before its first /next
[ "$(curl -s -w ' %{http_code}' "$url/initexit")" = '{"message":"Internal Server Error"} 500' ] && ok || bad "/initexit: want 500"
has "$(ir init Runtime.ExitError)" "exit: INIT_REPORT, init phase"
has "$(ir invoke Runtime.ExitError)" "exit: INIT_REPORT, invoke phase"
has '^RequestId: [0-9a-f-]{36} Error: Runtime exited with error: exit status 1$' "exit: message"
has '^cannot start: exiting before /next$' "exit: the runtime's own output"
invoke InitExit
unhandled "Invoke InitExit"
[ "$(cat "$tmp/b")" = "{\"errorMessage\":\"RequestId: $rid Error: Runtime exited with error: exit status 1\",\"errorType\":\"Runtime.ExitError\"}" ] &&
    ok || bad "Invoke InitExit body: $(cat "$tmp/b")"
has "$(report "$rid" Runtime.ExitError)" "exit: REPORT of that invocation"

# and the gateway goes on serving the function that works
[ "$(curl -s -X POST "$url/echo" -H 'content-type: application/json' -d '{}' -o /dev/null -w '%{http_code}')" = 200 ] && ok || bad "/echo after the failures"

# every runtime of the failed inits has gone
kill -TERM $gw; wait $gw; rc=$?
[ $rc -eq 0 ] && ok || bad "gateway exit $rc"
rts=$(logged_pids "$tmp/log")
[ "$(echo $rts | wc -w)" -ge 9 ] && ok || bad "runtime pids logged: $rts"
groups_exit $rts && ok || bad "runtimes left in groups: $rts"
finish
