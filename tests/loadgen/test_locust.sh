#!/usr/bin/env bash
# locustfile.py under Debian's python3-locust against the NER API served as
# `make run` serves it (nerd local start-api with template.yaml), both ways:
# plain Locust (NERD_SCENARIO unset), headless with -u/-r/-t/--csv (6 s) and
# through the web UI's own requests (POST /swarm with a user count, /stop);
# and a scenario's shape, heavy-b at a 0.02 time scale (about 11 s), warm-up
# included, which must finish by itself.  Every run needs requests and zero
# failures.  About 30 s in all; loopback only.
. tests/lib.sh
if [ ! -x /usr/bin/locust ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-locust) \
        > /tmp/nerd-locust.log 2>&1 || give_up "cannot install python3-locust"
fi
# the shapes follow the engine's semantics: a stage without a spawn rate
# starts its users at once (light-c's spike), per-stage think times with
# units, no think time by default
cat > "$tmp/units.scn" <<'EOF'
name units
think 200ms 1s
warmup 2s users 2 spawn-rate 2
stage 3s users 4 think 0 50ms
stage 1m users 1
EOF
NERD_SCENARIO=$tmp/units.scn /usr/bin/python3 - <<'EOF' && ok || bad "locustfile shapes"
import importlib.util
spec = importlib.util.spec_from_file_location("lf", "locustfile.py")
lf = importlib.util.module_from_spec(spec); spec.loader.exec_module(lf)
import types
def at(cls, t):
    sh = cls(); sh.get_run_time = lambda: t
    sh.runner = types.SimpleNamespace(stats=types.SimpleNamespace(reset_all=lambda: None))
    return sh.tick(), sh.think()
