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
NERD=${1:-build/nerd}
case $NERD in /*) ;; *) NERD=$PWD/$NERD ;; esac
BOOT=$(dirname "$NERD")/bootstrap
MODEL=${MODEL:-models/en_core_web_sm-2.2.5.nerd}
give_up() { echo "test_page.sh: $*"; echo "web: 0 passed, 1 failed"; exit 1; }
[ -x "$NERD" ] || give_up "no nerd CLI at $NERD (make all)"
[ -x "$BOOT" ] || give_up "no NER function at $BOOT (make all builds it next to nerd)"
[ -f "$MODEL" ] || give_up "no model at $MODEL"
command -v node > /dev/null || give_up "node is not installed (apt-get install -y nodejs npm)"
if [ ! -x /usr/bin/chromium ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) > /tmp/nerd-chromium.log 2>&1 ||
        { tail -5 /tmp/nerd-chromium.log; give_up "cannot install chromium (log: /tmp/nerd-chromium.log)"; }
fi
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
# the layout of `sam build`'s output: <build-dir>/NerFunction/{bootstrap,model}
mkdir -p "$tmp/pkg/NerFunction"
cp "$BOOT" "$MODEL" "$tmp/pkg/NerFunction/" || give_up "cannot copy $BOOT and $MODEL"
"$NERD" local start-api --template template.yaml --build-dir "$tmp/pkg" --port 0 --no-limits > "$tmp/log" 2>&1 &
gw=$!
for _ in $(seq 100); do grep -q "^listening on" "$tmp/log" && break; sleep 0.1; done
url=$(sed -nE 's/^listening on (http:[^ ]*)$/\1/p' "$tmp/log")
[ -n "$url" ] || give_up "the gateway did not start: $(tail -3 "$tmp/log")"
BASE_URL=${url%/} timeout 180 node tests/web/page.test.mjs
rc=$?
[ $rc -eq 0 ] || { echo "--- gateway log (tail)"; tail -20 "$tmp/log"; }
exit $rc
