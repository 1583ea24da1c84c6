#!/usr/bin/env bash
# Browser test of the monitor page at /__nerd/ (web/monitor.html embedded
# into nerd): `nerd local start-api` with tests/data/templates/monitor.yaml
# (the bash + curl test runtime answering, failing, and sleeping behind one
# reserved environment), then tests/web/monitor.test.mjs in Debian's
# headless Chromium with playwright-core, which drives the invocations and
# reads the page.  Usage: bash tests/web/test_monitor.sh NERD; env
# SCREENSHOT (a PNG path), DARK=1 (the screenshot in the dark scheme).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/web/common.sh
[ -x "$NERD" ] || give_up "no nerd CLI at $NERD (make all)"
start_gateway --template tests/data/templates/monitor.yaml
BASE_URL=${url%/} timeout 180 node tests/web/monitor.test.mjs
rc=$?
[ $rc -eq 0 ] || { echo "--- gateway log (tail)"; tail -20 "$tmp/log"; }
exit $rc
