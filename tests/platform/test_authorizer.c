/* Lambda authorizers (platform/authorizer.h): identity source expressions
 * and configuration checks; the events sent to the function against the
 * captures of the spec (§3.1.2, §3.4) byte for byte; identity sources
 * (missing → 401 without invoking, ValidationExpression); the outcome
 * table of §3.1.6 and the HTTP API answers of §3.4 (status, exact body,
 * x-amzn-ErrorType); IAM policy matching (wildcards, Deny wins, a policy
 * for another method ARN); context type errors and what the integration
 * receives; the result cache (hit, expiry, another ARN, eviction, threads). */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authorizer.h"
#include "az_int.h"
#include "check.h"

/* ---- helpers ---- */

static az_authorizer *make(az_type type, const char *sources, int ttl, const char *regex)
{
    az_config c;
    memset(&c, 0, sizeof c);
    c.type = type;
    c.ttl_s = ttl;
    c.validation = regex;
    c.simple_responses = 0;
    if (sources && az_sources_parse(sources, &c))
        return NULL;
    az_authorizer *a = NULL;
    return az_new(&c, &a) ? NULL : a;
}

static az_result *parse(const az_authorizer *a, az_invoke how, const char *payload)
{
    az_result *r = NULL;
    az_parse(a, how, payload, payload ? strlen(payload) : 0, &r);
    return r;
}

/* The verdict of payload for arn, and its answer. */
static az_verdict verdict(const az_authorizer *a, az_invoke how, const char *payload,
                          const char *arn, az_answer *ans)
{
    az_result *r = parse(a, how, payload);
    if (!r)
        return (az_verdict)-1;
    az_verdict v = az_decide(r, arn);
    if (ans)
        az_answer_of(a, v, ans);
    az_result_free(r);
    return v;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 16);
    size_t n = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = 0;
    return buf;
}

/* Compares our event with a captured one: each top-level field (named in
 * the failure), then the whole compact text (key order included). */
static void same_as_capture(const char *ours, size_t len, const char *path)
{
    char *text = read_file(path);
    json_error_t e;
    json_t *want = text ? json_loads(text, 0, &e) : NULL;
    json_t *got = json_loadb(ours, len, 0, &e);
    CHECK(want && got, "%s: parse (%s)", path, e.text);
    if (want && got) {
        const char *k;
        json_t *v;
        json_object_foreach(want, k, v) {
            json_t *g = json_object_get(got, k);
            CHECK(g && json_equal(g, v), "%s: field %s differs", path, k);
            if (g && json_is_object(v) && !json_equal(g, v)) {
                const char *k2;
                json_t *v2;
                json_object_foreach(v, k2, v2)
                    CHECK(json_equal(json_object_get(g, k2), v2), "%s: field %s.%s differs", path,
                          k, k2);
            }
        }
        CHECK(json_object_size(got) == json_object_size(want), "%s: %zu fields, want %zu", path,
              json_object_size(got), json_object_size(want));
        char *w = json_dumps(want, JSON_COMPACT | JSON_PRESERVE_ORDER);
        CHECK(w && strlen(w) == len && !memcmp(w, ours, len), "%s: bytes differ:\n%s\n%.*s",
              path, w, (int)len, ours);
        free(w);
    }
    json_decref(want);
    json_decref(got);
    free(text);
}

#define KV(n, v) {n, sizeof n - 1, v, sizeof v - 1}

/* ---- identity source expressions, configuration ---- */

static void sources(void)
{
    az_source s;
    CHECK(az_source_parse("method.request.header.Authorization", 35, &s) == AZ_OK &&
              s.type == AZ_SRC_HEADER && !strcmp(s.name, "Authorization"),
          "REST header");
    CHECK(az_source_parse(" $request.querystring.token ", 28, &s) == AZ_OK &&
              s.type == AZ_SRC_QUERY && !strcmp(s.name, "token"),
          "HTTP query, blanks");
    CHECK(az_source_parse("stageVariables.v", 16, &s) == AZ_OK && s.type == AZ_SRC_STAGEVAR,
          "stage variable");
    CHECK(az_source_parse("$context.routeKey", 17, &s) == AZ_OK && s.type == AZ_SRC_CONTEXT,
          "context");
    CHECK(az_source_parse("context.identity.sourceIp", 25, &s) == AZ_OK, "context sourceIp");
    CHECK(az_source_parse("context.nope", 12, &s) == AZ_ESOURCE, "unknown context");
    CHECK(az_source_parse("method.request.path.id", 22, &s) == AZ_ESOURCE,
          "path parameters cannot be identity sources");
    CHECK(az_source_parse("method.request.header.", 22, &s) == AZ_ESOURCE, "empty name");
    az_config c;
    memset(&c, 0, sizeof c);
    CHECK(az_sources_parse("method.request.header.Authorization1, method.request.querystring."
                           "Authorization2, stageVariables.Authorization3, context.requestId",
                           &c) == AZ_OK &&
              c.n_sources == 4 && c.sources[2].type == AZ_SRC_STAGEVAR,
          "SAM's identitySource list");
    memset(&c, 0, sizeof c);
    CHECK(az_sources_parse("$request.header.a,$request.header.b,$request.header.c,$request.header."
                           "d,$request.header.e,$request.header.f,$request.header.g,$request."
                           "header.h,$request.header.i",
                           &c) == AZ_ECONFIG,
          "more than AZ_MAX_SOURCES");
}

