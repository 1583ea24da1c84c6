#!/usr/bin/env bash
# The NER function on the local platform, from the repository's own
# template.yaml: `make build-NerFunction` (what `sam build` runs) produces
# bootstrap and the model, nothing else, in a fresh directory, and that
# bootstrap needs no library outside glibc's (ldd); `nerd local
# start-api --build-dir` serves them: the study sentence, code point offsets
# that slice the text in Python, every error status and body, a 1 MB text,
# the page; then a SAM template of the test's own (CodeUri a directory of
# symlinks, the text limit from the template's environment, a function
# without its model behind the gateway); scores (?scores=1 through the
# gateway's rawQueryString) and batches (a shared reference file's texts in
# batches of 256 byte-identical to the same texts one by one, the limits, a
# bad item named by its index); `nerd local invoke` with direct {"text"}
# and {"texts", "scores"} events; a package without its model fails its init with the
# error, as Lambda reports it.
. tests/lib.sh

# sam build's target, in a fresh build directory (as sam build runs it:
# without the sanitizer flags `make san` passes down)
env -u MAKEFLAGS -u MAKELEVEL -u EXTRA_CFLAGS make -s build-NerFunction ARTIFACTS_DIR="$tmp/sam/NerFunction" \
    BUILD="$tmp/build" > "$tmp/make.log" 2>&1 && ok || bad "make build-NerFunction: $(tail -5 "$tmp/make.log")"
[ -x "$tmp/sam/NerFunction/bootstrap" ] && ok || bad "no executable bootstrap"
cmp -s "$tmp/sam/NerFunction/en_core_web_sm-2.2.5.nerd" "$MODEL" && ok || bad "model not packaged"
[ "$(ls -A "$tmp/sam/NerFunction" | tr '\n' ' ')" = "bootstrap en_core_web_sm-2.2.5.nerd " ] && ok ||
    bad "the package should hold bootstrap and the model only: $(ls -A "$tmp/sam/NerFunction" | tr '\n' ' ')"
# glibc's own: the vDSO, libc, libm, the dynamic loader (PCRE2 and jansson
# are linked in from their static archives, libcurl is gone)
ldd "$tmp/sam/NerFunction/bootstrap" > "$tmp/ldd" 2>&1
others=$(awk '{ print $1 }' "$tmp/ldd" | grep -vE '^(linux-vdso\.so\.1|linux-gate\.so\.1|libc\.so\.6|libm\.so\.6|(/[^ ]*/)?ld-linux[-a-z0-9_.]*\.so\.[0-9]+)$')
[ -s "$tmp/ldd" ] && grep -q 'libc\.so\.6' "$tmp/ldd" && [ -z "$others" ] && ok || bad "bootstrap needs libraries outside glibc: $(cat "$tmp/ldd")"

# this build's bootstrap (sanitized in `make san`), packaged the same way
mkdir -p "$tmp/pkg/NerFunction"
cp "$BOOT" "$MODEL" "$tmp/pkg/NerFunction/"
# limits off and the longest timeout: the sanitized build runs a 1 MB text slowly
"$NERD" local start-api --template template.yaml --build-dir "$tmp/pkg" --port 0 --no-limits \
    --parameter-overrides Timeout=29 > "$tmp/log" 2>&1 &
gw=$!; pids="$pids $gw"
u=$(listening_url "$tmp/log") || give_up "gateway did not start: $(cat "$tmp/log")"
J='content-type: application/json'
out=$(curl -s -m 30 -w ' %{http_code}' "$u/ner" -H "$J" -d '{"text":"Alan Turing was born on June 23, 1912, in London, England."}')
[ "$out" = '{"entities":[{"text":"Alan Turing","label":"PERSON","start":0,"end":11},{"text":"June 23, 1912","label":"DATE","start":24,"end":37},{"text":"London","label":"GPE","start":42,"end":48},{"text":"England","label":"GPE","start":50,"end":57}]} 200' ] && ok || bad "study sentence: $out"
grep -qE $'^REPORT RequestId: .*Init Duration: [0-9.]+ ms' "$tmp/log" && ok || bad "cold start REPORT"
python3 - "$u" <<'PY' && ok || bad "non-ASCII offsets through the gateway"
import json, sys, urllib.request
for text in ["Zoë Saldaña visited São Paulo.", "😀 Zoë Saldaña visited São Paulo with Angela Merkel."]:
    req = urllib.request.Request(sys.argv[1] + "/ner", json.dumps({"text": text}).encode(),
                                 {"content-type": "application/json"})
    ents = json.load(urllib.request.urlopen(req, timeout=30))["entities"]
    assert ents and all(text[e["start"]:e["end"]] == e["text"] for e in ents), ents
