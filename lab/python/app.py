"""The lab's products API in Python: ProductApiFunction with ProductsRuntime=python.

The same API as the C function (function/products/, docs/lab.md), answer
for answer: an API Gateway proxy handler (REST API payload 1.0, or an HTTP
API's 2.0) over one DynamoDB table keyed by id (S), through boto3's
low-level client, so DynamoDB numbers stay the strings DynamoDB sends.

    POST   /products       {"name": "...", "price": 12.5, "id"?: "..."} -> 201, 409
    GET    /products       ?limit=1..100 (default 20) &next=TOKEN      -> 200
    GET    /products/{id}                                               -> 200, 404
    DELETE /products/{id}                                               -> 200, 404

Prices are exact: the body is parsed with its numbers as Decimal (never a
float), normalised to DynamoDB's canonical form (12.50 -> 12.5, 1e2 ->
100), stored as N and written back from the N string.  Errors are
{"error": code, "message": text}; a DynamoDB failure is 503 (no answer,
throttled past the retries) or 500, with one "products: ..." line in the
log.  The client is made once, at import, so a warm environment reuses it
(and its connection) for every invocation.
"""
import base64
import json
import os
import re
import sys
import uuid
from decimal import Decimal
from urllib.parse import parse_qsl, unquote_plus

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as NoConnection

TABLE_NAME = os.environ["TABLE_NAME"]

# Debian's boto3 (1.26) predates AWS_ENDPOINT_URL_DYNAMODB, so the endpoint
# a local run sets is passed on here; on AWS neither is set (the region's).
# Retries: boto3's DynamoDB rules (throttling, 5xx, connection errors, a
# wrong CRC32) and backoff (50 ms x 2^n), with fewer attempts and shorter
# timeouts than its defaults so that a DynamoDB that does not answer gets
# a 503 within the function's timeout.
dynamodb = boto3.client(
    "dynamodb",
    endpoint_url=os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL"),
    config=Config(connect_timeout=1, read_timeout=3,
                  retries={"mode": "legacy", "total_max_attempts": 5}),
)

MAX_BODY = 64 * 1024
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
MAX_TOKEN = 2048
MAX_NAME = 1024
MAX_DEPTH = 32  # DynamoDB's nesting limit
ID_PATTERN = re.compile(r"[A-Za-z0-9._~-]{1,128}")
ID_RULE = "1 to 128 characters of A-Z a-z 0-9 . _ ~ - (not . or ..)"
THROTTLED = {"ProvisionedThroughputExceededException", "ThrottlingException",
             "RequestLimitExceeded", "Throttling", "TooManyRequestsException"}


class ApiError(Exception):
    """An answer other than success: status, error code, message (and the
    Allow header of a 405)."""

    def __init__(self, status, code, message, allow=None):
        super().__init__(message)
        self.status, self.code, self.message, self.allow = status, code, message, allow


def answer(status, body, allow=None):
    """The Lambda proxy result: status, JSON body text, Allow when given."""
    headers = {"content-type": "application/json"}
    if allow:
        headers["allow"] = allow
    return {"statusCode": status, "headers": headers, "isBase64Encoded": False, "body": body}


def cut(text, limit):
    """text cut to at most limit bytes of UTF-8 (as C's %.*s cuts it)."""
    return text.encode("utf-8", "surrogatepass")[:limit].decode("utf-8", "replace")


# ---- JSON ---------------------------------------------------------------------------------


