#!/usr/bin/env bash
# The AWS lab's load against its products API served as `make run-lab`
# serves it (nerd local start-api with lab/template.yaml, the package laid
# out as sam build does, the platform's own DynamoDB service): curl end to
# end (create -> get -> list in pages of 2 past the first -> delete -> 404,
# a bad body), lab/locustfile.py under Debian's python3-locust run as the
# lab runs it (from lab/, headless: 5 users spawned at 5/s for 6 s), and
# the same mix in the load lab (`nerd bench --scenario lab-products`,
# closed model time-scaled, and an open-model copy at 200 req/s): the
# same rows as Locust's, no failures, every request an invocation; then a
# mix whose capture fails and one whose status is not the expected one,
# with their failures.  About 40 s; loopback only.
. tests/lib.sh
if [ ! -x /usr/bin/locust ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-locust) \
        > /tmp/nerd-locust.log 2>&1 || give_up "cannot install python3-locust"
fi
PRODUCTS=$(dirname "$NERD")/functions/products/bootstrap
[ -x "$PRODUCTS" ] || give_up "no $PRODUCTS (make all)"
mkdir -p "$tmp/pkg/ProductApiFunction"; cp "$PRODUCTS" "$tmp/pkg/ProductApiFunction/bootstrap"
start_gateway --template lab/template.yaml --build-dir "$tmp/pkg" --no-limits \
    --dynamodb-port 0 --dynamodb-dir "$tmp/ddb"
api=$url/Prod
J='Content-Type: application/json'
field() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$tmp/b" "$1"; }

# ---- curl, end to end ----
req POST /Prod/products -H "$J" -d '{"name":"Coffee mug","price":12.50}'
[ "$code" = 201 ] && ok || bad "create: $code $(cat "$tmp/b")"
id=$(field id); created=$(cat "$tmp/b")
[ "$(field price)" = 12.5 ] && [ "${#id}" = 36 ] && ok || bad "created: $created"
req GET "/Prod/products/$id"
[ "$code" = 200 ] && [ "$(cat "$tmp/b")" = "$created" ] && ok || bad "get: $code $(cat "$tmp/b")"
for i in 1 2 3 4; do
    req POST /Prod/products -H "$J" -d "{\"id\":\"t-$i\",\"name\":\"Thing $i\",\"price\":$i.25}"
    [ "$code" = 201 ] || bad "create t-$i: $code"
done
# every product, in pages of 2, following next
seen=; pages=0; q='limit=2'
while [ $pages -lt 10 ]; do
    req GET "/Prod/products?$q"
    [ "$code" = 200 ] || { bad "list: $code $(cat "$tmp/b")"; break; }
    pages=$((pages + 1))
    seen="$seen $(/usr/bin/python3 -c 'import json,sys; print(" ".join(p["id"] for p in json.load(open(sys.argv[1]))["products"]))' "$tmp/b")"
    next=$(field next)
    [ -n "$next" ] || break
    q="limit=2&next=$next"
done
want=$(echo "$id t-1 t-2 t-3 t-4" | tr ' ' '\n' | sort | tr '\n' ' ')
got=$(echo $seen | tr ' ' '\n' | sort | tr '\n' ' ')
[ "$got" = "$want" ] && [ $pages -ge 3 ] && ok || bad "paging: $pages pages, got '$got', want '$want'"
req DELETE "/Prod/products/$id"
[ "$code" = 200 ] && [ "$(field message)" = "Product deleted" ] && ok || bad "delete: $code $(cat "$tmp/b")"
req GET "/Prod/products/$id"
[ "$code" = 404 ] && [ "$(field error)" = NotFound ] && ok || bad "after delete: $code $(cat "$tmp/b")"
req POST /Prod/products -H "$J" -d '{"name":'
[ "$code" = 400 ] && [ "$(field error)" = InvalidJSON ] && ok || bad "bad body: $code $(cat "$tmp/b")"
for i in 1 2 3 4; do req DELETE "/Prod/products/t-$i"; done
count() { # products in the table now (every page)
    /usr/bin/python3 - "$api" <<'PY'
import json, sys, urllib.request
n, nxt = 0, ""
for _ in range(1000):
    d = json.load(urllib.request.urlopen(sys.argv[1] + "/products?limit=100" + ("&next=" + nxt if nxt else "")))
    n += len(d["products"])
    nxt = d.get("next")
    if not nxt:
        break
print(n)
PY
}
[ "$(count)" = 0 ] && ok || bad "table not empty after the deletes"

# ---- the locustfile and the scenario are the same mix ----
/usr/bin/python3 - <<'EOF2' && ok || bad "locustfile vs scenarios/lab-products.scn"
import re, sys
sys.path.insert(0, "lab")
import locustfile as lf
from locust.util.load_locustfile import load_locustfile
_doc, users, shape = load_locustfile("lab/locustfile.py")
assert list(users) == ["ProductUser"] and shape is None, (users, shape)
assert lf.ProductUser.host == "http://127.0.0.1:3000/Prod"
reqs = [l.split(None, 3) for l in open("scenarios/lab-products.scn") if l.startswith("request ")]
assert [(r[1], r[2]) for r in reqs] == [("POST", "/products"), ("GET", "/products/{{id}}"),
    ("GET", "/products?limit=%d" % lf.PAGE), ("DELETE", "/products/{{id}}")], reqs
