# listening_url LOG [SECONDS]: waits up to SECONDS (default 10) for a nerd
# server's "listening on URL" line in LOG (`nerd local start-api`'s or
# `bootstrap --http`'s) and prints URL; status 1 when it never came.
# Sourced by tests/lib.sh, bench/common.sh and loadgen/experiments.sh.
listening_url() {
    for _ in $(seq $((${2:-10} * 10))); do grep -qs "^listening on" "$1" && break; sleep 0.1; done
    sed -nE 's/^listening on (http:[^ ]*).*/\1/p' "$1" 2>/dev/null | grep .
}