def to_json(value):
    """Compact JSON text of value, non-ASCII as it is; a Decimal is written
    as its exact digits (json.dumps would want a float)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ",".join(to_json(k) + ":" + to_json(v) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(map(to_json, value)) + "]"
    return json.dumps(value, ensure_ascii=False)


def _no_duplicates(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError("duplicate object key")
        obj[key] = value
    return obj


def _no_constant(name):
    raise ValueError(f"invalid token '{name}'")


UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL, and lone surrogates UTF-8 cannot carry


def parse_json(text):
    """A JSON object or array with its numbers as Decimal; ValueError for
    anything else: duplicate keys, NaN and Infinity, a string with \\u0000
    or a lone surrogate (as the C function's parser, jansson, refuses)."""
    doc = json.loads(text, parse_float=Decimal, parse_int=Decimal,
                     parse_constant=_no_constant, object_pairs_hook=_no_duplicates)
    if not isinstance(doc, (dict, list)):
        raise ValueError("'[' or '{' expected")
    values = [doc]
    while values:
        value = values.pop()
        if isinstance(value, dict):
            values += [*value, *value.values()]
        elif isinstance(value, list):
            values += value
        elif isinstance(value, str) and UNSTORABLE.search(value):
            raise ValueError("a string holds \\u0000 or invalid Unicode")
    return doc


def b64decode(text):
    """Base64, standard or URL-safe, padding optional, line breaks skipped
    (what API Gateway and this API's tokens use); ValueError otherwise."""
    text = text.split("=", 1)[0].replace("\r", "").replace("\n", "")
    if not re.fullmatch(r"[A-Za-z0-9+/_-]*", text):
        raise ValueError("not base64")
    if len(text) % 4 == 1:  # six bits left over: no byte
        text = text[:-1]
    return base64.urlsafe_b64decode(text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4))


# ---- numbers ------------------------------------------------------------------------------

N_SYNTAX = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def dynamodb_number(number):
    """The Decimal number in DynamoDB's canonical form: plain digits, no
    exponent, no leading or trailing zeros ("12.50" -> "12.5", "1e2" ->
    "100", "-0" -> "0").  ApiError (400 InvalidProduct) beyond what DynamoDB
    stores: 38 significant digits, magnitudes 1E-130 to under 1E126."""
    sign, digit_tuple, exponent = number.as_tuple()
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    if not digits:
        return "0"
    significant = digits.rstrip("0")
    exponent += len(digits) - len(significant)
    if len(significant) > 38:
        raise ApiError(400, "InvalidProduct", '"price" has more than 38 significant digits')
    point = len(significant) + exponent  # number = 0.significant x 10^point
    if not -129 <= point <= 126:
        raise ApiError(400, "InvalidProduct", '"price" is out of DynamoDB\'s range (1E-130 to '
                       "9.9999999999999999999999999999999999999E+125)")
    if point <= 0:
        text = "0." + "0" * -point + significant
    elif point >= len(significant):
        text = significant + "0" * (point - len(significant))
    else:
        text = significant[:point] + "." + significant[point:]
    return "-" + text if sign else text


def number_value(n):
    """A DynamoDB N string as a JSON value: its canonical Decimal, or the
    string itself when it is not a number DynamoDB would keep."""
    if N_SYNTAX.fullmatch(n):
        try:
            return Decimal(dynamodb_number(Decimal(n)))
        except ApiError:
            pass
    return n


# ---- requests -----------------------------------------------------------------------------


class Request:
    """What an API Gateway event asks: payload 2.0 (requestContext.http.method,
    rawPath without a named stage, rawQueryString) or 1.0 (httpMethod, path,
    queryStringParameters).  ApiError for anything else."""

    def __init__(self, event):
        context = event.get("requestContext") if isinstance(event, dict) else None
        if not isinstance(context, dict):
            raise ApiError(400, "InvalidRequest",
                           "not an API Gateway event: invoke this function through its REST API")
        http = context.get("http")
        method = http.get("method") if isinstance(http, dict) else None
        path = event.get("rawPath")
        if isinstance(method, str) and isinstance(path, str):
            stage = context.get("stage")
            if isinstance(stage, str) and stage not in ("", "$default") and \
                    (path == "/" + stage or path.startswith("/" + stage + "/")):
                path = path[len(stage) + 1:] or "/"
        else:
            method = method if isinstance(method, str) else event.get("httpMethod")
            path = path if isinstance(path, str) else event.get("path")
        if not isinstance(method, str) or not isinstance(path, str):
            raise ApiError(400, "InvalidRequest",
                           "not an API Gateway event: invoke this function through its REST API")
        self.method, self.path = method, path
        headers = event.get("headers")
        self.content_type = None
        for name, value in (headers.items() if isinstance(headers, dict) else ()):
            if name.lower() == "content-type" and isinstance(value, str):
                self.content_type = value
        body = event.get("body")
        if not isinstance(body, str):
            self.body = None
        elif event.get("isBase64Encoded") is True:
            try:
                self.body = b64decode(body)
            except ValueError:
                raise ApiError(400, "InvalidRequest", "the body is not valid base64") from None
        else:
            self.body = body.encode("utf-8", "surrogatepass")
        raw_query = event.get("rawQueryString")
        if isinstance(raw_query, str):
            self.query = dict(parse_qsl(raw_query, keep_blank_values=True))
        else:
            params = event.get("queryStringParameters")
            self.query = {k: v for k, v in params.items() if isinstance(v, str)} \
                if isinstance(params, dict) else {}


