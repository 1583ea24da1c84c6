#!/usr/bin/env bash
# Layers (tests/data/functions/layered.yaml, tests/data/layers/): two Python
# layers merged as Lambda merges them under /opt (the second's greet.py over
# the first's, site-packages before python/, one's bin/ on PATH and lib/ on
# LD_LIBRARY_PATH), a Node.js layer's nodejs/node_modules on NODE_PATH, a
# user's PYTHONPATH dropping the layer paths (as AWS's bootstrap.py does),
# and a published layer's ARN skipped with a warning.  Each in both modes:
# MOUNT (a mount namespace per environment with /opt the layers; only where
# this process may mount: root) and PATHS (NERD_LAYERS=paths: the layer
# directories on the search paths), through `nerd local invoke` and, in the
# default mode, the gateway.  The host's /opt is never touched.
. tests/lib.sh
T=tests/data/functions/layered.yaml
L=$(cd tests/data/layers && pwd)
opt_before=$(ls -A /opt 2>/dev/null | tr '\n' ' ')
inv() { # FUNCTION -> $tmp/out, $tmp/log, $rc (NERD_LAYERS from the caller)
    timeout 30 "$NERD" local invoke "$1" --template "$T" > "$tmp/out" 2> "$tmp/log"; rc=$?
}
has() { grep -qE -- "$2" "$tmp/$1" && ok || bad "$mode: $3: /$2/ not in $1: $(head -c 800 "$tmp/$1")"; }
py() { # LABEL SCRIPT
    python3 - "$tmp/out" "$L" "$mode" > "$tmp/py" 2>&1 <<EOF && ok || bad "$mode: $1: $(tail -3 "$tmp/py")"
import json, sys
out = json.load(open(sys.argv[1]))
L, mode = sys.argv[2], sys.argv[3]
$2
EOF
}

layered() { # the checks of one mode
    inv PyLayered
    [ $rc -eq 0 ] && ok || bad "$mode: PyLayered exit $rc: $(tail -5 "$tmp/log")"
    py "python layers merged, later over earlier" '
assert out["who"] == "layer two", out            # both layers have python/greet.py
assert out["shared"] == "layer two site-packages", out
assert out["only1"] == "only in layer one", out  # the Globals layer is there too
assert out["tool"] == "tool from layer one", out # bin/ on PATH
if mode == "mount":
    assert out["greet_file"] == "/opt/python/greet.py", out
    assert out["opt"] == ["bin", "lib", "python"], out   # the layers, not the host'"'"'s /opt
    assert out["ld"].endswith(":/opt/lib") and out["path"].endswith(":/opt/bin"), out
    assert out["layer_dirs"] is None, out
else:
    assert out["greet_file"] == L + "/two/python/greet.py", out
    assert out["layer_dirs"] == L + "/two:" + L + "/one", out
    assert out["ld"].endswith(":%s/two/lib:%s/one/lib" % (L, L)), out
    assert out["path"].endswith(":%s/two/bin:%s/one/bin" % (L, L)), out
'
    if [ "$mode" = mount ]; then
        has log '^nerd: function PyLayered: 2 layers; layers: merged under /opt in a mount namespace per environment$' "mode line"
    else
        has log '^nerd: function PyLayered: 2 layers; layers: /opt not replaceable \(NERD_LAYERS=paths\): layer directories go on PATH, LD_LIBRARY_PATH, NODE_PATH and sys.path instead$' "mode line"
    fi
    inv PyUserPath
    has out '^\{"errorMessage": "Unable to import module '"'app'"': No module named '"'greet'"'", "errorType": "Runtime.ImportModuleError", ' "a user's PYTHONPATH drops the layers"
    inv NodeLayered
    [ $rc -eq 0 ] && ok || bad "$mode: NodeLayered exit $rc: $(tail -5 "$tmp/log")"
    py "node layer on NODE_PATH" '
assert out["greeting"] == "hello ada, from a layer", out
if mode == "mount":
    assert out["from"] == "/opt/nodejs/node_modules/greeter/index.js", out
    assert out["nodePath"].startswith("/opt/nodejs/node_modules:/opt/nodejs/node20/node_modules:"), out
else:
    assert out["from"] == L + "/node/nodejs/node_modules/greeter/index.js", out
    assert out["nodePath"].startswith(L + "/node/nodejs/node_modules:" + L + "/node/nodejs/node20/node_modules:" + L + "/one/nodejs/node_modules:"), out
'
    has log '^nerd: warning: function NodeLayered: layer arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python311-x86_64:7 is published on AWS, not defined in the template: not available locally, skipped$' "ARN layer warning"
}

# the default: MOUNT where this process may mount (probed), else PATHS
mode=paths
NERD_LAYERS= inv PyLayered
grep -q 'layers: merged under /opt' "$tmp/log" && mode=mount
if [ "$mode" = mount ]; then
    export NERD_LAYERS=mount
    layered
    # through the gateway: environments started by the worker threads
    start_gateway --template "$T"
    code=$(curl -s -m 30 -o "$tmp/out" -w '%{http_code}' "$url/layered")
    [ "$code" = 200 ] && ok || bad "gateway: $code $(cat "$tmp/out") $(tail -5 "$tmp/log")"
    py "gateway: the layers under /opt" '
assert out["who"] == "layer two" and out["opt"] == ["bin", "lib", "python"], out
'
    kill $gw; wait $gw 2>/dev/null
else
    echo "note: mounting on /opt is not allowed here: MOUNT mode not tested" >&2
fi
mode=paths
export NERD_LAYERS=paths
layered
# the host's /opt is as it was: nothing mounted on it, nothing added
[ "$(ls -A /opt 2>/dev/null | tr '\n' ' ')" = "$opt_before" ] && ok || bad "host /opt changed: $(ls -A /opt)"
grep -q ' /opt ' /proc/self/mounts && bad "a mount on the host's /opt: $(grep ' /opt ' /proc/self/mounts)" || ok
finish
