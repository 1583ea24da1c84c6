#!/usr/bin/python3
"""Conformance of nerd's DynamoDB service with AWS's DynamoDB Local 3.3.1.

Usage: ddb_conformance.py NERD_URL LOCAL_URL

Sends one script of requests (tables, items and numbers, conditional
writes, update expressions, conditions and filters, projections, queries in
both orders and their pages, scans and their pages, indexes, batches and
transactions and their failures, validation errors, the protocol itself) to
both servers through Debian's boto3 (raw HTTP where boto3 would hide the
answer), and compares the answers: the same status, the same error code,
the same message, the same result once normalized.  Normalizing covers what
is unspecified (map member order, set member order, Scan and BatchGetItem
order, so Scan pages compare by their sizes and their union) and what only
identifies an instance (creation times, ARNs, TableId).

Where the service and DynamoDB Local differ (spec §9.4) nerd answers as the
service does; every such step below names both answers exactly (`local=`,
`nerd=`), so the test fails if either side changes.  Prints "PASS name" or
"FAIL name: why" per step and a final "conformance: N passed, N failed".
"""
import base64
import binascii
import decimal
import json
import sys
import urllib.error
import urllib.request

import boto3
import botocore.config
import botocore.exceptions

NERD, LOCAL = sys.argv[1], sys.argv[2]
# no retries, and no checks on the client side: the servers answer everything
cfg = botocore.config.Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=60,
                             parameter_validation=False)
client = {
    url: boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                      aws_access_key_id="local", aws_secret_access_key="local", config=cfg)
    for url in (NERD, LOCAL)
}
passed = failed = 0


def report(name, ok, why=""):
    global passed, failed
    if ok:
        passed += 1
        print("PASS " + name)
    else:
        failed += 1
        print("FAIL %s: %s" % (name, why.replace("\n", " ")))
    sys.stdout.flush()


# ---- normalizing ----

# what identifies an instance, and (§9.4) IndexSizeBytes: Local counts every
# item of the table in a GSI's size, the service what the index projects
VOLATILE = {"CreationDateTime", "LastUpdateToPayPerRequestDateTime", "TableArn", "IndexArn",
            "TableId", "LastIncreaseDateTime", "LastDecreaseDateTime", "ResponseMetadata",
            "LatestStreamArn", "LatestStreamLabel", "IndexSizeBytes"}


def norm(x, numbers=False):
    """Sets sorted, B as base64 text, instance ids dropped, numbers as
    Decimals when `numbers` (the §9.4 row on UpdateItem SET numbers)."""
    if isinstance(x, dict):
        out = {}
        for k, v in x.items():
            if k in VOLATILE:
                continue
            if k in ("SS", "NS", "BS") and isinstance(v, list):
                v = [norm(i) for i in v]
                if k == "NS" and numbers:
                    v = [decimal.Decimal(i).normalize() for i in v]
                out[k] = sorted(v, key=str)
            elif k == "N" and numbers and isinstance(v, str):
                out[k] = decimal.Decimal(v).normalize()
            else:
                out[k] = norm(v, numbers)
        return out
    if isinstance(x, list):
        return [norm(i, numbers) for i in x]
    if isinstance(x, (bytes, bytearray)):
        return base64.b64encode(bytes(x)).decode()
    return x


def call(url, op, params):
    """(status, error code or None, message or None, result)."""
    fn = getattr(client[url], "".join("_" + c.lower() if c.isupper() else c for c in op).lstrip("_"))
    try:
        r = fn(**params)
        return 200, None, None, r
    except botocore.exceptions.ClientError as e:
        return (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"].get("Code"),
                e.response["Error"].get("Message"), e.response)
    except botocore.exceptions.ParamValidationError as e:
        return 0, "ParamValidationError", str(e), None


def step(name, op, params, local=None, nerd=None, numbers=False, drop=(), same_code=True,
         sort_items=False, local_status=None, local_code=None):
    """Sends params to both; local / nerd: the messages each is expected to
    give where they differ (§9.4); drop: result members compared only for
    presence; sort_items: Items / Responses in any order."""
    a = call(NERD, op, params)
    b = call(LOCAL, op, params)
    why = []
    want_local_status = local_status or a[0]
    if b[0] != want_local_status:
        why.append("status nerd %s local %s" % (a[0], b[0]))
    if local_code:
        if b[1] != (None if local_code == "(none)" else local_code):
            why.append("local code %s, expected %s" % (b[1], local_code))
    elif a[1] != b[1]:
        why.append("code nerd %s local %s" % (a[1], b[1]))
    if local is not None or nerd is not None:
        if b[2] != local:
            why.append("local message %r, expected %r" % (b[2], local))
        if a[2] != nerd:
            why.append("nerd message %r, expected %r" % (a[2], nerd))
    elif a[2] != b[2]:
        why.append("message nerd %r local %r" % (a[2], b[2]))
    if a[1] is None and b[1] is None:
        ra, rb = norm(a[3], numbers), norm(b[3], numbers)
        for k in drop:
            for r in (ra, rb):
                if k in r:
                    r[k] = "(present)"
        if op == "DeleteItem" and "ReturnConsumedCapacity" not in params:
            rb.pop("ConsumedCapacity", None)   # §9.4: Local adds it unasked
        if op == "DeleteTable":                # §9.4: the service says DELETING, Local ACTIVE
            if ra["TableDescription"].pop("TableStatus") != "DELETING" or \
               rb["TableDescription"].pop("TableStatus") != "ACTIVE":
                why.append("DeleteTable statuses")
        if sort_items:
            for r in (ra, rb):
                if "Items" in r:
                    r["Items"] = sorted(r["Items"], key=lambda i: json.dumps(i, sort_keys=True))
                for t, items in r.get("Responses", {}).items():
                    r["Responses"][t] = sorted(items, key=lambda i: json.dumps(i, sort_keys=True))
        if ra != rb:
            why.append("results differ:\n    nerd  %s\n    local %s" % (
                json.dumps(ra, sort_keys=True, default=str)[:900],
                json.dumps(rb, sort_keys=True, default=str)[:900]))
    report(name, not why, "; ".join(why))
    return a, b


def both(op, params):
    """The same request to both without comparing (set-up)."""
    return call(NERD, op, params), call(LOCAL, op, params)


