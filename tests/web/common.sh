# Shared by the browser tests (tests/web/test_*.sh), sourced from the
# repository root after NAME is set: give_up (a result line that counts one
# failure), the browser and playwright-core (Debian's chromium, installed
# when missing; npm ci from the lock file), a temporary folder, and
# start_gateway ARGS... which runs `nerd local start-api ARGS --port 0`,
# sets url and stops it at exit.
give_up() { echo "$NAME: $*"; echo "web: 0 passed, 1 failed"; exit 1; }
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
start_gateway() {
    "$NERD" local start-api "$@" --port 0 > "$tmp/log" 2>&1 &
    gw=$!
    for _ in $(seq 100); do grep -qs "^listening on" "$tmp/log" && break; sleep 0.1; done
    url=$(sed -nE 's/^listening on (http:[^ ]*)$/\1/p' "$tmp/log")
    [ -n "$url" ] || give_up "the gateway did not start: $(tail -3 "$tmp/log")"
}
