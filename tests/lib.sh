# Shared by the shell tests (tests/*/test_*.sh), sourced from the repository
# root first thing, where tests/run.sh runs each as `test_X.sh NERD SHARED`:
#   NERD, SHARED, BOOT (the NER function next to NERD), MODEL;
#   ok / bad COUNT a check, finish prints the result line run.sh sums and
#   exits with the status, give_up counts one failure and finishes;
#   tmp, a temporary folder removed at exit, after the background processes
#   listed in pids have been stopped (a test adds its own);
#   listening_url LOG (tools/listening.sh); start_gateway ARGS... runs
#   `nerd local start-api ARGS --port 0` logging to $tmp/log and sets gw
#   and url;
#   req METHOD PATH [CURL ARGS...] asks $url+PATH: the status in $code, the
#   headers in $tmp/h, the body in $tmp/b; hdr NAME: a header of that answer;
#   group_alive PGID... succeeds while a live (not zombie) process is left
#   in one of those process groups, groups_exit PGID... waits up to 5 s for
#   them all to be gone (fails if not), logged_pids FILE... prints the PIDs
#   that runtimes logged as "pid=N" (tests/data/functions' runtimes do):
#   the platform starts each runtime as the leader of its own group, so a
#   test looks only at runtimes it started (those PIDs, or pgrep -P of its
#   own gateway), never at processes matched by name.
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
group_alive() {
    local g p st
    for g in "$@"; do
        for p in $(pgrep -g "$g"); do
            st=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f1)
            [ -n "$st" ] && [ "$st" != Z ] && return 0
        done
    done
    return 1
}
groups_exit() {
    for _ in $(seq 100); do group_alive "$@" || return 0; sleep 0.05; done
    ! group_alive "$@"
}
logged_pids() { sed -n 's/^.* pid=\([0-9][0-9]*\)$/\1/p' "$@" | sort -u; }
start_gateway() {
    "$NERD" local start-api "$@" --port 0 > "$tmp/log" 2>&1 &
    gw=$!
    pids="$pids $gw"
    url=$(listening_url "$tmp/log") || give_up "the gateway did not start: $(tail -5 "$tmp/log")"
}
req() {
    local m=$1 p=$2
    shift 2
    code=$(curl -s -m 20 -X "$m" -D "$tmp/h" -o "$tmp/b" -w '%{http_code}' "$@" "$url$p")
}
hdr() { grep -i "^$1:" "$tmp/h" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
