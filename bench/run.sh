#!/usr/bin/env bash
# `make bench`: the engine's figures (nerd bench) and, in the same run, the
# numpy reference of the same model (bench/ref_numpy.py) for ratios.  spaCy
# itself is not installable here; its figures measured on this machine are
# quoted from ../shared/data/README.md.
set -eu
NERD=${1:-build/nerd}; MODEL=${2:-models/en_core_web_sm-2.2.5.nerd}; SHARED=${3:-../shared}
out=$("$NERD" bench --model "$MODEL" --shared "$SHARED")
echo "$out"
tps=$(echo "$out" | sed -nE 's/^bulk .*1 core: ([0-9]+) tokens\/s.*/\1/p')
p50=$(echo "$out" | sed -nE 's/^latency .*p50 ([0-9.]+) us.*/\1/p')
if [ -d "$SHARED/specs/sm225" ] && /usr/bin/python3 -c 'import numpy, msgpack' 2>/dev/null; then
    ref=$(/usr/bin/python3 bench/ref_numpy.py "$SHARED" 300)
    echo "$ref"
    rtps=$(echo "$ref" | sed -nE 's/.*tokens_per_s=([0-9.]+).*/\1/p')
    rp50=$(echo "$ref" | sed -nE 's/.*study_p50_us=([0-9.]+).*/\1/p')
    awk -v a="$tps" -v b="$rtps" -v c="$p50" -v d="$rp50" 'BEGIN {
        printf "ratio    bulk: nerd %.0f tokens/s vs numpy reference %.0f tokens/s = %.0fx\n", a, b, a / b
        printf "ratio    study sentence p50: nerd %.1f us vs numpy reference %.1f us = %.0fx faster\n", c, d, d / c
        printf "ratio    vs spaCy 2.2.4 on this machine (../shared/data/README.md): bulk %.1fx of 21,000-25,000 tokens/s, latency %.1fx faster than 1.77 ms\n", a / 23000, 1770 / c
    }'
else
    echo "numpy reference skipped (needs $SHARED/specs/sm225 and python3-numpy, python3-msgpack)"
fi

# the local platform with the trivial C runtime, against nginx and wrk
bench/platform.sh "$NERD"

# the gateway against nginx as a reverse proxy; memory per idle client
# connection and per NER environment
bench/gateway.sh "$NERD" "$MODEL"

# REST routes against an HTTP API route, and with an API key required
bench/restapi.sh "$NERD"

# an HTTP API route with a JWT authorizer vs the same route without
bench/auth.sh "$NERD"

# the NER function: engine vs HTTP mode vs the local platform
bench/function.sh "$NERD" "$MODEL"

# its cold start (exec to the first /next, model loaded) and memory, with
# no platform in between
bench/coldstart.sh "$NERD" "$MODEL"

# batches: texts/s with one text per request vs 32 per request, through
# `make run`'s server (template.yaml, the function packaged as sam build does)
bench/batch.sh "$NERD" "$MODEL" "$SHARED"

# the load lab's generator against nginx, side by side with wrk
bench/loadgen.sh "$NERD"

# the local DynamoDB service against AWS's DynamoDB Local, same run
bench/dynamodb.sh "$NERD"

# the AWS lab's products API through the platform at the lab's 200 req/s
# (open loop, 128 MB, the lab's mix), same run
bench/lab.sh "$NERD"