def raw(url, target, body, headers=None):
    """A raw request: (status, headers, body bytes)."""
    h = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Date": "20261202T101655Z",
         "Authorization": "AWS4-HMAC-SHA256 Credential=local/20261202/us-east-1/dynamodb/"
                          "aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
                          "Signature=00"}
    if target:
        h["X-Amz-Target"] = "DynamoDB_20120810." + target
    for k, v in (headers or {}).items():
        if v is None:
            h.pop(k, None)
        else:
            h[k] = v
    req = urllib.request.Request(url + "/", data=body, method="POST" if body is not None else "GET",
                                 headers=h)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def s(v):
    return {"S": v}


def n(v):
    return {"N": v}


# ---- tables ----

def table(name, hash_, htype="S", range_=None, rtype="N", **kw):
    p = {"TableName": name, "BillingMode": "PAY_PER_REQUEST",
         "AttributeDefinitions": [{"AttributeName": hash_, "AttributeType": htype}],
         "KeySchema": [{"AttributeName": hash_, "KeyType": "HASH"}]}
    if range_:
        p["AttributeDefinitions"].append({"AttributeName": range_, "AttributeType": rtype})
        p["KeySchema"].append({"AttributeName": range_, "KeyType": "RANGE"})
    p.update(kw)
    return p


step("CreateTable Products", "CreateTable", table("Products", "id"))
step("CreateTable Orders (N sort key)", "CreateTable", table("Orders", "customerId", range_="orderTs"))
step("CreateTable Words (S sort key)", "CreateTable", table("Words", "pk", range_="w", rtype="S"))
step("CreateTable Bins (B sort key)", "CreateTable", table("Bins", "pk", range_="b", rtype="B"))
cat = table("Catalog", "id")
cat["AttributeDefinitions"] += [{"AttributeName": "cat", "AttributeType": "S"},
                                {"AttributeName": "price", "AttributeType": "N"}]
cat["GlobalSecondaryIndexes"] = [
    {"IndexName": "byCat", "KeySchema": [{"AttributeName": "cat", "KeyType": "HASH"},
                                         {"AttributeName": "price", "KeyType": "RANGE"}],
     "Projection": {"ProjectionType": "ALL"}},
    {"IndexName": "catKeys", "KeySchema": [{"AttributeName": "cat", "KeyType": "HASH"}],
     "Projection": {"ProjectionType": "KEYS_ONLY"}}]
step("CreateTable Catalog (two GSIs)", "CreateTable", cat)
step("CreateTable Big (1 MB pages)", "CreateTable", table("Big", "id"))
step("CreateTable existing", "CreateTable", table("Products", "id"),
     local="Cannot create preexisting table", nerd="Table already exists: Products")
step("CreateTable without throughput", "CreateTable",
     {k: v for k, v in table("NoThroughput", "id").items() if k != "BillingMode"},
     local="No provisioned throughput specified for the table",
     nerd="One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits "
          "must both be specified when BillingMode is PROVISIONED")
step("CreateTable unused attribute definition", "CreateTable",
     table("Unused", "id", AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                                                 {"AttributeName": "x", "AttributeType": "S"}]),
     local="The number of attributes in key schema must match the number of attributes defined "
           "in attribute definitions.",
     nerd="One or more parameter values were invalid: Number of attributes in KeySchema does not "
          "exactly match number of attributes defined in AttributeDefinitions")
step("CreateTable AttributeType BOOL", "CreateTable",
     table("BadType", "id", AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "BOOL"}]),
     local="Member must satisfy enum value set: [B, N, S]",
     nerd="1 validation error detected: Value 'BOOL' at 'attributeDefinitions.1.member."
          "attributeType' failed to satisfy constraint: Member must satisfy enum value set: "
          "[B, N, S]")
