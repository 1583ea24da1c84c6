/*
 * The products API's handler (function/products/), in process.
 *
 * Always: exact decimals (DynamoDB's canonical form, ranges, precision,
 * both grammars), POST bodies and their errors, the raw-member scanner,
 * items as product JSON, paging tokens, the routes and errors that need
 * no table (404, 405 with Allow, OPTIONS, 413, 415, 400s), the Lambda
 * event shapes (payload 1.0 and 2.0 with a named stage, base64 bodies, a
 * direct invocation), and a DynamoDB that does not answer (503, logged).
 *
 * With NERD_DDB_ENDPOINT (a DynamoDB endpoint URL: AWS's DynamoDB Local
 * or the platform's service; tests/function/test_products.sh sets it): a
 * table of its own (created here, deleted at the end) and the API over it
 * end to end — create (201, exact prices, generated ids), get, 404, 409
 * on an existing id, list in pages of 2 (every product exactly once,
 * tokens round-trip), a token that does not fit the table (400), delete
 * and delete again (404), items other tools wrote (extra attributes,
 * every type), the same requests as payload 1.0 and 2.0 events, and a
 * missing table (500, logged).
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "products.h"
#include "products_int.h"

/* ---- pure parts ------------------------------------------------------------------ */

static void test_decimal(void)
{
    static const struct { const char *in; int json; int rc; const char *out; int neg; } t[] = {
        {"12.50", 1, 0, "12.5", 0},          {"0012.3400", 0, 0, "12.34", 0},
        {"-0", 1, 0, "0", 0},                {"-0.0", 1, 0, "0", 0},
        {"+3", 0, 0, "3", 0},                {"5.", 0, 0, "5", 0},
        {".5", 0, 0, "0.5", 0},              {"1.0", 1, 0, "1", 0},
        {"1E-2", 1, 0, "0.01", 0},           {"-1E+2", 1, 0, "-100", 1},
        {"1e+5", 1, 0, "100000", 0},         {"1e3", 1, 0, "1000", 0},
        {"0", 1, 0, "0", 0},                 {"0e999999999999", 1, 0, "0", 0},
        {"19.99", 1, 0, "19.99", 0},         {"0.1", 1, 0, "0.1", 0},
        {"100", 1, 0, "100", 0},             {"1200", 1, 0, "1200", 0},
        {"12345678901234567890123456789012345678", 1, 0, "12345678901234567890123456789012345678", 0},
        {"123456789012345678901234567890123456789", 1, PROD__NUM_PRECISION, "", 0},
        {"1234567890123456789012345678901234567800000", 1, 0, "1234567890123456789012345678901234567800000", 0},
        {"-12345678901234567890123456789012345678E+20", 1, 0,
         "-1234567890123456789012345678901234567800000000000000000000", 1},
        {"0.000000000000000000000000000000000000000012345678901234567890123456789012345678", 1, 0,
         "0.000000000000000000000000000000000000000012345678901234567890123456789012345678", 0},
        {"9.9999999999999999999999999999999999999E+125", 1, 0,
         "999999999999999999999999999999999999990000000000000000000000000000000000000000000000000"
         "000000000000000000000000000000000000000", 0},
        {"1E126", 1, PROD__NUM_OVERFLOW, "", 0},
        {"1E-130", 1, 0, "0.000000000000000000000000000000000000000000000000000000000000000000000"
                         "0000000000000000000000000000000000000000000000000000000000001", 0},
        {"1E-131", 1, PROD__NUM_UNDERFLOW, "", 0},
        {"10E-131", 1, 0, "0.00000000000000000000000000000000000000000000000000000000000000000000"
                          "00000000000000000000000000000000000000000000000000000000000001", 0},
        {"", 1, PROD__NUM_SYNTAX, "", 0},      {" 1", 0, PROD__NUM_SYNTAX, "", 0},
        {"1 ", 0, PROD__NUM_SYNTAX, "", 0},    {"NaN", 0, PROD__NUM_SYNTAX, "", 0},
        {"Infinity", 0, PROD__NUM_SYNTAX, "", 0}, {"0x10", 0, PROD__NUM_SYNTAX, "", 0},
        {"1e", 0, PROD__NUM_SYNTAX, "", 0},    {"--1", 0, PROD__NUM_SYNTAX, "", 0},
        {"+3", 1, PROD__NUM_SYNTAX, "", 0},    {".5", 1, PROD__NUM_SYNTAX, "", 0},
        {"5.", 1, PROD__NUM_SYNTAX, "", 0},    {"01", 1, PROD__NUM_SYNTAX, "", 0},
        {"-", 1, PROD__NUM_SYNTAX, "", 0},     {".", 0, PROD__NUM_SYNTAX, "", 0},
        {"1e+", 1, PROD__NUM_SYNTAX, "", 0},   {"1.5e-3", 1, 0, "0.0015", 0},
        {"1E125", 1, 0, "1000000000000000000000000000000000000000000000000000000000000000000000000"
                        "00000000000000000000000000000000000000000000000000000", 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        char out[PROD__NUM_CAP];
        int neg = -1;
        int rc = prod__decimal(t[i].in, strlen(t[i].in), t[i].json, out, sizeof out, &neg);
        CHECK(rc == t[i].rc && !strcmp(out, t[i].out) && (rc || neg == t[i].neg),
              "decimal %s (%s grammar): %d '%s' neg %d", t[i].in, t[i].json ? "JSON" : "N", rc, out,
              neg);
    }
    char small[4];
    CHECK(prod__decimal("12345", 5, 1, small, sizeof small, NULL) != 0, "cap respected");
}

static void test_body(void)
{
    static const struct { const char *body; int st; const char *err, *msg; const char *id, *name, *price; } t[] = {
        {"{\"name\":\"Coffee mug\",\"price\":12.50}", 0, 0, 0, "", "Coffee mug", "12.5"},
        {"{\"id\":\"p-001\",\"name\":\"Tea pot\",\"price\":30}", 0, 0, 0, "p-001", "Tea pot", "30"},
        {" {\"price\" : 1e2 , \"name\":\"x\"} ", 0, 0, 0, "", "x", "100"},
        {"{\"name\":\"big\",\"price\":123456789012345678901234567890.12345678}", 0, 0, 0, "", "big",
         "123456789012345678901234567890.12345678"},
        {"{\"name\":\"esc\",\"pr\\u0069ce\":0.10}", 0, 0, 0, "", "esc", "0.1"},
        {"{\"name\":\"Zo\\u00eb \\\"q\\\"\",\"price\":0}", 0, 0, 0, "", "Zo\xc3\xab \"q\"", "0"},
        {"{\"name\":\"x\",\"price\":-0}", 0, 0, 0, "", "x", "0"},
        {"{bad", 400, "InvalidJSON", "the body is not valid JSON", 0, 0, 0},
        {"", 400, "InvalidJSON", "the body is not valid JSON", 0, 0, 0},
        {"[1]", 400, "InvalidRequest", "the body must be a JSON object", 0, 0, 0},
        {"{\"name\":\"x\",\"price\":1,\"name\":\"y\"}", 400, "InvalidJSON", "duplicate", 0, 0, 0},
        {"{\"price\":1}", 400, "InvalidProduct", "the product has no \"name\"", 0, 0, 0},
        {"{\"name\":\"x\"}", 400, "InvalidProduct", "the product has no \"price\"", 0, 0, 0},
        {"{\"name\":\"\",\"price\":1}", 400, "InvalidProduct", "\"name\" must be a non-empty string", 0, 0, 0},
        {"{\"name\":7,\"price\":1}", 400, "InvalidProduct", "\"name\" must be a non-empty string", 0, 0, 0},
        {"{\"name\":\"x\",\"price\":\"12.5\"}", 400, "InvalidProduct", "\"price\" must be a number", 0, 0, 0},
        {"{\"name\":\"x\",\"price\":null}", 400, "InvalidProduct", "\"price\" must be a number", 0, 0, 0},
        {"{\"name\":\"x\",\"price\":-1.5}", 400, "InvalidProduct", "\"price\" must not be negative", 0, 0, 0},
        {"{\"name\":\"x\",\"price\":1.23456789012345678901234567890123456789}", 400, "InvalidProduct",
         "more than 38 significant digits", 0, 0, 0},
        {"{\"name\":\"x\",\"price\":1e126}", 400, "InvalidProduct", "out of DynamoDB's range", 0, 0, 0},
        {"{\"name\":\"x\",\"price\":1e-131}", 400, "InvalidProduct", "out of DynamoDB's range", 0, 0, 0},
        {"{\"name\":\"x\",\"price\":1,\"colour\":\"red\"}", 400, "InvalidProduct", "unknown field \"colour\"", 0, 0, 0},
        {"{\"id\":\"a/b\",\"name\":\"x\",\"price\":1}", 400, "InvalidId", "id must be", 0, 0, 0},
        {"{\"id\":\"..\",\"name\":\"x\",\"price\":1}", 400, "InvalidId", "id must be", 0, 0, 0},
        {"{\"id\":\"\",\"name\":\"x\",\"price\":1}", 400, "InvalidId", "id must be", 0, 0, 0},
        {"{\"id\":5,\"name\":\"x\",\"price\":1}", 400, "InvalidId", "id must be", 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        prod__product p;
        json_t *doc = NULL;
        const char *err = "";
        char msg[512] = "";
        int st = prod__parse_body(t[i].body, strlen(t[i].body), &doc, &p, &err, msg, sizeof msg);
        CHECK(st == t[i].st, "body %s: status %d (%s %s)", t[i].body, st, err, msg);
        if (!st && !t[i].st) {
            CHECK(!strcmp(p.id, t[i].id) && p.name_len == strlen(t[i].name) &&
                      !memcmp(p.name, t[i].name, p.name_len) && !strcmp(p.price, t[i].price),
                  "body %s: id '%s' name '%.*s' price %s", t[i].body, p.id, (int)p.name_len, p.name,
                  p.price);
        } else if (st) {
            CHECK(!doc && !strcmp(err, t[i].err) && strstr(msg, t[i].msg), "body %s: %s %s",
                  t[i].body, err, msg);
        }
        json_decref(doc);
    }
    char name[1100];
    memset(name, 'n', sizeof name);
    char body[1200];
    int n = snprintf(body, sizeof body, "{\"name\":\"%.1024s\",\"price\":1}", name);
    prod__product p;
    json_t *doc;
    const char *err;
    char msg[512];
    CHECK(prod__parse_body(body, (size_t)n, &doc, &p, &err, msg, sizeof msg) == 0, "1024-byte name");
    json_decref(doc);
    n = snprintf(body, sizeof body, "{\"name\":\"%.1025s\",\"price\":1}", name);
    CHECK(prod__parse_body(body, (size_t)n, &doc, &p, &err, msg, sizeof msg) == 400, "1025-byte name");
    char id[140];
    memset(id, 'a', sizeof id);
    CHECK(prod__valid_id(id, 128) && !prod__valid_id(id, 129) && prod__valid_id("A-z_0.9~", 8) &&
              !prod__valid_id("a b", 3) && !prod__valid_id(".", 1) && prod__valid_id("...", 3),
          "ids");
}

static void test_raw_member(void)
{
    const char *v;
    size_t n;
    const char *s = "{\"a\":{\"price\":1,\"x\":[1,{\"price\":2}]},\"price\" : 3.50 ,\"z\":\"}\"}";
    CHECK(!prod__raw_member(s, strlen(s), "price", &v, &n) && n == 4 && !memcmp(v, "3.50", 4),
          "top level only: %.*s", (int)n, v);
    CHECK(prod__raw_member(s, strlen(s), "nope", &v, &n) == -1, "absent");
    CHECK(prod__raw_member("{\"price\":1", 10, "price", &v, &n) == -1, "unterminated");
    CHECK(prod__raw_member("[]", 2, "price", &v, &n) == -1 && prod__raw_member("{}", 2, "x", &v, &n) == -1,
          "not an object, empty");
    s = "{\"pr\\u0069ce\":7,\"p\\\"rice\":8}";
    CHECK(!prod__raw_member(s, strlen(s), "price", &v, &n) && n == 1 && *v == '7', "escaped key");
}

/* prod__item_json of the DynamoDB JSON item; "" when it fails. */
static const char *item(const char *ddb)
{
    static fh_buf b;
    json_error_t je;
    json_t *j = json_loads(ddb, 0, &je);
    fh_buf_reset(&b);
    int rc = prod__item_json(&b, j);
    json_decref(j);
    return rc ? "" : b.p ? b.p : "";
}

static void test_items(void)
{
    CHECK(!strcmp(item("{\"price\":{\"N\":\"12.50\"},\"name\":{\"S\":\"Coffee mug\"},\"id\":{\"S\":\"p-001\"}}"),
                  "{\"id\":\"p-001\",\"name\":\"Coffee mug\",\"price\":12.5}"), "product order: %s",
          item("{\"price\":{\"N\":\"12.50\"},\"name\":{\"S\":\"Coffee mug\"},\"id\":{\"S\":\"p-001\"}}"));
    const char *all = "{\"zeta\":{\"NULL\":true},\"id\":{\"S\":\"p\"},\"tags\":{\"SS\":[\"a\",\"b\\\"\"]},"
                      "\"stock\":{\"N\":\"+5.\"},\"ok\":{\"BOOL\":false},\"bin\":{\"B\":\"AAEC\"},"
                      "\"dims\":{\"M\":{\"w\":{\"N\":\"1e1\"},\"d\":{\"L\":[{\"S\":\"x\"},{\"NS\":[\"1\",\"2.0\"]}]}}},"
                      "\"odd\":{\"N\":\"not a number\"},\"bs\":{\"BS\":[\"AQI=\"]},\"empty\":{\"M\":{}}}";
    CHECK(!strcmp(item(all), "{\"id\":\"p\",\"bin\":\"AAEC\",\"bs\":[\"AQI=\"],\"dims\":{\"d\":[\"x\",[1,2]],\"w\":10},"
                             "\"empty\":{},\"odd\":\"not a number\",\"ok\":false,\"stock\":5,"
                             "\"tags\":[\"a\",\"b\\\"\"],\"zeta\":null}"), "every type: %s", item(all));
    CHECK(!strcmp(item("{}"), "{}"), "empty item");
    static const char *const bad[] = {"[]", "{\"a\":{}}", "{\"a\":{\"S\":1}}", "{\"a\":{\"S\":\"x\",\"N\":\"1\"}}",
                                      "{\"a\":{\"X\":\"1\"}}", "{\"a\":{\"BOOL\":1}}", "{\"a\":{\"L\":{}}}",
                                      "{\"a\":{\"SS\":[1]}}", "{\"a\":{\"M\":[]}}", NULL};
    for (size_t i = 0; bad[i]; i++)
        CHECK(!strcmp(item(bad[i]), ""), "malformed item %s: %s", bad[i], item(bad[i]));
    /* nesting: 32 levels of M are fine, 33 are not */
    char deep[2048] = "", tail[512] = "";
    for (int d = 0; d < 33; d++) {
        strcat(deep, "{\"m\":{\"M\":");
        strcat(tail, "}}");
    }
    char doc[2600];
    snprintf(doc, sizeof doc, "%s{}%s", deep + 10 * 2, tail + 4); /* 31 M levels */
    CHECK(strcmp(item(doc), ""), "31 levels");
    snprintf(doc, sizeof doc, "%s{}%s", deep, tail);
    CHECK(!strcmp(item(doc), ""), "33 levels refused");
}

static void test_tokens(void)
{
    fh_buf b = {0};
    json_error_t je;
    json_t *k = json_loads("{\"id\":{\"S\":\"p-00\\u00e9/+?&=\"}}", 0, &je);
    CHECK(!prod__token_put(&b, k), "token_put");
    int safe = b.len > 0;
    for (size_t i = 0; i < b.len; i++)
        safe &= (b.p[i] >= 'A' && b.p[i] <= 'Z') || (b.p[i] >= 'a' && b.p[i] <= 'z') ||
                (b.p[i] >= '0' && b.p[i] <= '9') || b.p[i] == '-' || b.p[i] == '_';
    CHECK(safe, "URL-safe token: %s", b.p);
    json_t *back = prod__token_get(b.p, b.len);
    CHECK(back && json_equal(back, k), "round trip");
    json_decref(back);
    json_decref(k);
    static const char *const badk[] = {"{}", "{\"a\":{\"S\":\"1\"},\"b\":{\"S\":\"2\"},\"c\":{\"S\":\"3\"}}",
                                       "{\"a\":{\"BOOL\":true}}", "{\"a\":{\"S\":1}}", "[1]",
                                       "{\"a\":{\"S\":\"1\",\"N\":\"1\"}}", "{\"\":{\"S\":\"x\"}}", NULL};
    for (size_t i = 0; badk[i]; i++) {
        json_t *j = json_loads(badk[i], JSON_DECODE_ANY, &je);
        fh_buf_reset(&b);
        if (json_is_object(j))
            prod__token_put(&b, j);
        else
            fh_puts(&b, "WzFd");
        json_t *g = prod__token_get(b.p, b.len);
        CHECK(!g, "token of %s refused", badk[i]);
        json_decref(g);
        json_decref(j);
    }
    CHECK(!prod__token_get("", 0) && !prod__token_get("abc+", 4) && !prod__token_get("e30=", 4) &&
              !prod__token_get("!!!!", 4), "bad alphabets and empty");
    char big[PROD__TOKEN_CAP + 2];
    memset(big, 'A', sizeof big);
    CHECK(!prod__token_get(big, sizeof big), "too long");
    CHECK(prod__token_put(&b, NULL) == -1, "not an object");
    fh_buf_free(&b);
}

/* ---- requests ----------------------------------------------------------------------- */

static prod *P;

typedef struct answer_ {
    int status;
    char body[65536];
    const char *allow;
} answer_;

/* One request through prod_http; a copy of the answer in a. */
static void req(const char *method, const char *path, const char *query, const char *ct,
                const char *body, answer_ *a)
{
    fh_event e = {.method = method, .method_len = strlen(method), .path = path,
                  .path_len = strlen(path), .query = query, .query_len = query ? strlen(query) : 0,
                  .content_type = ct, .ct_len = ct ? strlen(ct) : 0, .body = body,
                  .body_len = body ? strlen(body) : 0};
    fh_response r;
    prod_http(P, &e, &r);
    a->status = r.status;
    a->allow = r.allow;
    snprintf(a->body, sizeof a->body, "%.*s", (int)r.body_len, r.body ? r.body : "");
    CHECK(r.status < 400 || (r.content_type && !strcmp(r.content_type, "application/json") &&
                             strstr(a->body, "{\"error\":\"") == a->body),
          "%s %s: error without the JSON error body: %s", method, path, a->body);
}

static const char JSON[] = "application/json";

static void test_routes_offline(void)
{
    answer_ a;
    req("GET", "/nope", NULL, NULL, NULL, &a);
    CHECK(a.status == 404 && !strcmp(a.body, "{\"error\":\"NotFound\",\"message\":\"no route for GET /nope\"}"),
          "404: %s", a.body);
    req("GET", "/products/a/b", NULL, NULL, NULL, &a);
    CHECK(a.status == 404, "deeper path: %d", a.status);
    req("PUT", "/products", NULL, JSON, "{}", &a);
    CHECK(a.status == 405 && a.allow && !strcmp(a.allow, "GET, POST, OPTIONS") &&
              !strcmp(a.body, "{\"error\":\"MethodNotAllowed\",\"message\":\"PUT is not allowed here; use GET, POST, OPTIONS\"}"),
          "405 collection: %s", a.body);
    req("PATCH", "/products/p1", NULL, NULL, NULL, &a);
    CHECK(a.status == 405 && a.allow && !strcmp(a.allow, "GET, DELETE, OPTIONS"), "405 item");
    req("OPTIONS", "/products", NULL, NULL, NULL, &a);
    CHECK(a.status == 204 && a.allow && !strcmp(a.allow, "GET, POST, OPTIONS") && !a.body[0], "OPTIONS");
    req("POST", "/products", NULL, "text/plain", "{\"name\":\"x\",\"price\":1}", &a);
    CHECK(a.status == 415 && strstr(a.body, "\"UnsupportedMediaType\"") && strstr(a.body, "not text/plain"),
          "415: %s", a.body);
    char *big = malloc(PROD_MAX_BODY + 2);
    memset(big, ' ', PROD_MAX_BODY + 1);
    big[PROD_MAX_BODY + 1] = 0;
    req("POST", "/products", NULL, JSON, big, &a);
    CHECK(a.status == 413 && strstr(a.body, "\"PayloadTooLarge\"") &&
              strstr(a.body, "the body is 65537 bytes; the limit is 65536 bytes"), "413: %s", a.body);
    free(big);
    req("POST", "/products", NULL, "application/json; charset=utf-8", "{\"name\":1}", &a);
    CHECK(a.status == 400 && strstr(a.body, "\"InvalidProduct\""), "400 product: %s", a.body);
    req("POST", "/products", NULL, NULL, "{\"name\":", &a);
    CHECK(a.status == 400 && strstr(a.body, "\"InvalidJSON\""), "400 JSON (no content type): %s", a.body);
    req("GET", "/products/a%20b", NULL, NULL, NULL, &a);
    CHECK(a.status == 400 && strstr(a.body, "\"InvalidId\""), "400 id: %s", a.body);
    req("DELETE", "/products/..", NULL, NULL, NULL, &a);
    CHECK(a.status == 400 && strstr(a.body, "\"InvalidId\""), "400 id ..: %s", a.body);
    static const char *const limits[] = {"limit=0", "limit=101", "limit=abc", "limit=", "limit=1000",
                                         "limit=-1", "limit=%31%30%31", NULL};
    for (size_t i = 0; limits[i]; i++) {
        req("GET", "/products", limits[i], NULL, NULL, &a);
        CHECK(a.status == 400 && !strcmp(a.body, "{\"error\":\"InvalidRequest\",\"message\":\"limit must be a whole number from 1 to 100\"}"),
              "%s: %s", limits[i], a.body);
    }
    req("GET", "/products", "next=notatoken", NULL, NULL, &a);
    CHECK(a.status == 400 && !strcmp(a.body, "{\"error\":\"InvalidToken\",\"message\":\"next is not a token this API gave\"}"),
          "bad token: %s", a.body);
    req("GET", "/products", "next=", NULL, NULL, &a);
    CHECK(a.status == 400 && strstr(a.body, "InvalidToken"), "empty token");
}

/* The proxy result of prod_lambda for event: its status and body. */
static int lambda(const char *event, char *body, size_t cap)
{
    const char *out;
    size_t n;
    CHECK(prod_lambda(P, event, strlen(event), &out, &n) == PROD_OK, "prod_lambda");
    json_error_t je;
    json_t *r = json_loadb(out, n, 0, &je);
    CHECK(json_is_object(r) && json_is_string(json_object_get(json_object_get(r, "headers"), "content-type")) &&
              json_is_false(json_object_get(r, "isBase64Encoded")), "result shape: %.200s", out);
    snprintf(body, cap, "%s", json_string_value(json_object_get(r, "body")) ?
             json_string_value(json_object_get(r, "body")) : "");
    int st = (int)json_integer_value(json_object_get(r, "statusCode"));
    json_decref(r);
    return st;
}

static void test_events_offline(void)
{
    char b[4096];
    CHECK(lambda("{\"text\":\"hi\"}", b, sizeof b) == 400 && strstr(b, "not an API Gateway event"),
          "direct invocation: %s", b);
    CHECK(lambda("{nope", b, sizeof b) == 400 && strstr(b, "InvalidJSON"), "bad event");
    CHECK(lambda("{\"resource\":\"/products\",\"path\":\"/products\",\"httpMethod\":\"PUT\","
                 "\"requestContext\":{\"stage\":\"Prod\"},\"body\":null}", b, sizeof b) == 405,
          "1.0 PUT: %s", b);
    CHECK(lambda("{\"version\":\"2.0\",\"rawPath\":\"/Prod/products\",\"rawQueryString\":\"limit=0\","
                 "\"requestContext\":{\"stage\":\"Prod\",\"http\":{\"method\":\"GET\"}}}", b, sizeof b) == 400 &&
              strstr(b, "limit must be"), "2.0 with a named stage and its query: %s", b);
    CHECK(lambda("{\"resource\":\"/products\",\"path\":\"/products\",\"httpMethod\":\"GET\","
                 "\"queryStringParameters\":{\"limit\":\"500\"},\"requestContext\":{}}", b, sizeof b) == 400 &&
              strstr(b, "limit must be"), "1.0 query parameters: %s", b);
    CHECK(lambda("{\"resource\":\"/products\",\"path\":\"/products\",\"httpMethod\":\"POST\","
                 "\"headers\":{\"Content-Type\":\"application/json\"},\"isBase64Encoded\":true,"
                 "\"body\":\"eyJuYW1lIjoxfQ==\",\"requestContext\":{}}", b, sizeof b) == 400 &&
              strstr(b, "\\\"name\\\" must be a non-empty string") && strstr(b, "InvalidProduct"),
          "1.0 base64 body {\"name\":1}: %s", b);
    CHECK(lambda("{\"resource\":\"/products\",\"path\":\"/products\",\"httpMethod\":\"POST\","
                 "\"isBase64Encoded\":true,\"body\":\"!!\",\"requestContext\":{}}", b, sizeof b) == 400 &&
              strstr(b, "not valid base64"), "bad base64");
}

/* A DynamoDB that does not answer: 503 and a log line (see stderr). */
static void test_unreachable(void)
{
    char err[256];
    ddbc *db = NULL;
    ddbc_config cfg = {.endpoint = "http://127.0.0.1:1", .region = "us-east-1", .access_key = "a",
                       .secret_key = "b", .max_attempts = 2, .base_delay_ms = 1, .max_delay_ms = 2};
    CHECK(ddbc_new(&cfg, &db, err, sizeof err) == DDBC_OK, "%s", err);
    prod *saved = P;
    CHECK(prod_new("Products", db, &P, err, sizeof err) == PROD_OK, "%s", err);
    answer_ a;
    req("GET", "/products/p1", NULL, NULL, NULL, &a);
    CHECK(a.status == 503 && strstr(a.body, "\"ServiceUnavailable\"") && strstr(a.body, "no answer from DynamoDB"),
          "unreachable: %d %s", a.status, a.body);
    prod_free(P);
    P = saved;
    ddbc_free(db);
    prod *x = NULL;
    CHECK(prod_new("ab", NULL, &x, err, sizeof err) == PROD_ECONFIG && !x && strstr(err, "'ab'"),
          "short table name: %s", err);
    CHECK(prod_new("a b c", NULL, &x, err, sizeof err) == PROD_ECONFIG, "table name with spaces");
    prod_free(NULL);
}

/* ---- against a DynamoDB endpoint --------------------------------------------------------- */

static ddbc *DB;
static char TABLE[64];

/* A raw DynamoDB call that must succeed. */
static void ddb(const char *op, const char *body)
{
    ddbc_result r;
    ddbc_err e = ddbc_call(DB, op, body, strlen(body), &r);
    CHECK(e == DDBC_OK, "%s: %s %s %s", op, ddbc_strerror(e), r.code, r.message);
}

/* Every page of GET /products?limit=N: each product's id counted in seen
 * (ids: the ones of interest, n of them); returns the number of pages. */
static int list_all(int limit, const char *const *ids, int *seen, size_t n, int *total)
{
    char q[PROD__TOKEN_CAP + 32];
    char next[PROD__TOKEN_CAP + 1] = "";
    int pages = 0;
    *total = 0;
    memset(seen, 0, sizeof *seen * n);
    for (;;) {
        snprintf(q, sizeof q, "limit=%d%s%s", limit, next[0] ? "&next=" : "", next);
        answer_ a;
        req("GET", "/products", q, NULL, NULL, &a);
        CHECK(a.status == 200, "page %d: %s", pages, a.body);
        if (a.status != 200 || pages > 100)
            return -1;
        pages++;
        json_error_t je;
        json_t *j = json_loads(a.body, 0, &je), *ps = json_object_get(j, "products"), *p;
        size_t i;
        CHECK(json_array_size(ps) <= (size_t)limit, "page over its limit");
        json_array_foreach(ps, i, p) {
            (*total)++;
            for (size_t k = 0; k < n; k++)
                if (!strcmp(json_string_value(json_object_get(p, "id")), ids[k]))
                    seen[k]++;
        }
        const char *nx = json_string_value(json_object_get(j, "next"));
        snprintf(next, sizeof next, "%s", nx ? nx : "");
        CHECK(json_object_size(j) == (nx ? 2u : 1u), "page members: %s", a.body);
        json_decref(j);
        if (!nx)
            return pages;
    }
}

static void test_online(const char *endpoint)
{
    char err[256], body[1024];
    ddbc_config cfg = {.endpoint = endpoint, .region = "us-east-1", .access_key = "local",
                       .secret_key = "local", .session_token = "local"};
    CHECK(ddbc_new(&cfg, &DB, err, sizeof err) == DDBC_OK, "client: %s", err);
    snprintf(TABLE, sizeof TABLE, "products-test-%d", (int)getpid());
    snprintf(body, sizeof body,
             "{\"TableName\":\"%s\",\"AttributeDefinitions\":[{\"AttributeName\":\"id\",\"AttributeType\":\"S\"}],"
             "\"KeySchema\":[{\"AttributeName\":\"id\",\"KeyType\":\"HASH\"}],\"BillingMode\":\"PAY_PER_REQUEST\"}",
             TABLE);
    ddb("CreateTable", body);
    prod *saved = P;
    CHECK(prod_new(TABLE, DB, &P, err, sizeof err) == PROD_OK, "%s", err);
    answer_ a;

    /* create, get, 404, 409 */
    req("POST", "/products", NULL, JSON, "{\"id\":\"p-001\",\"name\":\"Coffee mug\",\"price\":12.50}", &a);
    CHECK(a.status == 201 && !strcmp(a.body, "{\"id\":\"p-001\",\"name\":\"Coffee mug\",\"price\":12.5}"),
          "create: %d %s", a.status, a.body);
    req("GET", "/products/p-001", NULL, NULL, NULL, &a);
    CHECK(a.status == 200 && !strcmp(a.body, "{\"id\":\"p-001\",\"name\":\"Coffee mug\",\"price\":12.5}"),
          "get: %d %s", a.status, a.body);
    req("POST", "/products", NULL, JSON, "{\"id\":\"p-001\",\"name\":\"Other\",\"price\":1}", &a);
    CHECK(a.status == 409 && !strcmp(a.body, "{\"error\":\"Conflict\",\"message\":\"a product with id p-001 exists\"}"),
          "409: %s", a.body);
    req("GET", "/products/p-001", NULL, NULL, NULL, &a);
    CHECK(a.status == 200 && strstr(a.body, "Coffee mug"), "not overwritten: %s", a.body);
    req("GET", "/products/p-404", NULL, NULL, NULL, &a);
    CHECK(a.status == 404 && !strcmp(a.body, "{\"error\":\"NotFound\",\"message\":\"no product with id p-404\"}"),
          "404: %s", a.body);

    /* exact prices, generated ids */
    static const struct { const char *sent, *kept; } prices[] = {
        {"19.99", "19.99"}, {"0.1", "0.1"}, {"1e2", "100"}, {"0", "0"}, {"0.000001", "0.000001"},
        {"123456789012345678901234567890.12345678", "123456789012345678901234567890.12345678"},
        {"9007199254740993", "9007199254740993"}, {"1E-130", NULL}, {"42.4200", "42.42"}};
    char ids[16][40];
    const char *idp[16];
    size_t nid = 0;
    for (size_t i = 0; i < sizeof prices / sizeof *prices; i++) {
        snprintf(body, sizeof body, "{\"name\":\"Item %zu \\u00e9\",\"price\":%s}", i, prices[i].sent);
        req("POST", "/products", NULL, JSON, body, &a);
        json_error_t je;
        json_t *j = json_loads(a.body, 0, &je);
        const char *id = json_string_value(json_object_get(j, "id"));
        CHECK(a.status == 201 && id && strlen(id) == 36 && id[14] == '4', "generated id: %s", a.body);
        snprintf(ids[nid], sizeof ids[nid], "%s", id ? id : "?");
        idp[nid] = ids[nid];
        nid++;
        json_decref(j);
        char path[80];
        snprintf(path, sizeof path, "/products/%s", ids[nid - 1]);
        req("GET", path, NULL, NULL, NULL, &a);
        char want[400];
        if (prices[i].kept) {
            snprintf(want, sizeof want, "\"name\":\"Item %zu \xc3\xa9\",\"price\":%s}", i, prices[i].kept);
            CHECK(a.status == 200 && strstr(a.body, want), "price %s kept as %s: %s", prices[i].sent,
                  prices[i].kept, a.body);
        } else {
            CHECK(a.status == 200 && strstr(a.body, "\"price\":0.0000000000") && strstr(a.body, "0001}"),
                  "1E-130: %s", a.body);
        }
    }
    idp[nid++] = "p-001";

    /* more products, then pages of 2 */
    for (int i = 0; i < 4; i++) {
        snprintf(ids[nid], sizeof ids[nid], "q-%d", i);
        snprintf(body, sizeof body, "{\"id\":\"q-%d\",\"name\":\"Q\",\"price\":%d.25}", i, i);
        req("POST", "/products", NULL, JSON, body, &a);
        CHECK(a.status == 201, "q-%d: %s", i, a.body);
        idp[nid] = ids[nid];
        nid++;
    }
    int seen[16], total = 0;
    int pages = list_all(2, idp, seen, nid, &total);
    CHECK(pages >= (int)(nid + 1) / 2 && total == (int)nid, "pages of 2: %d pages, %d products (%zu made)",
          pages, total, nid);
    for (size_t k = 0; k < nid; k++)
        CHECK(seen[k] == 1, "%s seen %d times", idp[k], seen[k]);
    pages = list_all(100, idp, seen, nid, &total);
    CHECK(pages == 1 && total == (int)nid, "one page of 100: %d pages, %d products", pages, total);
    req("GET", "/products", NULL, NULL, NULL, &a);
    CHECK(a.status == 200 && !strstr(a.body, "\"next\""), "default limit 20 > %zu: one page", nid);

    /* a token of another key schema */
    fh_buf tb = {0};
    json_error_t je;
    json_t *k = json_loads("{\"sku\":{\"S\":\"x\"}}", 0, &je);
    prod__token_put(&tb, k);
    char q[256];
    snprintf(q, sizeof q, "next=%s", tb.p);
    req("GET", "/products", q, NULL, NULL, &a);
    CHECK(a.status == 400 && strstr(a.body, "\"InvalidToken\"") && strstr(a.body, "does not fit"),
          "token of another key: %s", a.body);
    json_decref(k);
    fh_buf_free(&tb);

    /* delete, delete again, get */
    req("DELETE", "/products/q-0", NULL, NULL, NULL, &a);
    CHECK(a.status == 200 && !strcmp(a.body, "{\"message\":\"Product deleted\",\"id\":\"q-0\"}"), "delete: %s", a.body);
    req("DELETE", "/products/q-0", NULL, NULL, NULL, &a);
    CHECK(a.status == 404 && strstr(a.body, "no product with id q-0"), "delete again: %s", a.body);
    req("GET", "/products/q-0", NULL, NULL, NULL, &a);
    CHECK(a.status == 404, "get after delete: %s", a.body);

    /* an item another tool wrote */
    snprintf(body, sizeof body,
             "{\"TableName\":\"%s\",\"Item\":{\"id\":{\"S\":\"w-1\"},\"price\":{\"N\":\"5\"},"
             "\"name\":{\"S\":\"Kettle\"},\"stock\":{\"N\":\"3\"},\"tags\":{\"SS\":[\"b\",\"a\"]},"
             "\"meta\":{\"M\":{\"new\":{\"BOOL\":true},\"dims\":{\"L\":[{\"N\":\"1.50\"},{\"NULL\":true}]}}}}}",
             TABLE);
    ddb("PutItem", body);
    req("GET", "/products/w-1", NULL, NULL, NULL, &a);
    CHECK(a.status == 200 && strstr(a.body, "{\"id\":\"w-1\",\"name\":\"Kettle\",\"price\":5,"
                                            "\"meta\":{\"dims\":[1.5,null],\"new\":true},\"stock\":3,\"tags\":[") == a.body,
          "other attributes: %s", a.body);

    /* the same API through Lambda events */
    char b[4096];
    CHECK(lambda("{\"resource\":\"/products/{id}\",\"path\":\"/products/p-001\",\"httpMethod\":\"GET\","
                 "\"pathParameters\":{\"id\":\"p-001\"},\"requestContext\":{\"stage\":\"Prod\"}}", b, sizeof b) == 200 &&
              !strcmp(b, "{\"id\":\"p-001\",\"name\":\"Coffee mug\",\"price\":12.5}"), "1.0 GET: %s", b);
    CHECK(lambda("{\"version\":\"2.0\",\"rawPath\":\"/products\",\"rawQueryString\":\"\","
                 "\"headers\":{\"content-type\":\"application/json\"},\"body\":\"{\\\"id\\\":\\\"v2\\\",\\\"name\\\":\\\"Two\\\",\\\"price\\\":2.50}\","
                 "\"requestContext\":{\"stage\":\"$default\",\"http\":{\"method\":\"POST\"}}}", b, sizeof b) == 201 &&
              !strcmp(b, "{\"id\":\"v2\",\"name\":\"Two\",\"price\":2.5}"), "2.0 POST: %s", b);
    CHECK(lambda("{\"resource\":\"/products/{id}\",\"path\":\"/products/v2\",\"httpMethod\":\"DELETE\","
                 "\"requestContext\":{}}", b, sizeof b) == 200, "1.0 DELETE: %s", b);
    prod_free(P);

    /* a table that does not exist: 500, logged */
    CHECK(prod_new("no-such-table-here", DB, &P, err, sizeof err) == PROD_OK, "%s", err);
    req("GET", "/products/p-001", NULL, NULL, NULL, &a);
    CHECK(a.status == 500 && strstr(a.body, "\"InternalError\"") && strstr(a.body, "ResourceNotFoundException"),
          "missing table: %s", a.body);
    prod_free(P);
    P = saved;

    snprintf(body, sizeof body, "{\"TableName\":\"%s\"}", TABLE);
    ddb("DeleteTable", body);
    ddbc_free(DB);
}

int main(void)
{
    char err[256];
    ddbc *none = NULL;
    ddbc_config cfg = {.endpoint = "http://127.0.0.1:1", .region = "us-east-1", .access_key = "a",
                       .secret_key = "b", .max_attempts = 1};
    if (ddbc_new(&cfg, &none, err, sizeof err) || prod_new("Products", none, &P, err, sizeof err)) {
        fprintf(stderr, "test_products: %s\n", err);
        return 1;
    }
    test_decimal();
    test_body();
    test_raw_member();
    test_items();
    test_tokens();
    test_routes_offline();
    test_events_offline();
    test_unreachable();
    const char *ep = getenv("NERD_DDB_ENDPOINT");
    if (ep && *ep)
        test_online(ep);
    else
        printf("test_products: NERD_DDB_ENDPOINT not set: the DynamoDB part runs in "
               "tests/function/test_products.sh\n");
    prod_free(P);
    ddbc_free(none);
    return check_done("test_products");
}