def is_json(content_type):
    """Whether the media type (parameters aside) is application/json or +json."""
    media = content_type.split(";", 1)[0].strip(" \t").lower()
    return media == "application/json" or (media.endswith("+json") and "/" in media)


def valid_id(text):
    return bool(ID_PATTERN.fullmatch(text)) and text not in (".", "..")


def read_product(body):
    """The product a POST body holds: (id or None, name, canonical price).
    Exactly the members id (optional), name and price."""
    try:
        doc = parse_json(body.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise ApiError(400, "InvalidJSON", f"the body is not valid JSON: {e.reason} "
                       f"(at character {e.start})") from None
    except json.JSONDecodeError as e:
        raise ApiError(400, "InvalidJSON", f"the body is not valid JSON: {e.msg} "
                       f"(at character {e.pos})") from None
    except (ValueError, RecursionError) as e:
        raise ApiError(400, "InvalidJSON", f"the body is not valid JSON: {e}") from None
    if not isinstance(doc, dict):
        raise ApiError(400, "InvalidRequest",
                       'the body must be a JSON object: {"name": "...", "price": 12.5}')
    for key in doc:
        if key not in ("id", "name", "price"):
            raise ApiError(400, "InvalidProduct", f'unknown field "{cut(key, 64)}": a product has '
                           "id (optional), name and price")
    product_id, name, price = doc.get("id"), doc.get("name"), doc.get("price")
    if "id" in doc and not (isinstance(product_id, str) and valid_id(product_id)):
        raise ApiError(400, "InvalidId", "id must be " + ID_RULE)
    if "name" not in doc:
        raise ApiError(400, "InvalidProduct", 'the product has no "name"')
    if not isinstance(name, str) or not name or len(name.encode("utf-8", "surrogatepass")) > MAX_NAME:
        raise ApiError(400, "InvalidProduct",
                       f'"name" must be a non-empty string of at most {MAX_NAME} bytes')
    if "price" not in doc:
        raise ApiError(400, "InvalidProduct", 'the product has no "price"')
    if not isinstance(price, Decimal):
        raise ApiError(400, "InvalidProduct", '"price" must be a number, e.g. 12.5')
    price = dynamodb_number(price)
    if price.startswith("-"):
        raise ApiError(400, "InvalidProduct", '"price" must not be negative')
    return product_id, name, price


# ---- items and tokens ---------------------------------------------------------------------


def plain(av, depth=1):
    """A DynamoDB AttributeValue (as boto3's client returns it) as a JSON
    value; ValueError when it is not one."""
    if depth > MAX_DEPTH or not isinstance(av, dict) or len(av) != 1:
        raise ValueError("not an AttributeValue")
    (kind, value), = av.items()
    if kind == "S":
        return value
    if kind == "N":
        return number_value(value)
    if kind == "B":
        return base64.b64encode(value).decode("ascii")
    if kind == "BOOL":
        return bool(value)
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: plain(value[k], depth + 1) for k in sorted(value)}
    if kind == "L":
        return [plain(v, depth + 1) for v in value]
    if kind == "SS":
        return list(value)
    if kind == "NS":
        return [number_value(v) for v in value]
    if kind == "BS":
        return [base64.b64encode(v).decode("ascii") for v in value]
    raise ValueError(f"unknown type {kind}")


def product_json(item):
    """An item as product JSON: id, name, price, then any other attributes
    in key order."""
    first = [k for k in ("id", "name", "price") if k in item]
    rest = sorted(k for k in item if k not in first)
    return to_json({k: plain(item[k]) for k in first + rest})


