#!/usr/bin/env bash
# locustfile.py under Debian's python3-locust, headless, against the NER API
# served as `make run` serves it (nerd local start-api with template.yaml):
# heavy-b at a 0.02 time scale (about 11 s), warm-up included; the run must
# finish by itself with requests and zero failures, and write Locust's CSVs.
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
EOF
mkdir -p "$tmp/pkg/NerFunction"; cp "$BOOT" "$MODEL" "$tmp/pkg/NerFunction/"
start_gateway --template template.yaml --build-dir "$tmp/pkg" --no-limits
NERD_SCENARIO=heavy-b NERD_TIME_SCALE=0.02 timeout 120 /usr/bin/locust -f locustfile.py --headless \
    --host "$url" --csv "$tmp/run" --only-summary --loglevel WARNING > "$tmp/locust.out" 2>&1
rc=$?
[ $rc -eq 0 ] && ok || bad "locust exit $rc: $(tail -15 "$tmp/locust.out")"
[ -s "$tmp/run_stats.csv" ] && ok || give_up "no run_stats.csv"
python3 - "$tmp/run_stats.csv" "$tmp/run_failures.csv" <<'PY' && ok || bad "stats: $(cat "$tmp/run_stats.csv")"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
agg = [r for r in rows if r["Name"] == "Aggregated"][0]
ner = [r for r in rows if r["Name"] == "/ner"][0]
assert int(agg["Request Count"]) > 50, agg
assert int(agg["Failure Count"]) == 0, agg
assert ner["Type"] == "POST"
assert list(csv.reader(open(sys.argv[2])))[1:] == [], "failures recorded"
PY
echo "locust: $(python3 -c 'import csv,sys; r=[x for x in csv.DictReader(open(sys.argv[1])) if x["Name"]=="Aggregated"][0]; print(r["Request Count"], "requests,", r["Failure Count"], "failures, median", r["Median Response Time"], "ms")' "$tmp/run_stats.csv")"
finish