static void config(void)
{
    az_authorizer *a = make(AZ_REST_TOKEN, NULL, AZ_TTL_DEFAULT, NULL);
    CHECK(a && az_ttl(a) == 300, "REST default TTL 300");
    az_free(a);
    a = make(AZ_HTTP_V2, "$request.header.Authorization", AZ_TTL_DEFAULT, NULL);
    CHECK(a && az_ttl(a) == 0, "HTTP default TTL 0");
    az_free(a);
    CHECK(!make(AZ_REST_TOKEN, NULL, 3601, NULL), "TTL over 3600 refused");
    CHECK(!make(AZ_REST_REQUEST, NULL, 300, NULL), "REQUEST cache without sources refused");
    a = make(AZ_REST_REQUEST, NULL, 0, NULL);
    CHECK(a != NULL, "REQUEST without cache, without sources");
    az_free(a);
    CHECK(!make(AZ_REST_TOKEN, "method.request.querystring.t", 0, NULL),
          "TOKEN with a query source refused");
    CHECK(!make(AZ_REST_REQUEST, "method.request.header.A", 0, "^x$"),
          "ValidationExpression only for TOKEN");
    az_config c;
    memset(&c, 0, sizeof c);
    c.type = AZ_REST_TOKEN;
    c.validation = "([a-z";
    CHECK(az_new(&c, &a) == AZ_EREGEX && !a, "bad regex");
    c.validation = NULL;
    c.simple_responses = 1;
    CHECK(az_new(&c, &a) == AZ_ECONFIG, "simple responses only for HTTP 2.0");
    CHECK(!strcmp(az_strerror(AZ_EREGEX), "ValidationExpression does not compile"), "strerror");
    az_free(NULL);
    az_result_free(NULL);
}

/* ---- events against the captures ---- */

static const apigw_kv REST_HEADERS[] = {
    KV("Accept", "*/*"),
    KV("Accept-Encoding", "gzip, deflate"),
    KV("Authorization", "Bearer foo"),
    KV("CloudFront-Forwarded-Proto", "https"),
    KV("CloudFront-Is-Desktop-Viewer", "true"),
    KV("CloudFront-Is-Mobile-Viewer", "false"),
    KV("CloudFront-Is-SmartTV-Viewer", "false"),
    KV("CloudFront-Is-Tablet-Viewer", "false"),
    KV("CloudFront-Viewer-ASN", "7224"),
    KV("CloudFront-Viewer-Country", "GB"),
    KV("Content-Length", "0"),
    KV("Host", "puhdx84jy9.execute-api.eu-west-1.amazonaws.com"),
    KV("User-Agent", "HTTPie/3.2.2"),
    KV("Via", "1.1 e20527248be1eebaced63108ab7e73d6.cloudfront.net (CloudFront)"),
    KV("X-Amz-Cf-Id", "sIEfafSQxwenKloeWOp-4eyo_-grMyVNzwnkBmx5q7OcvBJV7knerQ=="),
    KV("X-Amzn-Trace-Id", "Root=1-66704feb-118151122b2ad2d3488844e7"),
    KV("X-Forwarded-For", "15.248.3.126, 130.176.209.37"),
    KV("X-Forwarded-Port", "443"),
    KV("X-Forwarded-Proto", "https"),
};

static az_request rest_request(const char *path)
{
    az_request r;
    memset(&r, 0, sizeof r);
    r.method = "POST";
    r.path = path;
    r.resource = path;
    r.headers = REST_HEADERS;
    r.n_headers = sizeof REST_HEADERS / sizeof *REST_HEADERS;
    r.stage = "prod";
    r.api_id = "puhdx84jy9";
    r.account_id = "123456789012";
    r.region = "eu-west-1";
    r.request_id = "141d6671-99b4-40ca-9997-7a22f01eac74";
    r.extended_request_id = "ZhFsxGQDDoEEMig=";
    r.resource_id = "w567jh";
    r.deployment_id = "v99qix";
    r.source_ip = "15.248.3.126";
    r.time_ms = 1718636523035;
    return r;
}

static void events(void)
{
    char *ev;
    size_t len;
    az_identity id;
    az_verdict v;
    /* REST TOKEN */
    az_authorizer *a = make(AZ_REST_TOKEN, NULL, 300, NULL);
    az_request r = rest_request("/lambda-token");
    CHECK(a && az_identify(a, &r, &id, &v) == AZ_OK && v == AZ_ALLOW, "token identity");
    CHECK(az_event(a, &r, &id, &ev, &len) == AZ_OK, "token event");
    if (ev)
        same_as_capture(ev, len, "tests/data/authorizer/rest-token.json");
    free(ev);
    az_identity_fini(&id);
    az_free(a);
    /* REST REQUEST */
    a = make(AZ_REST_REQUEST, "method.request.header.Authorization", 300, NULL);
    r = rest_request("/lambda-request");
    CHECK(a && az_identify(a, &r, &id, &v) == AZ_OK && v == AZ_ALLOW, "request identity");
    CHECK(az_event(a, &r, &id, &ev, &len) == AZ_OK, "request event");
    if (ev)
        same_as_capture(ev, len, "tests/data/authorizer/rest-request.json");
    free(ev);
    az_identity_fini(&id);
    az_free(a);
    /* HTTP API 2.0 */
    static const apigw_kv h2[] = {
        KV("Accept", "*/*"),
        KV("Accept-Encoding", "gzip, deflate"),
        KV("Authorization", "Bearer foo"),
        KV("Content-Length", "0"),
        KV("Host", "lsw1ro4ipb.execute-api.eu-west-1.amazonaws.com"),
        KV("User-Agent", "HTTPie/3.2.2"),
        KV("X-Amzn-Trace-Id", "Root=1-66705bc7-2b4257df30cbee696ef2cf28"),
        KV("X-Forwarded-For", "15.248.3.126"),
        KV("X-Forwarded-Port", "443"),
        KV("X-Forwarded-Proto", "https"),
    };
    a = make(AZ_HTTP_V2, "$request.header.Authorization", 0, NULL);
    memset(&r, 0, sizeof r);
    r.method = "POST";
    r.path = "/lambda";
    r.route_key = "POST /lambda";
    r.raw_query = "";
    r.headers = h2;
    r.n_headers = sizeof h2 / sizeof *h2;
    r.stage = "$default";
    r.api_id = "lsw1ro4ipb";
    r.region = "eu-west-1";
    r.request_id = "ZhNHJhhLjoEEPiw=";
    r.source_ip = "15.248.3.126";
    r.time_ms = 1718639559080;
    CHECK(a && az_identify(a, &r, &id, &v) == AZ_OK && v == AZ_ALLOW, "v2 identity");
    CHECK(az_event(a, &r, &id, &ev, &len) == AZ_OK, "v2 event");
    if (ev)
        same_as_capture(ev, len, "tests/data/authorizer/http-v2-request.json");
    free(ev);
    az_identity_fini(&id);
    az_free(a);
}

