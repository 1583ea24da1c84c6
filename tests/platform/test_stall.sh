#!/usr/bin/env bash
# Runtimes that stall the Runtime API (tests/data/functions/stall/bootstrap)
# must hold up nothing but their own invocation: HalfHead takes its event,
# then sends half of its POST /response head and hangs; NoRead sends GET
# /next and never reads the (4 MB) event.  While three such invocations
# are outstanding (HalfHead through the default integration timeout and
# through one of 1 s, NoRead), the Prompt function (the trivial C runtime)
# keeps answering: every request 200 "hello" within STALL_MAX_MS (1,000)
# ms.  The stalled invocations end as docs/platform.md says: at the
# function's Timeout (3 s) the runtime is killed ("Task timed out after
# 3.00 seconds") and the HTTP API answers 500 {"message":"Internal Server
# Error"}; where the route's TimeoutInMillis (1 s) comes first, 503
# {"message":"Service Unavailable"} at 1 s while the function runs on to
# its own deadline.  Then the stallers' process groups are gone and the
# gateway serves on and stops cleanly.
. tests/lib.sh
MAX_MS=${STALL_MAX_MS:-1000}
HELLO=$(cd "$(dirname "$NERD")" && pwd)/functions/hello
start_gateway --template tests/data/functions/stall.yaml --parameter-overrides "CodeDir=$HELLO"
[ "$(curl -s -m 5 "$url/prompt")" = hello ] && ok || bad "warm-up request"

# the stallers: each curl writes "CODE SECONDS" and the body
stall() { # NAME CURL-ARGS...
    local name=$1; shift
    curl -s -m 20 -o "$tmp/$name.body" -w '%{http_code} %{time_total}' "$@" > "$tmp/$name.out" &
    spids="$spids $!"
}
head -c $((4 << 20)) /dev/zero | tr '\0' a > "$tmp/big"
spids=
stall halfhead "$url/halfhead"
stall short "$url/halfhead/short"
stall noread -H 'content-type: text/plain' -H 'Expect:' --data-binary @"$tmp/big" "$url/noread"
pids="$pids $spids"
for _ in $(seq 100); do [ "$(grep -c '^stalling: ' "$tmp/log")" -ge 3 ] && break; sleep 0.05; done
[ "$(grep -c '^stalling: ' "$tmp/log")" -ge 3 ] && ok ||
    bad "the stallers' 'stalling:' lines logged within 5 s: $(grep -c '^stalling: ' "$tmp/log") of 3"

# Prompt answers at once while they are outstanding
running() { local p; for p in $spids; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
n=0; slow=0; wrong=0; max=0; t0=$(date +%s%N)
while running && [ "$n" -lt 1000 ]; do
    out=$(curl -s -m 5 -w ' %{http_code} %{time_total}' "$url/prompt")
    read -r b code secs <<< "$out"
    ms=$(awk -v s="${secs:-99}" 'BEGIN { printf "%d", s * 1000 }')
    [ "$b $code" = "hello 200" ] || { wrong=$((wrong + 1)); echo "prompt answered: $out" >&2; }
    [ "$ms" -lt "$MAX_MS" ] || slow=$((slow + 1))
    [ "$ms" -gt "$max" ] && max=$ms
    n=$((n + 1))
    sleep 0.02
done
for p in $spids; do wait "$p"; done
echo "prompt: $n requests in $(( ($(date +%s%N) - t0) / 1000000 )) ms while the stallers were outstanding, $wrong wrong, $slow over $MAX_MS ms, max $max ms"
[ "$n" -ge 20 ] && ok || bad "only $n prompt requests were made while the stallers were outstanding"
[ "$wrong" -eq 0 ] && ok || bad "$wrong prompt requests not answered 200 hello"
[ "$slow" -eq 0 ] && ok || bad "$slow prompt requests took $MAX_MS ms or more (max $max ms)"

# the stallers' own answers, at their deadlines
check() { # NAME CODE BODY MIN_MS MAX_MS
    local code secs ms b
    read -r code secs < "$tmp/$1.out"
    ms=$(awk -v s="${secs:-0}" 'BEGIN { printf "%d", s * 1000 }')
    b=$(head -c 200 "$tmp/$1.body" 2>/dev/null)
    echo "$1: $code after $ms ms: $b"
    [ "$code $b" = "$2 $3" ] && ok || bad "$1: $code $b (want $2 $3)"
    [ "$ms" -ge "$4" ] && [ "$ms" -le "$5" ] && ok || bad "$1 answered after $ms ms (want $4-$5)"
}
check halfhead 500 '{"message":"Internal Server Error"}' 2900 5000
check short 503 '{"message":"Service Unavailable"}' 900 2500
check noread 500 '{"message":"Internal Server Error"}' 2900 5000
# each ran to its 3 s Timeout and its runtime was stopped
for _ in $(seq 60); do [ "$(grep -c 'Task timed out after 3.00 seconds' "$tmp/log")" -ge 3 ] && break; sleep 0.1; done
[ "$(grep -c 'Task timed out after 3.00 seconds' "$tmp/log")" -ge 3 ] && ok ||
    bad "timeouts logged: $(grep -c 'Task timed out after 3.00 seconds' "$tmp/log") (want 3)"
# shellcheck disable=SC2046
groups_exit $(logged_pids "$tmp/log") && ok || bad "stalled runtimes left: $(echo $(logged_pids "$tmp/log"))"
[ "$(curl -s -m 5 "$url/prompt")" = hello ] && ok || bad "not serving after the stallers"
[ "$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$url/halfhead/short")" = 503 ] && ok ||
    bad "a new HalfHead invocation is not answered as before"

kill -TERM $gw
for _ in $(seq 150); do kill -0 $gw 2>/dev/null || break; sleep 0.1; done
if kill -0 $gw 2>/dev/null; then
    bad "the gateway did not stop within 15 s of SIGTERM"; kill -KILL $gw
    for g in $(logged_pids "$tmp/log"); do kill -KILL -- "-$g" 2>/dev/null; done
fi
wait $gw; rc=$?
[ $rc -eq 0 ] && ok || bad "gateway exit $rc: $(grep -A5 Sanitizer "$tmp/log" | head -20)"
finish
