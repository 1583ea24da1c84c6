/*
 * HTTP and JSON helpers shared by the functions' handlers (the NER
 * function, function/handler.c, and the products API,
 * function/products/products.c): a growable output buffer with a size cap,
 * JSON string escaping, the JSON error body {"error","message"}, media
 * type, percent and base64 decoding, query strings, and the Lambda side of
 * API Gateway — an event (payload 2.0, or 1.0 from a REST API or an HTTP
 * API) read into method, path, query, content type and body, and the
 * structured result {"statusCode","headers","isBase64Encoded","body"},
 * which both payload versions accept.
 *
 * Everything here is reentrant: state lives in the caller's fh_buf and
 * fh_event.  Prefix fh_.
 */
#ifndef NERD_FUNCTION_FNHTTP_H
#define NERD_FUNCTION_FNHTTP_H

#include <jansson.h>
#include <stddef.h>

/* A growable byte buffer, NUL-terminated after len once anything is put.
 * Growth stops at max bytes (0: 64 MB): the buffer then sets oom and
 * ignores further puts until fh_buf_reset().  Zero-initialise, set max. */
typedef struct fh_buf {
    char *p;
    size_t len, cap, max;
    int oom; /* a put did not fit (cap reached, or out of memory) */
} fh_buf;

/* Empties b (keeps its memory) and clears oom. */
void fh_buf_reset(fh_buf *b);

/* Frees b's memory; the struct may be reused (empty) afterwards. */
void fh_buf_free(fh_buf *b);

/* Appends s[0..n), a C string, an unsigned number in decimal. */
void fh_put(fh_buf *b, const char *s, size_t n);
void fh_puts(fh_buf *b, const char *s);
void fh_putu(fh_buf *b, unsigned long v);

/* Appends s[0..n) as the inside of a JSON string: valid UTF-8 passes
 * through, each invalid byte becomes U+FFFD, quotes, backslashes and
 * control characters are escaped. */
void fh_put_escaped(fh_buf *b, const char *s, size_t n);

/* Length (2..4) of the valid UTF-8 sequence of a non-ASCII first byte at
 * s[0..n), or 0 (invalid, overlong, a surrogate, beyond U+10FFFF). */
size_t fh_utf8_len(const unsigned char *s, size_t n);

/* Whether the media type ct[0..n) (parameters ignored) is
 * application/json or a +json type. */
int fh_media_is_json(const char *ct, size_t n);

/* Percent-decodes s[0..n) ('+' is a space) into o (cap bytes, not
 * NUL-terminated); returns the decoded length, or cap + 1 when it does not
 * fit. */
size_t fh_pct_decode(const char *s, size_t n, char *o, size_t cap);

/* Decodes base64 (standard or URL-safe alphabet, padding optional, line
 * breaks skipped) into o, which has room for n / 4 * 3 + 3 bytes; returns
 * the decoded length, or -1 on a character outside the alphabet. */
long fh_b64_decode(const char *s, size_t n, char *o);

/* The value of parameter key in the raw query string q[0..n) (without its
 * "?"; names and values percent-decoded; the last occurrence counts) into
 * val (cap bytes, not NUL-terminated).  Returns its length, -1 when the
 * parameter is absent, cap + 1 when the value does not fit. */
long fh_query_get(const char *q, size_t n, const char *key, char *val, size_t cap);

/* An HTTP answer.  body is borrowed (from an fh_buf or static data). */
typedef struct fh_response {
    int status;
    const char *content_type; /* NULL: application/json */
    const char *allow;        /* Allow header (405, OPTIONS), else NULL */
    const char *body;
    size_t body_len;
} fh_response;

/* Sets r to status with the body {"error":err,"message":<fmt...>} written
 * into out (emptied first; the message is cut at 511 bytes).  Should out be
 * full, a static {"error":"InternalError"} body is used instead. */
void fh_error(fh_buf *out, fh_response *r, int status, const char *err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Writes r as a Lambda proxy result into res (emptied first):
 * {"statusCode":N,"headers":{"content-type":..,["allow":..]},
 * "isBase64Encoded":false,"body":"<escaped body>"}.  0, or -1 when res
 * overflowed its cap. */
int fh_result(fh_buf *res, const fh_response *r);

/* What an API Gateway event asks (pointers into the event's JSON, valid
 * while it lives, or into *dec). */
typedef struct fh_event {
    const char *method, *path, *content_type, *body;
    size_t method_len, path_len, ct_len, body_len;
    const char *query;   /* payload 2.0 rawQueryString, else NULL */
    size_t query_len;
    json_t *qparams;     /* payload 1.0 queryStringParameters (decoded), else NULL */
} fh_event;

enum {
    FH_EV_HTTP = 0, /* an API Gateway event, e filled */
    FH_EV_DIRECT,   /* no requestContext with a method and a path: a direct invocation */
    FH_EV_BADB64    /* isBase64Encoded with a body that is not base64 */
};

/* Reads ev: payload 2.0 (requestContext.http.method, rawPath — without its
 * stage when requestContext.stage is a named stage that starts it —,
 * rawQueryString) or 1.0 (httpMethod, path, queryStringParameters); the
 * content-type header (any case); the body, base64-decoded into *dec
 * (freed and replaced; the caller frees it at the end) when
 * isBase64Encoded.  Returns FH_EV_HTTP, FH_EV_DIRECT or FH_EV_BADB64 (also
 * when *dec cannot be allocated). */
int fh_event_parse(json_t *ev, fh_event *e, char **dec);

/* Query parameter key of the event, from the raw query string or 1.0's
 * parameters, into val (cap bytes, not NUL-terminated): its length, -1
 * when absent, cap + 1 when it does not fit. */
long fh_event_query(const fh_event *e, const char *key, char *val, size_t cap);

#endif