PY
code() { curl -s -m 30 -o "$tmp/b" -w '%{http_code}' "$@"; }
[ "$(code "$u/ner" -H "$J" -d '{bad')" = 400 ] && grep -q '"error":"InvalidJSON"' "$tmp/b" && ok || bad "400 invalid JSON: $(cat "$tmp/b")"
[ "$(code "$u/ner" -H "$J" -d '{"text":1}')" = 400 ] && grep -q '"error":"InvalidText"' "$tmp/b" && ok || bad "400 text"
[ "$(code "$u/ner" -H "$J" -d '{}')" = 400 ] && grep -q '"error":"MissingText"' "$tmp/b" && ok || bad "400 missing"
[ "$(code "$u/ner" -H 'content-type: text/plain' -d 'x')" = 415 ] && grep -q '"error":"UnsupportedMediaType"' "$tmp/b" && ok || bad "415"
[ "$(code -D "$tmp/h" -X PUT "$u/ner" -H "$J" -d '{}')" = 405 ] && grep -qi '^allow: POST' "$tmp/h" && ok || bad "405: $(cat "$tmp/b")"
[ "$(code "$u/nope/deeper")" = 404 ] && grep -q '"error":"NotFound"' "$tmp/b" && ok || bad "404: $(cat "$tmp/b")"
[ "$(code "$u/")" = 200 ] && grep -q '<html' "$tmp/b" && ok || bad "page"
[ "$(code "$u/healthz")" = 200 ] && ok || bad "healthz"
python3 -c 'import json; t=("Barack Obama met Angela Merkel in Berlin on Monday. " * 30000)[:1048576]; open("'"$tmp"'/1mb.json","w").write(json.dumps({"text": t}))'
python3 -c 'import json; t=("Barack Obama met Angela Merkel in Berlin on Monday. " * 30000)[:1048577]; open("'"$tmp"'/over.json","w").write(json.dumps({"text": t}))'
[ "$(code -m 60 "$u/ner" -H "$J" --data-binary @"$tmp/1mb.json")" = 200 ] && grep -q '"entities":\[{' "$tmp/b" && ok || bad "1 MB text: $(head -c 200 "$tmp/b")"
[ "$(code "$u/ner" -H "$J" --data-binary @"$tmp/over.json")" = 413 ] && grep -q '"error":"PayloadTooLarge"' "$tmp/b" && ok || bad "413: $(head -c 200 "$tmp/b")"
# scores and batches through the HTTP API (payload 2.0: the query in rawQueryString)
SCORED='{"entities":[{"text":"Alan Turing","label":"PERSON","start":0,"end":11,"score":0.9997},{"text":"June 23, 1912","label":"DATE","start":24,"end":37,"score":0.8231},{"text":"London","label":"GPE","start":42,"end":48,"score":1.0000},{"text":"England","label":"GPE","start":50,"end":57,"score":1.0000}]}'
[ "$(code "$u/ner?scores=1" -H "$J" -d '{"text":"Alan Turing was born on June 23, 1912, in London, England."}')" = 200 ] &&
    [ "$(cat "$tmp/b")" = "$SCORED" ] && ok || bad "?scores=1 through the gateway: $(cat "$tmp/b")"
[ "$(code "$u/ner" -H "$J" -d '{"texts":["Paris","","Alan Turing was born in London."],"scores":true}')" = 200 ] &&
    [ "$(cat "$tmp/b")" = '{"results":[{"entities":[{"text":"Paris","label":"GPE","start":0,"end":5,"score":0.9878}]},{"entities":[]},{"entities":[{"text":"Alan Turing","label":"PERSON","start":0,"end":11,"score":0.9997},{"text":"London","label":"GPE","start":24,"end":30,"score":1.0000}]}]}' ] && ok || bad "batch through the gateway: $(cat "$tmp/b")"
[ "$(code "$u/ner" -H "$J" -d '{"texts":["Paris",1]}')" = 400 ] &&
    [ "$(cat "$tmp/b")" = '{"error":"InvalidText","message":"texts[1]: must be a string"}' ] && ok || bad "bad item through the gateway: $(cat "$tmp/b")"
[ "$(code "$u/ner?scores=2" -H "$J" -d '{"text":"Paris"}')" = 400 ] && grep -q '"error":"InvalidRequest"' "$tmp/b" && ok || bad "bad ?scores through the gateway: $(cat "$tmp/b")"
ref=$SHARED/data/reference/wikigold.jsonl
if [ -f "$ref" ]; then
    python3 tests/function/batch_vs_single.py "$u/ner" "$ref" --limit 512 && ok || bad "batches of $ref through the gateway"
    python3 tests/function/batch_vs_single.py "$u/ner" "$ref" --limit 256 --scores && ok || bad "scored batch of $ref through the gateway"
