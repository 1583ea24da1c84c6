#!/usr/bin/env bash
# `make bench`, authorizer part: an HTTP API route with a JWT authorizer
# (RS256, the keys read once at start-up from a --jwks file, the token's
# signature remembered after its first check, as jwt_keys_verify does)
# against the same route without an authorizer, both served by one
# `nerd local start-api` with the trivial C runtime (bench/auth.yaml,
# bench/functions/hello.c, limits off) in the same run: requests/s and p99
# with wrk -t1 --latency at 4 and 16 connections, BENCH_RUNS (3) runs of
# BENCH_SECONDS (5) each, the two routes interleaved, medians; goal: the
# JWT route >= 80% of the open route's requests/s.
set -eu
NERD=${1:-build/nerd}
HELLO=$(cd "$(dirname "$NERD")" && pwd)/functions/hello
DUR=${BENCH_SECONDS:-5}
RUNS=${BENCH_RUNS:-3}
. bench/common.sh
wrkrun() { wrk -t1 -c"$1" -d"${DUR}s" --latency "${@:3}" "$2" 2>&1; }
# a run with answers other than 200 is reported: its figure measures refusals
non2xx() { if echo "$1" | grep -q "Non-2xx"; then echo "auth: MISSED: a run had other answers than 200: $(echo "$1" | grep "Non-2xx")"; fi; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

"$NERD" local jwt --new-key "$tmp/key.pem" 2> /dev/null
"$NERD" local jwt --key "$tmp/key.pem" --jwks > "$tmp/jwks.json"
tok=$("$NERD" local jwt --key "$tmp/key.pem" --ttl 7200 \
    --claims '{"iss":"https://issuer.example.com","aud":"bench","sub":"user-1","scope":"read write","email":"a@example.com"}')
"$NERD" local start-api --template bench/auth.yaml --parameter-overrides "CodeDir=$HELLO" \
    --jwks "$tmp/jwks.json" --port 0 --no-limits > "$tmp/gw.log" 2>&1 & gw=$!; pids="$pids $gw"
base=$(listening_url "$tmp/gw.log")
open=$base/open/hello; jwt=$base/jwt/hello
auth=(-H "Authorization: Bearer $tok")
[ "$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" "$jwt")" = 200 ] &&
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$jwt")" = 401 ] &&
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$open")" = 200 ] ||
    { echo "auth: the routes do not answer as expected: $(tail -3 "$tmp/gw.log")" >&2; exit 1; }
echo "auth: HTTP API route with a JWT authorizer (RS256, keys cached) vs the same route without;" \
     "wrk -t1 --latency, ${DUR} s per run, median of $RUNS runs (interleaved), $(nproc) cores"
printf 'auth: %5s | %11s %11s %6s %-8s | %9s %9s\n' conns "jwt req/s" "open req/s" ratio "(>=80%)" "jwt p99" "open p99"
for c in 4 16; do
    wrkrun "$c" "$jwt" -d1s "${auth[@]}" > /dev/null # one environment per connection, warm
    wrkrun "$c" "$open" -d1s > /dev/null
    jr=""; jp=""; orr=""; op=""
    for _ in $(seq "$RUNS"); do
        out=$(wrkrun "$c" "$jwt" "${auth[@]}"); jr="$jr $(echo "$out" | rps)"; jp="$jp $(echo "$out" | pct 99)"
        non2xx "$out"
        out=$(wrkrun "$c" "$open"); orr="$orr $(echo "$out" | rps)"; op="$op $(echo "$out" | pct 99)"
        non2xx "$out"
    done
    echo "auth: $c connections, each run: jwt req/s$jr p99 us$jp | open req/s$orr p99 us$op" >> "$tmp/runs"
    awk -v c="$c" -v jr="$(echo $jr | median)" -v orr="$(echo $orr | median)" \
        -v jp="$(echo $jp | median)" -v op="$(echo $op | median)" 'BEGIN {
        r = jr / orr
        printf "auth: %5d | %11.0f %11.0f %5.0f%% %-8s | %6.0f us %6.0f us\n", c, jr, orr, 100 * r,
               (r >= 0.8 ? "ok" : "MISSED"), jp, op }'
done
cat "$tmp/runs"
