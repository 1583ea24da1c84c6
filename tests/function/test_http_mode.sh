#!/usr/bin/env bash
# The NER function's HTTP mode (`bootstrap --http`), as a container platform
# runs it: the study sentence's four entities, code point offsets that slice
# the original string in Python, every error status and JSON body, scores
# (?scores=1, "scores": true), batches ({"texts": [...]}: a shared reference
# file in batches of 256 byte-identical to its texts one by one, the count
# and byte limits, a bad item named by its index), a 1 MB text, keep-alive and pipelining, half-closing clients and clients that do
# not read their answers, malformed and slow clients, HEAD, the page,
# /healthz, PORT and NERD_MAX_TEXT_BYTES from the environment, bad options,
# --help, and SIGTERM draining to exit 0.
. tests/lib.sh
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BOOT" --http --host 127.0.0.1 --port "$port" --model "$MODEL" > "$tmp/log" 2>&1 &
bs=$!; pids="$pids $bs"
[ "$(listening_url "$tmp/log")" = "http://127.0.0.1:$port" ] || give_up "did not start: $(cat "$tmp/log")"
u=http://127.0.0.1:$port
J='content-type: application/json'

out=$(curl -s -w ' %{http_code}' "$u/ner" -H "$J" -d '{"text":"Alan Turing was born on June 23, 1912, in London, England."}')
[ "$out" = '{"entities":[{"text":"Alan Turing","label":"PERSON","start":0,"end":11},{"text":"June 23, 1912","label":"DATE","start":24,"end":37},{"text":"London","label":"GPE","start":42,"end":48},{"text":"England","label":"GPE","start":50,"end":57}]} 200' ] && ok || bad "study sentence: $out"

# non-ASCII: offsets are code points, so Python's slicing gives each entity back
python3 - "$u" <<'PY' && ok || bad "non-ASCII offsets"
import json, sys, urllib.request
for text in ["Zoë Saldaña visited São Paulo.", "😀 Zoë Saldaña visited São Paulo with Angela Merkel.",
             "Der Bürgermeister von München traf Emmanuel Macron in Paris am 3. Mai 2019."]:
    req = urllib.request.Request(sys.argv[1] + "/ner", json.dumps({"text": text}).encode(),
                                 {"content-type": "application/json"})
    ents = json.load(urllib.request.urlopen(req))["entities"]
    assert ents, text
    for e in ents:
        assert text[e["start"]:e["end"]] == e["text"], (text, e)
PY

code() { curl -s -o "$tmp/b" -w '%{http_code}' "$@"; }
[ "$(code "$u/ner" -H "$J" -d '{bad')" = 400 ] && grep -q '"error":"InvalidJSON"' "$tmp/b" && ok || bad "invalid JSON: $(cat "$tmp/b")"
[ "$(code "$u/ner" -H "$J" -d '{"txt":1}')" = 400 ] && grep -q '"error":"MissingText"' "$tmp/b" && ok || bad "missing text"
[ "$(code "$u/ner" -H "$J" -d '{"text":["a"]}')" = 400 ] && grep -q '"error":"InvalidText"' "$tmp/b" && ok || bad "non-string text"
[ "$(code "$u/ner" -H 'content-type: text/plain' -d '{"text":"a"}')" = 415 ] && grep -q '"error":"UnsupportedMediaType"' "$tmp/b" && ok || bad "415"
[ "$(code -D "$tmp/h" "$u/ner")" = 405 ] && grep -qi '^allow: POST' "$tmp/h" && grep -q '"error":"MethodNotAllowed"' "$tmp/b" && ok || bad "405"
[ "$(code "$u/nope")" = 404 ] && grep -q '"error":"NotFound"' "$tmp/b" && ok || bad "404"
[ "$(code "$u/healthz")" = 200 ] && [ "$(cat "$tmp/b")" = '{"status":"ok"}' ] && ok || bad "healthz"
[ "$(code -D "$tmp/h" "$u/")" = 200 ] && grep -qi '^content-type: text/html' "$tmp/h" && grep -q '<html' "$tmp/b" && ok || bad "page"
[ "$(curl -s -I -o /dev/null -w '%{http_code} %{size_download}' "$u/")" = "200 0" ] && ok || bad "HEAD /"
[ "$(code -X OPTIONS -D "$tmp/h" "$u/ner" -H 'Origin: http://x' -H 'Access-Control-Request-Method: POST')" = 204 ] && grep -qi '^access-control-allow-origin: \*' "$tmp/h" && ok || bad "preflight"

