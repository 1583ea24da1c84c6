#!/usr/bin/env bash
# Browser test: the page served by the NER function (the `bootstrap` built
# next to the nerd CLI, web/index.html embedded) through `nerd local
# start-api` with the repository's template.yaml (what `make run` starts), in
# Debian's headless Chromium driven by playwright-core (npm, pinned in
# tests/web/package-lock.json).  Installs chromium and the npm package when
# missing.  Usage: bash tests/web/test_page.sh NERD [SHARED]; env MODEL
# (default models/en_core_web_sm-2.2.5.nerd), SCREENSHOT (a PNG path).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/web/common.sh
[ -x "$NERD" ] || give_up "no nerd CLI at $NERD (make all)"
[ -x "$BOOT" ] || give_up "no NER function at $BOOT (make all builds it next to nerd)"
[ -f "$MODEL" ] || give_up "no model at $MODEL"
# the layout of `sam build`'s output: <build-dir>/NerFunction/{bootstrap,model}
mkdir -p "$tmp/pkg/NerFunction"
cp "$BOOT" "$MODEL" "$tmp/pkg/NerFunction/" || give_up "cannot copy $BOOT and $MODEL"
start_gateway --template template.yaml --build-dir "$tmp/pkg" --no-limits
BASE_URL=${url%/} timeout 180 node tests/web/page.test.mjs
rc=$?
[ $rc -eq 0 ] || { echo "--- gateway log (tail)"; tail -20 "$tmp/log"; }
exit $rc
