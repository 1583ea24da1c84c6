/* API Gateway HTTP API semantics: route priority (literal > {param} >
 * {proxy+}, method > ANY, $default last), the 2.0 event of a request
 * (headers lower-cased and joined, cookies split, query parameters, path
 * parameters, base64 for non-text bodies), result mapping (structured,
 * inferred, invalid) and base64. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "apigw.h"
#include "check.h"

static const char *route_of(const sam_template *t, const char *method, const char *path,
                            apigw_match *m)
{
    static char buf[300];
    if (apigw_route(t, 0, method, path, m))
        return "404";
    const sam_route *r = &t->routes[m->route];
    snprintf(buf, sizeof buf, "%s %s", r->method, r->path);
    return buf;
}

static void routing(void)
{
    char err[512];
    sam_template *t;
    CHECK(sam_load("tests/data/templates/routes.yaml", NULL, 0, &t, err, sizeof err) == 0,
          "load: %s", err);
    if (!t)
        return;
    apigw_match m;
    CHECK(!strcmp(route_of(t, "GET", "/pets/dog", &m), "GET /pets/dog"), "literal first");
    CHECK(!strcmp(route_of(t, "GET", "/pets/cat", &m), "GET /pets/{id}") && m.n_params == 1 &&
          !strcmp(m.names[0], "id") && !strcmp(m.values[0], "cat"), "param");
    CHECK(!strcmp(route_of(t, "DELETE", "/pets/cat", &m), "ANY /pets/{id}"), "ANY");
    CHECK(!strcmp(route_of(t, "GET", "/pets/a/b/c", &m), "GET /pets/{proxy+}") &&
          !strcmp(m.names[0], "proxy") && !strcmp(m.values[0], "a/b/c"), "greedy");
    CHECK(!strcmp(route_of(t, "GET", "/users/7/posts/9", &m), "GET /users/{uid}/posts/{pid}") &&
          m.n_params == 2 && !strcmp(m.values[1], "9"), "two params");
    CHECK(!strcmp(route_of(t, "GET", "/nothing/here", &m), "ANY $default"), "$default");
    CHECK(!strcmp(route_of(t, "GET", "/pets/", &m), "ANY $default"), "empty param: default");
    free(t);
    /* without $default: 404 */
    CHECK(sam_load("tests/data/templates/study.yaml", NULL, 0, &t, err, sizeof err) == 0, "study");
    CHECK(apigw_route(t, 0, "GET", "/nope", &m) == -1 && m.route == -1, "404");
    CHECK(apigw_route(t, 0, "POST", "/ner", &m) == 0 && m.n_params == 0, "POST /ner");
    CHECK(apigw_route(t, 0, "GET", "/ner", &m) == -1, "wrong method: 404");
    free(t);
}

static void event(void)
{
    char err[512];
    sam_template *t;
    if (sam_load("tests/data/templates/routes.yaml", NULL, 0, &t, err, sizeof err))
        return;
    apigw_match m;
    apigw_route(t, 0, "POST", "/pets/rex", &m);
    apigw_kv h[] = {{"Host", 4, "127.0.0.1:3000", 14}, {"Content-Type", 12, "application/json", 16},
                    {"Cookie", 6, "s=1; t=2", 8}, {"X-Multi", 7, "a", 1}, {"x-multi", 7, "b", 1},
                    {"User-Agent", 10, "curl/8", 6}};
    const char body[] = "{\"text\":\"Zo\xc3\xab\"}";
    const char target[] = "/pets/rex?a=1&a=2&q=hello%20world&flag";
    apigw_request r = {"POST", target, sizeof target - 1, h, 6, body, sizeof body - 1,
                       "127.0.0.1", "req-1", "nerapi", 1710270238390LL, NULL};
    size_t len;
    char *ev = apigw_event(t, &m, &r, &len);
    CHECK(ev != NULL, "event");
    json_error_t je;
    json_t *got = ev ? json_loads(ev, 0, &je) : NULL;
    json_t *want = json_loads(
        "{\"version\":\"2.0\",\"routeKey\":\"ANY /pets/{id}\",\"rawPath\":\"/pets/rex\","
        "\"rawQueryString\":\"a=1&a=2&q=hello%20world&flag\",\"cookies\":[\"s=1\",\"t=2\"],"
        "\"headers\":{\"host\":\"127.0.0.1:3000\",\"content-type\":\"application/json\","
        "\"x-multi\":\"a,b\",\"user-agent\":\"curl/8\",\"x-forwarded-for\":\"127.0.0.1\","
        "\"x-forwarded-proto\":\"http\"},"
        "\"queryStringParameters\":{\"a\":\"1,2\",\"q\":\"hello world\",\"flag\":\"\"},"
        "\"pathParameters\":{\"id\":\"rex\"},"
        "\"requestContext\":{\"accountId\":\"123456789012\",\"apiId\":\"nerapi\","
        "\"domainName\":\"nerapi.execute-api.us-east-1.amazonaws.com\",\"domainPrefix\":\"nerapi\","
        "\"http\":{\"method\":\"POST\",\"path\":\"/pets/rex\",\"protocol\":\"HTTP/1.1\","
        "\"sourceIp\":\"127.0.0.1\",\"userAgent\":\"curl/8\"},\"requestId\":\"req-1\","
        "\"routeKey\":\"ANY /pets/{id}\",\"stage\":\"$default\","
        "\"time\":\"12/Mar/2024:19:03:58 +0000\",\"timeEpoch\":1710270238390},"
        "\"body\":\"{\\\"text\\\":\\\"Zo\xc3\xab\\\"}\",\"isBase64Encoded\":false}", 0, &je);
    CHECK(want != NULL, "expected JSON: %s", je.text);
    CHECK(got && want && json_equal(got, want), "event differs: %s", ev ? ev : "");
    json_decref(got);
    json_decref(want);
    free(ev);
    /* binary (no content type): base64 body; no body: no "body" key, no cookies key */
    const char bin[] = {'\x00', '\xff', 'a'};
    apigw_request r2 = {"PUT", "/x", 2, h, 1, bin, 3, "10.0.0.1", "id2", "api", 0, NULL};
    apigw_route(t, 0, "PUT", "/x", &m);
    ev = apigw_event(t, &m, &r2, &len);
    got = ev ? json_loads(ev, 0, &je) : NULL;
    CHECK(got && !strcmp(json_string_value(json_object_get(got, "body")), "AP9h") &&
          json_is_true(json_object_get(got, "isBase64Encoded")) &&
          !json_object_get(got, "cookies") && !json_object_get(got, "queryStringParameters") &&
          !json_object_get(got, "pathParameters") &&
          !strcmp(json_string_value(json_object_get(got, "routeKey")), "$default"),
          "binary event: %s", ev ? ev : "");
    json_decref(got);
    free(ev);
    apigw_request r3 = {"GET", "/x", 2, h, 1, NULL, 0, "10.0.0.1", "id3", "api", 0, NULL};
    ev = apigw_event(t, &m, &r3, &len);
    got = ev ? json_loads(ev, 0, &je) : NULL;
    CHECK(got && !json_object_get(got, "body") &&
          json_is_false(json_object_get(got, "isBase64Encoded")), "no body");
    json_decref(got);
    free(ev);
    free(t);
}