# scores: opt-in, a fifth field; the default answer keeps its four fields
STUDY='{"text":"Alan Turing was born on June 23, 1912, in London, England."'
SCORED='{"entities":[{"text":"Alan Turing","label":"PERSON","start":0,"end":11,"score":0.9997},{"text":"June 23, 1912","label":"DATE","start":24,"end":37,"score":0.8231},{"text":"London","label":"GPE","start":42,"end":48,"score":1.0000},{"text":"England","label":"GPE","start":50,"end":57,"score":1.0000}]}'
[ "$(code "$u/ner?scores=1" -H "$J" -d "$STUDY}")" = 200 ] && [ "$(cat "$tmp/b")" = "$SCORED" ] && ok || bad "?scores=1: $(cat "$tmp/b")"
[ "$(code "$u/ner" -H "$J" -d "$STUDY,\"scores\":true}")" = 200 ] && [ "$(cat "$tmp/b")" = "$SCORED" ] && ok || bad "scores in the body: $(cat "$tmp/b")"
[ "$(code "$u/ner?scores=0" -H "$J" -d "$STUDY}")" = 200 ] && ! grep -q score "$tmp/b" && ok || bad "?scores=0: $(cat "$tmp/b")"
[ "$(code "$u/ner?scores=please" -H "$J" -d "$STUDY}")" = 400 ] &&
    [ "$(cat "$tmp/b")" = '{"error":"InvalidRequest","message":"the query parameter scores must be 1, true, 0 or false"}' ] && ok || bad "bad scores: $(cat "$tmp/b")"
# batches: in order, scores too; a bad item is named; text and texts together refused
[ "$(code "$u/ner?scores=true" -H "$J" -d '{"texts":["Paris","","Alan Turing was born in London."]}')" = 200 ] &&
    [ "$(cat "$tmp/b")" = '{"results":[{"entities":[{"text":"Paris","label":"GPE","start":0,"end":5,"score":0.9878}]},{"entities":[]},{"entities":[{"text":"Alan Turing","label":"PERSON","start":0,"end":11,"score":0.9997},{"text":"London","label":"GPE","start":24,"end":30,"score":1.0000}]}]}' ] && ok || bad "batch: $(cat "$tmp/b")"
[ "$(code "$u/ner" -H "$J" -d '{"texts":["Paris","Rome",["x"]]}')" = 400 ] &&
    [ "$(cat "$tmp/b")" = '{"error":"InvalidText","message":"texts[2]: must be a string"}' ] && ok || bad "bad item: $(cat "$tmp/b")"
[ "$(code "$u/ner" -H "$J" -d '{"text":"Paris","texts":["Paris"]}')" = 400 ] && grep -q '"error":"InvalidRequest"' "$tmp/b" && ok || bad "text and texts: $(cat "$tmp/b")"
python3 -c 'import json; print(json.dumps({"texts": ["Paris"] * 257}))' > "$tmp/257.json"
[ "$(code "$u/ner" -H "$J" --data-binary @"$tmp/257.json")" = 413 ] &&
    [ "$(cat "$tmp/b")" = '{"error":"PayloadTooLarge","message":"texts has 257 items; the limit is 256 texts"}' ] && ok || bad "257 texts: $(cat "$tmp/b")"
# a shared reference file: every batch of 256 is its texts one by one, byte for byte
ref=$SHARED/data/reference/wikigold.jsonl
if [ -f "$ref" ]; then
    python3 tests/function/batch_vs_single.py "$u/ner" "$ref" && ok || bad "batches of $ref"
    python3 tests/function/batch_vs_single.py "$u/ner" "$ref" --limit 512 --scores && ok || bad "batches of $ref with scores"