spike = lf.SHAPES["light-c"]
(u, r), th = at(spike, 60 + 30 + 1)          # warm-up 60 s, pre-spike 30 s, then the spike
assert u == 8 and r >= 800 and th == (0.2, 1.0), (u, r, th)
(u, r), th = at(lf.ScenarioShape, 1)
assert (u, r, th) == (2, 2.0, (0.2, 1.0)), (u, r, th)
(u, r), th = at(lf.ScenarioShape, 3)
assert u == 4 and r >= 400 and th == (0.0, 0.05), (u, r, th)
(u, r), th = at(lf.ScenarioShape, 10)
assert u == 1 and th == (0.2, 1.0), (u, r, th)
assert at(lf.ScenarioShape, 66)[0] is None
lab = lf.SHAPES["lab-stress"]
(u, r), th = at(lab, 5)
assert (u, r, th) == (100, 3.0, (0.0, 0.0)), (u, r, th)
# Locust's own loader finds the scenario asked for as the file's shape
from locust.util.load_locustfile import load_locustfile
_doc, users, shape = load_locustfile("locustfile.py")
assert list(users) == ["NerUser"] and type(shape).__name__ == "Shape_units", (users, shape)
EOF
# without NERD_SCENARIO Locust finds no shape (so -u/-r/-t and the web UI's
# numbers apply), and there is no think time unless NERD_THINK says
env -u NERD_SCENARIO /usr/bin/python3 - <<'EOF' && ok || bad "locustfile without NERD_SCENARIO"
import os, subprocess, sys
from locust.util.load_locustfile import load_locustfile
_doc, users, shape = load_locustfile("locustfile.py")
assert list(users) == ["NerUser"] and shape is None, (users, shape)
import locustfile as lf
assert lf.THINK == (0.0, 0.0), lf.THINK
assert not hasattr(lf, "ScenarioShape") and not hasattr(lf, "SHAPES")
def think(spec):
    r = subprocess.run([sys.executable, "-c", "import locustfile; print(locustfile.THINK)"],
                       env=dict(os.environ, NERD_THINK=spec), capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else r.stderr.strip().splitlines()[-1]
assert think("200ms 1s") == "(0.2, 1.0)", think("200ms 1s")
assert think("0.5") == "(0.5, 0.5)", think("0.5")
assert think("2 1") == "ValueError: NERD_THINK: MAX is below MIN", think("2 1")
EOF
mkdir -p "$tmp/pkg/NerFunction"; cp "$BOOT" "$MODEL" "$tmp/pkg/NerFunction/"
start_gateway --template template.yaml --build-dir "$tmp/pkg" --no-limits

# stats_ok PREFIX MIN: PREFIX_stats.csv has more than MIN requests, none
# failed, a POST /ner row; PREFIX_failures.csv has no rows
stats_ok() {
    /usr/bin/python3 - "$1_stats.csv" "$1_failures.csv" "$2" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
agg = [r for r in rows if r["Name"] == "Aggregated"][0]
ner = [r for r in rows if r["Name"] == "/ner"][0]
assert int(agg["Request Count"]) > int(sys.argv[3]), agg
assert int(agg["Failure Count"]) == 0, agg
assert ner["Type"] == "POST"
assert list(csv.reader(open(sys.argv[2])))[1:] == [], "failures recorded"
PY
}
summary() {
    /usr/bin/python3 -c 'import csv,sys; r=[x for x in csv.DictReader(open(sys.argv[1])) if x["Name"]=="Aggregated"][0]; print(r["Request Count"], "requests,", r["Failure Count"], "failures, median", r["Median Response Time"], "ms")' "$1_stats.csv"
}

# plain Locust as its users run it: 5 users spawned at 5/s, for 6 s
env -u NERD_SCENARIO timeout 30 /usr/bin/locust -f locustfile.py --headless -u 5 -r 5 -t 6s \
    --csv "$tmp/plain" -H "$url" --only-summary --loglevel WARNING > "$tmp/plain.out" 2>&1 < /dev/null
rc=$?
[ $rc -eq 0 ] && ok || bad "plain locust exit $rc: $(tail -15 "$tmp/plain.out")"
if [ -s "$tmp/plain_stats.csv" ]; then
    stats_ok "$tmp/plain" 20 && ok || bad "plain stats: $(cat "$tmp/plain_stats.csv")"
    echo "locust -u 5 -r 5 -t 6s: $(summary "$tmp/plain")"
else
    bad "plain run wrote no plain_stats.csv: $(tail -5 "$tmp/plain.out")"
fi

# the web UI's path, on 127.0.0.1: POST /swarm with the form's fields as the
# page's Start button sends them, watch /stats/requests, then GET /stop.
# Status 2: locust went away before it answered (its port was taken).
webui() {
    local port wpid i st=
    port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    env -u NERD_SCENARIO timeout 30 /usr/bin/locust -f locustfile.py --web-host 127.0.0.1 \
        --web-port "$port" -H "$url" --loglevel WARNING > "$tmp/web.out" 2>&1 < /dev/null &
    wpid=$!
    pids="$pids $wpid"
    w="http://127.0.0.1:$port"
    for i in $(seq 100); do
        curl -s -o /dev/null --max-time 2 "$w/" && break
        kill -0 $wpid 2>/dev/null || return 2
        sleep 0.1
    done
    curl -s --max-time 5 -X POST -d user_count=5 -d spawn_rate=5 -d "host=$url" "$w/swarm" > "$tmp/swarm.json"
    grep -q '"success": *true' "$tmp/swarm.json" || { echo "swarm: $(cat "$tmp/swarm.json")"; return 1; }
    sleep 3
    for i in $(seq 20); do   # /stats/requests is cached for a second or two
        curl -s --max-time 5 "$w/stats/requests" > "$tmp/stats.json"
        st=$(/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
agg = [s for s in d["stats"] if s["name"] == "Aggregated"][0]
ner = [s for s in d["stats"] if s["name"] == "/ner"]
print(d["user_count"], agg["num_requests"], agg["num_failures"], ner[0]["method"] if ner else "-", d["state"])
' "$tmp/stats.json" 2>/dev/null)
        set -- $st
        [ "${1:-0}" -eq 5 ] && [ "${2:-0}" -gt 0 ] && break
        sleep 0.5
    done
    echo "locust web UI: ${1:-?} users, ${2:-?} requests, ${3:-?} failures, ${5:-?}"
    [ "${1:-0}" -eq 5 ] && [ "${2:-0}" -gt 0 ] && [ "${3:-1}" -eq 0 ] && [ "$4" = POST ] || return 1
    curl -s --max-time 5 "$w/stop" | grep -q '"success": *true' || { echo "GET /stop failed"; return 1; }
    for i in $(seq 20); do
        sleep 0.5
        curl -s --max-time 5 "$w/stats/requests" > "$tmp/stats.json"
        /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d["state"] == "stopped" and d["user_count"] == 0))' \
            "$tmp/stats.json" && break
    done
    [ "$i" -lt 20 ] || { echo "not stopped after GET /stop"; return 1; }
    kill $wpid; wait $wpid 2>/dev/null
    return 0
}
for try in 1 2 3; do
    webui; rc=$?
    [ $rc -ne 2 ] && break
done
[ $rc -eq 0 ] && ok || bad "web UI run: $(tail -5 "$tmp/web.out") $(head -c 600 "$tmp/stats.json" 2>/dev/null)"

# a scenario's shape: the run ends with its last stage
NERD_SCENARIO=heavy-b NERD_TIME_SCALE=0.02 timeout 120 /usr/bin/locust -f locustfile.py --headless \
    --host "$url" --csv "$tmp/run" --only-summary --loglevel WARNING > "$tmp/locust.out" 2>&1 < /dev/null
rc=$?
[ $rc -eq 0 ] && ok || bad "locust exit $rc: $(tail -15 "$tmp/locust.out")"
[ -s "$tmp/run_stats.csv" ] && ok || give_up "no run_stats.csv"
stats_ok "$tmp/run" 50 && ok || bad "stats: $(cat "$tmp/run_stats.csv")"
echo "locust NERD_SCENARIO=heavy-b: $(summary "$tmp/run")"
finish
