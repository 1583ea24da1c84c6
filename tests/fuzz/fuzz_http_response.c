/* libFuzzer target: the load lab's streaming HTTP response parser
 * (loadgen/resp.c).  Each input is fed at once and again in pieces whose
 * sizes come from the input's first byte; both must agree on the outcome,
 * the bytes consumed, status, body length and keep-alive, and the parser
 * must never consume more than it was given.  At the end the input is
 * closed (lg_resp_eof) as a peer would close it. */
#include <stdlib.h>
#include <string.h>

#include "lg_resp.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* Feeds in[0..n) in steps of at most step bytes (0: at once). */
static lg_err run(lg_resp *r, const char *in, size_t n, size_t step, size_t *consumed)
{
    lg_resp_init(r);
    size_t at = 0;
    lg_err rc = LG_OK;
    while (at < n && !r->done) {
        size_t k = step && n - at > step ? step : n - at, used = 0;
        rc = lg_resp_feed(r, in + at, k, &used);
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
    lg_resp a, b;
    size_t ua, ub;
    lg_err ra = run(&a, in, n, 0, &ua);
    lg_err rb = run(&b, in, n, step, &ub);
    if (ra != rb || a.done != b.done)
        abort();
    if (!ra && (ua != ub || a.status != b.status || a.body_len != b.body_len ||
                (a.done && a.keep_alive != b.keep_alive)))
        abort();
    if (ra == LG_EPROTO && !a.error)
        abort();
    if (a.done && (a.status < 100 || a.status > 999 || a.body_len > LG_RESP_MAX_BODY))
        abort();
    if (!ra && !a.done) {
        lg_err re = lg_resp_eof(&a);
        if (re == LG_OK && !a.done)
            abort();
    }
    free(in);
    return 0;
}
