/*
 * The load lab's HTTP response parser: the shared one in lib/
 * (include/nerd/http_resp.h) under the lg_ names the load lab uses, with
 * its results mapped onto lg_err (LG_OK, LG_EPROTO, LG_ECLOSED) so that
 * they flow into the lg_ library's own errors.  Caps and behaviour are
 * http_resp's: status line and header lines 8 KB, 100 header lines, 64 KB
 * of head, 1 GB of body, interim 1xx responses skipped, the body counted,
 * not stored.  One parser per connection.
 */
#ifndef NERD_LG_RESP_H
#define NERD_LG_RESP_H

#include <stddef.h>

#include "lg_common.h"
#include "nerd/http_resp.h"

#define LG_RESP_MAX_BODY HTTP_RESP_MAX_BODY

typedef http_resp lg_resp;

static inline lg_err lg_resp_err(http_resp_err e)
{
    return e == HTTP_RESP_OK ? LG_OK : e == HTTP_RESP_ECLOSED ? LG_ECLOSED : LG_EPROTO;
}

/* Prepares r for a new response (http_resp_init). */
static inline void lg_resp_init(lg_resp *r) { http_resp_init(r); }

/* Feeds p[0..n) (http_resp_feed): LG_OK with r->done set when the response
 * is complete, LG_OK without it when more bytes are needed, LG_EPROTO
 * (r->error says why) on a malformed or oversized response; *used receives
 * the bytes consumed. */
static inline lg_err lg_resp_feed(lg_resp *r, const char *p, size_t n, size_t *used)
{
    return lg_resp_err(http_resp_feed(r, p, n, used));
}

/* The peer closed the connection (http_resp_eof): LG_OK (and done) when
 * the body runs to the close, LG_ECLOSED when no byte had arrived, else
 * LG_EPROTO. */
static inline lg_err lg_resp_eof(lg_resp *r) { return lg_resp_err(http_resp_eof(r)); }

#endif