static const char *hdr(const apigw_response *r, const char *n, int nth)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (!strcmp(r->headers[i][0], n) && nth-- == 0)
            return r->headers[i][1];
    return NULL;
}

static void mapping(void)
{
    apigw_response o;
    const char *s = "{\"statusCode\":201,\"headers\":{\"x-a\":\"1\",\"content-type\":\"text/plain\"},"
                    "\"cookies\":[\"a=1\",\"b=2\"],\"body\":\"hi\",\"multiValueHeaders\":{}}";
    CHECK(apigw_map_result(s, strlen(s), &o) == 0 && o.status == 201 &&
          !strcmp(hdr(&o, "x-a", 0), "1") && !strcmp(hdr(&o, "content-type", 0), "text/plain") &&
          !strcmp(hdr(&o, "set-cookie", 0), "a=1") && !strcmp(hdr(&o, "set-cookie", 1), "b=2") &&
          o.body_len == 2 && !memcmp(o.body, "hi", 2), "structured");
    apigw_response_fini(&o);
    s = "{\"statusCode\":200,\"body\":\"aGVsbG8=\",\"isBase64Encoded\":true}";
    CHECK(apigw_map_result(s, strlen(s), &o) == 0 && o.body_len == 5 &&
          !memcmp(o.body, "hello", 5) && !strcmp(hdr(&o, "content-type", 0), "application/json"),
          "base64 body");
    apigw_response_fini(&o);
    s = "{\"entities\":[]}";
    CHECK(apigw_map_result(s, strlen(s), &o) == 0 && o.status == 200 && o.body_len == strlen(s) &&
          !strcmp(hdr(&o, "content-type", 0), "application/json"), "inferred object");
    apigw_response_fini(&o);
    s = "\"Hello from Lambda!\"";
    CHECK(apigw_map_result(s, strlen(s), &o) == 0 && o.status == 200 &&
          !strcmp(o.body, "Hello from Lambda!"), "inferred string");
    apigw_response_fini(&o);
    const char *bad[] = {"not json", "{\"statusCode\":\"200\"}", "{\"statusCode\":42}",
                         "{\"statusCode\":200,\"body\":5}", "{\"statusCode\":200,\"headers\":[]}",
                         "{\"statusCode\":200,\"body\":\"%%%\",\"isBase64Encoded\":true}", ""};
    for (unsigned i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK(apigw_map_result(bad[i], strlen(bad[i]), &o) == 0 && o.status == 500 &&
              !strcmp(o.body, "{\"message\":\"Internal Server Error\"}"), "invalid #%u", i);
        apigw_response_fini(&o);
    }
    size_t n;
    char *e = apigw_b64_encode((const unsigned char *)"Zo\xc3\xab!", 5, &n);
    unsigned char *d = apigw_b64_decode(e, n, &n);
    CHECK(d && n == 5 && !memcmp(d, "Zo\xc3\xab!", 5), "base64 round trip");
    free(e);
    free(d);
}

int main(void)
{
    routing();
    event();
    mapping();
    return check_done("test_apigw");
}
