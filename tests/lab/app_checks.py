"""app.handler (lab/python/app.py) in process, the Python side of
tests/function/test_products.c, with the same cases and expectations:
exact numbers (JSON and N grammars, DynamoDB's precision and range), POST
bodies and their errors, items as product JSON (every type, nesting),
paging tokens, the routes and errors that need no table, payload 1.0 and
2.0 events (a named stage, base64 bodies, a direct invocation), then on a
table of its own at ENDPOINT: create, get, 409, generated ids, exact
prices, a retried create that met its own write, pages of 2 (every product
once), a token of another key schema, delete, a missing table (500) and
an unreachable DynamoDB (503), each logged as one "products: " line.

Usage (from the repository root, by tests/function/test_products.sh with
NERD_PRODUCTS_RUNTIME=python): python3 tests/lab/app_checks.py ENDPOINT
Prints "app_checks: N passed, N failed"; exit 1 if anything failed.
"""
import base64
import contextlib
import io
import json
import os
import sys

import boto3

ENDPOINT = sys.argv[1]
TABLE = f"app-checks-{os.getpid()}"
os.environ.update(TABLE_NAME=TABLE, AWS_ENDPOINT_URL_DYNAMODB=ENDPOINT, AWS_ACCESS_KEY_ID="local",
                  AWS_SECRET_ACCESS_KEY="local", AWS_SESSION_TOKEN="local",
                  AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1")
sys.path.insert(0, "lab/python")
import app  # noqa: E402

passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}", file=sys.stderr)


def call(event):
    """status, body, headers of app.handler(event), with what it logged."""
    log = io.StringIO()
    with contextlib.redirect_stderr(log):
        r = app.handler(event, None)
    check(set(r) == {"statusCode", "headers", "isBase64Encoded", "body"} and r["isBase64Encoded"] is False
          and r["headers"]["content-type"] == "application/json", f"result shape: {r}")
    return r["statusCode"], r["body"], r["headers"], log.getvalue()


def req(method, path, query=None, content_type=None, body=None):
    """A REST API (payload 1.0) event through the handler: status, body, headers, log."""
    return call({"resource": path, "path": path, "httpMethod": method,
                 "headers": {"Content-Type": content_type} if content_type else None,
                 "queryStringParameters": query, "body": body, "isBase64Encoded": False,
                 "requestContext": {"stage": "Prod"}})


def error(status, code, message):
    return status, json.dumps({"error": code, "message": message}, separators=(",", ":"))


# ---- numbers (test_decimal) -----------------------------------------------------------------

def price_of(text):
    try:
        return app.read_product(f'{{"name":"x","price":{text}}}'.encode())[2]
    except app.ApiError as e:
        return e.message


PRECISION, RANGE = "more than 38 significant digits", "out of DynamoDB's range"
for sent, kept in [("12.50", "12.5"), ("-0", "0"), ("-0.0", "0"), ("1.0", "1"), ("1E-2", "0.01"),
                   ("1e+5", "100000"), ("1e3", "1000"), ("0", "0"), ("0e999999999999", "0"),
                   ("19.99", "19.99"), ("1200", "1200"), ("1.5e-3", "0.0015"),
                   ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
                   ("123456789012345678901234567890123456789", PRECISION),
                   ("1234567890123456789012345678901234567800000", "1234567890123456789012345678901234567800000"),
                   ("9.9999999999999999999999999999999999999E+125", "9" * 38 + "0" * 88),
                   ("1E126", RANGE), ("1E-130", "0." + "0" * 129 + "1"), ("1E-131", RANGE),
                   ("10E-131", "0." + "0" * 129 + "1"), ("1E125", "1" + "0" * 125),
                   ("-1E+2", "must not be negative"), ("-1e200", RANGE)]:
    got = price_of(sent)
    check(got == kept or (kept in (PRECISION, RANGE, "must not be negative") and kept in got),
          f"price {sent}: {got}")
for n, shown in [("+3", "3"), ("5.", "5"), (".5", "0.5"), ("0012.3400", "12.34"), ("-1E+2", "-100"),
                 (" 1", '" 1"'), ("1 ", '"1 "'), ("NaN", '"NaN"'), ("Infinity", '"Infinity"'),
                 ("0x10", '"0x10"'), ("1e", '"1e"'), ("--1", '"--1"'), (".", '"."'), ("1_000", '"1_000"'),
                 ("1E126", '"1E126"')]:
    got = app.to_json(app.number_value(n))
    check(got == shown, f"N {n!r}: {got}")