picks = re.findall(r"\{\{pick:([^}]*)\}\}", reqs[0][3])
assert [p.split("|") for p in picks] == [lf.COLOURS, lf.THINGS], picks
assert "{{dec:0.99:199.99}}" in reqs[0][3]
for _ in range(200):
    p = lf.product()
    assert 0.99 <= p["price"] <= 199.99 and round(p["price"], 2) == p["price"], p
    c, t = p["name"].split(" ", 1)
    assert c in lf.COLOURS and t in lf.THINGS, p
EOF2

# rows PREFIX_stats.csv: "TYPE NAME REQUESTS FAILURES" lines, Aggregated last
rows() { /usr/bin/python3 -c 'import csv,sys
for r in csv.DictReader(open(sys.argv[1])): print(r["Type"] or "-", r["Name"], r["Request Count"], r["Failure Count"])' "$1_stats.csv"; }
mix_ok() { # PREFIX MIN: the four rows and Aggregated, each over MIN requests, no failures
    rows "$1" | awk -v min="$2" '
        { n++; if ($3 <= min || $4 != 0) bad = 1; key[n] = $1 " " $2 }
        END { exit !(n == 5 && !bad && key[1] == "GET /products" && key[2] == "POST /products" &&
                     key[3] == "DELETE /products/[id]" && key[4] == "GET /products/[id]" &&
                     key[5] == "- Aggregated") }'
}

# ---- Locust, as the lab runs it (from lab/, its locustfile.py found there) ----
(cd lab && timeout 40 /usr/bin/locust --headless -u 5 -r 5 -t 6s --csv "$tmp/loc" -H "$api" \
    --only-summary --loglevel WARNING > "$tmp/locust.out" 2>&1 < /dev/null)
rc=$?
[ $rc -eq 0 ] && ok || bad "locust exit $rc: $(tail -15 "$tmp/locust.out")"
mix_ok "$tmp/loc" 10 && ok || bad "locust rows: $(rows "$tmp/loc")"
[ "$(sed 1d "$tmp/loc_failures.csv")" = "" ] && ok || bad "locust failures: $(cat "$tmp/loc_failures.csv")"
echo "locust, 5 users, 6 s: $(rows "$tmp/loc" | tail -1)"
left=$(count)
[ "$left" -le 5 ] && ok || bad "$left products left after Locust (each user deletes its own)"

# ---- the load lab: the same rows ----
sleep 2 # the provider's window starts at the run's first whole second: none of Locust's in it
"$NERD" bench --host "$api" --scenario lab-products --time-scale 0.03 --out "$tmp/nb" --quiet \
    > "$tmp/nb.out" 2>&1 && ok || bad "nerd bench lab-products: $(tail -5 "$tmp/nb.out")"
mix_ok "$tmp/nb/lab-products" 20 && ok || bad "nerd bench rows: $(rows "$tmp/nb/lab-products")"
[ "$(rows "$tmp/loc" | cut -d' ' -f1,2)" = "$(rows "$tmp/nb/lab-products" | cut -d' ' -f1,2)" ] && ok ||
    bad "Locust's rows differ from nerd bench's"
/usr/bin/python3 - "$tmp/nb" <<'PY' && ok || bad "provider vs client"
import json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))
p = json.load(open(sys.argv[1] + "/provider_metrics.json"))
inv = sum(x["Invocations"] for f in p["functions"].values() for x in f)
assert inv == s["requests"] and s["status"] == {"200": s["requests"] - s["by_name"][1]["requests"],
                                                "201": s["by_name"][1]["requests"]}, (inv, s["status"])
PY
echo "nerd bench lab-products x0.03: $(rows "$tmp/nb/lab-products" | tail -1)"
# the open model: sessions take turns; 200 arrivals a second for 2 s
{ echo "model open"; echo "connections 16"; echo "stage 2s rate 200"
  grep '^request ' scenarios/lab-products.scn; } > "$tmp/open.scn"
"$NERD" bench --host "$api" --scenario "$tmp/open.scn" --out "$tmp/op" --quiet > "$tmp/op.out" 2>&1 &&
    ok || bad "open model: $(tail -5 "$tmp/op.out")"
mix_ok "$tmp/op/open" 50 && ok || bad "open rows: $(rows "$tmp/op/open")"

# ---- failures of a mix: a missing capture starts the round again, an
# unexpected status is the request's failure ----
cat > "$tmp/nocap.scn" <<'EOF2'
stage 1s users 2
request POST /products capture id=nosuch body {"name":"x","price":1}
request GET /products/{{id}}
EOF2
"$NERD" bench --host "$api" --scenario "$tmp/nocap.scn" --out "$tmp/nc" --quiet > /dev/null 2>&1
[ "$(rows "$tmp/nc/nocap" | awk '$1 == "POST" && $3 == $4 && $3 > 0 { p = 1 } $1 == "GET" && $3 == 0 { g = 1 } END { print p g }')" = 11 ] &&
    ok || bad "missing capture: $(rows "$tmp/nc/nocap")"
grep -qF "POST,/products,\"CatchResponseError('no \"\"nosuch\"\" in the answer')\"," "$tmp/nc/nocap_failures.csv" &&
    ok || bad "capture failure row: $(cat "$tmp/nc/nocap_failures.csv")"
cat > "$tmp/status.scn" <<'EOF2'
stage 1s users 1
request GET /products/none-such expect 200
EOF2
"$NERD" bench --host "$api" --scenario "$tmp/status.scn" --out "$tmp/st" --quiet > /dev/null 2>&1
grep -q "^GET,/products/none-such,\"CatchResponseError('status 404, expected 200')\",[1-9]" "$tmp/st/status_failures.csv" &&
    ok || bad "status failure row: $(cat "$tmp/st/status_failures.csv")"
finish
