/* libFuzzer target: the gateway's parsing of Lambda results (JSON via
 * jansson, statusCode/headers/cookies/body, base64), its event builder on
 * an arbitrary request target, header and body, and its query-string
 * look-up (ListFunctions' MaxItems and Marker, GetFunction's Qualifier). */
#include <stdlib.h>
#include <string.h>

#include "apigw.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    apigw_response o;
    if (apigw_map_result((const char *)data, size, &o) == 0) {
        if (o.status < 100 || o.status > 599 || (o.body_len && !o.body))
            abort();
        apigw_response_fini(&o);
    }
    size_t n;
    unsigned char *d = apigw_b64_decode((const char *)data, size, &n);
    free(d);
    static const char *const keys[] = {"MaxItems", "Marker", "Qualifier", ""};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        char v[32];
        long k = apigw_query_param((const char *)data, size, keys[i], v, sizeof v);
        if (k < -2 || k >= (long)sizeof v || (k >= 0 && strlen(v) != (size_t)k))
            abort();
    }
    /* event: split the input into target / header value / body */
    static sam_template t;
    if (!t.n_routes) {
        t.n_routes = 1;
        t.n_functions = 1;
        t.n_apis = 1;
        strcpy(t.routes[0].method, "ANY");
        strcpy(t.routes[0].path, "/{proxy+}");
    }
    size_t a = size / 3, b = 2 * size / 3;
    char *target = malloc(a + 2);
    if (!target)
        return 0;
    target[0] = '/';
    memcpy(target + 1, data, a);
    target[a + 1] = 0;
    apigw_kv h[2] = {{"Cookie", 6, (const char *)data + a, b - a},
                     {"Content-Type", 12, "text/plain", 10}};
    apigw_request r = {"POST", target, strlen(target), h, size & 1 ? 2 : 1,
                       (const char *)data + b, size - b, "127.0.0.1", "id", "api", 0,
                       size & 2 ? "{\"lambda\":{\"k\":\"v\"}}" : NULL};
    apigw_match m;
    if (apigw_route(&t, 0, "POST", target, &m) == 0) {
        char *ev = apigw_event(&t, &m, &r, &n);
        free(ev);
    }
    free(target);
    return 0;
}