# ---- bodies (test_body) ---------------------------------------------------------------------

for body, want in [
        ('{"name":"Coffee mug","price":12.50}', (None, "Coffee mug", "12.5")),
        ('{"id":"p-001","name":"Tea pot","price":30}', ("p-001", "Tea pot", "30")),
        (' {"price" : 1e2 , "name":"x"} ', (None, "x", "100")),
        ('{"name":"esc","pr\\u0069ce":0.10}', (None, "esc", "0.1")),
        ('{"name":"Zo\\u00eb \\"q\\"","price":0}', (None, 'Zo\u00eb "q"', "0")),
        ('{bad', ("InvalidJSON", "the body is not valid JSON")),
        ('', ("InvalidJSON", "the body is not valid JSON")),
        ('5', ("InvalidJSON", "the body is not valid JSON")),
        ('{"name":"x","price":NaN}', ("InvalidJSON", "the body is not valid JSON")),
        ('{"name":"\\ud800","price":1}', ("InvalidJSON", "the body is not valid JSON")),
        ('{"name":"a\\u0000b","price":1}', ("InvalidJSON", "the body is not valid JSON")),
        ('[1]', ("InvalidRequest", "the body must be a JSON object")),
        ('{"name":"x","price":1,"name":"y"}', ("InvalidJSON", "duplicate")),
        ('{"price":1}', ("InvalidProduct", 'the product has no "name"')),
        ('{"name":"x"}', ("InvalidProduct", 'the product has no "price"')),
        ('{"name":"","price":1}', ("InvalidProduct", '"name" must be a non-empty string')),
        ('{"name":7,"price":1}', ("InvalidProduct", '"name" must be a non-empty string')),
        ('{"name":"' + "n" * 1025 + '","price":1}', ("InvalidProduct", "at most 1024 bytes")),
        ('{"name":"x","price":"12.5"}', ("InvalidProduct", '"price" must be a number')),
        ('{"name":"x","price":null}', ("InvalidProduct", '"price" must be a number')),
        ('{"name":"x","price":true}', ("InvalidProduct", '"price" must be a number')),
        ('{"name":"x","price":-1.5}', ("InvalidProduct", '"price" must not be negative')),
        ('{"name":"x","price":1,"colour":"red"}', ("InvalidProduct", 'unknown field "colour"')),
        ('{"id":"a/b","name":"x","price":1}', ("InvalidId", "id must be")),
        ('{"id":"..","name":"x","price":1}', ("InvalidId", "id must be")),
        ('{"id":"","name":"x","price":1}', ("InvalidId", "id must be")),
        ('{"id":5,"name":"x","price":1}', ("InvalidId", "id must be")),
        ('{"id":"' + "i" * 129 + '","name":"x","price":1}', ("InvalidId", "id must be"))]:
    try:
        got = app.read_product(body.encode("utf-8", "surrogatepass"))
        check(got == want, f"body {body[:80]}: {got}")
    except app.ApiError as e:
        check(e.status == 400 and (e.code, ) == want[:1] and want[1] in e.message,
              f"body {body[:80]}: {e.code} {e.message}")
check(app.read_product(('{"name":"' + "\u00e9" * 512 + '","price":1}').encode())[1] == "\u00e9" * 512,
      "a 1024-byte name")

# ---- items (test_items) and tokens (test_tokens) ----------------------------------------------


def item(av):
    try:
        return app.product_json(av)
    except (ValueError, TypeError, AttributeError):
        return ""


check(item({"price": {"N": "12.50"}, "name": {"S": "Coffee mug"}, "id": {"S": "p-001"}})
      == '{"id":"p-001","name":"Coffee mug","price":12.5}', "product order")
every = {"zeta": {"NULL": True}, "id": {"S": "p"}, "tags": {"SS": ["a", 'b"']}, "stock": {"N": "+5."},
         "ok": {"BOOL": False}, "bin": {"B": b"\x00\x01\x02"},
         "dims": {"M": {"w": {"N": "1e1"}, "d": {"L": [{"S": "x"}, {"NS": ["1", "2.0"]}]}}},
         "odd": {"N": "not a number"}, "bs": {"BS": [b"\x01\x02"]}, "empty": {"M": {}}}
