/* libFuzzer target: what a Lambda authorizer answers (platform/
 * az_policy.c), parsed for every authorizer type and invocation outcome
 * (the first byte chooses), then decided against a fixed method ARN and
 * against one taken from the input (policy globs), cached and read back,
 * and written as requestContext.authorizer in the three formats, each of
 * which must be valid JSON; plus identity source expressions and the event
 * of a request whose path, headers and query come from the same bytes
 * (valid JSON, or refused).  Must never crash or hang; answers must be the spec's statuses. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "authorizer.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void must_be_json(az_result *r, az_integration fmt)
{
    jw w;
    jw_init(&w, 8u << 20);
    az_write_authorizer(r, fmt, 7, &w);
    size_t n;
    char *s = jw_finish(&w, &n);
    if (!s)
        return; /* over the cap */
    json_error_t e;
    json_t *j = json_loadb(s, n, 0, &e);
    if (!json_is_object(j))
        abort();
    json_decref(j);
    free(s);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned sel = data[0];
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    az_config c;
    memset(&c, 0, sizeof c);
    c.type = (az_type)(sel & 3);
    c.simple_responses = c.type == AZ_HTTP_V2 && (sel & 4);
    c.ttl_s = 60;
    c.cache_max = 4;
    c.deny_lowercase = (sel >> 5) & 1;
    c.http_deny_401 = (sel >> 5) & 1;
    if (c.type != AZ_REST_TOKEN)
        az_sources_parse("method.request.header.Authorization", &c);
    az_authorizer *a;
    if (az_new(&c, &a))
        abort();
    az_invoke how = (az_invoke)((sel >> 3) & 3);
    if (how > AZ_INVOKE_FAILED)
        how = AZ_INVOKE_OK;
    az_result *r;
    if (az_parse(a, how, p, n, &r) == AZ_OK) {
        static const char arn[] =
            "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/items/42";
        az_verdict v = az_decide(r, arn);
        /* an ARN from the input: the globs against arbitrary text */
        char own[512];
        size_t k = n < sizeof own - 1 ? n : sizeof own - 1;
        memcpy(own, p, k);
        own[k] = 0;
        az_verdict v2 = az_decide(r, own);
        az_answer ans;
        az_answer_of(a, v, &ans);
        if (v > AZ_ARN_TOO_LONG || v2 > AZ_ARN_TOO_LONG ||
            (v == AZ_ALLOW) != (ans.status == 0) ||
            (ans.status && ans.status != 401 && ans.status != 403 && ans.status != 500) ||
            (ans.status && strlen(ans.body) != ans.body_len))
            abort();
        if (v == AZ_ALLOW || az_result_cacheable(r)) {
            must_be_json(r, AZ_INT_REST);
            must_be_json(r, AZ_INT_HTTP_V1);
            must_be_json(r, AZ_INT_HTTP_V2);
        }
        /* cached and read back: the same decision */
        apigw_kv h = {"Authorization", 13, "t", 1};
        az_request req;
        memset(&req, 0, sizeof req);
        req.headers = &h;
        req.n_headers = 1;
        az_identity id;
        az_verdict iv;
        if (az_identify(a, &req, &id, &iv) == AZ_OK && iv == AZ_ALLOW) {
            az_cache_put(a, &id, r, 0);
            az_result *hit = az_cache_get(a, &id, 1);
            if (hit && az_decide(hit, arn) != v)
                abort();
            if (!hit && az_result_cacheable(r))
                abort();
            az_result_free(hit);
        }
        az_identity_fini(&id);
        az_result_free(r);
    }
    /* the event of a request made of the input */
    size_t third = n / 3;
    char *path = malloc(third + 2);
    if (path) {
        path[0] = '/';
        memcpy(path + 1, p, third);
        path[third + 1] = 0;
        apigw_kv hs[3] = {{"Authorization", 13, p + third, third},
                          {p, third < 40 ? third : 40, p + 2 * third, n - 2 * third},
                          {"cookie", 6, p + third, n - third}};
        apigw_kv q[2] = {{"q", 1, p, third}, {p + third, third < 8 ? third : 8, "v", 1}};
        az_request req;
        memset(&req, 0, sizeof req);
        req.method = "GET";
        req.path = path;
        req.route_key = "$default";
        req.raw_query = "";
        req.headers = hs;
        req.n_headers = 3;
        req.query = q;
        req.n_query = 2;
        req.stage = "prod";
        req.api_id = "api";
        req.request_id = "id";
        req.source_ip = "127.0.0.1";
        az_identity id;
        az_verdict iv;
        char *ev = NULL;
        size_t el;
        if (az_identify(a, &req, &id, &iv) == AZ_OK && iv == AZ_ALLOW &&
            az_event(a, &req, &id, &ev, &el) == AZ_OK) {
            json_error_t e;
            json_t *j = json_loadb(ev, el, JSON_ALLOW_NUL, &e);
            if (!json_is_object(j))
                abort();
            json_decref(j);
        }
        free(ev);
        az_identity_fini(&id);
        free(path);
    }
    az_free(a);
    az_source s;
    az_source_parse(p, n, &s);
    return 0;
}