/* HTTP 1.0 (aws-lambda-go's sample, §3.4) and the 2.0 optional fields */
static void events_http(void)
{
    static const apigw_kv h[] = {KV("HeaderAuth1", "headerValue1"), KV("Accept", "*/*"),
                                 KV("Cookie", "a=1; b=2"), KV("X-Multi", "x"),
                                 KV("x-multi", "y")};
    static const apigw_kv q[] = {KV("QueryString1", "queryValue1"), KV("p", "1"), KV("p", "2")};
    static const apigw_kv sv[] = {KV("StageVar1", "stageValue1")};
    static const apigw_kv pp[] = {KV("id", "42")};
    az_request r;
    memset(&r, 0, sizeof r);
    r.method = "GET";
    r.path = "/request";
    r.resource = "/request";
    r.route_key = "GET /request";
    r.raw_query = "QueryString1=queryValue1&p=1&p=2";
    r.headers = h;
    r.n_headers = 5;
    r.query = q;
    r.n_query = 3;
    r.stage_vars = sv;
    r.n_stage_vars = 1;
    r.stage = "test";
    r.api_id = "abcdef123";
    r.request_id = "rid";
    r.source_ip = "10.0.0.1";
    r.time_ms = 0;
    az_authorizer *a = make(AZ_HTTP_V1, "$request.header.HeaderAuth1,$request.querystring."
                                        "QueryString1,$stageVariables.StageVar1",
                            300, NULL);
    az_identity id;
    az_verdict v;
    char *ev = NULL;
    size_t len;
    CHECK(a && az_identify(a, &r, &id, &v) == AZ_OK && v == AZ_ALLOW, "v1 identity");
    CHECK(a && az_event(a, &r, &id, &ev, &len) == AZ_OK, "v1 event");
    json_error_t e;
    json_t *j = ev ? json_loadb(ev, len, 0, &e) : NULL;
    const char *want_arn = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/request";
    CHECK(j && !strcmp(json_string_value(json_object_get(j, "version")), "1.0") &&
              !strcmp(json_string_value(json_object_get(j, "type")), "REQUEST") &&
              !strcmp(json_string_value(json_object_get(j, "methodArn")), want_arn),
          "v1 version, type, methodArn: %s", ev);
    CHECK(j && !strcmp(json_string_value(json_object_get(j, "identitySource")),
                       "headerValue1,queryValue1,stageValue1") &&
              !strcmp(json_string_value(json_object_get(j, "authorizationToken")),
                      "headerValue1,queryValue1,stageValue1"),
          "v1 identitySource and authorizationToken: the values comma-joined");
    json_t *hd = json_object_get(j, "headers"), *mv = json_object_get(j, "multiValueHeaders");
    CHECK(hd && !strcmp(json_string_value(json_object_get(hd, "headerauth1")), "headerValue1") &&
              !strcmp(json_string_value(json_object_get(hd, "x-multi")), "y") &&
              json_array_size(json_object_get(mv, "x-multi")) == 2,
          "v1 header names lower-case, last value, all values in multiValueHeaders");
    CHECK(j && !strcmp(json_string_value(json_object_get(json_object_get(j, "queryStringParameters"),
                                                         "p")),
                       "2") &&
              json_object_size(json_object_get(j, "pathParameters")) == 0 &&
              json_is_object(json_object_get(j, "pathParameters")),
          "v1 query last value, empty map {}");
    json_t *rc = json_object_get(j, "requestContext");
    CHECK(rc && json_is_null(json_object_get(rc, "resourceId")) &&
              !strcmp(json_string_value(json_object_get(rc, "path")), "/test/request") &&
              !strcmp(json_string_value(json_object_get(rc, "requestTime")),
                      "01/Jan/1970:00:00:00 +0000"),
          "v1 requestContext");
    json_decref(j);
    free(ev);
    az_identity_fini(&id);
    az_free(a);
    /* 2.0: cookies, joined headers and query, path parameters, stage variables */
    a = make(AZ_HTTP_V2, "$request.querystring.p,$context.routeKey", 300, NULL);
    r.path_params = pp;
    r.n_path_params = 1;
    CHECK(a && az_identify(a, &r, &id, &v) == AZ_OK && v == AZ_ALLOW, "v2 identity");
    CHECK(id.n == 2 && !strcmp(id.values[0], "1,2") && !strcmp(id.values[1], "GET /request"),
          "v2 query values joined, $context.routeKey");
    ev = NULL;
    CHECK(a && az_event(a, &r, &id, &ev, &len) == AZ_OK, "v2 event");
    j = ev ? json_loadb(ev, len, 0, &e) : NULL;
    json_t *ck = json_object_get(j, "cookies"), *is = json_object_get(j, "identitySource");
    CHECK(json_array_size(ck) == 2 && !strcmp(json_string_value(json_array_get(ck, 1)), "b=2") &&
              !json_object_get(json_object_get(j, "headers"), "cookie"),
          "v2 cookies: %s", ev);
    CHECK(json_array_size(is) == 2 && !strcmp(json_string_value(json_array_get(is, 0)), "1,2"),
          "v2 identitySource array");
    CHECK(!strcmp(json_string_value(json_object_get(json_object_get(j, "headers"), "x-multi")),
                  "x,y") &&
              !strcmp(json_string_value(
                          json_object_get(json_object_get(j, "queryStringParameters"), "p")),
                      "1,2") &&
              !strcmp(json_string_value(json_object_get(json_object_get(j, "pathParameters"), "id")),
                      "42") &&
              json_object_get(json_object_get(j, "stageVariables"), "StageVar1"),
          "v2 joined headers and query, pathParameters, stageVariables");
    json_decref(j);
    free(ev);
    az_identity_fini(&id);
    az_free(a);
}