check(item(every) == '{"id":"p","bin":"AAEC","bs":["AQI="],"dims":{"d":["x",[1,2]],"w":10},"empty":{},'
      '"odd":"not a number","ok":false,"stock":5,"tags":["a","b\\""],"zeta":null}', f"every type: {item(every)}")
check(item({}) == "{}", "empty item")
for bad in [{"a": {}}, {"a": {"S": "x", "N": "1"}}, {"a": {"X": "1"}}]:
    check(item(bad) == "", f"malformed item {bad}")
deep = {"S": "x"}
for _ in range(31):
    deep = {"M": {"m": deep}}
check(item({"m": deep}) != "", "32 levels")
check(item({"m": {"M": {"m": deep}}}) == "", "33 levels refused")

key = {"id": {"S": "p-00\u00e9/+?&="}}
token = app.make_token(key)
check(all(c.isalnum() or c in "-_" for c in token) and app.read_token(token) == key, f"round trip: {token}")
check(app.make_token({"id": {"S": "p-001"}}) == "eyJpZCI6eyJTIjoicC0wMDEifX0", "docs/lab.md's token")
check(app.read_token(app.make_token({"k": {"B": b"\x00\xff"}, "n": {"N": "7"}})) ==
      {"k": {"B": b"\x00\xff"}, "n": {"N": "7"}}, "B and N keys")
for bad in ['{}', '{"a":{"S":"1"},"b":{"S":"2"},"c":{"S":"3"}}', '{"a":{"BOOL":true}}', '{"a":{"S":1}}', '[1]',
            '{"a":{"S":"1","N":"1"}}', '{"":{"S":"x"}}', '{"a":{"S":"1"},"a":{"S":"2"}}']:
    check(app.read_token(base64.urlsafe_b64encode(bad.encode()).decode().rstrip("=")) is None, f"token of {bad}")
for bad in ["", "abc+", "e30=", "!!!!", "A" * 2049]:
    check(app.read_token(bad) is None, f"token {bad[:8]!r}")

# ---- routes and events without a table (test_routes_offline, test_events_offline) -----------------

JSON = "application/json"
check(req("GET", "/nope")[:2] == error(404, "NotFound", "no route for GET /nope"), "404")
check(req("GET", "/products/a/b")[0] == 404, "deeper path")
st, body, headers, _ = req("PUT", "/products", content_type=JSON, body="{}")
check((st, body) == error(405, "MethodNotAllowed", "PUT is not allowed here; use GET, POST, OPTIONS")
      and headers.get("allow") == "GET, POST, OPTIONS", f"405 collection: {body}")
check(req("PATCH", "/products/p1")[2].get("allow") == "GET, DELETE, OPTIONS", "405 item")
st, body, headers, _ = req("OPTIONS", "/products")
check(st == 204 and body == "" and headers.get("allow") == "GET, POST, OPTIONS", "OPTIONS")
st, body = req("POST", "/products", content_type="text/plain", body='{"name":"x","price":1}')[:2]
check((st, body) == error(415, "UnsupportedMediaType", "Content-Type must be application/json, not text/plain"),
      f"415: {body}")
check(req("POST", "/products", content_type=JSON, body=" " * 65537)[:2] ==
      error(413, "PayloadTooLarge", "the body is 65537 bytes; the limit is 65536 bytes"), "413")
check(req("POST", "/products", content_type="application/json; charset=utf-8", body='{"name":1}')[1]
      .startswith('{"error":"InvalidProduct"'), "400 product (a JSON type with parameters)")
check(req("POST", "/products", content_type="application/problem+JSON", body='{"name":1}')[1]
      .startswith('{"error":"InvalidProduct"'), "a +json type")
check(req("POST", "/products", body='{"name":')[1].startswith('{"error":"InvalidJSON"'), "400 JSON, no content type")
check(req("POST", "/products")[1].startswith('{"error":"InvalidJSON"'), "no body")
check(req("GET", "/products/a%20b")[1].startswith('{"error":"InvalidId"'), "400 id")
check(req("DELETE", "/products/..")[1].startswith('{"error":"InvalidId"'), "400 id ..")
for q in ["0", "101", "abc", "", "1000", "-1", "0100"]:
    check(req("GET", "/products", {"limit": q})[:2] ==
          error(400, "InvalidRequest", "limit must be a whole number from 1 to 100"), f"limit {q!r}")
