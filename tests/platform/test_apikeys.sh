#!/usr/bin/env bash
# API keys and usage plans through real processes and sockets (../shared/
# specs/apigw-rest-auth-runtimes.md §2): `nerd local start-api` serving
# tests/data/functions/apikeys.yaml (the echo runtime of test_restapi.sh).
# A key missing, unknown, disabled, of another plan or stage, or sent to an
# API whose key source is AUTHORIZER: 403 Forbidden; the right key: 200
# with identity.apiKey and apiKeyId in the event; a plan's per-method
# throttle: 429 Too Many Requests; its quota: 429 Limit Exceeded, each
# answer byte for byte with x-amzn-ErrorType and the REST ids, and no
# refused request reaching the function (its START lines); PER_API and
# SHARED plans (one quota over two APIs); generated keys printed and the
# same after a restart; quotas still spent after a restart and after a
# kill -9; the database's default place (.nerd/ under the working
# directory) and a database that cannot be opened; template.yaml's API-key
# mode with the NER function (RequireApiKey=true).
. tests/lib.sh
T=tests/data/functions/apikeys.yaml
DB=$tmp/usage.sqlite3
start_gateway --template "$T" --usage-db "$DB"

# req METHOD PATH [CURL ARGS...]: $code, headers in $tmp/h, body in $tmp/b
req() {
    local m=$1 p=$2
    shift 2
    code=$(curl -s -m 20 -X "$m" -D "$tmp/h" -o "$tmp/b" -w '%{http_code}' "$@" "$url$p")
}
hdr() { grep -i "^$1:" "$tmp/h" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
key_of() { sed -n "s/^API key $1: \([^ ]*\) (.*/\1/p" "${2:-$tmp/log}" | tail -1; }
# invocations: the function's START lines, once the log has settled
invocations() {
    local a b
    b=$(grep -c '^START RequestId' "$tmp/log")
    for _ in $(seq 20); do
        sleep 0.1
        a=$b; b=$(grep -c '^START RequestId' "$tmp/log")
        [ "$a" = "$b" ] && break
    done
    echo "$b"
}
# refused WHAT STATUS BODY ERRORTYPE: the last answer was the gateway's own
refused() {
    [ "$code" = "$2" ] && [ "$(cat "$tmp/b")" = "$3" ] && [ "$(hdr x-amzn-ErrorType)" = "$4" ] &&
        [ "$(hdr Content-Type)" = application/json ] && [ -n "$(hdr x-amzn-RequestId)" ] &&
        [ -n "$(hdr x-amz-apigw-id)" ] && [ -n "$(hdr X-Amzn-Trace-Id)" ] && ok ||
        bad "$1: $code $(cat "$tmp/b") [$(hdr x-amzn-ErrorType)], want $2 $3 [$4]"
}
forbidden() { refused "$1" 403 '{"message":"Forbidden"}' ForbiddenException; }
throttled() { refused "$1" 429 '{"message":"Too Many Requests"}' TooManyRequestsException; }
quota() { refused "$1" 429 '{"message":"Limit Exceeded"}' LimitExceededException; }
# identity FIELD: requestContext.identity.FIELD of the echoed event ("-" when absent)
identity() {
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["requestContext"]["identity"].get(sys.argv[2], "-"))' \
        "$tmp/b" "$1" 2>/dev/null
}

# ---- keys printed at start-up ----
per=$(key_of PerApiApiKey); shared=$(key_of ServerlessApiKey); kill_key=$(key_of KillApiKey)
[[ $per =~ ^[A-Za-z0-9]{40}$ ]] && [[ $shared =~ ^[A-Za-z0-9]{40}$ ]] && [[ $kill_key =~ ^[A-Za-z0-9]{40}$ ]] &&
    [ "$per" != "$shared" ] && ok || bad "generated keys: $(grep '^API key' "$tmp/log")"
grep -qx "API key PerApiApiKey: $per (usage plan PerApiUsagePlan; generated, kept in $DB)" "$tmp/log" && ok ||
    bad "the PER_API key's line: $(grep '^API key PerApiApiKey' "$tmp/log")"
grep -qx 'API key FixedKey: fixed-key-0123456789abcdef (usage plan OwnPlan; Value from the template)' "$tmp/log" &&
    grep -qx 'API key OffKey: off-key-0123456789abcdef (disabled: Enabled is not true; usage plan OwnPlan; Value from the template)' "$tmp/log" &&
    ok || bad "the template's keys: $(grep '^API key' "$tmp/log")"
grep -q "^API key ServerlessApiKey: $shared (usage plan ServerlessUsagePlan; " "$tmp/log" && ok ||
    bad "the SHARED key: $(grep '^API key ServerlessApiKey' "$tmp/log")"
[ "$(grep -c '^API key ' "$tmp/log")" = 6 ] && ! grep -q '^API key Own' "$tmp/log" && ok ||
    bad "six keys (CreateUsagePlan NONE makes none): $(grep '^API key' "$tmp/log")"