/* ---- identity sources ---- */

static void identity(void)
{
    az_identity id;
    az_verdict v;
    az_request r = rest_request("/x");
    static const apigw_kv none[] = {KV("Host", "h")};
    static const apigw_kv empty[] = {KV("authorization", "")};
    static const apigw_kv bad[] = {KV("AUTHORIZATION", "Basic zzz")};
    static const apigw_kv good[] = {KV("authorization", "Bearer abc.def-1")};
    az_authorizer *a = make(AZ_REST_TOKEN, NULL, 300, "^Bearer [-0-9a-zA-Z._]*$");
    r.headers = none;
    r.n_headers = 1;
    CHECK(az_identify(a, &r, &id, &v) == AZ_OK && v == AZ_MISSING, "TOKEN header missing");
    az_identity_fini(&id);
    r.headers = empty;
    CHECK(az_identify(a, &r, &id, &v) == AZ_OK && v == AZ_MISSING, "TOKEN header empty");
    az_identity_fini(&id);
    r.headers = bad;
    CHECK(az_identify(a, &r, &id, &v) == AZ_OK && v == AZ_INVALID, "ValidationExpression mismatch");
    az_identity_fini(&id);
    r.headers = good;
    CHECK(az_identify(a, &r, &id, &v) == AZ_OK && v == AZ_ALLOW &&
              !strcmp(id.values[0], "Bearer abc.def-1"),
          "ValidationExpression match, header name in any case");
    az_identity_fini(&id);
    az_answer ans;
    az_answer_of(a, AZ_MISSING, &ans);
    CHECK(ans.status == 401 && !strcmp(ans.body, "{\"message\":\"Unauthorized\"}") &&
              !strcmp(ans.error_type, "UnauthorizedException"),
          "missing → 401 Unauthorized");
    az_answer_of(a, AZ_INVALID, &ans);
    CHECK(ans.status == 401, "mismatch → 401");
    az_free(a);
    /* REQUEST: sources required with a cache only */
    a = make(AZ_REST_REQUEST, "method.request.header.X-A, method.request.querystring.q", 300, NULL);
    r.headers = none;
    CHECK(az_identify(a, &r, &id, &v) == AZ_OK && v == AZ_MISSING, "REQUEST with cache: missing");
    az_identity_fini(&id);
    az_free(a);
    a = make(AZ_REST_REQUEST, "method.request.header.X-A, method.request.querystring.q", 0, NULL);
    CHECK(az_identify(a, &r, &id, &v) == AZ_OK && v == AZ_ALLOW,
          "REQUEST without cache: invoked without its sources");
    az_identity_fini(&id);
    az_free(a);
    /* HTTP API: always required */
    a = make(AZ_HTTP_V2, "$request.header.X-A", 0, NULL);
    CHECK(az_identify(a, &r, &id, &v) == AZ_OK && v == AZ_MISSING, "HTTP missing → 401");
    az_identity_fini(&id);
    az_answer_of(a, AZ_MISSING, &ans);
    CHECK(ans.status == 401 && !strcmp(ans.body, "{\"message\":\"Unauthorized\"}") &&
              !ans.error_type,
          "HTTP 401 without x-amzn-ErrorType");
    az_free(a);
    /* cache keys: distinct values, distinct keys (length-prefixed) */
    static const apigw_kv q1[] = {KV("a", "x,"), KV("b", "y")};
    static const apigw_kv q2[] = {KV("a", "x"), KV("b", ",y")};
    a = make(AZ_REST_REQUEST, "method.request.querystring.a, method.request.querystring.b", 300,
             NULL);
    az_identity i1, i2;
    r.query = q1;
    r.n_query = 2;
    az_identify(a, &r, &i1, &v);
    r.query = q2;
    az_identify(a, &r, &i2, &v);
    CHECK(i1.key_len != i2.key_len || memcmp(i1.key, i2.key, i1.key_len), "keys differ");
    az_identity_fini(&i1);
    az_identity_fini(&i2);
    az_free(a);
    /* stage variables and $context */
    static const apigw_kv sv[] = {KV("tenant", "t1")};
    a = make(AZ_REST_REQUEST, "stageVariables.tenant, context.stage, context.path", 300, NULL);
    r.stage_vars = sv;
    r.n_stage_vars = 1;
    CHECK(az_identify(a, &r, &id, &v) == AZ_OK && v == AZ_ALLOW && !strcmp(id.values[0], "t1") &&
              !strcmp(id.values[1], "prod") && !strcmp(id.values[2], "/prod/x"),
          "stage variable and context values");
    az_identity_fini(&id);
    az_free(a);
    /* an over-long token: 401, and not copied */
    char *big = malloc(AZ_IDENTITY_MAX + 2);
    memset(big, 'a', AZ_IDENTITY_MAX + 1);
    big[AZ_IDENTITY_MAX + 1] = 0;
    apigw_kv bh[] = {{"Authorization", 13, big, AZ_IDENTITY_MAX + 1}};
    a = make(AZ_REST_TOKEN, NULL, 300, NULL);
    r.headers = bh;
    CHECK(az_identify(a, &r, &id, &v) == AZ_OK && v == AZ_INVALID && !id.buf, "over-long token");
    az_identity_fini(&id);
    bh[0].value = "\xff\xfe";
    bh[0].value_len = 2;
    CHECK(az_identify(a, &r, &id, &v) == AZ_OK && v == AZ_INVALID, "token not UTF-8");
    az_identity_fini(&id);
    az_free(a);
    free(big);
}

/* ---- method ARNs ---- */