check(req("GET", "/products", {"next": "notatoken"})[:2] ==
      error(400, "InvalidToken", "next is not a token this API gave"), "bad token")
check(req("GET", "/products", {"next": ""})[0] == 400, "empty token")

check(call({"text": "hi"})[:2] == error(400, "InvalidRequest", "not an API Gateway event: invoke this "
                                        "function through its REST API"), "direct invocation")
check(call([1, 2])[0] == 400 and call("hi")[0] == 400, "events that are not objects")
check(call({"resource": "/products", "path": "/products", "httpMethod": "PUT",
            "requestContext": {"stage": "Prod"}, "body": None})[0] == 405, "1.0 PUT")
check("limit must be" in call({"version": "2.0", "rawPath": "/Prod/products", "rawQueryString": "limit=0",
                               "requestContext": {"stage": "Prod", "http": {"method": "GET"}}})[1],
      "2.0 with a named stage and its query")
check("limit must be" in call({"version": "2.0", "rawPath": "/products", "rawQueryString": "limit=5&limit=%31%30%31",
                               "requestContext": {"stage": "$default", "http": {"method": "GET"}}})[1],
      "2.0: the last of a repeated parameter, percent-decoded")
check(call({"version": "2.0", "rawPath": "/Prod", "rawQueryString": "",
            "requestContext": {"stage": "Prod", "http": {"method": "GET"}}})[1] ==
      error(404, "NotFound", "no route for GET /")[1], "2.0: the stage alone is /")
check("limit must be" in call({"resource": "/products", "path": "/products", "httpMethod": "GET",
                               "queryStringParameters": {"limit": "500"}, "requestContext": {}})[1],
      "1.0 query parameters")
st, body = call({"resource": "/products", "path": "/products", "httpMethod": "POST",
                 "headers": {"Content-Type": JSON}, "isBase64Encoded": True, "body": "eyJuYW1lIjoxfQ==",
                 "requestContext": {}})[:2]
check(st == 400 and '"InvalidProduct"' in body and '\\"name\\" must be a non-empty string' in body,
      f"1.0 base64 body {{\"name\":1}}: {body}")
check("not valid base64" in call({"resource": "/products", "path": "/products", "httpMethod": "POST",
                                  "isBase64Encoded": True, "body": "!!", "requestContext": {}})[1], "bad base64")

# ---- a table of its own (test_online) ---------------------------------------------------------

db = app.dynamodb
db.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
MUG = '{"id":"p-001","name":"Coffee mug","price":12.5}'
check(req("POST", "/products", content_type=JSON, body='{"id":"p-001","name":"Coffee mug","price":12.50}')[:2]
      == (201, MUG), "create")
check(req("GET", "/products/p-001")[:2] == (200, MUG), "get")
check(req("POST", "/products", content_type=JSON, body='{"id":"p-001","name":"Other","price":1}')[:2] ==
      error(409, "Conflict", "a product with id p-001 exists"), "409")
check(req("GET", "/products/p-001")[:2] == (200, MUG), "not overwritten")
check(req("GET", "/products/p-404")[:2] == error(404, "NotFound", "no product with id p-404"), "404")
check(app.already_written("p-001", "Coffee mug", "12.5") and not app.already_written("p-001", "Other", "12.5")
      and not app.already_written("p-001", "Coffee mug", "12.6") and not app.already_written("p-002", "x", "1"),
      "a retried create's own write")

ids = ["p-001"]
for i, (sent, kept) in enumerate([("19.99", "19.99"), ("0.1", "0.1"), ("1e2", "100"), ("0", "0"),
                                   ("0.000001", "0.000001"), ("9007199254740993", "9007199254740993"),
                                   ("123456789012345678901234567890.12345678", "123456789012345678901234567890.12345678"),
                                   ("1E-130", "0." + "0" * 129 + "1"), ("42.4200", "42.42")]):
    st, body = req("POST", "/products", content_type=JSON, body=f'{{"name":"Item {i} \\u00e9","price":{sent}}}')[:2]
    new = json.loads(body).get("id", "") if st == 201 else ""
    check(len(new) == 36 and new[14] == "4", f"generated id: {body}")
    got = req("GET", "/products/" + new)[:2]
    check(got == (200, f'{{"id":"{new}","name":"Item {i} \u00e9","price":{kept}}}'), f"price {sent}: {got}")
    ids.append(new)
