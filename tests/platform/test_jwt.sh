#!/usr/bin/env bash
# `nerd local jwt` through the real binary: a new key (mode 0600, never
# overwritten), its JWKS (the same kid each time: the key's thumbprint), a
# token minted with it and verified with that JWKS read from a file and
# from a loopback URL (python3's http.server on 127.0.0.1), the claims as
# an HTTP API and as a REST Cognito authorizer pass them, the refusals
# (expired, wrong issuer, wrong audience, missing scope -> 403, another
# key, an ES256 token under AWS's RSA-only default), a key made by
# `openssl genpkey` when the openssl tool is installed, and usage errors.
. tests/lib.sh
expect_eq() { if [ "$1" == "$2" ]; then ok; else bad "$3: got [$1] want [$2]"; fi; }
jwt() { "$NERD" local jwt "$@"; }
ISS=https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test

# a key, its JWKS
jwt --new-key "$tmp/k.pem" 2> "$tmp/err"
expect_eq "$?" 0 "--new-key"
expect_eq "$(stat -c %a "$tmp/k.pem")" 600 "key file mode"
grep -q "BEGIN PRIVATE KEY" "$tmp/k.pem" && ok || bad "PKCS#8 PEM"
jwt --new-key "$tmp/k.pem" 2> "$tmp/err"
expect_eq "$?" 1 "an existing key is not overwritten"
grep -q "File exists" "$tmp/err" && ok || bad "says why: $(cat "$tmp/err")"
jwt --key "$tmp/k.pem" --jwks > "$tmp/jwks.json"
expect_eq "$?" 0 "--jwks"
kid=$(python3 -c 'import json,sys; k=json.load(open(sys.argv[1]))["keys"][0]; print(k["kid"], k["kty"], k["alg"], k["use"], k["e"])' "$tmp/jwks.json")
case "$kid" in *" RSA RS256 sig AQAB") ok ;; *) bad "JWK members: $kid" ;; esac
kid=${kid%% *}
expect_eq "$(jwt --key "$tmp/k.pem" --jwks | python3 -c 'import json,sys; print(json.load(sys.stdin)["keys"][0]["kid"])')" \
    "$kid" "the same kid each time"
python3 -c 'import json,sys; assert "d" not in json.load(open(sys.argv[1]))["keys"][0]' "$tmp/jwks.json" \
    && ok || bad "no private member in the JWKS"

# mint, verify against the JWKS file
tok=$(jwt --key "$tmp/k.pem" --ttl 120 --claims "{\"iss\":\"$ISS\",\"aud\":\"app\",\"sub\":\"u1\",\"scope\":\"orders/read email\",\"groups\":[\"a\",\"b\"]}")
expect_eq "$?" 0 "mint"
expect_eq "$(tr -cd . <<< "$tok")" ".." "three parts"
jwt --verify "$tok" --keys "$tmp/jwks.json" --issuer "$ISS" --audience other --audience app \
    --scope email > "$tmp/out"
expect_eq "$?" 0 "verify: $(cat "$tmp/out")"
read -r iat exp sub groups scopes < <(python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); c=d["claims"]
print(c["iat"], c["exp"], c["sub"], c["groups"].replace(" ", "_"), ",".join(d["scopes"]))' "$tmp/out")
expect_eq "$((exp - iat))" 120 "exp = iat + ttl, as strings"
expect_eq "$sub $groups $scopes" "u1 [a_b] orders/read,email" "HTTP API claims and scopes"
jwt --verify "Bearer $tok" --keys "$tmp/jwks.json" > /dev/null
expect_eq "$?" 0 "Bearer prefix"
printf '%s\n' "$tok" | jwt --verify - --keys "$tmp/jwks.json" > /dev/null
expect_eq "$?" 0 "token from stdin"

# the refusals
refused() { # WANT_LINE TOKEN ARGS...
    local want=$1 t=$2; shift 2
    local out; out=$(jwt --verify "$t" --keys "$tmp/jwks.json" "$@"); local rc=$?
    expect_eq "$rc $out" "1 $want" "refusal ($*)"
}
refused "401 the token does not have a valid issuer" "$tok" --issuer https://elsewhere
refused "401 the token does not have a valid audience" "$tok" --audience nope
refused "403 the token does not have the required scope" "$tok" --scope admin
old=$(jwt --key "$tmp/k.pem" --claims '{"iat":1000,"exp":2000}')
refused "401 the token has expired" "$old"
future=$(jwt --key "$tmp/k.pem" --claims "{\"nbf\":$(($(date +%s) + 600))}")
refused "401 the token is not valid yet" "$future"
jwt --new-key "$tmp/k2.pem" 2> /dev/null
other=$(jwt --key "$tmp/k2.pem" --kid "$kid" --claims '{"a":1}')
refused "401 the token has an invalid signature" "$other"
unknown=$(jwt --key "$tmp/k2.pem" --claims '{"a":1}')
refused "401 the token's key id does not match a key" "$unknown"
refused "401 the token is not valid base64url" "${tok%?}*"
refused "401 the token is not a valid JWT" "${tok%.*}"

