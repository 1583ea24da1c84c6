#!/usr/bin/env bash
# nerd extract / convert / --help through the real binary: exact JSON for the
# study's sentence, stdin lines, error lines and exit codes, and `make model`
# reproducibility (when ../shared is present).
. tests/lib.sh
expect_eq() { if [ "$1" == "$2" ]; then ok; else bad "$3: got [$1] want [$2]"; fi; }

study='{"entities":[{"text":"Alan Turing","label":"PERSON","start":0,"end":11},{"text":"June 23, 1912","label":"DATE","start":24,"end":37},{"text":"London","label":"GPE","start":42,"end":48},{"text":"England","label":"GPE","start":50,"end":57}]}'
out=$("$NERD" extract --model "$MODEL" "Alan Turing was born on June 23, 1912, in London, England.")
expect_eq "$?" 0 "extract exit"
expect_eq "$out" "$study" "study sentence"

# stdin: one line out per line in, CRLF stripped, bad UTF-8 -> error line + exit 1
printf 'Alan Turing was born on June 23, 1912, in London, England.\r\n\ncaf\xc3\nhello\n' > "$tmp/in"
"$NERD" extract --model "$MODEL" < "$tmp/in" > "$tmp/out" 2> "$tmp/err"
expect_eq "$?" 1 "stdin exit with a bad line"
expect_eq "$(wc -l < "$tmp/out")" 4 "one output line per input line"
expect_eq "$(sed -n 1p "$tmp/out")" "$study" "CRLF line"
expect_eq "$(sed -n 2p "$tmp/out")" '{"entities":[]}' "empty line"
expect_eq "$(sed -n 3p "$tmp/out")" '{"error":"invalid_utf8","message":"text is not valid UTF-8"}' "bad UTF-8 line"
grep -q "line 3" "$tmp/err" && ok || bad "stderr names the line"

# --tokens
out=$("$NERD" extract --model "$MODEL" --tokens "Hi, Bob.")
expect_eq "$out" '{"entities":[{"text":"Bob","label":"PERSON","start":4,"end":7}],"tokens":[[0,2],[2,3],[4,7],[7,8]]}' "--tokens"

# JSON escaping of entity text
out=$("$NERD" extract --model "$MODEL" 'He met "Barack Obama" in Paris.')
echo "$out" | grep -q '"text":"Paris"' && ok || bad "escaping: $out"

# help and usage errors
for c in extract eval bench convert; do
    "$NERD" "$c" --help > "$tmp/h" 2>&1; expect_eq "$?" 0 "$c --help"
    grep -q "usage: nerd $c" "$tmp/h" && ok || bad "$c usage text"
done
"$NERD" --help > /dev/null; expect_eq "$?" 0 "nerd --help"
"$NERD" frobnicate > /dev/null 2>&1; expect_eq "$?" 2 "unknown command"
"$NERD" extract --bogus x > /dev/null 2>&1; expect_eq "$?" 2 "unknown option"

# bad model files: clear error, non-zero exit
"$NERD" extract --model /nonexistent x > /dev/null 2> "$tmp/err"; expect_eq "$?" 1 "missing model"
grep -q "cannot open" "$tmp/err" && ok || bad "missing model message"
head -c 100000 "$MODEL" > "$tmp/trunc.nerd"
"$NERD" extract --model "$tmp/trunc.nerd" x > /dev/null 2> "$tmp/err"; expect_eq "$?" 1 "truncated model"
grep -q "truncated or corrupt" "$tmp/err" && ok || bad "truncated message: $(cat "$tmp/err")"
printf 'hello' > "$tmp/foreign.nerd"
"$NERD" extract --model "$tmp/foreign.nerd" x > /dev/null 2> "$tmp/err"; expect_eq "$?" 1 "foreign file"
grep -q "not a nerd model" "$tmp/err" && ok || bad "foreign message"

# make model reproduces the committed file byte for byte
if [ -d "$SHARED/data/models/en_core_web_sm-2.2.5" ]; then
    "$NERD" convert --specs "$SHARED/specs/sm225" "$SHARED/data/models/en_core_web_sm-2.2.5" "$tmp/m.nerd" 2> "$tmp/err"
    expect_eq "$?" 0 "convert"
    cmp -s "$tmp/m.nerd" "$MODEL" && ok || bad "converted model differs from $MODEL"
    "$NERD" convert --specs "$SHARED/specs/sm225" /nonexistent "$tmp/x.nerd" 2> "$tmp/err"
    expect_eq "$?" 1 "convert missing dir"
    grep -q "/nonexistent/ner/model" "$tmp/err" && ok || bad "convert error names the file"
else
    echo "convert checks skipped: $SHARED not found"
fi
finish
