#!/usr/bin/env bash
# Leak soak: 10,000 mixed requests (success, function errors, crashes and
# respawns, 404, Invoke API, invalid JSON, throttling, oversized headers,
# garbage) through `nerd local start-api` with the trivial C runtime; every
# status must match its kind, and afterwards the gateway's open files,
# threads, resident memory, runtime processes and cgroups must be back
# where they were after a 3,000-request warm-up (which fills
# ASan's quarantine and the allocator's arenas).  Idle environments are
# reaped after 1 s, and both states are read once every one has gone: how
# many stay warm depends on the machine's timing, and each holds its own
# descriptors in the gateway, so counting with some alive compares unlike
# states.  Runtimes are the gateway's own children (pgrep -P), never
# processes matched by name.
. tests/lib.sh
HELLO=$(cd "$(dirname "$NERD")" && pwd)/functions/hello
T=tests/data/functions/soak.yaml
# a small ASan quarantine, so freed memory is not counted as growth
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4 \
    start_gateway --template "$T" --parameter-overrides "CodeDir=$HELLO" --idle-timeout 1
state() { # fds threads rss_kb runtimes
    echo "$(ls /proc/$gw/fd | wc -l) $(ls /proc/$gw/task | wc -l)" \
         "$(awk '/^VmRSS/ {print $2}' /proc/$gw/status) $(pgrep -P $gw | wc -l)"
}
# wait for every environment to be reaped (up to 20 s), then for the
# connection threads to exit once their clients have closed
settle() {
    for _ in $(seq 200); do [ "$(pgrep -P $gw | wc -l)" -eq 0 ] && break; sleep 0.1; done
    sleep 1.5
}

python3 tests/platform/soak.py "$url" 3000 8 > "$tmp/warm" 2>&1
grep -q '^soak: OK 3000 ' "$tmp/warm" && ok || bad "warm-up: $(tail -5 "$tmp/warm")"
settle; read -r fd0 th0 rss0 rt0 <<< "$(state)"

python3 tests/platform/soak.py "$url" 10000 8 > "$tmp/soak" 2>&1
grep -q '^soak: OK 10000 ' "$tmp/soak" && ok || bad "soak: $(tail -25 "$tmp/soak")"
busy=$(pgrep -P $gw); rt_busy=$(echo $busy | wc -w)
for kind in ok post fnerror crash notfound invoke badjson bighead garbage; do
    grep -q " $kind:" "$tmp/soak" && ok || bad "no '$kind' requests were sent"
done
settle; read -r fd1 th1 rss1 rt1 <<< "$(state)"
echo "after warm-up: fds $fd0 threads $th0 rss ${rss0} kB runtimes $rt0; after 10,000: fds $fd1 threads $th1 rss ${rss1} kB runtimes $rt1"
[ "$fd1" -le $((fd0 + 4)) ] && ok || bad "file descriptors grew: $fd0 -> $fd1"
[ "$th1" -le $((th0 + 2)) ] && ok || bad "threads grew: $th0 -> $th1"
[ "$rss1" -le $((rss0 + 8192)) ] && ok || bad "resident memory grew by $(( (rss1 - rss0) / 1024 )) MB"
[ "$rt_busy" -le 9 ] && ok || bad "$rt_busy runtime processes (reserved concurrency is 8, plus Limited)"
[ "$rt0" -eq 0 ] && [ "$rt1" -eq 0 ] && ok || bad "idle environments not reaped: $rt0, $rt1"
crashes=$(grep -c 'Runtime exited with error: exit status 3' "$tmp/log")
[ "$crashes" -ge 100 ] && ok || bad "crashes seen in the log: $crashes"

rts="$busy $(pgrep -P $gw)" # those seen under load, and any left now
kill -TERM $gw; wait $gw; rc=$?
[ $rc -eq 0 ] && ok || bad "gateway exit $rc (a sanitizer report?): $(grep -A5 'Sanitizer' "$tmp/log" | head -20)"
groups_exit $rts && ok || bad "runtimes left after shutdown in groups: $rts"
finish