static void arns(void)
{
    char buf[AZ_ARN_MAX + 1];
    az_request r = rest_request("/");
    r.method = "GET";
    CHECK(az_method_arn(&r, buf, sizeof buf) > 0 &&
              !strcmp(buf, "arn:aws:execute-api:eu-west-1:123456789012:puhdx84jy9/prod/GET/"),
          "root: %s", buf);
    r.path = "/items/42";
    az_method_arn(&r, buf, sizeof buf);
    CHECK(!strcmp(buf, "arn:aws:execute-api:eu-west-1:123456789012:puhdx84jy9/prod/GET/items/42"),
          "actual path, not the template: %s", buf);
    char *p = malloc(2000);
    memset(p, 'a', 1999);
    p[0] = '/';
    p[1999] = 0;
    r.path = p;
    CHECK(az_method_arn(&r, buf, sizeof buf) == -1, "ARN over 1,600 bytes");
    az_authorizer *a = make(AZ_REST_TOKEN, NULL, 0, NULL);
    az_identity id;
    az_verdict v;
    char *ev;
    size_t len;
    r.headers = REST_HEADERS;
    az_identify(a, &r, &id, &v);
    CHECK(az_event(a, &r, &id, &ev, &len) == AZ_ETOOBIG && !ev, "event refused");
    az_answer ans;
    az_answer_of(a, AZ_ARN_TOO_LONG, &ans);
    CHECK(ans.status == 414, "414");
    az_identity_fini(&id);
    az_free(a);
    free(p);
}

/* ---- responses and the outcome table ---- */

#define ARN "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/items/42"
#define POLICY(effect, action, resource)                                                        \
    "{\"principalId\":\"user-123\",\"policyDocument\":{\"Version\":\"2012-10-17\",\"Statement\":" \
    "[{\"Action\":" action ",\"Effect\":\"" effect "\",\"Resource\":" resource "}]}}"

static void outcomes(void)
{
    az_authorizer *a = make(AZ_REST_TOKEN, NULL, 300, NULL);
    az_answer ans;
    /* Allow matches: go on */
    CHECK(verdict(a, AZ_INVOKE_OK, POLICY("Allow", "\"execute-api:Invoke\"", "\"" ARN "\""), ARN,
                  &ans) == AZ_ALLOW &&
              ans.status == 0,
          "Allow matches");
    /* function failed with exactly Unauthorized: 401 */
    CHECK(verdict(a, AZ_INVOKE_ERROR,
                  "{\"errorType\":\"string\",\"errorMessage\":\"Unauthorized\",\"trace\":[]}", ARN,
                  &ans) == AZ_UNAUTHORIZED &&
              ans.status == 401 && !strcmp(ans.body, "{\"message\":\"Unauthorized\"}") &&
              !strcmp(ans.error_type, "UnauthorizedException") &&
              !strcmp(ans.content_type, "application/json"),
          "Unauthorized → 401");
    /* other failure texts: 500 {"message": null} */
    CHECK(verdict(a, AZ_INVOKE_ERROR, "{\"errorType\":\"Exception\",\"errorMessage\":\"unauthorized\"}",
                  ARN, &ans) == AZ_FAILED &&
              ans.status == 500 && !strcmp(ans.body, "{\"message\": null}") &&
              ans.body_len == 17 && !strcmp(ans.error_type, "AuthorizerConfigurationException"),
          "other error → 500 {\"message\": null}");
    CHECK(verdict(a, AZ_INVOKE_ERROR, "not json", ARN, NULL) == AZ_FAILED, "error, not JSON");
    CHECK(verdict(a, AZ_INVOKE_FAILED, NULL, ARN, &ans) == AZ_FAILED && ans.status == 500,
          "timeout → 500");
    /* no matching Allow: 403 with a capital M */
    CHECK(verdict(a, AZ_INVOKE_OK,
                  POLICY("Allow", "\"execute-api:Invoke\"",
                         "\"arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/POST/"
                         "items/42\""),
                  ARN, &ans) == AZ_DENY &&
              ans.status == 403 &&
              !strcmp(ans.body, "{\"Message\":\"User is not authorized to access this resource\"}") &&
              !strcmp(ans.error_type, "AccessDeniedException"),
          "policy for another method ARN → 403");
    /* matching Deny: 403, explicit */
    CHECK(verdict(a, AZ_INVOKE_OK, POLICY("Deny", "\"execute-api:Invoke\"", "\"" ARN "\""), ARN,
                  &ans) == AZ_DENY_EXPLICIT &&
              ans.status == 403 &&
              !strcmp(ans.body, "{\"Message\":\"User is not authorized to access this resource "
                                "with an explicit deny\"}") &&
              ans.body_len == 82,
          "Deny → 403 explicit (Content-Length 82 as captured)");
    az_free(a);
    /* the contested capital M, configurable */
    az_config c;
    memset(&c, 0, sizeof c);
    c.type = AZ_REST_TOKEN;
    c.deny_lowercase = 1;
    az_new(&c, &a);
    az_answer_of(a, AZ_DENY, &ans);
    CHECK(!strcmp(ans.body, "{\"message\":\"User is not authorized to access this resource\"}"),
          "deny_lowercase");
    az_free(a);
}

