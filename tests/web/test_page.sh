#!/usr/bin/env bash
# Browser test: the page served by the NER function through `nerd local
# start-api` with the repository's template.yaml (what `make run` starts),
# in Debian's headless Chromium driven by playwright-core (npm, pinned in
# tests/web/package-lock.json).  Installs chromium and the npm package when
# missing.
NERD=${1:-build/nerd}
BOOT=$(dirname "$NERD")/bootstrap
MODEL=${MODEL:-models/en_core_web_sm-2.2.5.nerd}
say() { echo "test_page.sh: $*"; }
if [ ! -x /usr/bin/chromium ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) > /tmp/nerd-chromium.log 2>&1 ||
        { tail -5 /tmp/nerd-chromium.log; say "0 passed, 1 failed (cannot install chromium)"; exit 1; }
fi
if [ ! -d tests/web/node_modules/playwright-core ]; then
    (cd tests/web && npm ci --no-audit --no-fund) > /tmp/nerd-npm-web.log 2>&1 ||
        { tail -5 /tmp/nerd-npm-web.log; say "0 passed, 1 failed (npm ci failed)"; exit 1; }
fi
tmp=$(mktemp -d)
mkdir -p "$tmp/pkg/NerFunction"; cp "$BOOT" "$MODEL" "$tmp/pkg/NerFunction/"
"$NERD" local start-api --template template.yaml --build-dir "$tmp/pkg" --port 0 --no-limits > "$tmp/log" 2>&1 &
gw=$!
trap 'kill $gw 2>/dev/null; wait $gw 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do grep -q "^listening on" "$tmp/log" && break; sleep 0.1; done
url=$(sed -nE 's/^listening on (http:[^ ]*)$/\1/p' "$tmp/log")
[ -n "$url" ] || { say "0 passed, 1 failed (gateway: $(tail -3 "$tmp/log"))"; exit 1; }
BASE_URL=$url timeout 120 node tests/web/page.test.mjs
