#!/usr/bin/env bash
# The monitor page and the JSON it polls, through a real gateway and real
# runtimes (tests/data/templates/monitor.yaml: the bash + curl runtime
# answering, failing, and sleeping 3 s behind one reserved environment),
# curl as the client: /__nerd/ is web/monitor.html as HTML with its
# Content-Security-Policy and no URL leading elsewhere; /__nerd redirects
# to it; /__nerd/metrics/json has every field the page draws (read from the
# page's own COLUMNS and CHARTS tables) with the counts driven here, last=N,
# totals, and a long invocation counted in each second it runs.
. tests/lib.sh
PAGE=web/monitor.html
start_gateway --template tests/data/templates/monitor.yaml

# the page
curl -s -D "$tmp/h" -o "$tmp/page" "$url/__nerd/"
head -1 "$tmp/h" | grep -q '^HTTP/1.1 200' && ok || bad "GET /__nerd/: $(head -1 "$tmp/h")"
grep -qix $'content-type: text/html; charset=utf-8\r' "$tmp/h" && ok || bad "content type: $(grep -i content-type "$tmp/h")"
grep -qi "^content-security-policy: default-src 'none'; .*connect-src 'self';" "$tmp/h" && ok || bad "CSP: $(grep -i content-security "$tmp/h")"
grep -qi '^x-content-type-options: nosniff' "$tmp/h" && ok || bad "nosniff"
cmp -s "$tmp/page" "$PAGE" && ok || bad "the page served is not $PAGE"
# no URL that leaves the origin: the only absolute one is the SVG namespace
# name (createElementNS), which nothing fetches
urls=$(grep -oiE '([a-z]+:)?//[^"'"'"' )<>`]+' "$tmp/page" | grep -vx 'http://www.w3.org/2000/svg' | sort -u)
[ -z "$urls" ] && ok || bad "URLs in the page: $urls"
grep -qiE '<(script|img|link|iframe)[^>]* (src|href)=|@import|url\(' "$tmp/page" && bad "the page loads a resource" || ok
curl -s -D "$tmp/h" -o "$tmp/b" "$url/__nerd"
head -1 "$tmp/h" | grep -q '^HTTP/1.1 301' && grep -qix $'location: /__nerd/\r' "$tmp/h" && ok || bad "/__nerd: $(head -1 "$tmp/h")"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/__nerd/")" = 405 ] && ok || bad "POST /__nerd/"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/__nerd/index.html")" = 404 ] && ok || bad "/__nerd/index.html"

# invocations: 3 answered, 2 failed, and Busy's one environment (reserved
# concurrency 1) held 3 s while two more requests are throttled
for _ in 1 2 3; do curl -s -o /dev/null "$url/ok"; done
for _ in 1 2; do curl -s -o /dev/null "$url/fail"; done
curl -s -o /dev/null -w '%{http_code}\n' "$url/busy" > "$tmp/c0" & cp=$!
conc=
for _ in $(seq 50); do   # wait until Busy runs, then the throttles
    conc=$(curl -s "$url/__nerd/metrics/json?last=1" |
           python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["Busy"]["ConcurrentExecutions"])')
    [ "$conc" = 1 ] && break
    sleep 0.1
done
[ "$conc" = 1 ] && ok || bad "Busy's concurrency now: $conc"
codes=$(for _ in 1 2; do curl -s -o /dev/null -w '%{http_code} ' "$url/busy"; done)
[ "$codes" = "429 429 " ] && ok || bad "throttled while busy: $codes"
wait $cp
[ "$(cat "$tmp/c0")" = 200 ] && ok || bad "busy: $(cat "$tmp/c0")"
sleep 1   # the second the invocation ended is complete

curl -s "$url/__nerd/metrics/json?last=60" > "$tmp/j"
python3 - "$tmp/j" "$PAGE" <<'EOF' && ok || bad "metrics JSON: $(head -c 400 "$tmp/j")"
import json, re, sys
d = json.load(open(sys.argv[1]))
page = open(sys.argv[2]).read()
def fields(table):   # the f: and when: names of the page's table
    body = page[page.index("const %s = [" % table):]
    body = body[:body.index("\n];")]
    return set(re.findall(r'\b(?:f|when): "(\w+)"', body))
cols, charts = fields("COLUMNS"), fields("CHARTS")
assert {"Invocations", "Errors", "Throttles", "ColdStarts", "InitDurationAvg", "DurationAvg",
        "DurationP95", "DurationMax", "ConcurrentExecutions"} <= cols & charts, (cols, charts)
assert d["period"] == 1 and d["to"] - d["from"] == 59 and d["started"] <= d["from"] + 60, d["from"]
assert set(d["functions"]) == set(d["totals"]) == {"Ok", "Fail", "Busy"}, d["totals"].keys()
for name, series in d["functions"].items():
    tot = d["totals"][name]
    assert len(series) == 60 and [e["t"] for e in series] == list(range(d["from"], d["to"] + 1))
    assert cols <= set(tot), (name, cols - set(tot))
    for e in series:
        assert charts <= set(e), (name, charts - set(e))
        assert e["DurationP95"] <= e["DurationMax"], e
    assert tot["DurationP95"] <= tot["DurationMax"], tot
    for f in ("Invocations", "Errors", "Throttles", "ColdStarts"):
        assert sum(e[f] for e in series) == tot[f], (name, f)
want = {"Ok": (3, 0, 0, 1, None), "Fail": (2, 2, 0, 1, None), "Busy": (1, 0, 2, 1, 1)}
for name, (inv, err, thr, cold, res) in want.items():
    t = d["totals"][name]
    got = (t["Invocations"], t["Errors"], t["Throttles"], t["ColdStarts"], t["ReservedConcurrentExecutions"])
    assert got == (inv, err, thr, cold, res), (name, got)
    assert t["ConcurrentExecutions"] == 0 and t["ConcurrentExecutionsMax"] == 1, t
    assert t["InitDurationAvg"] > 0 and t["DurationMax"] >= t["DurationAvg"] > 0, t
# Busy ran 3 s: every second it ran counts it, not only those it began or ended in
busy = [e["ConcurrentExecutions"] for e in d["functions"]["Busy"]]
run = max(len(r) for r in "".join(map(str, busy)).split("0"))
assert run >= 3 and max(busy) == 1, busy
assert d["totals"]["Busy"]["DurationMax"] >= 3000, d["totals"]["Busy"]
EOF
# the minute series and Prometheus text agree
now=$(date +%s)
curl -s "$url/__nerd/metrics/json?from=$((now - 120))&to=$now&period=60" > "$tmp/j"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["period"]==60 and sum(e["Throttles"] for e in d["functions"]["Busy"])==2 and d["totals"]["Busy"]["Throttles"]==2, d' "$tmp/j" &&
    ok || bad "period=60: $(head -c 300 "$tmp/j")"
curl -s "$url/__nerd/metrics" > "$tmp/m"
for want in 'nerd_lambda_invocations_total{function="Ok"} 3' 'nerd_lambda_errors_total{function="Fail"} 2' \
            'nerd_lambda_throttles_total{function="Busy"} 2'; do
    grep -qF "$want" "$tmp/m" && ok || bad "Prometheus text lacks: $want"
done
finish