[ "$(grep -n '^API key' "$tmp/log" | tail -1 | cut -d: -f1)" -lt "$(grep -n '^listening on' "$tmp/log" | cut -d: -f1)" ] &&
    ok || bad "keys are printed before the gateway listens"

# ---- refused: nothing reaches the function ----
req GET /prod/open # the function started once (not counted below)
[ "$code" = 200 ] && [ "$(identity apiKey)" = - ] && ok || bad "no key needed: $code, apiKey $(identity apiKey)"
n0=$(invocations)
req GET /prod/keyed; forbidden "no key"
req GET /prod/keyed -H 'x-api-key: not-a-key-0123456789abcdef'; forbidden "an unknown key"
req GET /prod/keyed -H 'x-api-key: '; forbidden "an empty key"
req GET /prod/keyed -H "x-api-key: ${per}x"; forbidden "the key and one more character"
req GET /prod/keyed -H "x-api-key: ${per:0:39}"; forbidden "the key less its last character"
req GET /prod/keyed -H "x-api-key: $shared"; forbidden "a key of another plan"
req GET /prod/keyed -H 'x-api-key: fixed-key-0123456789abcdef'; forbidden "a key of the template's plan"
req GET /Stage/keyed -H "x-api-key: $per"; forbidden "SAM's Stage stage, in no plan"
req OPTIONS /prod/keyed -H 'Origin: https://a.example' -H 'Access-Control-Request-Method: GET'
forbidden "a CORS preflight without the key (SAM puts the key on preflights)"
req GET /v1/free -H 'x-api-key: off-key-0123456789abcdef'; forbidden "a disabled key"
req GET /z/x -H "x-api-key: $(key_of ByAuthApiKey)"; forbidden "key source AUTHORIZER: the header is not the key"
[ "$(invocations)" = "$n0" ] && ok || bad "refused requests reached the function: $n0 -> $(invocations) START lines"

# ---- the right key ----
req GET /prod/keyed -H "x-api-key: $per"
[ "$code" = 200 ] && [ "$(identity apiKey)" = "$per" ] && [ "$(identity apiKeyId)" = PerApiApiKey ] && ok ||
    bad "the right key: $code apiKey '$(identity apiKey)' apiKeyId '$(identity apiKeyId)'"
[ "$(invocations)" = $((n0 + 1)) ] && ok || bad "one invocation: $n0 -> $(invocations)"
req POST /prod/items/7 -H "X-API-Key: $per" -d x # the header name in any case; ANY
[ "$code" = 200 ] && ok || bad "X-API-Key on ANY /items/{id}: $code"
req OPTIONS /a/a -H 'Origin: https://a.example' -H 'Access-Control-Request-Method: GET'
[ "$code" = 200 ] && [ "$(hdr Access-Control-Allow-Origin)" = '*' ] && ok ||
    bad "AddApiKeyRequiredToCorsPreflight: false: the preflight needs no key: $code"
req GET /http -H "x-api-key: nonsense"
[ "$code" = 200 ] && ok || bad "an HTTP API route knows no keys: $code"

# ---- a per-method throttle (burst 1), the plan's own for the rest ----
req GET /v1/limited -H 'x-api-key: fixed-key-0123456789abcdef'
[ "$code" = 200 ] && [ "$(identity apiKeyId)" = FixedKey ] && ok || bad "throttled method, first: $code"
n1=$(invocations)
req GET /v1/limited -H 'x-api-key: fixed-key-0123456789abcdef'; throttled "throttled method, second"
[ "$(invocations)" = "$n1" ] && ok || bad "a throttled request reached the function"
req GET /v1/free -H 'x-api-key: fixed-key-0123456789abcdef'
[ "$code" = 200 ] && ok || bad "another method of the plan is not throttled: $code"

# ---- quotas: PER_API 5 a day (2 spent above), SHARED 3 a week over two APIs ----
for i in 3 4 5; do
    req GET /prod/keyed -H "x-api-key: $per"
    [ "$code" = 200 ] && ok || bad "request $i of a quota of 5: $code"
done
n2=$(invocations)
req GET /prod/keyed -H "x-api-key: $per"; quota "request 6 of a quota of 5"
req POST /prod/items/1 -H "x-api-key: $per"; quota "the quota holds for every method of the plan"
req GET /prod/keyed -H "x-api-key: $shared"; forbidden "a wrong key is 403 even when the quota is spent"
for p in /a/a /b/b /a/a; do
    req GET "$p" -H "x-api-key: $shared"
    [ "$code" = 200 ] && ok || bad "SHARED plan, $p within the quota: $code"
done
req GET /b/b -H "x-api-key: $shared"; quota "SHARED plan: one quota for both APIs"
[ "$(invocations)" = $((n2 + 3)) ] && ok || bad "quota refusals reached the function: $n2 -> $(invocations)"

