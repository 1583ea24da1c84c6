# Shared by the browser tests (tests/web/test_*.sh), sourced from the
# repository root: tests/lib.sh (NERD made absolute, give_up, tmp,
# start_gateway), then the browser and playwright-core (Debian's chromium,
# installed when missing; npm ci from the lock file).
. tests/lib.sh
case $NERD in /*) ;; *) NERD=$PWD/$NERD ;; esac
BOOT=$(dirname "$NERD")/bootstrap
command -v node > /dev/null || give_up "node is not installed (apt-get install -y nodejs npm)"
if [ ! -x /usr/bin/chromium ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) > /tmp/nerd-chromium.log 2>&1 ||
        { tail -5 /tmp/nerd-chromium.log; give_up "cannot install chromium (log: /tmp/nerd-chromium.log)"; }
fi
if [ ! -d tests/web/node_modules/playwright-core ]; then
    (cd tests/web && npm ci --no-audit --no-fund) > /tmp/nerd-npm-web.log 2>&1 ||
        { tail -5 /tmp/nerd-npm-web.log; give_up "npm ci in tests/web failed (log: /tmp/nerd-npm-web.log)"; }
fi
