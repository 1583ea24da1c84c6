#!/usr/bin/env bash
# The platform's Python runtime client (runtimes/python/bootstrap.py) in
# parts, without a platform: the context object from the Runtime API's
# client-context and identity headers (and AWS's error for bad JSON there),
# the remaining time clamped at 0, and the JSON it writes, with Debian's
# simplejson and with the standard library standing in (simplejson hidden):
# the same bytes (Decimal as a number, NaN, Infinity; non-ASCII escaped up
# to python3.11, UTF-8 from python3.12).  Run by Debian's /usr/bin/python3,
# the interpreter nerd uses.
. tests/lib.sh
PY=/usr/bin/python3
[ -x "$PY" ] || give_up "$PY is not installed"
client=runtimes/python/bootstrap.py
probe() { # HIDE ENV... -- SCRIPT: SCRIPT with the client imported as `b`
    local hide=$1 envs=()
    shift
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    printf 'import importlib.util, sys\nif %s:\n    sys.modules["simplejson"] = None\n' "$hide" > "$tmp/probe.py"
    printf 'spec = importlib.util.spec_from_file_location("nerd_bootstrap", sys.argv[1])\n' >> "$tmp/probe.py"
    printf 'b = importlib.util.module_from_spec(spec)\nspec.loader.exec_module(b)\n' >> "$tmp/probe.py"
    printf '%s\n' "$2" >> "$tmp/probe.py"
    env "${envs[@]}" "$PY" "$tmp/probe.py" "$client"
}
values='
from decimal import Decimal
print(b.to_json({"price": Decimal("1.10"), "big": Decimal("-12345678901234567890.25"),
                 "exp": Decimal("1E+3"), "nan": float("nan"), "inf": float("-inf"),
                 "dnan": Decimal("NaN"), "text": "caf\u00e9 \u2603", "list": [1, 2.5, None, True],
                 "nested": {"d": [Decimal("0.0")]}}))'
for v in 3.11 3.12; do
    probe False AWS_EXECUTION_ENV=AWS_Lambda_python$v -- "$values" > "$tmp/with.$v" 2>&1
    probe True AWS_EXECUTION_ENV=AWS_Lambda_python$v -- "$values" > "$tmp/without.$v" 2>&1
    cmp -s "$tmp/with.$v" "$tmp/without.$v" && ok ||
        bad "python$v: the stdlib fallback differs: $(cat "$tmp/with.$v") vs $(cat "$tmp/without.$v")"
done
[ "$(cat "$tmp/with.3.11")" = '{"price": 1.10, "big": -12345678901234567890.25, "exp": 1E+3, "nan": NaN, "inf": -Infinity, "dnan": NaN, "text": "caf\u00e9 \u2603", "list": [1, 2.5, null, true], "nested": {"d": [0.0]}}' ] &&
    ok || bad "python3.11 JSON: $(cat "$tmp/with.3.11")"
[ "$(cat "$tmp/with.3.12")" = '{"price": 1.10, "big": -12345678901234567890.25, "exp": 1E+3, "nan": NaN, "inf": -Infinity, "dnan": NaN, "text": "café ☃", "list": [1, 2.5, null, true], "nested": {"d": [0.0]}}' ] &&
    ok || bad "python3.12 JSON: $(cat "$tmp/with.3.12")"
for hide in False True; do
    probe $hide -- '
try:
    b.marshal({"s": {1}})
except b.Fault as e:
    print(e.error_type, e.msg)
print(b.marshal(b"raw"))' > "$tmp/m" 2>&1
    [ "$(cat "$tmp/m")" = "Runtime.MarshalError Unable to marshal response: Object of type set is not JSON serializable
(b'raw', 'application/unknown')" ] && ok || bad "marshal (simplejson hidden: $hide): $(cat "$tmp/m")"
done

probe False AWS_LAMBDA_FUNCTION_NAME=Fn AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512 -- '
import time
cc = b._parse_header("{\"client\":{\"installation_id\":\"i-1\",\"app_title\":\"t\"},\"custom\":{\"k\":1},\"env\":{\"e\":\"v\"}}", "Client Context")
ci = b._parse_header("{\"cognitoIdentityId\":\"id-1\",\"cognitoIdentityPoolId\":\"pool-1\"}", "Cognito Identity")
c = b.LambdaContext("rid", cc, ci, int(time.time() * 1000) - 5000, "arn:x", None)
print(c.client_context.client.installation_id, c.client_context.client.app_title,
      c.client_context.client.app_version_code, c.client_context.custom, c.client_context.env)
print(c.identity.cognito_identity_id, c.identity.cognito_identity_pool_id)
print(c.get_remaining_time_in_millis(), c.function_name, repr(c.memory_limit_in_mb))
try:
    b._parse_header("{bad", "Client Context")
except b.Fault as e:
    print(e.error_type, e.msg)' > "$tmp/ctx" 2>&1
[ "$(cat "$tmp/ctx")" = "i-1 t None {'k': 1} {'e': 'v'}
id-1 pool-1
0 Fn '512'
Runtime.LambdaContextUnmarshalError Unable to parse Client Context JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)" ] &&
    ok || bad "context: $(cat "$tmp/ctx")"
finish