for i in range(4):
    check(req("POST", "/products", content_type=JSON, body=f'{{"id":"q-{i}","name":"Q","price":{i}.25}}')[0] == 201,
          f"q-{i}")
    ids.append(f"q-{i}")


def list_all(limit):
    seen, pages, query = [], 0, {"limit": str(limit)}
    while pages < 50:
        st, body = req("GET", "/products", query)[:2]
        page = json.loads(body)
        check(st == 200 and len(page["products"]) <= limit and set(page) <= {"products", "next"}, f"page: {body}")
        pages += 1
        seen += [p["id"] for p in page["products"]]
        if "next" not in page:
            break
        query = {"limit": str(limit), "next": page["next"]}
    return seen, pages


seen, pages = list_all(2)
check(sorted(seen) == sorted(ids) and pages >= (len(ids) + 1) // 2, f"pages of 2: {pages} pages, {len(seen)} products")
seen, pages = list_all(100)
check(sorted(seen) == sorted(ids) and pages == 1, f"one page of 100: {pages}")
check('"next"' not in req("GET", "/products")[1], "default limit 20: one page")
st, body = req("GET", "/products", {"next": app.make_token({"sku": {"S": "x"}})})[:2]
check(st == 400 and '"InvalidToken"' in body and "does not fit" in body, f"token of another key: {body}")

check(req("DELETE", "/products/q-0")[:2] == (200, '{"message":"Product deleted","id":"q-0"}'), "delete")
check("no product with id q-0" in req("DELETE", "/products/q-0")[1], "delete again")
check(req("GET", "/products/q-0")[0] == 404, "get after delete")
db.put_item(TableName=TABLE, Item={"id": {"S": "w-1"}, "price": {"N": "5"}, "name": {"S": "Kettle"},
                                   "stock": {"N": "3"}, "tags": {"SS": ["b", "a"]},
                                   "meta": {"M": {"new": {"BOOL": True},
                                                  "dims": {"L": [{"N": "1.50"}, {"NULL": True}]}}}})
check(req("GET", "/products/w-1")[1].startswith('{"id":"w-1","name":"Kettle","price":5,'
                                                '"meta":{"dims":[1.5,null],"new":true},"stock":3,"tags":['),
      "other attributes")

check(call({"resource": "/products/{id}", "path": "/products/p-001", "httpMethod": "GET",
            "pathParameters": {"id": "p-001"}, "requestContext": {"stage": "Prod"}})[:2] == (200, MUG), "1.0 GET")
check(call({"version": "2.0", "rawPath": "/products", "rawQueryString": "",
            "headers": {"content-type": JSON}, "body": '{"id":"v2","name":"Two","price":2.50}',
            "requestContext": {"stage": "$default", "http": {"method": "POST"}}})[:2] ==
      (201, '{"id":"v2","name":"Two","price":2.5}'), "2.0 POST")
check(call({"resource": "/products/{id}", "path": "/products/v2", "httpMethod": "DELETE",
            "requestContext": {}})[0] == 200, "1.0 DELETE")

# a table that does not exist: 500, logged; a DynamoDB that does not answer: 503, logged
app.TABLE_NAME = "no-such-table-here"
st, body, _, log = req("GET", "/products/p-001")
check(st == 500 and '"InternalError"' in body and "ResourceNotFoundException" in body, f"missing table: {body}")
check(log.startswith("products: GetItem on table no-such-table-here failed: ") and log.count("\n") == 1,
      f"missing table logged: {log}")
app.TABLE_NAME = TABLE
app.dynamodb = boto3.client("dynamodb", endpoint_url="http://127.0.0.1:1", config=db.meta.config)
st, body, _, log = req("GET", "/products/p-001")
check((st, body) == error(503, "ServiceUnavailable", "DynamoDB is unavailable (no answer from DynamoDB); try again"),
      f"unreachable: {body}")
check(log.startswith("products: GetItem on table ") and log.count("\n") == 1, f"unreachable logged: {log}")
app.dynamodb = db

db.delete_table(TableName=TABLE)
print(f"app_checks: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
