/*
 * Bounded, incremental HTTP/1.x response parser, shared by the load lab
 * (loadgen/, through loadgen/lg_resp.h) and the NER function's Lambda
 * Runtime API client (function/rtclient.c).  It is fed bytes as they arrive
 * and keeps no copy of them: the status code, a short reason phrase and the
 * headers that frame the body (Content-Length, Transfer-Encoding: chunked,
 * Connection) are kept, the body is counted; a caller that needs more sets
 * the optional callbacks, which receive every header of the final response
 * (name and value, trimmed) and the body's bytes (decoded, for chunked).
 * Interim 1xx responses are skipped.  Caps: status line and each header
 * line 8 KB (only lines up to HTTP_RESP_KEPT bytes reach on_header), 100
 * header lines, 64 KB of head, 1 GB of body.  Not thread safe: one parser
 * per connection; no global state, no allocation.
 */
#ifndef NERD_HTTP_RESP_H
#define NERD_HTTP_RESP_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_RESP_LINE_CAP 8192
#define HTTP_RESP_MAX_HEADERS 100
#define HTTP_RESP_MAX_HEAD 65536
#define HTTP_RESP_MAX_BODY (1ull << 30)
#define HTTP_RESP_REASON 64
#define HTTP_RESP_KEPT 512   /* bytes of a line kept (and given to on_header) */

/* Results of http_resp_feed() and http_resp_eof(); 0 is success. */
typedef enum http_resp_err {
    HTTP_RESP_OK = 0,
    HTTP_RESP_EPROTO,   /* malformed or oversized response (error says why) */
    HTTP_RESP_ECLOSED   /* the connection closed before any byte of a response */
} http_resp_err;

/* A header line of the final response: name[0..name_len) and the value
 * without surrounding blanks, value[0..value_len); both point into the
 * parser and are valid during the call only.  Lines longer than
 * HTTP_RESP_KEPT bytes are not reported. */
typedef void http_resp_header_fn(void *arg, const char *name, size_t name_len,
                                 const char *value, size_t value_len);
/* Body bytes p[0..n), in order, chunk framing removed; p points into the
 * bytes given to http_resp_feed(). */
typedef void http_resp_body_fn(void *arg, const char *p, size_t n);

typedef struct http_resp {
    /* results, valid once done */
    int status;                     /* 100..999 */
    int keep_alive;                 /* the connection may carry another request */
    int done;                       /* a whole response was parsed */
    uint64_t body_len;              /* body bytes (decoded, for chunked) */
    uint64_t bytes;                 /* bytes consumed, head included */
    uint64_t head_bytes;            /* bytes of every head (1xx ones included) */
    char reason[HTTP_RESP_REASON];  /* reason phrase, truncated */
    const char *error;              /* static text after HTTP_RESP_EPROTO */
    /* optional callbacks (NULL: none); http_resp_init() clears them */
    http_resp_header_fn *on_header;
    http_resp_body_fn *on_body;
    void *arg;                      /* passed to both */
    /* parser state */
    int state, minor, chunked, has_cl, until_close, n_headers;
    uint64_t remaining, content_length;
    size_t line_len;                /* bytes of the current line kept in line[] */
    size_t line_total;              /* bytes of the current line seen */
    char line[HTTP_RESP_KEPT];      /* start of the current line */
} http_resp;

/* Prepares r for a new response (results and callbacks cleared; set the
 * callbacks after this). */
void http_resp_init(http_resp *r);

/* Feeds p[0..n); *used (may be NULL) receives the bytes consumed: parsing
 * stops at the end of a response, so bytes after it are not consumed.
 * HTTP_RESP_OK with r->done set when the response is complete, without it
 * when more bytes are needed; HTTP_RESP_EPROTO (r->error says why) on a
 * malformed or oversized response.  Never reads outside p[0..n). */
http_resp_err http_resp_feed(http_resp *r, const char *p, size_t n, size_t *used);

/* The peer closed the connection: HTTP_RESP_OK (and done) when the body
 * runs to the close, HTTP_RESP_ECLOSED when no byte had arrived, else
 * HTTP_RESP_EPROTO. */
http_resp_err http_resp_eof(http_resp *r);

#endif
