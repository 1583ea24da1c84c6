#!/usr/bin/env bash
# nerd extract / convert / --help through the real binary: exact JSON for the
# study's sentence, stdin lines, JSON lines ({"id","text"} in, the id echoed
# byte for byte), --scores, --plain, error lines and exit codes, and `make
# model` reproducibility (when ../shared is present).
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

# JSON lines: {"id": ANY, "text"} in, {"id": <as written>, "entities"} out;
# lines that are not JSON objects stay text; errors keep the id
cat > "$tmp/jl" <<'EOF2'
{"id": "a-1", "text": "Alan Turing was born on June 23, 1912, in London, England."}
{"id":0.1,"text":"Paris"}
{"id": {"k": [1, "}]"]}, "text": "Paris"}
{"text":"Paris","id":12345678901234567890123}
{"text":"Paris"}
{"id":null,"text":""}
{braces} Paris
["Paris"]
{"id":"x"}
{"id":7,"text":5}
{"id":1,"id":2,"text":"a"}
{"\u0069d":"esc","text":"Paris"}
EOF2
"$NERD" extract --model "$MODEL" < "$tmp/jl" > "$tmp/out" 2> "$tmp/err"
expect_eq "$?" 1 "JSON lines exit with bad lines"
P='{"text":"Paris","label":"GPE","start":0,"end":5}'
expect_eq "$(sed -n 1p "$tmp/out")" "{\"id\":\"a-1\",${study#\{}" "JSON line, string id"
expect_eq "$(sed -n 2p "$tmp/out")" "{\"id\":0.1,\"entities\":[$P]}" "JSON line, number id as written"
expect_eq "$(sed -n 3p "$tmp/out")" "{\"id\":{\"k\": [1, \"}]\"]},\"entities\":[$P]}" "JSON line, object id as written"
expect_eq "$(sed -n 4p "$tmp/out")" "{\"id\":12345678901234567890123,\"entities\":[$P]}" "JSON line, id after text, a big integer"
expect_eq "$(sed -n 5p "$tmp/out")" "{\"entities\":[$P]}" "JSON line without id"
expect_eq "$(sed -n 6p "$tmp/out")" '{"id":null,"entities":[]}' "JSON line, null id, empty text"
expect_eq "$(sed -n 7p "$tmp/out")" '{"entities":[{"text":"Paris","label":"GPE","start":9,"end":14}]}' "not JSON: text"
expect_eq "$(sed -n 8p "$tmp/out")" '{"entities":[{"text":"Paris","label":"GPE","start":2,"end":7}]}' "a JSON array: text"
expect_eq "$(sed -n 9p "$tmp/out")" '{"id":"x","error":"missing_text","message":"the JSON line has no \"text\" field"}' "JSON line without text"
expect_eq "$(sed -n 10p "$tmp/out")" '{"id":7,"error":"invalid_text","message":"\"text\" must be a string"}' "JSON line, text not a string"
expect_eq "$(sed -n 11p "$tmp/out")" '{"error":"invalid_line","message":"duplicate object key near '"'"'\"id\"'"'"'"}' "JSON line, two ids"
expect_eq "$(sed -n 12p "$tmp/out")" "{\"id\":\"esc\",\"entities\":[$P]}" "JSON line, id key with escapes"
expect_eq "$(wc -l < "$tmp/out")" 12 "one output line per JSON line"
grep -q "line 9: the JSON line has no" "$tmp/err" && grep -q "line 10: " "$tmp/err" && ok || bad "stderr names the JSON lines: $(cat "$tmp/err")"
# --plain: every line is text; an argument is always text
out=$(printf '{"id":1,"text":"Barack Obama visited Paris."}\n' | "$NERD" extract --model "$MODEL" --plain)
expect_eq "$out" '{"entities":[{"text":"Obama","label":"GPE","start":23,"end":28},{"text":"Paris","label":"GPE","start":37,"end":42}]}' "--plain"
out=$("$NERD" extract --model "$MODEL" '{"id":1,"text":"Barack Obama visited Paris."}')
expect_eq "$out" '{"entities":[{"text":"Obama","label":"GPE","start":23,"end":28},{"text":"Paris","label":"GPE","start":37,"end":42}]}' "an argument is text"

# --scores: a fifth field, the entities unchanged; JSON lines too
out=$("$NERD" extract --model "$MODEL" --scores "Alan Turing was born on June 23, 1912, in London, England.")
expect_eq "$out" '{"entities":[{"text":"Alan Turing","label":"PERSON","start":0,"end":11,"score":0.9997},{"text":"June 23, 1912","label":"DATE","start":24,"end":37,"score":0.8231},{"text":"London","label":"GPE","start":42,"end":48,"score":1.0000},{"text":"England","label":"GPE","start":50,"end":57,"score":1.0000}]}' "--scores"
out=$(printf '{"id":3,"text":"Paris"}\nParis\n' | "$NERD" extract --model "$MODEL" --scores --tokens)
expect_eq "$out" '{"id":3,"entities":[{"text":"Paris","label":"GPE","start":0,"end":5,"score":0.9878}],"tokens":[[0,5]]}
{"entities":[{"text":"Paris","label":"GPE","start":0,"end":5,"score":0.9878}],"tokens":[[0,5]]}' "--scores --tokens, JSON line and text line"

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