# ---- a restart: the same keys, the quotas still spent ----
kill "$gw"; wait "$gw"
start_gateway --template "$T" --usage-db "$DB"
[ "$(key_of PerApiApiKey)" = "$per" ] && [ "$(key_of ServerlessApiKey)" = "$shared" ] &&
    [ "$(key_of KillApiKey)" = "$kill_key" ] && ok || bad "keys after a restart: $(grep '^API key' "$tmp/log")"
req GET /prod/keyed -H "x-api-key: $per"; quota "PER_API quota after a restart"
req GET /a/a -H "x-api-key: $shared"; quota "SHARED quota after a restart"
req GET /v1/free -H 'x-api-key: fixed-key-0123456789abcdef'
[ "$code" = 200 ] && ok || bad "a plan without a quota after a restart: $code"

# ---- kill -9: counts are written behind each request, not at exit ----
for i in 1 2; do
    req POST /k/counted -H "x-api-key: $kill_key"
    [ "$code" = 200 ] && ok || bad "request $i of a quota of 2: $code"
done
python3 - "$DB" <<'PY' && ok || bad "the count never reached the database"
import sqlite3, sys, time
for _ in range(100):
    try:
        db = sqlite3.connect(sys.argv[1], timeout=5)
        n = db.execute("SELECT coalesce(sum(count), 0) FROM usage WHERE key_id = 'KillApiKey'").fetchone()[0]
        db.close()
        if n == 2:
            sys.exit(0)
    except sqlite3.Error:
        pass
    time.sleep(0.05)
sys.exit(1)
PY
kill -9 "$gw"; wait "$gw" 2>/dev/null
start_gateway --template "$T" --usage-db "$DB"
[ "$(key_of KillApiKey)" = "$kill_key" ] && ok || bad "the key after a kill -9"
req POST /k/counted -H "x-api-key: $kill_key"; quota "the quota after a kill -9"
kill "$gw"; wait "$gw"

# ---- where the database goes by default; one that cannot be opened ----
root=$(pwd); mkdir "$tmp/wd"
nerd_abs=$(cd "$(dirname "$NERD")" && pwd)/$(basename "$NERD")
(cd "$tmp/wd" && exec "$nerd_abs" local start-api --template "$root/$T" --port 0 > "$tmp/log" 2>&1) &
gw=$!; pids="$pids $gw"
listening_url "$tmp/log" > /dev/null && [ -s "$tmp/wd/.nerd/usage.sqlite3" ] &&
    grep -q '^API key PerApiApiKey: [A-Za-z0-9]\{40\} (usage plan PerApiUsagePlan; generated, kept in .nerd/usage.sqlite3)$' "$tmp/log" &&
    ok || bad "the default database: $(ls -A "$tmp/wd") $(tail -3 "$tmp/log")"
kill "$gw"; wait "$gw"
"$NERD" local start-api --template "$T" --usage-db /dev/null/usage.sqlite3 --port 0 > "$tmp/log" 2>&1
rc=$?
[ "$rc" = 1 ] && grep -q '^nerd local: /dev/null' "$tmp/log" && ! grep -q '^listening' "$tmp/log" &&
    ok || bad "a database that cannot be opened: exit $rc, $(tail -2 "$tmp/log")"

# ---- template.yaml's API-key mode, with the NER function ----
mkdir -p "$tmp/pkg/NerKeyFunction"
cp "$BOOT" "$MODEL" "$tmp/pkg/NerKeyFunction/"
start_gateway --template template.yaml --build-dir "$tmp/pkg" --no-limits --usage-db "$tmp/ner.sqlite3" \
    --parameter-overrides RequireApiKey=true Timeout=29
k=$(key_of NerRestApiApiKey)
[[ $k =~ ^[A-Za-z0-9]{40}$ ]] && ok || bad "template.yaml's key: $(grep '^API key' "$tmp/log")"
J='content-type: application/json'
S='{"text":"Alan Turing was born on June 23, 1912, in London, England."}'
req POST /Prod/ner -H "$J" -d "$S"; forbidden "NER without the key"
req POST /Prod/ner -H "$J" -H "x-api-key: $k" -d "$S"
[ "$code" = 200 ] && [ "$(cat "$tmp/b")" = '{"entities":[{"text":"Alan Turing","label":"PERSON","start":0,"end":11},{"text":"June 23, 1912","label":"DATE","start":24,"end":37},{"text":"London","label":"GPE","start":42,"end":48},{"text":"England","label":"GPE","start":50,"end":57}]}' ] &&
    ok || bad "NER with the key: $code $(head -c 300 "$tmp/b")"
req GET /Prod/healthz
[ "$code" = 200 ] && ok || bad "/healthz needs no key: $code"
req POST /ner -H "$J" -d '{"text":"x"}'
[ "$code" = 403 ] && [ "$(hdr x-amzn-ErrorType)" = ForbiddenException ] && ok ||
    bad "the HTTP API is gone in this mode: $code $(cat "$tmp/b")"
finish