else
    echo "reference batches skipped: $ref not found"
fi
n=$(grep -c '^INIT_START' "$tmp/log")
[ "$n" -le 2 ] && ok || bad "$n environments for sequential requests (want reuse)"
# template.yaml's /{proxy+} route claims /metrics; the platform's own
# endpoints stay reachable under the reserved /__nerd/ prefix
[ "$(code "$u/metrics")" = 404 ] && grep -q '"error":"NotFound"' "$tmp/b" && ok || bad "/metrics should reach the function: $(cat "$tmp/b")"
[ "$(code "$u/__nerd/metrics")" = 200 ] && grep -qE '^nerd_lambda_invocations_total\{function="NerFunction"\} [1-9]' "$tmp/b" && ok || bad "/__nerd/metrics: $(head -c 300 "$tmp/b")"
now=$(date +%s)
[ "$(code "$u/__nerd/metrics/json?from=$((now - 300))&to=$now&period=60")" = 200 ] &&
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["period"]==60 and sum(x["Invocations"] for x in d["functions"]["NerFunction"]) >= 10, d' "$tmp/b" && ok || bad "/__nerd/metrics/json: $(head -c 300 "$tmp/b")"
[ "$(code -X POST "$u/__nerd/metrics")" = 405 ] && ok || bad "POST /__nerd/metrics"
[ "$(code "$u/__nerd/nope")" = 404 ] && [ "$(cat "$tmp/b")" = '{"message":"Not Found"}' ] && ok || bad "/__nerd/nope: $(cat "$tmp/b")"
kill -TERM $gw; wait $gw; rc=$?; gw=
[ $rc -eq 0 ] && ok || bad "gateway exit $rc"

# a SAM template of our own: CodeUri a directory of symlinks to this build's
# bootstrap and the model (found through LAMBDA_TASK_ROOT), the text limit
# from the template's environment, and a second function without its model
mkdir -p "$tmp/own/code" "$tmp/own/broken"
ln -s "$(cd "$(dirname "$BOOT")" && pwd)/bootstrap" "$tmp/own/code/bootstrap"
ln -s "$(cd "$(dirname "$MODEL")" && pwd)/$(basename "$MODEL")" "$tmp/own/code/en_core_web_sm-2.2.5.nerd"
ln -s "$(cd "$(dirname "$BOOT")" && pwd)/bootstrap" "$tmp/own/broken/bootstrap"
cat > "$tmp/own/template.yaml" <<'YAML'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: provided.al2023
    Handler: bootstrap
    Timeout: 29
    MemorySize: 512
Resources:
  Ner:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: code
      Environment: {Variables: {NERD_MAX_TEXT_BYTES: "100"}}
      Events:
        Post: {Type: HttpApi, Properties: {Path: /ner, Method: POST}}
        Page: {Type: HttpApi, Properties: {Path: /, Method: GET}}
  Broken:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: broken
      Events:
        Get: {Type: HttpApi, Properties: {Path: /broken, Method: GET}}
  BadConfig:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: code
      Environment: {Variables: {NERD_MAX_TEXT_BYTES: lots}}
