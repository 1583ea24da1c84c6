/*
 * Bounded, incremental HTTP/1.x response parser of the load lab.  It is
 * fed bytes as they arrive and keeps no copy of them: only the status
 * code, a short reason phrase and the few headers that frame the body
 * (Content-Length, Transfer-Encoding: chunked, Connection) are kept, and
 * the body is counted, not stored.  Interim 1xx responses are skipped.
 * Caps: status line and each header line 8 KB, 100 header lines, 64 KB
 * of head, 1 GB of body.  Not thread safe: one parser per connection.
 */
#ifndef NERD_LG_RESP_H
#define NERD_LG_RESP_H

#include <stddef.h>
#include <stdint.h>

#include "lg_common.h"

#define LG_RESP_LINE_CAP 8192
#define LG_RESP_MAX_HEADERS 100
#define LG_RESP_MAX_HEAD 65536
#define LG_RESP_MAX_BODY (1ull << 30)
#define LG_RESP_REASON 64

typedef struct lg_resp {
    /* results, valid once done */
    int status;                     /* 100..999 */
    int keep_alive;                 /* the connection may carry another request */
    int done;                       /* a whole response was parsed */
    uint64_t body_len;              /* body bytes (decoded, for chunked) */
    uint64_t bytes;                 /* bytes consumed, head included */
    char reason[LG_RESP_REASON];    /* reason phrase, truncated */
    const char *error;              /* static text after LG_EPROTO */
    /* parser state */
    int state, minor, chunked, has_cl, until_close, n_headers;
    uint64_t remaining, content_length, head_bytes;
    size_t line_len;                /* bytes of the current line kept in line[] */
    size_t line_total;              /* bytes of the current line seen */
    char line[256];                 /* start of the current line */
} lg_resp;

/* Prepares r for a new response. */
void lg_resp_init(lg_resp *r);

/* Feeds p[0..n); *used receives the bytes consumed (parsing stops at the
 * end of a response, so bytes after it are not consumed).  LG_OK with
 * r->done set when the response is complete, LG_OK without it when more
 * bytes are needed, LG_EPROTO (r->error says why) on a malformed or
 * oversized response.  Never reads outside p[0..n). */
lg_err lg_resp_feed(lg_resp *r, const char *p, size_t n, size_t *used);

/* The peer closed the connection: LG_OK (and done) when the body runs to
 * the close, LG_ECLOSED when no byte had arrived, else LG_EPROTO. */
lg_err lg_resp_eof(lg_resp *r);

#endif
