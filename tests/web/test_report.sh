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
NERD=${1:-build/nerd}
case $NERD in /*) ;; *) NERD=$PWD/$NERD ;; esac
HELLO=$(dirname "$NERD")/functions/hello
give_up() { echo "test_report.sh: $*"; echo "web: 0 passed, 1 failed"; exit 1; }
[ -x "$NERD" ] || give_up "no nerd CLI at $NERD (make all)"
[ -x "$HELLO/bootstrap" ] || give_up "no trivial C runtime at $HELLO (make all)"
command -v node > /dev/null || give_up "node is not installed (apt-get install -y nodejs npm)"
[ -x /usr/bin/chromium ] || give_up "chromium is not installed (apt-get install -y chromium)"
if [ ! -d tests/web/node_modules/playwright-core ]; then
    (cd tests/web && npm ci --no-audit --no-fund) > /tmp/nerd-npm-web.log 2>&1 ||
        { tail -5 /tmp/nerd-npm-web.log; give_up "npm ci in tests/web failed (log: /tmp/nerd-npm-web.log)"; }
fi
tmp=$(mktemp -d)
gw=
cleanup() {
    [ -n "$gw" ] && { kill "$gw" 2>/dev/null; wait "$gw" 2>/dev/null; }
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
"$NERD" local start-api --template tests/data/loadgen/platform.yaml \
    --parameter-overrides "CodeDir=$HELLO" --port 0 > "$tmp/log" 2>&1 &
gw=$!
for _ in $(seq 100); do grep -q "^listening on" "$tmp/log" && break; sleep 0.1; done
url=$(sed -nE 's/^listening on (http:[^ ]*)$/\1/p' "$tmp/log")
[ -n "$url" ] || give_up "the gateway did not start: $(tail -3 "$tmp/log")"
"$NERD" bench --quiet --host "$url" --scenario tests/data/loadgen/report.scn --out "$tmp/run" \
    > "$tmp/out" 2>&1 || give_up "nerd bench failed: $(tail -3 "$tmp/out")"
n=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["requests"])' "$tmp/run/summary.json")
REPORT=$tmp/run/report.html WANT_REQUESTS=$n timeout 120 node tests/web/report.test.mjs