YAML
env -u NERD_MODEL "$NERD" local start-api --template "$tmp/own/template.yaml" --port 0 --no-limits > "$tmp/log2" 2>&1 &
gw=$!; pids="$pids $gw"
u=$(listening_url "$tmp/log2")
if [ -z "$u" ]; then bad "own template: gateway did not start: $(cat "$tmp/log2")"; else
out=$(curl -s -m 30 -w ' %{http_code}' "$u/ner" -H "$J" -d '{"text":"Alan Turing was born on June 23, 1912, in London, England."}')
[ "$out" = '{"entities":[{"text":"Alan Turing","label":"PERSON","start":0,"end":11},{"text":"June 23, 1912","label":"DATE","start":24,"end":37},{"text":"London","label":"GPE","start":42,"end":48},{"text":"England","label":"GPE","start":50,"end":57}]} 200' ] && ok || bad "own template, study sentence: $out"
[ "$(code "$u/ner" -H "$J" -d "{\"text\":\"$(printf 'a%.0s' $(seq 101))\"}")" = 413 ] &&
    [ "$(cat "$tmp/b")" = '{"error":"PayloadTooLarge","message":"text is 101 bytes; the limit is 100 bytes"}' ] && ok || bad "own template, NERD_MAX_TEXT_BYTES: $(cat "$tmp/b")"
[ "$(code "$u/ner" -H "$J" -d "{\"texts\":[\"$(printf 'a%.0s' $(seq 60))\",\"$(printf 'b%.0s' $(seq 41))\"]}")" = 413 ] &&
    [ "$(cat "$tmp/b")" = '{"error":"PayloadTooLarge","message":"texts are 101 bytes together; the limit is 100 bytes"}' ] && ok || bad "own template, batch over NERD_MAX_TEXT_BYTES: $(cat "$tmp/b")"
[ "$(code -D "$tmp/h" "$u/")" = 200 ] && grep -qi '^content-type: text/html; charset=utf-8' "$tmp/h" && grep -q '<html' "$tmp/b" && ok || bad "own template, page"
[ "$(code "$u/healthz")" = 404 ] && ok || bad "own template: /healthz has no route, want the gateway's 404"
st=$(code "$u/broken")
[ "$st" = 500 ] && grep -q "Internal Server Error" "$tmp/b" && ok || bad "init error through the gateway: $st $(cat "$tmp/b")"
grep -q 'bootstrap: init failed: no model: NERD_MODEL is not set and en_core_web_sm-2.2.5.nerd is not in .*/broken (LAMBDA_TASK_ROOT)' "$tmp/log2" && ok || bad "init error not in the log: $(grep -i broken "$tmp/log2" | tail -5)"
fi
kill -TERM $gw; wait $gw; rc=$?; gw=
[ $rc -eq 0 ] && ok || bad "gateway (own template) exit $rc"

# direct invocation, as the study's local test events did
printf '{"text":"Alan Turing was born in London."}' > "$tmp/ev.json"
"$NERD" local invoke NerFunction --template template.yaml --build-dir "$tmp/pkg" --event "$tmp/ev.json" \
    > "$tmp/out" 2> "$tmp/err" && ok || bad "invoke: $(tail -3 "$tmp/err")"
python3 -c '
import json,sys; r=json.load(open(sys.argv[1])); assert r["statusCode"] == 200, r
assert json.loads(r["body"])["entities"] == [{"text":"Alan Turing","label":"PERSON","start":0,"end":11},{"text":"London","label":"GPE","start":24,"end":30}], r' "$tmp/out" && ok || bad "invoke result: $(cat "$tmp/out")"

# a direct batch invocation, scores asked in the event
printf '{"texts":["Alan Turing was born in London.","Paris"],"scores":true}' > "$tmp/evb.json"
"$NERD" local invoke NerFunction --template template.yaml --build-dir "$tmp/pkg" --event "$tmp/evb.json" \
    > "$tmp/out" 2> "$tmp/err" && ok || bad "batch invoke: $(tail -3 "$tmp/err")"
python3 -c '
import json,sys; r=json.load(open(sys.argv[1])); assert r["statusCode"] == 200, r
assert r["body"] == """{"results":[{"entities":[{"text":"Alan Turing","label":"PERSON","start":0,"end":11,"score":0.9997},{"text":"London","label":"GPE","start":24,"end":30,"score":1.0000}]},{"entities":[{"text":"Paris","label":"GPE","start":0,"end":5,"score":0.9878}]}]}""", r' "$tmp/out" && ok || bad "batch invoke result: $(cat "$tmp/out")"

# no model in the package: /init/error, and the caller gets the error
mkdir -p "$tmp/nomodel/NerFunction"; cp "$BOOT" "$tmp/nomodel/NerFunction/"
NERD_MODEL= "$NERD" local invoke NerFunction --template template.yaml --build-dir "$tmp/nomodel" --event "$tmp/ev.json" \
    > "$tmp/out" 2> "$tmp/err"; rc=$?
[ $rc -eq 1 ] && ok || bad "init error exit $rc"
python3 -c '
import json,sys; r=json.load(open(sys.argv[1])); assert r["errorType"] == "Runtime.ModelLoadError", r
assert r["errorMessage"].startswith("no model: NERD_MODEL is not set"), r' "$tmp/out" && ok || bad "init error payload: $(cat "$tmp/out")"
grep -q 'bootstrap: init failed: no model' "$tmp/err" && ok || bad "init error in the log: $(tail -5 "$tmp/err")"
# a setting that makes no sense is an init error too
env -u NERD_MODEL "$NERD" local invoke BadConfig --template "$tmp/own/template.yaml" --event "$tmp/ev.json" \
    > "$tmp/out" 2> "$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q '"errorType":"Runtime.ConfigInvalid"' "$tmp/out" && grep -q 'NERD_MAX_TEXT_BYTES' "$tmp/out" &&
    grep -q 'bootstrap: init failed: NERD_MAX_TEXT_BYTES' "$tmp/err" && ok || bad "config init error: $rc $(cat "$tmp/out")"
finish
