/* API Gateway REST semantics and payload format 1.0 (platform/apigw_v1.c),
 * without processes (the same run under ASan+UBSan): route resolution on
 * the resource trees of tests/data/functions/rest.yaml (the spec's §1.3
 * table, trailing slashes, CORS preflights), binaryMediaTypes matching,
 * the 1.0 event (nulls, last values, base64 bodies, HTTP API's variant)
 * and result mapping (§1.7, §1.8). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "apigw_v1.h"
#include "check.h"

static int api_named(const sam_template *t, const char *name)
{
    for (size_t i = 0; i < t->n_apis; i++)
        if (!strcmp(t->apis[i].name, name))
            return (int)i;
    return -1;
}

/* "RESOURCE name=value" or "403". */
static const char *served(const sam_template *t, const char *api, const char *method,
                          const char *path)
{
    static char buf[600];
    apigw_match m;
    if (apigw_rest_route(t, api_named(t, api), method, path, &m))
        return "403";
    snprintf(buf, sizeof buf, "%s%s%s%s%s%s", m.route < 0 ? "CORS " : "",
             t->resources[m.resource].path, m.n_params ? " " : "", m.n_params ? m.names[0] : "",
             m.n_params ? "=" : "", m.n_params ? m.values[0] : "");
    return buf;
}

