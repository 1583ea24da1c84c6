/* libFuzzer target: the shared streaming HTTP response parser
 * (lib/http_resp.c; the load lab's and the Lambda Runtime API client's).
 * Each input is fed at once and again in pieces whose sizes come from the
 * input's first byte, with both callbacks set; the two runs must agree on
 * the outcome, the bytes consumed, status, body length, keep-alive, the
 * headers reported and the body bytes (a checksum), the body reported must
 * be exactly body_len bytes, every reported name a token and every value
 * free of CR and LF, and the parser must never consume more than it was
 * given.  At the end the input is closed (http_resp_eof) as a peer would
 * close it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nerd/http_resp.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

typedef struct seen {
    uint64_t body, sum, headers, hsum;
} seen;

static uint64_t mix(uint64_t h, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

static void on_header(void *arg, const char *name, size_t nl, const char *v, size_t vl)
{
    seen *s = arg;
    if (!nl || nl + vl > HTTP_RESP_KEPT)
        abort();
    for (size_t i = 0; i < nl; i++)
        if (name[i] == ':' || name[i] == ' ' || name[i] == '\r' || name[i] == '\n')
            abort();
    if (memchr(v, '\r', vl) || memchr(v, '\n', vl) || (vl && (v[0] == ' ' || v[vl - 1] == ' ')))
        abort();
    s->headers++;
    s->hsum = mix(mix(s->hsum, name, nl), v, vl);
}

static void on_body(void *arg, const char *p, size_t n)
{
    seen *s = arg;
    if (!n)
        abort();
    s->body += n;
    s->sum = mix(s->sum, p, n);
}

/* Feeds in[0..n) in steps of at most step bytes (0: at once). */
static http_resp_err run(http_resp *r, seen *s, const char *in, size_t n, size_t step,
                         size_t *consumed)
{
    http_resp_init(r);
    memset(s, 0, sizeof *s);
    r->on_header = on_header;
    r->on_body = on_body;
    r->arg = s;
    size_t at = 0;
    http_resp_err rc = HTTP_RESP_OK;
    while (at < n && !r->done) {
        size_t k = step && n - at > step ? step : n - at, used = 0;
        rc = http_resp_feed(r, in + at, k, &used);
        if (used > k)
            abort();
        at += used;
        if (rc)
            break;
        if (!r->done && used != k)
            abort(); /* an unfinished response takes every byte */
    }
    *consumed = at;
    return rc;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = data[0] % 17, n = size - 1;
    char *in = malloc(n ? n : 1);
    memcpy(in, data + 1, n);
    http_resp a, b;
    seen sa, sb;
    size_t ua, ub;
    http_resp_err ra = run(&a, &sa, in, n, 0, &ua);
    http_resp_err rb = run(&b, &sb, in, n, step, &ub);
    if (ra != rb || a.done != b.done)
        abort();
    if (!ra && (ua != ub || a.status != b.status || a.body_len != b.body_len ||
                (a.done && a.keep_alive != b.keep_alive)))
        abort();
    if (!ra && (sa.body != sb.body || sa.sum != sb.sum || sa.headers != sb.headers ||
                sa.hsum != sb.hsum))
        abort();
    if (!ra && sa.body != a.body_len)
        abort();
    if (ra == HTTP_RESP_EPROTO && !a.error)
        abort();
    if (a.done && (a.status < 100 || a.status > 999 || a.body_len > HTTP_RESP_MAX_BODY))
        abort();
    if (!ra && !a.done) {
        http_resp_err re = http_resp_eof(&a);
        if (re == HTTP_RESP_OK && !a.done)
            abort();
    }
    free(in);
    return 0;
}
