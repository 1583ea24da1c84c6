#!/usr/bin/env bash
# `make bench`, load lab part: the generator's ceiling (`nerd bench --host
# --scenario`, one event loop on one core) against nginx's static reply
# (bench/nginx.conf, one worker), side by side with wrk (-t1) in the same
# run, at 1 to 64 connections: both send the same request (POST /ner with
# the study's sentence, bench/post.lua); the generator runs a closed
# scenario with zero think time (one virtual user per connection).  For
# each count: requests/s and p50/p99 of each, and the ratios; then the
# ceiling of each (best over the counts).
set -eu
NERD=${1:-build/nerd}
DUR=${BENCH_SECONDS:-5}
. bench/common.sh

start_nginx
echo "Alan Turing was born on June 23, 1912, in London, England." > "$tmp/text.txt"
echo "loadgen: nerd bench vs wrk -t1 against nginx $(nginx -v 2>&1 | sed 's/.*\///') (one worker), ${DUR} s per run, $(nproc) cores"

bw=0; bwc=0; bg=0; bgc=0
for c in 1 4 8 16 32 64; do
    w=$(wrk -t1 -c"$c" -d"${DUR}s" --latency -s bench/post.lua "http://127.0.0.1:$np/ner" 2>&1)
    wr=$(echo "$w" | rps)
    w50=$(echo "$w" | pct 50)
    w99=$(echo "$w" | pct 99)
    printf 'name sat%d\nmodel closed\nstage %ss users %d think 0 0\n' "$c" "$DUR" "$c" > "$tmp/sat.scn"
    "$NERD" bench --quiet --no-provider --host "http://127.0.0.1:$np" --scenario "$tmp/sat.scn" \
        --texts "$tmp/text.txt" --out "$tmp/run$c" > /dev/null 2>&1
    read -r gr g50 g99 < <(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))
p=s["latency_ms"]
print(s["rps"], round(p["p50"]*1000), round(p["p99"]*1000))' "$tmp/run$c/summary.json")
    printf 'loadgen: %2d connections: nerd bench %8.0f req/s p50 %4d us p99 %5d us | wrk %8.0f req/s p50 %4d us p99 %5d us | req/s %3.0f%% of wrk, p50 %+4.0f%%\n' \
        "$c" "$gr" "$g50" "$g99" "$wr" "$w50" "$w99" \
        "$(awk -v a="$gr" -v b="$wr" 'BEGIN { print 100 * a / b }')" \
        "$(awk -v a="$g50" -v b="$w50" 'BEGIN { print (b > 0 ? 100 * (a - b) / b : 0) }')"
    if awk -v a="$gr" -v b="$bg" 'BEGIN { exit !(a > b) }'; then bg=$gr; bgc=$c; fi
    if awk -v a="$wr" -v b="$bw" 'BEGIN { exit !(a > b) }'; then bw=$wr; bwc=$c; fi
done
printf 'loadgen: ceiling: nerd bench %.0f req/s (%d connections), wrk %.0f req/s (%d connections): %.0f%% of wrk\n' \
    "$bg" "$bgc" "$bw" "$bwc" "$(awk -v a="$bg" -v b="$bw" 'BEGIN { print 100 * a / b }')"