else
    echo "reference batches skipped: $ref not found"
fi

# 1 MB of text is answered; one byte more is refused with 413
python3 -c 'import json; t=("Barack Obama met Angela Merkel in Berlin on Monday. " * 30000)[:1048576]; open("'"$tmp"'/1mb.json","w").write(json.dumps({"text": t}))'
python3 -c 'import json; t=("Barack Obama met Angela Merkel in Berlin on Monday. " * 30000)[:1048577]; open("'"$tmp"'/over.json","w").write(json.dumps({"text": t}))'
[ "$(code -m 60 "$u/ner" -H "$J" --data-binary @"$tmp/1mb.json")" = 200 ] && python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); assert len(d["entities"]) > 20000, len(d["entities"])' "$tmp/b" && ok || bad "1 MB text"
[ "$(code "$u/ner" -H "$J" --data-binary @"$tmp/over.json")" = 413 ] && grep -q '"error":"PayloadTooLarge"' "$tmp/b" && ok || bad "over 1 MB: $(head -c 200 "$tmp/b")"
head -c 8000000 /dev/zero | tr '\0' a > "$tmp/huge"
[ "$(code "$u/ner" -H "$J" --data-binary @"$tmp/huge")" = 413 ] && ok || bad "8 MB body"

# keep-alive and pipelining: three requests in one write, three answers in order
python3 - "$port" <<'PY' && ok || bad "pipelining"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
one = lambda t: ('POST /ner HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s'
                 % (len(t), t)).encode()
s.sendall(one('{"text":"Paris"}') + b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + one('{"text":"London"}'))
data = b""
while data.count(b"HTTP/1.1 200") < 3:
    chunk = s.recv(65536)
    assert chunk, data
    data += chunk
assert data.index(b'"Paris"') < data.index(b'"status":"ok"') < data.index(b'"London"'), data
PY
# a client that half-closes after its requests still gets every answer, then EOF
python3 - "$port" <<'PY2' && ok || bad "half-close"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /heal")
s.shutdown(socket.SHUT_WR)
s.settimeout(5)
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
assert data.count(b'{"status":"ok"}') == 2 and data.count(b"HTTP/1.1") == 2, data
PY2
# a client that pipelines without reading its answers: the server stops
# reading it (bounded memory), serves others meanwhile, and every answer
# arrives in order once the client reads
rss() { awk '/^VmRSS/ { print $2 }' /proc/$bs/status; }
rss0=$(rss)
python3 - "$port" "$u" "$bs" "$rss0" <<'PY2' && ok || bad "pipelining without reading"
import socket, sys, time, urllib.request
port, u, pid, rss0 = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
n = 4000
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * n)
time.sleep(0.5)
assert urllib.request.urlopen(u + "/healthz", timeout=5).read() == b'{"status":"ok"}'
rss = int([l.split()[1] for l in open("/proc/%s/status" % pid) if l.startswith("VmRSS")][0])
assert rss - rss0 < 16384, ("server grew by %d kB" % (rss - rss0))
s.settimeout(10)
data = bytearray()
while data.count(b"</html>") < n:
    chunk = s.recv(1 << 20)
    assert chunk, data.count(b"HTTP/1.1 200")
    data += chunk
