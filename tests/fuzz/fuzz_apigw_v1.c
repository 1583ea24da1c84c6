/* libFuzzer target: payload format 1.0 (platform/apigw_v1.c).  The input
 * is read as a Lambda result (REST and HTTP API mapping, with an Accept
 * header and binaryMediaTypes), and split into a request path, a header
 * value and a body for REST route resolution and the 1.0 event of both
 * kinds of API.  Must never crash; a mapped result must hold together and
 * an event must be JSON. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "apigw_v1.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static const char TEMPLATE[] =
    "Globals: {Function: {Runtime: provided.al2023, CodeUri: .}}\n"
    "Resources:\n"
    "  F:\n"
    "    Type: AWS::Serverless::Function\n"
    "    Properties:\n"
    "      Events:\n"
    "        A: {Type: Api, Properties: {RestApiId: !Ref R, Path: '/{proxy+}', Method: any}}\n"
    "        B: {Type: Api, Properties: {RestApiId: !Ref R, Path: '/items/{id}', Method: get}}\n"
    "        C: {Type: Api, Properties: {RestApiId: !Ref R, Path: /items/x, Method: post}}\n"
    "        D: {Type: Api, Properties: {RestApiId: !Ref R, Path: '/a/{b}/c/{d}', Method: get}}\n"
    "        E: {Type: HttpApi, Properties: {Path: '/h/{p+}', PayloadFormatVersion: '1.0'}}\n"
    "  R:\n"
    "    Type: AWS::Serverless::Api\n"
    "    Properties:\n"
    "      StageName: dev\n"
    "      Variables: {v: w}\n"
    "      BinaryMediaTypes: [image~1png, text~1*]\n"
    "      Cors: \"'*'\"\n";

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static sam_template *t;
    char err[256];
    if (!t && sam_load_mem("fuzz.yaml", TEMPLATE, sizeof TEMPLATE - 1, NULL, 0, &t, err,
                           sizeof err))
        abort();
    int rest = 0, http = 1;
    for (size_t i = 0; i < t->n_apis; i++)
        if (t->apis[i].type == SAM_REST_API)
            rest = (int)i;
        else
            http = (int)i;
    /* the input as a result */
    apigw_response o;
    for (int h = 0; h < 2; h++) {
        apigw_v1_options opt = {h, &t->apis[rest], (const char *)data, size < 40 ? size : 40, 200};
        int rc = apigw_v1_map_result((const char *)data, size, &opt, &o);
        if (rc == APIGW_V1_OK) {
            if (o.status < 100 || o.status > 599 || (o.body_len && !o.body) || !o.n_headers)
                abort();
            apigw_response_fini(&o);
        } else if (rc != APIGW_V1_MALFORMED && rc != APIGW_V1_BAD_BASE64 && rc != -1) {
            abort();
        }
    }
    /* the input as a request: path?query | header value | body */
    size_t a = size / 3, b = 2 * size / 3;
    char *target = malloc(a + 2), *path = malloc(a + 2);
    if (!target || !path)
        goto out;
    target[0] = '/';
    memcpy(target + 1, data, a);
    target[a + 1] = 0;
    size_t tl = strlen(target); /* (a NUL ends it, as the HTTP parser would refuse one) */
    size_t pl = strcspn(target, "?");
    memcpy(path, target, pl);
    path[pl] = 0;
    static const char *const methods[] = {"GET", "POST", "OPTIONS", "DELETE", "BREW"};
    const char *method = methods[size % 5];
    apigw_kv hs[3] = {{"Content-Type", 12, (const char *)data + a, b - a},
                      {"X-Forwarded-For", 15, "1.1.1.1", 7},
                      {(const char *)data + a, b - a, "v", 1}};
    apigw_request ar = {method, target, tl, hs, 3, (const char *)data + b, size - b, "127.0.0.1",
                        "id", "api", 0, NULL};
    apigw_match m;
    for (int h = 0; h < 2; h++) {
        int found = h ? apigw_route(t, http, method, path, &m) == 0
                      : apigw_rest_route(t, rest, method, path, &m) == 0;
        if (!found || m.route < 0)
            continue;
        if (m.route >= (int)t->n_routes || m.n_params > APIGW_MAX_PARAMS)
            abort();
        apigw_v1_request q = {&ar, &m, h, "dev", path, pl, target, pl, "ext", "Root=1-x", "80",
                              size & 1 ? "{\"principalId\":\"p\"}" : NULL, size & 2 ? "k" : NULL,
                              size & 2 ? "kid" : NULL};
        size_t n;
        char *ev = apigw_v1_event(t, &q, &n);
        if (ev) {
            json_t *j = json_loadb(ev, n, JSON_ALLOW_NUL, NULL);
            if (!j)
                abort();
            json_decref(j);
            free(ev);
        }
    }
out:
    free(target);
    free(path);
    return 0;
}