def make_token(key):
    """The paging token of a LastEvaluatedKey: URL-safe base64 (unpadded) of
    its compact JSON with sorted keys, as DynamoDB's JSON has it."""
    wire = {name: {t: base64.b64encode(v).decode("ascii") if t == "B" else v for t, v in av.items()}
            for name, av in key.items()}
    text = json.dumps(wire, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def read_token(token):
    """The ExclusiveStartKey a token stands for (boto3's form), or None when
    it is not a token make_token could have written."""
    if not 1 <= len(token) <= MAX_TOKEN or not re.fullmatch(r"[A-Za-z0-9_-]+", token):
        return None
    try:
        key = parse_json(b64decode(token).decode("utf-8"))
        if not isinstance(key, dict) or not 1 <= len(key) <= 2:
            return None
        start = {}
        for name, av in key.items():
            if not name or not isinstance(av, dict) or len(av) != 1:
                return None
            (kind, value), = av.items()
            if kind not in ("S", "N", "B") or not isinstance(value, str):
                return None
            start[name] = {kind: b64decode(value) if kind == "B" else value}
        return start
    except (ValueError, RecursionError):
        return None


# ---- DynamoDB calls -----------------------------------------------------------------------


def failed(operation, error):
    """The ApiError for a DynamoDB call that failed in a way the route does
    not handle itself (503 no answer or throttled, else 500), logged."""
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "")
        meta = error.response.get("ResponseMetadata", {})
        attempts = meta.get("RetryAttempts", 0) + 1
        print(f"products: {operation} on table {TABLE_NAME} failed: DynamoDB answered an error: "
              f"{code}: {message} (HTTP {meta.get('HTTPStatusCode', 0)}, {attempts} attempt"
              f"{'' if attempts == 1 else 's'}, request id {meta.get('RequestId', '')})", file=sys.stderr)
        if code in THROTTLED:
            return ApiError(503, "ServiceUnavailable", f"DynamoDB is unavailable ({code}); try again")
        return ApiError(500, "InternalError", f"DynamoDB {operation} failed: {code}: {message}")
    print(f"products: {operation} on table {TABLE_NAME} failed: {type(error).__name__}: {error}",
          file=sys.stderr)
    if isinstance(error, (NoConnection, HTTPClientError)):
        return ApiError(503, "ServiceUnavailable",
                        "DynamoDB is unavailable (no answer from DynamoDB); try again")
    return ApiError(500, "InternalError", f"DynamoDB {operation} failed: {error}")


def error_code(error):
    return error.response.get("Error", {}).get("Code") if isinstance(error, ClientError) else None


def already_written(product_id, name, price):
    """Whether the stored item is this product (a retried PutItem whose
    first attempt had written it)."""
    try:
        item = dynamodb.get_item(TableName=TABLE_NAME, Key={"id": {"S": product_id}},
                                 ConsistentRead=True).get("Item")
    except (ClientError, BotoCoreError):
        return False
    return (item is not None and len(item) == 3 and item.get("name") == {"S": name}
            and "N" in item.get("price", {}) and N_SYNTAX.fullmatch(item["price"]["N"]) is not None
            and number_value(item["price"]["N"]) == Decimal(price))


# ---- routes -------------------------------------------------------------------------------


def create(request):
    """POST /products"""
    if request.content_type is not None and not is_json(request.content_type):
        raise ApiError(415, "UnsupportedMediaType",
                       f"Content-Type must be application/json, not {cut(request.content_type, 100)}")
    body = request.body or b""
    if len(body) > MAX_BODY:
        raise ApiError(413, "PayloadTooLarge",
                       f"the body is {len(body)} bytes; the limit is {MAX_BODY} bytes")
    product_id, name, price = read_product(body)
    generated = product_id is None
    for attempt in range(3):
        if generated:
            product_id = str(uuid.uuid4())
        try:
            dynamodb.put_item(
                TableName=TABLE_NAME,
                Item={"id": {"S": product_id}, "name": {"S": name}, "price": {"N": price}},
                ConditionExpression="attribute_not_exists(#k)",
                ExpressionAttributeNames={"#k": "id"})
            break
        except (ClientError, BotoCoreError) as e:
            if error_code(e) != "ConditionalCheckFailedException":
                raise failed("PutItem", e) from None
            if generated and attempt < 2:
                continue  # a UUID that is taken: another one
            if e.response["ResponseMetadata"].get("RetryAttempts", 0) > 0 and \
                    already_written(product_id, name, price):
                break
            raise ApiError(409, "Conflict", f"a product with id {product_id} exists") from None
    return answer(201, to_json({"id": product_id, "name": name, "price": Decimal(price)}))