step("CreateTable only a RANGE key", "CreateTable",
     table("OnlyRange", "id", KeySchema=[{"AttributeName": "id", "KeyType": "RANGE"}]),
     local="No Hash Key specified in schema.  All Dynamo DB tables must have exactly one hash key",
     nerd="Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
# §9.4: PAY_PER_REQUEST with ProvisionedThroughput is accepted by Local only
step("CreateTable PAY_PER_REQUEST with throughput", "CreateTable",
     table("PprThroughput", "id", ProvisionedThroughput={"ReadCapacityUnits": 1,
                                                          "WriteCapacityUnits": 1}),
     local_status=200, local_code="(none)", local=None,
     nerd="One or more parameter values were invalid: Neither ReadCapacityUnits nor "
          "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
both("DeleteTable", {"TableName": "PprThroughput"})
step("DescribeTable Orders", "DescribeTable", {"TableName": "Orders"})
step("DescribeTable missing", "DescribeTable", {"TableName": "Missing"},
     local="Cannot do operations on a non-existent table",
     nerd="Requested resource not found: Table: Missing not found")
step("ListTables", "ListTables", {})
step("ListTables Limit 2", "ListTables", {"Limit": 2})
step("ListTables after Catalog", "ListTables", {"ExclusiveStartTableName": "Catalog", "Limit": 3})
step("ListTables Limit 101", "ListTables", {"Limit": 101},
     local="Limit in ListTables must be <= 100",
     nerd="1 validation error detected: Value '101' at 'limit' failed to satisfy constraint: "
          "Member must have value less than or equal to 100")

# ---- items and numbers ----

NUMBERS = ["12.50", "00012.3400", "-0", "-0.0", "+3", "5.", ".5", "1.0", "1E-2", "-1E+2", "1e+5",
           "1e3", "1E125", "-12345678901234567890123456789012345678E+20",
           "9.9999999999999999999999999999999999999E+125", "1E-130", "0.000123"]
for i, v in enumerate(NUMBERS):
    both("PutItem", {"TableName": "Products", "Item": {"id": s("num-%d" % i), "v": n(v)}})
    step("number %s reads back" % v, "GetItem", {"TableName": "Products", "Key": {"id": s("num-%d" % i)}})
for v, local, nerd_ in [
        ("1E126", "Number overflow. Attempting to store a number with magnitude larger than "
                  "supported range", None),
        ("1E-131", "Number underflow. Attempting to store a number with magnitude smaller than "
                   "supported range", None),
        ("123456789012345678901234567890123456789", "DynamoDB only supports precision up to 38 "
         "digits", "Attempting to store more than 38 significant digits in a Number"),
        ("abc", "A value provided cannot be converted into a number",
         "The parameter cannot be converted to a numeric value: abc"),
        (" 1", "A value provided cannot be converted into a number",
         "The parameter cannot be converted to a numeric value:  1")]:
    step("number %r refused" % v, "PutItem", {"TableName": "Products",
                                              "Item": {"id": s("bad"), "v": n(v)}},
         local=local, nerd=nerd_ or local)
ITEM = {"id": s("p-001"), "name": s("Coffee mug"), "price": n("12.50"),
        "tags": {"SS": ["kitchen", "ceramic"]}, "stock": n("40"), "b": {"B": b"\x00\x01\x02"},
        "bs": {"BS": [b"\x01", b"\x02"]}, "ns": {"NS": ["1", "2.5"]}, "flag": {"BOOL": True},
        "nothing": {"NULL": True}, "l": {"L": [n("10"), n("20"), n("30")]},
        "m": {"M": {"a": {"M": {"b": s("deep")}}, "x": s("1")}}, "emptyS": s(""),
        "emptyL": {"L": []}, "emptyM": {"M": {}}}
step("PutItem all types", "PutItem", {"TableName": "Products", "Item": ITEM})
step("GetItem all types", "GetItem", {"TableName": "Products", "Key": {"id": s("p-001")}})
step("GetItem ConsistentRead and capacity", "GetItem",
     {"TableName": "Products", "Key": {"id": s("p-001")}, "ConsistentRead": True,
      "ReturnConsumedCapacity": "TOTAL"})
step("GetItem missing key", "GetItem", {"TableName": "Products", "Key": {"id": s("nope")}})
for p in ["l[1]", "l[1], l[0]", "l[5]", "m.a.b, price", "m.x, tags, ns, b", "#n, stock"]:
    params = {"TableName": "Products", "Key": {"id": s("p-001")}, "ProjectionExpression": p}
    if "#n" in p:
        params["ExpressionAttributeNames"] = {"#n": "name"}
    step("GetItem projection %s" % p, "GetItem", params)
step("projection overlap", "GetItem", {"TableName": "Products", "Key": {"id": s("p-001")},
                                       "ProjectionExpression": "m, m.a"})
step("projection reserved word", "GetItem", {"TableName": "Products", "Key": {"id": s("p-001")},
                                             "ProjectionExpression": "name"})
step("GetItem table missing", "GetItem", {"TableName": "Missing", "Key": {"id": s("x")}},
     local="Cannot do operations on a non-existent table", nerd="Requested resource not found")
step("GetItem extra key attribute", "GetItem",
     {"TableName": "Orders", "Key": {"customerId": s("c")}},
     local="The number of conditions on the keys is invalid",
     nerd="The provided key element does not match the schema")
step("GetItem key of the wrong type", "GetItem",
     {"TableName": "Orders", "Key": {"customerId": s("c"), "orderTs": s("1")}},
     local="One or more parameter values were invalid: Type mismatch for key",
     nerd="The provided key element does not match the schema")
step("PutItem without the sort key", "PutItem",
     {"TableName": "Orders", "Item": {"customerId": s("c")}},
     local="One of the required keys was not given a value",
     nerd="One or more parameter values were invalid: Missing the key orderTs in the item")
step("PutItem sort key of the wrong type", "PutItem",
     {"TableName": "Orders", "Item": {"customerId": s("c"), "orderTs": s("x")}},
     local="One or more parameter values were invalid: Type mismatch for key",
     nerd="One or more parameter values were invalid: Type mismatch for key orderTs expected: N "
          "actual: S")
step("PutItem empty key", "PutItem", {"TableName": "Products", "Item": {"id": s("")}})
step("PutItem key of 2048 bytes", "PutItem", {"TableName": "Products", "Item": {"id": s("k" * 2048)}})
step("PutItem key of 2049 bytes", "PutItem", {"TableName": "Products", "Item": {"id": s("k" * 2049)}},
     local="Hash primary key values must be under 2048 bytes, and range primary key values must "
           "be under 1024 bytes",
     nerd="One or more parameter values were invalid: Size of hashkey has exceeded the maximum "
          "size limit of2048 bytes")
step("PutItem sort key of 1025 bytes", "PutItem",
     {"TableName": "Words", "Item": {"pk": s("a"), "w": s("w" * 1025)}},
     local="Hash primary key values must be under 2048 bytes, and range primary key values must "
           "be under 1024 bytes",
     nerd="One or more parameter values were invalid: Aggregated size of all range keys has "
          "exceeded the size limit of 1024 bytes")
step("PutItem 409600 bytes", "PutItem",
     {"TableName": "Products", "Item": {"id": s("max"), "d": s("x" * (409600 - 6))}})
step("PutItem 409601 bytes", "PutItem",
     {"TableName": "Products", "Item": {"id": s("max"), "d": s("x" * (409601 - 6))}})
for name, av in [("empty string set", {"SS": []}), ("empty number set", {"NS": []}),
                 ("NULL false", {"NULL": False}), ("empty value", {}),
                 ("two types", {"S": "a", "N": "1"}), ("NS duplicates", {"NS": ["1", "1.0"]})]:
    step("PutItem %s" % name, "PutItem", {"TableName": "Products", "Item": {"id": s("v"), "x": av}})
step("PutItem SS duplicates", "PutItem",
     {"TableName": "Products", "Item": {"id": s("v"), "x": {"SS": ["a", "a"]}}},
     local="One or more parameter values were invalid: Input collection [a, a] contains duplicates",
     nerd="One or more parameter values were invalid: Input collection [a, a] contains duplicates.")
step("PutItem ReturnValues ALL_NEW", "PutItem",
     {"TableName": "Products", "Item": {"id": s("v")}, "ReturnValues": "ALL_NEW"},
     local="Return values set to invalid value", nerd="ReturnValues can only be ALL_OLD or NONE")

# ---- conditional writes ----

step("create only if absent", "PutItem",
     {"TableName": "Products", "Item": {"id": s("p-002"), "name": s("Tea pot"), "price": n("30")},
      "ConditionExpression": "attribute_not_exists(id)"})
step("create only if absent, twice", "PutItem",
     {"TableName": "Products", "Item": {"id": s("p-002"), "name": s("dup")},
      "ConditionExpression": "attribute_not_exists(id)"})
step("PutItem ReturnValues ALL_OLD", "PutItem",
     {"TableName": "Products", "Item": {"id": s("p-002"), "name": s("Tea pot"), "price": n("31")},
      "ReturnValues": "ALL_OLD"})
step("DeleteItem failing condition", "DeleteItem",
     {"TableName": "Products", "Key": {"id": s("p-002")}, "ConditionExpression": "price > :p",
      "ExpressionAttributeValues": {":p": n("100")}})
step("DeleteItem ALL_OLD", "DeleteItem",
     {"TableName": "Products", "Key": {"id": s("p-002")}, "ReturnValues": "ALL_OLD"})
step("DeleteItem missing", "DeleteItem", {"TableName": "Products", "Key": {"id": s("p-002")}})
both("PutItem", {"TableName": "Products", "Item": {"id": s("p-003"), "v": n("1")}})
# the item in the error body (boto3 1.26 does not parse it: raw)
body = json.dumps({"TableName": "Products", "Item": {"id": s("p-003")},
                   "ConditionExpression": "attribute_not_exists(id)",
                   "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}).encode()
ra, rb = raw(NERD, "PutItem", body), raw(LOCAL, "PutItem", body)
ja, jb = json.loads(ra[2]), json.loads(rb[2])
report("ReturnValuesOnConditionCheckFailure ALL_OLD: the item in the error",
       ra[0] == rb[0] == 400 and ja.get("Item") == jb.get("Item") == {"id": s("p-003"), "v": n("1")}
       and ja.get("message") == jb.get("Message") == "The conditional request failed",
       "nerd %s local %s" % (ja, jb))
step("UpdateItem only if it exists (absent)", "UpdateItem",
     {"TableName": "Products", "Key": {"id": s("new-2")}, "UpdateExpression": "SET a = :v",
      "ConditionExpression": "attribute_exists(id)", "ExpressionAttributeValues": {":v": s("x")}})

# ---- update expressions ----

both("PutItem", {"TableName": "Products", "Item": {
    "id": s("u"), "n": n("5"), "s": s("hello"), "l": {"L": [n("10"), n("20"), n("30")]},
    "m": {"M": {"x": s("1"), "y": {"M": {"z": {"BOOL": True}}}}}, "ss": {"SS": ["blue", "red"]},
    "ns": {"NS": ["1", "2"]}}})
UPDATES = [
    ("SET n = n + :d", {":d": n("1.5")}, None, None),
    ("SET n = n - :d", {":d": n("100")}, None, None),
    ("SET l[1] = :v", {":v": s("x")}, None, None),
    ("SET l[10] = :v", {":v": s("appended")}, None, None),
    ("REMOVE l[0], l[1]", None, None, None),
    ("SET m.y.q = :v", {":v": n("7")}, None, None),
    ("SET nope.x = :v", {":v": n("7")}, None, None),
    ("SET c = if_not_exists(c, :z) + :i", {":z": n("0"), ":i": n("2")}, None, None),
    ("SET c = if_not_exists(c, :z) + :i", {":z": n("0"), ":i": n("2")}, None, None),
    ("SET l = list_append(:a, l)", {":a": {"L": [s("first")]}}, None, None),
    ("SET l = list_append(l, :a)", {":a": s("bad")}, None, None),
    ("SET s = s + :a", {":a": n("1")}, None, None),
    ("SET q = missing + :a", {":a": n("1")}, None, None),
    ("ADD ss :v", {":v": {"SS": ["green", "red"]}}, None, None),
    ("ADD n :v", {":v": n("-1")}, None, None),
    ("ADD s :v", {":v": s("x")}, None, None),
    ("ADD ss :v", {":v": n("1")}, None, None),
    ("DELETE ns :v", {":v": {"NS": ["1"]}}, None, None),
    ("DELETE ss :v", {":v": {"SS": ["blue", "green", "red"]}}, None, None),
    ("DELETE ns :v", {":v": n("1")}, None, None),
    ("SET id = :v", {":v": s("x")}, None, None),
    ("SET a.b = :v, a = :w", {":v": s("x"), ":w": s("y")}, None, None),
    ("SET a = :v SET b = :v", {":v": s("x")}, None, None),
    ("SET a", None, None, None),
    ("SET n = n + :v + :v", {":v": n("1")}, None, None),
    ("SET x = size(s)", None, None, None),
    ("SET x = foo(s)", None, None, None),
    ("REMOVE m.y, nothere", None, None, None),
    ("SET price = :p", {":p": n("13.00")}, None, None),
    ("set lower = :v", {":v": n("1")}, None, None),
    ("SET #a = :v", {":v": n("1")}, None, None),
]
for expr, vals, local, nerd_ in UPDATES:
    params = {"TableName": "Products", "Key": {"id": s("u")}, "UpdateExpression": expr,
              "ReturnValues": "ALL_NEW"}
    if vals:
        params["ExpressionAttributeValues"] = vals
    # §9.4: Local keeps SET numbers as sent ("13.00"): numbers compared as numbers here
    step("UpdateItem %s" % expr, "UpdateItem", params, numbers="price" in expr)
both("UpdateItem", {"TableName": "Products", "Key": {"id": s("u")}, "UpdateExpression":
                    "SET price = :p", "ExpressionAttributeValues": {":p": n("13")}})
for rv in ["UPDATED_OLD", "UPDATED_NEW", "ALL_OLD", "NONE"]:
    step("UpdateItem ReturnValues %s" % rv, "UpdateItem",
         {"TableName": "Products", "Key": {"id": s("u")},
          "UpdateExpression": "SET m.x = :v, k = :v ADD n :one",
          "ExpressionAttributeValues": {":v": s("q"), ":one": n("1")}, "ReturnValues": rv})
step("UpdateItem creates the item", "UpdateItem",
     {"TableName": "Products", "Key": {"id": s("new-1")}, "UpdateExpression": "SET a = :v",
      "ExpressionAttributeValues": {":v": s("x")}, "ReturnValues": "ALL_NEW"})
step("UpdateItem without an expression", "UpdateItem",
     {"TableName": "Products", "Key": {"id": s("new-3")}})
step("the item UpdateItem made", "GetItem", {"TableName": "Products", "Key": {"id": s("new-3")}})
step("UpdateItem precision overflow", "UpdateItem",
     {"TableName": "Products", "Key": {"id": s("u")}, "UpdateExpression": "SET n = :big ADD n :one",
      "ExpressionAttributeValues": {":big": n("9" * 38), ":one": n("1")}})
both("UpdateItem", {"TableName": "Products", "Key": {"id": s("u")}, "UpdateExpression": "SET n = :big",
                    "ExpressionAttributeValues": {":big": n("9" * 38)}})
step("UpdateItem arithmetic over 38 digits", "UpdateItem",
     {"TableName": "Products", "Key": {"id": s("u")}, "UpdateExpression": "SET n = n + :tenth",
      "ExpressionAttributeValues": {":tenth": n("0.1")}},
     local="DynamoDB only supports precision up to 38 digits",
     nerd="Attempting to store more than 38 significant digits in a Number")

# ---- conditions and filters, evaluated ----

both("PutItem", {"TableName": "Products", "Item": {
    "id": s("c"), "n": n("5"), "s": s("hello"), "l": {"L": [n("10"), n("20")]},
    "m": {"M": {"y": {"M": {"z": {"BOOL": True}}}}}, "ss": {"SS": ["blue", "red"]},
    "e": s("é😀")}})
CONDS = ["n = :n", "n <> :n", "n < :n", "n <= :n", "n > :m", "n >= :n", "n BETWEEN :n AND :m",
         "n IN (:n, :m)", "s = :n", "s <> :n", "attribute_exists(m.y.z)", "attribute_not_exists(zz)",
         "attribute_type(n, :t)", "begins_with(s, :p)", "contains(ss, :q)", "contains(l, :ten)",
         "contains(s, :p)", "size(s) > :n", "size(n) > :n", "size(e) = :three",
         "NOT n = :n OR n = :n", "n = :n OR s = :p AND s = :n", "(n) = :n", "NOT(n = :n)",
         "s = :p AND (n = :n)", "n IN (:n)", "begins_with(n, :p)", "ss = :ss2",
         "l = :lst", "missing < :n", "NOT missing = :n"]
VALS = {":n": n("5"), ":m": n("9"), ":t": s("N"), ":p": s("he"), ":q": s("red"), ":ten": n("10"),
        ":three": n("3"), ":ss2": {"SS": ["red", "blue"]}, ":lst": {"L": [n("10"), n("20")]}}
for c in CONDS:
    used = {k: v for k, v in VALS.items() if k in c.replace("(", " ").replace(")", " ").replace(",", " ").split()}
    params = {"TableName": "Products", "Key": {"id": s("c")}, "ConditionExpression": c,
              "UpdateExpression": "SET touched = :tt",
              "ExpressionAttributeValues": dict(used, **{":tt": s("y")}), "ReturnValues": "NONE"}
    step("condition %s" % c, "UpdateItem", params)
    params = {"TableName": "Products", "Key": {"id": s("zz-none")}, "ConditionExpression": c}
    if used:
        params["ExpressionAttributeValues"] = used
    step("condition %s (no item)" % c, "DeleteItem", params)
BAD_CONDS = [
    ("n = n", None, None), ("attribute_exists(:n)", None, None), ("ATTRIBUTE_EXISTS(n)", None, None),
    ("begins_with(s, :n)", None, None), ("n BETWEEN :m AND :n", None, None),
    ("size(s)", None, None), ("contains(s, s)", None, None), ("a == :n", None, None),
    ("name = :n", None, None), ("((n = :n))", None, None), ("n = :undefined", None, None),
    ("#undefined = :n", None, None), ("n = :n AND", None, None), ("x[01] = :n", None, None),
    ("_x = :n", None, None), ("n BETWEEN :n AND :p", None, None),
    ("attribute_type(n, :p)", None, None),
    ("n IN (%s)" % ", ".join([":n"] * 101), None, None)]
for c, local, nerd_ in BAD_CONDS:
    used = {k: v for k, v in VALS.items() if k in c}
    params = {"TableName": "Products", "Key": {"id": s("c")}, "ConditionExpression": c}
    if used:
        params["ExpressionAttributeValues"] = used
    step("refused condition %s" % c[:60], "DeleteItem", params)
step("unused ExpressionAttributeValues", "PutItem",
     {"TableName": "Products", "Item": {"id": s("p-009")}, "ConditionExpression":
      "attribute_not_exists(id)", "ExpressionAttributeValues": {":unused": s("a")}})
step("unused ExpressionAttributeNames", "PutItem",
     {"TableName": "Products", "Item": {"id": s("p-009")}, "ConditionExpression":
      "attribute_not_exists(id)", "ExpressionAttributeNames": {"#n": "name"}})
step("empty ExpressionAttributeValues", "PutItem",
     {"TableName": "Products", "Item": {"id": s("p-009")}, "ConditionExpression":
      "attribute_not_exists(id)", "ExpressionAttributeValues": {}})
step("values without an expression", "PutItem",
     {"TableName": "Products", "Item": {"id": s("p-009")},
      "ExpressionAttributeValues": {":v": s("a")}})
step("bad ExpressionAttributeNames key", "GetItem",
     {"TableName": "Products", "Key": {"id": s("c")}, "ProjectionExpression": "#a",
      "ExpressionAttributeNames": {"#a-b": "x", "#a": "s"}})
step("empty condition", "DeleteItem", {"TableName": "Products", "Key": {"id": s("c")},
                                       "ConditionExpression": ""})

# ---- queries ----

for ts in ["1700000000", "1700000100", "1700000050", "-5", "1e3", "0.001", "-100.5"]:
    both("PutItem", {"TableName": "Orders", "Item": {"customerId": s("c1"), "orderTs": n(ts),
                                                     "total": n("9.99")}})
both("PutItem", {"TableName": "Orders", "Item": {"customerId": s("c2"), "orderTs": n("1")}})
for w in ["0", "A", "B", "Z", "a", "aa", "ab", "~", "ä", "é", "\uffff", "😀", "ab\u0000c"]:
    both("PutItem", {"TableName": "Words", "Item": {"pk": s("p"), "w": s(w)}})
for hx in ["00", "01", "0100", "7f", "80", "ff"]:
    both("PutItem", {"TableName": "Bins", "Item": {"pk": s("p"), "b": {"B": binascii.unhexlify(hx)}}})
KC = "customerId = :c"
for fwd in (True, False):
    d = "ascending" if fwd else "descending"
    step("Query N sort key %s" % d, "Query", {"TableName": "Orders", "KeyConditionExpression": KC,
         "ExpressionAttributeValues": {":c": s("c1")}, "ScanIndexForward": fwd})
    step("Query S sort key (bytes) %s" % d, "Query", {"TableName": "Words",
         "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": s("p")},
         "ScanIndexForward": fwd})
    step("Query B sort key %s" % d, "Query", {"TableName": "Bins",
         "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": s("p")},
         "ScanIndexForward": fwd})
    # pages of 2, each page compared, to the end
    esk, page = None, 0
    while True:
        params = {"TableName": "Orders", "KeyConditionExpression": KC + " AND orderTs > :t",
                  "ExpressionAttributeValues": {":c": s("c1"), ":t": n("-10")}, "Limit": 2,
                  "ScanIndexForward": fwd}
        if esk:
            params["ExclusiveStartKey"] = esk
        a, b = step("Query %s page %d" % (d, page), "Query", params)
        esk = a[3].get("LastEvaluatedKey") if a[1] is None else None
        page += 1
        if not esk or page > 10:
            break
for kc, vals in [("customerId = :c AND orderTs BETWEEN :a AND :b", {":a": n("-10"), ":b": n("1700000050")}),
                 ("customerId = :c AND orderTs <= :a", {":a": n("1000")}),
                 ("customerId = :c AND orderTs = :a", {":a": n("1E3")}),
                 (":c = customerId AND :a < orderTs", {":a": n("1")}),
                 ("(customerId = :c)", {})]:
    step("Query %s" % kc, "Query", {"TableName": "Orders", "KeyConditionExpression": kc,
         "ExpressionAttributeValues": dict(vals, **{":c": s("c1")})})
step("Query begins_with", "Query", {"TableName": "Words", "KeyConditionExpression":
     "pk = :p AND begins_with(w, :a)", "ExpressionAttributeValues": {":p": s("p"), ":a": s("a")}})
step("Query Select COUNT", "Query", {"TableName": "Orders", "KeyConditionExpression": KC,
     "ExpressionAttributeValues": {":c": s("c1")}, "Select": "COUNT"})
step("Query filter and projection", "Query", {"TableName": "Orders", "KeyConditionExpression": KC,
     "FilterExpression": "#t > :x", "ExpressionAttributeNames": {"#t": "total"},
     "ExpressionAttributeValues": {":c": s("c1"), ":x": n("5")}, "ProjectionExpression": "orderTs",
     "Limit": 3})
step("Query Limit equal to the matches", "Query", {"TableName": "Orders", "KeyConditionExpression":
     KC, "ExpressionAttributeValues": {":c": s("c2")}, "Limit": 1})
step("Query ExclusiveStartKey that does not exist", "Query", {"TableName": "Orders",
     "KeyConditionExpression": KC, "ExpressionAttributeValues": {":c": s("c1")},
     "ExclusiveStartKey": {"customerId": s("c1"), "orderTs": n("999")}})
step("Query capacity", "Query", {"TableName": "Orders", "KeyConditionExpression": KC,
     "ExpressionAttributeValues": {":c": s("c1")}, "ReturnConsumedCapacity": "TOTAL"})
QBAD = [
    ("customerId = :c AND orderTs <> :a", {":a": n("1")}, None, None),
    ("customerId = :c OR orderTs = :a", {":a": n("1")}, None, None),
    ("orderTs = :a", {":a": n("1")}, "Query condition missed key schema element",
     "Query condition missed key schema element: customerId"),
    ("customerId = :c AND orderTs > :a", {":a": s("x")}, None, None),
    ("customerId = :c AND begins_with(orderTs, :a)", {":a": n("1")}, None, None),
    ("customerId = :c AND orderTs > :a AND orderTs < :a", {":a": n("1")}, None, None),
]
for kc, vals, local, nerd_ in QBAD:
    if ":c" in kc:
        vals = dict(vals, **{":c": s("c1")})
    step("refused key condition %s" % kc, "Query", {"TableName": "Orders",
         "KeyConditionExpression": kc, "ExpressionAttributeValues": vals},
         local=local, nerd=nerd_)
step("Query filter on the sort key", "Query", {"TableName": "Orders", "KeyConditionExpression": KC,
     "FilterExpression": "orderTs > :x", "ExpressionAttributeValues": {":c": s("c1"), ":x": n("5")}})
step("Query Limit 0", "Query", {"TableName": "Orders", "KeyConditionExpression": KC,
     "ExpressionAttributeValues": {":c": s("c1")}, "Limit": 0},
     local="Limit must be greater than or equal to 1",
     nerd="1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member "
          "must have value greater than or equal to 1")
step("Query Select COUNT with a projection", "Query", {"TableName": "Orders",
     "KeyConditionExpression": KC, "ExpressionAttributeValues": {":c": s("c1")},
     "Select": "COUNT", "ProjectionExpression": "total"})

# ---- indexes ----

for i, (c, pr) in enumerate([("a", "5"), ("a", "1"), ("b", "3"), ("a", "9"), ("a", "1"), (None, "2")]):
    it = {"id": s("g%d" % i), "price": n(pr), "x": s("extra")}
    if c:
        it["cat"] = s(c)
    both("PutItem", {"TableName": "Catalog", "Item": it})
step("PutItem index key of the wrong type", "PutItem",
     {"TableName": "Catalog", "Item": {"id": s("bad"), "cat": n("1")}},
     local="One or more parameter values were invalid: Type mismatch for Index Key",
     nerd="One or more parameter values were invalid: Type mismatch for Index Key cat Expected: S "
          "Actual: N IndexName: byCat")
for fwd in (True, False):
    step("Query GSI %s" % ("ascending" if fwd else "descending"), "Query",
         {"TableName": "Catalog", "IndexName": "byCat", "KeyConditionExpression": "cat = :c",
          "ExpressionAttributeValues": {":c": s("a")}, "ScanIndexForward": fwd})
    step("Query GSI Limit 2 %s" % ("ascending" if fwd else "descending"), "Query",
         {"TableName": "Catalog", "IndexName": "byCat", "KeyConditionExpression": "cat = :c",
          "ExpressionAttributeValues": {":c": s("a")}, "ScanIndexForward": fwd, "Limit": 2})
step("Query GSI from a LastEvaluatedKey", "Query",
     {"TableName": "Catalog", "IndexName": "byCat", "KeyConditionExpression": "cat = :c",
      "ExpressionAttributeValues": {":c": s("a")}, "Limit": 1,
      "ExclusiveStartKey": {"cat": s("a"), "price": n("1"), "id": s("g1")}})
step("Query GSI sort key condition", "Query",
     {"TableName": "Catalog", "IndexName": "byCat", "KeyConditionExpression": "cat = :c AND price > :p",
      "ExpressionAttributeValues": {":c": s("a"), ":p": n("1")}})
step("Query KEYS_ONLY index", "Query",
     {"TableName": "Catalog", "IndexName": "catKeys", "KeyConditionExpression": "cat = :c",
      "ExpressionAttributeValues": {":c": s("b")}})
step("Query GSI ConsistentRead", "Query",
     {"TableName": "Catalog", "IndexName": "byCat", "ConsistentRead": True,
      "KeyConditionExpression": "cat = :c", "ExpressionAttributeValues": {":c": s("a")}})
step("Query unknown index", "Query",
     {"TableName": "Catalog", "IndexName": "nope", "KeyConditionExpression": "cat = :c",
      "ExpressionAttributeValues": {":c": s("a")}})
step("Scan GSI (sparse)", "Scan", {"TableName": "Catalog", "IndexName": "byCat"}, sort_items=True)
# §9.4: Local counts every item of the table in a GSI's IndexSizeBytes
step("DescribeTable Catalog", "DescribeTable", {"TableName": "Catalog"})
a, b = call(NERD, "DescribeTable", {"TableName": "Catalog"}), call(LOCAL, "DescribeTable", {"TableName": "Catalog"})
ga = {g["IndexName"]: (g["ItemCount"], g["IndexStatus"]) for g in a[3]["Table"]["GlobalSecondaryIndexes"]}
gb = {g["IndexName"]: (g["ItemCount"], g["IndexStatus"]) for g in b[3]["Table"]["GlobalSecondaryIndexes"]}
report("GSI item counts", ga == gb and a[3]["Table"]["ItemCount"] == b[3]["Table"]["ItemCount"] and
       a[3]["Table"]["TableSizeBytes"] == b[3]["Table"]["TableSizeBytes"], "%s %s" % (ga, gb))

# ---- scans ----

for i in range(25):
    both("PutItem", {"TableName": "Big", "Item": {"id": s("k%02d" % i), "v": n(str(i))}})


def scan_pages(url, params):
    items, pages, esk = [], [], None
    for _ in range(60):
        p = dict(params)
        if esk:
            p["ExclusiveStartKey"] = esk
        st, code, msg, r = call(url, "Scan", p)
        if code:
            return code, msg
        pages.append((r["ScannedCount"], "LastEvaluatedKey" in r))
        items += r.get("Items", [])
        esk = r.get("LastEvaluatedKey")
        if not esk:
            break
    return sorted(json.dumps(norm(i), sort_keys=True) for i in items), pages


for extra in [{}, {"Limit": 7}, {"Limit": 25}, {"Select": "COUNT"},
              {"Limit": 5, "FilterExpression": "v > :x", "ExpressionAttributeValues": {":x": n("10")}},
              {"ProjectionExpression": "v"}]:
    a, b = scan_pages(NERD, dict(extra, TableName="Big")), scan_pages(LOCAL, dict(extra, TableName="Big"))
    report("Scan pages %s" % json.dumps(extra), a == b, "nerd %s\n    local %s" % (a, b))
# parallel scan: the segments cover the table once (which item is in which segment differs)
for url in (NERD, LOCAL):
    allseg = []
    for seg in range(3):
        allseg += scan_pages(url, {"TableName": "Big", "Segment": seg, "TotalSegments": 3})[0]
    report("parallel Scan %s: 3 segments, every item once" % ("nerd" if url == NERD else "local"),
           sorted(allseg) == scan_pages(url, {"TableName": "Big"})[0], str(len(allseg)))
step("Scan Segment not below TotalSegments", "Scan", {"TableName": "Big", "Segment": 3, "TotalSegments": 3},
     local="1 validation error detected: Value '3' at 'segment' failed to satisfy constraint: "
           "Member must have value less than or equal to 2",
     nerd="The Segment parameter is zero-based and must be less than parameter TotalSegments: "
          "Segment: 3 is not less than TotalSegments: 3")
step("Scan Select ALL_ATTRIBUTES with a projection", "Scan",
     {"TableName": "Big", "Select": "ALL_ATTRIBUTES", "ProjectionExpression": "id"})
step("Scan ExclusiveStartKey missing an attribute", "Scan",
     {"TableName": "Orders", "ExclusiveStartKey": {"customerId": s("c1")}},
     local="Exclusive Start Key must have same size as table's key schema",
     nerd="The provided starting key is invalid: The provided key element does not match the "
          "schema")
both("CreateTable", table("Large", "id"))
for i in range(25):
    both("PutItem", {"TableName": "Large", "Item": {"id": s("big%02d" % i), "d": s("x" * 100000)}})
for extra in [{}, {"FilterExpression": "attribute_not_exists(d)"}, {"Select": "COUNT"},
              {"ProjectionExpression": "id"}]:
    a, b = scan_pages(NERD, dict(extra, TableName="Large")), scan_pages(LOCAL, dict(extra, TableName="Large"))
    report("Scan 1 MB pages %s" % json.dumps(extra), a[1] == b[1] and a[0] == b[0],
           "nerd %s local %s" % (a[1], b[1]))

# ---- batches ----

step("BatchWriteItem put and delete", "BatchWriteItem", {"RequestItems": {"Products": [
    {"PutRequest": {"Item": {"id": s("bw1"), "v": n("1")}}},
    {"DeleteRequest": {"Key": {"id": s("p-003")}}}]}})
step("BatchWriteItem two tables", "BatchWriteItem", {"RequestItems": {
    "Products": [{"PutRequest": {"Item": {"id": s("bw2")}}}],
    "Orders": [{"PutRequest": {"Item": {"customerId": s("c3"), "orderTs": n("1")}}}]}})
step("BatchWriteItem the same key twice", "BatchWriteItem", {"RequestItems": {"Products": [
    {"PutRequest": {"Item": {"id": s("bw3")}}}, {"DeleteRequest": {"Key": {"id": s("bw3")}}}]}})
step("BatchWriteItem 26 requests", "BatchWriteItem", {"RequestItems": {"Products": [
    {"PutRequest": {"Item": {"id": s("bw%d" % i)}}} for i in range(26)]}})
step("BatchWriteItem missing table", "BatchWriteItem",
     {"RequestItems": {"Missing": [{"PutRequest": {"Item": {"id": s("x")}}}]}},
     local="Cannot do operations on a non-existent table", nerd="Requested resource not found")
step("BatchGetItem", "BatchGetItem", {"RequestItems": {
    "Products": {"Keys": [{"id": s("bw1")}, {"id": s("bw2")}, {"id": s("absent")}]},
    "Orders": {"Keys": [{"customerId": s("c3"), "orderTs": n("1")}], "ProjectionExpression": "orderTs"}}},
     sort_items=True)
step("BatchGetItem duplicate keys", "BatchGetItem",
     {"RequestItems": {"Products": {"Keys": [{"id": s("bw1")}, {"id": s("bw1")}]}}})
step("BatchGetItem 101 keys", "BatchGetItem",
     {"RequestItems": {"Products": {"Keys": [{"id": s("k%d" % i)} for i in range(101)]}}})

# ---- transactions ----

both("PutItem", {"TableName": "Products", "Item": {"id": s("t1"), "v": n("1")}})
step("TransactWriteItems", "TransactWriteItems", {"TransactItems": [
    {"Put": {"TableName": "Products", "Item": {"id": s("t2")}}},
    {"Update": {"TableName": "Products", "Key": {"id": s("t1")}, "UpdateExpression": "SET v = v + :o",
                "ConditionExpression": "v = :o", "ExpressionAttributeValues": {":o": n("1")}}},
    {"ConditionCheck": {"TableName": "Products", "Key": {"id": s("bw1")},
                        "ConditionExpression": "attribute_exists(id)"}},
    {"Delete": {"TableName": "Products", "Key": {"id": s("bw2")}}}]})
step("after the transaction", "BatchGetItem", {"RequestItems": {"Products": {"Keys": [
    {"id": s("t1")}, {"id": s("t2")}, {"id": s("bw2")}]}}}, sort_items=True)
body = json.dumps({"TransactItems": [
    {"Put": {"TableName": "Products", "Item": {"id": s("t3")}}},
    {"Put": {"TableName": "Products", "Item": {"id": s("t1")}, "ConditionExpression":
             "attribute_not_exists(id)", "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}]}).encode()
ra, rb = raw(NERD, "TransactWriteItems", body), raw(LOCAL, "TransactWriteItems", body)
ja, jb = json.loads(ra[2]), json.loads(rb[2])
report("TransactWriteItems cancelled: reasons and message", ra[0] == rb[0] == 400 and
       ja["__type"] == jb["__type"] and ja["CancellationReasons"] == jb["CancellationReasons"] and
       ja["Message"] == jb["Message"], "nerd %s\n    local %s" % (ja, jb))
step("the cancelled transaction wrote nothing", "GetItem", {"TableName": "Products", "Key": {"id": s("t3")}})
step("TransactWriteItems one item twice", "TransactWriteItems", {"TransactItems": [
    {"Put": {"TableName": "Products", "Item": {"id": s("t4")}}},
    {"Delete": {"TableName": "Products", "Key": {"id": s("t4")}}}]})
tok = {"ClientRequestToken": "token-1", "TransactItems": [
    {"Put": {"TableName": "Products", "Item": {"id": s("t5")}}}]}
step("TransactWriteItems with a token", "TransactWriteItems", tok)
step("TransactWriteItems the same token again", "TransactWriteItems", tok)
step("TransactWriteItems missing table", "TransactWriteItems", {"TransactItems": [
    {"Put": {"TableName": "Missing", "Item": {"id": s("t6")}}}]},
     local="Cannot do operations on a non-existent table", nerd="Requested resource not found")
# §9.4-like: Local accepts an Update without UpdateExpression (the model requires it)
step("TransactWriteItems Update without UpdateExpression", "TransactWriteItems", {"TransactItems": [
    {"Update": {"TableName": "Products", "Key": {"id": s("t7")}}}]},
     local_status=200, local_code="(none)", local=None,
     nerd="1 validation error detected: Value null at 'transactItems.1.member.update."
          "updateExpression' failed to satisfy constraint: Member must not be null")
both("DeleteItem", {"TableName": "Products", "Key": {"id": s("t7")}})   # what Local made of it

# ---- the protocol (raw HTTP) ----

st, h, b = raw(NERD, "ListTables", b"{}")
import zlib
report("x-amz-crc32 is the CRC-32 of the body", st == 200 and
       int(h.get("x-amz-crc32", "-1")) == zlib.crc32(b), str(h))
report("x-amzn-RequestId has the service's form", len(h.get("x-amzn-RequestId", "")) == 52, str(h))
st, h, b = raw(NERD, "GetItem", b'{"TableName":"Missing","Key":{"id":{"S":"x"}}}')
report("errors carry x-amz-crc32 too (the service's way; §9.4: Local omits it)",
       st == 400 and int(h.get("x-amz-crc32", "-1")) == zlib.crc32(b), str(h))
# §9.4: malformed JSON, unknown target, missing signature
for name, target, body, hdr, want_nerd, want_local in [
        ("malformed JSON", "GetItem", b"{not json", None,
         (400, "com.amazon.coral.service#SerializationException"),
         (500, "com.amazonaws.dynamodb.v20120810#InternalFailure")),
        ("unknown operation", "Nope", b"{}", None,
         (400, "com.amazon.coral.service#UnknownOperationException"),
         (400, "com.amazonaws.dynamodb.v20120810#UnknownOperationException")),
        ("no Authorization", "ListTables", b"{}", {"Authorization": None},
         (400, "com.amazon.coral.service#MissingAuthenticationTokenException"),
         (400, "com.amazonaws.dynamodb.v20120810#MissingAuthenticationToken")),
        ("B not base64", "GetItem", b'{"TableName":"Products","Key":{"id":{"B":"abc"}}}', None,
         (400, "com.amazon.coral.service#SerializationException"),
         (500, "com.amazonaws.dynamodb.v20120810#InternalFailure"))]:
    ra, rb = raw(NERD, target, body, hdr), raw(LOCAL, target, body, hdr)
    got_n = (ra[0], json.loads(ra[2]).get("__type"))
    got_l = (rb[0], json.loads(rb[2]).get("__type"))
    report("protocol: %s" % name, got_n == want_nerd and got_l == want_local,
           "nerd %s local %s" % (got_n, got_l))

for t in ["Products", "Orders", "Words", "Bins", "Catalog", "Big", "Large"]:
    step("DeleteTable %s" % t, "DeleteTable", {"TableName": t})
step("ListTables at the end", "ListTables", {})
print("conformance: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
