#!/usr/bin/env bash
# Slow clients: SLOW_CLIENTS (5,000) connections each send a request head
# one byte a second (tests/platform/trickle.c, one epoll loop) and never
# finish it, while SLOW_REQUESTS (2,000) GET /hello requests go one after
# another on one keep-alive connection, paced at SLOW_RATE a second
# (default SLOW_REQUESTS / (SLOW_DEADLINE + 1): they start once every
# trickler has sent its first byte and span the rest of the tricklers'
# life, their 408s at the deadline included), to the trivial C runtime (bench/functions/hello.c, MemorySize 1769).
# Every request must be answered 200 "hello", their p99 within
# SLOW_P99_MS (20 ms); every trickler must get `HTTP/1.1 408` with
# {"message":"Request Timeout"} between the head deadline (SLOW_DEADLINE,
# 5 s, after its first byte) and 2 s later, and then be closed; afterwards
# the gateway still serves and its descriptors are back at the baseline.
# The tricklers open as fast as their connects complete (SLOW_OPEN_RATE a
# second if set), so their 408s come in a burst.
# SLOW_TIMEOUT_ARGS replaces the gateway's timeout options
# (`--client-timeout 5 --head-timeout 5` by default).
. tests/lib.sh
N=${SLOW_CLIENTS:-5000}
REQS=${SLOW_REQUESTS:-2000}
D=${SLOW_DEADLINE:-5}
RATE=${SLOW_RATE:-$(awk -v n="$REQS" -v d="$D" 'BEGIN { print n / (d + 1) }')}
P99_MS=${SLOW_P99_MS:-20}
TIMEOUT_ARGS=${SLOW_TIMEOUT_ARGS:---client-timeout $D --head-timeout $D}
HELLO=$(cd "$(dirname "$NERD")" && pwd)/functions/hello
TRICKLE=${TESTBIN:-$(dirname "$NERD")/tests}/platform/trickle
[ -x "$TRICKLE" ] || give_up "$TRICKLE not built (make unit builds it)"

# the gateway holds a descriptor per trickler, and so does trickle
want=$((N + 1024))
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then
    give_up "RLIMIT_NOFILE hard limit $hard < $want"
fi
[ "$(ulimit -Sn)" != unlimited ] && [ "$(ulimit -Sn)" -lt "$want" ] && ulimit -Sn "$want"

# shellcheck disable=SC2086
start_gateway --template tests/data/functions/slowclients.yaml \
    --parameter-overrides "CodeDir=$HELLO" $TIMEOUT_ARGS
port=${url##*:}
[ "$(curl -s -m 5 "$url/hello")" = hello ] && ok || bad "warm-up request"
fds() { ls "/proc/$gw/fd" | wc -l; }
fd0=$(fds)

"$TRICKLE" "$port" -n "$N" -d "$D" -s 2 -r "$REQS" -R "$RATE" -o "${SLOW_OPEN_RATE:-0}" \
    -p /hello -b hello > "$tmp/trickle" 2>&1
rc=$?
cat "$tmp/trickle"
kv() { sed -nE "s/^$1: .*[ :]$2=([-0-9.]+).*/\1/p" "$tmp/trickle" | head -1; }
connected=$(kv trickle connected); cerr=$(kv trickle connect_err)
good=$(kv trickle ok408); closed=$(kv trickle closed)
other=$(kv trickle other); silent=$(kv trickle silent)
early=$(kv trickle early); late=$(kv trickle late)
rok=$(kv client ok); p50=$(kv client p50_us); p99=$(kv client p99_us)
[ -n "$good" ] && [ -n "$rok" ] || give_up "trickle printed no result (exit $rc)"

echo "slow clients: $N tricklers, head deadline $D s: $good answered 408 in [$D, $((D + 2))] s and closed" \
     "(other answers $other, early $early, late $late, no answer $silent);" \
     "$REQS requests meanwhile: $rok ok, p50 $p50 us, p99 $p99 us (goal <= $P99_MS ms)"
[ "$connected" = "$N" ] && [ "$cerr" = 0 ] && ok || bad "connected $connected of $N ($cerr connect errors)"
[ "$good" = "$N" ] && ok || bad "$good of $N tricklers got the 408 within [$D, $((D + 2))] s and were closed"
[ "$closed" = "$N" ] && ok || bad "$closed of $N tricklers were closed"
[ "$rok" = "$REQS" ] && ok || bad "$rok of $REQS requests answered 200 hello"
[ "${p99:-999999999}" -le $((P99_MS * 1000)) ] && ok || bad "p99 $p99 us > $P99_MS ms"
[ "$rc" -eq 0 ] && ok || bad "trickle exit $rc"

# still serving, and the tricklers' descriptors are gone
[ "$(curl -s -m 5 "$url/hello")" = hello ] && ok || bad "not serving after the slow clients"
for _ in $(seq 50); do [ "$(fds)" -le $((fd0 + 4)) ] && break; sleep 0.1; done
fd1=$(fds)
echo "gateway descriptors: $fd0 before, $fd1 after"
[ "$fd1" -le $((fd0 + 4)) ] && ok || bad "descriptors $fd0 -> $fd1"

kill -TERM $gw
for _ in $(seq 150); do kill -0 $gw 2>/dev/null || break; sleep 0.1; done
kill -0 $gw 2>/dev/null && { bad "the gateway did not stop within 15 s of SIGTERM"; kill -KILL $gw; }
wait $gw; rc=$?
[ $rc -eq 0 ] && ok || bad "gateway exit $rc: $(grep -A5 Sanitizer "$tmp/log" | head -20)"
finish
