/*
 * One blocking HTTP/1.1 GET on a new connection, for the few places that
 * read a small document from a server they were given by address (the JWT
 * module's JWKS from a loopback URL, the load lab's provider metrics): a
 * non-blocking connect, the request with `Connection: close`, and the
 * answer fed to the project's response parser (include/nerd/http_resp.h),
 * all within one deadline.  The body (chunked framing removed) is kept up
 * to a cap; a larger one is an error, not a truncation.  No state outside
 * the call: thread safe; it blocks only the calling thread.
 */
#ifndef NERD_HTTP_GET_H
#define NERD_HTTP_GET_H

#include <stddef.h>
#include <sys/socket.h>

#include "nerd/http_resp.h"

/* Results of http_get(); 0 is success (an answer arrived, whatever its
 * status). */
typedef enum http_get_err {
    HTTP_GET_OK = 0,
    HTTP_GET_ECONNECT, /* no connection (refused, unreachable) */
    HTTP_GET_ETIMEOUT, /* no whole answer within the time allowed */
    HTTP_GET_EIO,      /* the connection failed or closed before the whole answer */
    HTTP_GET_EPROTO,   /* the answer is not HTTP/1.x as http_resp accepts it */
    HTTP_GET_ETOOBIG,  /* the body is larger than the cap */
    HTTP_GET_ENOMEM    /* out of memory */
} http_get_err;

/* An answer: status, reason phrase and the body (malloc'd, NUL-terminated;
 * the caller frees it). */
typedef struct http_get_answer {
    int status;
    char reason[HTTP_RESP_REASON];
    char *body;
    size_t len;
} http_get_answer;

/* GETs path (starting with '/') from the server at sa (AF_INET or
 * AF_INET6, salen bytes), with `Host: host` and, when accept is not NULL,
 * `Accept: accept`.  The whole exchange, connect included, takes at most
 * timeout_ms; a body over max_body bytes gives HTTP_GET_ETOOBIG.  On
 * HTTP_GET_OK *out holds the answer (out->body to free); otherwise out->body
 * is NULL and err (errcap bytes) has one line saying why. */
http_get_err http_get(const struct sockaddr *sa, socklen_t salen, const char *host,
                      const char *path, const char *accept, int timeout_ms, size_t max_body,
                      http_get_answer *out, char *err, size_t errcap);

/* A static English text for an http_get_err (never NULL). */
const char *http_get_strerror(http_get_err e);

#endif
