#!/usr/bin/env bash
# Runs nerd's unit tests (C programs in $TESTBIN) and CLI tests
# (tests/cli/test_*.sh), sums their "N passed, N failed" lines and prints the
# total as the closing line.  Exit status 1 if anything failed.
set -u
units=$1
pass=0; fail=0; status=0
run() {
    local name=$1; shift
    local out rc
    out=$(timeout 900 "$@" 2>&1); rc=$?
    local line
    line=$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -1)
    if [ -z "$line" ]; then
        echo "$out" | tail -20
        echo "$name: no result line (exit $rc)"
        fail=$((fail + 1)); status=1; return
    fi
    local p f
    p=$(echo "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')
    f=$(echo "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')
    pass=$((pass + p)); fail=$((fail + f))
    if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then
        printf '%s\n' "$out" | tail -30
        status=1
        [ "$f" -eq 0 ] && fail=$((fail + 1))
    fi
    echo "  $name: $p passed, $f failed"
}
for t in $units; do
    run "$t" "$TESTBIN/$t"
done
for s in tests/*/test_*.sh; do
    [ -e "$s" ] || continue
    run "$(basename "$s" .sh)" bash "$s" "$NERD" "$SHARED"
done
echo "unit: $pass passed, $fail failed"
exit $status
