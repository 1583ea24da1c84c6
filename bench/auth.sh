#!/usr/bin/env bash
# `make bench`, authorizer part: an HTTP API route with a JWT authorizer
# (RS256, the keys read once at start-up from a --jwks file) against the
# same route without an authorizer, both served by one `nerd local
# start-api` with the trivial C runtime (bench/auth.yaml,
# bench/functions/hello.c, limits off) in the same run: requests/s, p99 and
# the CPU time per request of the gateway and of the runtimes (wrk -t1
# --latency, bench/common.sh's run) at 4 and 16 connections, BENCH_RUNS (3)
# runs of BENCH_SECONDS (5) each, the two routes interleaved, medians.
# Every request carries the same token, as one client's would.  Goal: the
# JWT route >= 80% of the open route's requests/s.
set -eu
NERD=${1:-build/nerd}
HELLO=$(cd "$(dirname "$NERD")" && pwd)/functions/hello
DUR=${BENCH_SECONDS:-5}
RUNS=${BENCH_RUNS:-3}
. bench/common.sh

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
echo "auth: HTTP API route with a JWT authorizer (RS256, keys cached) vs the same route without, one gateway," \
     "the C runtime; wrk -t1 --latency, ${DUR} s per run, median of $RUNS runs (interleaved), $(nproc) cores"
printf 'auth: %5s | %11s %11s %6s %-8s | %9s %9s | %s\n' conns "jwt req/s" "open req/s" ratio "(>=80%)" \
    "jwt p99" "open p99" "gateway CPU per request: jwt, open"
for C in 4 16; do
    wrk -t1 -c"$C" -d1s "${auth[@]}" "$jwt" > /dev/null 2>&1 # one environment per connection, warm
    for _ in $(seq "$RUNS"); do
        run "jwt$C" "$jwt" "${auth[@]}"
        run "open$C" "$open"
    done
    awk -v c="$C" -v j="$(med "jwt$C" 1)" -v o="$(med "open$C" 1)" -v jp="$(med "jwt$C" 2)" \
        -v op="$(med "open$C" 2)" -v jg="$(med "jwt$C" 3)" -v og="$(med "open$C" 3)" 'BEGIN {
        printf "auth: %5d | %11.0f %11.0f %5.0f%% %-8s | %6d us %6d us | %.1f us, %.1f us\n", c, j, o,
               100 * j / o, (j / o >= 0.8 ? "ok" : "MISSED"), jp, op, jg, og }'
done
for C in 4 16; do
    for r in jwt open; do
        echo "auth: each run ($r, $C connections): $(tr '\n' ';' < "$tmp/$r$C" | sed 's/;$//; s/;/ | /g')" \
             "(req/s, p99 us, gateway and runtime CPU us per request)"
    done
done
# the token (valid 2 h) is still accepted: the runs measured answers, not refusals
[ "$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" "$jwt")" = 200 ] || echo "auth: MISSED: the token was refused"