# REST Cognito: token_use required, exp/iat as dates
cog=$(jwt --key "$tmp/k.pem" --claims '{"token_use":"id","iat":1718636404,"exp":4102444800}')
jwt --verify "$cog" --keys "$tmp/jwks.json" --cognito > "$tmp/out"
expect_eq "$?" 0 "Cognito verify"
expect_eq "$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["claims"]; print(c["iat"], "/", c["exp"])' "$tmp/out")" \
    "Mon Jun 17 15:00:04 UTC 2024 / Fri Jan 01 00:00:00 UTC 2100" "Cognito dates"
refused "401 the token has an invalid token_use" "$tok" --cognito

# the JWKS from a loopback URL
mkdir -p "$tmp/www/.well-known"
cp "$tmp/jwks.json" "$tmp/www/.well-known/jwks.json"
(cd "$tmp/www" && exec python3 -u -m http.server 0 --bind 127.0.0.1) > "$tmp/http.log" 2>&1 &
pids="$pids $!"
port=
for _ in $(seq 100); do
    port=$(sed -nE 's/^Serving HTTP on [^ ]+ port ([0-9]+).*/\1/p' "$tmp/http.log")
    [ -n "$port" ] && break
    sleep 0.1
done
if [ -z "$port" ]; then
    bad "python3 http.server did not start: $(cat "$tmp/http.log")"
else
    jwt --verify "$tok" --keys "http://127.0.0.1:$port/.well-known/jwks.json" --audience app > /dev/null
    expect_eq "$?" 0 "keys from a loopback URL"
    # an issuer that is itself loopback: {issuer}/.well-known/jwks.json
    loc=$(jwt --key "$tmp/k.pem" --claims "{\"iss\":\"http://127.0.0.1:$port\"}")
    jwt --verify "$loc" --issuer "http://127.0.0.1:$port" > /dev/null
    expect_eq "$?" 0 "keys found from the issuer"
    out=$(jwt --verify "$tok" --keys "http://127.0.0.1:$port/missing.json" 2>&1)
    expect_eq "$?" 2 "a missing URL"
    case "$out" in *"answered 404"*) ok ;; *) bad "404 reported: $out" ;; esac
fi
out=$(jwt --verify "$tok" --keys "http://192.0.2.1/jwks.json" 2>&1)
expect_eq "$?" 2 "a remote URL is refused"
case "$out" in *"not a loopback address"*) ok ;; *) bad "says why: $out" ;; esac

# EC keys: ES256 tokens, refused under AWS's RSA-only default
jwt --new-key "$tmp/e.pem" --type p256 2> /dev/null
jwt --key "$tmp/e.pem" --jwks > "$tmp/ejwks.json"
etok=$(jwt --key "$tmp/e.pem" --claims '{"a":1}' 2> "$tmp/err")
grep -q "RS256/RS384/RS512 only" "$tmp/err" && ok || bad "ES256 note: $(cat "$tmp/err")"
expect_eq "$(jwt --verify "$etok" --keys "$tmp/ejwks.json")" \
    "401 the token's signing algorithm is not supported" "ES256 under the default"
jwt --verify "$etok" --keys "$tmp/ejwks.json" --algs RS256,ES256 > /dev/null
expect_eq "$?" 0 "ES256 with --algs"

# a key made by openssl genpkey, and PS256 under a JWKS that names it
if command -v openssl > /dev/null; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/o.pem" 2> /dev/null
    jwt --key "$tmp/o.pem" --alg PS256 --jwks > "$tmp/ojwks.json"
    ptok=$(jwt --key "$tmp/o.pem" --alg PS256 --claims '{"a":1}' 2> /dev/null)
    jwt --verify "$ptok" --keys "$tmp/ojwks.json" --algs PS256 > /dev/null
    expect_eq "$?" 0 "openssl genpkey key, PS256"
fi

# usage errors
jwt --key "$tmp/k.pem" --claims '[1]' 2> /dev/null
expect_eq "$?" 2 "claims not an object"
jwt --key "$tmp/k.pem" --alg HS256 --claims '{}' 2> /dev/null
expect_eq "$?" 2 "--alg HS256"
jwt --key "$tmp/e.pem" --alg RS256 --claims '{}' 2> /dev/null
expect_eq "$?" 1 "--alg that does not fit the key"
jwt --key "$tmp/missing.pem" --jwks 2> /dev/null
expect_eq "$?" 1 "missing key file"
jwt --new-key "$tmp/x.pem" --type dsa 2> /dev/null
expect_eq "$?" 2 "unknown key type"
jwt --help | grep -q -- "--new-key FILE" && ok || bad "--help"
"$NERD" local --help | grep -q "nerd local jwt" && ok || bad "nerd local --help names jwt"
finish