static void malformed(void)
{
    az_authorizer *a = make(AZ_REST_REQUEST, "method.request.header.A", 0, NULL);
    static const char *const bad[] = {
        "",
        "not json",
        "[1]",
        "\"Allow\"",
        "{\"policyDocument\":{\"Statement\":[]}}",
        "{\"principalId\":7,\"policyDocument\":{\"Statement\":[]}}",
        "{\"principalId\":\"u\"}",
        "{\"principalId\":\"u\",\"policyDocument\":\"x\"}",
        "{\"principalId\":\"u\",\"policyDocument\":{}}",
        "{\"principalId\":\"u\",\"policyDocument\":{\"Statement\":[7]}}",
        POLICY("Maybe", "\"execute-api:Invoke\"", "\"*\""),
        "{\"principalId\":\"u\",\"policyDocument\":{\"Statement\":[{\"Effect\":\"Allow\","
        "\"Resource\":\"*\"}]}}",
        POLICY("Allow", "\"execute-api:Invoke\"", "7"),
        POLICY("Allow", "[]", "\"*\""),
        POLICY("Allow", "\"execute-api:Invoke\"", "[\"*\",1]"),
        "{\"principalId\":\"u\",\"policyDocument\":{\"Statement\":[]},\"context\":\"x\"}",
        "{\"principalId\":\"u\",\"policyDocument\":{\"Statement\":[]},\"context\":{\"o\":{}}}",
        "{\"principalId\":\"u\",\"policyDocument\":{\"Statement\":[]},\"context\":{\"a\":[1]}}",
        "{\"principalId\":\"u\",\"policyDocument\":{\"Statement\":[]},\"usageIdentifierKey\":5}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        az_result *r = parse(a, AZ_INVOKE_OK, bad[i]);
        CHECK(r && az_decide(r, ARN) == AZ_FAILED && !az_result_cacheable(r) &&
                  *az_result_reason(r),
              "malformed %zu → 500: %s", i, bad[i]);
        az_result_free(r);
    }
    az_result *r = parse(a, AZ_INVOKE_OK,
                         "{\"principalId\":\"u\",\"policyDocument\":{\"Statement\":[]},"
                         "\"context\":{\"o\":{}}}");
    CHECK(r && strstr(az_result_reason(r), "\"o\""), "reason names the key: %s",
          r ? az_result_reason(r) : "");
    az_result_free(r);
    /* an empty Statement list: implicit deny, not an error */
    CHECK(verdict(a, AZ_INVOKE_OK,
                  "{\"principalId\":\"u\",\"policyDocument\":{\"Statement\":[]}}", ARN,
                  NULL) == AZ_DENY,
          "empty Statement → 403");
    az_free(a);
}