def list_products(request):
    """GET /products: one Scan page of ?limit items, from ?next."""
    limit = DEFAULT_LIMIT
    if "limit" in request.query:
        text = request.query["limit"]
        if not re.fullmatch(r"[0-9]{1,3}", text) or not 1 <= int(text) <= MAX_LIMIT:
            raise ApiError(400, "InvalidRequest", f"limit must be a whole number from 1 to {MAX_LIMIT}")
        limit = int(text)
    scan = {"TableName": TABLE_NAME, "Limit": limit}
    if "next" in request.query:
        start = read_token(request.query["next"])
        if start is None:
            raise ApiError(400, "InvalidToken", "next is not a token this API gave")
        scan["ExclusiveStartKey"] = start
    try:
        page = dynamodb.scan(**scan)
    except (ClientError, BotoCoreError) as e:
        if "ExclusiveStartKey" in scan and error_code(e) == "ValidationException":
            raise ApiError(400, "InvalidToken", "next does not fit this table's key: "
                           + e.response["Error"].get("Message", "")) from None
        raise failed("Scan", e) from None
    try:
        body = '{"products":[' + ",".join(product_json(item) for item in page["Items"]) + "]"
        if "LastEvaluatedKey" in page:
            body += ',"next":' + to_json(make_token(page["LastEvaluatedKey"]))
    except (ValueError, TypeError, AttributeError):
        print(f"products: Scan on table {TABLE_NAME}: the answer holds a malformed item or key",
              file=sys.stderr)
        raise ApiError(500, "InternalError", "the table holds a malformed item") from None
    return answer(200, body + "}")


def get_product(product_id):
    """GET /products/{id}"""
    try:
        item = dynamodb.get_item(TableName=TABLE_NAME, Key={"id": {"S": product_id}},
                                 ConsistentRead=True).get("Item")
    except (ClientError, BotoCoreError) as e:
        raise failed("GetItem", e) from None
    if item is None:
        raise ApiError(404, "NotFound", f"no product with id {product_id}")
    try:
        return answer(200, product_json(item))
    except (ValueError, TypeError, AttributeError):
        print(f"products: GetItem on table {TABLE_NAME}: item {product_id} is not a DynamoDB item",
              file=sys.stderr)
        raise ApiError(500, "InternalError", f"the stored item {product_id} is malformed") from None


def delete_product(product_id):
    """DELETE /products/{id}"""
    try:
        old = dynamodb.delete_item(TableName=TABLE_NAME, Key={"id": {"S": product_id}},
                                   ReturnValues="ALL_OLD").get("Attributes")
    except (ClientError, BotoCoreError) as e:
        raise failed("DeleteItem", e) from None
    if old is None:
        raise ApiError(404, "NotFound", f"no product with id {product_id}")
    return answer(200, to_json({"message": "Product deleted", "id": product_id}))


def not_allowed(request, allow):
    """405 with Allow, or 204 for OPTIONS."""
    if request.method == "OPTIONS":
        return answer(204, "", allow)
    raise ApiError(405, "MethodNotAllowed",
                   f"{cut(request.method, 16)} is not allowed here; use {allow}", allow)


def route(request):
    """The answer to the request."""
    path, method = request.path, request.method
    if path in ("/products", "/products/"):
        if method == "GET":
            return list_products(request)
        if method == "POST":
            return create(request)
        return not_allowed(request, "GET, POST, OPTIONS")
    if path.startswith("/products/") and "/" not in path[len("/products/"):]:
        if method not in ("GET", "DELETE"):
            return not_allowed(request, "GET, DELETE, OPTIONS")
        product_id = unquote_plus(path[len("/products/"):])
        if not valid_id(product_id):
            raise ApiError(400, "InvalidId", "the id must be " + ID_RULE)
        return get_product(product_id) if method == "GET" else delete_product(product_id)
    raise ApiError(404, "NotFound", f"no route for {cut(method, 16)} {cut(path, 200)}")


def handler(event, context):
    """The Lambda handler: an API Gateway event in, a proxy result out."""
    try:
        return route(Request(event))
    except ApiError as e:
        return answer(e.status, to_json({"error": e.code, "message": e.message}), e.allow)