assert data.count(b"HTTP/1.1 200 OK") == n, data.count(b"HTTP/1.1 200 OK")
PY2
# malformed request: 400 with a JSON body, connection closed, server fine
printf 'BLAH\r\n\r\n' > "$tmp/garbage"
resp=$(timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; cat $tmp/garbage >&3; cat <&3")
echo "$resp" | head -1 | grep -q '^HTTP/1.1 400' && echo "$resp" | grep -q '"error":"BadRequest"' && ok || bad "garbage: $resp"
# a slow client holds only its own connection
exec 4<>/dev/tcp/127.0.0.1/$port; printf 'POST /ner HTTP/1.1\r\nHost: x\r\n' >&4
[ "$(code "$u/healthz")" = 200 ] && ok || bad "serving beside a slow client"
exec 4<&-

# PORT from the environment; SIGTERM finishes in-flight work and exits 0
kill -TERM $bs; wait $bs; rc=$?
[ $rc -eq 0 ] && ok || bad "SIGTERM exit $rc"
port2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PORT=$port2 HOST=127.0.0.1 NERD_MODEL=$MODEL "$BOOT" > "$tmp/log2" 2>&1 &
bs=$!; pids="$pids $bs"
listening_url "$tmp/log2" > /dev/null
[ "$(curl -s "http://127.0.0.1:$port2/healthz")" = '{"status":"ok"}' ] && ok || bad "PORT mode: $(cat "$tmp/log2")"
curl -s -o "$tmp/slow" "http://127.0.0.1:$port2/ner" -H "$J" --data-binary @"$tmp/1mb.json" &
cl=$!
sleep 0.05; kill -TERM $bs; wait $bs; rc=$?; wait $cl
[ $rc -eq 0 ] && ok || bad "SIGTERM during a request: exit $rc"
grep -q '"entities":\[{' "$tmp/slow" && ok || bad "in-flight request finished: $(head -c 200 "$tmp/slow")"
# the text limit from NERD_MAX_TEXT_BYTES, in HTTP mode too
port3=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
NERD_MAX_TEXT_BYTES=10 "$BOOT" --http --host 127.0.0.1 --port "$port3" --threads 1 --model "$MODEL" > "$tmp/log3" 2>&1 &
bs=$!; pids="$pids $bs"
listening_url "$tmp/log3" > /dev/null
[ "$(code "http://127.0.0.1:$port3/ner" -H "$J" -d '{"text":"0123456789"}')" = 200 ] && ok || bad "10 bytes at a 10-byte limit: $(cat "$tmp/b")"
[ "$(code "http://127.0.0.1:$port3/ner" -H "$J" -d '{"text":"0123456789a"}')" = 413 ] &&
    [ "$(cat "$tmp/b")" = '{"error":"PayloadTooLarge","message":"text is 11 bytes; the limit is 10 bytes"}' ] && ok || bad "11 bytes: $(cat "$tmp/b")"
[ "$(code "http://127.0.0.1:$port3/ner" -H "$J" -d '{"texts":["01234","56789"]}')" = 200 ] && ok || bad "a batch of 10 bytes: $(cat "$tmp/b")"
[ "$(code "http://127.0.0.1:$port3/ner" -H "$J" -d '{"texts":["01234","56789","a"]}')" = 413 ] &&
    [ "$(cat "$tmp/b")" = '{"error":"PayloadTooLarge","message":"texts are 11 bytes together; the limit is 10 bytes"}' ] && ok || bad "a batch of 11 bytes: $(cat "$tmp/b")"
kill -TERM $bs; wait $bs; rc=$?
[ $rc -eq 0 ] && ok || bad "SIGTERM when idle: exit $rc"
# bad options and settings: a clear message and exit 2, nothing started
for args in "--port abc" "--port 70000" "--threads -1" "--max-text 0" "--max-text 12x" "--bogus"; do
    timeout 10 "$BOOT" --http --host 127.0.0.1 $args --model "$MODEL" > /dev/null 2> "$tmp/err"; rc=$?
    [ $rc -eq 2 ] && grep -q '^bootstrap: ' "$tmp/err" && ok || bad "bootstrap --http $args: exit $rc $(cat "$tmp/err")"
done
NERD_MAX_TEXT_BYTES=lots timeout 10 "$BOOT" --http --port 0 --model "$MODEL" 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q 'NERD_MAX_TEXT_BYTES' "$tmp/err" && ok || bad "bad NERD_MAX_TEXT_BYTES: $rc $(cat "$tmp/err")"
"$BOOT" --help > "$tmp/help"; rc=$?
[ $rc -eq 0 ] && grep -q -- '--http' "$tmp/help" && grep -q 'NERD_MODEL' "$tmp/help" && ok || bad "--help: $rc"
# a model that cannot load: a clear message, exit 1
"$BOOT" --http --port 0 --model /nonexistent.nerd 2> "$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q '/nonexistent.nerd' "$tmp/err" && ok || bad "bad model: $rc $(cat "$tmp/err")"
finish
