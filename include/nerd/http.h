/*
 * HTTP/1.1 request parsing shared by the local platform's servers (API
 * gateway, Runtime API, invoke API) and the function's HTTP mode.
 *
 * The parser is incremental and allocation-free: the caller keeps the bytes
 * of a connection in its own buffer (which may move between calls) and calls
 * http_parse() each time more arrive; results are offsets into that buffer.
 * It handles keep-alive, Content-Length and chunked bodies (chunk extensions
 * ignored, trailer fields kept), Expect: 100-continue and pipelining, and
 * refuses what a server must refuse (bad syntax, both Content-Length and
 * Transfer-Encoding, oversized heads and bodies) with the status to answer.
 * One parser per connection; no global state.
 */
#ifndef NERD_HTTP_H
#define NERD_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEADERS 64
#define HTTP_MAX_TRAILERS 16

/* Results of http_parse(): 0 = complete, 1 = need more bytes; negative =
 * malformed (see http_error_status()). */
enum http_result {
    HTTP_DONE = 0,
    HTTP_MORE = 1,
    HTTP_EBAD = -1,      /* 400: syntax, framing or header error */
    HTTP_EHEAD = -2,     /* 431: request line + headers too large or too many */
    HTTP_EBODY = -3,     /* 413: body over the parser's max_body */
    HTTP_EVERSION = -4,  /* 505: not HTTP/1.0 or HTTP/1.1 */
    HTTP_ETE = -5,       /* 501: a Transfer-Encoding other than chunked */
    HTTP_EURI = -6       /* 414: request target too long */
};

/* A header or trailer field: offsets into the caller's buffer. */
typedef struct http_field {
    uint32_t name, name_len, value, value_len;
} http_field;

typedef struct http_request {
    uint32_t method, method_len;
    uint32_t target, target_len;
    int minor;                      /* HTTP/1.<minor> */
    uint32_t n_headers, n_trailers;
    http_field headers[HTTP_MAX_HEADERS];
    http_field trailers[HTTP_MAX_TRAILERS];
    uint32_t body, body_len;        /* decoded body (chunked bodies in place) */
    uint64_t content_length;        /* as declared, when not chunked */
    unsigned keep_alive : 1, chunked : 1, expect_continue : 1;
} http_request;

typedef struct http_parser {
    size_t max_head, max_body;
    /* internal state */
    int state;
    size_t scan, head_len, rd, wr;
    uint64_t chunk_left;
    http_request req;
} http_parser;

/* Prepares p for a new message.  max_head caps request line + headers,
 * max_body the (decoded) body, in bytes. */
void http_parser_init(http_parser *p, size_t max_head, size_t max_body);

/* Parses the message that starts at buf[0]; buf[0..len) holds every byte
 * received for it so far (and maybe the start of the next, pipelined one).
 * Chunked bodies are decoded in place, so buf is modified.  Call again with
 * the same (possibly moved and grown) bytes after more arrive.  On HTTP_DONE,
 * p->req describes the request and *used is the number of bytes of buf the
 * message occupied; the next message starts at buf[*used]. */
int http_parse(http_parser *p, char *buf, size_t len, size_t *used);

/* 1 when the head is complete, the client asked for 100-continue and the
 * body has not started: the server should send "100 Continue" now. */
int http_wants_continue(const http_parser *p);

/* 1 once the request line and headers of the message being parsed are
 * complete (for a server's head deadline), else 0. */
int http_head_complete(const http_parser *p);

/* Status code to answer for a negative http_parse() result (400, 413, 414,
 * 431, 501, 505), and a short reason phrase for any status. */
int http_error_status(int result);
const char *http_reason(int status);

/* Writes p[0..n) to socket fd, retrying short writes and EINTR, without
 * SIGPIPE if the peer has gone.  Returns 0, or -1 on error (including
 * EAGAIN on a non-blocking socket). */
int http_send_all(int fd, const char *p, size_t n);

/* Like http_send_all() for a head and a body in one system call where they
 * fit (one TCP segment for small replies, so Nagle's algorithm never holds
 * the body back).  Either part may be empty. */
int http_send2(int fd, const char *a, size_t alen, const char *b, size_t blen);

/* The same on a non-blocking socket: writes what the socket takes now
 * (retrying short writes and EINTR, stopping at EAGAIN) and says how much
 * in *sent.  0, or -1 on an error of the connection. */
int http_send2_some(int fd, const char *a, size_t alen, const char *b, size_t blen,
                    size_t *sent);

/* Finds header `name` (case-insensitive) in r (trailers too when
 * with_trailers); returns a pointer into buf and its length, or NULL. */
const char *http_header(const http_request *r, const char *buf, const char *name,
                        size_t *len, int with_trailers);

#endif
