/*
 * The Lambda Runtime API client of the NER function's `bootstrap`: a small
 * blocking HTTP/1.1 client over one kept-alive TCP connection to
 * AWS_LAMBDA_RUNTIME_API (host:port; a numeric IPv4 or IPv6 address, "[v6]"
 * with brackets, or a host name resolved with getaddrinfo), built on the
 * project's own response parser (include/nerd/http_resp.h) instead of
 * libcurl.  It makes the Runtime API's four requests — GET
 * /2018-06-01/runtime/invocation/next (no timeout: it blocks until an event
 * arrives, for hours if need be), POST …/invocation/{id}/response, POST
 * …/invocation/{id}/error and POST /2018-06-01/runtime/init/error (with
 * Lambda-Runtime-Function-Error-Type) — and reports each answer's status;
 * what to do with a status is the caller's policy (bootstrap.c).
 *
 * A /response or /error of at most 6 MB carries the next GET /next behind
 * it in the same write (HTTP/1.1 pipelining), whose answer rtc_next()
 * then reads: one write and one wake-up per invocation.  Any other request
 * made while that /next is outstanding goes on a new connection.
 *
 * The connection is opened on the first request (1 s connect timeout) and
 * kept while the Runtime API keeps it; when it closes (or answers with
 * Connection: close) the next request opens a new one, and a request that
 * finds a kept-alive connection closed before any byte of its answer is
 * sent once more on a fresh connection, as HTTP clients do.  Caps: the
 * event body (max_event bytes; a larger one is drained and reported as
 * too_big), request ids 127 bytes, header lines 512 bytes (HTTP_RESP_KEPT:
 * a longer Lambda-Runtime-Trace-Id line, over ~485 bytes of value, is left
 * out), 64 KB of read buffer, RTC_MSG_CAP bytes kept of other answers'
 * bodies; the parser caps heads (64 KB, 100 lines).  One client per
 * process, not thread safe.
 */
#ifndef NERD_FUNCTION_RTCLIENT_H
#define NERD_FUNCTION_RTCLIENT_H

#include <stddef.h>

#define RTC_ID_CAP 128     /* Lambda-Runtime-Aws-Request-Id, NUL included */
#define RTC_TRACE_CAP 512  /* Lambda-Runtime-Trace-Id, NUL included */
#define RTC_MSG_CAP 512    /* bytes kept of an answer's body other than an event */

/* Errors of the rtc_ functions; 0 is success.  RTC_OK means an HTTP answer
 * arrived, whatever its status. */
typedef enum rtc_err {
    RTC_OK = 0,
    RTC_EADDR,     /* the address is not host:port, or the host does not resolve */
    RTC_ECONNECT,  /* no connection (refused, unreachable, timed out) */
    RTC_EIO,       /* the connection failed or closed before the whole answer */
    RTC_EPROTO,    /* the answer is not HTTP/1.x as this client accepts it */
    RTC_ENOMEM     /* out of memory */
} rtc_err;

/* The invocation /next delivered (valid until the next rtc_next() or
 * rtc_free(): the POSTs in between leave it alone). */
typedef struct rtc_event {
    const char *id;         /* Lambda-Runtime-Aws-Request-Id; "" if absent or too long */
    const char *trace;      /* Lambda-Runtime-Trace-Id; "" if absent or too long */
    long long deadline_ms;  /* Lambda-Runtime-Deadline-Ms (epoch ms); 0 if absent or bad */
    const char *body;       /* the event, NUL-terminated ("" when too_big) */
    size_t body_len;
    int too_big;            /* the event exceeded max_event bytes (it was drained) */
} rtc_event;

typedef struct rtc rtc;

/* Makes a client for api ("host:port", as AWS_LAMBDA_RUNTIME_API holds
 * it); max_event caps an event's body in bytes.  Does not connect (nor
 * resolve a host name) yet.  RTC_EADDR (a message in err) when api is not
 * host:port with a port from 1 to 65535, RTC_ENOMEM. */
rtc_err rtc_new(const char *api, size_t max_event, rtc **out, char *err, size_t errcap);

/* Pipelining of GET /next behind /response and /error: on (1, the
 * default) or off.  Off, every request waits for the answer before the
 * next one: for a Runtime API that may refuse a result under 6 MB (413)
 * and still answer the /next behind it. */
void rtc_set_pipeline(rtc *c, int on);

/* Closes the connection and frees c; rtc_free(NULL) is a no-op. */
void rtc_free(rtc *c);

/* GET /2018-06-01/runtime/invocation/next, waiting as long as it takes.
 * RTC_OK: *status is the answer's status and, for 200, ev describes the
 * event; for other statuses rtc_answer() has the start of its body.  Else
 * an error, explained by rtc_detail(). */
rtc_err rtc_next(rtc *c, int *status, rtc_event *ev);

/* POST /2018-06-01/runtime/invocation/{id}/response with body[0..len)
 * (application/json; id is percent-encoded where it needs to be).  RTC_OK
 * with the answer's *status (202 accepted; rtc_answer() has the body of
 * any other), else an error explained by rtc_detail(). */
rtc_err rtc_respond(rtc *c, const char *id, const char *body, size_t len, int *status);

/* POST /2018-06-01/runtime/invocation/{id}/error, or /init/error when id
 * is NULL, with Lambda-Runtime-Function-Error-Type: type (omitted when
 * NULL) and the error JSON json[0..len).  Results as rtc_respond(). */
rtc_err rtc_fail(rtc *c, const char *id, const char *type, const char *json, size_t len,
                 int *status);

/* The last answer's reason phrase and the start of its body (not of an
 * event's), as one printable line: "Payload Too Large:
 * {\"errorMessage\":…}".  Never NULL. */
const char *rtc_answer(const rtc *c);

/* What the last error was, as one line naming the address: "cannot
 * connect to 127.0.0.1:9001: Connection refused".  Never NULL. */
const char *rtc_detail(const rtc *c);

/* A static English text for an rtc_err (never NULL). */
const char *rtc_strerror(rtc_err e);

#endif