static void routing(const sam_template *t)
{
    static const char *const cases[][4] = {
        {"Jobs", "GET", "/jobs/reboot", "/jobs/{op} op=reboot"},
        {"Jobs", "GET", "/jobs", "/{proxy+} proxy=jobs"},
        {"Jobs", "POST", "/jobs/reboot", "/{proxy+} proxy=jobs/reboot"},
        {"Jobs", "GET", "/", "403"},
        {"Jobs", "TRACE", "/x", "403"},
        {"ServerlessRestApi", "GET", "/users/me", "/users/{userId} userId=me"},
        {"ServerlessRestApi", "PATCH", "/users/me", "/users/me"},
        {"ServerlessRestApi", "POST", "/users/me", "403"},
        {"ServerlessRestApi", "POST", "/things/real", "/things/{proxy+} proxy=real"},
        {"ServerlessRestApi", "GET", "/things/real", "/things/real"},
        {"ServerlessRestApi", "GET", "/products/", "/products"},
        {"ServerlessRestApi", "GET", "/", "/"},
        {"ServerlessRestApi", "GET", "//products", "403"},
        {"ServerlessRestApi", "HEAD", "/products/a%2Fb", "/products/{id} id=a%2Fb"},
        {"ServerlessRestApi", "OPTIONS", "/products", "403"},
        {"Shop", "OPTIONS", "/items/3", "CORS /items/{id} id=3"},
        {"Shop", "OPTIONS", "/items", "403"},
        {"Shop", "GET", "/items/3/more", "403"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *got = served(t, cases[i][0], cases[i][1], cases[i][2]);
        CHECK(!strcmp(got, cases[i][3]), "%s %s %s: %s, want %s", cases[i][0], cases[i][1],
              cases[i][2], got, cases[i][3]);
    }
}

static void media(void)
{
    CHECK(apigw_media_match("image/png", "image/PNG; q=1", 14), "exact, case, parameters");
    CHECK(apigw_media_match("image/*", "image/webp", 10), "type wildcard");
    CHECK(!apigw_media_match("image/*", "imagex/webp", 11), "type wildcard is whole");
    CHECK(apigw_media_match("*/*", "text/plain", 10), "any");
    CHECK(!apigw_media_match("image/png", "*/*", 3), "an Accept of */* is not image/png");
}

static json_t *event_of(const sam_template *t, const char *api, const char *method,
                        const char *target, const apigw_kv *h, size_t nh, const char *body,
                        size_t bl, int http_api)
{
    apigw_match m;
    char path[256];
    snprintf(path, sizeof path, "%.*s", (int)strcspn(target, "?"), target);
    if (http_api ? apigw_route(t, api_named(t, api), method, path, &m)
                 : apigw_rest_route(t, api_named(t, api), method, path, &m))
        return NULL;
    apigw_request ar = {method, target, strlen(target), h, nh, body, bl, "10.0.0.1", "rid",
                        "apiid", 1718635693506LL, NULL};
    apigw_v1_request q = {&ar, &m, http_api, http_api ? "$default" : "dev", path, strlen(path),
                          path, strlen(path), "ext=", "Root=1-x", "3000", NULL, NULL, NULL};
    size_t n;
    char *ev = apigw_v1_event(t, &q, &n);
    json_t *j = ev ? json_loadb(ev, n, 0, NULL) : NULL;
    free(ev);
    return j;
}

static void events(const sam_template *t, const sam_template *h1)
{
    apigw_kv h[] = {{"Content-Type", 12, "image/png", 9}, {"X-Forwarded-For", 15, "1.2.3.4", 7},
                    {"x-dup", 5, "a", 1}, {"x-dup", 5, "b", 1}};
    const char bin[] = {'\x89', 'P', 'N', 'G', 0, '\xff'};
    json_t *e = event_of(t, "Shop", "POST", "/upload?a=1&a=2&b", h, 4, bin, sizeof bin, 0);
    CHECK(e != NULL, "REST event");
    if (e) {
        json_t *hd = json_object_get(e, "headers"), *mv = json_object_get(e, "multiValueHeaders");
        CHECK(json_is_true(json_object_get(e, "isBase64Encoded")) &&
              !strcmp(json_string_value(json_object_get(e, "body")), "iVBORwD/"), "binary body");
        CHECK(!strcmp(json_string_value(json_object_get(hd, "x-dup")), "b") &&
              json_array_size(json_object_get(mv, "x-dup")) == 2, "last value, all values");
        CHECK(!strcmp(json_string_value(json_object_get(hd, "X-Forwarded-For")), "1.2.3.4, 10.0.0.1"),
              "X-Forwarded-For appended");
        CHECK(!strcmp(json_string_value(json_object_get(json_object_get(e, "queryStringParameters"),
                                                        "b")), ""), "a key without =");
        CHECK(json_is_null(json_object_get(e, "pathParameters")) &&
              json_is_object(json_object_get(e, "stageVariables")), "nulls and stage variables");
        json_decref(e);
    }
    apigw_kv tx[] = {{"Content-Type", 12, "text/plain", 10}};
    e = event_of(t, "Shop", "POST", "/upload", tx, 1, "\xff\xfe", 2, 0);
    CHECK(e && json_is_true(json_object_get(e, "isBase64Encoded")), "text not UTF-8: base64");
    json_decref(e);
    e = event_of(t, "ServerlessRestApi", "GET", "/products", NULL, 0, "", 0, 0);
    CHECK(e && json_is_null(json_object_get(e, "body")) &&
          json_is_null(json_object_get(e, "queryStringParameters")) &&
          json_is_null(json_object_get(e, "multiValueQueryStringParameters")) &&
          !json_object_get(json_object_get(e, "requestContext"), "authorizer"), "REST nulls");
    json_decref(e);
    apigw_kv mixed[] = {{"X-Mixed", 7, "v", 1}};
    e = event_of(h1, "ServerlessHttpApi", "GET", "/v1/items/5", mixed, 1, NULL, 0, 1);
    json_t *c = e ? json_object_get(e, "requestContext") : NULL;
    CHECK(e && !strcmp(json_string_value(json_object_get(e, "version")), "1.0") &&
          json_object_get(json_object_get(e, "headers"), "x-mixed") &&
          json_is_null(json_object_get(c, "resourceId")) &&
          json_is_null(json_object_get(json_object_get(c, "authorizer"), "claims")) &&
          !strcmp(json_string_value(json_object_get(e, "resource")), "/v1/items/{id}"),
          "HTTP API 1.0 event");
    json_decref(e);
}

/* Maps payload for REST (accept: the Accept header) or HTTP; the status
 * (0: refused, -N: APIGW_V1_ code N) and the body in out. */
static int mapped(const sam_api *a, const char *payload, int http, const char *accept,
                  apigw_response *out)
{
    apigw_v1_options o = {http, a, accept, accept ? strlen(accept) : 0, 200};
    int rc = apigw_v1_map_result(payload, strlen(payload), &o, out);
    return rc == APIGW_V1_OK ? out->status : -rc;
}

static const char *header(const apigw_response *r, const char *name, int nth)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (!strcmp(r->headers[i][0], name) && nth-- == 0)
            return r->headers[i][1];
    return NULL;
}