static void policies(void)
{
    az_authorizer *a = make(AZ_REST_TOKEN, NULL, 0, NULL);
    static const struct {
        const char *action, *resource;
        az_verdict want;
    } cases[] = {
        {"\"execute-api:Invoke\"", "\"arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/items/*\"", AZ_ALLOW},
        {"\"execute-api:Invoke\"", "\"arn:aws:execute-api:us-east-1:123456789012:abcdef1234/*/*\"", AZ_ALLOW},
        {"\"execute-api:Invoke\"", "\"arn:aws:execute-api:*:*:abcdef1234/*\"", AZ_ALLOW},
        {"\"execute-api:Invoke\"", "\"*\"", AZ_ALLOW},
        {"\"execute-api:Invoke\"", "\"arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/items/4?\"", AZ_ALLOW},
        {"\"execute-api:Invoke\"", "\"arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/items/42?\"", AZ_DENY},
        {"\"execute-api:Invoke\"", "\"arn:aws:execute-api:us-east-1:123456789012:abcdef1234/dev/*\"", AZ_DENY},
        {"\"execute-api:Invoke\"", "\"arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/get/items/42\"", AZ_DENY},
        {"\"execute-api:Invoke\"", "[\"arn:aws:s3:::b\", \"" ARN "\"]", AZ_ALLOW},
        {"\"execute-api:*\"", "\"" ARN "\"", AZ_ALLOW},
        {"\"*\"", "\"" ARN "\"", AZ_ALLOW},
        {"\"EXECUTE-API:invoke\"", "\"" ARN "\"", AZ_ALLOW},
        {"[\"s3:GetObject\", \"execute-api:Invoke\"]", "\"" ARN "\"", AZ_ALLOW},
        {"\"s3:*\"", "\"" ARN "\"", AZ_DENY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char p[1024];
        snprintf(p, sizeof p,
                 "{\"principalId\":\"u\",\"policyDocument\":{\"Statement\":[{\"Action\":%s,"
                 "\"Effect\":\"Allow\",\"Resource\":%s}]}}",
                 cases[i].action, cases[i].resource);
        CHECK(verdict(a, AZ_INVOKE_OK, p, ARN, NULL) == cases[i].want, "policy case %zu: %s", i, p);
    }
    /* Deny wins, in either order; a Statement object; NotResource; NotAction */
    static const char *const deny_first =
        "{\"principalId\":\"u\",\"policyDocument\":{\"Statement\":[{\"Action\":\"*\",\"Effect\":"
        "\"Deny\",\"Resource\":\"*/GET/items/*\"},{\"Action\":\"*\",\"Effect\":\"Allow\","
        "\"Resource\":\"*\"}]}}";
    static const char *const deny_last =
        "{\"principalId\":\"u\",\"policyDocument\":{\"Statement\":[{\"Action\":\"*\",\"Effect\":"
        "\"Allow\",\"Resource\":\"*\"},{\"Action\":\"*\",\"Effect\":\"Deny\","
        "\"Resource\":\"*/GET/items/*\"}]}}";
    CHECK(verdict(a, AZ_INVOKE_OK, deny_first, ARN, NULL) == AZ_DENY_EXPLICIT, "Deny first wins");
    CHECK(verdict(a, AZ_INVOKE_OK, deny_last, ARN, NULL) == AZ_DENY_EXPLICIT, "Deny last wins");
    CHECK(verdict(a, AZ_INVOKE_OK, deny_last,
                  "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/POST/items/42",
                  NULL) == AZ_ALLOW,
          "the Deny does not cover POST");
    CHECK(verdict(a, AZ_INVOKE_OK,
                  "{\"principalId\":\"u\",\"policyDocument\":{\"Statement\":{\"Action\":"
                  "\"execute-api:Invoke\",\"Effect\":\"Allow\",\"Resource\":\"*\"}}}",
                  ARN, NULL) == AZ_ALLOW,
          "Statement as an object");
    CHECK(verdict(a, AZ_INVOKE_OK,
                  "{\"principalId\":\"u\",\"policyDocument\":{\"Statement\":[{\"Action\":"
                  "\"execute-api:Invoke\",\"Effect\":\"Allow\",\"NotResource\":\"*/POST/*\"}]}}",
                  ARN, NULL) == AZ_ALLOW,
          "NotResource");
    CHECK(verdict(a, AZ_INVOKE_OK,
                  "{\"principalId\":\"u\",\"policyDocument\":{\"Statement\":[{\"NotAction\":"
                  "\"execute-api:Invoke\",\"Effect\":\"Allow\",\"Resource\":\"*\"}]}}",
                  ARN, NULL) == AZ_DENY,
          "NotAction execute-api:Invoke does not allow");
    az_free(a);
    CHECK(az__glob("a*b?c", "aXXbYc", 0) && !az__glob("a*b?c", "abc", 0) &&
              az__glob("**", "", 0) && !az__glob("?", "", 0) && az__glob("*a*a*a*", "aaa", 0) &&
              !az__glob("*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0),
          "glob");
}

/* ---- HTTP API responses and answers ---- */

static void http_answers(void)
{
    az_config c;
    memset(&c, 0, sizeof c);
    c.type = AZ_HTTP_V2;
    c.simple_responses = 1;
    az_sources_parse("$request.header.Authorization", &c);
    az_authorizer *a;
    az_new(&c, &a);
    az_answer ans;
    CHECK(verdict(a, AZ_INVOKE_OK, "{\"isAuthorized\":true,\"context\":{\"l\":[1,2]}}", ARN,
                  &ans) == AZ_ALLOW,
          "isAuthorized true (context may hold arrays)");
    CHECK(verdict(a, AZ_INVOKE_OK, "{\"isAuthorized\":false}", ARN, &ans) == AZ_DENY &&
              ans.status == 403 && !strcmp(ans.body, "{\"message\":\"Forbidden\"}") && !ans.error_type,
          "isAuthorized false → 403 Forbidden");
    CHECK(verdict(a, AZ_INVOKE_OK, "{\"isAuthorized\":\"yes\"}", ARN, &ans) == AZ_FAILED &&
              ans.status == 500 && !strcmp(ans.body, "{\"message\":\"Internal Server Error\"}"),
          "isAuthorized not a boolean → 500");
    CHECK(verdict(a, AZ_INVOKE_ERROR, "{\"errorMessage\":\"Unauthorized\"}", ARN, &ans) ==
                  AZ_FAILED &&
              ans.status == 500,
          "HTTP: a failing function is 500, Unauthorized too");
    az_free(a);
    c.simple_responses = 0;
    c.http_deny_401 = 1;
    az_new(&c, &a);
    CHECK(verdict(a, AZ_INVOKE_OK, POLICY("Deny", "\"execute-api:Invoke\"", "\"*\""), ARN, &ans) ==
                  AZ_DENY_EXPLICIT &&
              ans.status == 401 && !strcmp(ans.body, "{\"message\":\"Unauthorized\"}"),
          "IAM policy on HTTP 2.0; http_deny_401");
    az_free(a);
}

/* ---- requestContext.authorizer ---- */

static char *authorizer_json(const az_authorizer *a, const char *payload, az_integration fmt,
                             long long latency)
{
    az_result *r = parse(a, AZ_INVOKE_OK, payload);
    jw w;
    jw_init(&w, 1 << 20);
    if (r)
        az_write_authorizer(r, fmt, latency, &w);
    az_result_free(r);
    return jw_finish(&w, NULL);
}

static void integration(void)
{
    az_authorizer *a = make(AZ_REST_TOKEN, NULL, 300, NULL);
    static const char *const resp =
        "{\"principalId\":\"user-123\",\"policyDocument\":{\"Version\":\"2012-10-17\","
        "\"Statement\":[{\"Action\":\"execute-api:Invoke\",\"Effect\":\"Allow\",\"Resource\":"
        "\"*\"}]},\"context\":{\"tenant\":\"t1\",\"tier\":3,\"admin\":false,\"ratio\":0.1,"
        "\"none\":null,\"principalId\":\"x\"},\"usageIdentifierKey\":\"apikeyvalue0123456789\"}";
    char *s = authorizer_json(a, resp, AZ_INT_REST, 422);
    CHECK(s && !strcmp(s, "{\"principalId\":\"user-123\",\"integrationLatency\":422,\"tenant\":"
                          "\"t1\",\"tier\":\"3\",\"admin\":\"false\",\"ratio\":\"0.1\","
                          "\"none\":null}"),
          "REST: context stringified: %s", s);
    free(s);
    az_result *r = parse(a, AZ_INVOKE_OK, resp);
    CHECK(r && !strcmp(az_result_usage_key(r), "apikeyvalue0123456789") &&
              !strcmp(az_result_principal(r), "user-123"),
          "usageIdentifierKey, principalId");
    az_result_free(r);
    s = authorizer_json(a, POLICY("Allow", "\"*\"", "\"*\""), AZ_INT_REST, 0);
    CHECK(s && !strcmp(s, "{\"principalId\":\"user-123\",\"integrationLatency\":0}"),
          "REST without context: %s", s);
    free(s);
    az_free(a);
    a = make(AZ_HTTP_V2, "$request.header.A", 0, NULL);
    s = authorizer_json(a, resp, AZ_INT_HTTP_V2, 5);
    CHECK(s && !strcmp(s, "{\"lambda\":{\"tenant\":\"t1\",\"tier\":3,\"admin\":false,\"ratio\":"
                          "0.1,\"none\":null,\"principalId\":\"x\"}}"),
          "HTTP 2.0: authorizer.lambda as returned: %s", s);
    free(s);
    s = authorizer_json(a, POLICY("Allow", "\"*\"", "\"*\""), AZ_INT_HTTP_V2, 5);
    CHECK(s && !strcmp(s, "{\"lambda\":null}"), "HTTP 2.0 without context: %s", s);
    free(s);
    s = authorizer_json(a, resp, AZ_INT_HTTP_V1, 5);
    CHECK(s && !strcmp(s, "{\"principalId\":\"user-123\",\"integrationLatency\":5,\"tenant\":"
                          "\"t1\",\"tier\":3,\"admin\":false,\"ratio\":0.1,\"none\":null}"),
          "HTTP 1.0 integration: %s", s);
    free(s);
    az_free(a);
}

/* ---- the cache ---- */

static void cache(void)
{
    az_config c;
    memset(&c, 0, sizeof c);
    c.type = AZ_REST_TOKEN;
    c.ttl_s = 300;
    c.cache_max = 3;
    az_authorizer *a;
    az_new(&c, &a);
    az_request r = rest_request("/items/42");
    r.method = "GET";
    apigw_kv h[] = {{"Authorization", 13, "tok-0", 5}};
    r.headers = h;
    r.n_headers = 1;
    az_identity id;
    az_verdict v;
    az_identify(a, &r, &id, &v);
    double now = 1000.0;
    CHECK(az_cache_get(a, &id, now) == NULL, "empty cache: miss");
    /* a policy scoped to GET /items/42 */
    char arn[AZ_ARN_MAX + 1];
    az_method_arn(&r, arn, sizeof arn);
    char policy[4096];
    snprintf(policy, sizeof policy, POLICY("Allow", "\"execute-api:Invoke\"", "\"%s\""), arn);
    az_result *res = parse(a, AZ_INVOKE_OK, policy);
    az_cache_put(a, &id, res, now);
    az_result_free(res);
    az_result *hit = az_cache_get(a, &id, now + 299000);
    CHECK(hit && az_decide(hit, arn) == AZ_ALLOW, "hit within the TTL");
    /* the cached policy against another method: 403 */
    r.method = "DELETE";
    char arn2[AZ_ARN_MAX + 1];
    az_method_arn(&r, arn2, sizeof arn2);
    CHECK(hit && az_decide(hit, arn2) == AZ_DENY, "cached policy, another method ARN → 403");
    az_result_free(hit);
    CHECK(az_cache_get(a, &id, now + 300000) == NULL && az_cache_size(a) == 0,
          "expired after 300 s, and dropped");
    /* failures are not cached */
    res = parse(a, AZ_INVOKE_FAILED, NULL);
    az_cache_put(a, &id, res, now);
    az_result_free(res);
    CHECK(az_cache_size(a) == 0, "failure not cached");
    res = parse(a, AZ_INVOKE_ERROR, "{\"errorMessage\":\"Unauthorized\"}");
    az_cache_put(a, &id, res, now);
    az_result_free(res);
    CHECK(az_cache_size(a) == 0, "Unauthorized not cached");
    az_identity_fini(&id);
    /* bounded: the least recently used goes */
    az_identity ids[5];
    char toks[5][8];
    res = parse(a, AZ_INVOKE_OK, POLICY("Allow", "\"*\"", "\"*\""));
    for (int i = 0; i < 5; i++) {
        snprintf(toks[i], sizeof toks[i], "tok-%d", i);
        h[0].value = toks[i];
        az_identify(a, &r, &ids[i], &v);
        if (i == 3) { /* touch tok-0 so that tok-1 is the oldest */
            az_result *t = az_cache_get(a, &ids[0], now);
            CHECK(t != NULL, "tok-0 still cached");
            az_result_free(t);
        }
        az_cache_put(a, &ids[i], res, now);
    }
    az_result_free(res);
    CHECK(az_cache_size(a) == 3, "size bounded: %zu", az_cache_size(a));
    az_result *t0 = az_cache_get(a, &ids[0], now), *t1 = az_cache_get(a, &ids[1], now),
              *t4 = az_cache_get(a, &ids[4], now);
    CHECK(t0 && !t1 && t4, "least recently used evicted");
    az_result_free(t0);
    az_result_free(t4);
    for (int i = 0; i < 5; i++)
        az_identity_fini(&ids[i]);
    az_free(a); /* frees the cached results */
    /* TTL 0: no cache */
    a = make(AZ_REST_TOKEN, NULL, 0, NULL);
    h[0].value = "tok";
    h[0].value_len = 3;
    az_identify(a, &r, &id, &v);
    res = parse(a, AZ_INVOKE_OK, POLICY("Allow", "\"*\"", "\"*\""));
    az_cache_put(a, &id, res, now);
    CHECK(az_cache_get(a, &id, now) == NULL, "TTL 0: nothing cached");
    az_result_free(res);
    az_identity_fini(&id);
    az_free(a);
}

/* several threads on one cache (ASan/TSan-visible races, no crash) */
typedef struct worker_arg {
    az_authorizer *a;
    int seed;
    int ok;
} worker_arg;

static void *worker(void *p)
{
    worker_arg *w = p;
    az_request r = rest_request("/items/1");
    char tok[32];
    apigw_kv h[] = {{"Authorization", 13, tok, 0}};
    r.headers = h;
    r.n_headers = 1;
    az_result *res = parse(w->a, AZ_INVOKE_OK, POLICY("Allow", "\"*\"", "\"*\""));
    for (int i = 0; i < 20000 && res; i++) {
        h[0].value_len = (size_t)snprintf(tok, sizeof tok, "t%d", (i * 7 + w->seed) % 64);
        az_identity id;
        az_verdict v;
        if (az_identify(w->a, &r, &id, &v) || v != AZ_ALLOW) {
            w->ok = 0;
            break;
        }
        az_result *hit = az_cache_get(w->a, &id, (double)i);
        if (hit) {
            w->ok &= az_decide(hit, "x") == AZ_ALLOW;
            az_result_free(hit);
        } else {
            az_cache_put(w->a, &id, res, (double)i);
        }
        az_identity_fini(&id);
    }
    az_result_free(res);
    return NULL;
}

static void threads(void)
{
    az_config c;
    memset(&c, 0, sizeof c);
    c.type = AZ_REST_TOKEN;
    c.ttl_s = 1;
    c.cache_max = 16;
    az_authorizer *a;
    az_new(&c, &a);
    pthread_t th[4];
    worker_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (worker_arg){a, i * 13, 1};
        pthread_create(&th[i], NULL, worker, &args[i]);
    }
    int ok = 1;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ok &= args[i].ok;
    }
    CHECK(ok && az_cache_size(a) <= 16, "4 threads on one cache");
    az_free(a);
}

int main(void)
{
    sources();
    config();
    events();
    events_http();
    identity();
    arns();
    outcomes();
    malformed();
    policies();
    http_answers();
    integration();
    cache();
    threads();
    return check_done("test_authorizer");
}
