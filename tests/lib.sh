# Shared by the shell tests (tests/*/test_*.sh), sourced from the repository
# root first thing, where tests/run.sh runs each as `test_X.sh NERD SHARED`:
#   NERD, SHARED, BOOT (the NER function next to NERD), MODEL;
#   ok / bad COUNT a check, finish prints the result line run.sh sums and
#   exits with the status, give_up counts one failure and finishes;
#   tmp, a temporary folder removed at exit, after the background processes
#   listed in pids have been stopped (a test adds its own);
#   listening_url LOG (tools/listening.sh); start_gateway ARGS... runs
#   `nerd local start-api ARGS --port 0` logging to $tmp/log and sets gw
#   and url.
NERD=${1:-build/nerd}
SHARED=${2:-../shared}
BOOT=$(dirname "$NERD")/bootstrap
MODEL=${MODEL:-${NERD_MODEL:-models/en_core_web_sm-2.2.5.nerd}}
NAME=${NAME:-$(basename "$0")}
pass=0; fail=0
ok()  { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*" >&2; }
finish() { echo "$NAME: $pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit; }
give_up() { bad "$*"; finish; }

tmp=$(mktemp -d)
pids=
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    for p in $pids; do wait "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

. tools/listening.sh
start_gateway() {
    "$NERD" local start-api "$@" --port 0 > "$tmp/log" 2>&1 &
    gw=$!
    pids="$pids $gw"
    url=$(listening_url "$tmp/log") || give_up "the gateway did not start: $(tail -5 "$tmp/log")"
}
