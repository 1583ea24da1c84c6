/* libFuzzer target: the HTTP/1.1 request parser.  Each input is parsed at
 * once and again in two pieces split at a byte chosen by the input; both
 * must agree, and every offset must stay inside the input. */
#include <stdlib.h>
#include <string.h>

#include "nerd/http.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void check_req(const http_request *r, size_t len)
{
    if ((size_t)r->method + r->method_len > len || (size_t)r->target + r->target_len > len ||
        (size_t)r->body + r->body_len > len || r->n_headers > HTTP_MAX_HEADERS ||
        r->n_trailers > HTTP_MAX_TRAILERS)
        abort();
    for (uint32_t i = 0; i < r->n_headers; i++)
        if ((size_t)r->headers[i].value + r->headers[i].value_len > len)
            abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t split = data[0] % (size + 1), n = size - 1;
    const char *in = (const char *)data + 1;
    char *a = malloc(n + 1), *b = malloc(n + 1);
    http_parser p, q;
    size_t ua = 0, ub = 0;
    memcpy(a, in, n);
    http_parser_init(&p, 4096, 65536);
    int ra = http_parse(&p, a, n, &ua);
    if (split > n)
        split = n;
    memcpy(b, in, split);
    http_parser_init(&q, 4096, 65536);
    int rb = http_parse(&q, b, split, &ub);
    if (rb == HTTP_MORE) {
        memcpy(b + split, in + split, n - split);
        rb = http_parse(&q, b, n, &ub);
    }
    if (ra != rb && !(ra < 0 && rb < 0))
        abort();
    if (ra == HTTP_DONE) {
        if (ua != ub || ua > n || p.req.body_len != q.req.body_len ||
            memcmp(a + p.req.body, b + q.req.body, p.req.body_len) != 0)
            abort();
        check_req(&p.req, n);
    }
    free(a);
    free(b);
    return 0;
}
