#!/usr/bin/env bash
# Browser test of the load lab's report: a short scenario (tests/data/
# loadgen/report.scn: warm-up, ramp, steady) from `nerd bench` against
# `nerd local start-api` serving the trivial C runtime behind POST /ner
# (tests/data/loadgen/platform.yaml), so the report has the client's charts
# and the provider's; then tests/web/report.test.mjs opens report.html in
# Debian's headless Chromium with playwright-core.  Usage: bash
# tests/web/test_report.sh NERD; env SCREENSHOT (a PNG path).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/web/common.sh
HELLO=$(dirname "$NERD")/functions/hello
[ -x "$NERD" ] || give_up "no nerd CLI at $NERD (make all)"
[ -x "$HELLO/bootstrap" ] || give_up "no trivial C runtime at $HELLO (make all)"
start_gateway --template tests/data/loadgen/platform.yaml --parameter-overrides "CodeDir=$HELLO"
"$NERD" bench --quiet --host "$url" --scenario tests/data/loadgen/report.scn --out "$tmp/run" \
    > "$tmp/out" 2>&1 || give_up "nerd bench failed: $(tail -3 "$tmp/out")"
n=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["requests"])' "$tmp/run/summary.json")
REPORT=$tmp/run/report.html WANT_REQUESTS=$n timeout 120 node tests/web/report.test.mjs
