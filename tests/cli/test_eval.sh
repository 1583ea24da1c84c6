#!/usr/bin/env bash
# nerd eval: gold IOB scoring on a hand-made file (figures checked by hand
# against `nerd extract`), errors on malformed input, and --strict agreement
# on a real spaCy reference file when ../shared is present.
NERD=${1:-build/nerd}; SHARED=${2:-../shared}
MODEL=${MODEL:-models/en_core_web_sm-2.2.5.nerd}
pass=0; fail=0
ok()  { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*" >&2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# the gold spans must score exactly what extract finds on the joined text
"$NERD" eval --model "$MODEL" --json tests/data/eval/tiny.bio > "$tmp/out"; rc=$?
[ $rc -eq 0 ] && ok || bad "eval exit $rc"
want_tp=0
for s in "Alice met Bob in Paris ." "Acme Corp hired Carol ."; do
    e=$("$NERD" extract --model "$MODEL" "$s")
    for g in '"Alice","label":"PERSON"' '"Bob","label":"PERSON"' '"Paris","label":"GPE"' \
             '"Acme Corp","label":"ORG"' '"Carol","label":"PERSON"'; do
        case "$e" in *"$g"*) want_tp=$((want_tp+1));; esac
    done
done
got_tp=$(grep -oE '"micro":\{[^}]*"tp":[0-9]+' "$tmp/out" | grep -oE '[0-9]+$')
[ "$got_tp" = "$want_tp" ] && ok || bad "micro tp $got_tp, extract finds $want_tp"
grep -q '"sentences":2,"tokens":11' "$tmp/out" && ok || bad "sentence/token counts: $(cat "$tmp/out")"

# malformed corpus line: message with file and line, non-zero exit
"$NERD" eval --model "$MODEL" tests/data/eval/bad.conll > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -ne 0 ] && ok || bad "malformed corpus exit 0"
grep -q "bad.conll:1" "$tmp/err" && ok || bad "error names file:line: $(cat "$tmp/err")"
# malformed reference line
echo '{"text": 5}' > "$tmp/bad.jsonl"
"$NERD" eval --model "$MODEL" "$tmp/bad.jsonl" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -ne 0 ] && ok || bad "malformed reference exit 0"
grep -q "bad.jsonl:1" "$tmp/err" && ok || bad "reference error names file:line"
"$NERD" eval --model "$MODEL" /nonexistent.conll > /dev/null 2>&1; [ $? -ne 0 ] && ok || bad "missing file"
"$NERD" eval > /dev/null 2>&1; [ $? -eq 2 ] && ok || bad "no files: usage exit 2"

# a reference file: 100% agreement, --strict passes
if [ -f "$SHARED/data/reference/wnut17.dev.jsonl" ]; then
    out=$("$NERD" eval --model "$MODEL" --strict "$SHARED/data/reference/wnut17.dev.jsonl"); rc=$?
    [ $rc -eq 0 ] && ok || bad "--strict on wnut17.dev.jsonl: $out"
    echo "$out" | grep -q "tokens 100.00%.*entities 100.00%" && ok || bad "agreement: $out"
    # a wrong reference fails --strict
    head -1 "$SHARED/data/reference/wnut17.dev.jsonl" | sed -E 's/"entities": \[.*\]\}$/"entities": [[0, 1, "ORG"]]}/' > "$tmp/wrong.jsonl"
    "$NERD" eval --model "$MODEL" --strict "$tmp/wrong.jsonl" > /dev/null; [ $? -eq 1 ] && ok || bad "--strict must fail on a wrong reference"
else
    echo "reference checks skipped: $SHARED not found"
fi
echo "test_eval.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