static void results(const sam_template *t)
{
    const sam_api *shop = &t->apis[api_named(t, "Shop")];
    apigw_response o;
    static const struct {
        const char *payload;
        int http, status;
    } cases[] = {
        {"{\"statusCode\":204}", 0, 204},
        {"{\"statusCode\":\"201\",\"body\":null}", 0, 201},
        {"{\"body\":\"x\"}", 0, 200},
        {"{\"body\":\"x\"}", 1, -APIGW_V1_MALFORMED},
        {"{\"statusCode\":200,\"cookies\":[\"a=b\"]}", 0, -APIGW_V1_MALFORMED},
        {"{\"statusCode\":200,\"cookies\":[\"a=b\"]}", 1, 200},
        {"{\"statusCode\":200,\"body\":{\"a\":1}}", 0, -APIGW_V1_MALFORMED},
        {"{\"statusCode\":200,\"body\":5}", 1, -APIGW_V1_MALFORMED},
        {"\"text\"", 0, -APIGW_V1_MALFORMED},
        {"null", 0, -APIGW_V1_MALFORMED},
        {"[1]", 0, -APIGW_V1_MALFORMED},
        {"{\"statusCode\":", 0, -APIGW_V1_MALFORMED},
        {"{\"statusCode\":99}", 0, -APIGW_V1_MALFORMED},
        {"{\"statusCode\":200,\"headers\":{\"a\":[1]}}", 0, -APIGW_V1_MALFORMED},
        {"{\"statusCode\":200,\"multiValueHeaders\":{\"a\":\"1\"}}", 0, -APIGW_V1_MALFORMED},
        {"{\"statusCode\":200,\"isBase64Encoded\":\"yes\"}", 0, -APIGW_V1_MALFORMED},
        {"{\"statusCode\":200,\"isBase64Encoded\":\"true\",\"body\":\"!!\"}", 0,
         -APIGW_V1_BAD_BASE64},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int got = mapped(shop, cases[i].payload, cases[i].http, "image/png", &o);
        CHECK(got == cases[i].status, "%s (%s): %d, want %d", cases[i].payload,
              cases[i].http ? "HTTP" : "REST", got, cases[i].status);
        apigw_response_fini(&o);
    }
    int st = mapped(shop, "{\"statusCode\":200,\"headers\":{\"A\":\"1\",\"B\":\"x\",\"N\":7,"
                    "\"T\":true,\"Z\":null},\"multiValueHeaders\":{\"a\":[\"1\",\"2\"]},"
                    "\"body\":\"ok\"}", 0, NULL, &o);
    CHECK(st == 200 && !header(&o, "A", 0) && !strcmp(header(&o, "a", 1), "2") &&
          !strcmp(header(&o, "N", 0), "7") && !strcmp(header(&o, "T", 0), "true") &&
          !header(&o, "Z", 0) && !strcmp(header(&o, "Content-Type", 0), "application/json") &&
          o.body_len == 2, "headers merged: a pair in both once");
    apigw_response_fini(&o);
    const char *png = "{\"statusCode\":200,\"headers\":{\"content-type\":\"image/png\"},"
                      "\"base64Encoded\":true,\"body\":\"AAE=\"}";
    st = mapped(shop, png, 0, "image/png, */*", &o);
    CHECK(st == 200 && o.body_len == 2 && o.body[1] == 1 && !header(&o, "Content-Type", 0),
          "decoded for a binary Accept (SAM's base64Encoded)");
    apigw_response_fini(&o);
    st = mapped(shop, png, 0, "text/html, image/png", &o);
    CHECK(st == 200 && o.body_len == 4 && !memcmp(o.body, "AAE=", 4), "the first Accept decides");
    apigw_response_fini(&o);
    st = mapped(shop, "{\"statusCode\":200,\"isBase64Encoded\":true,\"body\":\"AAE=\"}", 1, NULL, &o);
    CHECK(st == 200 && o.body_len == 2, "HTTP API: always decoded");
    apigw_response_fini(&o);
    st = mapped(shop, png, 1, NULL, &o);
    CHECK(st == 200 && o.body_len == 4, "HTTP API: SAM's base64Encoded is REST's only");
    apigw_response_fini(&o);
}

int main(void)
{
    char err[512];
    sam_template *t = NULL, *h1 = NULL;
    CHECK(sam_load("tests/data/functions/rest.yaml", NULL, 0, &t, err, sizeof err) == 0,
          "rest.yaml: %s", err);
    CHECK(sam_load("tests/data/functions/httpv1.yaml", NULL, 0, &h1, err, sizeof err) == 0,
          "httpv1.yaml: %s", err);
    if (t && h1) {
        routing(t);
        events(t, h1);
        results(t);
    }
    media();
    free(t);
    free(h1);
    return check_done("test_apigw_v1");
}
